//! The trip: the aggregate the saga creates first and settles last. No AWS types here.

mod events;
mod repository;
mod request;
mod status;
mod trip;

pub use events::TripEvent;
pub use repository::{SaveOutcome, TripChange, TripRepository};
pub use request::{FlightLeg, HotelStay, PaymentDetails, TripRequest};
pub use status::TripStatus;
pub use trip::{Charges, Transition, Trip};
