//! How generated code holds the user's functions: each is named once, in a function whose
//! return type is `impl ActionHandler<…>` (or the compensation's, the escalation's) spanned on
//! its DSL path. Its trait bounds are where rustc checks the function against the declaration,
//! so a mistake is reported once, on that path; everything else (dispatch, the compensation's
//! view of the action's output, later steps' typed results, error-name checks) goes through the
//! opaque handler and adds no diagnostic of its own.

use std::future::Future;
use std::marker::PhantomData;

use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::entry;
use crate::error::StepError;
use crate::request::{
    ActionRequest, CompensationRequest, EscalationRequest, FromResults, ResultError, ResultsOf,
};
use saga_model::PivotCheck;

/// A step's action, checked against the saga: it takes the saga's context and input and the
/// results of step `S` (or none), and returns `Output` or a [`StepError`].
pub trait ActionHandler<'a, C: 'a, I, S> {
    /// The action's output type: the type declared after `->`.
    type Output;
    /// Every error name the action can raise.
    const NAMES: &'static [&'static str];

    /// Runs the action on the payload its Task state sent.
    fn run(
        self,
        context: &'a C,
        payload: Value,
    ) -> impl Future<Output = Result<Value, Diagnostic>> + Send + 'a;

    /// Decodes a stored output of this action.
    ///
    /// # Errors
    /// When `value` is not an `Output`.
    fn decode_output(value: Value) -> Result<Self::Output, serde_json::Error>;
}

/// A compensation, checked against the saga and the action it undoes.
pub trait CompensationHandler<'a, C: 'a, I> {
    /// Runs the compensation on the payload its Task state sent.
    fn run(
        self,
        context: &'a C,
        payload: Value,
    ) -> impl Future<Output = Result<Value, Diagnostic>> + Send + 'a;
}

/// The escalation, checked against the saga.
pub trait EscalationHandler<'a, C: 'a, I> {
    /// Runs the escalation on the payload its Task state sent.
    fn run(
        self,
        context: &'a C,
        payload: Value,
    ) -> impl Future<Output = Result<Value, Diagnostic>> + Send + 'a;
}

/// An action function that reads the earlier results `R` (inferred from its signature).
pub struct Action<F, R>(F, PhantomData<fn() -> R>);

impl<F, R> Action<F, R> {
    /// Wraps the user's action.
    pub const fn new(f: F) -> Self {
        Action(f, PhantomData)
    }
}

impl<'a, C, I, S, R, O, E, F, Fut> ActionHandler<'a, C, I, S> for Action<F, R>
where
    C: Sync + 'a,
    F: Fn(&'a C, ActionRequest<I, R>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<O, E>> + Send + 'a,
    I: DeserializeOwned + Send + 'a,
    R: FromResults + ResultsOf<S> + Send + 'a,
    O: Serialize + DeserializeOwned + 'a,
    E: StepError + 'a,
{
    type Output = O;
    const NAMES: &'static [&'static str] = E::NAMES;

    fn run(
        self,
        context: &'a C,
        payload: Value,
    ) -> impl Future<Output = Result<Value, Diagnostic>> + Send + 'a {
        entry::action(context, self.0, payload)
    }

    fn decode_output(value: Value) -> Result<O, serde_json::Error> {
        O::deserialize(value)
    }
}

/// A compensation function, with the decoder of its action's output.
pub struct Compensation<G, O> {
    g: G,
    step: &'static str,
    decode_output: fn(Value) -> Result<O, serde_json::Error>,
}

impl<G, O> Compensation<G, O> {
    /// Wraps the user's compensation of `step`, whose action's outputs `decode_output` reads.
    pub const fn new(
        g: G,
        step: &'static str,
        decode_output: fn(Value) -> Result<O, serde_json::Error>,
    ) -> Self {
        Compensation {
            g,
            step,
            decode_output,
        }
    }
}

impl<'a, C, I, O, CO, CE, G, Fut> CompensationHandler<'a, C, I> for Compensation<G, O>
where
    C: Sync + 'a,
    G: Fn(&'a C, CompensationRequest<I, O>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<CO, CE>> + Send + 'a,
    I: DeserializeOwned + Send + 'a,
    O: Send + 'a,
    CO: Serialize + 'a,
    CE: StepError + 'a,
{
    fn run(
        self,
        context: &'a C,
        payload: Value,
    ) -> impl Future<Output = Result<Value, Diagnostic>> + Send + 'a {
        entry::compensation(context, self.step, self.decode_output, self.g, payload)
    }
}

/// A pivot's guard: a compensation of the pivot step that answers whether the pivot took
/// effect.
pub struct PivotGuard<G, O>(Compensation<G, O>);

impl<G, O> PivotGuard<G, O> {
    /// Wraps the user's guard of the pivot `step`, whose action's outputs `decode_output` reads.
    pub const fn new(
        g: G,
        step: &'static str,
        decode_output: fn(Value) -> Result<O, serde_json::Error>,
    ) -> Self {
        PivotGuard(Compensation::new(g, step, decode_output))
    }
}

impl<'a, C, I, O, CE, G, Fut> CompensationHandler<'a, C, I> for PivotGuard<G, O>
where
    C: Sync + 'a,
    G: Fn(&'a C, CompensationRequest<I, O>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<PivotCheck, CE>> + Send + 'a,
    I: DeserializeOwned + Send + 'a,
    O: Send + 'a,
    CE: StepError + 'a,
{
    fn run(
        self,
        context: &'a C,
        payload: Value,
    ) -> impl Future<Output = Result<Value, Diagnostic>> + Send + 'a {
        self.0.run(context, payload)
    }
}

/// The escalation function.
pub struct Escalation<H>(H);

impl<H> Escalation<H> {
    /// Wraps the user's escalation.
    pub const fn new(h: H) -> Self {
        Escalation(h)
    }
}

impl<'a, C, I, O, E, H, Fut> EscalationHandler<'a, C, I> for Escalation<H>
where
    C: Sync + 'a,
    H: Fn(&'a C, EscalationRequest<I>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<O, E>> + Send + 'a,
    I: DeserializeOwned + Send + 'a,
    O: Serialize + 'a,
    E: StepError + 'a,
{
    fn run(
        self,
        context: &'a C,
        payload: Value,
    ) -> impl Future<Output = Result<Value, Diagnostic>> + Send + 'a {
        entry::escalation(context, self.0, payload)
    }
}

/// The decoder of an action's outputs, for its compensation.
pub fn decoder_of<'a, C: 'a, I, S, H: ActionHandler<'a, C, I, S>>(
    _: fn() -> H,
) -> fn(Value) -> Result<H::Output, serde_json::Error> {
    H::decode_output
}

/// The error names of an action, for the compile-time checks.
pub const fn names_of<'a, C: 'a, I, S, H: ActionHandler<'a, C, I, S>>(
    _: fn() -> H,
) -> &'static [&'static str] {
    H::NAMES
}

/// Takes the output of `step` out of `$.results` and decodes it with its action's decoder: what
/// a generated results struct is built from.
///
/// # Errors
/// When the step has no output there (it has not completed) or it does not decode.
pub fn output<'a, C: 'a, I, S, H: ActionHandler<'a, C, I, S>>(
    results: &mut Map<String, Value>,
    step: &str,
    _: fn() -> H,
) -> Result<H::Output, ResultError> {
    let error = |reason: String| ResultError {
        state: step.to_owned(),
        reason,
    };
    let output = results
        .get_mut(step)
        .and_then(|slot| slot.get_mut("output"))
        .map(Value::take)
        .ok_or_else(|| error("the step has not completed".to_owned()))?;
    H::decode_output(output).map_err(|e| error(e.to_string()))
}
