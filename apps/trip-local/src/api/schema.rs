//! The request body's contract, and how a body is checked against it.
//!
//! `POST /trips` takes the saga's input, [`TripRequest`], without `trip_id`: the trip's id is the
//! request's `Idempotency-Key`, or one the API assigns. Its schema is `TripRequest`'s, generated
//! by schemars from the Rust type and its value objects, with `trip_id` taken out. A body is
//! parsed, validated against that schema (every violation at once, each with its JSON pointer),
//! then turned into the saga's input exactly as API Gateway's mapping template does (the body
//! as sent, `"trip_id":"<id>",` inserted after its opening brace) and decoded into a
//! `TripRequest`. Decoding
//! runs the value objects' own checks; after validation it can fail only where a schema cannot
//! say the rule (a stay whose end is not after its start) or where JSON Schema and serde
//! disagree on a number's type (`2.0` is an integer to one and not to the other), and those
//! failures are reported as violations too.

use jsonschema::Validator;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;
use trip::domain::TripRequest;

use super::body::Violation;
use super::error::bounded;
use kernel::TripId;

/// The name of the request body's schema in the OpenAPI document.
pub const NEW_TRIP: &str = "NewTrip";

/// The saga input's field the API fills in.
const TRIP_ID: &str = "trip_id";

/// The request body's schema: [`TripRequest`]'s without `trip_id`. The value objects' schemas
/// are added to `generator`'s definitions, referenced from this one.
pub fn new_trip_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = TripRequest::json_schema(generator);
    let object = schema.ensure_object();
    if let Some(Value::Array(required)) = object.get_mut("required") {
        required.retain(|field| field != TRIP_ID);
    }
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        properties.shift_remove(TRIP_ID);
    }
    object.insert("title".into(), NEW_TRIP.into());
    object.insert(
        "description".into(),
        "A trip to book: one flight, one hotel stay, paid by card. The saga's input \
         (TripRequest) without `trip_id`: the trip's id is the request's Idempotency-Key, or one \
         the API assigns."
            .into(),
    );
    schema
}

/// The saga's input for `body` (a JSON object, as sent) and `trip_id`, as API Gateway's
/// mapping template builds it: the body without its surrounding whitespace, with
/// `"trip_id":"<id>",` inserted after its opening brace. Step Functions compares the input of a
/// retried `StartExecution` with this text, byte for byte; so does the local API.
///
/// # Panics
/// When `body` does not start with `{` once trimmed: callers pass a validated object.
pub fn saga_input(body: &str, trip_id: TripId) -> String {
    let body = body.trim_matches([' ', '\t', '\n', '\r']);
    let rest = body
        .strip_prefix('{')
        .expect("a validated body is a JSON object");
    format!("{{\"{TRIP_ID}\":\"{trip_id}\",{rest}")
}

/// The request body's schema as one standalone JSON Schema 2020-12 document (the value objects'
/// schemas under `$defs`): what bodies are validated against.
pub fn new_trip_json_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = new_trip_schema(&mut generator);
    let definitions = generator.take_definitions(true);
    let object = schema.ensure_object();
    if let Some(meta_schema) = generator.settings().meta_schema.as_deref() {
        object.insert("$schema".into(), meta_schema.into());
    }
    object.insert("$defs".into(), Value::Object(definitions));
    schema.to_value()
}

/// A body that passed: the saga's input made from it, as text and decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The saga's input as Step Functions would receive it ([`saga_input`]): what a retry is
    /// compared with.
    pub input: String,
    /// The same, decoded.
    pub request: TripRequest,
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not JSON at all.
    MalformedJson(Violation),
    /// JSON that breaks the contract, with every violation found.
    Invalid(Vec<Violation>),
}

/// Checks request bodies against [`new_trip_json_schema`]; compiled once, shared by requests.
pub struct RequestDecoder {
    validator: Validator,
}

impl std::fmt::Debug for RequestDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestDecoder").finish_non_exhaustive()
    }
}

impl Default for RequestDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestDecoder {
    /// Compiles the request body's schema.
    pub fn new() -> Self {
        // In 2020-12 `format` is an annotation unless the validator is asked to check it; the
        // value objects' schemas rely on `date` and `uuid` meaning what they say.
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&new_trip_json_schema())
            .expect("the generated request schema compiles: checked by the API's tests");
        Self { validator }
    }

    /// Parses and validates `bytes`, then makes and decodes the saga's input for `trip_id`.
    ///
    /// # Errors
    /// [`Rejection`], with every violation the schema finds, or the one decoding finds.
    pub fn decode(&self, bytes: &[u8], trip_id: TripId) -> Result<Decoded, Rejection> {
        let body: Value = serde_json::from_slice(bytes).map_err(|e| {
            Rejection::MalformedJson(Violation {
                pointer: String::new(),
                message: format!("the body is not JSON: {e}"),
            })
        })?;
        if let Some(repeated) = repeated_key(bytes) {
            return Err(Rejection::Invalid(vec![repeated]));
        }
        let violations = self.violations(&body);
        if !violations.is_empty() {
            return Err(Rejection::Invalid(violations));
        }
        // Valid JSON is UTF-8 (serde_json checked it).
        let text = std::str::from_utf8(bytes).expect("the body parsed as JSON");
        let input = saga_input(text, trip_id);
        let value: Value = serde_json::from_str(&input).expect("a JSON object with one more field");
        let request = serde_path_to_error::deserialize::<_, TripRequest>(value).map_err(|e| {
            Rejection::Invalid(vec![Violation {
                pointer: pointer(e.path()),
                message: bounded(e.inner().to_string()),
            }])
        })?;
        Ok(Decoded { input, request })
    }

    /// Every violation of the schema in `body`, ordered by where it is.
    pub fn violations(&self, body: &Value) -> Vec<Violation> {
        let mut violations: Vec<Violation> = self
            .validator
            .iter_errors(body)
            .map(|error| Violation {
                pointer: error.instance_path().as_str().to_owned(),
                message: bounded(error.to_string()),
            })
            .collect();
        // The validator's order follows its evaluation, not the document; clients and tests
        // get the same list for the same body.
        violations.sort_by(|a, b| (&a.pointer, &a.message).cmp(&(&b.pointer, &b.message)));
        violations.dedup();
        violations
    }
}

/// The first key that one object of `bytes` (valid JSON) repeats, as a violation at that object.
/// JSON parsers disagree on which of the two values wins (serde_json keeps the last, others the
/// first or refuse), so a body that repeats a key means different things to different readers:
/// it is refused, never guessed at.
fn repeated_key(bytes: &[u8]) -> Option<Violation> {
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    /// Any JSON value whose objects have unique keys.
    struct Unique;

    impl<'de> Deserialize<'de> for Unique {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(Unique)
        }
    }

    impl<'de> Visitor<'de> for Unique {
        type Value = Unique;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
            Ok(Unique)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
            Ok(Unique)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
            Ok(Unique)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
            Ok(Unique)
        }

        fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
            Ok(Unique)
        }

        fn visit_unit<E>(self) -> Result<Unique, E> {
            Ok(Unique)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
            while seq.next_element::<Unique>()?.is_some() {}
            Ok(Unique)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
            let mut keys = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !keys.insert(key.clone()) {
                    return Err(de::Error::custom(bounded(format!(
                        "the key `{key}` appears twice in this object; a JSON object must not repeat a key"
                    ))));
                }
                map.next_value::<Unique>()?;
            }
            Ok(Unique)
        }
    }

    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, Unique>(&mut deserializer)
        .err()
        .map(|error| {
            // serde_json appends the position to a custom message; the pointer says where.
            let message = error.inner().to_string();
            let message = message
                .split_once(" at line ")
                .map_or(message.as_str(), |(text, _)| text)
                .to_owned();
            Violation {
                pointer: pointer(error.path()),
                message,
            }
        })
}

/// `hotel.stay` → `/hotel/stay`, escaped as RFC 6901 says.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path {
        let token = match segment {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => key.replace('~', "~0").replace('/', "~1"),
            Segment::Enum { variant } => variant.replace('~', "~0").replace('/', "~1"),
            Segment::Unknown => continue,
        };
        pointer.push('/');
        pointer.push_str(&token);
    }
    pointer
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body() -> Value {
        json!({
            "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
            "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
            "payment": { "card": "tok_visa_4242" }
        })
    }

    fn decode(body: &Value) -> Result<Decoded, Rejection> {
        RequestDecoder::new().decode(body.to_string().as_bytes(), TripId::new())
    }

    fn violations(body: &Value) -> Vec<Violation> {
        match decode(body) {
            Err(Rejection::Invalid(violations)) => violations,
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn the_body_schema_is_the_saga_input_without_its_id() {
        let body_schema = new_trip_json_schema();
        let input_schema = schemars::schema_for!(TripRequest).to_value();
        assert_eq!(
            body_schema["required"],
            json!(["flight", "hotel", "payment"])
        );
        assert_eq!(input_schema["required"][0], json!("trip_id"));
        assert!(body_schema["properties"].get("trip_id").is_none());
        for field in ["flight", "hotel", "payment"] {
            assert_eq!(
                body_schema["properties"][field],
                input_schema["properties"][field]
            );
        }
        assert_eq!(body_schema["additionalProperties"], json!(false));
    }

    #[test]
    fn the_input_is_the_body_as_sent_with_the_id_first() {
        let trip_id = TripId::new();
        let sent = "  {\n  \"flight\": {\"flight_number\": \"NH106\", \"date\": \"2026-12-01\", \"passengers\": 2},\n  \"hotel\": {\"hotel\": \"TOKYO01\", \"stay\": {\"start\": \"2026-12-01\", \"end\": \"2026-12-04\"}, \"guests\": 2},\n  \"payment\": {\"card\": \"tok_visa_4242\"}\n}\n";
        let decoded = RequestDecoder::new()
            .decode(sent.as_bytes(), trip_id)
            .unwrap();
        assert_eq!(decoded.request.trip_id, trip_id);
        assert_eq!(
            decoded.input,
            format!("{{\"trip_id\":\"{trip_id}\",{}", &sent.trim()[1..])
        );
        // Another spelling of the same JSON is another input, as Step Functions sees it.
        let compact = serde_json::from_str::<Value>(sent).unwrap().to_string();
        let other = RequestDecoder::new()
            .decode(compact.as_bytes(), trip_id)
            .unwrap();
        assert_eq!(other.request, decoded.request);
        assert_ne!(other.input, decoded.input);
    }

    #[test]
    fn a_body_may_not_choose_its_trip_id() {
        let mut with_id = body();
        with_id["trip_id"] = json!(TripId::new());
        let pointers: Vec<String> = violations(&with_id)
            .into_iter()
            .map(|v| v.pointer)
            .collect();
        assert_eq!(pointers, [""]);
    }

    #[test]
    fn every_violation_is_reported_with_its_pointer() {
        let mut bad = body();
        bad["flight"]["flight_number"] = json!("nh106");
        bad["flight"]["passengers"] = json!(-1);
        bad["hotel"]["guests"] = json!(10);
        bad["payment"]["card"] = json!("4242");
        let pointers: Vec<String> = violations(&bad).into_iter().map(|v| v.pointer).collect();
        for expected in [
            "/flight/flight_number",
            "/flight/passengers",
            "/hotel/guests",
            "/payment/card",
        ] {
            assert!(
                pointers.iter().any(|p| p == expected),
                "{expected} in {pointers:?}"
            );
        }
    }

    #[test]
    fn a_repeated_key_is_refused_where_it_is() {
        let sent = r#"{"flight": {"flight_number": "NH106", "date": "2026-12-01", "passengers": 2, "passengers": 9},
            "hotel": {"hotel": "TOKYO01", "stay": {"start": "2026-12-01", "end": "2026-12-04"}, "guests": 2},
            "payment": {"card": "tok_visa_4242"}}"#;
        let Err(Rejection::Invalid(found)) =
            RequestDecoder::new().decode(sent.as_bytes(), TripId::new())
        else {
            panic!("a repeated key must be refused");
        };
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].pointer, "/flight");
        assert_eq!(
            found[0].message,
            "the key `passengers` appears twice in this object; a JSON object must not repeat a key"
        );
        let top = r#"{"payment": {"card": "a"}, "payment": {"card": "b"}}"#;
        assert_eq!(repeated_key(top.as_bytes()).unwrap().pointer, "");
        assert!(repeated_key(body().to_string().as_bytes()).is_none());
        assert!(repeated_key(br#"[{"a": 1}, {"a": 2}]"#).is_none());
    }

    #[test]
    fn a_huge_value_is_not_echoed_whole() {
        let mut huge = body();
        huge["flight"]["flight_number"] = json!("X".repeat(60_000));
        let found = violations(&huge);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].pointer, "/flight/flight_number");
        let length = found[0].message.chars().count();
        assert!(length < 400, "{length} characters: {}", found[0].message);
        assert!(
            found[0].message.contains("characters left out"),
            "{}",
            found[0].message
        );
        assert_eq!(bounded("short".to_owned()), "short");
    }

    #[test]
    fn what_only_decoding_can_check_is_a_violation_too() {
        let mut backwards = body();
        backwards["hotel"]["stay"] = json!({ "start": "2026-12-04", "end": "2026-12-01" });
        let found = violations(&backwards);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].pointer, "/hotel/stay");
        assert!(
            found[0].message.contains("start before the end"),
            "{found:?}"
        );

        let mut float = body();
        float["flight"]["passengers"] = json!(2.0);
        let found = violations(&float);
        assert_eq!(found[0].pointer, "/flight/passengers", "{found:?}");
    }

    #[test]
    fn malformed_json_is_told_apart() {
        let rejection = RequestDecoder::new()
            .decode(b"{\"flight\": ", TripId::new())
            .unwrap_err();
        assert!(
            matches!(&rejection, Rejection::MalformedJson(v) if v.message.contains("not JSON")),
            "{rejection:?}"
        );
    }

    #[test]
    fn pointers_escape_slashes_and_tildes() {
        let value = json!({ "a/b": { "c~d": [1, "x"] } });
        let error = serde_path_to_error::deserialize::<
            _,
            std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>>,
        >(value)
        .unwrap_err();
        assert_eq!(pointer(error.path()), "/a~1b/c~0d/1");
    }
}
