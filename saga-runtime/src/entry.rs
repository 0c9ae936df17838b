//! The adapter between a Lambda invocation and a user's step function.
//!
//! Generated entrypoints are one line each: they hand the user's function to one of these
//! generic adapters, so the decoding, error naming and tracing live here, written and tested once.
//! Each step runs inside its span ([`trace`]), which covers the decoding too, so a payload that
//! does not decode is a failed step of its execution's trace like any other.

use std::future::Future;

use lambda_runtime::Diagnostic;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::error::{StepError, reserved};
use crate::request::{
    ActionPayload, ActionRequest, CompensationPayload, CompensationRequest, EscalationPayload,
    EscalationRequest, Failure, FromResults, InvalidInput, ResultError, Results, Undone,
};
use crate::trace;

/// Runs an action on the payload its Task state sent.
///
/// # Errors
/// `Saga.InvalidPayload` when the payload (or an earlier result the action asks for) does not
/// decode; the action's own error, named by [`StepError::name`], when it fails.
pub(crate) async fn action<'a, C, I, R, O, E, F, Fut>(
    context: &'a C,
    f: F,
    payload: Value,
) -> Result<Value, Diagnostic>
where
    F: FnOnce(&'a C, ActionRequest<I, R>) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    I: DeserializeOwned,
    R: FromResults,
    O: Serialize,
    E: StepError,
{
    let span = trace::step_span(&payload);
    let step = async move {
        let (payload, taken) = take_results(payload);
        let wire: ActionPayload<I> = decode(payload)?;
        let results = R::from_results(results_map(taken)?).map_err(|e| invalid_payload(&e))?;
        let request = ActionRequest {
            input: wire.input,
            results,
            context: wire.context,
        };
        encode(&f(context, request).await.map_err(|e| diagnostic(&e))?)
    };
    trace::finish(span.clone(), step.instrument(span)).await
}

/// Runs a compensation, handing it the output of the step it undoes when that step completed,
/// decoded by `decode_output` (the action's own decoder, so that the output type is checked in
/// one place).
///
/// # Errors
/// As [`action`].
pub(crate) async fn compensation<'a, C, I, O, CO, E, G, Fut>(
    context: &'a C,
    step: &str,
    decode_output: fn(Value) -> Result<O, serde_json::Error>,
    g: G,
    payload: Value,
) -> Result<Value, Diagnostic>
where
    G: FnOnce(&'a C, CompensationRequest<I, O>) -> Fut,
    Fut: Future<Output = Result<CO, E>>,
    I: DeserializeOwned,
    CO: Serialize,
    E: StepError,
{
    let span = trace::step_span(&payload);
    let compensate = async move {
        let (payload, taken) = take_results(payload);
        let wire: CompensationPayload<I> = decode(payload)?;
        let output = match results_map(taken)?
            .remove(step)
            .and_then(|mut slot| slot.get_mut("output").map(Value::take))
        {
            None => None,
            Some(output) => Some(decode_output(output).map_err(|e| {
                invalid_payload(&ResultError {
                    state: step.to_owned(),
                    reason: e.to_string(),
                })
            })?),
        };
        let request = CompensationRequest {
            input: wire.input,
            output,
            failure: wire.failure,
            action_idempotency_key: wire.action_idempotency_key,
            context: wire.context,
        };
        encode(&g(context, request).await.map_err(|e| diagnostic(&e))?)
    };
    trace::finish(span.clone(), compensate.instrument(span)).await
}

/// Runs the escalation function with the list of compensations left undone.
///
/// Nothing here fails on what the payload holds, short of a payload that is not the escalation's
/// at all: the input is handed over raw when it does not decode (an undecodable input is the
/// likeliest reason compensations failed), and malformed entries of the failures are kept as
/// text.
///
/// # Errors
/// `Saga.InvalidPayload` only when the payload has no step context; the escalation's own error
/// when it fails.
pub(crate) async fn escalation<'a, C, I, O, E, H, Fut>(
    context: &'a C,
    h: H,
    payload: Value,
) -> Result<Value, Diagnostic>
where
    H: FnOnce(&'a C, EscalationRequest<I>) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    I: DeserializeOwned,
    O: Serialize,
    E: StepError,
{
    let span = trace::step_span(&payload);
    let escalate = async move {
        let (payload, taken) = take_results(payload);
        let wire: EscalationPayload = decode(payload)?;
        let input = I::deserialize(&wire.input).map_err(|e| InvalidInput {
            error: e.to_string(),
            raw: wire.input,
        });
        let results = match taken {
            Some(Value::Object(map)) => Results::from_map(map),
            _ => Results::default(),
        };
        let request = EscalationRequest {
            input,
            results,
            failure: wire.failure,
            undone: undone_list(wire.undone),
            context: wire.context,
        };
        encode(&h(context, request).await.map_err(|e| diagnostic(&e))?)
    };
    trace::finish(span.clone(), escalate.instrument(span)).await
}

fn undone_list(map: Map<String, Value>) -> Vec<Undone> {
    map.into_iter()
        .map(|(state, failure)| {
            let failure = Failure::deserialize(&failure).unwrap_or_else(|_| Failure {
                error: String::new(),
                cause: failure.to_string(),
            });
            Undone { state, failure }
        })
        .collect()
}

/// Moves `$.results` out of a payload. Deserialising it with serde would rebuild every map of
/// every earlier step's output entry by entry, and it is the part of the payload that grows
/// with each step.
///
/// Returns what is left to decode; the results are checked after the rest decoded, so that a
/// payload of the wrong shape is reported in serde's words first.
fn take_results(payload: Value) -> (Value, Option<Value>) {
    match payload {
        Value::Object(mut fields) => {
            let results = fields.remove("results");
            (Value::Object(fields), results)
        }
        other => (other, None),
    }
}

fn results_map(taken: Option<Value>) -> Result<Map<String, Value>, Diagnostic> {
    match taken {
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(invalid_payload(&format!(
            "invalid type for field `results`: {other}, expected an object"
        ))),
        None => Err(invalid_payload(&"missing field `results`")),
    }
}

fn decode<T: DeserializeOwned>(payload: Value) -> Result<T, Diagnostic> {
    serde_json::from_value(payload).map_err(|e| invalid_payload(&e))
}

fn encode<T: Serialize>(output: &T) -> Result<Value, Diagnostic> {
    serde_json::to_value(output).map_err(|e| Diagnostic {
        error_type: reserved::INVALID_OUTPUT.into(),
        error_message: e.to_string(),
    })
}

fn invalid_payload(e: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic {
        error_type: reserved::INVALID_PAYLOAD.into(),
        error_message: bounded(e.to_string(), MESSAGE_CHARS),
    }
}

/// The longest message of a payload that does not decode, in characters. serde quotes the value
/// it refuses, and a message must not grow with the payload that caused it: Step Functions keeps
/// at most 32,768 characters of a cause, in every history event that shows it.
const MESSAGE_CHARS: usize = 1_000;

/// `message`, cut in the middle when it is longer than `max_chars` characters (the start says
/// what was wrong, the end where), saying how much was left out. An error message that quotes the
/// input it refuses must not grow with that input.
///
/// ```
/// let message = saga_runtime::bounded("x".repeat(1_000), 10);
/// assert_eq!(message, "xxxxx… (990 characters left out) …xxxxx");
/// assert_eq!(saga_runtime::bounded("short".to_owned(), 10), "short");
/// ```
pub fn bounded(message: String, max_chars: usize) -> String {
    let length = message.chars().count();
    if length <= max_chars {
        return message;
    }
    let keep = max_chars / 2;
    let head: String = message.chars().take(keep).collect();
    let tail: String = message.chars().skip(length - keep).collect();
    format!(
        "{head}… ({} characters left out) …{tail}",
        length - 2 * keep
    )
}

/// The Lambda error a step error becomes: its name is what `Retry` and `Catch` match.
pub fn diagnostic<E: StepError>(error: &E) -> Diagnostic {
    Diagnostic {
        error_type: error.name().into(),
        error_message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_that_does_not_decode_is_not_echoed_whole() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Seats {
            seats: u32,
        }
        let huge = serde_json::json!({ "seats": "9".repeat(100_000) });
        let diagnostic = decode::<Seats>(huge).unwrap_err();
        assert_eq!(diagnostic.error_type, reserved::INVALID_PAYLOAD);
        let length = diagnostic.error_message.chars().count();
        assert!(length < 1_100, "{length} characters");
        assert!(
            diagnostic
                .error_message
                .starts_with("invalid type: string \"999"),
            "{}",
            diagnostic.error_message
        );
        assert!(
            diagnostic.error_message.contains("characters left out) …"),
            "{}",
            diagnostic.error_message
        );
        assert_eq!(bounded("short".to_owned(), MESSAGE_CHARS), "short");
    }
}
