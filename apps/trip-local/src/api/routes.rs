//! The handlers: thin, from HTTP to the saga, the registry and the store, and back.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::TripId;
use serde_json::Value;

use super::ApiState;
use super::body::{
    Bookings, ExecutionStatus, Health, HealthStatus, Links, TripAccepted, TripState, TripView,
    Violation,
};
use super::error::ApiError;
use super::executions::{Claim, TripExecution, execution_name};
use super::schema::{Decoded, Rejection};
use crate::faults::FaultPlan;
use crate::functions::Observer;

/// The header that makes a retried `POST /trips` start no second execution.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Set on a `202` that answers a retry: nothing was started this time.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The longest idempotency key accepted (the length Stripe and the IETF draft's examples use).
pub const MAX_KEY_LEN: usize = 255;

/// The largest body read: a trip request is well under 1 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `/trips/<id>`.
pub fn trip_path(trip_id: TripId) -> String {
    format!("/trips/{trip_id}")
}

/// `POST /trips`.
pub(super) async fn start_trip(
    State(api): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_json_content_type(&headers)?;
    let key = idempotency_key(&headers)?;
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(MAX_BODY_BYTES)
        } else {
            ApiError::invalid_json(Violation {
                pointer: String::new(),
                message: rejection.body_text(),
            })
        }
    })?;
    let decoded = api
        .decoder
        .decode(&bytes, TripId::new)
        .map_err(|r| match r {
            Rejection::MalformedJson(violation) => ApiError::invalid_json(violation),
            Rejection::Invalid(violations) => ApiError::invalid_request(violations),
        })?;
    let recorded = recorded_trip(&api, &decoded).await?;
    match api
        .executions
        .claim(key.as_deref(), &decoded, recorded.as_ref())
    {
        Claim::Start(execution) => {
            start(&api, execution);
            Ok(accepted(decoded.request.trip_id, false))
        }
        Claim::Replay(trip_id) => Ok(accepted(trip_id, true)),
        Claim::KeyConflict(trip_id) => Err(ApiError::idempotency_conflict(trip_id)),
        Claim::TripConflict => Err(ApiError::trip_conflict(decoded.request.trip_id)),
    }
}

/// API Gateway's JSON models apply to `application/json` only; so does this API.
fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let found = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let is_json = found.is_some_and(|value| {
        let essence = value.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
    });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(found))
    }
}

/// The `Idempotency-Key`, if sent: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::invalid_idempotency_key("must be visible ASCII"))?;
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::invalid_idempotency_key(
            "must be 1 to 255 characters long",
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_idempotency_key(
            "must be visible ASCII, without spaces",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// The trip stored under a client-chosen id this server has no execution for: one booked before
/// a restart, on a store that outlives the process.
async fn recorded_trip(
    api: &ApiState,
    decoded: &Decoded,
) -> Result<Option<trip::domain::Trip>, ApiError> {
    let trip_id = decoded.request.trip_id;
    if !decoded.client_trip_id || api.executions.knows(trip_id) {
        return Ok(None);
    }
    api.saga
        .context()
        .trips
        .get(trip_id)
        .await
        .map_err(|e| ApiError::store_unavailable(&e))
}

/// Runs the saga for `execution` in the background; the answer does not wait for it.
fn start(api: &Arc<ApiState>, execution: Arc<TripExecution>) {
    let input = serde_json::to_value(&execution.request).expect("a TripRequest serialises to JSON");
    // The jitter of retry back-offs, different per trip and the same on every replay of it.
    let seed = execution.request.trip_id.as_uuid().as_u64_pair().1;
    let observer: Arc<dyn Observer> = execution.clone();
    let runner = api.clone();
    let run = tokio::spawn(async move {
        runner
            .saga
            .run(input, FaultPlan::none(), observer, seed)
            .await
    });
    tokio::spawn(async move {
        match run.await {
            Ok(Ok(report)) => execution.finish(&report),
            Ok(Err(error)) => {
                execution.abandon(format!("the trip could not be read back: {error}"));
            }
            Err(error) => execution.abandon(format!("the execution did not finish: {error}")),
        }
    });
}

fn accepted(trip_id: TripId, replayed: bool) -> Response {
    let body = TripAccepted {
        trip_id,
        execution_name: execution_name(trip_id),
        links: Links {
            trip: trip_path(trip_id),
        },
    };
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&trip_path(trip_id)) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

/// `GET /trips/{id}`.
pub(super) async fn get_trip(
    State(api): State<Arc<ApiState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<TripView>, ApiError> {
    let Path(id) = id.map_err(|rejection| ApiError::invalid_trip_id(rejection.body_text()))?;
    let trip_id = TripId::parse(&id).map_err(ApiError::invalid_trip_id)?;
    let execution = api.executions.get(trip_id);
    // The execution before the store: a view that says the execution has ended is then never
    // shown beside a trip read before it ended.
    let view = execution.as_ref().and_then(|e| e.view());
    let context = api.saga.context();
    let store_error = |e| ApiError::store_unavailable(&e);
    let trip = context.trips.get(trip_id).await.map_err(store_error)?;
    if trip.is_none() && execution.is_none() {
        return Err(ApiError::trip_not_found(trip_id));
    }
    let (flight, hotel, payment) = tokio::try_join!(
        context.flights.reservation(trip_id),
        context.hotels.reservation(trip_id),
        context.payments.payment(trip_id),
    )
    .map_err(store_error)?;
    let running = view
        .as_ref()
        .is_some_and(|v| v.status == ExecutionStatus::Running);
    let status = match &trip {
        Some(trip) => Some(trip.status.into()),
        // The execution has not recorded the trip yet.
        None if running => Some(TripState::Pending),
        None => None,
    };
    let (reason, request) = match trip {
        Some(trip) => (trip.reason, trip.request),
        None => (None, None),
    };
    Ok(Json(TripView {
        trip_id,
        status,
        reason,
        request: request.or_else(|| execution.map(|e| e.request.clone())),
        bookings: Bookings {
            flight: flight.map(Into::into),
            hotel: hotel.map(Into::into),
            payment: payment.map(Into::into),
        },
        execution: view,
        links: Links {
            trip: trip_path(trip_id),
        },
    }))
}

/// `GET /health`: 200 when the store answers, 503 when it does not.
pub(super) async fn health(State(api): State<Arc<ApiState>>) -> Response {
    // Reading a trip that does not exist is the cheapest question every store must answer.
    let probe = api.saga.context().trips.get(TripId::new()).await;
    let (code, status, message) = match probe {
        Ok(_) => (StatusCode::OK, HealthStatus::Ok, None),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            HealthStatus::Unavailable,
            Some(error.to_string()),
        ),
    };
    let body = Health {
        status,
        store: api.store.clone(),
        message,
        executions: api.executions.counts(),
    };
    (code, Json(body)).into_response()
}

/// `GET /openapi.json`: the contract, as `generated/trip_api.openapi.json` holds it.
pub(super) async fn openapi(State(api): State<Arc<ApiState>>) -> Json<Value> {
    Json(api.openapi.clone())
}

/// Any other path.
pub(super) async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(uri.path())
}

/// A known path with another method.
pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
