use saga_runtime::{ActionRequest, CompensationRequest, StepError};

#[derive(serde::Deserialize)]
pub struct Trip;

#[derive(Debug, thiserror::Error, StepError)]
pub enum BookError {
    #[error("sold out")]
    SoldOut,
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
        step Hold { action: book -> u32, compensation: Release => cancel, business_errors: [SoldOut] }
        step Pay { action: book -> u32, pivot: CheckPay => cancel, business_errors: [SoldOut] }
    }
}

fn main() {}
