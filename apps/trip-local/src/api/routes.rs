//! The handlers: thin, from HTTP to the saga, the registry and the store, and back.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::TripId;
use serde_json::Value;
use trip::domain::TripRequest;
use trip_saga::TripContext;

use super::ApiState;
use super::body::{
    Bookings, ExecutionStatus, ExecutionView, Health, HealthStatus, Links, TripAccepted, TripState,
    TripView, Violation,
};
use super::error::ApiError;
use super::executions::{Claim, TripExecution, execution_name};
use super::schema::{Decoded, Rejection};
use crate::functions::Observer;
use crate::journal::{ExecutionRecord, Started};
use asl_executor::Resume;

/// The header that names the trip (its id), so that a retried `POST /trips` starts no second
/// execution.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

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
    let trip_id = key.unwrap_or_else(TripId::new);
    let decoded = api.decoder.decode(&bytes, trip_id).map_err(|r| match r {
        Rejection::MalformedJson(violation) => ApiError::invalid_json(violation),
        Rejection::Invalid(violations) => ApiError::invalid_request(violations),
    })?;
    // A trip named by the client may have been booked before this server started.
    let recorded = key.is_some() && !api.executions.knows(trip_id) && {
        let trips = &api.saga.context().trips;
        let found = trips.get(trip_id).await;
        found
            .map_err(|e| ApiError::store_unavailable(&e))?
            .is_some()
    };
    // A replay whose first request's start was withdrawn (its log write failed) claims again,
    // and answers for itself; a few rounds, in case other requests keep failing meanwhile.
    for _ in 0..CLAIM_ROUNDS {
        match api.executions.claim(&decoded, recorded) {
            Claim::Start(execution) => return start_claimed(&api, execution, &decoded).await,
            Claim::Replay(execution) => {
                if execution.wait_recorded().await {
                    return Ok(accepted(trip_id));
                }
            }
            Claim::Exists(trip_id) => return Err(ApiError::trip_exists(trip_id)),
        }
    }
    Err(ApiError::start_unavailable())
}

/// How many times a request claims its trip before answering 503: each round after the first
/// means another request's start was withdrawn meanwhile.
const CLAIM_ROUNDS: usize = 3;

/// Records the start of `execution`, which this request claimed, then runs it.
async fn start_claimed(
    api: &Arc<ApiState>,
    execution: Arc<TripExecution>,
    decoded: &Decoded,
) -> Result<Response, ApiError> {
    let trip_id = execution.request.trip_id;
    // Recorded before the 202, where it outlives this process: the answer is a promise that a
    // restart keeps, and another server on the store sees the name taken.
    let record = ExecutionRecord::running(
        &execution.name(),
        &execution.input,
        api.saga.first_state(),
        api.saga.start_ms(),
    );
    match api.log.start(&record).await {
        Ok(Started::Now) => {
            execution.mark_recorded(true);
            start(api, execution, None);
            Ok(accepted(trip_id))
        }
        Ok(Started::Already(existing)) => {
            api.executions.withdraw(&execution);
            if existing.is_running() && existing.input == decoded.input {
                Ok(accepted(trip_id))
            } else {
                Err(ApiError::trip_exists(trip_id))
            }
        }
        Err(error) => {
            api.executions.withdraw(&execution);
            Err(ApiError::store_unavailable(&error))
        }
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

/// Why an `Idempotency-Key` is refused.
pub(crate) const INVALID_KEY_REASON: &str = "must be the trip's id: a UUID in lower-case \
     canonical form, such as 0192f0c4-9c7e-7d3a-8f51-2f4b1c9e3a10 (a new one for each new trip)";

/// The `Idempotency-Key`, if sent: the trip's id, a UUID in canonical lower-case form.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<TripId>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    TripId::parse(key)
        .map(Some)
        .map_err(|_| ApiError::invalid_idempotency_key(INVALID_KEY_REASON))
}

/// Runs the saga for `execution` in the background (from `from`, when an earlier process left
/// it there); the answer does not wait for it. Its end is recorded in the execution log, after
/// which the registry forgets it.
pub(super) fn start(api: &Arc<ApiState>, execution: Arc<TripExecution>, from: Option<Resume>) {
    let input: Value =
        serde_json::from_str(&execution.input).expect("the input was decoded from this text");
    // The jitter of retry back-offs, different per trip and the same on every replay of it.
    let seed = execution.request.trip_id.as_uuid().as_u64_pair().1;
    let observer: Arc<dyn Observer> = execution.clone();
    let execution_earlier = execution.earlier.clone();
    let runner = api.clone();
    let run = tokio::spawn(async move {
        runner
            .saga
            .run_durably(
                input,
                runner.faults.clone(),
                observer,
                seed,
                &runner.log,
                from.as_ref().map(|from| (from, &execution_earlier)),
            )
            .await
    });
    let api = api.clone();
    tokio::spawn(async move {
        match run.await {
            Ok(Ok(report)) => execution.finish(&report),
            Ok(Err(error)) => {
                execution.abandon(format!("the trip could not be read back: {error}"));
            }
            Err(error) => execution.abandon(format!("the execution did not finish: {error}")),
        }
        record_end(&api, &execution).await;
    });
}

/// How many times the end of an execution is written before it is left to a restart (which
/// runs it again from its last checkpoint: idempotent, so the same end).
const END_ATTEMPTS: u32 = 8;

async fn record_end(api: &ApiState, execution: &Arc<TripExecution>) {
    let view = execution.view();
    let status = serde_json::to_value(view.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let view = serde_json::to_string(&view).expect("an execution view serializes");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut pause = std::time::Duration::from_millis(50);
    for attempt in 1..=END_ATTEMPTS {
        match api
            .log
            .finish(&execution.name(), &status, &view, now_ms)
            .await
        {
            Ok(()) => {
                api.executions.retire(execution);
                return;
            }
            Err(error) if attempt == END_ATTEMPTS => {
                tracing::warn!(
                    execution = execution.name(),
                    %error,
                    "the end of the execution is not recorded; kept in memory, and run again from its last checkpoint after a restart"
                );
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
        }
    }
}

/// `202`: the same answer to the request that started the execution and to its retries, as
/// API Gateway gives it (it cannot tell them apart: Step Functions answers both alike).
fn accepted(trip_id: TripId) -> Response {
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
    response
}

/// `GET /trips?…`: the search ([`super::search::search_trips`]).
pub(super) async fn search_trips(
    State(api): State<Arc<ApiState>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<::search::application::Page>, ApiError> {
    let page = super::search::search_trips(
        &api.search,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .await?;
    Ok(Json(page))
}

/// `GET /trips/{id}`.
pub(super) async fn get_trip(
    State(api): State<Arc<ApiState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<TripView>, ApiError> {
    let Path(id) = id.map_err(|rejection| ApiError::invalid_trip_id(rejection.body_text()))?;
    let trip_id = TripId::parse(&id).map_err(ApiError::invalid_trip_id)?;
    // The execution before the store: a view that says the execution has ended is then never
    // shown beside a trip read before it ended.
    let known = match api.executions.get(trip_id) {
        Some(execution) => Some((execution.view(), execution.request.clone())),
        None => recorded_execution(&api, trip_id).await?,
    };
    trip_view(api.saga.context(), trip_id, known)
        .await
        .map(Json)
}

/// The execution of `trip_id` as its record in the execution log has it: how it ended, or, when
/// it runs in another process, the state it last entered.
async fn recorded_execution(
    api: &ApiState,
    trip_id: TripId,
) -> Result<Option<(ExecutionView, TripRequest)>, ApiError> {
    let name = execution_name(trip_id);
    let Some(record) = api
        .log
        .get(&name)
        .await
        .map_err(|e| ApiError::store_unavailable(&e))?
    else {
        return Ok(None);
    };
    let view = match &record.view {
        Some(view) => serde_json::from_str(view).ok(),
        None => Some(ExecutionView {
            name,
            status: ExecutionStatus::Running,
            error: None,
            cause: None,
            states_visited: vec![record.state.clone()],
            invocations: Vec::new(),
            retries: 0,
        }),
    };
    let request = serde_json::from_str(&record.input).ok();
    // A record this version cannot read is shown as no execution, not as an error: the trip
    // itself is in the store.
    Ok(view.zip(request))
}

/// `GET /trips/{id}`'s answer: the trip as stored, its bookings, and `execution`, the execution
/// as this process ran it (with the request it ran on), when it did. `404` when neither the
/// store nor `execution` knows the trip. The Lambda behind API Gateway's route answers with it
/// too, without an execution (its history is Step Functions').
///
/// # Errors
/// `trip_not_found`, or `store_unavailable`.
pub async fn trip_view(
    context: &TripContext,
    trip_id: TripId,
    execution: Option<(ExecutionView, TripRequest)>,
) -> Result<TripView, ApiError> {
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
    let (view, executed) = execution.unzip();
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
    Ok(TripView {
        trip_id,
        status,
        reason,
        request: request.or(executed),
        bookings: Bookings {
            flight: flight.map(Into::into),
            hotel: hotel.map(Into::into),
            payment: payment.map(Into::into),
        },
        execution: view,
        links: Links {
            trip: trip_path(trip_id),
        },
    })
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
