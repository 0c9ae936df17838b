//! The interpreter loop: one `Exec` per execution, shared by nested branches and iterations.
//!
//! `mod.rs` walks states and applies Retry/Catch; the attempts of Task (`task.rs`) and
//! Parallel/Map (`nested.rs`) states, time (`timing.rs`) and the input/output paths
//! (`data.rs`) live beside it.

mod data;
mod nested;
mod task;
mod timing;

use std::sync::Arc;

use rand::rngs::StdRng;
use serde_json::Value;

use self::data::{
    apply_output_path, apply_result_path, check_result_path, input_ref, no_results,
    select_required, take_input,
};
use crate::clock::{Clock, Sleeper};
use crate::context::{ExecutionInfo, StateContext};
use crate::definition::{Expr, Kind, Machine, ResultHandling, State, Transition};
use crate::error::{StatesError, names};
use crate::history::{EventKind, Recorder};
use crate::journal::{Checkpoint, Journal};
use crate::snapshot::Snapshot;
use crate::task::TaskHandler;

/// Why a (sub-)machine stopped without output.
#[derive(Debug)]
pub(crate) enum Stop {
    Failed(StatesError),
    /// The execution-level `TimeoutSeconds` elapsed; passes through every catcher.
    TimedOut,
}

impl From<StatesError> for Stop {
    fn from(e: StatesError) -> Self {
        Stop::Failed(e)
    }
}

pub(crate) struct Exec<'h> {
    pub(crate) handler: &'h dyn TaskHandler,
    pub(crate) clock: Clock,
    pub(crate) sleeper: Option<Arc<dyn Sleeper>>,
    pub(crate) rng: StdRng,
    pub(crate) recorder: Recorder,
    pub(crate) info: ExecutionInfo,
    pub(crate) deadline_ms: Option<i64>,
    /// Told of every top-level state before it runs, when the execution is durable.
    pub(crate) journal: Option<&'h dyn Journal>,
}

/// What a state hands back to the loop: its output and where to go next.
struct Step {
    output: Value,
    next: Transition,
}

impl Exec<'_> {
    /// Runs `machine` on `input`, from its `StartAt` or from `start_at`; `snapshot` is `input`
    /// already captured for the history (the execution input), if any.
    pub(crate) async fn run_machine(
        &mut self,
        machine: &Machine,
        input: Value,
        snapshot: Option<Snapshot>,
        depth: u32,
        start_at: Option<usize>,
    ) -> Result<Value, Stop> {
        let mut index = start_at.unwrap_or(machine.start_at);
        let mut input = input;
        let mut snapshot = snapshot;
        loop {
            self.check_deadline()?;
            let state = &machine.states[index];
            let entered_ms = self.clock.now_millis();
            if depth == 0
                && state.kind.is_checkpoint()
                && let Some(journal) = self.journal
            {
                let checkpoint = Checkpoint {
                    state: &state.name,
                    input: &input,
                    entered_ms,
                    earlier: self.recorder.recorded(),
                };
                journal.entered(checkpoint).await;
            }
            if self.recorder.enabled() {
                let payload = match snapshot.take() {
                    Some(s) => Some(s),
                    None => self.recorder.snapshot(&input),
                };
                self.recorder.push_with(
                    entered_ms,
                    depth,
                    EventKind::StateEntered {
                        name: state.name.clone(),
                        state_type: state.kind.type_name(),
                        input: None,
                    },
                    payload,
                );
            }
            let step = self.run_state(state, input, entered_ms, depth).await?;
            if self.recorder.enabled() {
                // The output is the next state's input: one snapshot serves both events.
                snapshot = self.recorder.snapshot(&step.output);
                self.recorder.push_with(
                    self.clock.now_millis(),
                    depth,
                    EventKind::StateExited {
                        name: state.name.clone(),
                        output: None,
                    },
                    snapshot.clone(),
                );
            }
            match step.next {
                Transition::Next(n) => {
                    index = n;
                    input = step.output;
                }
                Transition::End => {
                    self.check_deadline()?;
                    return Ok(step.output);
                }
            }
        }
    }
}

pub(super) fn state_ctx<'s>(
    info: &'s ExecutionInfo,
    state: &'s State,
    entered_ms: i64,
    retry_count: u32,
) -> StateContext<'s> {
    StateContext {
        execution: info,
        state_name: &state.name,
        entered_ms,
        retry_count,
        map_item: None,
    }
}

impl Exec<'_> {
    async fn run_state(
        &mut self,
        state: &State,
        raw: Value,
        entered_ms: i64,
        depth: u32,
    ) -> Result<Step, Stop> {
        let next = state.next;
        match &state.kind {
            Kind::Pass {
                parameters,
                result,
                result_path,
            } => {
                let value = match (result, parameters) {
                    (Some(result), _) => result.clone(),
                    (None, Some(template)) => {
                        let effective = input_ref(&state.input_path, &raw)?;
                        let ctx = state_ctx(&self.info, state, entered_ms, 0);
                        template.eval(&effective, &ctx, &mut self.rng)?
                    }
                    (None, None) => input_ref(&state.input_path, &raw)?.into_owned(),
                };
                let output = apply_result_path(result_path, raw, value)?;
                Ok(Step {
                    output: apply_output_path(&state.output_path, output)?,
                    next,
                })
            }
            Kind::Choice { choices, default } => {
                let effective = take_input(&state.input_path, raw)?;
                let ctx = state_ctx(&self.info, state, entered_ms, 0);
                let mut chosen = None;
                for (rule, target) in choices {
                    if rule.eval(&effective, &ctx)? {
                        chosen = Some(*target);
                        break;
                    }
                }
                let target = chosen.or(*default).ok_or_else(|| {
                    StatesError::new(
                        names::NO_CHOICE_MATCHED,
                        format!(
                            "No Choice Rules matched and no Default was specified in state '{}'",
                            state.name
                        ),
                    )
                })?;
                Ok(Step {
                    output: apply_output_path(&state.output_path, effective)?,
                    next: Transition::Next(target),
                })
            }
            Kind::Wait(wait) => {
                let effective = take_input(&state.input_path, raw)?;
                let ms = self.wait_millis(wait, &effective)?;
                self.sleep(ms).await?;
                Ok(Step {
                    output: apply_output_path(&state.output_path, effective)?,
                    next,
                })
            }
            Kind::Succeed => {
                let effective = take_input(&state.input_path, raw)?;
                Ok(Step {
                    output: apply_output_path(&state.output_path, effective)?,
                    next: Transition::End,
                })
            }
            Kind::Fail { error, cause } => {
                let ctx = state_ctx(&self.info, state, entered_ms, 0);
                let error = eval_expr(error.as_ref(), &raw, &ctx, &mut self.rng, "ErrorPath")?;
                let cause = eval_expr(cause.as_ref(), &raw, &ctx, &mut self.rng, "CausePath")?;
                Err(Stop::Failed(StatesError {
                    error: error.unwrap_or_default(),
                    cause,
                }))
            }
            Kind::Task { handling, .. }
            | Kind::Parallel { handling, .. }
            | Kind::Map { handling, .. } => {
                self.run_with_retries(state, handling, raw, entered_ms, depth)
                    .await
            }
        }
    }

    /// Runs a Task, Parallel or Map state under its `Retry` and `Catch` rules.
    async fn run_with_retries(
        &mut self,
        state: &State,
        handling: &ResultHandling,
        raw: Value,
        entered_ms: i64,
        depth: u32,
    ) -> Result<Step, Stop> {
        let mut attempts = vec![0u32; handling.retry.len()];
        let mut retry_count = 0u32;
        loop {
            let result = match &state.kind {
                Kind::Task { .. } => {
                    self.attempt_task(state, &raw, entered_ms, retry_count, depth)
                        .await
                }
                Kind::Parallel { .. } => {
                    self.attempt_parallel(state, &raw, entered_ms, retry_count, depth)
                        .await
                }
                _ => {
                    self.attempt_map(state, &raw, entered_ms, retry_count, depth)
                        .await
                }
            };
            // ResultSelector and ResultPath belong to the attempt: their errors go through
            // Retry and Catch like the task's own (OutputPath can only raise States.Runtime).
            let shaped = result.and_then(|value| {
                let ctx = state_ctx(&self.info, state, entered_ms, retry_count);
                let value = match &handling.result_selector {
                    Some(selector) => selector.eval_owned(value, &ctx, &mut self.rng)?,
                    None => value,
                };
                check_result_path(&handling.result_path, &raw)?;
                Ok(value)
            });
            let error = match shaped {
                Ok(value) => {
                    let output = apply_result_path(&handling.result_path, raw, value)?;
                    return Ok(Step {
                        output: apply_output_path(&state.output_path, output)?,
                        next: state.next,
                    });
                }
                Err(Stop::TimedOut) => return Err(Stop::TimedOut),
                Err(Stop::Failed(e)) if e.is_terminal() => return Err(Stop::Failed(e)),
                Err(Stop::Failed(e)) => e,
            };
            let retrier = handling
                .retry
                .iter()
                .position(|r| matches_any(&r.errors, &error));
            if let Some(i) = retrier {
                let r = &handling.retry[i];
                if attempts[i] < r.max_attempts {
                    let delay = self.retry_delay(r, attempts[i]);
                    attempts[i] += 1;
                    retry_count += 1;
                    self.recorder.push(
                        self.clock.now_millis(),
                        depth,
                        EventKind::RetryScheduled {
                            name: state.name.clone(),
                            attempt: attempts[i],
                            delay,
                            error: error.error.clone(),
                        },
                    );
                    self.sleep(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
                        .await?;
                    continue;
                }
            }
            let Some(catcher) = handling
                .catch
                .iter()
                .find(|c| matches_any(&c.errors, &error))
            else {
                return Err(Stop::Failed(error));
            };
            let output = apply_result_path(&catcher.result_path, raw, error.to_error_output())?;
            if self.recorder.enabled() {
                self.recorder.push(
                    self.clock.now_millis(),
                    depth,
                    EventKind::CaughtError {
                        name: state.name.clone(),
                        error,
                        next: catcher.next_name.clone(),
                    },
                );
            }
            return Ok(Step {
                output,
                next: Transition::Next(catcher.next),
            });
        }
    }
}

fn eval_expr(
    expr: Option<&Expr>,
    raw: &Value,
    ctx: &StateContext<'_>,
    rng: &mut StdRng,
    field: &str,
) -> Result<Option<String>, StatesError> {
    let value = match expr {
        None => return Ok(None),
        Some(Expr::Literal(s)) => return Ok(Some(s.clone())),
        Some(Expr::Path(p)) => match p.root() {
            crate::path::Root::Input => select_required(p, raw, field)?,
            crate::path::Root::Context => ctx.select(p).ok_or_else(|| no_results(p, field))?,
        },
        Some(Expr::Intrinsic(call)) => call.eval(raw, ctx, rng)?,
    };
    match value {
        Value::String(s) => Ok(Some(s)),
        other => Err(StatesError::new(
            names::RUNTIME,
            format!("{field} must resolve to a string, got {other}"),
        )),
    }
}

/// `States.ALL` matches everything that reaches here (terminal errors are filtered earlier).
/// `States.TaskFailed`, in the words of the AWS error-handling guide, "acts as a wildcard
/// that matches any known error name except for `States.Timeout`"; on a Parallel or Map
/// state that includes errors raised inside its branches.
fn matches_any(patterns: &[String], error: &StatesError) -> bool {
    patterns.iter().any(|p| {
        *p == error.error
            || p == names::ALL
            || (p == names::TASK_FAILED && error.error != names::TIMEOUT)
    })
}
