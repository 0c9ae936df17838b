//! A Lambda Runtime API on this machine, for running a function's real binary as Lambda runs it:
//! it hands out queued events on `GET …/invocation/next` and records, with the instant each
//! arrived, the function's answers and its init error. Tests use it to see what Lambda would
//! see; the cold-start bench to time a start (exec → first `next` is Lambda's init duration).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use saga_runtime::testing::RuntimeApi;
//!
//! let api = RuntimeApi::start([serde_json::json!({ "hello": "world" })]).await?;
//! let child = std::process::Command::new("target/debug/create-trip")
//!     .env("AWS_LAMBDA_RUNTIME_API", api.address())
//!     .spawn()?;
//! let log = api
//!     .wait_until(|log| !log.answers.is_empty(), std::time::Duration::from_secs(5))
//!     .await;
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the function did, as the Runtime API saw it.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// When the function first asked for an event: the end of its init.
    pub first_next: Option<Instant>,
    /// Its answers, in order.
    pub answers: Vec<Answer>,
    /// Its init error, if it reported one.
    pub init_error: Option<InitError>,
}

/// An invocation's answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// When it arrived.
    pub at: Instant,
    /// The invocation it answers.
    pub request_id: String,
    /// `true` for `…/error`, `false` for `…/response`.
    pub is_error: bool,
    /// The body (JSON, or a string when it is not JSON).
    pub body: Value,
}

/// What the function posted to `…/init/error`.
#[derive(Clone, Debug)]
pub struct InitError {
    /// When it arrived.
    pub at: Instant,
    /// The `Lambda-Runtime-Function-Error-Type` header.
    pub error_type: Option<String>,
    /// The diagnostic (`errorType`, `errorMessage`).
    pub body: Value,
}

struct Shared {
    events: Mutex<VecDeque<Value>>,
    next_id: Mutex<u64>,
    log: Mutex<Log>,
    changed: watch::Sender<u64>,
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, change: impl FnOnce(&mut Log)) {
        change(&mut self.log());
        self.changed.send_modify(|n| *n += 1);
    }
}

/// The Runtime API, served on a free loopback port until dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

const PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    /// Serves `events`, one per `next`; once they are handed out, `next` waits for ever, as a
    /// frozen Lambda environment does.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(events: impl IntoIterator<Item = Value>) -> std::io::Result<Self> {
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            events: Mutex::new(events.into_iter().collect()),
            next_id: Mutex::new(0),
            log: Mutex::new(Log::default()),
            changed,
        });
        let router = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            address,
            shared,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// What happened so far.
    pub fn log(&self) -> Log {
        self.shared.log().clone()
    }

    /// Waits until `done` holds of the log, for at most `timeout`; answers the log then, or
    /// `None` on timeout.
    pub async fn wait_until(&self, done: impl Fn(&Log) -> bool, timeout: Duration) -> Option<Log> {
        let mut changed = self.shared.changed.subscribe();
        let wait = async {
            loop {
                {
                    let log = self.shared.log();
                    if done(&log) {
                        return log.clone();
                    }
                }
                if changed.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok()
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let now = Instant::now();
    shared.record(|log| {
        log.first_next.get_or_insert(now);
    });
    let event = shared
        .events
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front();
    let Some(event) = event else {
        return std::future::pending().await;
    };
    let id = {
        let mut next_id = shared
            .next_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *next_id += 1;
        format!("local-{next_id}")
    };
    let deadline = SystemTime::now()
        .checked_add(Duration::from_secs(30))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    (
        [
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:000000000000:function:local".to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ],
        event.to_string(),
    )
        .into_response()
}

fn json_or_text(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&shared, request_id, &body, false)
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&shared, request_id, &body, true)
}

fn answer(shared: &Shared, request_id: String, body: &Bytes, is_error: bool) -> StatusCode {
    let at = Instant::now();
    shared.record(|log| {
        log.answers.push(Answer {
            at,
            request_id,
            is_error,
            body: json_or_text(body),
        });
    });
    StatusCode::ACCEPTED
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    let error_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(ToOwned::to_owned);
    shared.record(|log| {
        log.init_error = Some(InitError {
            at,
            error_type,
            body: json_or_text(&body),
        });
    });
    StatusCode::ACCEPTED
}
