use saga_runtime::{ActionRequest, CompensationRequest, StepError};

#[derive(serde::Deserialize)]
pub struct Trip;

#[derive(Debug, thiserror::Error, StepError)]
pub enum BookError {
    #[error("sold out")]
    SoldOut,
    #[error("busy")]
    Busy,
}

pub async fn book(_: &(), _: ActionRequest<Trip>) -> Result<u32, BookError> {
    Ok(1)
}

pub async fn cancel(_: &(), _: CompensationRequest<Trip, u32>) -> Result<(), BookError> {
    Ok(())
}

// `Pay` runs after `Book`: `Book` cannot read its output.
pub async fn book_reading_pay(
    _: &(),
    request: ActionRequest<Trip, booking::results::Book>,
) -> Result<u32, BookError> {
    Ok(request.results.pay)
}

saga_runtime::saga! {
    saga Booking {
        input: Trip,
        step Book { action: book_reading_pay -> u32, irreversible, business_errors: [SoldOut], transient_errors: [Busy] }
        step Pay { action: book -> u32, irreversible, business_errors: [SoldOut], transient_errors: [Busy] }
    }
}

fn main() {}
