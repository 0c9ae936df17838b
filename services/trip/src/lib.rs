//! The trip: its aggregate, the trip booking saga declared with `saga!`, the saga's handlers,
//! and the Lambda binaries of every function of the saga (`src/bin/`).
//!
//! This crate is the composition root of the system: it depends on the flight, hotel and payment
//! services and wires their use cases into the saga's steps. The saga's input is validated as it
//! is deserialised:
//!
//! ```
//! use trip::domain::TripRequest;
//!
//! let request: TripRequest = serde_json::from_value(serde_json::json!({
//!     "trip_id": "0192f0c4-9c7e-7d3a-8f51-2f4b1c9e3a10",
//!     "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
//!     "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
//!     "payment": { "card": "tok_visa_4242" }
//! }))?;
//! assert_eq!(request.flight.passengers.get(), 2);
//!
//! let bad = serde_json::json!({ "trip_id": "not-an-id" });
//! assert!(serde_json::from_value::<TripRequest>(bad).is_err());
//!
//! // The state machine and the functions it invokes, generated from one declaration:
//! assert!(trip::trip_booking::ASL.contains("${ReserveFlightFunctionArn}"));
//! assert_eq!(trip::trip_booking::Function::ALL.len(), 10);
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod application;
pub mod domain;
pub mod handlers;
pub mod infrastructure;

mod context;
mod saga;

pub use context::{TABLE_NAME_VAR, TripContext};
pub use saga::trip_booking;

/// The whole `main` of a Lambda binary of the saga: JSON logs, the DynamoDB context, then
/// `function` under the Lambda runtime.
///
/// # Errors
/// When the environment is incomplete or the Lambda runtime API fails.
pub async fn serve(function: trip_booking::Function) -> Result<(), lambda_runtime::Error> {
    kernel::init_tracing();
    let context = TripContext::from_env().await?;
    function.serve(context).await
}
