//! One execution of the generated state machine on the local interpreter, and its report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use asl_executor::{
    BoxFuture, Checkpoint, EventKind, Execution, ExecutionOptions, HistoryMode, Journal,
    LambdaTasks, Resume, StateMachine, TimeMode, TokioSleeper,
};
use kernel::{InfraError, TripId};
use saga_runtime::local::InProcess;
use serde_json::Value;
use trip::domain::Trip;
use trip_saga::TripContext;
use trip_saga::trip_booking::{ASL, Function, NAME};

use crate::faults::FaultPlan;
use crate::functions::{Call, Functions, Observer};
use crate::journal::{Earlier, ExecutionLog};

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
        self.execute(request, faults, observer, seed, None).await
    }

    /// Runs one execution as [`run`](Self::run) does, recording each state it enters in `log`
    /// under its name (which [`ExecutionLog::start`] recorded first), with what it did before,
    /// so that a later process can take it up again (`from`); or takes up one that `from` says
    /// was cut short after doing what its [`Earlier`] says, which its checkpoints carry on.
    ///
    /// # Errors
    /// As [`run`](Self::run).
    pub async fn run_durably(
        &self,
        request: Value,
        faults: FaultPlan,
        observer: Arc<dyn Observer>,
        seed: u64,
        log: &ExecutionLog,
        from: Option<(&Resume, &Earlier)>,
    ) -> Result<Report, InfraError> {
        self.execute(request, faults, observer, seed, Some((log, from)))
            .await
    }

    /// When an execution started now starts, on its clock (what [`Resume::started_ms`] and
    /// an execution record keep).
    pub fn start_ms(&self) -> i64 {
        if self.real_time {
            epoch_millis_now()
        } else {
            ExecutionOptions::default().start_time_ms
        }
    }

    /// The state every execution enters first.
    pub fn first_state(&self) -> &str {
        self.machine.start_at()
    }

    async fn execute(
        &self,
        request: Value,
        faults: FaultPlan,
        observer: Arc<dyn Observer>,
        seed: u64,
        durable: Option<(&ExecutionLog, Option<(&Resume, &Earlier)>)>,
    ) -> Result<Report, InfraError> {
        let trip_id = request
            .get("trip_id")
            .and_then(Value::as_str)
            .and_then(|id| TripId::parse(id).ok())
            .unwrap_or_else(TripId::new);
        let resume = durable.and_then(|(_, from)| from).map(|(resume, _)| resume);
        // Calls say when they started from the execution's start, a resumed one's included, so
        // that its view reads as one timeline.
        let start_ms = resume.map_or_else(|| self.start_ms(), |from| from.started_ms);
        let functions = Functions::new(Arc::clone(&self.functions))
            .starting_at(start_ms)
            .with_faults(faults)
            .with_observer(observer)
            .in_real_time(self.real_time);
        let tasks = LambdaTasks::new(&functions);
        let name = format!("trip-{trip_id}");
        let options = ExecutionOptions {
            state_machine_name: NAME.into(),
            // Idempotency keys are `<execution name>:<state>`: one name per trip keeps them apart
            // on a store reused across runs.
            execution_name: name.clone(),
            seed,
            history: self.history,
            time: if self.real_time {
                TimeMode::Real(Arc::new(TokioSleeper))
            } else {
                TimeMode::Virtual
            },
            ..ExecutionOptions::default()
        };
        let started = Instant::now();
        let execution = match durable {
            None => self.machine.run(&tasks, request, &options).await,
            Some((log, from)) => {
                let nothing = Earlier::default();
                let journal = Checkpoints {
                    log,
                    name: &name,
                    functions: &functions,
                    earlier: from.map_or(&nothing, |(_, earlier)| earlier),
                };
                match from {
                    None => {
                        self.machine
                            .run_durably(&tasks, request, &options, &journal)
                            .await
                    }
                    Some((from, _)) => {
                        self.machine
                            .resume(&tasks, request, from, &options, &journal)
                            .await
                    }
                }
            }
        };
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

/// An execution's checkpoints, written to its record with what it did before each.
struct Checkpoints<'a> {
    log: &'a ExecutionLog,
    name: &'a str,
    /// The calls so far.
    functions: &'a Functions,
    /// What an earlier process did, when this one resumed the execution.
    earlier: &'a Earlier,
}

/// How long a checkpoint write is retried before the execution goes on without it.
const CHECKPOINT_ATTEMPTS: u32 = 8;

impl Journal for Checkpoints<'_> {
    fn entered<'a>(&'a self, checkpoint: Checkpoint<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let input = checkpoint.input.to_string();
            let before = self.earlier.then(Earlier::of(
                checkpoint.states_visited(),
                &self.functions.calls(),
                checkpoint.retries(),
            ));
            let before = serde_json::to_string(&before).expect("a path serializes");
            let mut pause = Duration::from_millis(50);
            for attempt in 1..=CHECKPOINT_ATTEMPTS {
                let written = self
                    .log
                    .checkpoint(
                        self.name,
                        checkpoint.state,
                        &input,
                        checkpoint.entered_ms,
                        &before,
                    )
                    .await;
                match written {
                    Ok(()) => return,
                    // Going on without it is safe: a restart resumes from the checkpoint
                    // before, and every state from there is idempotent. Stopping is not: the
                    // store answers the saga's own steps or it does not.
                    Err(error) if attempt == CHECKPOINT_ATTEMPTS => {
                        tracing::warn!(
                            execution = self.name,
                            state = checkpoint.state,
                            %error,
                            "checkpoint not recorded; a restart resumes from the one before"
                        );
                    }
                    Err(_) => {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(2));
                    }
                }
            }
        })
    }
}

fn epoch_millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
