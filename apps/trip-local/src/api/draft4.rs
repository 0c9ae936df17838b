//! The request body's schema in JSON Schema draft 4, the only draft API Gateway's REST models
//! accept, converted from the 2020-12 schema the local API validates with
//! ([`super::schema::new_trip_json_schema`]), never written by hand.
//!
//! The conversion inlines every `$ref` (API Gateway resolves a model's references only to other
//! models, by URL), turns `const` into a one-value `enum`, and drops what draft 4 does not have
//! (`examples`, `$defs`) or does not check (`format`). Where a format is a rule, draft 4 gets it
//! as a pattern instead: a `date` becomes a regular expression that admits exactly the real
//! calendar days (month lengths and leap years included), so `2026-02-30` is refused at the API
//! as it is locally. A keyword the conversion does not know is an error, never silently dropped.
//!
//! What neither draft can say is left to decoding, on both sides: a stay's end after its start,
//! and at most 30 nights. Locally the API decodes the body before starting anything; on AWS the
//! body goes straight to `StartExecution`, and the saga's first step decodes it.
//!
//! ```
//! use trip_local::api::draft4::{new_trip_draft4_schema, DRAFT4};
//!
//! let schema = new_trip_draft4_schema();
//! assert_eq!(schema["$schema"], DRAFT4);
//! assert!(!schema.to_string().contains("$ref"));
//! ```

use serde_json::{Map, Value, json};

use super::schema::new_trip_json_schema;

/// The draft 4 meta-schema's URI, which the converted schema names.
pub const DRAFT4: &str = "http://json-schema.org/draft-04/schema#";

/// Where the converted schema is committed, relative to the workspace root.
pub const DRAFT4_FILE: &str = "generated/trip_api.request.draft4.json";

/// The command that rewrites [`DRAFT4_FILE`] (`make gen` runs it too).
pub const REGENERATE: &str =
    "cargo run -p trip-local -- api-model --out generated/trip_api.request.draft4.json";

/// Any real calendar day from 2000-01-01 to 9999-12-31 (`kernel::CalendarDate::YEARS`: no
/// earlier day is ever on sale), as `YYYY-MM-DD`: days 1-28 of every month, 29-30 of every
/// month but February, 31 of the long months, and February 29 of leap years (divisible by 4,
/// centuries only when divisible by 400).
pub const CALENDAR_DATE_PATTERN: &str = concat!(
    "^(?:[2-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])",
    "|(?:0[13-9]|1[0-2])-(?:29|30)",
    "|(?:0[13578]|1[02])-31)",
    "|(?:[2-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)-02-29)$"
);

/// Why a schema cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert the schema to draft 4 at {pointer}: {reason}")]
pub struct ConversionError {
    /// Where in the source schema.
    pub pointer: String,
    /// What is wrong there.
    pub reason: String,
}

/// The request body's schema ([`super::schema::new_trip_json_schema`]) in draft 4.
///
/// # Panics
/// When the generated schema uses a keyword the conversion does not know: the API's tests
/// generate it, so this cannot ship.
pub fn new_trip_draft4_schema() -> Value {
    to_draft4(&new_trip_json_schema()).unwrap_or_else(|e| panic!("{e}"))
}

/// [`new_trip_draft4_schema`] as the JSON committed at [`DRAFT4_FILE`].
pub fn new_trip_draft4_json() -> String {
    let mut json =
        serde_json::to_string_pretty(&new_trip_draft4_schema()).expect("a schema serializes");
    json.push('\n');
    json
}

/// Converts a standalone 2020-12 `schema` (its definitions under `$defs`) to draft 4.
///
/// # Errors
/// [`ConversionError`] for a reference outside `#/$defs`, a reference cycle, or a keyword
/// draft 4 cannot express.
pub fn to_draft4(schema: &Value) -> Result<Value, ConversionError> {
    let definitions = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut converted = convert(schema, &definitions, "", &mut Vec::new())?;
    let object = converted
        .as_object_mut()
        .ok_or_else(|| error("", "the root is not an object schema"))?;
    let mut root = Map::new();
    root.insert("$schema".into(), DRAFT4.into());
    root.insert(
        "description".into(),
        json!(format!(
            "{} Generated from the Rust types by trip-local (JSON Schema draft 4, for API Gateway); do not edit. Regenerate with `{REGENERATE}` (or `make gen`).",
            object
                .remove("description")
                .and_then(|d| d.as_str().map(str::to_owned))
                .unwrap_or_default()
        )),
    );
    root.append(object);
    Ok(Value::Object(root))
}

fn error(pointer: &str, reason: impl Into<String>) -> ConversionError {
    ConversionError {
        pointer: if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.to_owned()
        },
        reason: reason.into(),
    }
}

/// Keywords whose value is copied as it is: the same meaning in draft 4 and 2020-12.
const SAME: &[&str] = &[
    "type",
    "title",
    "description",
    "required",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "default",
];

/// Keywords that are annotations only, or bookkeeping this conversion does itself.
const DROPPED: &[&str] = &[
    "$schema",
    "$defs",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
];

fn convert(
    node: &Value,
    definitions: &Map<String, Value>,
    pointer: &str,
    resolving: &mut Vec<String>,
) -> Result<Value, ConversionError> {
    let Some(object) = node.as_object() else {
        // `true`/`false` schemas are not draft 4.
        return match node {
            Value::Bool(true) => Ok(json!({})),
            Value::Bool(false) => Ok(json!({ "not": {} })),
            _ => Err(error(pointer, "a schema must be an object")),
        };
    };
    // A reference becomes the referenced schema, with the referrer's own keywords (a
    // description) on top.
    let mut out = match object.get("$ref") {
        Some(reference) => inline(reference, definitions, pointer, resolving)?,
        None => Map::new(),
    };
    let mut calendar_date = false;
    for (key, value) in object {
        let at = format!("{pointer}/{key}");
        match key.as_str() {
            "$ref" => {}
            k if DROPPED.contains(&k) => {}
            k if SAME.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            "const" => {
                out.insert("enum".into(), json!([value]));
            }
            "format" => match value.as_str() {
                Some("date") => calendar_date = true,
                // The schema's own pattern says it (canonical UUIDs).
                Some("uuid") if object.contains_key("pattern") => {}
                _ => {
                    return Err(error(
                        &at,
                        format!("the format {value} has no draft 4 rule here"),
                    ));
                }
            },
            "exclusiveMinimum" | "exclusiveMaximum" => {
                let bound = if key == "exclusiveMinimum" {
                    "minimum"
                } else {
                    "maximum"
                };
                out.insert(bound.into(), value.clone());
                out.insert(key.clone(), Value::Bool(true));
            }
            "properties" => {
                let mut properties = Map::new();
                for (name, schema) in value
                    .as_object()
                    .ok_or_else(|| error(&at, "properties is not an object"))?
                {
                    properties.insert(
                        name.clone(),
                        convert(schema, definitions, &format!("{at}/{name}"), resolving)?,
                    );
                }
                out.insert(key.clone(), Value::Object(properties));
            }
            "additionalProperties" | "items" | "not" => {
                let converted = match value {
                    Value::Bool(allowed) if key == "additionalProperties" => Value::Bool(*allowed),
                    _ => convert(value, definitions, &at, resolving)?,
                };
                out.insert(key.clone(), converted);
            }
            "allOf" | "anyOf" | "oneOf" => {
                let schemas = value
                    .as_array()
                    .ok_or_else(|| error(&at, "not an array"))?
                    .iter()
                    .enumerate()
                    .map(|(i, s)| convert(s, definitions, &format!("{at}/{i}"), resolving))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(key.clone(), Value::Array(schemas));
            }
            other => {
                return Err(error(
                    &at,
                    format!("`{other}` is not a keyword draft 4 has (or this conversion knows)"),
                ));
            }
        }
    }
    if calendar_date {
        add_calendar_rule(&mut out);
    }
    Ok(Value::Object(out))
}

fn inline(
    reference: &Value,
    definitions: &Map<String, Value>,
    pointer: &str,
    resolving: &mut Vec<String>,
) -> Result<Map<String, Value>, ConversionError> {
    let name = reference
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .ok_or_else(|| error(pointer, format!("unsupported reference {reference}")))?;
    if resolving.iter().any(|seen| seen == name) {
        return Err(error(
            pointer,
            format!("{name} refers to itself: draft 4 models cannot inline it"),
        ));
    }
    let target = definitions
        .get(name)
        .ok_or_else(|| error(pointer, format!("no definition {name}")))?;
    resolving.push(name.to_owned());
    let inlined = convert(target, definitions, &format!("/$defs/{name}"), resolving)?;
    resolving.pop();
    Ok(match inlined {
        Value::Object(inlined) => inlined,
        _ => Map::new(),
    })
}

/// A `date` format as a pattern: with the schema's own pattern, both must hold.
fn add_calendar_rule(out: &mut Map<String, Value>) {
    let rule = json!({ "pattern": CALENDAR_DATE_PATTERN });
    match out.remove("pattern") {
        Some(shape) => {
            out.insert("allOf".into(), json!([{ "pattern": shape }, rule]));
        }
        None => {
            out.insert("pattern".into(), rule["pattern"].clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_pattern_admits_exactly_the_real_days() {
        let pattern = regex_lite(CALENDAR_DATE_PATTERN);
        let mut admitted = 0;
        for year in [
            1000, 1600, 1900, 1996, 1999, 2000, 2023, 2024, 2100, 2400, 9999,
        ] {
            for month in 1..=12u8 {
                for day in 1..=31u8 {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    let real = kernel::CalendarDate::parse(&text).is_ok();
                    assert_eq!(pattern(&text), real, "{text}");
                    admitted += usize::from(real);
                }
            }
        }
        // The 6 years from 2000 on, of 365 days, plus February 29 of 2000, 2024 and 2400.
        assert_eq!(admitted, 6 * 365 + 3);
        for text in [
            "0999-12-31",
            "2026-1-01",
            "2026-00-10",
            "2026-13-01",
            "2026-12-00",
            "26-12-01",
        ] {
            assert!(!pattern(text), "{text}");
        }
    }

    /// The pattern as the jsonschema crate's validator applies it (an ECMA-262 regex, as API
    /// Gateway's), through a one-keyword draft 4 schema.
    fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
        let validator = jsonschema::draft4::new(&json!({ "type": "string", "pattern": pattern }))
            .expect("the pattern compiles");
        move |text| validator.is_valid(&json!(text))
    }

    #[test]
    fn references_are_inlined_with_their_referrers_keywords() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": { "id": { "$ref": "#/$defs/Id", "description": "The id." } },
            "$defs": { "Id": { "type": "string", "not": { "const": "0" }, "examples": ["1"] } }
        });
        let converted = to_draft4(&schema).unwrap();
        assert_eq!(
            converted["properties"]["id"],
            json!({ "type": "string", "not": { "enum": ["0"] }, "description": "The id." })
        );
        assert_eq!(converted["$schema"], DRAFT4);
    }

    #[test]
    fn what_draft_4_cannot_say_is_an_error_naming_where() {
        let unknown = json!({ "type": "object", "properties": { "a": { "prefixItems": [] } } });
        let error = to_draft4(&unknown).unwrap_err();
        assert_eq!(error.pointer, "/properties/a/prefixItems");
        let cycle =
            json!({ "$ref": "#/$defs/A", "$defs": { "A": { "items": { "$ref": "#/$defs/A" } } } });
        assert!(
            to_draft4(&cycle)
                .unwrap_err()
                .reason
                .contains("refers to itself")
        );
        let format = json!({ "type": "string", "format": "email" });
        assert!(to_draft4(&format).unwrap_err().reason.contains("email"));
    }

    #[test]
    fn the_request_schema_converts_to_a_valid_draft_4_schema_without_references() {
        let schema = new_trip_draft4_schema();
        assert!(jsonschema::draft4::meta::is_valid(&schema), "{schema:#}");
        let text = schema.to_string();
        assert!(!text.contains("$ref") && !text.contains("$defs") && !text.contains("\"format\""));
        assert!(text.contains("do not edit"));
    }
}
