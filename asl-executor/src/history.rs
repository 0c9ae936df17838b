//! Execution history: typed events with virtual timestamps, printable as a readable path.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;

use crate::clock::format_millis;
use crate::error::StatesError;
use crate::snapshot::{Snapshot, Snapshots};

/// How much history an execution records.
///
/// Recording is on the hot path of every state, so it can be reduced for benchmarks or
/// high-volume test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryMode {
    /// Every event with state inputs, outputs and task payloads.
    #[default]
    Full,
    /// Every event, without JSON payloads (the `Option<Value>` fields are `None`).
    WithoutPayloads,
    /// No events at all.
    Off,
}

/// One entry of an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened, in (virtual) milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Nesting level: 0 for the top level, +1 inside each Parallel branch or Map iteration.
    pub depth: u32,
    /// What happened.
    pub kind: EventKind,
}

/// What happened. Payload fields are `None` when payload capture is off.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// The execution began with this input.
    ExecutionStarted {
        /// Execution input.
        input: Option<Value>,
    },
    /// A state was entered.
    StateEntered {
        /// State name.
        name: Arc<str>,
        /// `Task`, `Choice` …
        state_type: &'static str,
        /// Raw state input.
        input: Option<Value>,
    },
    /// A state completed and passed this output on.
    StateExited {
        /// State name.
        name: Arc<str>,
        /// State output.
        output: Option<Value>,
    },
    /// A task was handed to the task handler.
    TaskScheduled {
        /// State name.
        name: Arc<str>,
        /// The task's `Resource`.
        resource: Arc<str>,
        /// Effective input after `Parameters`.
        input: Option<Value>,
    },
    /// The task handler returned a result.
    TaskSucceeded {
        /// State name.
        name: Arc<str>,
        /// Raw task result (before `ResultSelector`).
        output: Option<Value>,
    },
    /// The task handler failed, or the task timed out.
    TaskFailed {
        /// State name.
        name: Arc<str>,
        /// The error.
        error: StatesError,
    },
    /// A retrier matched; the state runs again after `delay`.
    RetryScheduled {
        /// State name.
        name: Arc<str>,
        /// 1 for the first retry of this retrier.
        attempt: u32,
        /// Back-off before the retry.
        delay: Duration,
        /// The error that triggered it.
        error: String,
    },
    /// A catcher matched and control moves to `next`.
    CaughtError {
        /// State name.
        name: Arc<str>,
        /// The caught error.
        error: StatesError,
        /// The catcher's `Next`.
        next: Arc<str>,
    },
    /// A Parallel branch started.
    BranchStarted {
        /// Parallel state name.
        name: Arc<str>,
        /// Branch index.
        index: usize,
    },
    /// A Map iteration started.
    IterationStarted {
        /// Map state name.
        name: Arc<str>,
        /// Item index.
        index: usize,
    },
    /// The execution succeeded.
    ExecutionSucceeded {
        /// Final output.
        output: Option<Value>,
    },
    /// The execution failed.
    ExecutionFailed {
        /// The unhandled error.
        error: StatesError,
    },
    /// The execution exceeded its `TimeoutSeconds`.
    ExecutionTimedOut {
        /// `States.Timeout`.
        error: StatesError,
    },
}

/// The ordered events of one execution.
///
/// Payloads are kept as compact snapshots while the execution runs and turned into the
/// events' `Value`s the first time [`History::events`] is called (see [`HistoryMode`] for
/// what is captured). Printing the history and [`History::states_visited`] never need them.
#[derive(Clone, Default)]
pub struct History {
    recorded: Vec<Recorded>,
    snapshots: Snapshots,
    events: OnceLock<Vec<Event>>,
}

/// The names of the states entered in `recorded`, in order.
pub(crate) fn states_entered(recorded: &[Recorded]) -> Vec<&str> {
    recorded
        .iter()
        .filter_map(|r| match &r.event.kind {
            EventKind::StateEntered { name, .. } => Some(&**name),
            _ => None,
        })
        .collect()
}

/// An event as recorded: its payload field is still `None`, the payload beside it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) event: Event,
    payload: Option<Snapshot>,
}

impl History {
    /// All events, in order.
    pub fn events(&self) -> &[Event] {
        self.events.get_or_init(|| {
            self.recorded
                .iter()
                .map(|r| {
                    let mut event = r.event.clone();
                    if let (Some(snapshot), Some(slot)) = (&r.payload, event.kind.payload_mut()) {
                        *slot = Some(self.snapshots.decode(snapshot));
                    }
                    event
                })
                .collect()
        })
    }

    /// Names of the states entered, in order (all nesting levels).
    pub fn states_visited(&self) -> Vec<&str> {
        states_entered(&self.recorded)
    }
}

impl PartialEq for History {
    fn eq(&self, other: &Self) -> bool {
        self.events() == other.events()
    }
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History")
            .field("events", &self.events())
            .finish()
    }
}

impl EventKind {
    /// The JSON payload field of this kind of event, if it has one.
    fn payload_mut(&mut self) -> Option<&mut Option<Value>> {
        match self {
            EventKind::ExecutionStarted { input }
            | EventKind::StateEntered { input, .. }
            | EventKind::TaskScheduled { input, .. } => Some(input),
            EventKind::StateExited { output, .. }
            | EventKind::TaskSucceeded { output, .. }
            | EventKind::ExecutionSucceeded { output } => Some(output),
            _ => None,
        }
    }
}

/// How large a machine's latest history was. Executions of one machine tend to record
/// similar histories, so the next one reserves that much up front instead of growing its
/// buffers step by step.
#[derive(Debug, Default)]
pub(crate) struct SizeHint {
    events: AtomicUsize,
    snapshot_bytes: AtomicUsize,
}

/// Appends events according to a [`HistoryMode`]; payloads are captured only in `Full`.
#[derive(Debug)]
pub(crate) struct Recorder {
    mode: HistoryMode,
    recorded: Vec<Recorded>,
    snapshots: Snapshots,
    /// The payload of the latest `StateExited`: at the top level, the execution's output.
    last_output: Option<Snapshot>,
}

impl Recorder {
    pub(crate) fn new(mode: HistoryMode, hint: &SizeHint) -> Self {
        let events = match mode {
            HistoryMode::Off => 0,
            _ => hint.events.load(Ordering::Relaxed).max(16),
        };
        let snapshot_bytes = match mode {
            HistoryMode::Full => hint.snapshot_bytes.load(Ordering::Relaxed),
            _ => 0,
        };
        Self {
            mode,
            recorded: Vec::with_capacity(events),
            snapshots: Snapshots::with_capacity(snapshot_bytes),
            last_output: None,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.mode != HistoryMode::Off
    }

    /// The events so far, payloads aside.
    pub(crate) fn recorded(&self) -> &[Recorded] {
        &self.recorded
    }

    /// A payload for an event, or `None` when payloads are not captured.
    pub(crate) fn snapshot(&mut self, value: &Value) -> Option<Snapshot> {
        (self.mode == HistoryMode::Full).then(|| self.snapshots.encode(value))
    }

    /// Records an event without a payload.
    pub(crate) fn push(&mut self, timestamp_ms: i64, depth: u32, kind: EventKind) {
        self.push_with(timestamp_ms, depth, kind, None);
    }

    /// Records an event whose payload field (left `None` in `kind`) is `payload`.
    pub(crate) fn push_with(
        &mut self,
        timestamp_ms: i64,
        depth: u32,
        kind: EventKind,
        payload: Option<Snapshot>,
    ) {
        if self.enabled() {
            if matches!(kind, EventKind::StateExited { .. }) {
                self.last_output.clone_from(&payload);
            }
            self.recorded.push(Recorded {
                event: Event {
                    timestamp_ms,
                    depth,
                    kind,
                },
                payload,
            });
        }
    }

    /// The snapshot of the latest `StateExited` output, taken to record the same document again.
    pub(crate) fn last_output(&self) -> Option<Snapshot> {
        self.last_output.clone()
    }

    /// The history; its size becomes the hint for the next execution.
    pub(crate) fn finish(self, hint: &SizeHint) -> History {
        if self.enabled() {
            hint.events.store(self.recorded.len(), Ordering::Relaxed);
        }
        if self.mode == HistoryMode::Full {
            hint.snapshot_bytes
                .store(self.snapshots.len(), Ordering::Relaxed);
        }
        History {
            recorded: self.recorded,
            snapshots: self.snapshots,
            events: OnceLock::new(),
        }
    }
}

impl fmt::Display for History {
    /// One line per event, indented by nesting depth, with time relative to the start:
    ///
    /// ```text
    /// +0.000s ExecutionStarted
    /// +0.000s → Reserve (Task)
    /// +0.000s     ✗ Lambda.ServiceException: boom
    /// +0.000s     ↻ retry 1 in 1s after Lambda.ServiceException
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = self.recorded.first().map_or(0, |r| r.event.timestamp_ms);
        for e in self.recorded.iter().map(|r| &r.event) {
            let offset = e.timestamp_ms - start;
            write!(f, "+{}.{:03}s ", offset / 1000, offset % 1000)?;
            let indent = "  ".repeat(e.depth as usize);
            f.write_str(&indent)?;
            match &e.kind {
                EventKind::ExecutionStarted { .. } => f.write_str("ExecutionStarted")?,
                EventKind::StateEntered {
                    name, state_type, ..
                } => write!(f, "→ {name} ({state_type})")?,
                EventKind::StateExited { name, .. } => write!(f, "← {name}")?,
                EventKind::TaskScheduled { resource, .. } => write!(f, "    ⇢ {resource}")?,
                EventKind::TaskSucceeded { .. } => f.write_str("    ✓ task succeeded")?,
                EventKind::TaskFailed { error, .. } => write!(f, "    ✗ {error}")?,
                EventKind::RetryScheduled {
                    attempt,
                    delay,
                    error,
                    ..
                } => write!(f, "    ↻ retry {attempt} in {delay:?} after {error}")?,
                EventKind::CaughtError { error, next, .. } => {
                    write!(f, "    ⤷ caught {} → {next}", error.error)?;
                }
                EventKind::BranchStarted { name, index } => write!(f, "  ⑂ {name} branch {index}")?,
                EventKind::IterationStarted { name, index } => {
                    write!(f, "  ⟳ {name} item {index}")?;
                }
                EventKind::ExecutionSucceeded { .. } => f.write_str("ExecutionSucceeded")?,
                EventKind::ExecutionFailed { error } => write!(f, "ExecutionFailed {error}")?,
                EventKind::ExecutionTimedOut { error } => write!(f, "ExecutionTimedOut {error}")?,
            }
            if e.depth == 0 && matches!(e.kind, EventKind::ExecutionStarted { .. }) {
                write!(f, " at {}", format_millis(e.timestamp_ms))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
