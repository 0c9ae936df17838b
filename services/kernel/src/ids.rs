//! Typed entity ids: one newtype per entity, so a booking id can never be passed where a trip id
//! is expected.
//!
//! Every id is a UUID written in the canonical hyphenated lower-case form
//! (`0192f0c4-7b1e-7c3a-9d2e-3f4a5b6c7d8e`). New ids are UUIDv7: they begin with the creation
//! time in milliseconds, so sort keys built from them sort by creation time and DynamoDB spreads
//! them evenly over partitions. Parsing accepts any UUID version (ids minted elsewhere, e.g. by a
//! client, stay valid) but only the canonical form, so one id has exactly one spelling and one key.
//! The `TRIP#` style prefixes belong to the table's keys ([`crate::dynamo::Key`]), not to ids.
//!
//! Services declare their own ids with [`entity_id!`](crate::entity_id):
//!
//! ```
//! kernel::entity_id! {
//!     /// A seat held for a trip.
//!     pub struct SeatHoldId("seat hold id");
//! }
//! let id = SeatHoldId::new();
//! assert_eq!(id.to_string().parse::<SeatHoldId>().unwrap(), id);
//! assert!("TRIP-1".parse::<SeatHoldId>().is_err());
//! ```

use uuid::Uuid;

/// An id string that is not a canonical, non-nil UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`: {expected}")]
pub struct IdError {
    what: &'static str,
    input: String,
    expected: &'static str,
}

const EXPECTED_FORM: &str =
    "expected a UUID in lower-case canonical form, like 0192f0c4-7b1e-7c3a-9d2e-3f4a5b6c7d8e";
const NOT_NIL: &str = "the nil UUID (all zeros) is never an id; use a real one, like 0192f0c4-7b1e-7c3a-9d2e-3f4a5b6c7d8e";

/// Parses the canonical form of a non-nil UUID; the shared rule behind every
/// [`entity_id!`](crate::entity_id).
///
/// # Errors
/// When `input` is not 36 characters of lower-case hyphenated hex, or is the nil UUID.
pub fn parse_uuid(what: &'static str, input: &str) -> Result<Uuid, IdError> {
    let error = |expected| IdError {
        what,
        input: input.chars().take(64).collect(),
        expected,
    };
    let uuid = Uuid::try_parse(input).map_err(|_| error(EXPECTED_FORM))?;
    // `Uuid::try_parse` also accepts the simple, braced and URN forms and upper case; one
    // spelling per id keeps `TRIP#<id>` keys unique, so only the form we print is accepted.
    if uuid.hyphenated().to_string() != input {
        return Err(error(EXPECTED_FORM));
    }
    if uuid.is_nil() {
        return Err(error(NOT_NIL));
    }
    Ok(uuid)
}

/// What [`parse_uuid`] accepts, as a JSON schema pattern: 36 characters of lower-case hex and
/// hyphens in the 8-4-4-4-12 layout (the nil UUID is excluded separately).
const CANONICAL_UUID_PATTERN: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/// The JSON schema of an id: the same rule as [`parse_uuid`], so a client checking a request
/// against it rejects what the deserialiser would; behind every
/// [`entity_id!`](crate::entity_id)'s `JsonSchema`.
pub fn uuid_schema(what: &str) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "format": "uuid",
        "pattern": CANONICAL_UUID_PATTERN,
        "not": { "const": "00000000-0000-0000-0000-000000000000" },
        "description": format!(
            "A {what}: a non-nil UUID in canonical form (lower-case, hyphenated)."
        ),
        "examples": ["0192f0c4-9c7e-7d3a-8f51-2f4b1c9e3a10"],
    })
}

/// Declares a UUID-backed id newtype with `new` (UUIDv7), `parse`, `Display`, `FromStr`, serde
/// as a string and a matching `JsonSchema`. See the [module docs](crate::ids).
#[macro_export]
macro_rules! entity_id {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($what:literal);) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name($crate::__private::Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self($crate::__private::Uuid::now_v7())
            }

            /// Parses the canonical hyphenated lower-case form.
            ///
            /// # Errors
            /// When `input` is not a canonical, non-nil UUID.
            pub fn parse(input: &str) -> ::core::result::Result<Self, $crate::ids::IdError> {
                $crate::ids::parse_uuid($what, input).map(Self)
            }

            /// The UUID inside.
            pub fn as_uuid(&self) -> $crate::__private::Uuid {
                self.0
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::ids::IdError;
            fn from_str(input: &str) -> ::core::result::Result<Self, Self::Err> {
                Self::parse(input)
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let text =
                    <::std::string::String as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err($crate::__private::serde::de::Error::custom)
            }
        }

        impl $crate::__private::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(stringify!($name))
            }

            fn schema_id() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(concat!(module_path!(), "::", stringify!($name)))
            }

            fn json_schema(
                _: &mut $crate::__private::schemars::SchemaGenerator,
            ) -> $crate::__private::schemars::Schema {
                $crate::ids::uuid_schema($what)
            }
        }
    };
}

entity_id! {
    /// A trip: the aggregate the booking saga creates. Keys: `TRIP#<id>`.
    pub struct TripId("trip id");
}

entity_id! {
    /// A flight or hotel booking made for a trip.
    pub struct BookingId("booking id");
}

entity_id! {
    /// A payment taken for a trip.
    pub struct PaymentId("payment id");
}

entity_id! {
    /// A domain event; also its outbox item's identity.
    pub struct EventId("event id");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_the_canonical_form_parses() {
        let id = TripId::new();
        let text = id.to_string();
        assert_eq!(TripId::parse(&text), Ok(id));
        assert!(TripId::parse(&text.to_uppercase()).is_err());
        assert!(TripId::parse(&text.replace('-', "")).is_err());
        assert!(TripId::parse(&format!("{{{text}}}")).is_err());
        let nil = TripId::parse("00000000-0000-0000-0000-000000000000").unwrap_err();
        assert!(
            nil.to_string()
                .contains("nil UUID (all zeros) is never an id"),
            "{nil}"
        );
        let upper = TripId::parse("0192F0C4-7B1E-7C3A-9D2E-3F4A5B6C7D8E").unwrap_err();
        assert!(
            upper.to_string().contains("lower-case canonical form"),
            "{upper}"
        );
        assert!(TripId::parse("").is_err());
        let message = TripId::parse("TRIP-1").unwrap_err().to_string();
        assert!(message.starts_with("invalid trip id `TRIP-1`"), "{message}");
    }

    #[test]
    fn new_ids_sort_by_creation_time() {
        let ids: Vec<TripId> = (0..50).map(|_| TripId::new()).collect();
        let mut by_text: Vec<String> = ids.iter().map(ToString::to_string).collect();
        by_text.sort();
        assert_eq!(
            by_text,
            ids.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
    }

    #[test]
    fn serde_uses_the_string_and_validates() {
        let id = BookingId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<BookingId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<BookingId>("\"nope\"").is_err());
    }

    #[test]
    fn the_schema_says_what_parse_checks() {
        let id = TripId::new().to_string();
        let valid = [id.clone(), "0192f0c4-9c7e-7d3a-8f51-2f4b1c9e3a10".into()];
        let invalid = [
            id.to_uppercase(),
            id.replace('-', ""),
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
            "00000000-0000-0000-0000-000000000000".into(),
            String::new(),
            "TRIP-1".into(),
        ];
        crate::values::schema_check::assert_classifies::<TripId>(
            &valid.map(serde_json::Value::from),
            &invalid.map(serde_json::Value::from),
        );
        crate::values::schema_check::assert_classifies::<TripId>(&[], &[serde_json::json!(42)]);
    }

    proptest! {
        #[test]
        fn any_uuid_round_trips(bits in any::<u128>().prop_filter("nil", |b| *b != 0)) {
            let uuid = Uuid::from_u128(bits);
            let id = PaymentId::parse(&uuid.hyphenated().to_string()).unwrap();
            prop_assert_eq!(id.as_uuid(), uuid);
            prop_assert_eq!(PaymentId::parse(&id.to_string()), Ok(id));
        }

        #[test]
        fn the_schema_accepts_exactly_what_parses(input in "[0-9a-f]{8}-[0-9a-fA-F]{4}-[0-9a-f]{4}-[0-9a-f-]{4}-[0-9a-f]{11,13}|\\PC{0,40}") {
            crate::values::schema_check::assert_agree::<TripId>(&serde_json::json!(input));
        }

        #[test]
        fn parsed_ids_print_as_their_input(input in "\\PC{0,40}") {
            if let Ok(id) = EventId::parse(&input) {
                prop_assert_eq!(id.to_string(), input);
            }
        }
    }
}
