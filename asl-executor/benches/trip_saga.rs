//! Executions per second of the trip saga's generated ASL (`generated/trip_booking.asl.json`)
//! with fixed mocked task results, one thread, on asl-executor and — in the same run, on the
//! same definition and mocks — on `aws-local-stepfunctions` (Node), then the ratio.
//!
//! ```sh
//! npm ci --prefix asl-executor/conformance-node   # once (scripts/setup.sh does it)
//! cargo bench -p asl-executor --bench trip_saga
//! ```
//!
//! Two paths: the happy one (Start → CreateTrip → ReserveFlight → ReserveHotel →
//! ProcessPayment → ConfirmTrip) and a payment failure (ProcessPayment fails with
//! `PaymentDeclined` → RefundPayment → CancelHotel → CancelFlight → CancelTrip →
//! CheckCompensations → CheckFailure → Compensated). Every `lambda:invoke` answers with the fixed payload of
//! `benches/trip_saga_mocks.json` (a fresh copy per call, as a real function returns a new
//! document); the `${…FunctionArn}` placeholders are resolved by the same rule on both sides.
//! The definition is compiled once. asl-executor is measured with each [`HistoryMode`]; the
//! ratio is taken against the default one (`Full`). The Node side is
//! `conformance-node/bench-trip.mjs`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use asl_executor::{
    BoxFuture, ExecutionOptions, HistoryMode, LambdaError, LambdaInvocation, LambdaInvoker,
    LambdaTasks, StateMachine, Status,
};
use serde_json::Value;

/// Executions measured per path and mode on asl-executor.
const COUNT: u32 = 50_000;
/// Executions run first, unmeasured.
const WARMUP: u32 = 5_000;
/// Executions measured per path on the Node engine (about 1 000–2 000 per second).
const NODE_COUNT: u32 = 5_000;
/// Executions run first on the Node engine, unmeasured (lets V8 optimise).
const NODE_WARMUP: u32 = 1_000;

const HAPPY_PATH: [&str; 6] = [
    "Start",
    "CreateTrip",
    "ReserveFlight",
    "ReserveHotel",
    "ProcessPayment",
    "ConfirmTrip",
];
const FAILURE_PATH: [&str; 11] = [
    "Start",
    "CreateTrip",
    "ReserveFlight",
    "ReserveHotel",
    "ProcessPayment",
    "RefundPayment",
    "CancelHotel",
    "CancelFlight",
    "CancelTrip",
    "CheckCompensations",
    "CheckFailure",
];

/// `${CreateTripFunctionArn}` → `arn:aws:lambda:us-east-1:123456789012:function:CreateTrip`,
/// the rule `bench-trip.mjs` applies too.
fn resolve_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if after[..end].ends_with("FunctionArn") => {
                let name = after[..end].trim_end_matches("FunctionArn");
                out.push_str("arn:aws:lambda:us-east-1:123456789012:function:");
                out.push_str(name);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Fixed function outputs by Task state; `failing` fails instead with a function error.
struct Mocks {
    results: HashMap<String, Value>,
    failing: Option<(String, String, String)>,
}

impl LambdaInvoker for Mocks {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        let answer = match &self.failing {
            Some((state, error_type, error_message)) if state == invocation.state_name => {
                Err(LambdaError::Function {
                    error_type: error_type.clone(),
                    error_message: error_message.clone(),
                })
            }
            _ => Ok(self
                .results
                .get(invocation.state_name)
                .cloned()
                .unwrap_or_else(|| Value::Object(serde_json::Map::new()))),
        };
        Box::pin(std::future::ready(answer))
    }
}

fn mocks(spec: &Value, failing: bool) -> Mocks {
    let results = spec["results"]
        .as_object()
        .expect("mocks: `results` is an object")
        .iter()
        .map(|(state, result)| (state.clone(), result.clone()))
        .collect();
    let failing = failing.then(|| {
        let failure = &spec["failure"];
        let text = |v: &Value| {
            v.as_str()
                .expect("mocks: failure fields are strings")
                .to_owned()
        };
        (
            text(&failure["state"]),
            text(&failure["function_error"]["errorType"]),
            text(&failure["function_error"]["errorMessage"]),
        )
    });
    Mocks { results, failing }
}

/// Runs one execution and checks it took the expected path (when history records it).
fn run_once(
    machine: &StateMachine,
    tasks: &LambdaTasks<Mocks>,
    input: &Value,
    options: &ExecutionOptions,
    failing: bool,
) {
    let execution = futures::executor::block_on(machine.run(tasks, input.clone(), options));
    if failing {
        assert_eq!(execution.status, Status::Failed);
        let error = execution.error.as_ref().map(|e| e.error.as_str());
        assert_eq!(error, Some("PaymentDeclined"));
    } else {
        assert_eq!(execution.status, Status::Succeeded, "{:?}", execution.error);
    }
}

/// Executions per second of one path in one history mode.
fn measure(machine: &StateMachine, spec: &Value, failing: bool, history: HistoryMode) -> f64 {
    let tasks = LambdaTasks::new(mocks(spec, failing));
    let input = spec["input"].clone();
    let options = ExecutionOptions {
        history,
        ..ExecutionOptions::default()
    };
    // The path itself, checked once on a full history.
    let check = futures::executor::block_on(machine.run(
        &tasks,
        input.clone(),
        &ExecutionOptions::default(),
    ));
    let visited = check.history.states_visited();
    if failing {
        let mut expected = FAILURE_PATH.to_vec();
        expected.push("Compensated");
        assert_eq!(visited, expected);
    } else {
        assert_eq!(visited, HAPPY_PATH);
    }
    for _ in 0..WARMUP {
        run_once(machine, &tasks, &input, &options, failing);
    }
    let start = Instant::now();
    for _ in 0..COUNT {
        run_once(machine, &tasks, &input, &options, failing);
    }
    f64::from(COUNT) / start.elapsed().as_secs_f64()
}

/// Runs `bench-trip.mjs` on the same definition and mocks; its JSON report.
fn measure_node(definition: &Path, mocks: &Path, script_dir: &Path) -> Value {
    assert!(
        script_dir
            .join("node_modules/aws-local-stepfunctions")
            .is_dir(),
        "aws-local-stepfunctions is not installed: run `npm ci --prefix asl-executor/conformance-node` \
         (or `scripts/setup.sh`) first"
    );
    let output = Command::new("node")
        .current_dir(script_dir)
        .arg("bench-trip.mjs")
        .arg(definition)
        .arg(mocks)
        .arg(NODE_COUNT.to_string())
        .arg(NODE_WARMUP.to_string())
        .output()
        .expect("`node` runs (Node 20 or later on PATH)");
    assert!(
        output.status.success(),
        "bench-trip.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("bench-trip.mjs prints one JSON object")
}

fn main() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let definition_path = crate_dir.join("../generated/trip_booking.asl.json");
    let mocks_path = crate_dir.join("benches/trip_saga_mocks.json");
    let definition = std::fs::read_to_string(&definition_path).expect("the generated ASL exists");
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(&mocks_path).expect("benches/trip_saga_mocks.json exists"),
    )
    .expect("the mocks are JSON");
    // Compiled once; every execution below reuses it.
    let machine =
        StateMachine::from_json(&resolve_placeholders(&definition)).expect("the ASL compiles");

    let modes = [
        HistoryMode::Full,
        HistoryMode::WithoutPayloads,
        HistoryMode::Off,
    ];
    let mut ours = Vec::new();
    for failing in [false, true] {
        let per_mode: Vec<f64> = modes
            .iter()
            .map(|&mode| measure(&machine, &spec, failing, mode))
            .collect();
        ours.push(per_mode);
    }

    let node = measure_node(
        &definition_path,
        &mocks_path,
        &crate_dir.join("conformance-node"),
    );
    let theirs = [
        node["happy_per_s"].as_f64().expect("happy_per_s"),
        node["failure_per_s"].as_f64().expect("failure_per_s"),
    ];

    println!(
        "trip saga (generated ASL), fixed mocked results, one thread, executions/s \
         (asl-executor: {COUNT} after {WARMUP} warm-up; {}, {}: {NODE_COUNT} after {NODE_WARMUP})",
        node["engine"].as_str().unwrap_or("aws-local-stepfunctions"),
        node["node"].as_str().unwrap_or("node"),
    );
    println!(
        "{:<8} | {:>10} | {:>16} | {:>10} | {:>23} | {:>12} | {:>20}",
        "path",
        "ours Full",
        "ours NoPayloads",
        "ours Off",
        "aws-local-stepfunctions",
        "ratio (Full)",
        "ratio (NoPayloads)"
    );
    for ((name, per_mode), theirs) in ["happy", "failure"].iter().zip(&ours).zip(theirs) {
        println!(
            "{:<8} | {:>10.0} | {:>16.0} | {:>10.0} | {:>23.0} | {:>11.1}x | {:>19.1}x",
            name,
            per_mode[0],
            per_mode[1],
            per_mode[2],
            theirs,
            per_mode[0] / theirs,
            per_mode[1] / theirs,
        );
    }
}
