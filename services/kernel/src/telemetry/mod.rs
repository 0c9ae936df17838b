//! Traces and custom metrics for Datadog, which has no tracer for Rust: the `tracing` spans are
//! exported as OpenTelemetry spans over OTLP/HTTP (protobuf) to the Datadog Lambda extension's
//! OTLP receiver, and the booking's metrics go to its DogStatsD port ([`metrics`]).
//!
//! Both are configured by the environment ([`Config`]), as the infrastructure sets it:
//!
//! | variable | effect |
//! |---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://localhost:4318`) | spans are posted to `<it>/v1/traces` at the end of each invocation |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` (the default) or absent; anything else turns spans off, with a warning |
//! | `OTEL_SERVICE_NAME` | the spans' `service.name` (default: the Lambda function's name) |
//! | `DD_DOGSTATSD_URL` (e.g. `udp://127.0.0.1:8125`) | metrics are sent there |
//!
//! A variable that is absent creates nothing: no HTTP client, no span buffer, no socket, and no
//! `tracing` layer, so the cold start of a function without a collector is that of one built
//! without this module (`docs/benchmarks.md` measures it).
//!
//! Lambda freezes the process once the function has answered, so the spans of an invocation
//! are sent before it answers: the saga's step adapter awaits [`flush`] at the end of every step
//! (`saga_runtime::trace`), a function of another kind at the end of its handler. A flush makes
//! one attempt and waits at most `OTEL_EXPORTER_OTLP_TIMEOUT` milliseconds (default 250): a
//! collector that is down (the port refuses) costs a refused connection, one that hangs costs
//! the timeout; either way the invocation's spans are lost and its answer is not.
//!
//! [`crate::tracing_setup`] installs it all beside the JSON logs; by hand:
//!
//! ```
//! use kernel::telemetry::{self, Config};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! // What a Lambda function reads at start-up; with nothing set, nothing is created.
//! let config = Config::from_lookup(|_| None);
//! assert_eq!(config.otlp_endpoint, None);
//! assert!(telemetry::install::<tracing_subscriber::Registry>(&config).layer.is_none());
//!
//! // Without an installed exporter or client these are no-ops, as cheap as a load.
//! telemetry::metrics::booking_confirmed();
//! telemetry::flush().await;
//! # });
//! # Ok::<(), std::io::Error>(())
//! ```

mod config;
pub mod metrics;
mod traces;

use std::sync::OnceLock;

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

pub use config::{
    Config, DEFAULT_EXPORT_TIMEOUT, DOGSTATSD_URL_VAR, HTTP_PROTOBUF, OTLP_ENDPOINT_VAR,
    OTLP_PROTOCOL_VAR, OTLP_TIMEOUT_VAR, RESOURCE_ATTRIBUTES_VAR, SERVICE_NAME_VAR,
};
pub use metrics::Metrics;
pub use traces::MAX_BUFFERED_SPANS;

use traces::Traces;

static TRACES: OnceLock<Traces> = OnceLock::new();
static METRICS: OnceLock<Metrics> = OnceLock::new();

/// What [`install`] set up.
pub struct Installed<S> {
    /// The `tracing` layer that records spans for the exporter; `None` without an endpoint.
    pub layer: Option<Box<dyn Layer<S> + Send + Sync>>,
    /// Where spans go, when they do.
    pub traces_to: Option<String>,
    /// Where metrics go, when they do.
    pub metrics_to: Option<String>,
    /// What could not be set up, in words for a warning (the config's problems too).
    pub problems: Vec<String>,
}

/// Creates the exporters `config` names, for the whole process: the DogStatsD client, and the
/// span pipeline whose `tracing` layer it returns for the caller's subscriber. Only the first
/// call creates anything; a later one returns nothing.
pub fn install<S>(config: &Config) -> Installed<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let mut installed = Installed {
        layer: None,
        traces_to: None,
        metrics_to: None,
        problems: config.problems.clone(),
    };
    if let Some(address) = &config.dogstatsd {
        match Metrics::udp(address) {
            Ok(metrics) => {
                if METRICS.set(metrics).is_ok() {
                    installed.metrics_to = Some(format!("udp://{address}"));
                }
            }
            Err(e) => installed.problems.push(format!(
                "{DOGSTATSD_URL_VAR}: no socket for {address} ({e}): metrics are not sent"
            )),
        }
    }
    if let Some(endpoint) = &config.otlp_endpoint {
        match Traces::new(config, endpoint) {
            Ok(pipeline) => {
                let tracer = pipeline.tracer();
                if TRACES.set(pipeline).is_ok() {
                    installed.layer = Some(Box::new(
                        tracing_opentelemetry::layer()
                            .with_tracer(tracer)
                            // Attributes a trace viewer would show on every span for nothing:
                            // the steps' own fields say where they ran.
                            .with_location(false)
                            .with_threads(false)
                            .with_tracked_inactivity(false),
                    ));
                    installed.traces_to = Some(endpoint.clone());
                }
            }
            Err(e) => installed
                .problems
                .push(format!("{OTLP_ENDPOINT_VAR}: {e}: spans are not exported")),
        }
    }
    installed
}

/// Sends the spans ended so far, if an exporter is installed; a failure is logged, never
/// returned (an invocation must not fail because its telemetry did).
pub async fn flush() {
    if let Some(traces) = TRACES.get()
        && let Err(problem) = traces.flush().await
    {
        tracing::warn!(problem, "spans were not exported");
    }
}

/// Whether an exporter is installed: when not, [`flush`] has nothing to do, ever.
pub fn exports_spans() -> bool {
    TRACES.get().is_some()
}
