//! What a saga declared with `saga!` is, as data, and the error trait its steps implement.
//!
//! `saga!` checks a declaration once and emits one `pub static SAGA: SagaInfo` beside the
//! generated code; `cargo run -p saga-dsl` writes the same value's serde form, with the flat list
//! of functions the infrastructure deploys, to `generated/<saga>.functions.json`. A runner, a
//! test or a deployment tool reads the model from there, never from the ASL or the source.
//!
//! This crate depends on serde only, so that the DSL (a proc-macro's dependency), the runtime
//! (every Lambda's dependency) and the domain (which names its errors with [`StepError`]) can all
//! share it without a cycle or a heavy dependency.
//!
//! ```
//! use saga_model::{FunctionKind, SagaInfo};
//!
//! let manifest = r#"{
//!   "saga": "Checkout", "module": "checkout", "crate": "shop", "declared_in": "shop::saga",
//!   "input": "Order", "timeout_seconds": null, "escalation": null,
//!   "steps": [{
//!     "action": { "name": "Reserve", "kind": "action", "state": "Reserve",
//!                 "substitution_key": "ReserveFunctionArn", "crate": "shop",
//!                 "binary": "reserve", "handler": "seats::reserve" },
//!     "output": "Seats", "business_errors": ["SoldOut"], "transient_errors": [],
//!     "retry": { "max_attempts": 3, "interval_seconds": 1, "backoff_rate": 2.0,
//!                "max_delay_seconds": 30, "jitter": "full" },
//!     "timeout_seconds": 30, "compensation": null
//!   }]
//! }"#;
//! let saga: SagaInfo = serde_json::from_str(manifest)?;
//! let reserve = saga.step("Reserve").unwrap();
//! assert_eq!(reserve.action.kind, FunctionKind::Action);
//! assert_eq!(reserve.retry.worst_case_wait_seconds(), 7.0); // 1 + 2 + 4
//! // 4 attempts of at most 30 s (+ 1 s each for Step Functions) and that back-off.
//! assert_eq!(saga.worst_case().seconds, 131.0);
//! assert_eq!(saga.derived_timeout_seconds(), 180);
//! assert_eq!(saga.compensation_failed_error(), "Checkout.CompensationFailed");
//! # Ok::<(), serde_json::Error>(())
//! ```

mod error;
mod info;
pub mod states;
mod timing;

pub use error::{StepError, reserved};
pub use info::{
    FunctionInfo, FunctionKind, Jitter, List, Manifest, PivotCheck, RetriedFunction, RetryPolicy,
    SagaInfo, StepInfo, Text, generated_marker,
};
pub use timing::{ATTEMPT_ALLOWANCE_SECONDS, LAMBDA_MAX_SECONDS, WorstCase};
