//! The trip's use cases, one per file; [`TripService`] is their entry point.

mod cancel_trip;
mod confirm_trip;
mod create_trip;
mod escalate_trip;
mod lock_trip;
mod service;

pub use confirm_trip::ConfirmTripError;
pub use create_trip::CreateTripError;
pub use lock_trip::Locked;
pub use service::TripService;
