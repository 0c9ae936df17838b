//! The executions this server started, by trip.
//!
//! Executions are named after their trip (`trip-<id>`), and a trip's id is the request's
//! `Idempotency-Key`. On AWS, API Gateway passes the request straight to `StartExecution`, and
//! Step Functions decides: the same name with the same input while that execution runs is the
//! same execution (answered again, nothing started); a different input while it runs, or any
//! input once it has ended, is `ExecutionAlreadyExists`. [`Executions::claim`] decides the same
//! way, on the same input text, so the two APIs answer alike in every case. Deciding and
//! recording are one step under one lock, so two identical requests arriving together cannot
//! both start an execution.
//!
//! The registry lives in memory and holds the executions this process runs, until their end is
//! recorded: what outlives the process is the execution log ([`crate::journal`]), which the
//! caller consults for a trip this registry does not know (and, for trips booked without the
//! API, the store). So the registry's size is bounded by what runs at once, not by how many
//! trips were ever booked.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kernel::TripId;
use trip::domain::TripRequest;

use super::body::{ExecutionCounts, ExecutionStatus, ExecutionView};
use super::schema::Decoded;
use crate::execution::Report;
use crate::functions::{Call, Observer};
use crate::journal::Earlier;

/// Every execution this server knows, and the idempotency keys it has seen.
#[derive(Default)]
pub(crate) struct Executions {
    state: Mutex<State>,
    counts: Arc<Counts>,
}

/// How many executions run and how many have ended, kept as they start and end, so that
/// `/health` answers in constant time however many executions this server has run.
#[derive(Default)]
struct Counts {
    running: AtomicU32,
    finished: AtomicU32,
}

#[derive(Default)]
struct State {
    trips: HashMap<TripId, Arc<TripExecution>>,
}

/// What a request may do.
pub(crate) enum Claim {
    /// Nothing had this trip: start this execution (it is registered, as running).
    Start(Arc<TripExecution>),
    /// The same request started this trip's execution, which still runs: answer as then,
    /// start nothing, once its start is recorded ([`TripExecution::wait_recorded`]).
    Replay(Arc<TripExecution>),
    /// The trip exists: its execution has ended, or it was started with another input.
    Exists(TripId),
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

    /// Decides what `decoded` may do, and registers what it starts. `recorded` says whether the
    /// store holds its trip (the caller looks when this server does not know the trip).
    pub(crate) fn claim(&self, decoded: &Decoded, recorded: bool) -> Claim {
        let mut state = self.lock();
        let trip_id = decoded.request.trip_id;
        match state.trips.entry(trip_id) {
            Entry::Occupied(known) => {
                let known = known.get();
                if known.input == decoded.input && known.status() == ExecutionStatus::Running {
                    Claim::Replay(known.clone())
                } else {
                    Claim::Exists(trip_id)
                }
            }
            // Booked before this server started: that execution has ended.
            Entry::Vacant(_) if recorded => Claim::Exists(trip_id),
            Entry::Vacant(vacant) => {
                let execution = Arc::new(TripExecution::new(
                    decoded.request.clone(),
                    decoded.input.clone(),
                    Earlier::default(),
                    None,
                    self.counts.clone(),
                ));
                self.counts.running.fetch_add(1, Ordering::Relaxed);
                vacant.insert(execution.clone());
                Claim::Start(execution)
            }
        }
    }

    /// Registers an execution that an earlier process started and did not finish, after doing
    /// `earlier`, to run again here; `None` when this registry has one of that trip already.
    pub(crate) fn resumed(
        &self,
        request: TripRequest,
        input: String,
        earlier: Earlier,
    ) -> Option<Arc<TripExecution>> {
        let mut state = self.lock();
        let Entry::Vacant(vacant) = state.trips.entry(request.trip_id) else {
            return None;
        };
        let execution = Arc::new(TripExecution::new(
            request,
            input,
            earlier,
            Some(true),
            self.counts.clone(),
        ));
        self.counts.running.fetch_add(1, Ordering::Relaxed);
        vacant.insert(execution.clone());
        Some(execution)
    }

    /// Withdraws a start that [`claim`](Self::claim) granted and that never ran (its record
    /// could not be written, or another process had one): as if it had never been claimed.
    pub(crate) fn withdraw(&self, execution: &Arc<TripExecution>) {
        // Whoever waits on its start answers for itself (a replay claims again).
        execution.mark_recorded(false);
        let mut state = self.lock();
        let trip_id = execution.request.trip_id;
        if state
            .trips
            .get(&trip_id)
            .is_some_and(|known| Arc::ptr_eq(known, execution))
        {
            state.trips.remove(&trip_id);
            if execution.status() == ExecutionStatus::Running {
                self.counts.running.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Forgets an execution whose end is recorded in the execution log, which answers for it
    /// from now on.
    pub(crate) fn retire(&self, execution: &Arc<TripExecution>) {
        let mut state = self.lock();
        let trip_id = execution.request.trip_id;
        let ended = execution.status() != ExecutionStatus::Running;
        if ended
            && state
                .trips
                .get(&trip_id)
                .is_some_and(|known| Arc::ptr_eq(known, execution))
        {
            state.trips.remove(&trip_id);
        }
    }

    /// How many executions the registry holds (running, or ended and not yet retired).
    pub(crate) fn len(&self) -> usize {
        self.lock().trips.len()
    }

    /// How many executions are running and how many have ended.
    pub(crate) fn counts(&self) -> ExecutionCounts {
        ExecutionCounts {
            running: self.counts.running.load(Ordering::Relaxed),
            finished: self.counts.finished.load(Ordering::Relaxed),
        }
    }
}

/// One trip's execution as this server runs it.
pub(crate) struct TripExecution {
    /// The saga's input, decoded.
    pub(crate) request: TripRequest,
    /// The saga's input as sent to the state machine: what a retry must repeat.
    pub(crate) input: String,
    /// What an earlier process did of it, when this one resumed it: its view starts with that.
    pub(crate) earlier: Earlier,
    /// Whether its start is in the execution log: unknown (`None`) from its claim until the
    /// log answers. A replay answers 202 only once it is `Some(true)`: the first request's
    /// log write may still fail, and then nothing runs.
    recorded: tokio::sync::watch::Sender<Option<bool>>,
    progress: Mutex<Progress>,
    counts: Arc<Counts>,
}

enum Progress {
    /// The calls made so far.
    Running(Vec<Call>),
    /// How it ended.
    Finished(ExecutionView),
}

impl TripExecution {
    fn new(
        request: TripRequest,
        input: String,
        earlier: Earlier,
        recorded: Option<bool>,
        counts: Arc<Counts>,
    ) -> Self {
        Self {
            request,
            input,
            earlier,
            recorded: tokio::sync::watch::Sender::new(recorded),
            progress: Mutex::new(Progress::Running(Vec::new())),
            counts,
        }
    }

    /// Says whether its start was recorded in the execution log (it runs) or not (it never
    /// will, and is withdrawn).
    pub(crate) fn mark_recorded(&self, recorded: bool) {
        self.recorded.send_replace(Some(recorded));
    }

    /// Waits until its start is recorded or withdrawn; whether it was recorded.
    pub(crate) async fn wait_recorded(&self) -> bool {
        let mut known = self.recorded.subscribe();
        // The sender lives as long as `self`, so the wait ends only with an answer.
        known
            .wait_for(Option::is_some)
            .await
            .is_ok_and(|recorded| *recorded == Some(true))
    }

    /// Records that it ended, under its progress lock, so that it is counted once.
    fn end(&self, progress: &mut Progress, view: ExecutionView) {
        if matches!(progress, Progress::Running(_)) {
            self.counts.running.fetch_sub(1, Ordering::Relaxed);
            self.counts.finished.fetch_add(1, Ordering::Relaxed);
        }
        *progress = Progress::Finished(view);
    }

    fn lock(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The execution's name, as `Saga::run` gives it.
    pub(crate) fn name(&self) -> String {
        execution_name(self.request.trip_id)
    }

    /// Running, or how it ended.
    pub(crate) fn status(&self) -> ExecutionStatus {
        match &*self.lock() {
            Progress::Running(_) => ExecutionStatus::Running,
            Progress::Finished(view) => view.status,
        }
    }

    /// How it stands: the calls so far while running, the whole path once ended.
    pub(crate) fn view(&self) -> ExecutionView {
        match &*self.lock() {
            Progress::Running(calls) => running_view(self.name(), &self.earlier, calls),
            Progress::Finished(view) => view.clone(),
        }
    }

    /// The execution ended with `report`.
    pub(crate) fn finish(&self, report: &Report) {
        let path = self.earlier.then(Earlier::of(
            report.states_visited(),
            &report.calls,
            report.retries(),
        ));
        let view = ExecutionView {
            name: execution_name(report.trip_id),
            status: report.execution.status.into(),
            error: report.execution.error.as_ref().map(|e| e.error.clone()),
            cause: report
                .execution
                .error
                .as_ref()
                .and_then(|e| e.cause.clone()),
            states_visited: path.states_visited,
            invocations: path.invocations,
            retries: path.retries,
        };
        self.end(&mut self.lock(), view);
    }

    /// The execution could not be run to its end (the runner failed, not a step): what it did
    /// so far, marked failed with `cause`.
    pub(crate) fn abandon(&self, cause: String) {
        let mut progress = self.lock();
        let calls = match &*progress {
            Progress::Running(calls) => calls.clone(),
            Progress::Finished(_) => Vec::new(),
        };
        let mut view = running_view(self.name(), &self.earlier, &calls);
        view.status = ExecutionStatus::Failed;
        view.error = Some(RUNNER_FAILED.to_owned());
        view.cause = Some(cause);
        self.end(&mut progress, view);
    }
}

/// The error of an execution the local runner could not finish (a store failure while reading
/// the trip back, a panic): not a state machine error, so not one of the saga's names.
pub(crate) const RUNNER_FAILED: &str = "Local.RunnerFailed";

/// Records each call of a running execution as it returns, so `GET` shows the path live.
impl Observer for TripExecution {
    fn invoked(&self, call: &Call) {
        if let Progress::Running(calls) = &mut *self.lock() {
            calls.push(call.clone());
        }
    }
}

/// `trip-<id>`: the name `Saga::run` gives a trip's execution, and the idempotency keys of its
/// steps start with.
pub(crate) fn execution_name(trip_id: TripId) -> String {
    format!("trip-{trip_id}")
}

/// What is known before the execution ends: the calls so far. The states visited are the Task
/// states invoked (the history, with the Pass, Choice and Fail states, comes with the report).
fn running_view(name: String, earlier: &Earlier, calls: &[Call]) -> ExecutionView {
    let mut states_visited: Vec<String> = Vec::new();
    for call in calls {
        if states_visited.last() != Some(&call.state) {
            states_visited.push(call.state.clone());
        }
    }
    let retries = calls.iter().filter(|c| c.attempt > 1).count();
    let path = earlier.then(Earlier::of(
        states_visited.iter().map(String::as_str),
        calls,
        retries,
    ));
    ExecutionView {
        name,
        status: ExecutionStatus::Running,
        error: None,
        cause: None,
        states_visited: path.states_visited,
        invocations: path.invocations,
        retries: path.retries,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use serde_json::json;

    use super::*;
    use crate::api::schema::RequestDecoder;
    use crate::functions::Outcome;

    fn decoded(card: &str, trip_id: TripId) -> Decoded {
        let body = json!({
            "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
            "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
            "payment": { "card": card }
        });
        RequestDecoder::new()
            .decode(body.to_string().as_bytes(), trip_id)
            .unwrap()
    }

    fn finish(execution: &TripExecution) {
        execution.abandon("ended for the test".into());
    }

    /// Step Functions' rule for a name already used, case by case.
    #[test]
    fn a_trip_replays_its_input_while_it_runs_and_exists_otherwise() {
        let executions = Executions::default();
        let trip_id = TripId::new();
        let request = decoded("tok_visa_4242", trip_id);
        let Claim::Start(execution) = executions.claim(&request, false) else {
            panic!("expected a start");
        };
        // Running: the same input is the same execution; another input is refused.
        assert!(
            matches!(executions.claim(&request, false), Claim::Replay(known) if Arc::ptr_eq(&known, &execution))
        );
        let other = decoded("tok_visa_9999", trip_id);
        assert!(matches!(executions.claim(&other, false), Claim::Exists(id) if id == trip_id));
        // Ended: any input is refused.
        finish(&execution);
        assert!(matches!(
            executions.claim(&request, false),
            Claim::Exists(_)
        ));
        assert!(matches!(executions.claim(&other, false), Claim::Exists(_)));
        // Another trip is another execution.
        assert!(matches!(
            executions.claim(&decoded("tok_visa_4242", TripId::new()), false),
            Claim::Start(_)
        ));
    }

    /// A replay waits for the first request's start to be recorded; when it is withdrawn
    /// instead, the replay learns it, and the trip can be claimed again.
    #[tokio::test]
    async fn a_replay_answers_only_once_the_start_is_recorded_or_withdrawn() {
        let executions = Executions::default();
        let request = decoded("tok_visa_4242", TripId::new());
        for recorded in [true, false] {
            let Claim::Start(first) = executions.claim(&request, false) else {
                panic!("expected a start");
            };
            let Claim::Replay(known) = executions.claim(&request, false) else {
                panic!("expected a replay");
            };
            let replay = tokio::spawn(async move { known.wait_recorded().await });
            tokio::task::yield_now().await;
            assert!(!replay.is_finished(), "no answer before the log's");
            if recorded {
                first.mark_recorded(true);
                assert!(replay.await.unwrap());
                finish(&first);
                executions.withdraw(&first);
            } else {
                executions.withdraw(&first);
                assert!(!replay.await.unwrap());
                assert!(matches!(executions.claim(&request, false), Claim::Start(_)));
            }
        }
    }

    #[test]
    fn counts_follow_starts_and_ends_once_each() {
        let executions = Executions::default();
        let mut started = Vec::new();
        for _ in 0..3 {
            let Claim::Start(execution) =
                executions.claim(&decoded("tok_visa_4242", TripId::new()), false)
            else {
                panic!("expected a start");
            };
            started.push(execution);
        }
        let counts = |running, finished| ExecutionCounts { running, finished };
        assert_eq!(executions.counts(), counts(3, 0));
        finish(&started[0]);
        // Ending twice (a runner failure reported after the end) counts once.
        finish(&started[0]);
        assert_eq!(executions.counts(), counts(2, 1));
        finish(&started[1]);
        finish(&started[2]);
        assert_eq!(executions.counts(), counts(0, 3));
    }

    #[test]
    fn a_trip_in_the_store_is_never_started_again() {
        let executions = Executions::default();
        let request = decoded("tok_visa_4242", TripId::new());
        assert!(matches!(executions.claim(&request, true), Claim::Exists(_)));
        assert_eq!(executions.counts(), ExecutionCounts::default());
    }

    #[test]
    fn simultaneous_duplicates_start_once() {
        let executions = Executions::default();
        let request = decoded("tok_visa_4242", TripId::new());
        let barrier = Barrier::new(8);
        let starts: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        matches!(executions.claim(&request, false), Claim::Start(_))
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
        let Claim::Start(execution) =
            executions.claim(&decoded("tok_visa_4242", TripId::new()), false)
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
        let view = execution.view();
        assert_eq!(view.status, ExecutionStatus::Running);
        assert_eq!(view.states_visited, ["CreateTrip", "ReserveFlight"]);
        assert_eq!(view.retries, 1);
        assert_eq!(view.invocations[1].error.as_deref(), Some("StoreThrottled"));
        assert_eq!(view.invocations[1].message.as_deref(), Some("slow down"));

        execution.abandon("the store went away".into());
        let view = execution.view();
        assert_eq!(view.status, ExecutionStatus::Failed);
        assert_eq!(view.error.as_deref(), Some(RUNNER_FAILED));
        assert_eq!(view.invocations.len(), 3, "what it did is kept");
        assert_eq!(executions.counts().finished, 1);
    }
}
