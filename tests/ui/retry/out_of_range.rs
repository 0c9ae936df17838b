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
        timeout_seconds: 0,
        step Book {
            action: book -> u32,
            compensation: Cancel => cancel,
            business_errors: [SoldOut],
            transient_errors: [Busy],
            retry: { max_attempts: 100, interval_seconds: 0, backoff_rate: 0.5, jitter: sometimes },
            timeout_seconds: 3600,
        }
    }
}

fn main() {}
