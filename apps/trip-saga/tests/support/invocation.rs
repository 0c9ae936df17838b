//! What Step Functions sends `CreateTrip` for a booking of the demo catalogue: the payload the
//! Lambda binary tests and the cold-start benchmark (`examples/cold_start.rs`) invoke it with.

use kernel::TripId;
use serde_json::{Value, json};

/// `CreateTrip`'s payload for `trip_id`, in the execution named `execution`.
pub(crate) fn create_trip(trip_id: TripId, execution: &str) -> Value {
    json!({
        "input": {
            "trip_id": trip_id,
            "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
            "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
            "payment": { "card": "tok_visa_4242" }
        },
        "results": {},
        "context": {
            "saga": "TripBooking",
            "execution_id": format!("arn:aws:states:us-east-1:0:execution:trip:{execution}"),
            "execution_name": execution, "state_name": "CreateTrip",
            "idempotency_key": format!("{trip_id}:CreateTrip"), "retry_count": 0
        }
    })
}
