//! A saga's functions as one type: what runs them outside Lambda.
//!
//! `saga!` implements [`SagaFunctions`] for the `Function` enum it generates, so a runner (the
//! local executor, a test harness) can be written once for every saga: it reads the saga's
//! [`SagaInfo`] to learn which function a `lambda:invoke` resource names and calls the same
//! typed entrypoint the Lambda binary would.

use std::future::Future;
use std::pin::Pin;

use lambda_runtime::Diagnostic;
use saga_model::SagaInfo;
use serde_json::Value;

/// A boxed, sendable future: what [`SagaFunctions::invoke`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The Lambda functions of one saga, implemented by the `Function` enum `saga!` generates.
///
/// The futures are `Send` so that a runner may drive them on a multi-threaded runtime, as
/// `tokio::spawn` would; a step function holding a non-`Send` value across an `.await` does not
/// compile (the error points at its path in the declaration).
pub trait SagaFunctions: Copy + Send + Sync + 'static {
    /// What every function borrows (the saga's `context:` type).
    type Context: Send + Sync;

    /// The saga, as `saga!` checked it: the `SAGA` static of the generated module, whose serde
    /// form is `generated/<saga>.functions.json`.
    const SAGA: &'static SagaInfo;

    /// The function with this logical name (the manifest's `name`).
    fn from_name(name: &str) -> Option<Self>;

    /// Runs the function on a payload exactly as its Lambda would.
    ///
    /// # Errors
    /// The `Diagnostic` Lambda would report; its `error_type` is what `Retry`/`Catch` match.
    fn invoke(
        self,
        context: &Self::Context,
        payload: Value,
    ) -> BoxFuture<'_, Result<Value, Diagnostic>>;
}
