//! Compile-time checks that `saga!` emits next to the DSL tokens they are about.
//!
//! None of these run: calling them makes rustc check the user's functions against the saga's
//! declaration, and report a mismatch on the DSL line that the generated call is spanned to.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::StepError;
use crate::request::{ActionRequest, CompensationRequest, EscalationRequest};

/// An action is `async fn(&Context, ActionRequest<Input>) -> Result<Output, Error>`.
pub fn action<'a, C, I, O, E, F, Fut>(_: &F)
where
    F: Fn(&'a C, ActionRequest<I>) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    I: DeserializeOwned,
    O: Serialize + DeserializeOwned,
    E: StepError,
    C: 'a,
{
}

/// A compensation takes the saga input and the output type of the action it undoes.
pub fn compensation<'a, C, I, O, E, F, Fut, CO, CE, G, GFut>(_: &F, _: &G)
where
    F: Fn(&'a C, ActionRequest<I>) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    G: Fn(&'a C, CompensationRequest<I, O>) -> GFut,
    GFut: Future<Output = Result<CO, CE>>,
    CO: Serialize,
    CE: StepError,
    C: 'a,
{
}

/// The escalation function takes the saga input and the list of compensations left undone.
pub fn escalation<'a, C, I, O, E, H, Fut>(_: &H)
where
    H: Fn(&'a C, EscalationRequest<I>) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    O: Serialize,
    E: StepError,
    C: 'a,
{
}

/// The names an action's error type can raise, read at compile time.
pub const fn action_error_names<'a, C, I, O, E, F, Fut>(_: &F) -> &'static [&'static str]
where
    F: Fn(&'a C, ActionRequest<I>) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    E: StepError,
    C: 'a,
{
    E::NAMES
}
