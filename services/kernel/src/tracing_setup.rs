//! Structured logs for Lambda: one JSON object per line, carrying the fields of every span the
//! event happened in, flattened to the top level.
//!
//! The generated entrypoints run each step inside a `saga_step` span with `saga`, `execution_id`,
//! `state_name` and `retry_count`; a service opens a span of its own with `trip_id`. Every line
//! logged inside both therefore looks like
//!
//! ```json
//! {"timestamp":"2026-05-01T00:00:00.123456Z","level":"INFO","target":"flight::reserve",
//!  "span":"reserve_seats","saga":"TripBooking","execution_id":"arn:…","state_name":"ReserveFlight",
//!  "retry_count":0,"trip_id":"0192…","message":"seats reserved","seats":2}
//! ```
//!
//! Flat rather than `tracing-subscriber`'s nested `spans` array, so CloudWatch Logs Insights and
//! Datadog can filter on `execution_id` or `trip_id` directly. An inner span's field wins over an
//! outer one of the same name, and the event's own fields win over both.
//!
//! The saga step's span also carries `trace_id` (its execution's trace, as OpenTelemetry writes
//! it), `dd.trace_id` (the same, as Datadog correlates logs) and the trip id read from the step's
//! input (`saga_runtime::trace`), computed whether or not a collector is configured: every line
//! of a booking can be found by its trip id or trace id in CloudWatch Logs Insights, and Datadog
//! links it to the trace. `otel.*` span fields (the span's name and kind for the exporter) are
//! left out of the lines.
//!
//! The level comes from `RUST_LOG`, else from Lambda's `AWS_LAMBDA_LOG_LEVEL` (set by the
//! function's logging config), else `info`. `RUST_LOG` takes comma-separated `level`, `target`
//! and `target=level` directives (and `target[{field,…}]=level`): the static directives of
//! `EnvFilter`'s syntax, read by `tracing_subscriber`'s `Targets`, which needs no regex engine. A
//! `RUST_LOG` with a span filter (`target[span{field=value}]=level`, which only `EnvFilter`
//! reads) is refused as a malformed one is: the level falls back to `AWS_LAMBDA_LOG_LEVEL`.
//!
//! [`init_tracing`] also installs the exporters the environment names ([`crate::telemetry`]):
//! spans to an OTLP endpoint through a second `tracing` layer, metrics to DogStatsD.

use std::fmt;
use std::sync::Once;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

use crate::telemetry::{self, Config};

/// Installs the JSON subscriber writing to stdout as the global default, with the exporters the
/// environment names ([`crate::telemetry::Config::from_env`]). Safe to call more than once
/// (every Lambda main and every test may call it): only the first call installs anything, and a
/// subscriber someone else installed first is left in place.
pub fn init_tracing() {
    init(&Config::from_env(), LogOutput::Stdout);
}

/// Where [`init`] writes the JSON log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogOutput {
    /// Standard output: a Lambda function's logs.
    Stdout,
    /// Standard error: a command whose standard output is its own report (`trip-local`).
    Stderr,
    /// Nowhere: only the exporters see the spans.
    Off,
}

/// What [`init`] set up; empty when an earlier call did it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Installed {
    /// Whether a subscriber was installed by this call.
    pub subscriber: bool,
    /// Where spans go, when they do.
    pub traces_to: Option<String>,
    /// Where metrics go, when they do.
    pub metrics_to: Option<String>,
    /// What was configured but could not be set up (also logged as warnings, when logs are on).
    pub problems: Vec<String>,
}

/// Installs, as the global default, a subscriber with the JSON log lines on `logs` and the
/// exporters `config` names. Only the first call does anything. With no log output and no span
/// exporter nothing is installed at all: `tracing` then costs nothing.
pub fn init(config: &Config, logs: LogOutput) -> Installed {
    static INIT: Once = Once::new();
    let mut installed = Installed::default();
    INIT.call_once(|| {
        let exporters = telemetry::install::<Registry>(config);
        installed.traces_to = exporters.traces_to;
        installed.metrics_to = exporters.metrics_to;
        installed.problems = exporters.problems;
        let writer = match logs {
            LogOutput::Stdout => Some(BoxMakeWriter::new(std::io::stdout)),
            LogOutput::Stderr => Some(BoxMakeWriter::new(std::io::stderr)),
            LogOutput::Off => None,
        };
        if writer.is_none() && exporters.layer.is_none() {
            return;
        }
        // Each layer has its own filter: the log level must not decide which spans are exported.
        let subscriber = Registry::default()
            .with(
                exporters
                    .layer
                    .map(|layer| layer.with_filter(span_filter())),
            )
            .with(writer.map(|writer| json_layer(writer).with_filter(default_filter())));
        // `Err` means another global subscriber exists already; theirs stays, as documented.
        installed.subscriber = tracing::subscriber::set_global_default(subscriber).is_ok();
        for problem in &installed.problems {
            tracing::warn!(problem, "telemetry is not fully configured");
        }
    });
    installed
}

/// The level filter `init_tracing` uses: `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`.
pub fn default_filter() -> Targets {
    // As `EnvFilter::try_from_default_env`: a set `RUST_LOG` without directives enables nothing.
    if let Some(filter) = std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| directives(&value, Targets::new()))
    {
        return filter;
    }
    level_filter(std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref())
}

/// `value`'s comma-separated directives as a filter; `empty` when there are none (empty
/// directives are skipped, as `EnvFilter` skips them: `Targets` would read one as the target
/// `""`, which every target starts with). `None` when a directive does not parse, or filters on
/// spans: `Targets` would read `target[span]` as a target name that matches nothing.
fn directives(value: &str, empty: Targets) -> Option<Targets> {
    let directives: Vec<&str> = value.split(',').filter(|d| !d.is_empty()).collect();
    if directives.is_empty() {
        return Some(empty);
    }
    let filter: Targets = directives.join(",").parse().ok()?;
    let span_filter = |target: &str| target.contains(['[', ']', '{', '}']);
    (!filter.iter().any(|(target, _)| span_filter(target))).then_some(filter)
}

/// `AWS_LAMBDA_LOG_LEVEL`'s filter. A filter without directives lets only errors through (as
/// `EnvFilter::try_new` did): an absent or blank level is `info`, as documented, not that.
/// Lambda's `FATAL`, a level `tracing` does not have, keeps errors only (read as a directive it
/// would name a target, `fatal`, and drop everything else).
fn level_filter(level: Option<&str>) -> Targets {
    let info = || Targets::new().with_default(LevelFilter::INFO);
    match level.map(str::trim) {
        Some(level) if level.eq_ignore_ascii_case("fatal") => {
            Targets::new().with_default(LevelFilter::ERROR)
        }
        Some(level) if !level.is_empty() => directives(
            &level.to_lowercase(),
            Targets::new().with_default(LevelFilter::ERROR),
        )
        .unwrap_or_else(info),
        _ => info(),
    }
}

/// The spans the exporter records: the saga's steps and the services' spans under them are at
/// `info`, whatever level the logs are kept at (a function logging only warnings still shows
/// its booking's trace).
fn span_filter() -> LevelFilter {
    LevelFilter::INFO
}

/// The subscriber `init_tracing` installs, writing to `make_writer` (tests capture with it).
pub fn json_subscriber<W>(
    make_writer: W,
    filter: Targets,
) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    Registry::default()
        .with(json_layer(make_writer))
        .with(filter)
}

/// The JSON log lines as a layer, written to `make_writer`.
fn json_layer<S, W>(make_writer: W) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(make_writer)
}

/// Formats an event as one flat JSON object.
struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut line = Map::new();
        let timestamp = super::dynamo::keys::sortable_timestamp(OffsetDateTime::now_utc());
        line.insert("timestamp".to_owned(), Value::String(timestamp));
        line.insert(
            "level".to_owned(),
            Value::String(metadata.level().to_string()),
        );
        line.insert(
            "target".to_owned(),
            Value::String(metadata.target().to_owned()),
        );
        if let Some(scope) = ctx.event_scope() {
            let mut innermost = None;
            for span in scope.from_root() {
                // `JsonFields` stores each span's recorded fields as a JSON object string.
                if let Some(fields) = span.extensions().get::<FormattedFields<JsonFields>>()
                    && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&fields.fields)
                {
                    line.extend(
                        fields
                            .into_iter()
                            .filter(|(key, _)| !key.starts_with("otel.")),
                    );
                }
                innermost = Some(span.name());
            }
            if let Some(name) = innermost {
                line.insert("span".to_owned(), Value::String(name.to_owned()));
            }
        }
        event.record(&mut FieldVisitor(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Copies an event's fields into the line, keeping numbers and booleans typed.
struct FieldVisitor<'a>(&'a mut Map<String, Value>);

impl FieldVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(
            field,
            serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number),
        );
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};

    /// Collects everything written, so a test can read the log lines back.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Capture {
        fn lines(&self) -> Vec<Value> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    #[test]
    fn a_line_carries_the_saga_step_fields_and_the_trip_id() {
        let capture = Capture::default();
        let subscriber = json_subscriber(capture.clone(), info());
        tracing::subscriber::with_default(subscriber, || {
            // What the generated entrypoint opens around every step.
            let step = tracing::info_span!(
                "saga_step",
                otel.name = "ReserveFlight",
                otel.kind = "server",
                saga = "TripBooking",
                execution_id = "arn:aws:states:ap-northeast-1:1:execution:trip:abc",
                state_name = "ReserveFlight",
                retry_count = 2_u32,
            );
            let _step = step.enter();
            tracing::info_span!("reserve_seats", trip_id = "t-42").in_scope(|| {
                tracing::info!(seats = 2, "seats reserved");
            });
            tracing::debug!("filtered out");
            tracing::warn!(error = %crate::InfraError::throttled("slow down"), "outside the service span");
        });
        let lines = capture.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["saga"], "TripBooking");
        assert_eq!(
            line["execution_id"],
            "arn:aws:states:ap-northeast-1:1:execution:trip:abc"
        );
        assert_eq!(line["state_name"], "ReserveFlight");
        assert_eq!(line["retry_count"], 2);
        assert_eq!(line["trip_id"], "t-42");
        assert_eq!(line["message"], "seats reserved");
        assert_eq!(line["seats"], 2);
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["span"], "reserve_seats");
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(
            line.get("otel.name").is_none() && line.get("otel.kind").is_none(),
            "the exporter's fields stay out of the logs: {line}"
        );
        let outer = &lines[1];
        assert_eq!(outer["state_name"], "ReserveFlight");
        assert_eq!(outer["span"], "saga_step");
        assert!(outer.get("trip_id").is_none());
        assert_eq!(outer["error"], "StoreThrottled: slow down");
    }

    #[test]
    fn fields_recorded_later_are_included() {
        let capture = Capture::default();
        tracing::subscriber::with_default(json_subscriber(capture.clone(), info()), || {
            let span = tracing::info_span!("reserve_seats", trip_id = tracing::field::Empty);
            span.record("trip_id", "t-7");
            span.in_scope(|| tracing::info!("known now"));
        });
        assert_eq!(capture.lines()[0]["trip_id"], "t-7");
    }

    #[test]
    fn an_absent_or_blank_lambda_level_is_info_not_errors_only() {
        for level in [None, Some(""), Some("  ")] {
            let capture = Capture::default();
            tracing::subscriber::with_default(
                json_subscriber(capture.clone(), level_filter(level)),
                || tracing::info!("kept"),
            );
            assert_eq!(capture.lines().len(), 1, "{level:?}");
        }
        let capture = Capture::default();
        tracing::subscriber::with_default(
            json_subscriber(capture.clone(), level_filter(Some("WARN"))),
            || tracing::info!("dropped"),
        );
        assert!(capture.lines().is_empty());
    }

    #[test]
    fn lambdas_fatal_level_keeps_errors_only() {
        use tracing::Level;
        for level in ["FATAL", "fatal"] {
            let filter = level_filter(Some(level));
            assert!(filter.would_enable("flight", &Level::ERROR), "{level}");
            assert!(!filter.would_enable("flight", &Level::WARN), "{level}");
        }
    }

    fn info() -> Targets {
        Targets::new().with_default(LevelFilter::INFO)
    }

    #[test]
    fn rust_log_takes_levels_and_targets_as_env_filter_did() {
        use tracing::Level;
        let filter = directives("warn,flight=debug,hotel::reserve=trace", Targets::new()).unwrap();
        assert!(filter.would_enable("payment", &Level::WARN));
        assert!(!filter.would_enable("payment", &Level::INFO));
        assert!(filter.would_enable("flight::reserve", &Level::DEBUG));
        assert!(!filter.would_enable("flight", &Level::TRACE));
        assert!(filter.would_enable("hotel::reserve::rooms", &Level::TRACE));
        assert!(!filter.would_enable("hotel", &Level::DEBUG));
        // Upper case levels, a bare target (everything it logs), empty directives skipped.
        let filter = directives("INFO,,kernel,", Targets::new()).unwrap();
        assert!(filter.would_enable("kernel::dynamo", &Level::TRACE));
        assert!(filter.would_enable("flight", &Level::INFO));
        assert!(!filter.would_enable("flight", &Level::DEBUG));
        // No directive at all: what the caller says (`RUST_LOG=` enables nothing).
        let nothing = directives(",", Targets::new()).unwrap();
        assert!(!nothing.would_enable("flight", &Level::ERROR));
        // Field names, as a static directive of EnvFilter's.
        assert!(directives("flight[{seats}]=debug", Targets::new()).is_some());
    }

    #[test]
    fn a_rust_log_with_span_filters_or_bad_levels_is_refused() {
        for value in [
            "flight[reserve_seats]=debug",
            "[reserve_seats]",
            "info,flight[reserve_seats{trip_id=t}]=debug",
            "flight=loud",
        ] {
            assert!(directives(value, Targets::new()).is_none(), "{value}");
        }
    }

    #[test]
    fn init_twice_is_harmless() {
        init_tracing();
        init_tracing();
        tracing::info!("still fine");
    }
}
