//! One trace per execution: every step of a saga execution is a span of one trace, although
//! each step runs in its own Lambda invocation, often in its own process, with nothing but the
//! payload in common.
//!
//! The payload carries the execution's ARN (`$$.Execution.Id`, [`StepContext::execution_id`]),
//! so every step derives the same ids from it, with no propagation header
//! ([`ExecutionTrace::of`]):
//!
//! - the **trace id** is the first 16 bytes of the SHA-256 of the ARN;
//! - the **root span id** is the next 8 bytes. Every step's span is a child of that span.
//!
//! Anyone can recompute them: `printf %s "$ARN" | sha256sum | cut -c1-32` is the trace id,
//! `cut -c33-48` the root span id.
//!
//! The root span itself is exported by nobody. A span needs a start and an end, and no step
//! knows either of the execution: the payload has no start time, and no step knows that it is
//! the last (a retry, a compensation or the escalation may follow it). Exporting it from
//! `CreateTrip` would tell every trace viewer that the booking took as long as `CreateTrip`,
//! and a viewer sizes a trace by its root. Left out, the trace is the set of step spans that
//! share a parent: Datadog and the local receiver (`trip-local otlp-receiver`) show them under
//! the missing root, from the first step's start to the last step's end.
//!
//! A step's span (`saga_step`, named after its state for OpenTelemetry) carries `saga`,
//! `execution_id`, `state_name`, `retry_count`, `trace_id`, `dd.trace_id` (Datadog's form: the
//! low 64 bits, as decimal text, which its log pipeline links to the trace), the application's
//! subject (`trip_id`, see [`StepTracing`]), and at its end its `outcome`: `ok`, or the error
//! name `Retry` and `Catch` match. The log line every step writes at its end, and every line
//! logged inside it, carries those fields, collector or not: the ids are computed, not
//! exported, so the logs of a booking can be followed by its trace id with no tracing backend.
//!
//! What the application adds, once per process, with [`configure`]: the input field that names
//! what an execution is about (copied onto every step's span), and what to do with the finished
//! spans before the invocation returns (Lambda freezes the process as soon as it has answered).
//!
//! ```
//! use saga_runtime::trace::ExecutionTrace;
//!
//! let arn = "arn:aws:states:us-east-1:123456789012:execution:TripBooking:trip-1";
//! let trace = ExecutionTrace::of(arn);
//! // Every step of the execution, in any process, derives the same ids.
//! assert_eq!(trace, ExecutionTrace::of(arn));
//! assert_eq!(trace.trace_id().to_string().len(), 32);
//! assert_ne!(trace, ExecutionTrace::of("arn:aws:states:us-east-1:123456789012:execution:TripBooking:trip-2"));
//! ```

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use lambda_runtime::Diagnostic;
use opentelemetry::trace::{
    SpanContext, SpanId, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::level_filters::LevelFilter;
use tracing::{Level, Metadata};
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::functions::BoxFuture;
use crate::request::StepContext;

/// The ids of an execution's trace, derived from its ARN (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExecutionTrace {
    trace_id: TraceId,
    root_span_id: SpanId,
}

impl ExecutionTrace {
    /// The trace of the execution `execution_id` (`$$.Execution.Id`, its ARN).
    pub fn of(execution_id: &str) -> Self {
        let digest = Sha256::digest(execution_id.as_bytes());
        let mut trace = [0; 16];
        trace.copy_from_slice(&digest[..16]);
        let mut span = [0; 8];
        span.copy_from_slice(&digest[16..24]);
        // All-zero ids are invalid (W3C Trace Context): a digest that starts with 16 or 8 zero
        // bytes is as likely as guessing a key, but a valid id costs one comparison.
        Self {
            trace_id: if trace == [0; 16] {
                TraceId::from(1)
            } else {
                TraceId::from_bytes(trace)
            },
            root_span_id: if span == [0; 8] {
                SpanId::from(1)
            } else {
                SpanId::from_bytes(span)
            },
        }
    }

    /// The trace id: 32 hexadecimal digits in its `Display` form, as OpenTelemetry writes it.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The id of the execution's root span, the parent of every step's span.
    pub fn root_span_id(&self) -> SpanId {
        self.root_span_id
    }

    /// The trace id as Datadog correlates logs with it (`dd.trace_id`): its low 64 bits.
    pub fn datadog_trace_id(&self) -> u64 {
        let bytes = self.trace_id.to_bytes();
        let mut low = [0; 8];
        low.copy_from_slice(&bytes[8..]);
        u64::from_be_bytes(low)
    }

    /// The root span as a remote parent: what a step's span is made a child of.
    pub fn parent_context(&self) -> opentelemetry::Context {
        opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
            self.trace_id,
            self.root_span_id,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ))
    }
}

/// Sends the spans a step finished; awaited at the end of every step, before its invocation
/// answers. It must bound its own time: a collector that does not answer must not hold the
/// function.
pub type Flush = fn() -> BoxFuture<'static, ()>;

/// What the application adds to every step's span, given once per process to [`configure`].
#[derive(Clone, Copy, Debug, Default)]
pub struct StepTracing {
    /// A top-level field of the saga's input whose value (a string or a number) names what the
    /// execution is about, e.g. `trip_id`: a field of every step's span under the same name (so
    /// of every log line in the step, and an attribute of the exported span), read from the raw
    /// payload, so that it is there even when the input does not decode.
    pub subject: Option<&'static str>,
    /// Sends the finished spans before the invocation returns; `None` when nothing exports
    /// them.
    pub flush: Option<Flush>,
}

static STEP_TRACING: OnceLock<StepTracing> = OnceLock::new();

/// Sets what every step adds to its span, for the whole process. Only the first call counts
/// (every Lambda `main`, and a test, may call it), and only before the first step runs: the
/// step span's fields are fixed then. Returns whether this call counted.
pub fn configure(tracing: StepTracing) -> bool {
    STEP_TRACING.set(tracing).is_ok()
}

fn step_tracing() -> StepTracing {
    STEP_TRACING.get().copied().unwrap_or_default()
}

/// The step span's fields: the runtime's own; the configured subject's is added after them.
const STEP_FIELDS: [&str; 9] = [
    "otel.name",
    "otel.kind",
    "saga",
    "execution_id",
    "state_name",
    "retry_count",
    "trace_id",
    "dd.trace_id",
    "outcome",
];

/// The callsite of the step span. `tracing`'s macros declare a span's fields at compile time;
/// the subject's name (`trip_id`) is the application's, known only once it has called
/// [`configure`], so this callsite is built then, once per process, and leaked like the static
/// the macros would have made.
struct StepCallsite {
    metadata: OnceLock<Metadata<'static>>,
    interest: AtomicU8,
}

const NEVER: u8 = 0;
const SOMETIMES: u8 = 1;
const ALWAYS: u8 = 2;

impl Callsite for StepCallsite {
    fn set_interest(&self, interest: Interest) {
        let interest = if interest.is_never() {
            NEVER
        } else if interest.is_always() {
            ALWAYS
        } else {
            SOMETIMES
        };
        self.interest.store(interest, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.metadata
            .get()
            .expect("the metadata is set before the callsite is registered")
    }
}

fn step_callsite() -> (&'static StepCallsite, &'static Metadata<'static>) {
    static CALLSITE: OnceLock<(&'static StepCallsite, &'static Metadata<'static>)> =
        OnceLock::new();
    *CALLSITE.get_or_init(|| {
        let mut names = STEP_FIELDS.to_vec();
        names.extend(step_tracing().subject);
        let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
        let callsite: &'static StepCallsite = Box::leak(Box::new(StepCallsite {
            metadata: OnceLock::new(),
            interest: AtomicU8::new(SOMETIMES),
        }));
        let metadata = callsite.metadata.get_or_init(|| {
            Metadata::new(
                "saga_step",
                module_path!(),
                Level::INFO,
                Some(file!()),
                Some(line!()),
                Some(module_path!()),
                FieldSet::new(names, Identifier(callsite)),
                Kind::SPAN,
            )
        });
        tracing_core::callsite::register(callsite);
        (callsite, metadata)
    })
}

/// The span of the step the payload is for, joined to its execution's trace. Without a
/// subscriber that wants it, it is disabled, and nothing is computed or read.
pub(crate) fn step_span(payload: &Value) -> tracing::Span {
    let (callsite, metadata) = step_callsite();
    // What `tracing::info_span!` checks, in the same order.
    let enabled = Level::INFO <= LevelFilter::current()
        && callsite.interest.load(Ordering::Relaxed) != NEVER
        && tracing::dispatcher::get_default(|dispatch| dispatch.enabled(metadata));
    if !enabled {
        return tracing::Span::none();
    }
    let fields = metadata.fields();
    let kind = fields.field("otel.kind").expect("a step field");
    let span = tracing::Span::new(
        metadata,
        &fields.value_set(&[(&kind, Some(&"server" as &dyn tracing::Value))]),
    );
    // A payload without a readable context gets an unparented span: its step fails with
    // `Saga.InvalidPayload`, which the span still records.
    if let Some(context) = payload
        .get("context")
        .and_then(|c| StepContext::deserialize(c).ok())
    {
        let trace = ExecutionTrace::of(&context.execution_id);
        span.record("otel.name", context.state_name.as_str());
        span.record("saga", context.saga.as_str());
        span.record("execution_id", context.execution_id.as_str());
        span.record("state_name", context.state_name.as_str());
        span.record("retry_count", context.retry_count);
        span.record("trace_id", tracing::field::display(trace.trace_id));
        // Text, as Datadog's own tracers write it: a JSON number this large loses digits in
        // any reader that parses numbers as doubles (jq does).
        span.record(
            "dd.trace_id",
            tracing::field::display(trace.datadog_trace_id()),
        );
        // `Err` only when no OpenTelemetry layer is installed: then the ids live in the fields.
        let _ = span.set_parent(trace.parent_context());
    }
    if let Some(field) = step_tracing().subject
        && let Some(value) = payload.get("input").and_then(|input| input.get(field))
    {
        if let Value::String(text) = value {
            span.record(field, text.as_str());
        } else if let Value::Number(number) = value {
            span.record(field, tracing::field::display(number));
        }
    }
    span
}

/// Runs a step inside `span` (which `step` is instrumented with), records how it ended on the
/// span and in one log line, closes the span and flushes it, then returns the step's result.
pub(crate) async fn finish(
    span: tracing::Span,
    step: impl Future<Output = Result<Value, Diagnostic>>,
) -> Result<Value, Diagnostic> {
    let result = step.await;
    span.in_scope(|| match &result {
        Ok(_) => {
            span.record("outcome", "ok");
            tracing::info!(outcome = "ok", "step succeeded");
        }
        Err(failure) => {
            span.record("outcome", failure.error_type.as_str());
            span.set_status(Status::error(format!(
                "{}: {}",
                failure.error_type, failure.error_message
            )));
            tracing::warn!(
                outcome = failure.error_type.as_str(),
                error = failure.error_message.as_str(),
                "step failed"
            );
        }
    });
    // The span ends when its last handle is dropped; only an ended span can be exported.
    drop(span);
    if let Some(flush) = step_tracing().flush {
        flush().await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:TripBooking:trip-1";

    /// The derivation is part of the contract (the docs tell readers to recompute it with
    /// `sha256sum`): this is SHA-256 of `ARN`, cut as documented.
    #[test]
    fn ids_are_the_digest_of_the_arn_cut_in_two() {
        let trace = ExecutionTrace::of(ARN);
        let hex = Sha256::digest(ARN.as_bytes())
            .iter()
            .fold(String::new(), |mut hex, b| {
                // Infallible: writing to a String.
                let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
                hex
            });
        assert_eq!(trace.trace_id().to_string(), hex[..32]);
        assert_eq!(trace.root_span_id().to_string(), hex[32..48]);
        assert_eq!(
            trace.datadog_trace_id(),
            u64::from_str_radix(&hex[16..32], 16).unwrap()
        );
    }

    #[test]
    fn the_parent_is_the_remote_sampled_root() {
        let trace = ExecutionTrace::of(ARN);
        let parent = trace.parent_context();
        let span = parent.span();
        let context = span.span_context();
        assert_eq!(context.trace_id(), trace.trace_id());
        assert_eq!(context.span_id(), trace.root_span_id());
        assert!(context.is_remote() && context.is_sampled() && context.is_valid());
    }

    #[test]
    fn without_a_subscriber_the_span_is_disabled_and_nothing_is_read() {
        let span = step_span(&serde_json::json!({ "context": "not one" }));
        assert!(span.is_disabled());
    }
}
