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

// The declaration has a mistake (no compensation decision for `Book`); the code that uses the
// generated module still compiles, so the only error is the declaration's own.
saga_runtime::saga! {
    saga Booking {
        input: Trip,
        step Book { action: book -> u32, business_errors: [SoldOut], transient_errors: [Busy] }
        step Pay { action: pay -> u32, irreversible, business_errors: [SoldOut], transient_errors: [Busy] }
    }
}

pub async fn pay(
    _: &(),
    request: ActionRequest<Trip, booking::results::Pay>,
) -> Result<u32, BookError> {
    Ok(request.results.book)
}

fn input(_: booking::Input) {}

#[allow(dead_code)]
async fn lambda_main() -> Result<(), saga_runtime::__private::lambda_runtime::Error> {
    let _: &booking::Context = &();
    let _ = booking::SAGA.name.len();
    booking::Function::Book.serve(()).await
}

fn main() {
    input(Trip);
    let _ = booking::Function::ALL.len() + booking::Function::Pay.binary().len();
}
