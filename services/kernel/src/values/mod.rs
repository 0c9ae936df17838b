//! Value objects that validate on construction: if you hold one, it is valid.
//!
//! Each has a `parse`/`new` that returns `Result<_, ValueError>`, and deserialises through the
//! same check (`#[serde(try_from = …)]`), so a request payload with a bad value fails to decode
//! instead of producing an invalid object.

mod airport;
mod count;
mod date;
mod flight_number;
mod money;

pub use airport::IataAirportCode;
pub use count::{GuestCount, PassengerCount};
pub use date::{CalendarDate, DateRange};
pub use flight_number::FlightNumber;
pub use money::{Currency, Money, MoneyError};

/// A value that does not satisfy its type's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`: {rule}")]
pub struct ValueError {
    what: &'static str,
    input: String,
    rule: &'static str,
}

impl ValueError {
    /// `input` is not a valid `what` because it breaks `rule`; for services' own value objects.
    pub fn new(what: &'static str, input: impl std::fmt::Display, rule: &'static str) -> Self {
        // Bounded: the input may be an attacker's megabyte of text and this ends up in logs.
        let input = input.to_string().chars().take(64).collect();
        Self { what, input, rule }
    }

    /// The kind of value, e.g. `"airport code"`.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The rule that was broken.
    pub fn rule(&self) -> &'static str {
        self.rule
    }
}
