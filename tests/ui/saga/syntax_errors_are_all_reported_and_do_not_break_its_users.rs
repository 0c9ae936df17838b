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

// Two malformed items: both are reported, and the rest of the declaration (the steps, their
// output types, the input) still gives the code below what it uses.
saga_runtime::saga! {
    saga Booking {
        input: Trip,
        timeout_seconds: "an hour",
        step Book { action: book -> u32, irreversible, business_errors: [SoldOut], transient_errors: [Busy] }
        step Pay { action: pay -> u32, irreversible, retry: { max_attempts: many }, business_errors: [SoldOut], transient_errors: [Busy] }
    }
}

pub async fn pay(
    _: &(),
    request: ActionRequest<Trip, booking::results::Pay>,
) -> Result<u32, BookError> {
    Ok(request.results.book)
}

fn main() {
    let _: booking::Input = Trip;
    let _ = booking::Function::Pay.state();
}
