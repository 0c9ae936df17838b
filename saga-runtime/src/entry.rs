//! The adapter between a Lambda invocation and a user's step function.
//!
//! Generated entrypoints are one line each: they hand the user's function to one of these
//! generic adapters, so the decoding, error naming and tracing live here, written and tested once.

use std::future::Future;

use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::error::{StepError, reserved};
use crate::request::{
    ActionRequest, CompensationPayload, CompensationRequest, EscalationPayload, EscalationRequest,
    Failure, StepContext, Undone,
};

/// Runs an action on the payload its Task state sent.
///
/// # Errors
/// `Saga.InvalidPayload` when the payload does not decode; the action's own error, named by
/// [`StepError::name`], when it fails.
pub async fn action<'a, C, I, O, E, F, Fut>(
    context: &'a C,
    f: F,
    payload: Value,
) -> Result<Value, Diagnostic>
where
    F: FnOnce(&'a C, ActionRequest<I>) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    I: DeserializeOwned,
    O: Serialize,
    E: StepError,
{
    let request: ActionRequest<I> = decode(payload)?;
    let span = step_span(&request.context);
    async move { encode(&f(context, request).await.map_err(|e| diagnostic(&e))?) }
        .instrument(span)
        .await
}

/// Runs a compensation, handing it the output of the step it undoes when that step completed.
///
/// # Errors
/// As [`action`].
pub async fn compensation<'a, C, I, O, CO, E, G, Fut>(
    context: &'a C,
    step_state: &str,
    g: G,
    payload: Value,
) -> Result<Value, Diagnostic>
where
    G: FnOnce(&'a C, CompensationRequest<I, O>) -> Fut,
    Fut: Future<Output = Result<CO, E>>,
    I: DeserializeOwned,
    O: DeserializeOwned,
    CO: Serialize,
    E: StepError,
{
    let wire: CompensationPayload<I> = decode(payload)?;
    let output = wire
        .results
        .get::<O>(step_state)
        .map_err(|e| invalid_payload(&e))?;
    let request = CompensationRequest {
        input: wire.input,
        output,
        failure: wire.failure,
        action_idempotency_key: wire.action_idempotency_key,
        context: wire.context,
    };
    let span = step_span(&request.context);
    async move { encode(&g(context, request).await.map_err(|e| diagnostic(&e))?) }
        .instrument(span)
        .await
}

/// Runs the escalation function with the list of compensations left undone.
///
/// # Errors
/// As [`action`].
pub async fn escalation<'a, C, I, O, E, H, Fut>(
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
    let wire: EscalationPayload<I> = decode(payload)?;
    let undone = undone_list(wire.undone)?;
    let request = EscalationRequest {
        input: wire.input,
        results: wire.results,
        failure: wire.failure,
        undone,
        context: wire.context,
    };
    let span = step_span(&request.context);
    async move { encode(&h(context, request).await.map_err(|e| diagnostic(&e))?) }
        .instrument(span)
        .await
}

fn undone_list(map: Map<String, Value>) -> Result<Vec<Undone>, Diagnostic> {
    map.into_iter()
        .map(|(state, failure)| {
            let failure: Failure =
                serde_json::from_value(failure).map_err(|e| invalid_payload(&e))?;
            Ok(Undone { state, failure })
        })
        .collect()
}

fn step_span(context: &StepContext) -> tracing::Span {
    tracing::info_span!(
        "saga_step",
        saga = %context.saga,
        execution_id = %context.execution_id,
        state_name = %context.state_name,
        retry_count = context.retry_count,
    )
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
        error_message: e.to_string(),
    }
}

/// The Lambda error a step error becomes: its name is what `Retry` and `Catch` match.
pub fn diagnostic<E: StepError>(error: &E) -> Diagnostic {
    Diagnostic {
        error_type: error.name().into(),
        error_message: error.to_string(),
    }
}
