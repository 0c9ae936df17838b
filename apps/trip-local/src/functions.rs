//! The saga's Lambda functions, in-process: what the executor's Task states invoke.
//!
//! The generated ASL names each function by a `${<Name>FunctionArn}` placeholder that CDK fills
//! with a real ARN. [`saga_runtime::local::InProcess`] resolves it through the saga's generated
//! function manifest to the same typed entrypoint the Lambda binary runs, with Lambda's error
//! envelope, so `Retry` and `Catch` see the same error names as on AWS. This module adds what a
//! local run needs around that: faults from a [`FaultPlan`], and a record of every call.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use asl_executor::{BoxFuture, LambdaError, LambdaInvocation, LambdaInvoker, StatesError};
use saga_runtime::local::InProcess;
use serde_json::Value;
use trip_saga::trip_booking::Function;

use crate::faults::{FUNCTION_TIMEOUT_ERROR, FaultPlan, Injection, LOST_RESPONSE_ERROR};

/// How one invocation ended, as Step Functions saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function returned a result.
    Succeeded,
    /// The invocation failed with this error name and message.
    Failed {
        /// The name `Retry`/`Catch` match.
        error: String,
        /// The message.
        message: String,
    },
}

/// One invocation of a function, reported as soon as it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The Task state.
    pub state: String,
    /// 1 for the first invocation of the state in this execution, 2 for its first retry …
    pub attempt: u32,
    /// What Step Functions saw.
    pub outcome: Outcome,
    /// What was injected, e.g. `injected StoreThrottled`; `None` when the call ran untouched.
    pub injected: Option<String>,
    /// When the call started, in milliseconds of the execution clock since the execution began
    /// (virtual unless run in real time): retry back-offs show here.
    pub at_ms: i64,
    /// How long the call took on the execution clock, in milliseconds (injected delays).
    pub clock_ms: i64,
    /// Wall-clock time the call took.
    pub wall: Duration,
}

impl Call {
    /// The error name, when the call failed.
    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Succeeded => None,
            Outcome::Failed { error, .. } => Some(error),
        }
    }
}

/// Told about every invocation as it returns, e.g. to print the path live.
pub trait Observer: Send + Sync {
    /// One invocation has returned.
    fn invoked(&self, call: &Call);
}

/// Observes nothing.
impl Observer for () {
    fn invoked(&self, _: &Call) {}
}

/// The in-process [`LambdaInvoker`] of one execution: resolves placeholders, applies faults,
/// runs the real handlers on `context`, and records every call.
///
/// Attempts are counted per state by the invoker itself, so use one `Functions` per execution.
pub struct Functions {
    in_process: Arc<InProcess<Function>>,
    faults: FaultPlan,
    observer: Arc<dyn Observer>,
    real_time: bool,
    started_at_ms: i64,
    calls: Mutex<Vec<Call>>,
}

impl Functions {
    /// The saga's functions (shared by every execution: they hold the store and the parsed
    /// manifest), without faults, observed by nobody, in virtual time.
    pub fn new(in_process: Arc<InProcess<Function>>) -> Self {
        Self {
            in_process,
            faults: FaultPlan::none(),
            observer: Arc::new(()),
            real_time: false,
            started_at_ms: 0,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Applies `faults` around the handlers.
    #[must_use]
    pub fn with_faults(mut self, faults: FaultPlan) -> Self {
        self.faults = faults;
        self
    }

    /// Reports every call to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// Injected delays sleep for real instead of advancing the virtual clock (which is a no-op
    /// when the execution runs in real time).
    #[must_use]
    pub fn in_real_time(mut self, real_time: bool) -> Self {
        self.real_time = real_time;
        self
    }

    /// The execution's start on its clock, in epoch milliseconds, so that calls can say when
    /// they happened relative to it.
    #[must_use]
    pub fn starting_at(mut self, epoch_ms: i64) -> Self {
        self.started_at_ms = epoch_ms;
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().clone()
    }

    /// Every call, in order, once the execution is over.
    pub fn into_calls(self) -> Vec<Call> {
        self.calls
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Call>> {
        // A panicking observer must not hide the calls recorded before it.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_attempt(&self, state: &str) -> u32 {
        let done = self.lock().iter().filter(|c| c.state == state).count();
        u32::try_from(done).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    async fn call(&self, invocation: LambdaInvocation<'_>) -> (Result<Value, LambdaError>, Call) {
        let started = Instant::now();
        let clock = invocation.clock;
        let clock_start = clock.now_millis();
        let state = invocation.state_name.to_owned();
        let attempt = self.next_attempt(&state);
        let injection = self.faults.injection(&state, attempt);
        self.wait(clock, injection.delay).await;
        let result = self.answer(invocation, &injection).await;
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            Err(LambdaError::Function {
                error_type,
                error_message,
            }) => Outcome::Failed {
                error: error_type.clone(),
                message: error_message.clone(),
            },
            Err(LambdaError::Service(e)) => Outcome::Failed {
                error: e.error.clone(),
                message: e.cause.clone().unwrap_or_default(),
            },
        };
        let call = Call {
            state,
            attempt,
            outcome,
            injected: describe(&injection),
            at_ms: clock_start - self.started_at_ms,
            clock_ms: clock.now_millis() - clock_start,
            wall: started.elapsed(),
        };
        (result, call)
    }

    async fn answer(
        &self,
        invocation: LambdaInvocation<'_>,
        injection: &Injection,
    ) -> Result<Value, LambdaError> {
        if let Some((error, message)) = &injection.fail {
            return Err(LambdaError::Function {
                error_type: error.clone(),
                error_message: message.clone(),
            });
        }
        let clock = invocation.clock;
        let state = invocation.state_name;
        let output = self
            .in_process
            .call(invocation.function_name, invocation.payload)
            .await?;
        if injection.time_out {
            // The effect happened; then the time ran out before anyone heard of it.
            return match task_timeout(state) {
                Some(limit) => {
                    // Outlasting the Task's TimeoutSeconds: the executor answers States.Timeout
                    // (in real time its timer drops this call while it waits here).
                    self.wait(clock, limit + Duration::from_secs(1)).await;
                    Ok(output)
                }
                None => Err(LambdaError::Service(StatesError::new(
                    FUNCTION_TIMEOUT_ERROR,
                    "injected: the function ran out of time after its effect",
                ))),
            };
        }
        if injection.lose_response {
            // The effect happened and its result is dropped: only the retry's idempotency can
            // keep it from happening twice.
            return Err(LambdaError::Service(StatesError::new(
                LOST_RESPONSE_ERROR,
                "injected: the function ran but its response was lost",
            )));
        }
        Ok(output)
    }
}

impl Functions {
    /// Lets `by` pass: a real sleep, or the execution's virtual clock moved on. Virtual time
    /// also yields to the runtime, once per invocation and once per 100 ms of delay, so that
    /// executions run side by side on one thread interleave their calls, and a delayed call
    /// lets the others overtake it, as it would in real time: concurrency, deterministically.
    async fn wait(&self, clock: &asl_executor::Clock, by: Duration) {
        if self.real_time {
            if !by.is_zero() {
                tokio::time::sleep(by).await;
            }
            return;
        }
        clock.advance(by);
        let turns = 1 + (by.as_millis() / 100).min(MAX_TURNS);
        for _ in 0..turns {
            tokio::task::yield_now().await;
        }
    }
}

/// At most this many extra turns for one delay: a long delay lets every other execution run
/// to its end anyway.
const MAX_TURNS: u128 = 1_000;

/// The `TimeoutSeconds` of a Task state, as the saga declares it.
fn task_timeout(state: &str) -> Option<Duration> {
    trip_saga::trip_booking::SAGA
        .task_timeout_seconds(state)
        .map(|seconds| Duration::from_secs(u64::from(seconds)))
}

fn describe(injection: &Injection) -> Option<String> {
    if injection.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !injection.delay.is_zero() {
        parts.push(format!("+{:?} delay", injection.delay));
    }
    if injection.fail.is_some() {
        // The error's name is on the line already.
        parts.push("injected".to_owned());
    }
    if injection.lose_response {
        parts.push("ran, response lost".to_owned());
    }
    if injection.time_out {
        parts.push("ran, then timed out".to_owned());
    }
    Some(parts.join(", "))
}

/// By reference, so that the caller keeps the `Functions` and reads its calls afterwards.
impl LambdaInvoker for &Functions {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        Box::pin(async move {
            let (result, call) = self.call(invocation).await;
            self.lock().push(call.clone());
            self.observer.invoked(&call);
            result
        })
    }
}
