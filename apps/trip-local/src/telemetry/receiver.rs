//! An OTLP/HTTP trace receiver in the process: what the Datadog extension (or any collector) is
//! to the functions, enough to see and test what they export.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use tokio::sync::Notify;

/// The content type OTLP/HTTP protobuf is posted with.
pub const PROTOBUF: &str = "application/x-protobuf";

/// One span as received, its ids in hexadecimal (as OpenTelemetry writes them).
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedSpan {
    /// 32 hexadecimal digits.
    pub trace_id: String,
    /// 16 hexadecimal digits.
    pub span_id: String,
    /// The parent's span id; `None` for a root.
    pub parent_span_id: Option<String>,
    /// The span's name: a step's is its state's.
    pub name: String,
    /// The resource's `service.name`.
    pub service: String,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// End, in nanoseconds since the Unix epoch.
    pub end_unix_nanos: u64,
    /// The span's attributes, as text.
    pub attributes: BTreeMap<String, String>,
    /// The status message of a span whose status is an error.
    pub error: Option<String>,
}

impl ReceivedSpan {
    /// An attribute's value, as text.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }

    /// How long the span took, in milliseconds.
    #[allow(clippy::cast_precision_loss)] // spans of minutes at most
    pub fn duration_ms(&self) -> f64 {
        self.end_unix_nanos.saturating_sub(self.start_unix_nanos) as f64 / 1e6
    }
}

/// Everything received so far, in order of arrival.
#[derive(Clone, Default)]
pub struct Received {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    arrived: Arc<Notify>,
}

impl Received {
    /// Every span received.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.lock().clone()
    }

    /// The spans of `trace_id`.
    pub fn trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        self.lock()
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }

    /// Waits until `done` holds for what was received, or `timeout` passes; answers whether it
    /// held.
    pub async fn wait_until(
        &self,
        done: impl Fn(&[ReceivedSpan]) -> bool,
        timeout: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.arrived.notified();
            if done(&self.lock()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return done(&self.lock());
            }
        }
    }

    /// Waits for the next export after this call, up to `timeout`.
    pub async fn next_export(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.arrived.notified())
            .await
            .is_ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ReceivedSpan>> {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, request: ExportTraceServiceRequest) {
        let mut spans = Vec::new();
        for resource_spans in request.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| {
                    r.attributes
                        .iter()
                        .find(|kv| kv.key == "service.name")
                        .map(value_of)
                })
                .unwrap_or_default();
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    let error = span
                        .status
                        .as_ref()
                        .filter(|s| s.code == ERROR_STATUS)
                        .map(|s| s.message.clone());
                    spans.push(ReceivedSpan {
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: (!span.parent_span_id.is_empty())
                            .then(|| hex(&span.parent_span_id)),
                        name: span.name,
                        service: service.clone(),
                        start_unix_nanos: span.start_time_unix_nano,
                        end_unix_nanos: span.end_time_unix_nano,
                        attributes: span
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.clone(), value_of(kv)))
                            .collect(),
                        error,
                    });
                }
            }
        }
        self.lock().extend(spans);
        self.arrived.notify_waiters();
    }
}

/// `STATUS_CODE_ERROR` of OTLP's `Status`.
const ERROR_STATUS: i32 = 2;

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

fn value_of(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v: &AnyValue| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// `POST /v1/traces` with OTLP/HTTP's protobuf body: the spans are kept, the answer is an
/// empty `ExportTraceServiceResponse` (everything accepted).
pub fn router(received: Received) -> Router {
    Router::new()
        .route("/v1/traces", post(export))
        .with_state(received)
}

async fn export(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with(PROTOBUF) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("this receiver reads OTLP/HTTP protobuf ({PROTOBUF}), not {content_type:?}"),
        )
            .into_response();
    }
    match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            received.add(request);
            (
                [(header::CONTENT_TYPE, PROTOBUF)],
                ExportTraceServiceResponse::default().encode_to_vec(),
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("not an OTLP trace export: {e}"),
        )
            .into_response(),
    }
}

/// A receiver listening on its own task.
pub struct Receiver {
    address: SocketAddr,
    received: Received,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on `address` (port 0: any free port).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(address: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let received = Received::default();
        let app = router(received.clone());
        let server = tokio::spawn(async move {
            // The receiver lives as long as its owner; a failed accept loop only ends it.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            received,
            server,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://<address>`: what `OTEL_EXPORTER_OTLP_ENDPOINT` is set to.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// What it received.
    pub fn received(&self) -> &Received {
        &self.received
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
    use tower::ServiceExt;

    use super::*;

    fn text(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            ..KeyValue::default()
        }
    }

    fn request() -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![text("service.name", "create-trip")],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![0xab; 16],
                        span_id: vec![1; 8],
                        parent_span_id: vec![2; 8],
                        name: "CreateTrip".into(),
                        start_time_unix_nano: 1_000_000,
                        end_time_unix_nano: 3_500_000,
                        attributes: vec![text("outcome", "StoreThrottled")],
                        status: Some(Status {
                            message: "StoreThrottled: slow down".into(),
                            code: ERROR_STATUS,
                        }),
                        ..Span::default()
                    }],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        }
    }

    #[tokio::test]
    async fn an_export_is_decoded_and_kept() {
        let received = Received::default();
        let response = router(received.clone())
            .oneshot(
                axum::http::Request::post("/v1/traces")
                    .header(header::CONTENT_TYPE, PROTOBUF)
                    .body(axum::body::Body::from(request().encode_to_vec()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let spans = received.spans();
        assert_eq!(spans.len(), 1);
        let span = &spans[0];
        assert_eq!(span.trace_id, "ab".repeat(16));
        assert_eq!(span.parent_span_id.as_deref(), Some("0202020202020202"));
        assert_eq!(span.service, "create-trip");
        assert_eq!(span.attribute("outcome"), Some("StoreThrottled"));
        assert_eq!(span.error.as_deref(), Some("StoreThrottled: slow down"));
        assert!((span.duration_ms() - 2.5).abs() < 1e-9);
    }

    #[tokio::test]
    async fn json_and_garbage_are_refused() {
        let received = Received::default();
        let post = |content_type: &'static str, body: &'static [u8]| {
            router(received.clone()).oneshot(
                axum::http::Request::post("/v1/traces")
                    .header(header::CONTENT_TYPE, content_type)
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
        };
        let json = post("application/json", b"{}").await.unwrap();
        assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let garbage = post(PROTOBUF, b"\xff\xff\xff").await.unwrap();
        assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
        assert!(received.spans().is_empty());
    }
}
