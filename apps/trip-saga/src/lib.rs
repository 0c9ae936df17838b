//! The trip booking saga: its `saga!` declaration, the handlers that turn each step's request
//! into a service command, the context they share, and one Lambda binary per function
//! (`src/bin/`, listed by `generated/trip_booking.functions.json`).
//!
//! This crate is the composition root of the system: it depends on the trip, flight, hotel and
//! payment services and wires their use cases into the saga's steps. Everything that knows
//! about Lambda or the saga runtime is here; the services know neither.
//!
//! ```
//! use trip_saga::trip_booking::{ASL, Function};
//!
//! // The state machine and the functions it invokes, generated from one declaration:
//! assert!(ASL.contains("${ReserveFlightFunctionArn}"));
//! assert_eq!(Function::ALL.len(), 11);
//! assert_eq!(Function::ReserveFlight.binary(), "reserve-flight");
//! ```

pub mod handlers;
pub mod table_access;

mod context;
mod saga;

pub use context::{TABLE_NAME_VAR, TripContext, environment_sdk_config};
pub use saga::trip_booking;

/// The whole `main` of a Lambda binary of the saga: JSON logs and the exporters the
/// environment names ([`kernel::telemetry`]), the DynamoDB context, then `entrypoint` (one of
/// [`trip_booking::entrypoints`], the binary's function) under the Lambda runtime.
///
/// The binary names its entrypoint, not a [`trip_booking::Function`] chosen at run time, so that
/// it links its own handler only: `Function::serve` reaches every handler of the saga through
/// `Function::invoke`'s `match`, and so every binary carried them all (`docs/benchmarks.md`).
///
/// The binaries run it on tokio's current-thread runtime: Lambda sends an execution environment
/// one invocation at a time, so the multi-thread runtime's workers would only be threads to
/// start (about 5 % of a function's init, `docs/benchmarks.md`).
///
/// # Errors
/// When the environment is incomplete (reported to the Runtime API as the init error, so
/// Lambda shows why) or the Lambda runtime API fails.
pub async fn serve<F>(entrypoint: F) -> Result<(), lambda_runtime::Error>
where
    F: AsyncFn(
        &TripContext,
        lambda_runtime::LambdaEvent<serde_json::Value>,
    ) -> Result<serde_json::Value, lambda_runtime::Diagnostic>,
{
    kernel::init_tracing();
    configure_step_tracing();
    let context = saga_runtime::initialise(std::future::ready(TripContext::from_env())).await?;
    let (context, entrypoint) = (&context, &entrypoint);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| entrypoint(context, event),
    ))
    .await
}

/// What every step of the saga adds to its span ([`saga_runtime::trace`]): the trip id, read
/// from the saga's input, and, when spans are exported, their flush before the step answers.
/// Call it after the subscriber is installed (`kernel::init_tracing`, or
/// `kernel::tracing_setup::init`); only the first call in a process counts.
pub fn configure_step_tracing() {
    let flush: Option<saga_runtime::trace::Flush> = if kernel::telemetry::exports_spans() {
        Some(|| Box::pin(kernel::telemetry::flush()))
    } else {
        None
    };
    saga_runtime::trace::configure(saga_runtime::trace::StepTracing {
        subject: Some("trip_id"),
        flush,
    });
}
