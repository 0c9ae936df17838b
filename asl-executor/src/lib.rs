//! A local interpreter of the [Amazon States Language](https://states-language.net/spec.html).
//!
//! Compile an ASL definition once with [`StateMachine::from_json`], then [`run`] it with a
//! [`TaskHandler`] that answers Task states in-process (or a mock). Time is virtual by
//! default: Wait states and retry back-off advance a clock instead of sleeping, so an
//! execution that would take hours on AWS finishes in microseconds, deterministically.
//! Every run returns its final [`Status`], output or error, and a typed [`History`] that
//! prints as the path taken through the machine.
//!
//! ```
//! use asl_executor::{
//!     ExecutionOptions, LambdaError, LambdaInvocation, LambdaInvoker, LambdaTasks, Status,
//!     StateMachine, BoxFuture,
//! };
//! use serde_json::{Value, json};
//!
//! /// In-process "Lambda functions".
//! struct Functions;
//!
//! impl LambdaInvoker for Functions {
//!     fn invoke<'a>(&'a self, call: LambdaInvocation<'a>) -> BoxFuture<'a, Result<Value, LambdaError>> {
//!         Box::pin(async move {
//!             match call.function_name {
//!                 "reserve-hotel" => Ok(json!({"reservation": "H-1"})),
//!                 other => Err(LambdaError::Function {
//!                     error_type: "UnknownFunction".into(),
//!                     error_message: other.into(),
//!                 }),
//!             }
//!         })
//!     }
//! }
//!
//! let machine = StateMachine::from_json(r#"{
//!   "StartAt": "Reserve",
//!   "States": {
//!     "Reserve": {
//!       "Type": "Task",
//!       "Resource": "arn:aws:states:::lambda:invoke",
//!       "Parameters": {"FunctionName": "reserve-hotel", "Payload.$": "$"},
//!       "ResultSelector": {"id.$": "$.Payload.reservation"},
//!       "ResultPath": "$.hotel",
//!       "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2}],
//!       "End": true
//!     }
//!   }
//! }"#)?;
//!
//! let tasks = LambdaTasks::new(Functions);
//! let options = ExecutionOptions::default(); // virtual time, fixed start, seed 0
//! let execution = futures::executor::block_on(machine.run(&tasks, json!({"trip": 7}), &options));
//!
//! assert_eq!(execution.status, Status::Succeeded);
//! assert_eq!(execution.output, Some(json!({"trip": 7, "hotel": {"id": "H-1"}})));
//! assert_eq!(execution.history.states_visited(), ["Reserve"]);
//! println!("{}", execution.history);
//! # Ok::<(), asl_executor::DefinitionError>(())
//! ```
//!
//! # What is interpreted
//!
//! All eight state types; `InputPath`, `Parameters` (paths, `$$` context paths, intrinsic
//! functions), `ResultSelector`, `ResultPath` (including `null` and missing intermediate
//! objects), `OutputPath`; every Choice operator including the `…Path` variants and type
//! tests; Wait by seconds or timestamp, literal or by path; `Retry` (per-retrier counters,
//! back-off, `MaxDelaySeconds`, `JitterStrategy`) and `Catch` with AWS's matching rules; the
//! eighteen `States.*` intrinsics; state and execution `TimeoutSeconds`.
//!
//! Durable executions: [`StateMachine::run_durably`] tells a [`Journal`] of every top-level
//! state that acts or waits before it runs, and [`StateMachine::resume`] takes an execution up
//! again from the last [`Checkpoint`] (its timeout still counted from the original start), so
//! a runner that stops mid-execution loses nothing, as Step Functions loses nothing.
//!
//! Deliberate limits, each refused or documented rather than half-supported:
//! - Parallel branches and Map iterations run one after another (`MaxConcurrency` is
//!   accepted and ignored); results keep AWS's order.
//! - Distributed Map (`ItemReader`, `ResultWriter`), JSONata and variables (`Assign`) are
//!   rejected when the definition is compiled.
//! - `HeartbeatSeconds`, `.waitForTaskToken` callbacks and payload-size limits
//!   (`States.DataLimitExceeded`) are not modelled.
//! - A `Parameters` path that matches nothing raises `States.Runtime`, as AWS does (the spec's
//!   `States.ParameterPathFailure` is never raised).
//!
//! # Performance
//!
//! Paths, templates, intrinsics and Choice rules are parsed once by
//! [`StateMachine::from_json`]; states are addressed by index and shared through `Arc`.
//! `$$` paths are answered without building the context object, and a full history keeps
//! its payloads as compact snapshots in one buffer per execution, turned into `Value`s on
//! the first call to [`History::events`] (so the first read of a full history pays for it).
//! Measured on 2026-11-24 (one thread, shared 2-core machine, `docs/benchmarks.md`):
//! - `cargo run --release --example throughput` (3 trivial tasks): about 520 000
//!   executions/s with full history, 590 000 with [`HistoryMode::WithoutPayloads`] and
//!   830 000 with [`HistoryMode::Off`];
//! - `cargo bench --bench trip_saga` (the trip saga's generated ASL, mocked Lambda results):
//!   about 37 000 happy-path executions/s with full history, 45 000 without payloads and
//!   60 000 with none, 11–15 times `aws-local-stepfunctions` in the same run (failure path:
//!   23 000 / 27 000 / 34 000, 15–18 times).
//!
//! [`run`]: StateMachine::run

mod choice;
mod clock;
mod context;
mod definition;
mod error;
mod exec;
mod history;
mod intrinsics;
mod journal;
mod lambda;
mod machine;
mod path;
mod snapshot;
mod task;
mod template;

#[cfg(feature = "tokio")]
pub use clock::TokioSleeper;
pub use clock::{Clock, Sleeper, TimeMode};
pub use error::{DefinitionError, StatesError, names};
pub use history::{Event, EventKind, History, HistoryMode};
pub use journal::{Checkpoint, Journal, Resume};
pub use lambda::{
    LAMBDA_INVOKE, LambdaError, LambdaInvocation, LambdaInvoker, LambdaTasks, function_error,
    invoke_response,
};
pub use machine::{Execution, ExecutionOptions, StateMachine, Status};
pub use task::{BoxFuture, SyncTaskFn, TaskHandler, TaskRequest};
