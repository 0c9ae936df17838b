//! Error types: definition errors (our own, typed) and Step Functions errors (named strings).

use std::fmt;

/// A definition that could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// The text is not JSON at all.
    #[error("definition is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not a valid (or not a supported) state machine.
    #[error("{location}: {message}")]
    Invalid {
        /// Where in the definition, e.g. `States.Reserve.Retry[0]`.
        location: String,
        /// What is wrong and, where possible, how to fix it.
        message: String,
    },
}

impl DefinitionError {
    pub(crate) fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            location: location.into(),
            message: message.into(),
        }
    }
}

/// An error in Step Functions' sense: a case-sensitive name plus an optional human-readable cause.
///
/// Task handlers return it to fail a task (`Lambda.ServiceException`, a business error name …);
/// the interpreter raises it with the predefined `States.*` names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StatesError {
    /// The error name matched by `ErrorEquals`.
    pub error: String,
    /// Free-form detail; Step Functions omits it when a Fail state has no `Cause`.
    pub cause: Option<String>,
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{}: {cause}", self.error),
            None => f.write_str(&self.error),
        }
    }
}

impl StatesError {
    /// An error with a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }

    /// An error without a cause.
    pub fn bare(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: None,
        }
    }

    /// True for errors that `Retry` and `Catch` never see (AWS: "A retry or catch on
    /// `States.ALL` won't catch `States.Runtime` errors"; `States.DataLimitExceeded` likewise).
    pub fn is_terminal(&self) -> bool {
        self.error == names::RUNTIME || self.error == names::DATA_LIMIT_EXCEEDED
    }

    /// The `{"Error": …, "Cause": …}` object a catcher hands to its `ResultPath`.
    pub(crate) fn to_error_output(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("Error".into(), self.error.clone().into());
        if let Some(cause) = &self.cause {
            map.insert("Cause".into(), cause.clone().into());
        }
        serde_json::Value::Object(map)
    }
}

/// The predefined error names of the Amazon States Language.
pub mod names {
    /// Wildcard matching any error except the terminal ones.
    pub const ALL: &str = "States.ALL";
    /// Wildcard matching any task error except `States.Timeout`.
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// A task or the execution ran longer than its `TimeoutSeconds`.
    pub const TIMEOUT: &str = "States.Timeout";
    /// Unprocessable input (bad `InputPath`, `OutputPath`, Choice variable …); never caught.
    pub const RUNTIME: &str = "States.Runtime";
    /// Payload too large; never caught.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// A Choice state matched no rule and has no `Default`.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// An intrinsic function failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// `ResultPath` could not be applied to the state input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A `.$` field of a payload template referenced a missing path.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A Parallel branch failed (the spec's name; AWS reports the branch's own error).
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
}
