//! The public entry points: compile a definition, run executions.

use std::fmt;
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::clock::{Clock, TimeMode, format_millis};
use crate::context::ExecutionInfo;
use crate::definition::{Machine, compile_machine};
use crate::error::{DefinitionError, StatesError, names};
use crate::exec::{Exec, Stop};
use crate::history::{EventKind, History, HistoryMode, Recorder, SizeHint};
use crate::journal::{Journal, Resume};
use crate::task::TaskHandler;

/// A compiled state machine. Cheap to clone; compile once, run many times.
#[derive(Debug, Clone)]
pub struct StateMachine {
    machine: Arc<Machine>,
    /// Whether any string of the definition mentions `$$`. When none does, nothing can read
    /// the context object, so executions skip building it (ARNs, timestamp, input copy).
    uses_context: bool,
    /// Sizes of the latest history, shared by clones.
    history_size: Arc<SizeHint>,
}

/// Per-execution settings. `Default` gives a deterministic virtual-time execution.
#[derive(Debug, Clone)]
pub struct ExecutionOptions {
    /// `$$.StateMachine.Name`; also part of the ARNs.
    pub state_machine_name: String,
    /// `$$.Execution.Name`.
    pub execution_name: String,
    /// Region used in the ARNs of `$$.Execution.Id` and `$$.StateMachine.Id`.
    pub region: String,
    /// Account used in the same ARNs.
    pub account_id: String,
    /// Start time in milliseconds since the Unix epoch (virtual mode; real mode uses now).
    pub start_time_ms: i64,
    /// Seed for `States.UUID`, `States.MathRandom` and retry jitter.
    pub seed: u64,
    /// Virtual (default) or real time.
    pub time: TimeMode,
    /// How much history to record.
    pub history: HistoryMode,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        Self {
            state_machine_name: "StateMachine".into(),
            execution_name: "local-execution".into(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            // 2024-01-01T00:00:00Z: a fixed instant keeps histories reproducible.
            start_time_ms: 1_704_067_200_000,
            seed: 0,
            time: TimeMode::Virtual,
            history: HistoryMode::Full,
        }
    }
}

/// Final status, named as in the Step Functions API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Reached a Succeed state or an `End`.
    Succeeded,
    /// An error was not caught.
    Failed,
    /// The top-level `TimeoutSeconds` elapsed.
    TimedOut,
}

impl Status {
    /// `SUCCEEDED`, `FAILED` or `TIMED_OUT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one execution.
#[derive(Debug, Clone)]
pub struct Execution {
    /// How it ended.
    pub status: Status,
    /// Final output when `status` is `Succeeded`.
    pub output: Option<Value>,
    /// The error when it failed or timed out.
    pub error: Option<StatesError>,
    /// Recorded events (see [`HistoryMode`]).
    pub history: History,
    /// Start, in (virtual) epoch milliseconds.
    pub start_ms: i64,
    /// End, in (virtual) epoch milliseconds.
    pub stop_ms: i64,
}

impl StateMachine {
    /// Compiles an ASL document.
    ///
    /// # Errors
    /// [`DefinitionError`] when the text is not JSON or not a valid state machine.
    pub fn from_json(text: &str) -> Result<Self, DefinitionError> {
        Self::from_value(&serde_json::from_str(text)?)
    }

    /// Compiles an ASL document already parsed as JSON.
    ///
    /// # Errors
    /// [`DefinitionError`] when the value is not a valid state machine.
    pub fn from_value(definition: &Value) -> Result<Self, DefinitionError> {
        Ok(Self {
            machine: Arc::new(compile_machine(definition, "$")?),
            uses_context: mentions_context(definition),
            history_size: Arc::default(),
        })
    }

    /// Runs one execution to completion.
    ///
    /// Never fails as a Rust call: every outcome, including task errors and timeouts, is an
    /// [`Execution`] with a status, as `DescribeExecution` would report it.
    pub async fn run(
        &self,
        handler: &dyn TaskHandler,
        input: Value,
        options: &ExecutionOptions,
    ) -> Execution {
        self.execute(handler, input, options, None, None).await
    }

    /// Runs one execution to completion as [`run`](Self::run) does, telling `journal` of every
    /// top-level state that acts or waits (Task, Parallel, Map, Wait) before it runs, so that
    /// [`resume`](Self::resume) can take it up again if this process stops first.
    pub async fn run_durably(
        &self,
        handler: &dyn TaskHandler,
        input: Value,
        options: &ExecutionOptions,
        journal: &dyn Journal,
    ) -> Execution {
        self.execute(handler, input, options, Some(journal), None)
            .await
    }

    /// Takes up an execution of `input` that an earlier process began with
    /// [`run_durably`](Self::run_durably) and did not finish: it enters `from.state` again with
    /// the recorded input, and goes on as the original would have (its timeout still counts
    /// from the original start). The history holds what this run did.
    ///
    /// A state name this definition does not have at its top level (the definition changed
    /// since) fails the execution with `States.Runtime`, naming it.
    pub async fn resume(
        &self,
        handler: &dyn TaskHandler,
        input: Value,
        from: &Resume,
        options: &ExecutionOptions,
        journal: &dyn Journal,
    ) -> Execution {
        self.execute(handler, input, options, Some(journal), Some(from))
            .await
    }

    async fn execute(
        &self,
        handler: &dyn TaskHandler,
        input: Value,
        options: &ExecutionOptions,
        journal: Option<&dyn Journal>,
        resume: Option<&Resume>,
    ) -> Execution {
        let (real, sleeper) = match &options.time {
            TimeMode::Virtual => (false, None),
            TimeMode::Real(s) => (true, Some(Arc::clone(s))),
        };
        let now_ms = if real {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        } else {
            options.start_time_ms
        };
        let (start_ms, clock_ms) = match resume {
            Some(from) if real => (from.started_ms, now_ms),
            Some(from) => (from.started_ms, from.entered_ms),
            None => (now_ms, now_ms),
        };
        let info = self.execution_info(&input, options, start_ms);
        let mut recorder = Recorder::new(options.history, &self.history_size);
        let input_snapshot = recorder.snapshot(&input);
        if recorder.enabled() {
            recorder.push_with(
                clock_ms,
                0,
                EventKind::ExecutionStarted { input: None },
                input_snapshot.clone(),
            );
        }
        let timeout_ms = self
            .machine
            .timeout_seconds
            .map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX));
        let mut exec = Exec {
            handler,
            clock: Clock::new(clock_ms, real),
            sleeper,
            rng: StdRng::seed_from_u64(options.seed),
            recorder,
            info,
            deadline_ms: timeout_ms.map(|t| start_ms.saturating_add(t)),
            journal,
        };
        let result = match resume {
            None => {
                exec.run_machine(&self.machine, input, input_snapshot, 0, None)
                    .await
            }
            Some(from) => match self
                .machine
                .states
                .iter()
                .position(|s| *s.name == from.state)
            {
                Some(index) => {
                    exec.run_machine(&self.machine, from.input.clone(), None, 0, Some(index))
                        .await
                }
                None => Err(Stop::Failed(StatesError::new(
                    names::RUNTIME,
                    format!(
                        "cannot resume at state '{}': the state machine has no such top-level state",
                        from.state
                    ),
                ))),
            },
        };
        let stop_ms = exec.clock.now_millis();
        let mut recorder = exec.recorder;
        let (status, output, error) = record_end(&mut recorder, result, stop_ms);
        Execution {
            status,
            output,
            error,
            history: recorder.finish(&self.history_size),
            start_ms,
            stop_ms,
        }
    }

    /// The name of the state an execution enters first (`StartAt`).
    pub fn start_at(&self) -> &str {
        &self.machine.states[self.machine.start_at].name
    }

    /// The context object's `Execution` and `StateMachine` (`$$.Execution.Id` …); left empty
    /// when the definition never reads `$$`, which saves formatting ARNs per execution.
    fn execution_info(
        &self,
        input: &Value,
        options: &ExecutionOptions,
        start_ms: i64,
    ) -> ExecutionInfo {
        if !self.uses_context {
            return ExecutionInfo::default();
        }
        let arn = |kind: &str, name: &str| {
            format!(
                "arn:aws:states:{}:{}:{kind}:{name}",
                options.region, options.account_id
            )
        };
        ExecutionInfo {
            id: arn(
                "execution",
                &format!("{}:{}", options.state_machine_name, options.execution_name),
            ),
            name: options.execution_name.clone(),
            input: input.clone(),
            start_time: format_millis(start_ms),
            state_machine_id: arn("stateMachine", &options.state_machine_name),
            state_machine_name: options.state_machine_name.clone(),
        }
    }
}

/// Records how the execution ended (`ExecutionSucceeded`, `…Failed` or `…TimedOut`) and gives
/// its status, output and error.
fn record_end(
    recorder: &mut Recorder,
    result: Result<Value, Stop>,
    stop_ms: i64,
) -> (Status, Option<Value>, Option<StatesError>) {
    match result {
        Ok(output) => {
            if recorder.enabled() {
                // The last top-level state's output is the execution's.
                let payload = recorder.last_output();
                recorder.push_with(
                    stop_ms,
                    0,
                    EventKind::ExecutionSucceeded { output: None },
                    payload,
                );
            }
            (Status::Succeeded, Some(output), None)
        }
        Err(Stop::Failed(error)) => {
            recorder.push(
                stop_ms,
                0,
                EventKind::ExecutionFailed {
                    error: error.clone(),
                },
            );
            (Status::Failed, None, Some(error))
        }
        Err(Stop::TimedOut) => {
            let error = StatesError::bare(names::TIMEOUT);
            recorder.push(
                stop_ms,
                0,
                EventKind::ExecutionTimedOut {
                    error: error.clone(),
                },
            );
            (Status::TimedOut, None, Some(error))
        }
    }
}

fn mentions_context(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("$$"),
        Value::Array(items) => items.iter().any(mentions_context),
        Value::Object(map) => map.values().any(mentions_context),
        _ => false,
    }
}
