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

saga_runtime::saga! {
    saga Booking {
        input: Trip,
        step Book { action: book -> String, irreversible, business_errors: [SoldOut], transient_errors: [Busy] }
    }
}

fn main() {}
