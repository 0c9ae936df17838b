//! The compiled form of a state machine: states addressed by index, paths and templates
//! pre-parsed, sub-machines (Parallel branches, Map processors) shared through `Arc`.

mod compile;

use std::sync::Arc;

use serde_json::Value;

use crate::choice::Rule;
use crate::intrinsics::Intrinsic;
use crate::path::JsonPath;
use crate::template::Template;

pub(crate) use compile::compile_machine;

/// A compiled (sub-)machine: the top level, a Parallel branch or a Map item processor.
#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) start_at: usize,
    pub(crate) states: Vec<State>,
    pub(crate) timeout_seconds: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) name: Arc<str>,
    pub(crate) input_path: IoPath,
    pub(crate) output_path: IoPath,
    pub(crate) next: Transition,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Next(usize),
    End,
}

/// `InputPath` / `OutputPath`: absent means `$`, JSON `null` means `{}`.
#[derive(Debug)]
pub(crate) enum IoPath {
    Identity,
    Empty,
    Path(JsonPath),
}

/// `ResultPath`: absent means replace, `null` means discard the result.
#[derive(Debug)]
pub(crate) enum ResultPath {
    Replace,
    Discard,
    Path(JsonPath),
}

/// Shared by the states that produce a result (Task, Parallel, Map).
#[derive(Debug)]
pub(crate) struct ResultHandling {
    pub(crate) result_selector: Option<Template>,
    pub(crate) result_path: ResultPath,
    pub(crate) retry: Vec<Retrier>,
    pub(crate) catch: Vec<Catcher>,
}

#[derive(Debug)]
pub(crate) struct Retrier {
    pub(crate) errors: Vec<String>,
    pub(crate) interval_seconds: f64,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_rate: f64,
    pub(crate) max_delay_seconds: Option<f64>,
    pub(crate) full_jitter: bool,
}

#[derive(Debug)]
pub(crate) struct Catcher {
    pub(crate) errors: Vec<String>,
    pub(crate) result_path: ResultPath,
    pub(crate) next: usize,
    /// Kept beside the index so history events can name the target without the machine.
    pub(crate) next_name: Arc<str>,
}

/// A string field that may be a literal, a path or an intrinsic (Fail's Error/Cause).
#[derive(Debug)]
pub(crate) enum Expr {
    Literal(String),
    Path(JsonPath),
    Intrinsic(Intrinsic),
}

#[derive(Debug)]
pub(crate) enum TaskTimeout {
    Seconds(u64),
    Path(JsonPath),
}

#[derive(Debug)]
pub(crate) enum WaitFor {
    Seconds(u64),
    SecondsPath(JsonPath),
    Timestamp(i64),
    TimestampPath(JsonPath),
}

#[derive(Debug)]
pub(crate) enum Kind {
    Pass {
        parameters: Option<Template>,
        result: Option<Value>,
        result_path: ResultPath,
    },
    Task {
        resource: Arc<str>,
        parameters: Option<Template>,
        timeout: Option<TaskTimeout>,
        handling: ResultHandling,
    },
    Choice {
        choices: Vec<(Rule, usize)>,
        default: Option<usize>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<Expr>,
        cause: Option<Expr>,
    },
    Parallel {
        branches: Vec<Arc<Machine>>,
        parameters: Option<Template>,
        handling: ResultHandling,
    },
    Map {
        processor: Arc<Machine>,
        items_path: Option<JsonPath>,
        item_selector: Option<Template>,
        handling: ResultHandling,
    },
}

impl Kind {
    /// Whether a durable execution records entering this state ([`crate::Journal`]): the
    /// states that act (Task, Parallel, Map) or wait. Pass, Choice, Succeed and Fail compute
    /// from their input alone, so resuming at the checkpoint before them computes them again,
    /// and recording them would only add writes.
    pub(crate) fn is_checkpoint(&self) -> bool {
        matches!(
            self,
            Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map { .. } | Kind::Wait(_)
        )
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task { .. } => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map { .. } => "Map",
        }
    }
}
