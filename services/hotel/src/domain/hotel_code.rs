//! [`HotelCode`]: which hotel, as the partner's property code.

use std::fmt;
use std::str::FromStr;

use kernel::ValueError;
use serde::{Deserialize, Serialize};

/// A hotel's property code: 3 to 10 upper-case ASCII letters or digits, e.g. `TOKYO01`.
///
/// One spelling per hotel (no lower case, no separators), because the code is part of the
/// inventory items' partition keys (`HOTEL#<code>#<night>`): two spellings would be two hotels.
/// Serialises as the string and deserialises through [`HotelCode::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HotelCode(String);

impl HotelCode {
    /// The shortest code.
    pub const MIN_LEN: usize = 3;
    /// The longest code.
    pub const MAX_LEN: usize = 10;

    /// Checks a code.
    ///
    /// # Errors
    /// When `input` is not 3 to 10 characters of `A-Z` and `0-9`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let valid_char = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
        if (Self::MIN_LEN..=Self::MAX_LEN).contains(&input.len()) && input.bytes().all(valid_char) {
            Ok(Self(input.to_owned()))
        } else {
            Err(ValueError::new(
                "hotel code",
                input,
                "expected 3 to 10 upper-case letters or digits, like TOKYO01",
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HotelCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl schemars::JsonSchema for HotelCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HotelCode".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "hotel::HotelCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": format!("^[A-Z0-9]{{{},{}}}$", Self::MIN_LEN, Self::MAX_LEN),
            "description": "A hotel's property code: 3 to 10 upper-case letters or digits.",
            "examples": ["TOKYO01"],
        })
    }
}

impl FromStr for HotelCode {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for HotelCode {
    type Error = ValueError;
    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<HotelCode> for String {
    fn from(code: HotelCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The schema accepts `example` exactly when the deserialiser does.
    fn schema_agrees(example: &serde_json::Value) -> bool {
        let schema = schemars::schema_for!(HotelCode);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema.as_value())
            .unwrap();
        validator.is_valid(example) == serde_json::from_value::<HotelCode>(example.clone()).is_ok()
    }

    #[test]
    fn codes_are_three_to_ten_upper_case_letters_or_digits() {
        for good in ["TOKYO01", "ABC", "0123456789", "FULL01"] {
            assert_eq!(HotelCode::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "AB",
            "ABCDEFGHIJK",
            "tokyo01",
            "TOKYO-01",
            "TOKYO 1",
            "",
            "ＴＯＫＹＯ",
        ] {
            assert!(HotelCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        let message = HotelCode::parse("x").unwrap_err().to_string();
        assert!(message.starts_with("invalid hotel code `x`"), "{message}");
    }

    #[test]
    fn serde_uses_the_string_and_validates() {
        let code = HotelCode::parse("TOKYO01").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"TOKYO01\"");
        assert_eq!(
            serde_json::from_str::<HotelCode>("\"TOKYO01\"").unwrap(),
            code
        );
        assert!(serde_json::from_str::<HotelCode>("\"tokyo01\"").is_err());
    }

    #[test]
    fn the_schema_says_what_parse_checks() {
        for example in [
            "TOKYO01",
            "ABC",
            "0123456789",
            "AB",
            "ABCDEFGHIJK",
            "tokyo01",
            "TOKYO-01",
            "",
            "ＴＯＫＹＯ",
        ] {
            assert!(schema_agrees(&example.into()), "{example:?}");
        }
        assert!(schema_agrees(&serde_json::json!(12345)));
    }

    proptest! {
        #[test]
        fn the_schema_accepts_exactly_what_parses(input in "[A-Z0-9]{0,12}|[A-Za-z0-9 _-]{2,11}|\\PC{0,12}") {
            prop_assert!(schema_agrees(&input.clone().into()), "{:?}", input);
        }
    }
}
