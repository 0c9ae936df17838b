//! [`CardToken`]: the card to charge, as the payment provider's token, never a card number.

use std::fmt;
use std::str::FromStr;

use kernel::ValueError;
use serde::{Deserialize, Serialize};

/// A tokenised card: `tok_` then 4 to 32 of `a-z`, `0-9`, `_` (e.g. `tok_visa_4242`).
///
/// A token stands for a card the provider holds, so card numbers never enter our system (or
/// its logs). Serialises as the string and deserialises through [`CardToken::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CardToken(String);

impl CardToken {
    /// What every token starts with.
    pub const PREFIX: &'static str = "tok_";
    /// The fewest characters after the prefix.
    pub const MIN_BODY_LEN: usize = 4;
    /// The most characters after the prefix.
    pub const MAX_BODY_LEN: usize = 32;

    /// Checks a token.
    ///
    /// # Errors
    /// When `input` is not `tok_` followed by 4 to 32 of `a-z`, `0-9` and `_`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let valid_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
        match input.strip_prefix(Self::PREFIX) {
            Some(body)
                if (Self::MIN_BODY_LEN..=Self::MAX_BODY_LEN).contains(&body.len())
                    && body.bytes().all(valid_char) =>
            {
                Ok(Self(input.to_owned()))
            }
            _ => Err(ValueError::new(
                "card token",
                input,
                "expected tok_ followed by 4 to 32 of a-z, 0-9 and _, like tok_visa_4242",
            )),
        }
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl schemars::JsonSchema for CardToken {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CardToken".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "payment::CardToken".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": format!(
                "^{}[a-z0-9_]{{{},{}}}$",
                Self::PREFIX,
                Self::MIN_BODY_LEN,
                Self::MAX_BODY_LEN
            ),
            "description": "A tokenised card, never a card number: `tok_` then 4 to 32 of \
                a-z, 0-9 and `_`.",
            "examples": ["tok_visa_4242"],
        })
    }
}

impl FromStr for CardToken {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for CardToken {
    type Error = ValueError;
    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<CardToken> for String {
    fn from(token: CardToken) -> Self {
        token.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The schema accepts `example` exactly when the deserialiser does.
    fn schema_agrees(example: &serde_json::Value) -> bool {
        let schema = schemars::schema_for!(CardToken);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema.as_value())
            .unwrap();
        validator.is_valid(example) == serde_json::from_value::<CardToken>(example.clone()).is_ok()
    }

    #[test]
    fn tokens_are_tok_and_four_to_thirty_two_lower_case_characters() {
        for good in [
            "tok_visa_4242",
            "tok_decline",
            "tok_abcd",
            &format!("tok_{}", "a".repeat(32)),
        ] {
            assert_eq!(CardToken::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "tok_abc",
            &format!("tok_{}", "a".repeat(33)),
            "tok_VISA",
            "tok_visa-4242",
            "visa_4242",
            "4242424242424242",
            "",
            "tok_",
        ] {
            assert!(CardToken::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn serde_uses_the_string_and_validates() {
        let token = CardToken::parse("tok_visa_4242").unwrap();
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"tok_visa_4242\"");
        assert_eq!(
            serde_json::from_str::<CardToken>("\"tok_visa_4242\"").unwrap(),
            token
        );
        assert!(serde_json::from_str::<CardToken>("\"4242424242424242\"").is_err());
    }

    #[test]
    fn the_schema_says_what_parse_checks() {
        let long = format!("tok_{}", "a".repeat(32));
        let too_long = format!("tok_{}", "a".repeat(33));
        for example in [
            "tok_visa_4242",
            "tok_abcd",
            long.as_str(),
            "tok_abc",
            too_long.as_str(),
            "tok_VISA",
            "tok_visa-4242",
            "visa_4242",
            "4242424242424242",
            "",
            "tok_",
            "xtok_visa",
        ] {
            assert!(schema_agrees(&example.into()), "{example:?}");
        }
    }

    proptest! {
        #[test]
        fn the_schema_accepts_exactly_what_parses(input in "tok_[a-z0-9_-]{0,34}|[a-zA-Z_]{0,40}|\\PC{0,40}") {
            prop_assert!(schema_agrees(&input.clone().into()), "{:?}", input);
        }
    }
}
