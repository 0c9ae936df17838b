//! The port through which Task states reach the outside world.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::clock::Clock;
use crate::error::StatesError;

/// A boxed, `Send` future: what task handlers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Everything a task handler learns about one task invocation.
#[derive(Debug)]
#[non_exhaustive]
pub struct TaskRequest<'a> {
    /// Name of the Task state.
    pub state_name: &'a str,
    /// The state's `Resource` ARN.
    pub resource: &'a str,
    /// Effective input: after `InputPath` and `Parameters`.
    pub input: Value,
    /// How many times this state has been retried so far (`$$.State.RetryCount`).
    pub retry_count: u32,
    /// The execution clock; a mock may call [`Clock::advance`] to simulate a slow task.
    pub clock: &'a Clock,
}

/// Runs Task states. Implement it for in-process handlers or mocks; wrap it in
/// [`LambdaTasks`](crate::LambdaTasks) to get Lambda's integration semantics.
pub trait TaskHandler: Send + Sync {
    /// Executes one task attempt.
    ///
    /// # Errors
    /// A [`StatesError`] fails the attempt; its name is matched by the state's `Retry` and
    /// `Catch` rules (e.g. `Lambda.ServiceException`, or a business error name).
    fn invoke<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>>;
}

/// A [`TaskHandler`] made from a synchronous closure `(request) -> result`.
pub struct SyncTaskFn<F>(pub F);

impl<F> TaskHandler for SyncTaskFn<F>
where
    F: Fn(TaskRequest<'_>) -> Result<Value, StatesError> + Send + Sync,
{
    fn invoke<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        Box::pin(std::future::ready((self.0)(request)))
    }
}

impl<T: TaskHandler + ?Sized> TaskHandler for std::sync::Arc<T> {
    fn invoke<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        (**self).invoke(request)
    }
}
