//! Shared by the conformance tests: the case format and the per-state mock handler.

// Each test binary compiles this module and uses a different subset of it; `pub` items of a
// test-private module are how the binaries share it.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use asl_executor::{
    BoxFuture, Execution, ExecutionOptions, LambdaError, LambdaInvocation, LambdaInvoker,
    LambdaTasks, StateMachine, StatesError, TaskHandler, TaskRequest,
};
use serde::Deserialize;
use serde_json::Value;

/// One conformance case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub description: String,
    pub definition: Value,
    #[serde(default)]
    pub input: Value,
    /// Per Task state: results or errors in call order; the last one repeats.
    #[serde(default)]
    pub mocks: HashMap<String, Vec<Value>>,
    /// Real milliseconds the Node engine waits in the named Wait states (default 0).
    #[serde(default)]
    pub node_wait_ms: HashMap<String, u64>,
    pub expected: Expected,
    /// Why aws-local-stepfunctions disagrees with AWS here (see DIVERGENCES.md).
    #[serde(default)]
    pub node_engine_differs: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub status: String,
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    pub states: Vec<String>,
}

pub fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

pub fn load_cases() -> Vec<(String, Case)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(conformance_dir())
        .expect("tests/conformance exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let case: Case = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name}: not a valid case file: {e}"));
            (name, case)
        })
        .collect()
}

/// Answers tasks from a case's `mocks`; a state without mocks echoes its payload.
pub struct Mocks {
    steps: HashMap<String, Vec<Value>>,
    calls: Mutex<HashMap<String, usize>>,
}

impl Mocks {
    pub fn new(steps: HashMap<String, Vec<Value>>) -> Self {
        Self {
            steps,
            calls: Mutex::new(HashMap::new()),
        }
    }

    fn next_step(&self, state: &str) -> Option<Value> {
        let steps = self.steps.get(state)?;
        let mut calls = self.calls.lock().unwrap();
        let n = calls.entry(state.to_owned()).or_insert(0);
        let step = steps.get(*n).or(steps.last()).cloned();
        *n += 1;
        step
    }
}

enum Answer {
    Ok(Value),
    Service(StatesError),
    Function { error_type: String, message: String },
}

fn answer(step: Option<Value>, payload: Value, clock: &asl_executor::Clock) -> Answer {
    let Some(step) = step else {
        return Answer::Ok(payload);
    };
    if let Some(secs) = step.get("delay_seconds").and_then(Value::as_u64) {
        clock.advance(Duration::from_secs(secs));
    }
    if let Some(error) = step.get("error").and_then(Value::as_str) {
        let cause = step
            .get("cause")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Answer::Service(StatesError::new(error, cause));
    }
    if let Some(fe) = step.get("function_error") {
        return Answer::Function {
            error_type: fe["errorType"].as_str().unwrap_or_default().to_owned(),
            message: fe["errorMessage"].as_str().unwrap_or_default().to_owned(),
        };
    }
    Answer::Ok(step.get("result").cloned().unwrap_or(payload))
}

impl LambdaInvoker for Mocks {
    fn invoke<'a>(
        &'a self,
        call: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        let step = self.next_step(call.state_name);
        let result = match answer(step, call.payload, call.clock) {
            Answer::Ok(v) => Ok(v),
            Answer::Service(e) => Err(LambdaError::Service(e)),
            Answer::Function {
                error_type,
                message,
            } => Err(LambdaError::Function {
                error_type,
                error_message: message,
            }),
        };
        Box::pin(std::future::ready(result))
    }
}

impl TaskHandler for Mocks {
    fn invoke<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        let step = self.next_step(request.state_name);
        let result = match answer(step, request.input, request.clock) {
            Answer::Ok(v) => Ok(v),
            Answer::Service(e) => Err(e),
            Answer::Function {
                error_type,
                message,
            } => Err(asl_executor::function_error(&error_type, &message)),
        };
        Box::pin(std::future::ready(result))
    }
}

/// Runs a case on asl-executor with a fresh set of mocks.
pub fn run_case(case: &Case) -> Execution {
    let machine = StateMachine::from_value(&case.definition).expect("definition compiles");
    let lambda = std::sync::Arc::new(Mocks::new(case.mocks.clone()));
    let tasks = LambdaTasks::new(ArcInvoker(lambda.clone())).with_fallback(lambda);
    futures::executor::block_on(machine.run(
        &tasks,
        case.input.clone(),
        &ExecutionOptions::default(),
    ))
}

/// Lets one `Mocks` serve both as the Lambda invoker and the fallback handler.
pub struct ArcInvoker(pub std::sync::Arc<Mocks>);

impl LambdaInvoker for ArcInvoker {
    fn invoke<'a>(
        &'a self,
        call: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        LambdaInvoker::invoke(&*self.0, call)
    }
}
