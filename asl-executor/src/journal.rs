//! Durable executions: each top-level state transition told to a [`Journal`] before the state
//! runs, and an execution resumed from the last one recorded.
//!
//! Step Functions never loses an execution: its history is stored before every transition, and
//! a Task whose worker vanished is attempted again. A local runner that can be stopped (or
//! killed) mid-execution gets the same promise from this module: it records each
//! [`Checkpoint`] somewhere that outlives the process, and after a restart calls
//! [`StateMachine::resume`](crate::StateMachine::resume) with the last one. The state that was
//! running is entered again from its first attempt, so its Task may run twice: the same
//! at-least-once delivery Step Functions gives Lambda tasks, which is why every task of a saga
//! must be idempotent.
//!
//! Only top-level states that act or wait are recorded (Task, Parallel, Map, Wait): Pass,
//! Choice, Succeed and Fail compute from their input alone, so an execution resumed at the
//! checkpoint before them computes them again. A Parallel or Map state cut short is run again whole:
//! its branches' tasks are idempotent by the same rule, and recording inside them would tie a
//! checkpoint to branch indices that a changed definition could reorder.

use serde_json::Value;

use crate::history::{EventKind, Recorded, states_entered};
use crate::task::BoxFuture;

/// One top-level state about to run: what a durable runner must record to resume there.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Checkpoint<'a> {
    /// The state's name.
    pub state: &'a str,
    /// Its input (before `InputPath`), which is all it reads besides the context object.
    pub input: &'a Value,
    /// When it is entered, on the execution's clock (epoch milliseconds).
    pub entered_ms: i64,
    /// The history so far (nothing when it is off).
    pub(crate) earlier: &'a [Recorded],
}

impl<'a> Checkpoint<'a> {
    /// The states entered before this one, in order and at every nesting level, as
    /// [`History::states_visited`](crate::History::states_visited) will list them; empty when
    /// the execution records no history. A runner that records these beside the checkpoint can
    /// show a resumed execution's whole path, not only the part after the restart.
    pub fn states_visited(&self) -> Vec<&'a str> {
        states_entered(self.earlier)
    }

    /// How many retries were scheduled before this state.
    pub fn retries(&self) -> usize {
        self.earlier
            .iter()
            .filter(|r| matches!(r.event.kind, EventKind::RetryScheduled { .. }))
            .count()
    }
}

/// Where a durable runner records checkpoints.
///
/// Called before each top-level Task, Parallel, Map or Wait state runs; the execution waits
/// for the returned future. It cannot fail the execution: a journal that cannot write should retry as
/// long as it sees fit and otherwise log and return, and the execution resumes after a restart
/// from an earlier checkpoint, which idempotent tasks make safe.
pub trait Journal: Send + Sync {
    /// Records that `checkpoint`'s state is about to run.
    fn entered<'a>(&'a self, checkpoint: Checkpoint<'a>) -> BoxFuture<'a, ()>;
}

/// Where a resumed execution starts again: a checkpoint that was recorded, and the execution's
/// own start.
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    /// The top-level state to enter (the last checkpoint's).
    pub state: String,
    /// Its input, as recorded.
    pub input: Value,
    /// When the execution started (epoch milliseconds): `$$.Execution.StartTime` and the
    /// machine's `TimeoutSeconds` count from here, not from the resumption.
    pub started_ms: i64,
    /// When the state was entered: a virtual clock continues from here (a real one reads the
    /// time).
    pub entered_ms: i64,
}
