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

/// The outputs of the steps that completed so far, untyped, by the step's logical name: what
/// the escalation receives (it runs after any step may have failed, so any may be missing).
///
/// An action reads earlier outputs typed instead, through the results struct `saga!` generates
/// for its step (`<saga>::results::<Step>`, see [`ActionRequest`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Results(Map<String, Value>);

/// An earlier result is missing or is not of the expected type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultError {
    /// The step whose result was asked for.
    pub state: String,
    /// What went wrong.
    pub reason: String,
}

impl std::fmt::Display for ResultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "result of step `{}`: {}", self.state, self.reason)
    }
}

impl std::error::Error for ResultError {}

impl Results {
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// The output of the step named `step`, if it completed.
    ///
    /// # Errors
    /// When the stored output does not deserialise into `T`.
    pub fn get<T: DeserializeOwned>(&self, step: &str) -> Result<Option<T>, ResultError> {
        match self.0.get(step).and_then(|slot| slot.get("output")) {
            None => Ok(None),
            Some(output) => T::deserialize(output).map(Some).map_err(|e| ResultError {
                state: step.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    /// The names of the steps whose output is here.
    pub fn steps(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Records `output` as the result of `step`, in the shape the state machine stores.
    ///
    /// # Errors
    /// When `output` cannot be serialised.
    pub fn insert<T: Serialize>(
        &mut self,
        step: &str,
        output: &T,
    ) -> Result<(), serde_json::Error> {
        let output = serde_json::to_value(output)?;
        let mut slot = Map::new();
        slot.insert("output".to_owned(), output);
        self.0.insert(step.to_owned(), Value::Object(slot));
        Ok(())
    }
}

/// What an action reads of the earlier steps' outputs: `()` for nothing, or the struct `saga!`
/// generates for the step (`<saga>::results::<Step>`), whose fields are those outputs, typed.
pub trait FromResults: Sized {
    /// Takes the outputs out of `$.results` (step name → `{ "output": … }`).
    ///
    /// # Errors
    /// When an output is missing or does not decode; the entrypoint reports it as
    /// `Saga.InvalidPayload`.
    fn from_results(results: Map<String, Value>) -> Result<Self, ResultError>;
}

impl FromResults for () {
    fn from_results(_: Map<String, Value>) -> Result<Self, ResultError> {
        Ok(())
    }
}

/// Says which results an action of step `S` may ask for: none (`()`), or exactly its own
/// step's (`S`). `saga!` implements it for each step's results struct, so an action that asks
/// for another step's results, which may not have completed yet, does not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` are not the results this step receives",
    label = "this action asks for `{Self}`",
    note = "an action takes `ActionRequest<Input>` (no earlier results) or `ActionRequest<Input, <saga module>::results::<its own step>>`, here `{S}`"
)]
pub trait ResultsOf<S> {}

impl<S> ResultsOf<S> for () {}

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
///
/// `R` is what it reads of the earlier steps: `()` (the default) for nothing, or the results
/// struct `saga!` generates for its step, e.g.
/// `ActionRequest<TripRequest, trip_booking::results::ProcessPayment>` with one typed field per
/// earlier step (`request.results.reserve_flight`). Asking for an output that does not exist
/// yet, or for the wrong type, does not compile.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRequest<I, R = ()> {
    /// The saga's input, as the execution started with it.
    pub input: I,
    /// The outputs of the earlier steps, as `R` asks for them.
    pub results: R,
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

/// The saga's input as the escalation received it: decoded, or (when it does not decode, which
/// is likely why compensations failed) the raw JSON, so that the escalation can still tell
/// someone.
pub type EscalationInput<I> = Result<I, InvalidInput>;

/// An execution input that does not decode into the saga's input type.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidInput {
    /// The input as the execution received it.
    pub raw: Value,
    /// Why it does not decode.
    pub error: String,
}

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the saga input does not decode: {}", self.error)
    }
}

impl std::error::Error for InvalidInput {}

/// The request the escalation function receives when compensations are left undone.
///
/// Nothing in it depends on decoding the saga's input: the escalation is the last line of
/// defence, so it runs whatever the payload holds.
#[derive(Clone, Debug, PartialEq)]
pub struct EscalationRequest<I> {
    /// The saga's input, or the raw JSON when it does not decode.
    pub input: EscalationInput<I>,
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

/// The wire form of the escalation's payload, without `results`. The input stays raw: it is
/// decoded after, and a failure to decode it is handed to the escalation instead of failing it.
#[derive(Deserialize)]
pub(crate) struct EscalationPayload {
    #[serde(default)]
    pub(crate) input: Value,
    #[serde(default)]
    pub(crate) failure: Failure,
    /// `$.compensation_failures`: compensation name → its error.
    #[serde(default)]
    pub(crate) undone: Map<String, Value>,
    pub(crate) context: StepContext,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_read_outputs_by_step_name() {
        let results: Results = serde_json::from_value(json!({
            "ReserveFlight": { "output": { "seats": 2 } }
        }))
        .unwrap();
        let seats: Option<Value> = results.get("ReserveFlight").unwrap();
        assert_eq!(seats, Some(json!({ "seats": 2 })));
        assert_eq!(results.get::<Value>("ReserveHotel").unwrap(), None);
        let err = results.get::<u32>("ReserveFlight").unwrap_err();
        assert_eq!(err.state, "ReserveFlight");
        assert!(
            err.to_string()
                .starts_with("result of step `ReserveFlight`: invalid type")
        );
        assert_eq!(results.steps().collect::<Vec<_>>(), ["ReserveFlight"]);
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
