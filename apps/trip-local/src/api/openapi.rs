//! The API's contract as an OpenAPI 3.1 document, generated from the same Rust types the
//! handlers decode and send.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, which schemars writes: the components are the
//! schemas of [`super::body`]'s types, the request body's ([`super::schema::new_trip_schema`]),
//! and the value objects'. The document is committed as `generated/trip_api.openapi.json`;
//! a test fails when it differs from what this module generates.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::body::{ErrorBody, Health, TripAccepted, TripView};
use super::schema::{NEW_TRIP, new_trip_schema};
use kernel::TripId;

/// Where the document is committed, relative to the workspace root.
pub const OPENAPI_FILE: &str = "generated/trip_api.openapi.json";

/// The command that rewrites [`OPENAPI_FILE`] (`make gen` runs it too).
pub const REGENERATE: &str =
    "cargo run -p trip-local -- openapi --out generated/trip_api.openapi.json";

/// The OpenAPI 3.1 document of the API.
///
/// # Panics
/// When a type's schema for requests differs from its schema for answers: the document could
/// not say both (the API's tests generate it, so this cannot ship).
pub fn openapi() -> Value {
    // Requests are described as they are decoded, answers as they are encoded (every field is
    // sent, `Option`s as `null`): two generators, whose shared schemas must agree.
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        // The document's `jsonSchemaDialect` says it once for every schema.
        s.meta_schema = None;
    });
    let mut requests = settings.clone().for_deserialize().into_generator();
    let mut answers = settings.for_serialize().into_generator();
    let new_trip = new_trip_schema(&mut requests).to_value();
    let trip_id = requests.subschema_for::<TripId>().to_value();
    let mut paths = json!({
        "/trips": {
            "post": start_trip(&mut answers, &trip_id),
            "get": search_trips(&mut requests, &mut answers),
        },
        "/trips/{id}": { "get": get_trip(&mut answers, &trip_id) },
        "/health": { "get": health(&mut answers) },
        "/openapi.json": { "get": {
            "operationId": "getOpenApi",
            "summary": "This document.",
            "responses": { "200": {
                "description": "The OpenAPI document.",
                "content": { "application/json": { "schema": { "type": "object" } } },
            } },
        } },
    });
    // Any request may be one the HTTP server cannot read, whatever its route.
    for operation in paths
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|o| o.values_mut())
    {
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            for (code, description) in UNREADABLE {
                responses
                    .entry(code)
                    .or_insert_with(|| error_response(&mut answers, description));
            }
            responses.sort_keys();
        }
    }
    let mut schemas = Map::new();
    schemas.insert(NEW_TRIP.to_owned(), new_trip);
    for (name, schema) in requests
        .take_definitions(true)
        .into_iter()
        .chain(answers.take_definitions(true))
    {
        if let Some(other) = schemas.get(&name) {
            assert_eq!(
                *other, schema,
                "the schema of {name} differs between requests and answers"
            );
        }
        schemas.insert(name, schema);
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Trip booking API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
        },
        "x-generated": format!(
            "Generated from the Rust types by trip-local; do not edit. Regenerate with `{REGENERATE}` (or `make gen`)."
        ),
        "servers": [{ "url": "http://127.0.0.1:3000", "description": "`trip-local serve`" }],
        "paths": paths,
        "components": { "schemas": schemas },
    })
}

/// [`openapi`] as the committed file holds it: pretty-printed, with a final newline.
pub fn openapi_json() -> String {
    let mut text =
        serde_json::to_string_pretty(&openapi()).expect("a JSON value always serialises");
    text.push('\n');
    text
}

const DESCRIPTION: &str = "Books trips with the trip booking saga: a flight, a hotel stay and \
a payment, undone newest first when a step fails. `POST /trips` validates the request against \
the saga input's JSON schema and starts an execution; `GET /trips/{id}` follows it; `GET \
/trips?status=…&departure_from=…&departure_to=…` searches trips by status and departure date. The same \
contract as the API Gateway API; `trip-local serve` runs it on one machine. Generated from the \
Rust types; do not edit.";

/// The answers of the HTTP server to a request it cannot read, on every operation.
const UNREADABLE: [(&str, &str); 3] = [
    (
        "400",
        "The request line or a header is not HTTP (`malformed_request`).",
    ),
    (
        "414",
        "The URI is longer than the server reads (`uri_too_long`).",
    ),
    (
        "431",
        "The headers are more or larger than the server reads (`header_fields_too_large`).",
    ),
];

fn schema_ref<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

fn json_content(schema: &Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn error_response(generator: &mut SchemaGenerator, description: &str) -> Value {
    json!({
        "description": description,
        "content": json_content(&schema_ref::<ErrorBody>(generator)),
    })
}

fn start_trip(generator: &mut SchemaGenerator, trip_id: &Value) -> Value {
    let accepted = json_content(&schema_ref::<TripAccepted>(generator));
    json!({
        "operationId": "startTrip",
        "summary": "Book a trip: starts the saga's execution.",
        "description": "The body is the saga's input without `trip_id`: the trip's id is the \
    `Idempotency-Key` header, or one the API assigns. The execution is named `trip-<trip_id>`. \
    Step Functions decides what a repeated id does, and both this API and API Gateway answer as \
    it decides: the same id with the same body (byte for byte) while that execution runs gets \
    the same 202 and starts nothing; another body while it runs, or any body once it has ended, \
    gets 409 `trip_exists`.",
        "parameters": [{
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "The trip's id, chosen by the client (a new UUID for each new trip): a \
    retry with the same key and body starts no second execution. Without it, the API assigns an \
    id and a retry books again.",
            "schema": trip_id,
        }],
        "requestBody": {
            "required": true,
            "content": json_content(&json!({ "$ref": format!("#/components/schemas/{NEW_TRIP}") })),
        },
        "responses": {
            "202": {
                "description": "The execution is started, or runs already for this very request.",
                "headers": {
                    "Location": { "description": "The trip: `/trips/<trip_id>`.", "schema": { "type": "string" } },
                },
                "content": accepted,
            },
            "400": error_response(generator, "The body is not JSON (`invalid_json`), breaks the schema (`invalid_request`, with every violation), or the Idempotency-Key is unusable (`invalid_idempotency_key`)."),
            "409": error_response(generator, "The trip exists (`trip_exists`): its booking has finished, or it was started with another body."),
            "413": error_response(generator, "The body is too large (`payload_too_large`)."),
            "415": error_response(generator, "The body is not sent as `application/json` (`unsupported_media_type`)."),
            "503": error_response(generator, "The store failed (`store_unavailable`), or the start could not be recorded after other requests for the same trip failed to (`start_unavailable`): retry with the same Idempotency-Key."),
        },
    })
}

fn search_trips(requests: &mut SchemaGenerator, answers: &mut SchemaGenerator) -> Value {
    use search::domain::{DEFAULT_LIMIT, MAX_LIMIT, MAX_RANGE_DAYS};
    let status = schema_ref::<trip::domain::TripStatus>(requests);
    let date = schema_ref::<kernel::CalendarDate>(requests);
    let parameter = |name: &str, required: bool, description: &str, schema: &Value| {
        json!({
            "name": name,
            "in": "query",
            "required": required,
            "description": description,
            "schema": schema,
        })
    };
    json!({
        "operationId": "searchTrips",
        "summary": "Trips of one status departing in a date range, by departure date, a page at a time.",
        "description": "Answered from the search table, which the single table's stream keeps in \
    step: a trip shows here a moment after it changes. Every trip of the range appears exactly \
    once across the pages.",
        "parameters": [
            parameter("status", true, "The trips' status.", &status),
            parameter("departure_from", true, "The first departure day, included.", &date),
            parameter(
                "departure_to",
                true,
                &format!("The last departure day, included; at most {MAX_RANGE_DAYS} days after departure_from."),
                &date,
            ),
            parameter(
                "limit",
                false,
                "The most trips a page holds.",
                &json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }),
            ),
            parameter(
                "page_token",
                false,
                "The `next_page_token` of the previous page of this same search (same status \
    and range); opaque.",
                &json!({ "type": "string" }),
            ),
        ],
        "responses": {
            "200": {
                "description": "A page of trips; `next_page_token` when more follow.",
                "content": json_content(&schema_ref::<search::application::Page>(answers)),
            },
            "400": error_response(answers, "A parameter is missing, repeated, unknown or invalid, or the page token is not one of this search's (`invalid_query`, naming the parameter)."),
            "503": error_response(answers, "The search table failed (`store_unavailable`)."),
        },
    })
}

fn get_trip(generator: &mut SchemaGenerator, trip_id: &Value) -> Value {
    json!({
        "operationId": "getTrip",
        "summary": "A trip: its status, each booking, and the path its saga took.",
        "parameters": [{
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The trip's id.",
            "schema": trip_id,
        }],
        "responses": {
            "200": {
                "description": "The trip. Poll until `execution.status` is no longer `RUNNING`.",
                "content": json_content(&schema_ref::<TripView>(generator)),
            },
            "400": error_response(generator, "The id is not a trip id (`invalid_trip_id`)."),
            "404": error_response(generator, "No such trip (`trip_not_found`)."),
            "503": error_response(generator, "The store failed (`store_unavailable`)."),
        },
    })
}

fn health(generator: &mut SchemaGenerator) -> Value {
    let health = json_content(&schema_ref::<Health>(generator));
    json!({
        "operationId": "getHealth",
        "summary": "Whether the API and its store answer.",
        "responses": {
            "200": { "description": "The store answers.", "content": health.clone() },
            "503": { "description": "The store does not answer.", "content": health },
        },
    })
}
