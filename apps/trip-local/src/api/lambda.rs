//! The API's routes that run as Lambda functions behind API Gateway (proxy integration), with
//! the local API's own code: the same view, the same errors, the same bodies.
//!
//! ```
//! use aws_lambda_events::apigw::ApiGatewayProxyRequest;
//! use trip_local::api::lambda::get_trip;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let context = trip_saga::TripContext::in_memory();
//! let mut request = ApiGatewayProxyRequest::default();
//! request.path_parameters.insert("id".into(), "not-a-trip-id".into());
//! let answer = get_trip(&context, &request).await;
//! assert_eq!(answer.status_code, 400);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use kernel::TripId;
use serde::Serialize;
use trip_saga::TripContext;

use super::error::ApiError;
use super::routes::trip_view;

/// The path parameter of `/trips/{id}`.
pub const TRIP_ID_PARAMETER: &str = "id";

/// The IAM actions [`get_trip`] needs on the single table: what its role is granted. A test on
/// DynamoDB (moto) records what it really sends and fails when the two differ.
pub const GET_TRIP_TABLE_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];

/// The Lambda functions of the API, as the infrastructure deploys them (in
/// `generated/trip_api.gateway.json`).
pub fn functions() -> serde_json::Value {
    serde_json::json!([{
        "name": "GetTrip",
        "method": "GET",
        "path": format!("/trips/{{{TRIP_ID_PARAMETER}}}"),
        "crate": env!("CARGO_PKG_NAME"),
        "binary": "get-trip",
        "table_actions": GET_TRIP_TABLE_ACTIONS,
    }])
}

/// `GET /trips/{id}`: the trip, its bookings and its request, as the local API shows a trip
/// whose execution it did not run (`execution` is `null`: the execution's history is Step
/// Functions'). `400 invalid_trip_id`, `404 trip_not_found`, `503 store_unavailable`.
pub async fn get_trip(
    context: &TripContext,
    request: &ApiGatewayProxyRequest,
) -> ApiGatewayProxyResponse {
    let id = request
        .path_parameters
        .get(TRIP_ID_PARAMETER)
        .map_or("", String::as_str);
    let answer = match TripId::parse(id) {
        Err(error) => Err(ApiError::invalid_trip_id(error)),
        Ok(trip_id) => trip_view(context, trip_id, None).await,
    };
    match answer {
        Ok(view) => respond(StatusCode::OK, &view),
        Err(error) => respond(error.status, &error.body),
    }
}

/// `GET /trips?…`: the search, as the local API answers it
/// ([`super::search::search_trips`]). API Gateway passes every value of a repeated parameter in
/// `multiValueQueryStringParameters`, so a repeated one is refused here as it is locally.
pub async fn search_trips(
    service: &search::application::SearchService,
    request: &ApiGatewayProxyRequest,
) -> ApiGatewayProxyResponse {
    let pairs = if request.multi_value_query_string_parameters.is_empty() {
        &request.query_string_parameters
    } else {
        &request.multi_value_query_string_parameters
    };
    match super::search::search_trips(service, pairs.iter()).await {
        Ok(page) => respond(StatusCode::OK, &page),
        Err(error) => respond(error.status, &error.body),
    }
}

fn respond(status: StatusCode, body: &impl Serialize) -> ApiGatewayProxyResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status.as_u16());
    response.headers = headers;
    response.body = Some(Body::Text(
        serde_json::to_string(body).expect("an answer serializes"),
    ));
    response
}
