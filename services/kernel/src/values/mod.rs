//! Value objects that validate on construction: if you hold one, it is valid.
//!
//! Each has a `parse`/`new` that returns `Result<_, ValueError>`, and deserialises through the
//! same check (`#[serde(try_from = …)]`), so a request payload with a bad value fails to decode
//! instead of producing an invalid object.
//!
//! Each also implements `schemars::JsonSchema` with the same rule written as a schema (pattern,
//! bounds, format), so an API can publish it and reject a bad request before decoding it. What
//! a schema cannot say (a stay's end after its start) is in its description and left to the
//! deserialiser; the tests check that schema and deserialiser agree on every other example.

mod count;
mod date;
mod flight_number;
mod money;

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

    /// The kind of value, e.g. `"flight number"`.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The rule that was broken.
    pub fn rule(&self) -> &'static str {
        self.rule
    }
}

/// Test support: a value object's JSON schema and its deserialiser must accept the same JSON.
#[cfg(test)]
pub(crate) mod schema_check {
    use schemars::JsonSchema;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    fn validator<T: JsonSchema>() -> jsonschema::Validator {
        let schema = schemars::schema_for!(T);
        // Formats (`date`, `uuid`) are annotations in 2020-12 unless asked for; the API asks.
        jsonschema::options()
            .should_validate_formats(true)
            .build(schema.as_value())
            .expect("the generated schema compiles")
    }

    /// The schema accepts `example` exactly when the deserialiser does.
    pub(crate) fn assert_agree<T: JsonSchema + DeserializeOwned>(example: &Value) {
        let by_schema = validator::<T>().is_valid(example);
        let by_serde = serde_json::from_value::<T>(example.clone()).is_ok();
        assert_eq!(
            by_schema, by_serde,
            "{example}: the schema says valid={by_schema}, the deserialiser valid={by_serde}"
        );
    }

    /// Schema and deserialiser both accept every `valid` example and both reject every `invalid`.
    pub(crate) fn assert_classifies<T: JsonSchema + DeserializeOwned>(
        valid: &[Value],
        invalid: &[Value],
    ) {
        let validator = validator::<T>();
        for example in valid {
            assert!(validator.is_valid(example), "the schema rejects {example}");
            assert!(
                serde_json::from_value::<T>(example.clone()).is_ok(),
                "the deserialiser rejects {example}"
            );
        }
        for example in invalid {
            assert!(!validator.is_valid(example), "the schema accepts {example}");
            assert!(
                serde_json::from_value::<T>(example.clone()).is_err(),
                "the deserialiser accepts {example}"
            );
        }
    }
}
