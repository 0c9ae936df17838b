use saga_runtime::{ActionRequest, CompensationRequest, PivotCheck, StepError};

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

pub async fn guard(_: &(), _: CompensationRequest<Trip, u32>) -> Result<PivotCheck, BookError> {
    Ok(PivotCheck::LOCKED)
}

saga_runtime::saga! {
    saga Booking {
        input: Trip,
        step Hold { action: book -> u32, irreversible, business_errors: [SoldOut] }
        step Pay { action: book -> u32, pivot: CheckPay => guard, compensation: Refund => cancel, business_errors: [SoldOut] }
        step Ship { action: book -> u32, compensation: Unship => cancel, business_errors: [SoldOut] }
        step Notify { action: book -> u32, pivot: CheckNotify => guard, business_errors: [SoldOut] }
    }
}

fn main() {}
