//! One execution of the generated state machine on the local interpreter, and its report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use asl_executor::{
    EventKind, Execution, ExecutionOptions, HistoryMode, LambdaTasks, StateMachine, TimeMode,
    TokioSleeper,
};
use kernel::{InfraError, TripId};
use saga_runtime::local::InProcess;
use serde_json::Value;
use trip::domain::Trip;
use trip_saga::TripContext;
use trip_saga::trip_booking::{ASL, Function, NAME};

use crate::faults::FaultPlan;
use crate::functions::{Call, Functions, Observer};

/// The generated trip booking state machine, compiled once, and its functions on one store.
#[derive(Clone)]
pub struct Saga {
    machine: StateMachine,
    functions: Arc<InProcess<Function>>,
    real_time: bool,
    history: HistoryMode,
}

/// Everything one execution did, read back from the executor and the store.
#[derive(Debug, Clone)]
pub struct Report {
    /// The trip booked.
    pub trip_id: TripId,
    /// The execution: status, error, history.
    pub execution: Execution,
    /// Every function invocation, in order.
    pub calls: Vec<Call>,
    /// The trip as stored when the execution ended; `None` if no step ever recorded it.
    pub trip: Option<Trip>,
    /// Wall-clock time of the execution.
    pub wall: Duration,
}

impl Report {
    /// `SUCCEEDED`, `FAILED` or `TIMED_OUT`.
    pub fn status(&self) -> &'static str {
        self.execution.status.as_str()
    }

    /// The execution's error name, when it did not succeed.
    pub fn error(&self) -> Option<&str> {
        self.execution.error.as_ref().map(|e| e.error.as_str())
    }

    /// The states entered, in order.
    pub fn states_visited(&self) -> Vec<&str> {
        self.execution.history.states_visited()
    }

    /// How many retries the executor scheduled.
    pub fn retries(&self) -> usize {
        self.execution
            .history
            .events()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::RetryScheduled { .. }))
            .count()
    }

    /// Time on the execution clock (virtual unless run in real time), in milliseconds.
    pub fn clock_ms(&self) -> i64 {
        self.execution.stop_ms - self.execution.start_ms
    }

    /// `SUCCEEDED`, or `FAILED SoldOut`.
    pub fn outcome(&self) -> String {
        match self.error() {
            Some(error) => format!("{} {error}", self.status()),
            None => self.status().to_owned(),
        }
    }
}

impl Saga {
    /// The generated state machine on `context`'s store.
    pub fn new(context: TripContext) -> Self {
        let machine = StateMachine::from_json(ASL)
            .expect("the generated ASL compiles: it is checked by the trip crate's tests");
        Self {
            machine,
            functions: Arc::new(InProcess::new(context)),
            real_time: false,
            history: HistoryMode::WithoutPayloads,
        }
    }

    /// Waits and retry back-offs really sleep (the default is virtual time: instant).
    #[must_use]
    pub fn in_real_time(mut self, real_time: bool) -> Self {
        self.real_time = real_time;
        self
    }

    /// How much history executions record. The default, [`HistoryMode::WithoutPayloads`],
    /// keeps every event (the path, retries, errors) but not the JSON each state saw, as Step
    /// Functions' own logging does unless `includeExecutionData` is set;
    /// [`HistoryMode::Full`] keeps the payloads too, to inspect what each Task was sent.
    #[must_use]
    pub fn with_history(mut self, history: HistoryMode) -> Self {
        self.history = history;
        self
    }

    /// The services the functions call.
    pub fn context(&self) -> &TripContext {
        self.functions.context()
    }

    /// Runs one execution of `request` with `faults`, telling `observer` of every invocation.
    ///
    /// `seed` drives the retry jitter, so an execution replays the same in virtual time.
    ///
    /// # Errors
    /// Only when the trip cannot be read back from the store afterwards; every outcome of the
    /// execution itself is in the report.
    pub async fn run(
        &self,
        request: Value,
        faults: FaultPlan,
        observer: Arc<dyn Observer>,
        seed: u64,
    ) -> Result<Report, InfraError> {
        let trip_id = request
            .get("trip_id")
            .and_then(Value::as_str)
            .and_then(|id| TripId::parse(id).ok())
            .unwrap_or_else(TripId::new);
        let defaults = ExecutionOptions::default();
        // The executor starts a real-time clock at "now" and a virtual one at the fixed default.
        let start_ms = if self.real_time {
            epoch_millis_now()
        } else {
            defaults.start_time_ms
        };
        let functions = Functions::new(Arc::clone(&self.functions))
            .starting_at(start_ms)
            .with_faults(faults)
            .with_observer(observer)
            .in_real_time(self.real_time);
        let tasks = LambdaTasks::new(&functions);
        let options = ExecutionOptions {
            state_machine_name: NAME.into(),
            // Idempotency keys are `<execution name>:<state>`: one name per trip keeps them apart
            // on a store reused across runs.
            execution_name: format!("trip-{trip_id}"),
            seed,
            history: self.history,
            time: if self.real_time {
                TimeMode::Real(Arc::new(TokioSleeper))
            } else {
                TimeMode::Virtual
            },
            ..defaults
        };
        let started = Instant::now();
        let execution = self.machine.run(&tasks, request, &options).await;
        let wall = started.elapsed();
        drop(tasks);
        let trip = self.context().trips.get(trip_id).await?;
        Ok(Report {
            trip_id,
            execution,
            calls: functions.into_calls(),
            trip,
            wall,
        })
    }
}

fn epoch_millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
