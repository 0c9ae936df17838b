//! A saga's functions in-process, behind the local ASL executor (feature `local`).
//!
//! [`InProcess`] is the [`LambdaInvoker`] of any saga made with `saga!`: a Task's
//! `FunctionName` is resolved through the saga's model, [`SagaFunctions::SAGA`] (so a
//! placeholder the saga does not have fails as Lambda would, with
//! `Lambda.ResourceNotFoundException`), and
//! the payload goes to the same typed entrypoint the Lambda binary runs. A function's
//! `Diagnostic` becomes Lambda's error envelope, so `Retry` and `Catch` see the error names
//! they would see on AWS.
//!
//! ```
//! # use saga_runtime::{ActionRequest, StepError};
//! # #[derive(serde::Deserialize)] pub struct Order { pub seats: u32 }
//! # #[derive(Debug, StepError)] pub enum ReserveError { SoldOut }
//! # impl std::fmt::Display for ReserveError {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("sold out") }
//! # }
//! # async fn reserve(_: &(), req: ActionRequest<Order>) -> Result<u32, ReserveError> {
//! #     if req.input.seats > 9 { Err(ReserveError::SoldOut) } else { Ok(req.input.seats) }
//! # }
//! # saga_runtime::saga! {
//! #     pub saga Booking {
//! #         input: Order,
//! #         step Reserve { action: reserve -> u32, irreversible, business_errors: [SoldOut] }
//! #     }
//! # }
//! use asl_executor::{ExecutionOptions, LambdaTasks, StateMachine, Status};
//! use saga_runtime::local::InProcess;
//! use serde_json::json;
//!
//! # fn main() -> Result<(), asl_executor::DefinitionError> {
//! let machine = StateMachine::from_json(booking::ASL)?;
//! let tasks = LambdaTasks::new(InProcess::<booking::Function>::new(()));
//! let run = |seats| {
//!     futures::executor::block_on(machine.run(&tasks, json!({"seats": seats}), &ExecutionOptions::default()))
//! };
//!
//! assert_eq!(run(2).status, Status::Succeeded);
//! let sold_out = run(12);
//! assert_eq!(sold_out.status, Status::Failed);
//! assert_eq!(sold_out.error.unwrap().error, "SoldOut");
//! # Ok(())
//! # }
//! ```

use asl_executor::{BoxFuture, LambdaError, LambdaInvocation, LambdaInvoker, StatesError};
use saga_model::{FunctionInfo, SagaInfo};
use serde_json::Value;

use crate::functions::SagaFunctions;

/// What Lambda answers when the function a Task names does not exist.
pub const RESOURCE_NOT_FOUND: &str = "Lambda.ResourceNotFoundException";

/// Every function of the saga `F`, run in-process on one context.
pub struct InProcess<F: SagaFunctions> {
    context: F::Context,
}

impl<F: SagaFunctions> InProcess<F> {
    /// The saga's functions on `context`.
    ///
    /// # Panics
    /// When the saga's model names a function `F` does not know: both come from the same
    /// `saga!` expansion, so that would be a bug of the generator.
    pub fn new(context: F::Context) -> Self {
        for function in F::SAGA.functions() {
            assert!(
                F::from_name(&function.name).is_some(),
                "the saga {} has a function `{}` that its Function type does not know",
                F::SAGA.name,
                function.name,
            );
        }
        Self { context }
    }

    /// The context every function borrows.
    pub fn context(&self) -> &F::Context {
        &self.context
    }

    /// The saga the functions belong to.
    pub fn saga(&self) -> &'static SagaInfo {
        F::SAGA
    }

    /// The function a Task's `FunctionName` names (placeholder, ARN or function name).
    pub fn resolve(&self, function_name: &str) -> Option<F> {
        function_for(F::SAGA, function_name).and_then(|f| F::from_name(&f.name))
    }

    /// Invokes the function `function_name` names, as Lambda would.
    ///
    /// # Errors
    /// [`LambdaError::Service`] with [`RESOURCE_NOT_FOUND`] for a name the saga does not have;
    /// [`LambdaError::Function`] with the function's own error otherwise.
    pub async fn call(&self, function_name: &str, payload: Value) -> Result<Value, LambdaError> {
        let function = self.resolve(function_name).ok_or_else(|| {
            LambdaError::Service(StatesError::new(
                RESOURCE_NOT_FOUND,
                format!(
                    "Function not found: `{function_name}` is not a function of the {} saga",
                    F::SAGA.name
                ),
            ))
        })?;
        function
            .invoke(&self.context, payload)
            .await
            .map_err(|d| LambdaError::Function {
                error_type: d.error_type,
                error_message: d.error_message,
            })
    }
}

/// The function a Task's `FunctionName` names, in any form the definition may hold: the
/// generated `${<Name>FunctionArn}` placeholder, the ARN CDK substitutes for it (with or without
/// a version or alias), or the bare function name.
pub fn function_for<'s>(saga: &'s SagaInfo, function_name: &str) -> Option<&'s FunctionInfo> {
    if let Some(key) = function_name
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
    {
        return saga.functions().find(|f| f.substitution_key == key);
    }
    // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    let mut parts = function_name.split(':');
    let name = match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.nth(2),
        parts.next(),
    ) {
        (Some("arn"), Some(_), Some("lambda"), Some("function"), Some(name)) => name,
        _ => function_name,
    };
    saga.functions().find(|f| f.binary == name)
}

impl<F: SagaFunctions> LambdaInvoker for InProcess<F> {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        Box::pin(self.call(invocation.function_name, invocation.payload))
    }
}

/// By reference, so that the caller keeps the functions (and their context) to inspect after a
/// run.
impl<F: SagaFunctions> LambdaInvoker for &InProcess<F> {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        Box::pin(self.call(invocation.function_name, invocation.payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saga() -> SagaInfo {
        let function = |name: &str, kind: &str, binary: &str| {
            serde_json::json!({
                "name": name, "kind": kind, "state": name,
                "substitution_key": format!("{name}FunctionArn"), "crate": "app",
                "binary": binary, "handler": binary,
            })
        };
        let retry = serde_json::json!({
            "max_attempts": 3, "interval_seconds": 1, "backoff_rate": 2.0,
            "max_delay_seconds": 30, "jitter": "full"
        });
        serde_json::from_value(serde_json::json!({
            "saga": "Booking", "module": "booking", "crate": "app", "declared_in": "app",
            "input": "Order", "timeout_seconds": null, "escalation": null,
            "steps": [{
                "action": function("Reserve", "action", "reserve"),
                "output": "Seats", "business_errors": [], "transient_errors": [],
                "retry": retry, "timeout_seconds": null,
                "compensation": {
                    "function": function("Release", "compensation", "release"),
                    "retry": retry,
                    "timeout_seconds": 60,
                },
            }],
        }))
        .unwrap()
    }

    fn name_of<'s>(saga: &'s SagaInfo, function_name: &str) -> Option<&'s str> {
        function_for(saga, function_name).map(|f| &*f.name)
    }

    #[test]
    fn resolves_placeholders_arns_and_names() {
        let saga = saga();
        assert_eq!(name_of(&saga, "${ReleaseFunctionArn}"), Some("Release"));
        assert_eq!(
            name_of(
                &saga,
                "arn:aws:lambda:eu-west-1:123456789012:function:reserve"
            ),
            Some("Reserve")
        );
        assert_eq!(
            name_of(
                &saga,
                "arn:aws:lambda:eu-west-1:123456789012:function:release:7"
            ),
            Some("Release")
        );
        assert_eq!(name_of(&saga, "reserve"), Some("Reserve"));
    }

    #[test]
    fn unknown_functions_resolve_to_nothing() {
        let saga = saga();
        for unknown in [
            "${PayFunctionArn}",
            "${Reserve}",
            "ReserveFunctionArn",
            "arn:aws:lambda:eu-west-1:123456789012:function:pay",
            "",
        ] {
            assert_eq!(name_of(&saga, unknown), None, "{unknown}");
        }
    }
}
