use std::fmt;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// Declares a count newtype limited to `1..=9`: one booking covers at most nine people, the limit
/// airlines put on a single PNR and the one our hotel partners accept per reservation.
macro_rules! bounded_count {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "u32", into = "u32")]
        pub struct $name(u8);

        impl $name {
            /// The smallest count.
            pub const MIN: u8 = 1;
            /// The largest count.
            pub const MAX: u8 = 9;

            /// Checks the count.
            ///
            /// # Errors
            /// When `count` is outside `1..=9`.
            pub fn new(count: u32) -> Result<Self, ValueError> {
                match u8::try_from(count) {
                    Ok(n) if (Self::MIN..=Self::MAX).contains(&n) => Ok(Self(n)),
                    _ => Err(ValueError::new($what, count, "expected 1 to 9")),
                }
            }

            /// The count.
            pub const fn get(self) -> u8 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl TryFrom<u32> for $name {
            type Error = ValueError;
            fn try_from(count: u32) -> Result<Self, Self::Error> {
                Self::new(count)
            }
        }

        impl From<$name> for u32 {
            fn from(count: $name) -> Self {
                u32::from(count.0)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_id() -> std::borrow::Cow<'static, str> {
                concat!("kernel::", stringify!($name)).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "integer",
                    "minimum": Self::MIN,
                    "maximum": Self::MAX,
                    "description": concat!("A ", $what, ": 1 to 9."),
                })
            }
        }
    };
}

bounded_count!(
    /// How many passengers a flight booking is for: 1 to 9.
    PassengerCount,
    "passenger count"
);

bounded_count!(
    /// How many guests a hotel booking is for: 1 to 9.
    GuestCount,
    "guest count"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_and_ten_are_rejected() {
        assert!(PassengerCount::new(0).is_err());
        assert_eq!(PassengerCount::new(9).unwrap().get(), 9);
        assert!(GuestCount::new(10).is_err());
        assert!(GuestCount::new(256 + 1).is_err(), "must not wrap to 1");
        assert!(serde_json::from_str::<GuestCount>("0").is_err());
        assert!(serde_json::from_str::<GuestCount>("-1").is_err());
        assert_eq!(serde_json::from_str::<GuestCount>("2").unwrap().get(), 2);
    }

    #[test]
    fn the_schema_says_one_to_nine() {
        use serde_json::json;
        let valid = [json!(1), json!(9)];
        let invalid = [
            json!(0),
            json!(10),
            json!(-1),
            json!(257),
            json!("2"),
            json!(null),
        ];
        crate::values::schema_check::assert_classifies::<PassengerCount>(&valid, &invalid);
        crate::values::schema_check::assert_classifies::<GuestCount>(&valid, &invalid);
    }

    proptest! {
        #[test]
        fn the_schema_agrees_on_any_integer(n in any::<i64>()) {
            crate::values::schema_check::assert_agree::<GuestCount>(&serde_json::json!(n));
        }

        #[test]
        fn valid_exactly_in_one_to_nine(n in any::<u32>()) {
            prop_assert_eq!(PassengerCount::new(n).is_ok(), (1..=9).contains(&n));
            if let Ok(count) = GuestCount::new(n) {
                prop_assert_eq!(u32::from(count), n);
            }
        }
    }
}
