//! The saga's input: what a client asks for, validated as it is deserialised.
//!
//! Its JSON schema (`schemars::schema_for!(TripRequest)`) is made of the value objects' schemas,
//! which state the same rules as their deserialisers: the local API validates requests against
//! it and publishes it, so a client can check a request before sending it.

use hotel::HotelCode;
use kernel::{CalendarDate, DateRange, FlightNumber, GuestCount, PassengerCount, TripId};
use payment::CardToken;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A trip to book: one flight, one hotel stay, paid by card.
///
/// Every field is a value object, so a request that deserialises is valid: the API rejects bad
/// input before an execution starts, and a step never sees it.
// The doc above is for Rust readers; clients read the schema's description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(description = "A trip to book: one flight, one hotel stay, paid by card.")]
pub struct TripRequest {
    /// Assigned by the API; also the key of every item of the trip.
    pub trip_id: TripId,
    /// The flight.
    pub flight: FlightLeg,
    /// The hotel stay.
    pub hotel: HotelStay,
    /// How the trip is paid.
    pub payment: PaymentDetails,
}

/// Seats on one flight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlightLeg {
    /// e.g. `NH106`.
    pub flight_number: FlightNumber,
    /// The day of departure.
    pub date: CalendarDate,
    /// How many seats.
    pub passengers: PassengerCount,
}

/// Rooms in one hotel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HotelStay {
    /// The hotel.
    pub hotel: HotelCode,
    /// Check-in (`start`) to check-out (`end`).
    pub stay: DateRange,
    /// How many guests; the hotel decides how many rooms that takes.
    pub guests: GuestCount,
}

/// The card to charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentDetails {
    /// A tokenised card, never a card number.
    pub card: CardToken,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::TripRequest;

    fn request() -> Value {
        json!({
            "trip_id": "0192f0c4-9c7e-7d3a-8f51-2f4b1c9e3a10",
            "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
            "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
            "payment": { "card": "tok_visa_4242" }
        })
    }

    fn with(pointer: &str, value: Value) -> Value {
        let mut request = request();
        *request.pointer_mut(pointer).unwrap() = value;
        request
    }

    fn without(parent: &str, field: &str) -> Value {
        let mut request = request();
        let object = request
            .pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap();
        object.remove(field);
        request
    }

    #[test]
    fn the_schema_accepts_exactly_what_deserialises() {
        let schema = schemars::schema_for!(TripRequest);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema.as_value())
            .unwrap();
        let mut unknown = request();
        unknown["flight"]["seat"] = json!("12A");
        let cases = [
            (request(), true),
            (with("/flight/passengers", json!(9)), true),
            (with("/flight/passengers", json!(0)), false),
            (with("/flight/passengers", json!(-2)), false),
            (with("/hotel/guests", json!(10)), false),
            (with("/flight/flight_number", json!("nh106")), false),
            (with("/flight/date", json!("2026-02-30")), false),
            (with("/hotel/hotel", json!("tokyo")), false),
            (with("/payment/card", json!("4242424242424242")), false),
            (with("/trip_id", json!("TRIP-1")), false),
            (without("", "trip_id"), false),
            (without("/hotel", "stay"), false),
            (unknown, false),
        ];
        for (example, valid) in cases {
            assert_eq!(validator.is_valid(&example), valid, "schema on {example}");
            assert_eq!(
                serde_json::from_value::<TripRequest>(example.clone()).is_ok(),
                valid,
                "deserialiser on {example}"
            );
        }
    }

    #[test]
    fn the_schema_forbids_unknown_fields_and_requires_every_part() {
        let schema = serde_json::to_value(schemars::schema_for!(TripRequest)).unwrap();
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["required"],
            json!(["trip_id", "flight", "hotel", "payment"])
        );
        for part in ["FlightLeg", "HotelStay", "PaymentDetails"] {
            assert_eq!(
                schema["$defs"][part]["additionalProperties"],
                json!(false),
                "{part}"
            );
        }
    }
}
