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

#[derive(serde::Deserialize)]
pub struct Seats;

pub async fn hold(_: &(), _: ActionRequest<Trip>) -> Result<Seats, BookError> {
    Ok(Seats)
}

pub async fn release(_: &(), _: CompensationRequest<Trip, Seats>) -> Result<(), BookError> {
    Ok(())
}

// One diagnostic, on the action's path: the output goes back into the state machine as JSON.
saga_runtime::saga! {
    saga Booking {
        input: Trip,
        step Hold {
            action: hold -> Seats,
            compensation: Release => release,
            business_errors: [SoldOut],
            transient_errors: [Busy],
        }
        step Book { action: book -> u32, irreversible, business_errors: [SoldOut], transient_errors: [Busy] }
    }
}

fn main() {}
