//! Lambda semantics on top of an in-process invoker.
//!
//! Two resource forms reach a Lambda function:
//! - the optimised integration `arn:aws:states:::lambda:invoke`, whose `Parameters` carry
//!   `FunctionName` and `Payload` and whose result is Lambda's Invoke response (the function
//!   output sits in `Payload`);
//! - the legacy form, a function ARN as `Resource`, whose result is the function output itself.
//!
//! In both, a function error (`errorType`/`errorMessage`) fails the task with
//! `Error = errorType` and `Cause` = the error document as a JSON string, as Step Functions does.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::error::{StatesError, names};
use crate::task::{BoxFuture, TaskHandler, TaskRequest};

/// The optimised Lambda integration resource.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// One Lambda invocation as the function sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct LambdaInvocation<'a> {
    /// Name of the Task state.
    pub state_name: &'a str,
    /// `FunctionName` (optimised integration) or the function part of the ARN (legacy form).
    pub function_name: &'a str,
    /// The event passed to the function.
    pub payload: Value,
    /// The execution clock (see [`TaskRequest::clock`]).
    pub clock: &'a Clock,
}

/// How a Lambda invocation can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LambdaError {
    /// The function ran and returned an error (Lambda's `FunctionError`).
    Function {
        /// e.g. `PaymentDeclined`; becomes the Step Functions error name.
        error_type: String,
        /// Human-readable message.
        error_message: String,
    },
    /// The invocation itself failed, e.g. `Lambda.ServiceException` or
    /// `Lambda.TooManyRequestsException`.
    Service(StatesError),
}

/// A function invoker: in-process Rust handlers, a mock, or a real Lambda client.
pub trait LambdaInvoker: Send + Sync {
    /// Invokes the function.
    ///
    /// # Errors
    /// A [`LambdaError`]; see its variants for how each maps to a task failure.
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>>;
}

/// A [`TaskHandler`] that gives Lambda resources Step Functions' Lambda semantics and sends
/// every other resource to an optional fallback handler.
pub struct LambdaTasks<I> {
    invoker: I,
    fallback: Option<Box<dyn TaskHandler>>,
}

impl<I: LambdaInvoker> LambdaTasks<I> {
    /// Lambda resources only; any other resource fails the task with `States.Runtime`.
    pub fn new(invoker: I) -> Self {
        Self {
            invoker,
            fallback: None,
        }
    }

    /// Routes non-Lambda resources (DynamoDB, SNS …) to `fallback`.
    #[must_use]
    pub fn with_fallback(mut self, fallback: impl TaskHandler + 'static) -> Self {
        self.fallback = Some(Box::new(fallback));
        self
    }
}

/// The Lambda Invoke response Step Functions returns from `lambda:invoke` (shape from the AWS
/// guide "Invoke Lambda with Step Functions"; header values are fixed placeholders).
pub fn invoke_response(payload: Value) -> Value {
    // Every response is the same document around the payload: cloning a prebuilt one copies
    // its hash tables instead of hashing each key again.
    static ENVELOPE: OnceLock<Map<String, Value>> = OnceLock::new();
    let mut response = ENVELOPE.get_or_init(envelope).clone();
    if let Some((_, slot)) = response.iter_mut().find(|(k, _)| *k == "Payload") {
        *slot = payload;
    }
    Value::Object(response)
}

/// The Invoke response with a `null` payload, keys in AWS's order.
fn envelope() -> Map<String, Value> {
    let request_id = "00000000-0000-0000-0000-000000000000";
    let mut response = Map::with_capacity(5);
    response.insert("ExecutedVersion".into(), "$LATEST".into());
    response.insert("Payload".into(), Value::Null);
    response.insert(
        "SdkHttpMetadata".into(),
        json!({
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Type": ["application/json"]
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Type": "application/json",
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id
            },
            "HttpStatusCode": 200
        }),
    );
    response.insert(
        "SdkResponseMetadata".into(),
        json!({ "RequestId": request_id }),
    );
    response.insert("StatusCode".into(), 200.into());
    response
}

/// The task failure Step Functions reports for a function error.
pub fn function_error(error_type: &str, error_message: &str) -> StatesError {
    let cause = json!({
        "errorMessage": error_message,
        "errorType": error_type,
        "trace": []
    });
    StatesError::new(error_type, cause.to_string())
}

/// `arn:aws:lambda:region:account:function:name[:qualifier]` → `name[:qualifier]`.
fn legacy_function_name(resource: &str) -> Option<&str> {
    if !resource.starts_with("arn:aws:lambda:") {
        return None;
    }
    resource.split_once(":function:").map(|(_, name)| name)
}

impl<I: LambdaInvoker> TaskHandler for LambdaTasks<I> {
    fn invoke<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        let map_error = |e: LambdaError| match e {
            LambdaError::Function {
                error_type,
                error_message,
            } => function_error(&error_type, &error_message),
            LambdaError::Service(e) => e,
        };
        if request.resource == LAMBDA_INVOKE {
            return Box::pin(async move {
                let mut params = request.input;
                let Some(Value::String(function_name)) = params
                    .as_object_mut()
                    .and_then(|m| m.remove("FunctionName"))
                else {
                    return Err(StatesError::new(
                        names::RUNTIME,
                        "lambda:invoke needs a string `FunctionName` in Parameters",
                    ));
                };
                let payload = params
                    .as_object_mut()
                    .and_then(|m| m.remove("Payload"))
                    .unwrap_or_else(|| json!({}));
                let invocation = LambdaInvocation {
                    state_name: request.state_name,
                    function_name: &function_name,
                    payload,
                    clock: request.clock,
                };
                let output = self.invoker.invoke(invocation).await.map_err(map_error)?;
                Ok(invoke_response(output))
            });
        }
        if let Some(function_name) = legacy_function_name(request.resource) {
            return Box::pin(async move {
                let invocation = LambdaInvocation {
                    state_name: request.state_name,
                    function_name,
                    payload: request.input,
                    clock: request.clock,
                };
                self.invoker.invoke(invocation).await.map_err(map_error)
            });
        }
        if let Some(fallback) = &self.fallback {
            return fallback.invoke(request);
        }
        let message = format!("no handler for resource `{}`", request.resource);
        Box::pin(std::future::ready(Err(StatesError::new(
            names::RUNTIME,
            message,
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_arns_yield_the_function_name() {
        assert_eq!(
            legacy_function_name("arn:aws:lambda:eu-west-1:123456789012:function:reserve:live"),
            Some("reserve:live")
        );
        assert_eq!(legacy_function_name("arn:aws:states:::sns:publish"), None);
    }

    #[test]
    fn invoke_responses_wrap_the_payload_in_aws_key_order() {
        let response = invoke_response(json!({"id": 7}));
        let keys: Vec<&str> = response
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "ExecutedVersion",
                "Payload",
                "SdkHttpMetadata",
                "SdkResponseMetadata",
                "StatusCode"
            ]
        );
        assert_eq!(response["Payload"], json!({"id": 7}));
        assert_eq!(response["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
        // Each response is its own document.
        assert_eq!(invoke_response(Value::Null)["Payload"], Value::Null);
    }

    #[test]
    fn function_errors_carry_the_error_document_as_cause() {
        let e = function_error("PaymentDeclined", "card expired");
        assert_eq!(e.error, "PaymentDeclined");
        assert_eq!(
            e.cause.as_deref(),
            Some(r#"{"errorMessage":"card expired","errorType":"PaymentDeclined","trace":[]}"#)
        );
    }
}
