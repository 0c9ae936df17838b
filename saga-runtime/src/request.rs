//! What a step receives: the typed view of the payload the generated state machine sends.
//!
//! The wire shape is fixed by the ASL that `saga-dsl` emits (`Parameters.Payload` of every Task);
//! the field names below are that contract. `tests/fixtures.rs` drives the entrypoints
//! with payloads resolved from the emitted ASL, so the two sides cannot drift apart unnoticed.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a step runs: the execution, the state and the key that makes a retry harmless.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepContext {
    /// The saga's name as declared in `saga!`.
    pub saga: String,
    /// `$$.Execution.Id`: the execution's ARN.
    pub execution_id: String,
    /// `$$.Execution.Name`: unique per execution; the API uses the client's idempotency key.
    pub execution_name: String,
    /// `$$.State.Name`: the Task state running this function.
    pub state_name: String,
    /// `<execution name>:<state name>`. The same for every retry and every redelivery of this
    /// state in this execution, so a function that records it has exactly one effect.
    pub idempotency_key: String,
    /// `$$.State.RetryCount`: 0 on the first attempt.
    #[serde(default)]
    pub retry_count: u32,
}

/// The outputs of the steps that completed so far, by the step's logical name.
///
/// The state machine stores each step's output at `$.results.<Step>.output`, where `<Step>` is
/// the name after `step` in the declaration (not a custom `state:` name); a step that needs an
/// earlier result reads it by that name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Results(Map<String, Value>);

/// An earlier result is missing or is not of the expected type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultError {
    /// The state whose result was asked for.
    pub state: String,
    /// What went wrong.
    pub reason: String,
}

impl std::fmt::Display for ResultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "result of state `{}`: {}", self.state, self.reason)
    }
}

impl std::error::Error for ResultError {}

impl Results {
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// The output of the step named `state`, if it completed.
    ///
    /// # Errors
    /// When the stored output does not deserialise into `T`.
    pub fn get<T: DeserializeOwned>(&self, state: &str) -> Result<Option<T>, ResultError> {
        match self.0.get(state).and_then(|slot| slot.get("output")) {
            None => Ok(None),
            Some(output) => T::deserialize(output).map(Some).map_err(|e| ResultError {
                state: state.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    /// The output of `state`, which must have completed.
    ///
    /// # Errors
    /// When the step has no result yet or it does not deserialise into `T`.
    pub fn require<T: DeserializeOwned>(&self, state: &str) -> Result<T, ResultError> {
        self.get(state)?.ok_or_else(|| ResultError {
            state: state.to_owned(),
            reason: "the step has not completed".to_owned(),
        })
    }

    /// Records `output` as the result of `state`, in the shape the state machine stores.
    ///
    /// # Errors
    /// When `output` cannot be serialised.
    pub fn insert<T: Serialize>(
        &mut self,
        state: &str,
        output: &T,
    ) -> Result<(), serde_json::Error> {
        let output = serde_json::to_value(output)?;
        let mut slot = Map::new();
        slot.insert("output".to_owned(), output);
        self.0.insert(state.to_owned(), Value::Object(slot));
        Ok(())
    }
}

/// The error a step raised, as Step Functions caught it (`Catch` with `ResultPath: $.failure`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The error name, e.g. `SoldOut` or `States.Timeout`.
    #[serde(rename = "Error", default)]
    pub error: String,
    /// The error message, or Lambda's error envelope as a JSON string.
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// The request an action receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest<I> {
    /// The saga's input, as the execution started with it.
    pub input: I,
    /// The outputs of the earlier steps.
    pub results: Results,
    /// Execution, state and idempotency key.
    pub context: StepContext,
}

/// The request a compensation receives.
///
/// `output` is `None` when the step's action failed or timed out: the action may still have taken
/// effect, so the compensation looks it up by `action_idempotency_key` and undoes whatever it
/// finds, or records that there was nothing to undo.
#[derive(Clone, Debug, PartialEq)]
pub struct CompensationRequest<I, O> {
    /// The saga's input.
    pub input: I,
    /// The output of the step being compensated, if it completed.
    pub output: Option<O>,
    /// The error that started compensation.
    pub failure: Failure,
    /// The idempotency key the step's action ran with.
    pub action_idempotency_key: String,
    /// Execution, state and idempotency key of the compensation itself.
    pub context: StepContext,
}

/// A compensation that failed after all its retries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undone {
    /// The compensation's state name.
    pub state: String,
    /// Its last error.
    pub failure: Failure,
}

/// The request the escalation function receives when compensations are left undone.
#[derive(Clone, Debug, PartialEq)]
pub struct EscalationRequest<I> {
    /// The saga's input.
    pub input: I,
    /// The outputs of the steps that completed.
    pub results: Results,
    /// The error that started compensation.
    pub failure: Failure,
    /// Every compensation that failed after its retries (in the order Step Functions keeps the
    /// fields of `$.compensation_failures`, which need not be the order they ran).
    pub undone: Vec<Undone>,
    /// Execution, state and idempotency key of the escalation.
    pub context: StepContext,
}

/// The wire form of an action's payload, without `results` (see `entry::take_results`).
#[derive(Deserialize)]
pub(crate) struct ActionPayload<I> {
    pub(crate) input: I,
    pub(crate) context: StepContext,
}

/// The wire form of a compensation's payload, without `results`.
#[derive(Deserialize)]
pub(crate) struct CompensationPayload<I> {
    pub(crate) input: I,
    #[serde(default)]
    pub(crate) failure: Failure,
    pub(crate) action_idempotency_key: String,
    pub(crate) context: StepContext,
}

/// The wire form of the escalation's payload, without `results`.
#[derive(Deserialize)]
pub(crate) struct EscalationPayload<I> {
    pub(crate) input: I,
    #[serde(default)]
    pub(crate) failure: Failure,
    /// `$.compensation_failures`: compensation name → its error.
    pub(crate) undone: Map<String, Value>,
    pub(crate) context: StepContext,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_read_outputs_by_state_name() {
        let results: Results = serde_json::from_value(json!({
            "ReserveFlight": { "output": { "seats": 2 } }
        }))
        .unwrap();
        let seats: Option<Value> = results.get("ReserveFlight").unwrap();
        assert_eq!(seats, Some(json!({ "seats": 2 })));
        assert_eq!(results.get::<Value>("ReserveHotel").unwrap(), None);
        let err = results.require::<Value>("ReserveHotel").unwrap_err();
        assert_eq!(
            err.to_string(),
            "result of state `ReserveHotel`: the step has not completed"
        );
        assert!(results.get::<u32>("ReserveFlight").is_err());
    }

    #[test]
    fn insert_writes_the_shape_the_state_machine_stores() {
        let mut results = Results::default();
        results
            .insert("ReserveHotel", &json!({ "room": 7 }))
            .unwrap();
        assert_eq!(
            serde_json::to_value(&results).unwrap(),
            json!({ "ReserveHotel": { "output": { "room": 7 } } })
        );
    }
}
