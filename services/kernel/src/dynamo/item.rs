//! Mapping between DynamoDB items and Rust values, with errors that name the attribute.
//!
//! A hand-written reader rather than serde_dynamo: domain types validate on construction, and an
//! item read back goes through the same `parse` as a request, so `ItemReader::parse` is the one
//! call a repository needs; and a stored item that does not map is reported with its key and
//! attribute, which is what an on-call engineer needs to find it.
//!
//! Money has one form in every item: its text, `"150.00 USD"` ([`ItemBuilder::money`],
//! [`ItemReader::money`]).
//!
//! ```
//! use kernel::dynamo::{ItemBuilder, ItemReader, Key};
//! use kernel::FlightNumber;
//!
//! let item = ItemBuilder::new(&Key::new("FLIGHT#NH106#2026-05-01", "INVENTORY"))
//!     .string("flight", "NH106")
//!     .number("available", 42)
//!     .build();
//! let reader = ItemReader::new(&item);
//! assert_eq!(reader.parse::<FlightNumber>("flight").unwrap().to_string(), "NH106");
//! assert_eq!(reader.number::<u32>("available").unwrap(), 42);
//! let error = reader.string("destination").unwrap_err();
//! assert_eq!(error.to_string(), "item FLIGHT#NH106#2026-05-01 / INVENTORY: attribute `destination` is missing");
//! ```

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::keys::{ENTITY_TYPE, EXPIRES_AT, Key, PK, SK};
use crate::error::InfraError;
use crate::values::Money;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// A stored item does not have the shape its type needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {key}: attribute `{attribute}` {problem}")]
pub struct ItemError {
    key: String,
    attribute: String,
    problem: ItemProblem,
}

/// What is wrong with an attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemProblem {
    /// The attribute is absent.
    #[error("is missing")]
    Missing,
    /// The attribute has another DynamoDB type.
    #[error("is {found}, expected {expected}")]
    WrongType {
        /// The type the reader asked for (`S`, `N`, `BOOL`).
        expected: &'static str,
        /// The type stored.
        found: &'static str,
    },
    /// The attribute has the right type but its value does not parse.
    #[error("is invalid: {0}")]
    Invalid(String),
}

impl ItemError {
    /// The attribute at fault.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &ItemProblem {
        &self.problem
    }
}

impl From<ItemError> for InfraError {
    /// Unreadable data will not become readable on retry: `StoreFailed`.
    fn from(error: ItemError) -> Self {
        InfraError::failed(error.to_string()).with_source(error)
    }
}

/// Typed, checked access to an item's attributes.
#[derive(Clone, Debug)]
pub struct ItemReader<'a> {
    item: &'a Item,
}

impl<'a> ItemReader<'a> {
    /// A reader over `item`.
    pub fn new(item: &'a Item) -> Self {
        Self { item }
    }

    /// The item's key (`PK / SK`), or `?` when absent, for error messages.
    fn key(&self) -> String {
        let part = |name| match self.item.get(name) {
            Some(AttributeValue::S(s)) => s.as_str(),
            _ => "?",
        };
        format!("{} / {}", part(PK), part(SK))
    }

    /// An error about `attribute` of this item, for checks a caller makes beyond the reader's.
    pub fn error_for(&self, attribute: &str, problem: ItemProblem) -> ItemError {
        self.error(attribute, problem)
    }

    fn error(&self, attribute: &str, problem: ItemProblem) -> ItemError {
        ItemError {
            key: self.key(),
            attribute: attribute.to_owned(),
            problem,
        }
    }

    fn get(&self, attribute: &str) -> Result<&'a AttributeValue, ItemError> {
        self.item
            .get(attribute)
            .ok_or_else(|| self.error(attribute, ItemProblem::Missing))
    }

    fn wrong_type(
        &self,
        attribute: &str,
        expected: &'static str,
        found: &AttributeValue,
    ) -> ItemError {
        self.error(
            attribute,
            ItemProblem::WrongType {
                expected,
                found: type_name(found),
            },
        )
    }

    /// A string (`S`) attribute.
    ///
    /// # Errors
    /// When it is missing or not a string.
    pub fn string(&self, attribute: &str) -> Result<&'a str, ItemError> {
        match self.get(attribute)? {
            AttributeValue::S(s) => Ok(s),
            other => Err(self.wrong_type(attribute, "S", other)),
        }
    }

    /// A string attribute that may be absent (`NULL` counts as absent).
    ///
    /// # Errors
    /// When it is present but not a string.
    pub fn optional_string(&self, attribute: &str) -> Result<Option<&'a str>, ItemError> {
        match self.item.get(attribute) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(_) => self.string(attribute).map(Some),
        }
    }

    /// A number (`N`) attribute as `T` (an integer type usually).
    ///
    /// # Errors
    /// When it is missing, not a number, or does not fit `T`.
    pub fn number<T>(&self, attribute: &str) -> Result<T, ItemError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(attribute)? {
            AttributeValue::N(n) => n
                .parse()
                .map_err(|e: T::Err| self.error(attribute, ItemProblem::Invalid(e.to_string()))),
            other => Err(self.wrong_type(attribute, "N", other)),
        }
    }

    /// A boolean (`BOOL`) attribute.
    ///
    /// # Errors
    /// When it is missing or not a boolean.
    pub fn boolean(&self, attribute: &str) -> Result<bool, ItemError> {
        match self.get(attribute)? {
            AttributeValue::Bool(b) => Ok(*b),
            other => Err(self.wrong_type(attribute, "BOOL", other)),
        }
    }

    /// A string attribute parsed into a value object (or anything `FromStr`).
    ///
    /// # Errors
    /// When it is missing, not a string, or fails the type's validation.
    pub fn parse<T>(&self, attribute: &str) -> Result<T, ItemError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.string(attribute)?
            .parse()
            .map_err(|e: T::Err| self.error(attribute, ItemProblem::Invalid(e.to_string())))
    }

    /// A money attribute, as [`ItemBuilder::money`] writes it.
    ///
    /// # Errors
    /// When it is missing, not a string, or not an amount and a supported currency.
    pub fn money(&self, attribute: &str) -> Result<Money, ItemError> {
        self.parse(attribute)
    }

    /// A string attribute holding JSON (how the kernel stores results and event payloads).
    ///
    /// # Errors
    /// When it is missing, not a string, or not JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self, attribute: &str) -> Result<T, ItemError> {
        serde_json::from_str(self.string(attribute)?)
            .map_err(|e| self.error(attribute, ItemProblem::Invalid(e.to_string())))
    }
}

/// The DynamoDB type letter(s) of a value, for error messages.
fn type_name(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::M(_) => "M",
        AttributeValue::L(_) => "L",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        _ => "an unknown type",
    }
}

/// Builds an item, starting from its key.
#[derive(Clone, Debug)]
#[must_use]
pub struct ItemBuilder {
    item: Item,
}

impl ItemBuilder {
    /// An item with `PK` and `SK` set.
    pub fn new(key: &Key) -> Self {
        Self {
            item: key.to_attributes(),
        }
    }

    /// Sets `entity_type`, which stream consumers dispatch on.
    pub fn entity_type(self, entity_type: &str) -> Self {
        self.string(ENTITY_TYPE, entity_type)
    }

    /// Sets a string attribute.
    pub fn string(mut self, attribute: &str, value: impl Into<String>) -> Self {
        self.item
            .insert(attribute.to_owned(), AttributeValue::S(value.into()));
        self
    }

    /// Sets a number attribute.
    pub fn number(mut self, attribute: &str, value: impl Into<i128>) -> Self {
        self.item.insert(
            attribute.to_owned(),
            AttributeValue::N(value.into().to_string()),
        );
        self
    }

    /// Sets a boolean attribute.
    pub fn boolean(mut self, attribute: &str, value: bool) -> Self {
        self.item
            .insert(attribute.to_owned(), AttributeValue::Bool(value));
        self
    }

    /// Sets a string attribute to `value`'s `Display` form (value objects, ids).
    pub fn display(self, attribute: &str, value: &impl Display) -> Self {
        self.string(attribute, value.to_string())
    }

    /// Sets a money attribute: its text, `"150.00 USD"`, which [`Money::parse`] reads back
    /// exactly (the currency's decimals, no rounding).
    ///
    /// One attribute rather than minor units and a currency in two: an amount means nothing
    /// without its currency, and one attribute cannot be half written or read apart from it; it
    /// is also how every other value object is stored, and what an operator reads in the console.
    /// No expression does arithmetic on a stored amount; one that must would keep a number beside
    /// it.
    pub fn money(self, attribute: &str, value: Money) -> Self {
        self.display(attribute, &value)
    }

    /// Sets a string attribute to `value` as JSON.
    ///
    /// # Errors
    /// When `value` does not serialise.
    pub fn json(self, attribute: &str, value: &impl Serialize) -> Result<Self, serde_json::Error> {
        Ok(self.string(attribute, serde_json::to_string(value)?))
    }

    /// Sets the TTL attribute: DynamoDB deletes the item some time after `at`.
    pub fn expires_at(self, at: OffsetDateTime) -> Self {
        self.number(EXPIRES_AT, at.unix_timestamp())
    }

    /// Sets any attribute.
    pub fn attribute(mut self, attribute: &str, value: AttributeValue) -> Self {
        self.item.insert(attribute.to_owned(), value);
        self
    }

    /// The item.
    pub fn build(self) -> Item {
        self.item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::FlightNumber;

    fn item() -> Item {
        ItemBuilder::new(&Key::new("TRIP#1", "META"))
            .string("status", "CONFIRMED")
            .number("seats", 3_u8)
            .boolean("paid", true)
            .string("flight", "nh 106")
            .json("result", &serde_json::json!({ "ok": true }))
            .unwrap()
            .attribute("note", AttributeValue::Null(true))
            .build()
    }

    #[test]
    fn reads_typed_attributes() {
        let item = item();
        let reader = ItemReader::new(&item);
        assert_eq!(reader.string("status").unwrap(), "CONFIRMED");
        assert_eq!(reader.number::<u8>("seats").unwrap(), 3);
        assert!(reader.boolean("paid").unwrap());
        assert_eq!(reader.optional_string("note").unwrap(), None);
        assert_eq!(reader.optional_string("absent").unwrap(), None);
        assert_eq!(
            reader.json::<serde_json::Value>("result").unwrap()["ok"],
            true
        );
    }

    #[test]
    fn money_is_stored_as_its_text_and_read_back_exactly() {
        let price = Money::parse("-92233720368547758.08 USD").unwrap();
        let item = ItemBuilder::new(&Key::new("TRIP#1", "META"))
            .money("total", price)
            .money("fare", Money::parse("3000 JPY").unwrap())
            .build();
        let reader = ItemReader::new(&item);
        assert_eq!(reader.string("total").unwrap(), "-92233720368547758.08 USD");
        assert_eq!(reader.money("total").unwrap(), price);
        assert_eq!(reader.string("fare").unwrap(), "3000 JPY");
        let junk = ItemBuilder::new(&Key::new("TRIP#1", "META"))
            .string("total", "1.5 JPY")
            .build();
        let error = ItemReader::new(&junk).money("total").unwrap_err();
        assert_eq!(error.attribute(), "total");
    }

    #[test]
    fn errors_name_the_item_the_attribute_and_the_problem() {
        let item = item();
        let reader = ItemReader::new(&item);
        let wrong = reader.string("seats").unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "item TRIP#1 / META: attribute `seats` is N, expected S"
        );
        assert_eq!(
            *wrong.problem(),
            ItemProblem::WrongType {
                expected: "S",
                found: "N"
            }
        );
        let invalid = reader.parse::<FlightNumber>("flight").unwrap_err();
        assert_eq!(invalid.attribute(), "flight");
        assert!(
            matches!(invalid.problem(), ItemProblem::Invalid(m) if m.contains("airline designator"))
        );
        assert!(reader.number::<i8>("status").is_err());
        assert!(matches!(
            reader.number::<u8>("missing").unwrap_err().problem(),
            ItemProblem::Missing
        ));
        let infra: InfraError = wrong.into();
        assert_eq!(infra.name(), "StoreFailed");
    }
}
