//! The saga's handlers: each turns a step request into a service command, runs the use case and
//! returns its result or its typed error. Thin on purpose: the rules live in the services.
//!
//! They live here, not in the services, because they take the saga's input type and Cargo does
//! not allow the services to depend on the crate that depends on them.

pub mod flight;
pub mod hotel;
pub mod payment;
pub mod trip;

use kernel::InfraError;
use kernel::dynamo::IdempotencyKey;
use saga_runtime::{Failure, StepContext};

/// The key of this step invocation.
fn step_key(context: &StepContext) -> Result<IdempotencyKey, InfraError> {
    IdempotencyKey::parse(&context.idempotency_key).map_err(|e| InfraError::failed(e.to_string()))
}

/// The key the compensated action ran with.
fn action_key(key: &str) -> Result<IdempotencyKey, InfraError> {
    IdempotencyKey::parse(key).map_err(|e| InfraError::failed(e.to_string()))
}

/// `Error: message` of a caught failure, with Lambda's error envelope unwrapped.
pub(crate) fn describe(failure: &Failure) -> String {
    let message = serde_json::from_str::<serde_json::Value>(&failure.cause)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(|m| m.as_str())
                .map(ToOwned::to_owned)
        })
        .unwrap_or_else(|| failure.cause.clone());
    if message.is_empty() {
        failure.error.clone()
    } else {
        format!("{}: {message}", failure.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_unwraps_the_lambda_error_envelope() {
        let failure = Failure {
            error: "SoldOut".into(),
            cause: r#"{"errorMessage":"no seat left","errorType":"SoldOut","trace":[]}"#.into(),
        };
        assert_eq!(describe(&failure), "SoldOut: no seat left");
        let timeout = Failure {
            error: "States.Timeout".into(),
            cause: String::new(),
        };
        assert_eq!(describe(&timeout), "States.Timeout");
        let plain = Failure {
            error: "Declined".into(),
            cause: "over the limit".into(),
        };
        assert_eq!(describe(&plain), "Declined: over the limit");
    }
}
