//! The executions this server started, by trip, and the idempotency keys that name them.
//!
//! Step Functions refuses a second execution with a name already used, and the API Gateway
//! integration names executions after the trip: that is what makes a retried `POST` safe on
//! AWS. Here the same guarantee comes from one map under one lock: deciding whether a request
//! starts an execution and recording that it did are one step ([`Executions::claim`]), so two
//! identical requests arriving together cannot both start one.
//!
//! The registry lives in memory. Trips live in the store, so a client-chosen `trip_id` is also
//! checked there (the caller passes what it found): a retry after a restart, on a DynamoDB store,
//! still starts nothing. Idempotency keys and execution histories do not outlive the process.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kernel::TripId;
use serde_json::Value;
use trip::domain::{Trip, TripRequest};

use super::body::{ExecutionCounts, ExecutionStatus, ExecutionView, Invocation};
use super::schema::Decoded;
use crate::execution::Report;
use crate::functions::{Call, Observer};

/// Every execution this server knows, and the idempotency keys it has seen.
#[derive(Default)]
pub(crate) struct Executions {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    trips: HashMap<TripId, Arc<TripExecution>>,
    /// Key → the body first sent with it, and the trip that body was given.
    keys: HashMap<String, (Value, TripId)>,
}

/// What a request may do.
pub(crate) enum Claim {
    /// Nothing had this trip or key: start this execution (it is registered, as running).
    Start(Arc<TripExecution>),
    /// The same request was accepted before, for this trip: answer as then, start nothing.
    Replay(TripId),
    /// The key came with another body before, which was given this trip.
    KeyConflict(TripId),
    /// The trip id is taken by another request.
    TripConflict,
}

impl Executions {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (each change is one insert).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this server has an execution for `trip_id`.
    pub(crate) fn knows(&self, trip_id: TripId) -> bool {
        self.lock().trips.contains_key(&trip_id)
    }

    /// The execution of `trip_id`, if this server has one.
    pub(crate) fn get(&self, trip_id: TripId) -> Option<Arc<TripExecution>> {
        self.lock().trips.get(&trip_id).cloned()
    }

    /// Decides what `decoded`, sent with `key`, may do, and registers what it starts.
    ///
    /// `recorded` is the trip the store holds under the request's id, read by the caller when
    /// the client chose the id and this server does not know it.
    pub(crate) fn claim(
        &self,
        key: Option<&str>,
        decoded: &Decoded,
        recorded: Option<&Trip>,
    ) -> Claim {
        let mut state = self.lock();
        if let Some((body, trip_id)) = key.and_then(|key| state.keys.get(key)) {
            return if *body == decoded.body {
                Claim::Replay(*trip_id)
            } else {
                Claim::KeyConflict(*trip_id)
            };
        }
        let request = &decoded.request;
        let trip_id = request.trip_id;
        let claim = match state.trips.entry(trip_id) {
            Entry::Occupied(known) if known.get().request == *request => Claim::Replay(trip_id),
            Entry::Occupied(_) => return Claim::TripConflict,
            Entry::Vacant(vacant) => match recorded {
                Some(trip) if trip.request.as_ref() == Some(request) => {
                    vacant.insert(Arc::new(TripExecution::new(request.clone(), None)));
                    Claim::Replay(trip_id)
                }
                // Settled before its creation ran (no request to compare), or another request.
                Some(_) => return Claim::TripConflict,
                None => {
                    let execution = Arc::new(TripExecution::new(
                        request.clone(),
                        Some(Progress::Running(Vec::new())),
                    ));
                    vacant.insert(execution.clone());
                    Claim::Start(execution)
                }
            },
        };
        if let Some(key) = key {
            state
                .keys
                .insert(key.to_owned(), (decoded.body.clone(), trip_id));
        }
        claim
    }

    /// How many executions are running and how many have ended.
    pub(crate) fn counts(&self) -> ExecutionCounts {
        let executions: Vec<Arc<TripExecution>> = self.lock().trips.values().cloned().collect();
        let mut counts = ExecutionCounts::default();
        for execution in executions {
            match execution.status() {
                Some(ExecutionStatus::Running) => counts.running += 1,
                Some(_) => counts.finished += 1,
                None => {}
            }
        }
        counts
    }
}

/// One trip's execution as this server knows it.
pub(crate) struct TripExecution {
    /// The saga's input.
    pub(crate) request: TripRequest,
    /// `None` when the execution ran before this server started (the trip was found in the
    /// store): there is no history to show.
    progress: Mutex<Option<Progress>>,
}

enum Progress {
    /// The calls made so far.
    Running(Vec<Call>),
    /// How it ended.
    Finished(ExecutionView),
}

impl TripExecution {
    fn new(request: TripRequest, progress: Option<Progress>) -> Self {
        Self {
            request,
            progress: Mutex::new(progress),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Progress>> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The execution's name, as `Saga::run` gives it.
    pub(crate) fn name(&self) -> String {
        execution_name(self.request.trip_id)
    }

    /// `None` for an execution this server did not run.
    pub(crate) fn status(&self) -> Option<ExecutionStatus> {
        match &*self.lock() {
            None => None,
            Some(Progress::Running(_)) => Some(ExecutionStatus::Running),
            Some(Progress::Finished(view)) => Some(view.status),
        }
    }

    /// How it stands: the calls so far while running, the whole path once ended.
    pub(crate) fn view(&self) -> Option<ExecutionView> {
        match &*self.lock() {
            None => None,
            Some(Progress::Running(calls)) => Some(running_view(self.name(), calls)),
            Some(Progress::Finished(view)) => Some(view.clone()),
        }
    }

    /// The execution ended with `report`.
    pub(crate) fn finish(&self, report: &Report) {
        let view = ExecutionView {
            name: execution_name(report.trip_id),
            status: report.execution.status.into(),
            error: report.execution.error.as_ref().map(|e| e.error.clone()),
            cause: report
                .execution
                .error
                .as_ref()
                .and_then(|e| e.cause.clone()),
            states_visited: report
                .states_visited()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            invocations: report.calls.iter().map(invocation).collect(),
            retries: u32::try_from(report.retries()).unwrap_or(u32::MAX),
        };
        *self.lock() = Some(Progress::Finished(view));
    }

    /// The execution could not be run to its end (the runner failed, not a step): what it did
    /// so far, marked failed with `cause`.
    pub(crate) fn abandon(&self, cause: String) {
        let mut progress = self.lock();
        let calls = match &*progress {
            Some(Progress::Running(calls)) => calls.clone(),
            _ => Vec::new(),
        };
        let mut view = running_view(self.name(), &calls);
        view.status = ExecutionStatus::Failed;
        view.error = Some(RUNNER_FAILED.to_owned());
        view.cause = Some(cause);
        *progress = Some(Progress::Finished(view));
    }
}

/// The error of an execution the local runner could not finish (a store failure while reading
/// the trip back, a panic): not a state machine error, so not one of the saga's names.
pub(crate) const RUNNER_FAILED: &str = "Local.RunnerFailed";

/// Records each call of a running execution as it returns, so `GET` shows the path live.
impl Observer for TripExecution {
    fn invoked(&self, call: &Call) {
        if let Some(Progress::Running(calls)) = &mut *self.lock() {
            calls.push(call.clone());
        }
    }
}

/// `trip-<id>`: the name `Saga::run` gives a trip's execution, and the idempotency keys of its
/// steps start with.
pub(crate) fn execution_name(trip_id: TripId) -> String {
    format!("trip-{trip_id}")
}

fn invocation(call: &Call) -> Invocation {
    Invocation {
        state: call.state.clone(),
        attempt: call.attempt,
        error: call.error().map(str::to_owned),
        message: match &call.outcome {
            crate::functions::Outcome::Succeeded => None,
            crate::functions::Outcome::Failed { message, .. } => Some(message.clone()),
        },
        at_ms: call.at_ms,
    }
}

/// What is known before the execution ends: the calls so far. The states visited are the Task
/// states invoked (the history, with the Pass, Choice and Fail states, comes with the report).
fn running_view(name: String, calls: &[Call]) -> ExecutionView {
    let mut states_visited: Vec<String> = Vec::new();
    for call in calls {
        if states_visited.last() != Some(&call.state) {
            states_visited.push(call.state.clone());
        }
    }
    ExecutionView {
        name,
        status: ExecutionStatus::Running,
        error: None,
        cause: None,
        states_visited,
        invocations: calls.iter().map(invocation).collect(),
        retries: u32::try_from(calls.iter().filter(|c| c.attempt > 1).count()).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use serde_json::json;

    use super::*;
    use crate::api::schema::RequestDecoder;
    use crate::functions::Outcome;

    fn decoded(card: &str, trip_id: Option<TripId>) -> Decoded {
        let mut body = json!({
            "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
            "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
            "payment": { "card": card }
        });
        if let Some(id) = trip_id {
            body["trip_id"] = json!(id);
        }
        RequestDecoder::new()
            .decode(body.to_string().as_bytes(), TripId::new)
            .unwrap()
    }

    fn started(claim: &Claim) -> TripId {
        match claim {
            Claim::Start(execution) => execution.request.trip_id,
            _ => panic!("expected a start"),
        }
    }

    #[test]
    fn a_key_replays_its_body_and_refuses_another() {
        let executions = Executions::default();
        let first = decoded("tok_visa_4242", None);
        let trip_id = started(&executions.claim(Some("k"), &first, None));
        // The retry decodes to another assigned id; the key maps it back.
        let retry = decoded("tok_visa_4242", None);
        assert!(
            matches!(executions.claim(Some("k"), &retry, None), Claim::Replay(id) if id == trip_id)
        );
        let other = decoded("tok_visa_9999", None);
        assert!(matches!(
            executions.claim(Some("k"), &other, None),
            Claim::KeyConflict(id) if id == trip_id
        ));
        assert!(
            matches!(executions.claim(None, &retry, None), Claim::Start(_)),
            "no key, no link"
        );
    }

    #[test]
    fn a_client_trip_id_replays_its_request_under_any_key() {
        let executions = Executions::default();
        let trip_id = TripId::new();
        let first = decoded("tok_visa_4242", Some(trip_id));
        started(&executions.claim(None, &first, None));
        assert!(matches!(
            executions.claim(Some("late-key"), &first, None),
            Claim::Replay(_)
        ));
        assert!(matches!(
            executions.claim(Some("late-key"), &first, None),
            Claim::Replay(_)
        ));
        let other = decoded("tok_visa_9999", Some(trip_id));
        assert!(matches!(
            executions.claim(None, &other, None),
            Claim::TripConflict
        ));
    }

    #[test]
    fn a_trip_in_the_store_is_replayed_or_refused_never_restarted() {
        let executions = Executions::default();
        let trip_id = TripId::new();
        let request = decoded("tok_visa_4242", Some(trip_id));
        let (recorded, _) = Trip::requested(request.request.clone());
        let other = decoded("tok_visa_9999", Some(trip_id));
        assert!(matches!(
            executions.claim(None, &other, Some(&recorded)),
            Claim::TripConflict
        ));
        assert!(matches!(
            executions.claim(None, &request, Some(&recorded)),
            Claim::Replay(_)
        ));
        let execution = executions.get(trip_id).unwrap();
        assert_eq!((execution.status(), execution.view()), (None, None));
        assert_eq!(executions.counts(), ExecutionCounts::default());
    }

    #[test]
    fn simultaneous_duplicates_start_once() {
        let executions = Executions::default();
        let request = decoded("tok_visa_4242", None);
        let barrier = Barrier::new(8);
        let starts: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        matches!(executions.claim(Some("k"), &request, None), Claim::Start(_))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(starts, 1);
        assert_eq!(executions.counts().running, 1);
    }

    #[test]
    fn a_running_execution_shows_its_calls_and_an_abandoned_one_says_why() {
        let executions = Executions::default();
        let Claim::Start(execution) = executions.claim(None, &decoded("tok_visa_4242", None), None)
        else {
            panic!("expected a start");
        };
        let call = |state: &str, attempt, outcome| Call {
            state: state.to_owned(),
            attempt,
            outcome,
            injected: None,
            at_ms: 0,
            clock_ms: 0,
            wall: std::time::Duration::ZERO,
        };
        let throttled = Outcome::Failed {
            error: "StoreThrottled".into(),
            message: "slow down".into(),
        };
        execution.invoked(&call("CreateTrip", 1, Outcome::Succeeded));
        execution.invoked(&call("ReserveFlight", 1, throttled));
        execution.invoked(&call("ReserveFlight", 2, Outcome::Succeeded));
        let view = execution.view().unwrap();
        assert_eq!(view.status, ExecutionStatus::Running);
        assert_eq!(view.states_visited, ["CreateTrip", "ReserveFlight"]);
        assert_eq!(view.retries, 1);
        assert_eq!(view.invocations[1].error.as_deref(), Some("StoreThrottled"));
        assert_eq!(view.invocations[1].message.as_deref(), Some("slow down"));

        execution.abandon("the store went away".into());
        let view = execution.view().unwrap();
        assert_eq!(view.status, ExecutionStatus::Failed);
        assert_eq!(view.error.as_deref(), Some(RUNNER_FAILED));
        assert_eq!(view.invocations.len(), 3, "what it did is kept");
        assert_eq!(executions.counts().finished, 1);
    }
}
