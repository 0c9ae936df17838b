//! What only a person can say about the trip saga: what each step leaves in the store, and a
//! request that really makes it fail.

use trip_local::demo::{DECLINED_CARD, GOOD_CARD};
use trip_local::store::{FULL_HOTEL, HOTEL, ONE_SEAT_FLIGHT, ROOMY_FLIGHT};

use crate::model::Step;

/// What `trip_request` books: two passengers on one flight, one room for the three nights.
pub(crate) const SEATS_BOOKED: u32 = 2;
pub(crate) const ROOMS_BOOKED: u32 = 1;
/// 2 seats × 300.00 + 3 nights × 1 room × 150.00, at the seeded prices.
pub(crate) const TRIP_PRICE: &str = "1050.00 USD";

/// The reason an operator cancelled a trip with before its saga ran (the real trigger of
/// `CreateTrip`'s `AlreadySettled`).
pub(crate) const OPERATOR_REASON: &str = "cancelled by an operator before its saga ran";

/// What an action leaves in the store when it takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// The trip record, pending (its compensation cancels it).
    Trip,
    /// A flight reservation holding seats.
    Seats,
    /// A hotel reservation holding rooms on every night of the stay.
    Rooms,
    /// A captured payment.
    Payment,
    /// The trip confirmed.
    Confirmation,
}

/// The one table a new step must be added to: what it leaves in the store.
pub(crate) fn effect_of(state: &str) -> Option<Effect> {
    match state {
        "CreateTrip" => Some(Effect::Trip),
        "ReserveFlight" => Some(Effect::Seats),
        "ReserveHotel" => Some(Effect::Rooms),
        "ProcessPayment" => Some(Effect::Payment),
        "ConfirmTrip" => Some(Effect::Confirmation),
        _ => None,
    }
}

/// What a trip asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Booking {
    pub(crate) flight: &'static str,
    pub(crate) hotel: &'static str,
    pub(crate) card: &'static str,
}

/// A trip every step accepts.
pub(crate) const BOOKING: Booking = Booking {
    flight: ROOMY_FLIGHT,
    hotel: HOTEL,
    card: GOOD_CARD,
};

/// How a business failure is brought about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A request the step really refuses.
    Booking(Booking),
    /// The trip was cancelled by an operator before its saga ran.
    PreCancelled,
    /// The error is injected (no request makes the step fail by itself).
    Injected,
}

/// The business failure of `step`: a request that really makes it fail where there is one (the
/// seeded catalogue has a one-seat flight and a full hotel; the payment provider declines
/// `tok_decline_…` cards), else the step's first declared business error, injected.
pub(crate) fn business_trigger(step: &Step) -> (String, Trigger) {
    let real = match step.state.as_str() {
        "CreateTrip" => Some(("AlreadySettled", Trigger::PreCancelled)),
        "ReserveFlight" => Some((
            "SoldOut",
            Trigger::Booking(Booking {
                flight: ONE_SEAT_FLIGHT,
                ..BOOKING
            }),
        )),
        "ReserveHotel" => Some((
            "NoRooms",
            Trigger::Booking(Booking {
                hotel: FULL_HOTEL,
                ..BOOKING
            }),
        )),
        "ProcessPayment" => Some((
            "PaymentDeclined",
            Trigger::Booking(Booking {
                card: DECLINED_CARD,
                ..BOOKING
            }),
        )),
        _ => None,
    };
    if let Some((error, trigger)) = real {
        assert!(
            step.business_errors.iter().any(|e| e == error),
            "{}: {error} is not a declared business error ({:?})",
            step.state,
            step.business_errors
        );
        (error.to_owned(), trigger)
    } else {
        let error = step
            .business_errors
            .first()
            .unwrap_or_else(|| panic!("{} declares no business error", step.state));
        (error.clone(), Trigger::Injected)
    }
}
