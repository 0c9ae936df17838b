//! The shared kernel of the trip services (flight, hotel, payment, trip).
//!
//! What every service needs and none should write twice:
//!
//! - [`error`]: [`InfraError`] and the four store error names the state machine matches
//!   (`StoreThrottled`, `StoreUnavailable`, `StoreConflict` are transient; `StoreFailed` is not).
//! - [`ids`], [`aggregate`], [`events`]: typed entity ids, aggregate versions for optimistic
//!   locking, and the [`DomainEvent`] / [`EventEnvelope`] pair the outbox stores.
//! - [`values`]: value objects that validate on construction: [`FlightNumber`], [`Money`] and
//!   [`Currency`], [`CalendarDate`] and [`DateRange`], [`PassengerCount`] and [`GuestCount`]. [`TripId`] is an id (see [`ids`] for its format).
//! - [`compensation`]: the protocol every compensation step follows (look up what the action left
//!   behind, undo it, or void the action so a late run cannot take effect), run by
//!   [`compensation::compensate`] on a service's [`compensation::CompensationStore`].
//! - [`tracing_setup`]: [`init_tracing`], flat JSON logs with the saga step's span fields.
//! - [`dynamo`]: single-table keys and access patterns, item mapping, and [`dynamo::StepTransaction`],
//!   which writes a step's state change, its outbox events and its idempotency record in one
//!   `TransactWriteItems`.
//! - `testing` (feature `testing`): a `moto_server` harness for DynamoDB tests.
//!
//! A reservation as a flight service writes it:
//!
//! ```
//! use kernel::dynamo::{IdempotencyKey, Key, StepTransaction, Write};
//! use kernel::{CalendarDate, Currency, FlightNumber, Money, PassengerCount};
//!
//! // Request values are parsed once, at the edge; past it they cannot be invalid.
//! let flight = FlightNumber::parse("NH106")?;
//! let date = CalendarDate::parse("2026-05-01")?;
//! let passengers = PassengerCount::new(2)?;
//! let fare = Money::parse("312.40 USD")?.checked_mul(passengers.get().into())?;
//! assert_eq!(fare, Money::new(62_480, Currency::Usd));
//!
//! // The seats, with the step's idempotency record and an outbox event, in one transaction.
//! let key = IdempotencyKey::parse("trip-0192f0c4:ReserveFlight")?;
//! let _transaction = StepTransaction::new("trips", key).write(
//!     "seats",
//!     Write::update(&Key::flight_inventory(&flight, date), "SET available = available - :n")
//!         .condition("available >= :n")
//!         .number_value(":n", passengers.get()),
//! );
//! // … `.event(envelope).commit(&client, result).await?` in the service.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod aggregate;
pub mod compensation;
pub mod dynamo;
pub mod error;
pub mod events;
pub mod ids;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tracing_setup;
pub mod values;

pub use aggregate::AggregateVersion;
pub use error::{InfraError, InfraErrorKind};
pub use events::{DomainEvent, EventEnvelope};
pub use ids::{BookingId, EventId, IdError, PaymentId, TripId};
pub use tracing_setup::init_tracing;
pub use values::{
    CalendarDate, Currency, DateRange, FlightNumber, GuestCount, Money, MoneyError, PassengerCount,
    ValueError,
};

/// Support for the kernel's macros; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
    pub use uuid::Uuid;
}
