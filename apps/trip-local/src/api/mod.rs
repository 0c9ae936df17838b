//! The trip booking API on this machine: the contract API Gateway offers, served by axum, with
//! the saga run on the local interpreter behind it.
//!
//! | route | answers |
//! |---|---|
//! | `POST /trips` | `202` [`TripAccepted`](body::TripAccepted) and `Location`; `400` with every violation; `409` when the trip (its `Idempotency-Key`) exists: finished, or started with another body; `413`; `415` |
//! | `GET /trips?status=…&departure_from=…&departure_to=…&limit=…&page_token=…` | `200` a [`Page`](::search::application::Page) of the trips of that status departing in that range, by date; `400 invalid_query` naming the parameter |
//! | `GET /trips/{id}` | `200` [`TripView`](body::TripView): status, each booking, the path the saga took; `400` for a malformed id; `404` |
//! | `GET /health` | `200`, or `503` when the store does not answer: [`Health`](body::Health) |
//! | `GET /openapi.json` | the contract ([`openapi::openapi`]) |
//!
//! Every error is an [`ErrorBody`](body::ErrorBody), those the HTTP server gives a request it
//! cannot read too (`400`, `414`, `431`, answered by the connection layer). A request body is validated against the
//! saga input's JSON schema ([`schema`]) before it is decoded; the execution then runs in the
//! background and `GET` shows it as it goes. The `Idempotency-Key` is the trip's id; a retry
//! with the same key and body while its execution runs answers as the first request did and
//! starts nothing, concurrent retries included, and once it has ended gets `409` (Step
//! Functions' rule for an execution name, which API Gateway's answers follow too).
//!
//! ```
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use trip_local::api::Api;
//! use trip_local::execution::Saga;
//! use trip_local::store::Store;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let (context, search) = trip_local::store::connect_with_search(&Store::InMemory).await?;
//! let api = Api::new(Saga::new(context), search.unwrap().service().clone(), &Store::InMemory);
//! let response = api
//!     .router()
//!     .oneshot(Request::get("/health").body(Body::empty())?)
//!     .await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod body;
mod connection;
pub mod draft4;
pub mod error;
mod executions;
pub mod gateway;
pub mod lambda;
pub mod openapi;
mod routes;
pub mod schema;
pub mod search;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use kernel::TripId;
use serde_json::{Value, json};

pub use routes::{IDEMPOTENCY_KEY, MAX_BODY_BYTES, trip_path, trip_view};

use crate::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use crate::execution::Saga;
use crate::faults::FaultPlan;
use crate::journal::ExecutionLog;
use crate::store::{HOTEL, ONE_SEAT_FLIGHT, ROOMY_FLIGHT, Store};
use executions::Executions;
use schema::RequestDecoder;

/// The API over one saga and its store: cheap to clone, one registry of executions.
#[derive(Clone)]
pub struct Api {
    state: Arc<ApiState>,
}

/// What the handlers share.
struct ApiState {
    saga: Saga,
    search: ::search::application::SearchService,
    /// Injected into every execution (`trip-local serve --fault`); none by default.
    faults: FaultPlan,
    store: String,
    decoder: RequestDecoder,
    executions: Executions,
    /// Where each accepted execution is recorded, so that a restart finishes it.
    log: ExecutionLog,
    openapi: Value,
}

impl Api {
    /// The API over `saga`, whose services use `store` (named in `/health`), and `search`, the
    /// search table that the store's stream keeps in step.
    ///
    /// Executions are started on the tokio runtime the requests are served on.
    pub fn new(saga: Saga, search: ::search::application::SearchService, store: &Store) -> Self {
        Self {
            state: Arc::new(ApiState {
                saga,
                search,
                faults: FaultPlan::none(),
                store: store.to_string(),
                decoder: RequestDecoder::new(),
                executions: Executions::default(),
                log: ExecutionLog::in_memory(),
                openapi: openapi::openapi(),
            }),
        }
    }

    /// Injects `faults` into every execution the API starts: to watch a slow or failing step
    /// through `GET /trips/{id}`, or to retry a request while its execution runs.
    ///
    /// # Panics
    /// When called after the API was cloned (its routes share its state).
    #[must_use]
    pub fn with_faults(mut self, faults: FaultPlan) -> Self {
        Arc::get_mut(&mut self.state)
            .expect("faults are set before the API is shared")
            .faults = faults;
        self
    }

    /// Records executions in `log` ([`crate::store::execution_log`]) instead of this process's
    /// memory: on the store's endpoint, so that a restart resumes what was accepted
    /// ([`resume_unfinished`](Self::resume_unfinished)).
    ///
    /// # Panics
    /// When called after the API was cloned (its routes share its state).
    #[must_use]
    pub fn with_log(mut self, log: ExecutionLog) -> Self {
        Arc::get_mut(&mut self.state)
            .expect("the log is set before the API is shared")
            .log = log;
        self
    }

    /// Takes up every execution the log says is unfinished (its process stopped before the
    /// end): each enters again the state it last entered, in the background, as a running
    /// execution of this API. Call it before serving; gives the trips resumed.
    ///
    /// # Errors
    /// When the log cannot be read. A record whose input does not read as a trip request is
    /// ended as failed, with the reason, rather than stop the others.
    pub async fn resume_unfinished(&self) -> Result<Vec<TripId>, kernel::InfraError> {
        let mut resumed = Vec::new();
        for record in self.state.log.unfinished().await? {
            let request = serde_json::from_str::<trip::domain::TripRequest>(&record.input);
            let state_input = serde_json::from_str::<Value>(&record.state_input);
            let (request, state_input) = match (request, state_input) {
                (Ok(request), Ok(state_input)) => (request, state_input),
                (Err(e), _) | (_, Err(e)) => {
                    let cause = format!("its record cannot be resumed: {e}");
                    tracing::warn!(execution = record.name, %cause, "not resumed");
                    let view = body::ExecutionView {
                        name: record.name.clone(),
                        status: body::ExecutionStatus::Failed,
                        error: Some(executions::RUNNER_FAILED.to_owned()),
                        cause: Some(cause),
                        states_visited: vec![record.state.clone()],
                        invocations: Vec::new(),
                        retries: 0,
                    };
                    let view = serde_json::to_string(&view).expect("a view serializes");
                    self.state
                        .log
                        .finish(&record.name, "FAILED", &view, record.started_ms)
                        .await?;
                    continue;
                }
            };
            let trip_id = request.trip_id;
            // Only the view reads it: a record without it (or not readable) resumes the same,
            // its view starting at the resumed state.
            let earlier = record
                .earlier
                .as_deref()
                .and_then(|earlier| serde_json::from_str(earlier).ok())
                .unwrap_or_default();
            let Some(execution) =
                self.state
                    .executions
                    .resumed(request, record.input.clone(), earlier)
            else {
                continue;
            };
            let from = asl_executor::Resume {
                state: record.state,
                input: state_input,
                started_ms: record.started_ms,
                entered_ms: record.entered_ms,
            };
            routes::start(&self.state, execution, Some(from));
            resumed.push(trip_id);
        }
        Ok(resumed)
    }

    /// How many executions run now.
    pub fn running(&self) -> u32 {
        self.state.executions.counts().running
    }

    /// How many executions this process holds in memory: those running, and those ended whose
    /// end is not yet recorded in the log.
    pub fn held_in_memory(&self) -> usize {
        self.state.executions.len()
    }

    /// Waits until no execution runs, or `patience` has passed; gives how many still run. What
    /// still runs is resumed by the next start on the same store.
    pub async fn drain(&self, patience: std::time::Duration) -> u32 {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let running = self.running();
            if running == 0 || tokio::time::Instant::now() >= deadline {
                return running;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The routes, ready for `axum::serve` or, in tests, `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/trips", post(routes::start_trip).get(routes::search_trips))
            .route("/trips/{id}", get(routes::get_trip))
            .route("/health", get(routes::health))
            .route("/openapi.json", get(routes::openapi))
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.state.clone())
    }
}

/// Serves `api` on `listener` until `shutdown` completes and the open requests are answered.
/// Executions still running go on in the background: [`Api::drain`] waits for them, and what
/// a stop cuts short is resumed from the log by the next start.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: &Api,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(connection::Listener(listener), api.router())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Lines to paste into a shell against the API at `base` (e.g. `http://127.0.0.1:3000`), on
/// the demo catalogue: a booking whose `Idempotency-Key` (its trip id) is `trip_id`, so that the
/// `GET` line after it can name it; a sold-out flight; a declined card; an invalid request;
/// health and the OpenAPI document.
pub fn curl_lines(base: &str, trip_id: TripId) -> Vec<String> {
    let body = |flight: &str, card: &str| {
        let mut body = trip_request(TripId::new(), flight, HOTEL, card);
        if let Some(fields) = body.as_object_mut() {
            fields.shift_remove("trip_id");
        }
        body.to_string()
    };
    let post = |headers: &str, body: &str| {
        format!(
            "curl -i -X POST {base}/trips -H 'Content-Type: application/json'{headers} -d '{body}'"
        )
    };
    let invalid = json!({
        "flight": { "flight_number": "nh106", "date": "2026-02-30", "passengers": 0 },
        "hotel": { "hotel": HOTEL, "guests": 2, "pets": 1 },
        "payment": { "card": "4242424242424242" }
    });
    vec![
        format!(
            "# a trip that books: {ROOMY_FLIGHT}, {HOTEL}, {GOOD_CARD}; the Idempotency-Key is its id (yours to choose, or leave out); sent again once booked: 409"
        ),
        post(
            &format!(" -H 'Idempotency-Key: {trip_id}'"),
            &body(ROOMY_FLIGHT, GOOD_CARD),
        ),
        "# its status, bookings and the path its saga took".to_owned(),
        format!("curl -s {base}{}", trip_path(trip_id)),
        format!("# {ONE_SEAT_FLIGHT} has one seat: sold out for two, the saga compensates"),
        post("", &body(ONE_SEAT_FLIGHT, GOOD_CARD)),
        "# a declined card: the flight and the hotel are given back, the trip is cancelled"
            .to_owned(),
        post("", &body(ROOMY_FLIGHT, DECLINED_CARD)),
        "# an invalid request: 400 with every violation and where it is".to_owned(),
        post("", &invalid.to_string()),
        "# health, and the contract".to_owned(),
        format!("curl -s {base}/health"),
        format!("curl -s {base}/openapi.json"),
    ]
}
