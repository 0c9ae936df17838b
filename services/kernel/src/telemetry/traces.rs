//! Spans to an OTLP/HTTP endpoint, sent at the end of each invocation.
//!
//! Lambda freezes the process once the function has answered, so spans must be sent before
//! that. The SDK's processors do not fit: the batch processor sends from a thread of its own on a
//! timer (frozen with everything else), and the simple one sends each span as it ends, blocking
//! the thread that ends it. [`InvocationProcessor`] only keeps the spans that end; the step
//! adapter awaits [`Traces::flush`] at the end of each invocation, which sends them in one
//! request, on the invocation's own runtime, bounded by a timeout.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, RetryPolicy, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanProcessor};

use super::Config;

/// Most spans kept between two flushes. A process that never flushes (a function whose handler
/// forgets to) must not grow without bound: past this, spans are dropped.
pub const MAX_BUFFERED_SPANS: usize = 4096;

/// The span pipeline of a process: the SDK's provider, whose only processor is the buffer, and
/// the exporter that empties it.
pub(crate) struct Traces {
    provider: SdkTracerProvider,
    buffer: Arc<Buffer>,
}

struct Buffer {
    finished: Mutex<Vec<SpanData>>,
    dropped: Mutex<usize>,
    // `export` must never run twice at once on one exporter (the SDK's contract); invocations
    // run side by side in a local run.
    exporter: tokio::sync::Mutex<SpanExporter>,
    timeout: Duration,
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Keeps every ended span for the next [`Traces::flush`].
#[derive(Debug)]
struct InvocationProcessor(Arc<Buffer>);

impl SpanProcessor for InvocationProcessor {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        let mut finished = self
            .0
            .finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if finished.len() < MAX_BUFFERED_SPANS {
            finished.push(span);
        } else {
            *self
                .0
                .dropped
                .lock()
                .unwrap_or_else(PoisonError::into_inner) += 1;
        }
    }

    // Sending is asynchronous and belongs to the invocation (`Traces::flush`); the SDK's
    // synchronous hooks have nothing to do, and must not block a runtime thread.
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

impl Traces {
    /// The pipeline to `config`'s endpoint: an HTTP client and a provider, no connection yet (the
    /// first flush connects).
    ///
    /// # Errors
    /// When the endpoint is not a URL the exporter accepts.
    pub(crate) fn new(config: &Config, endpoint: &str) -> Result<Self, String> {
        let mut exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(traces_url(endpoint))
            .with_protocol(Protocol::HttpBinary)
            .with_timeout(config.export_timeout)
            // One attempt: a collector on the sandbox's loopback that refuses or fails once is
            // not going to answer within the invocation either, and each retry would hold the
            // function until the timeout (measured: ~240 ms a start with retries, refused at
            // once without). The next invocation tries again with its own spans.
            .with_retry_policy(RetryPolicy::disabled())
            .build()
            .map_err(|e| format!("the OTLP exporter for {endpoint}: {e}"))?;
        let resource = Resource::builder_empty()
            .with_service_name(config.service_name.clone())
            .with_attributes(
                config
                    .resource
                    .iter()
                    .map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
            )
            .build();
        opentelemetry_sdk::trace::SpanExporter::set_resource(&mut exporter, &resource);
        let buffer = Arc::new(Buffer {
            finished: Mutex::new(Vec::new()),
            dropped: Mutex::new(0),
            exporter: tokio::sync::Mutex::new(exporter),
            timeout: config.export_timeout,
        });
        let provider = SdkTracerProvider::builder()
            .with_span_processor(InvocationProcessor(Arc::clone(&buffer)))
            .with_resource(resource)
            .build();
        Ok(Self { provider, buffer })
    }

    /// The tracer the `tracing` layer records spans with.
    pub(crate) fn tracer(&self) -> SdkTracer {
        self.provider.tracer("kernel::telemetry")
    }

    /// Sends every span ended so far, in one request, waiting at most the configured timeout.
    ///
    /// # Errors
    /// The export's failure, or the timeout; the spans are dropped either way, not kept for the
    /// next invocation (which would delay it as well).
    pub(crate) async fn flush(&self) -> Result<usize, String> {
        let batch = std::mem::take(
            &mut *self
                .buffer
                .finished
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let dropped = std::mem::take(
            &mut *self
                .buffer
                .dropped
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if batch.is_empty() {
            return Ok(0);
        }
        let count = batch.len();
        let send = async {
            let exporter = self.buffer.exporter.lock().await;
            opentelemetry_sdk::trace::SpanExporter::export(&*exporter, batch).await
        };
        match tokio::time::timeout(self.buffer.timeout, send).await {
            Ok(Ok(())) if dropped == 0 => Ok(count),
            Ok(Ok(())) => Err(format!(
                "{dropped} span(s) dropped: more than {MAX_BUFFERED_SPANS} ended between two flushes"
            )),
            Ok(Err(e)) => Err(format!("{count} span(s) not exported: {e}")),
            Err(_) => Err(format!(
                "{count} span(s) not exported: no answer within {} ms",
                self.buffer.timeout.as_millis()
            )),
        }
    }
}

/// `<endpoint>/v1/traces`, as OpenTelemetry builds a signal's URL from the base endpoint.
fn traces_url(endpoint: &str) -> String {
    format!("{}/v1/traces", endpoint.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_appended_once() {
        assert_eq!(
            traces_url("http://localhost:4318"),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://localhost:4318/"),
            "http://localhost:4318/v1/traces"
        );
    }

    /// A collector that accepts the connection and never answers holds a flush for the timeout
    /// and no longer; the spans are reported lost.
    #[tokio::test]
    async fn a_silent_collector_costs_the_timeout_and_no_more() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let _held = tokio::spawn(async move {
            let mut open = Vec::new();
            loop {
                if let Ok((socket, _)) = listener.accept().await {
                    open.push(socket);
                }
            }
        });
        let config = Config {
            export_timeout: Duration::from_millis(100),
            ..Config::none()
        };
        let traces = Traces::new(&config, &endpoint).unwrap();
        opentelemetry::trace::Tracer::in_span(&traces.tracer(), "step", |_| {});
        let started = std::time::Instant::now();
        let error = traces.flush().await.unwrap_err();
        let took = started.elapsed();
        assert!(error.contains("1 span(s) not exported"), "{error}");
        assert!(took >= Duration::from_millis(100), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        assert_eq!(traces.flush().await, Ok(0), "the lost spans are not kept");
    }

    /// A collector that is down (the port refuses) costs a refused connection, not the timeout.
    #[tokio::test]
    async fn a_refused_connection_fails_at_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = Config {
            export_timeout: Duration::from_secs(10),
            ..Config::none()
        };
        let traces = Traces::new(&config, &format!("http://127.0.0.1:{port}")).unwrap();
        opentelemetry::trace::Tracer::in_span(&traces.tracer(), "step", |_| {});
        let started = std::time::Instant::now();
        let error = traces.flush().await.unwrap_err();
        assert!(error.contains("1 span(s) not exported"), "{error}");
        // With the exporter's default policy, three retries 100, 200 and 400 ms apart.
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "no retries until the timeout: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn nothing_ended_sends_nothing() {
        // Nothing listens on this port: a flush with no span must not even connect.
        let traces = Traces::new(&Config::none(), "http://127.0.0.1:9").unwrap();
        assert_eq!(traces.flush().await, Ok(0));
    }
}
