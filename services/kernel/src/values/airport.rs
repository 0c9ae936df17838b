use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// An IATA airport code: exactly three upper-case ASCII letters, e.g. `HND`.
///
/// Lower case is rejected rather than fixed up: codes come from our own catalogue and API schema,
/// where a lower-case code is a client bug worth surfacing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IataAirportCode([u8; 3]);

impl IataAirportCode {
    /// Parses a code.
    ///
    /// # Errors
    /// When `input` is not three upper-case ASCII letters.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        match input.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(ValueError::new(
                "airport code",
                input,
                "expected three upper-case letters like HND",
            )),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for IataAirportCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl schemars::JsonSchema for IataAirportCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IataAirportCode".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "kernel::IataAirportCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "An IATA airport code: three upper-case letters.",
            "examples": ["HND"],
        })
    }
}

impl FromStr for IataAirportCode {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for IataAirportCode {
    type Error = ValueError;
    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<IataAirportCode> for String {
    fn from(code: IataAirportCode) -> Self {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn three_upper_case_letters_only() {
        assert_eq!(IataAirportCode::parse("HND").unwrap().as_str(), "HND");
        for bad in ["", "HN", "HNDX", "hnd", "H1D", "ÄBC", " HN"] {
            assert!(IataAirportCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(serde_json::from_str::<IataAirportCode>("\"nrt\"").is_err());
        assert_eq!(
            serde_json::to_string(&IataAirportCode::parse("NRT").unwrap()).unwrap(),
            "\"NRT\""
        );
    }

    proptest! {
        #[test]
        fn the_schema_accepts_exactly_what_parses(input in "[A-Za-z]{2,4}|\\PC{0,5}") {
            crate::values::schema_check::assert_agree::<IataAirportCode>(&serde_json::json!(input));
        }

        #[test]
        fn valid_codes_round_trip(code in "[A-Z]{3}") {
            let parsed = IataAirportCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.to_string(), code);
        }

        #[test]
        fn whatever_parses_is_three_upper_case_letters(input in "\\PC{0,5}") {
            if let Ok(code) = IataAirportCode::parse(&input) {
                prop_assert_eq!(code.as_str(), input.as_str());
                prop_assert!(input.len() == 3 && input.bytes().all(|b| b.is_ascii_uppercase()));
            }
        }
    }
}
