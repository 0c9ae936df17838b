//! The validated saga: plain names and numbers, everything the emitters need and nothing of syn.

/// A saga that passed every check in [`crate::check`].
#[derive(Clone, Debug, PartialEq)]
pub struct Saga {
    /// The declared name, e.g. `TripBooking`.
    pub name: String,
    /// snake_case of the name: the generated module and the file stem in `generated/`.
    pub module: String,
    /// The crate (Cargo package) that declares the saga.
    pub crate_name: String,
    /// The saga's doc comment, line by line.
    pub doc: Vec<String>,
    /// The execution's `TimeoutSeconds`.
    pub timeout_seconds: Option<u32>,
    /// The steps in execution order.
    pub steps: Vec<Step>,
    /// The function run when compensations are left undone; `None` records them in a Pass state.
    pub escalation: Option<Function>,
    /// The policy of compensations that do not declare their own.
    pub compensation_retry: RetryPolicy,
}

/// One step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The action's function.
    pub action: Function,
    /// The step's doc comment.
    pub doc: Vec<String>,
    /// Errors that start compensation without a retry.
    pub business_errors: Vec<String>,
    /// Errors retried with `retry`.
    pub transient_errors: Vec<String>,
    /// The retry policy of the action.
    pub retry: RetryPolicy,
    /// The Task's `TimeoutSeconds`.
    pub timeout_seconds: Option<u32>,
    /// The compensation's function and policy; `None` for an irreversible step.
    pub compensation: Option<Compensation>,
}

/// How a step is undone.
#[derive(Clone, Debug, PartialEq)]
pub struct Compensation {
    /// The compensation's function.
    pub function: Function,
    /// Its retry policy (it retries on every error).
    pub retry: RetryPolicy,
}

/// What a function is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Action => "action",
            FunctionKind::Compensation => "compensation",
            FunctionKind::Escalation => "escalation",
        }
    }
}

/// One Lambda function of the saga.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// The logical name: a Rust identifier, unique in the saga. It keys the step's result, names
    /// the binary and the ARN placeholder.
    pub name: String,
    /// The ASL state that invokes it.
    pub state: String,
    /// What the function is for.
    pub kind: FunctionKind,
    /// The Rust path of the user's function, as written in the DSL.
    pub handler: String,
}

impl Function {
    /// The `definitionSubstitutions` key that CDK fills with the function's ARN.
    pub fn substitution_key(&self) -> String {
        format!("{}FunctionArn", self.name)
    }

    /// The Cargo binary (and Lambda function) name: kebab-case of the logical name.
    pub fn binary(&self) -> String {
        heck::ToKebabCase::to_kebab_case(self.name.as_str())
    }

    /// The name of the generated entrypoint: snake_case of the logical name.
    pub fn entrypoint(&self) -> String {
        heck::ToSnakeCase::to_snake_case(self.name.as_str())
    }
}

/// A `Retry` policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

    /// Compensations: they must finish, so they retry longer before escalating.
    pub const COMPENSATION_DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 6,
        interval_seconds: 2,
        backoff_rate: 2.0,
        max_delay_seconds: 60,
        jitter: Jitter::Full,
    };
}

impl Saga {
    /// Every function, in manifest order: each step's action then its compensation, then the
    /// escalation.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.steps
            .iter()
            .flat_map(|step| {
                std::iter::once(&step.action).chain(step.compensation.as_ref().map(|c| &c.function))
            })
            .chain(self.escalation.as_ref())
    }

    /// Whether any step can be undone.
    pub fn has_compensations(&self) -> bool {
        self.steps.iter().any(|step| step.compensation.is_some())
    }
}
