//! The trip booking saga on one machine, no AWS account: the generated state machine
//! (`generated/trip_booking.asl.json`) runs on the local ASL interpreter (`asl-executor`), its
//! Task states invoke the real handlers in-process, and the data goes to the in-memory adapters
//! or, with `--dynamodb-endpoint`, to any DynamoDB-compatible endpoint.
//!
//! The binary `trip-local` is what a newcomer runs (`cargo run -p trip-local`); the library is
//! what it and the tests are made of:
//!
//! ```
//! use std::sync::Arc;
//!
//! use trip_local::demo::{GOOD_CARD, trip_request};
//! use trip_local::execution::Saga;
//! use trip_local::faults::{FaultPlan, Times};
//! use trip_local::store::{HOTEL, ROOMY_FLIGHT, seed};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let saga = Saga::new(trip_saga::TripContext::in_memory());
//! seed(saga.context()).await?;
//!
//! // ReserveHotel is throttled twice; its Retry rule absorbs it.
//! let faults = FaultPlan::none().fail("ReserveHotel", "StoreThrottled", Times::First(2));
//! let request = trip_request(kernel::TripId::new(), ROOMY_FLIGHT, HOTEL, GOOD_CARD);
//! let report = saga.run(request, faults, Arc::new(()), 0).await?;
//!
//! assert_eq!(report.outcome(), "SUCCEEDED");
//! assert_eq!(report.retries(), 2);
//! assert_eq!(report.trip.unwrap().status.as_str(), "CONFIRMED");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Time is virtual unless asked otherwise (`--real-time`): retry back-offs and injected delays
//! advance the execution clock instead of sleeping, so the whole demo runs in milliseconds and
//! every run takes the same path.

pub mod api;
pub mod demo;
pub mod execution;
pub mod faults;
pub mod functions;
pub mod journal;
pub mod search;
pub mod store;
pub mod telemetry;
