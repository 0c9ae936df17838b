//! What the saga's functions export, received in-process: the OTLP/HTTP spans of whole bookings
//! run by the local saga with the real handlers (the generated entrypoints, as in Lambda), the
//! DogStatsD metrics they send, and the JSON log lines a step writes.
//!
//! The exporters are process-wide (as in a Lambda function), so every test runs on one shared
//! runtime and receiver, one test at a time.

use std::net::UdpSocket;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use kernel::TripId;
use kernel::telemetry::Config;
use kernel::tracing_setup::LogOutput;
use saga_runtime::trace::ExecutionTrace;
use serde_json::{Value, json};
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use trip_local::execution::{Report, Saga};
use trip_local::faults::FaultPlan;
use trip_local::store::{HOTEL, ROOMY_FLIGHT, seed};
use trip_local::telemetry::{ReceivedSpan, Receiver};
use trip_saga::TripContext;

/// The steps of a booking that goes through, in order.
const HAPPY: [&str; 5] = [
    "CreateTrip",
    "ReserveFlight",
    "ReserveHotel",
    "ProcessPayment",
    "ConfirmTrip",
];

struct Harness {
    runtime: tokio::runtime::Runtime,
    receiver: Receiver,
    metrics: UdpSocket,
    one_at_a_time: Mutex<()>,
}

/// The receivers, and the process's exporters pointed at them (installed once, as
/// `trip-local` and the Lambda functions do from their environment).
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // One runtime for every test: the exporter's HTTP connections live on the runtime that
        // opened them.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let receiver = runtime
            .block_on(Receiver::start(([127, 0, 0, 1], 0).into()))
            .unwrap();
        let metrics = UdpSocket::bind("127.0.0.1:0").unwrap();
        metrics.set_nonblocking(true).unwrap();
        let config = Config {
            otlp_endpoint: Some(receiver.endpoint()),
            // Generous for a loaded CI machine; the bound itself is tested in the kernel.
            export_timeout: Duration::from_secs(5),
            service_name: "trip-local-test".into(),
            dogstatsd: Some(metrics.local_addr().unwrap().to_string()),
            ..Config::none()
        };
        let installed = kernel::tracing_setup::init(&config, LogOutput::Off);
        assert!(installed.subscriber, "{installed:?}");
        assert!(installed.problems.is_empty(), "{installed:?}");
        trip_saga::configure_step_tracing();
        Harness {
            runtime,
            receiver,
            metrics,
            one_at_a_time: Mutex::new(()),
        }
    })
}

impl Harness {
    fn exclusive(&self) -> MutexGuard<'_, ()> {
        let guard = self
            .one_at_a_time
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.metric_lines();
        guard
    }

    /// Books one trip on a fresh store, with `faults` (`trip-local run --fault` syntax).
    fn book(&self, card: &str, faults: &[&str]) -> Report {
        self.runtime.block_on(async {
            let saga = Saga::new(TripContext::in_memory());
            seed(saga.context()).await.unwrap();
            let request = trip_request(TripId::new(), ROOMY_FLIGHT, HOTEL, card);
            let faults = FaultPlan::parse_all(faults).unwrap();
            saga.run(request, faults, Arc::new(()), 0).await.unwrap()
        })
    }

    /// Every metric line received since the last call, sorted.
    fn metric_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut buffer = [0; 2048];
        // Sent to the loopback before the run returned: already in the socket's buffer.
        while let Ok(n) = self.metrics.recv(&mut buffer) {
            lines.extend(
                String::from_utf8_lossy(&buffer[..n])
                    .lines()
                    .map(ToOwned::to_owned),
            );
        }
        lines.sort();
        lines
    }

    /// The spans of `report`'s booking: those of the trace its steps are in.
    fn trace_of(&self, report: &Report) -> (ExecutionTrace, Vec<ReceivedSpan>) {
        let trip_id = report.trip_id.to_string();
        let spans = self.receiver.received().spans();
        let arn = spans
            .iter()
            .filter(|s| s.attribute("trip_id") == Some(trip_id.as_str()))
            .find_map(|s| s.attribute("execution_id"))
            .unwrap_or_else(|| panic!("no step span of trip {trip_id}"))
            .to_owned();
        let trace = ExecutionTrace::of(&arn);
        let spans = self
            .receiver
            .received()
            .trace(&trace.trace_id().to_string());
        (trace, spans)
    }
}

/// The step spans (those the runtime opens) in order of start, as `(state, retry, outcome)`.
fn steps(spans: &[ReceivedSpan]) -> Vec<(String, String, String)> {
    let mut steps: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.attribute("state_name").is_some())
        .collect();
    steps.sort_by_key(|s| s.start_unix_nanos);
    steps
        .iter()
        .map(|s| {
            (
                s.attribute("state_name").unwrap().to_owned(),
                s.attribute("retry_count").unwrap_or_default().to_owned(),
                s.attribute("outcome").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn step(state: &str, retry: u32, outcome: &str) -> (String, String, String) {
    (state.to_owned(), retry.to_string(), outcome.to_owned())
}

/// Checks the shape every booking's trace has, and returns its step spans' ids.
fn check_links(trace: ExecutionTrace, spans: &[ReceivedSpan], trip_id: TripId) -> Vec<String> {
    let root = trace.root_span_id().to_string();
    assert!(
        spans.iter().all(|s| s.span_id != root),
        "the root span is never exported"
    );
    let (step_spans, others): (Vec<&ReceivedSpan>, Vec<&ReceivedSpan>) = spans
        .iter()
        .partition(|s| s.attribute("state_name").is_some());
    for span in &step_spans {
        assert_eq!(
            span.parent_span_id.as_deref(),
            Some(root.as_str()),
            "{span:?}"
        );
        assert_eq!(span.name, span.attribute("state_name").unwrap(), "{span:?}");
        assert_eq!(
            span.attribute("trip_id"),
            Some(trip_id.to_string().as_str())
        );
        assert_eq!(span.attribute("saga"), Some("TripBooking"));
        assert_eq!(
            span.attribute("trace_id"),
            Some(trace.trace_id().to_string().as_str())
        );
        assert_eq!(span.service, "trip-local-test");
    }
    let step_ids: Vec<String> = step_spans.iter().map(|s| s.span_id.clone()).collect();
    assert!(!others.is_empty(), "the handlers' spans are exported too");
    for span in others {
        let parent = span.parent_span_id.as_ref().expect("a parent");
        assert!(
            step_ids.contains(parent) || spans.iter().any(|s| &s.span_id == parent),
            "every other span hangs under a step: {span:?}"
        );
    }
    step_ids
}

#[test]
fn every_step_of_a_booking_is_a_span_of_its_one_trace() {
    let harness = harness();
    let _one = harness.exclusive();
    let first = harness.book(GOOD_CARD, &[]);
    let second = harness.book(GOOD_CARD, &[]);
    assert_eq!(first.status(), "SUCCEEDED");

    let (trace, spans) = harness.trace_of(&first);
    let arn = spans
        .iter()
        .find_map(|s| s.attribute("execution_id"))
        .unwrap();
    assert!(arn.ends_with(&format!(":trip-{}", first.trip_id)), "{arn}");
    let expected: Vec<_> = HAPPY.iter().map(|s| step(s, 0, "ok")).collect();
    assert_eq!(steps(&spans), expected);
    let step_ids = check_links(trace, &spans, first.trip_id);
    assert_eq!(step_ids.len(), HAPPY.len());

    let (other, other_spans) = harness.trace_of(&second);
    assert_ne!(
        other.trace_id(),
        trace.trace_id(),
        "a booking is a trace of its own"
    );
    assert_eq!(steps(&other_spans), expected);
    check_links(other, &other_spans, second.trip_id);
    assert!(
        other_spans.iter().all(|s| !spans.contains(s)),
        "no span is in both bookings' traces"
    );
}

#[test]
fn a_retried_step_is_one_span_per_attempt_and_a_failure_carries_its_error() {
    let harness = harness();
    let _one = harness.exclusive();
    // ReserveFlight runs, and its answer is lost: Step Functions retries it.
    let report = harness.book(DECLINED_CARD, &["ReserveFlight=lose-response:1"]);
    assert_eq!(report.status(), "FAILED");
    let (trace, spans) = harness.trace_of(&report);
    assert_eq!(
        steps(&spans),
        [
            step("CreateTrip", 0, "ok"),
            step("ReserveFlight", 0, "ok"),
            step("ReserveFlight", 1, "ok"),
            step("ReserveHotel", 0, "ok"),
            step("ProcessPayment", 0, "PaymentDeclined"),
            step("RefundPayment", 0, "ok"),
            step("CancelHotel", 0, "ok"),
            step("CancelFlight", 0, "ok"),
            step("CancelTrip", 0, "ok"),
        ]
    );
    check_links(trace, &spans, report.trip_id);
    let declined = spans
        .iter()
        .find(|s| s.attribute("outcome") == Some("PaymentDeclined"))
        .unwrap();
    assert!(
        declined
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("PaymentDeclined: ")),
        "an error outcome is the span's error status: {declined:?}"
    );
    assert!(
        spans
            .iter()
            .filter(|s| s.attribute("outcome") == Some("ok"))
            .all(|s| s.error.is_none())
    );
}

#[test]
fn each_booking_fact_is_counted_once_however_often_its_step_runs() {
    let harness = harness();
    let _one = harness.exclusive();

    // The payment and the confirmation each run twice (their first answers are lost).
    let confirmed = harness.book(
        GOOD_CARD,
        &[
            "ProcessPayment=lose-response:1",
            "ConfirmTrip=lose-response:1",
        ],
    );
    assert_eq!(confirmed.status(), "SUCCEEDED");
    assert_eq!(
        harness.metric_lines(),
        [
            "trip.bookings.confirmed:1|c",
            "trip.payments.amount:1050|d|#currency:USD",
        ]
    );

    // Declined: every compensation runs, CancelHotel twice.
    let cancelled = harness.book(DECLINED_CARD, &["CancelHotel=lose-response:1"]);
    assert_eq!(
        cancelled.trip.as_ref().unwrap().status.as_str(),
        "CANCELLED"
    );
    assert_eq!(
        harness.metric_lines(),
        [
            "trip.bookings.cancelled:1|c",
            "trip.saga.compensations:1|c|#step:CancelFlight,result:undone",
            "trip.saga.compensations:1|c|#step:CancelHotel,result:undone",
            "trip.saga.compensations:1|c|#step:CancelTrip,result:undone",
            "trip.saga.compensations:1|c|#step:RefundPayment,result:voided",
        ]
    );

    // The rooms cannot be given back: CancelTrip marks the trip for an operator, and the
    // escalation after it marks it again with more to say. One escalation.
    let escalated = harness.book(DECLINED_CARD, &["CancelHotel=StoreUnavailable:always"]);
    assert_eq!(
        escalated.trip.as_ref().unwrap().status.as_str(),
        "NEEDS_ATTENTION"
    );
    assert!(escalated.states_visited().contains(&"EscalateTrip"));
    assert_eq!(
        harness.metric_lines(),
        [
            "trip.saga.compensations:1|c|#step:CancelFlight,result:undone",
            "trip.saga.compensations:1|c|#step:RefundPayment,result:voided",
            "trip.saga.escalations:1|c",
        ]
    );
}

/// Lines written in a step's span carry its trace's ids, computed from the execution's ARN
/// with no collector involved, and the trip id, read from the step's input.
#[test]
fn a_steps_log_lines_carry_its_trace_id_and_the_trip_id() {
    let harness = harness();
    let _one = harness.exclusive();
    let capture = Capture::default();
    let subscriber = kernel::tracing_setup::json_subscriber(
        capture.clone(),
        tracing_subscriber::filter::Targets::new()
            .with_default(tracing_subscriber::filter::LevelFilter::INFO),
    );
    let trip_id = TripId::new();
    let arn = format!("arn:aws:states:eu-west-1:123456789012:execution:TripBooking:{trip_id}");
    let context = TripContext::in_memory();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            seed(&context).await.unwrap();
            let mut results = serde_json::Map::new();
            for state in [
                "CreateTrip",
                "ReserveFlight",
                "ReserveHotel",
                "ProcessPayment",
                "ConfirmTrip",
            ] {
                let function = trip_saga::trip_booking::Function::from_name(state).unwrap();
                let output = function
                    .invoke(&context, payload(trip_id, &arn, state, &results))
                    .await
                    .unwrap();
                results.insert(state.to_owned(), json!({ "output": output }));
            }
            // The pivot's guard finds the trip confirmed: it says so, inside the trip's span.
            trip_saga::trip_booking::Function::LockTrip
                .invoke(&context, payload(trip_id, &arn, "LockTrip", &results))
                .await
                .unwrap();
        });
    });
    let lines = capture.lines();
    let trace = ExecutionTrace::of(&arn);
    let trace_id = trace.trace_id().to_string();
    let steps: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "step succeeded")
        .collect();
    assert_eq!(steps.len(), 6, "{lines:#?}");
    for line in &steps {
        assert_eq!(line["trip_id"], trip_id.to_string().as_str());
        assert_eq!(line["trace_id"], trace_id.as_str());
        assert_eq!(
            line["dd.trace_id"],
            trace.datadog_trace_id().to_string().as_str()
        );
        assert_eq!(line["execution_id"], arn.as_str());
        assert_eq!(line["outcome"], "ok");
        assert!(line.get("otel.name").is_none());
    }
    let warning = lines
        .iter()
        .find(|l| l["level"] == "WARN")
        .unwrap_or_else(|| panic!("the guard's warning: {lines:#?}"));
    assert_eq!(warning["trip_id"], trip_id.to_string().as_str());
    assert_eq!(warning["trace_id"], trace_id.as_str());
    assert_eq!(warning["state_name"], "LockTrip");
}

/// A step's payload as the state machine sends it.
fn payload(
    trip_id: TripId,
    arn: &str,
    state: &str,
    results: &serde_json::Map<String, Value>,
) -> Value {
    let name = arn.rsplit(':').next().unwrap();
    let mut payload = json!({
        "input": trip_request(trip_id, ROOMY_FLIGHT, HOTEL, GOOD_CARD),
        "results": results,
        "context": {
            "saga": "TripBooking", "execution_id": arn, "execution_name": name,
            "state_name": state, "idempotency_key": format!("{name}:{state}"), "retry_count": 0
        }
    });
    if state == "LockTrip" {
        payload["failure"] = json!({ "Error": "Lambda.Unknown", "Cause": "the answer was lost" });
        payload["action_idempotency_key"] = json!(format!("{name}:ConfirmTrip"));
    }
    payload
}

/// Collects everything written, so a test can read the log lines back.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}
