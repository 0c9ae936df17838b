//! The Trip service: the trip aggregate (pending → confirmed, cancelled or needing attention),
//! one use case per file and its in-memory and DynamoDB repositories.
//!
//! The trip is what a booking *is* to its traveller; the saga that books its flight, hotel and
//! payment is an application of this service and the others (`apps/trip-saga`). The saga's
//! input is validated as it is deserialised:
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
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod application;
pub mod domain;
pub mod infrastructure;
