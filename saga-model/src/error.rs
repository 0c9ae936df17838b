//! Errors that a step can raise, named the way the state machine matches them.

use std::fmt::Display;

/// The error type of a saga action or compensation.
///
/// Step Functions routes a failed task by the *name* of its error: `Retry` and `Catch` compare the
/// Lambda `errorType` with the names in `ErrorEquals`. `NAMES` lists every name the type can
/// produce, so `saga!` can check at compile time that the names a step declares are exactly the
/// names its action raises. Derive it with `#[derive(StepError)]` (from `saga-macros`, or
/// re-exported by `saga-runtime`): one name per enum variant.
pub trait StepError: Display {
    /// Every name [`StepError::name`] can return.
    const NAMES: &'static [&'static str];

    /// The name reported to Step Functions as the Lambda `errorType`.
    fn name(&self) -> &'static str;
}

/// Error names the generated entrypoints raise themselves; they never collide with user names
/// because user names are Rust identifiers and these contain a dot.
pub mod reserved {
    /// The task payload does not match the types the step expects. Nothing retries it: the same
    /// payload would fail again.
    pub const INVALID_PAYLOAD: &str = "Saga.InvalidPayload";
    /// The step's output could not be serialised to JSON.
    pub const INVALID_OUTPUT: &str = "Saga.InvalidOutput";
}
