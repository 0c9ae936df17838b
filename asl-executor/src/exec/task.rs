//! One attempt of a Task state: Parameters, the handler call, and its timeouts.

use std::task::Poll;

use serde_json::Value;

use super::data::{input_ref, seconds_at_path};
use super::timing::{ms_to_duration, secs_to_ms};
use super::{Exec, Stop, state_ctx};
use crate::definition::{Kind, State, TaskTimeout};
use crate::error::{StatesError, names};
use crate::history::EventKind;
use crate::task::TaskRequest;

impl Exec<'_> {
    pub(super) async fn attempt_task(
        &mut self,
        state: &State,
        raw: &Value,
        entered_ms: i64,
        retry_count: u32,
        depth: u32,
    ) -> Result<Value, Stop> {
        let Kind::Task {
            resource,
            parameters,
            timeout,
            ..
        } = &state.kind
        else {
            unreachable!("attempt_task is only called for Task states");
        };
        let effective = input_ref(&state.input_path, raw)?;
        let timeout_ms = match timeout {
            None => None,
            Some(TaskTimeout::Seconds(s)) => Some(secs_to_ms(*s)),
            Some(TaskTimeout::Path(p)) => Some(secs_to_ms(seconds_at_path(p, &effective)?)),
        };
        let input = match parameters {
            Some(template) => {
                let ctx = state_ctx(&self.info, state, entered_ms, retry_count);
                template.eval(&effective, &ctx, &mut self.rng)?
            }
            None => effective.into_owned(),
        };
        if self.recorder.enabled() {
            let payload = self.recorder.snapshot(&input);
            self.recorder.push_with(
                self.clock.now_millis(),
                depth,
                EventKind::TaskScheduled {
                    name: state.name.clone(),
                    resource: resource.clone(),
                    input: None,
                },
                payload,
            );
        }
        let started = self.clock.now_millis();
        let limit = match (timeout_ms, self.deadline_ms) {
            (Some(t), Some(d)) => Some(t.min(d - started)),
            (t, d) => t.or(d.map(|d| d - started)),
        };
        let request = TaskRequest {
            state_name: &state.name,
            resource,
            input,
            retry_count,
            clock: &self.clock,
        };
        let outcome = self.invoke_within(request, limit).await;
        let outcome = self.apply_time_limits(outcome, started, timeout_ms)?;
        self.record_task_end(state, depth, &outcome);
        outcome.map_err(Stop::Failed)
    }

    /// Calls the handler. In real time with a `limit`, races it against a timer and gives `None`
    /// when the timer wins; in virtual time the handler always finishes (its duration is
    /// judged afterwards, by [`Self::apply_time_limits`]).
    async fn invoke_within(
        &self,
        request: TaskRequest<'_>,
        limit: Option<i64>,
    ) -> Option<Result<Value, StatesError>> {
        match (&self.sleeper, limit) {
            (Some(sleeper), Some(limit)) if self.clock.is_real() => {
                let mut task = self.handler.invoke(request);
                let mut timer = sleeper.sleep(ms_to_duration(limit));
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(r) = task.as_mut().poll(cx) {
                        return Poll::Ready(Some(r));
                    }
                    timer.as_mut().poll(cx).map(|()| None)
                })
                .await
            }
            _ => Some(self.handler.invoke(request).await),
        }
    }

    /// Turns an attempt that took too long into the right failure, moving the clock to the
    /// moment the limit fell. Whichever limit is shorter wins: the task's own timeout is a
    /// catchable `States.Timeout`, the execution's ends everything.
    fn apply_time_limits(
        &mut self,
        outcome: Option<Result<Value, StatesError>>,
        started: i64,
        timeout_ms: Option<i64>,
    ) -> Result<Result<Value, StatesError>, Stop> {
        let elapsed = self.clock.now_millis() - started;
        let exec_left = self.deadline_ms.map(|d| d - started);
        let task_limit = timeout_ms.filter(|t| exec_left.is_none_or(|e| *t < e));
        match (outcome, task_limit) {
            (None, Some(t)) => {
                self.clock.set_virtual(started + t);
                Ok(Err(StatesError::new(names::TIMEOUT, "Task timed out.")))
            }
            (Some(_), Some(t)) if elapsed > t => {
                self.clock.set_virtual(started + t);
                Ok(Err(StatesError::new(names::TIMEOUT, "Task timed out.")))
            }
            (None, None) => {
                self.clock.set_virtual(started + exec_left.unwrap_or(0));
                Err(Stop::TimedOut)
            }
            (Some(outcome), _) => {
                if let Some(e) = exec_left.filter(|e| elapsed > *e) {
                    self.clock.set_virtual(started + e);
                    return Err(Stop::TimedOut);
                }
                Ok(outcome)
            }
        }
    }

    /// Records `TaskSucceeded` (with the output) or `TaskFailed`.
    fn record_task_end(&mut self, state: &State, depth: u32, outcome: &Result<Value, StatesError>) {
        if !self.recorder.enabled() {
            return;
        }
        let (kind, payload) = match outcome {
            Ok(v) => (
                EventKind::TaskSucceeded {
                    name: state.name.clone(),
                    output: None,
                },
                self.recorder.snapshot(v),
            ),
            Err(e) => (
                EventKind::TaskFailed {
                    name: state.name.clone(),
                    error: e.clone(),
                },
                None,
            ),
        };
        let now = self.clock.now_millis();
        self.recorder.push_with(now, depth, kind, payload);
    }
}
