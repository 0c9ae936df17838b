//! The flight domain: what a flight on a day sells, what a reservation is, and the port through
//! which the application reaches storage. No AWS or storage types here.

mod events;
mod inventory;
mod repository;
mod reservation;

pub use events::{ReservationVoided, SeatsReleased, SeatsReserved};
pub use inventory::{Fare, FlightDate, FlightInventory, NotEnoughSeats};
pub use repository::{FlightRepository, ReserveOutcome};
pub use reservation::{ReservationStatus, SeatCancellation, SeatReservation};
