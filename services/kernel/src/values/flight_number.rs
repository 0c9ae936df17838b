use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// A flight number: a two-character IATA airline designator, 1 to 4 digits, and an optional
/// operational-suffix letter, e.g. `NH106`, `9W1`, `BA2490A`.
///
/// The designator is two upper-case letters or digits, not both digits (`12345` is ambiguous).
/// Leading zeros are kept as written (`JL006` and `JL6` are different strings here): the catalogue
/// is the source of flight numbers and we store what it publishes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FlightNumber(String);

impl FlightNumber {
    const RULE: &'static str = "expected an airline designator and 1-4 digits like NH106";

    /// Parses a flight number.
    ///
    /// # Errors
    /// When `input` does not follow the format above.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let error = || ValueError::new("flight number", input, Self::RULE);
        let bytes = input.as_bytes();
        if bytes.len() < 3 {
            return Err(error());
        }
        let (designator, rest) = bytes.split_at(2);
        let designator_ok = designator
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && !designator.iter().all(u8::is_ascii_digit);
        // An optional upper-case suffix letter follows the digits.
        let digits = match rest.split_last() {
            Some((last, digits)) if last.is_ascii_uppercase() => digits,
            _ => rest,
        };
        let digits_ok = (1..=4).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit);
        if designator_ok && digits_ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(error())
        }
    }

    /// The airline designator, e.g. `NH`.
    pub fn airline(&self) -> &str {
        &self.0[..2]
    }

    /// The flight number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FlightNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl schemars::JsonSchema for FlightNumber {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FlightNumber".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "kernel::FlightNumber".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            // `parse`'s rule: a designator of two letters or digits, not both digits, 1-4 digits,
            // an optional suffix letter.
            "pattern": "^(?:[A-Z][A-Z0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?$",
            "description": "A flight number: a two-character airline designator (upper-case \
                letters or digits, not both digits), 1 to 4 digits and an optional upper-case \
                suffix letter.",
            "examples": ["NH106", "BA2490A"],
        })
    }
}

impl FromStr for FlightNumber {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for FlightNumber {
    type Error = ValueError;
    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<FlightNumber> for String {
    fn from(number: FlightNumber) -> Self {
        number.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_designator_digits_and_suffix() {
        for good in ["NH106", "9W1", "BA2490A", "U21234", "JL006"] {
            assert_eq!(FlightNumber::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(FlightNumber::parse("BA2490A").unwrap().airline(), "BA");
        for bad in [
            "", "NH", "NH12345", "nh106", "12345", "NH 106", "NH106ab", "NHA", "N#106", "NH10٣",
        ] {
            assert!(FlightNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_schema_says_what_parse_checks() {
        let valid = ["NH106", "9W1", "BA2490A", "U21234", "JL006"];
        let invalid = [
            "", "NH", "NH12345", "nh106", "12345", "NH 106", "NH106ab", "NHA", "N#106", "NH10٣",
            "NH106AB", "NH1A2",
        ];
        crate::values::schema_check::assert_classifies::<FlightNumber>(
            &valid.map(serde_json::Value::from),
            &invalid.map(serde_json::Value::from),
        );
    }

    proptest! {
        #[test]
        fn the_schema_accepts_exactly_what_parses(input in "[A-Z0-9]{0,8}|[0-9A-Za-z ]{1,8}|\\PC{0,8}") {
            crate::values::schema_check::assert_agree::<FlightNumber>(&serde_json::json!(input));
        }

        #[test]
        fn generated_flight_numbers_parse(
            designator in "[A-Z][A-Z0-9]|[0-9][A-Z]", digits in "[0-9]{1,4}", suffix in "[A-Z]?"
        ) {
            let text = format!("{designator}{digits}{suffix}");
            prop_assert_eq!(FlightNumber::parse(&text).unwrap().to_string(), text);
        }

        #[test]
        fn parsed_numbers_are_keys_safe(input in "\\PC{0,8}") {
            if let Ok(number) = FlightNumber::parse(&input) {
                // Used inside `FLIGHT#<number>#<date>` keys: never a separator or space.
                prop_assert!(number.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
                prop_assert!((3..=7).contains(&number.as_str().len()));
            }
        }
    }
}
