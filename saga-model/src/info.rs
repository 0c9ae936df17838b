//! A saga as data: what `saga!` checked, for every consumer that is not the macro itself.
//!
//! `saga!` emits one `pub static SAGA: SagaInfo` per saga; the CLI writes its serde form (with
//! the flat function list the infrastructure deploys, see [`Manifest`]) to
//! `generated/<module>.functions.json`. Strings and lists are [`Cow`]s so that the same type is
//! a `static` built at compile time and a value read back from JSON.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A string that is `&'static str` in the generated `static` and owned when read from JSON.
pub type Text = Cow<'static, str>;

/// A list that is a `&'static [T]` in the generated `static` and a `Vec<T>` when read from JSON.
pub type List<T> = Cow<'static, [T]>;

/// One saga, as declared and checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SagaInfo {
    /// The declared name, e.g. `TripBooking`.
    #[serde(rename = "saga")]
    pub name: Text,
    /// snake_case of the name: the generated Rust module and the file stem in `generated/`.
    pub module: Text,
    /// The Cargo package that declares the saga and builds its functions.
    #[serde(rename = "crate")]
    pub crate_name: Text,
    /// The Rust module that contains the `saga!` invocation (e.g. `trip_saga::saga`): every
    /// function's `handler` is a path resolved from there.
    pub declared_in: Text,
    /// The execution input's type, as written after `input:`.
    pub input: Text,
    /// The execution's `TimeoutSeconds`: the declared one, or derived from the model (see
    /// [`SagaInfo::worst_case`]); `saga!` always sets it, and always above the worst case.
    pub timeout_seconds: Option<u32>,
    /// The steps, in execution order.
    pub steps: List<StepInfo>,
    /// The function run when compensations are left undone; `None`: a `Pass` state records
    /// them instead.
    pub escalation: Option<RetriedFunction>,
}

/// One step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// The action. Its logical name is the step's name and keys the step's result.
    pub action: FunctionInfo,
    /// The action's output type, as declared after `->`.
    pub output: Text,
    /// Errors that start compensation without a retry.
    pub business_errors: List<Text>,
    /// Errors retried with [`StepInfo::retry`], the saga's defaults included.
    pub transient_errors: List<Text>,
    /// The action's retry policy (for Lambda's service errors and the transient errors).
    pub retry: RetryPolicy,
    /// The action Task's `TimeoutSeconds`; without it an attempt lasts at most as long as Lambda
    /// lets a function run ([`LAMBDA_MAX_SECONDS`](crate::LAMBDA_MAX_SECONDS)).
    pub timeout_seconds: Option<u32>,
    /// How the step is undone; `None` for an irreversible step. On the pivot, the guard that
    /// settles whether the pivot took effect (see [`StepInfo::pivot`]).
    pub compensation: Option<RetriedFunction>,
    /// Whether this step is the saga's pivot: the step after which it only goes forward. When it
    /// fails, its `compensation` (the guard) runs first and answers a [`PivotCheck`]: committed
    /// (its effect happened after all: the saga goes on as if it had succeeded) or locked (it
    /// can no longer happen: the earlier steps are undone).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pivot: bool,
}

/// What a pivot's guard answers: whether the pivot's effect happened. The guard must make its
/// answer final (a semantic lock: e.g. a conditional write that moves the aggregate out of the
/// state in which the pivot can still take effect), so that a late or retried pivot cannot
/// change it afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PivotCheck {
    /// `true`: the pivot took effect; the saga continues after it. `false`: it did not and now
    /// cannot; the earlier steps are compensated.
    pub committed: bool,
}

impl PivotCheck {
    /// The pivot took effect.
    pub const COMMITTED: PivotCheck = PivotCheck { committed: true };
    /// The pivot did not take effect, and now cannot.
    pub const LOCKED: PivotCheck = PivotCheck { committed: false };
}

/// A function that retries every error with its own policy: a compensation or the escalation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetriedFunction {
    /// The function.
    pub function: FunctionInfo,
    /// Its retry policy, on `States.ALL`.
    pub retry: RetryPolicy,
    /// Its Task's `TimeoutSeconds`: always set, so that an attempt that hangs is an error like
    /// any other (retried, then recorded and escalated) instead of holding the execution.
    pub timeout_seconds: u32,
}

impl RetriedFunction {
    /// The `TimeoutSeconds` of a compensation's or the escalation's Task when the declaration
    /// gives none: a minute, far above what a store write takes, so that only a hung call hits it.
    pub const DEFAULT_TIMEOUT_SECONDS: u32 = 60;
}

/// One Lambda function of the saga: an entry of the manifest's `functions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionInfo {
    /// The logical name: unique in the saga, it names the binary and the ARN placeholder.
    pub name: Text,
    /// What the function is for.
    pub kind: FunctionKind,
    /// The ASL state that invokes it.
    pub state: Text,
    /// The `definitionSubstitutions` key that the infrastructure fills with the function's ARN.
    pub substitution_key: Text,
    /// The Cargo package that builds it.
    #[serde(rename = "crate")]
    pub crate_name: Text,
    /// The Cargo binary target and Lambda function name: kebab-case of the logical name.
    pub binary: Text,
    /// The Rust function it runs, as written in the declaration (resolved from
    /// [`SagaInfo::declared_in`]).
    pub handler: Text,
}

/// What a function is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    /// A step's action.
    Action,
    /// A step's compensation.
    Compensation,
    /// The saga's escalation.
    Escalation,
}

impl FunctionKind {
    /// The lower-case name used in the manifest.
    pub const fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Action => "action",
            FunctionKind::Compensation => "compensation",
            FunctionKind::Escalation => "escalation",
        }
    }
}

/// A `Retry` policy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt (`MaxAttempts`).
    pub max_attempts: u32,
    /// Seconds before the first retry.
    pub interval_seconds: u32,
    /// Multiplier of the interval per retry.
    pub backoff_rate: f64,
    /// Cap of one interval.
    pub max_delay_seconds: u32,
    /// Whether intervals are randomised.
    pub jitter: Jitter,
}

/// `JitterStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// `FULL`: each interval is random between 0 and its computed value, so that many failed
    /// executions do not retry in lockstep.
    Full,
    /// `NONE`.
    None,
}

impl RetryPolicy {
    /// Actions: three quick retries, full jitter.
    pub const ACTION_DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        interval_seconds: 1,
        backoff_rate: 2.0,
        max_delay_seconds: 30,
        jitter: Jitter::Full,
    };

    /// Compensations and the escalation: they must finish, so they retry longer before giving
    /// up.
    pub const COMPENSATION_DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 6,
        interval_seconds: 2,
        backoff_rate: 2.0,
        max_delay_seconds: 60,
        jitter: Jitter::Full,
    };

    /// The longest a retry schedule can wait in all, in seconds: every interval at its cap
    /// (jitter only shortens them).
    pub fn worst_case_wait_seconds(&self) -> f64 {
        let mut interval = f64::from(self.interval_seconds);
        let cap = f64::from(self.max_delay_seconds);
        let mut total = 0.0;
        for _ in 0..self.max_attempts {
            total += interval.min(cap);
            interval *= self.backoff_rate;
        }
        total
    }
}

impl StepInfo {
    /// The step's logical name (its action's).
    pub fn name(&self) -> &str {
        &self.action.name
    }

    /// The ASL state of the step's action.
    pub fn state(&self) -> &str {
        &self.action.state
    }
}

impl SagaInfo {
    /// Every function, in manifest order: each step's action then its compensation, then the
    /// escalation.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionInfo> {
        self.steps
            .iter()
            .flat_map(|step| {
                std::iter::once(&step.action).chain(step.compensation.as_ref().map(|c| &c.function))
            })
            .chain(self.escalation.as_ref().map(|e| &e.function))
    }

    /// The function with this logical name.
    pub fn function(&self, name: &str) -> Option<&FunctionInfo> {
        self.functions().find(|f| f.name == name)
    }

    /// The step with this logical name.
    pub fn step(&self, name: &str) -> Option<&StepInfo> {
        self.steps.iter().find(|s| s.name() == name)
    }

    /// The pivot step's index, if the saga declares one.
    pub fn pivot(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.pivot)
    }

    /// Whether any step can be undone.
    pub fn has_compensations(&self) -> bool {
        self.steps.iter().any(|step| step.compensation.is_some())
    }

    /// The steps whose compensations run, in the order they run, when the step at `failed`
    /// fails: that step's own (its action may have taken effect before it failed) and every
    /// earlier one's, newest first.
    pub fn compensated_after(&self, failed: usize) -> impl Iterator<Item = &StepInfo> {
        self.steps[..=failed]
            .iter()
            .rev()
            .filter(|s| s.compensation.is_some())
    }

    /// The ASL file beside the manifest: `<module>.asl.json`.
    pub fn definition_file(&self) -> String {
        format!("{}.asl.json", self.module)
    }

    /// The execution's error when some compensation was left undone and the escalation ran.
    pub fn compensation_failed_error(&self) -> String {
        format!("{}.{}", self.name, crate::states::COMPENSATION_FAILED)
    }

    /// The execution's error when the escalation itself failed after all its retries.
    pub fn escalation_failed_error(&self) -> String {
        format!("{}.{}", self.name, crate::states::ESCALATION_FAILED)
    }

    /// The execution's error when a step failed with an error of Step Functions itself
    /// (`States.Timeout`, `States.TaskFailed`, …) and was compensated; the original error leads
    /// the cause.
    pub fn step_failed_error(&self) -> String {
        format!("{}.{}", self.name, crate::states::STEP_FAILED)
    }

    /// The state that runs when compensations are left undone: the escalation function's, or
    /// the `Pass` state that records them.
    pub fn escalation_state(&self) -> &str {
        self.escalation
            .as_ref()
            .map_or(crate::states::ESCALATE, |e| &e.function.state)
    }
}

/// `generated/<module>.functions.json`: the saga, the marker that says the file is generated,
/// and the flat list of functions that the infrastructure deploys (one per entry).
///
/// Reading the file back into a [`SagaInfo`] ignores the derived fields (`generated`,
/// `definition`, `functions`).
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    /// Says that the file is generated (JSON has no comments).
    pub generated: String,
    /// The saga.
    #[serde(flatten)]
    pub saga: &'a SagaInfo,
    /// The state machine definition beside this file.
    pub definition: String,
    /// Every function, in manifest order.
    pub functions: Vec<&'a FunctionInfo>,
}

impl<'a> Manifest<'a> {
    /// The manifest of `saga`.
    pub fn of(saga: &'a SagaInfo) -> Self {
        Manifest {
            generated: generated_marker(&saga.name, &saga.crate_name),
            saga,
            definition: saga.definition_file(),
            functions: saga.functions().collect(),
        }
    }
}

/// The first line of every generated artefact: what made it and how to change it.
pub fn generated_marker(saga: &str, crate_name: &str) -> String {
    format!(
        "Generated by saga-dsl from `saga! {saga}` in crate `{crate_name}`. Do not edit: change the declaration and run `cargo run -p saga-dsl`."
    )
}
