//! `InProcess`: a saga's generated ASL on the local executor, with its functions in-process.
#![cfg(feature = "local")]

use std::sync::atomic::{AtomicU32, Ordering};

use asl_executor::{ExecutionOptions, LambdaError, LambdaTasks, StateMachine, Status};
use saga_runtime::local::{InProcess, RESOURCE_NOT_FOUND};
use saga_runtime::{ActionRequest, CompensationRequest, SagaFunctions, StepError, reserved};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct Order {
    seats: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Held {
    seats: u32,
}

#[derive(Debug, thiserror::Error, StepError)]
enum HoldError {
    #[error("only {0} seats left")]
    SoldOut(u32),
    #[error("try again")]
    Busy,
}

#[derive(Debug, thiserror::Error, StepError)]
enum ReleaseError {
    #[error("try again")]
    Busy,
}

#[derive(Debug, thiserror::Error, StepError)]
enum PayError {
    #[error("card declined")]
    Declined,
}

/// The counters stand in for a store, so the tests see which functions really ran. Public:
/// the generated `SagaFunctions` impl names the context type.
#[derive(Default)]
pub struct Counters {
    held: AtomicU32,
    released: AtomicU32,
    busy_left: AtomicU32,
    release_busy_left: AtomicU32,
}

/// True (and one less left) while `left` is above zero.
fn take_one(left: &AtomicU32) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

async fn hold(c: &Counters, req: ActionRequest<Order>) -> Result<Held, HoldError> {
    if take_one(&c.busy_left) {
        return Err(HoldError::Busy);
    }
    if req.input.seats > 4 {
        return Err(HoldError::SoldOut(4));
    }
    c.held.fetch_add(req.input.seats, Ordering::SeqCst);
    Ok(Held {
        seats: req.input.seats,
    })
}

async fn release(c: &Counters, req: CompensationRequest<Order, Held>) -> Result<(), ReleaseError> {
    if take_one(&c.release_busy_left) {
        return Err(ReleaseError::Busy);
    }
    if let Some(held) = req.output {
        c.released.fetch_add(held.seats, Ordering::SeqCst);
    }
    Ok(())
}

async fn pay(_: &Counters, req: ActionRequest<Order>) -> Result<(), PayError> {
    if req.input.seats == 3 {
        return Err(PayError::Declined);
    }
    Ok(())
}

saga_runtime::saga! {
    saga Seats {
        input: Order,
        context: Counters,
        step Hold {
            action: hold -> Held,
            compensation: Release => release,
            business_errors: [SoldOut],
            transient_errors: [Busy],
            retry: { max_attempts: 2 },
        }
        step Pay {
            action: pay -> (),
            irreversible,
            business_errors: [Declined],
        }
    }
}

fn run<I: asl_executor::LambdaInvoker>(
    tasks: &LambdaTasks<I>,
    input: Value,
) -> asl_executor::Execution {
    let machine = StateMachine::from_json(seats::ASL).expect("the generated ASL compiles");
    futures::executor::block_on(machine.run(tasks, input, &ExecutionOptions::default()))
}

fn held_and_released(functions: &InProcess<seats::Function>) -> (u32, u32) {
    let c = functions.context();
    (
        c.held.load(Ordering::SeqCst),
        c.released.load(Ordering::SeqCst),
    )
}

#[test]
fn every_function_of_the_saga_resolves_by_placeholder_and_by_binary_name() {
    let functions = InProcess::<seats::Function>::new(Counters::default());
    assert_eq!(
        functions.saga().functions().count(),
        seats::Function::ALL.len()
    );
    for &f in seats::Function::ALL {
        let placeholder = format!("${{{}}}", f.substitution_key());
        assert_eq!(functions.resolve(&placeholder), Some(f));
        assert_eq!(functions.resolve(f.binary()), Some(f));
        assert!(
            seats::ASL.contains(&placeholder),
            "{placeholder} is in the ASL"
        );
    }
    assert_eq!(<seats::Function as SagaFunctions>::SAGA, &seats::SAGA);
    assert_eq!(seats::SAGA.declared_in, module_path!());
}

#[test]
fn the_happy_path_runs_the_real_functions() {
    let tasks = LambdaTasks::new(InProcess::<seats::Function>::new(Counters::default()));
    let execution = run(&tasks, json!({"seats": 2}));
    assert_eq!(execution.status, Status::Succeeded, "{}", execution.history);
    assert_eq!(execution.history.states_visited(), ["Start", "Hold", "Pay"]);
}

#[test]
fn a_step_error_is_lambdas_error_envelope_and_drives_retry_and_catch() {
    let counters = Counters::default();
    counters.busy_left.store(2, Ordering::SeqCst);
    counters.release_busy_left.store(1, Ordering::SeqCst);
    let functions = InProcess::<seats::Function>::new(counters);
    let tasks = LambdaTasks::new(&functions);

    // Busy twice (retried), then held; the payment is declined; the release is busy once
    // (retried), then releases the hold.
    let execution = run(&tasks, json!({"seats": 3}));
    assert_eq!(execution.status, Status::Failed, "{}", execution.history);
    let error = execution.error.expect("failed");
    assert_eq!(error.error, "Declined");
    assert_eq!(
        execution.history.states_visited(),
        [
            "Start",
            "Hold",
            "Pay",
            "Release",
            "CheckCompensations",
            "CheckFailure",
            "Compensated"
        ]
    );
    let cause: Value = serde_json::from_str(error.cause.as_deref().unwrap()).unwrap();
    assert_eq!(cause["errorType"], "Declined");
    assert_eq!(cause["errorMessage"], "card declined");
    let retries = execution
        .history
        .events()
        .iter()
        .filter(|e| matches!(e.kind, asl_executor::EventKind::RetryScheduled { .. }))
        .count();
    assert_eq!(retries, 3);
    assert_eq!(held_and_released(&functions), (3, 3), "held, then released");
}

#[test]
fn a_function_the_manifest_does_not_list_fails_the_task_as_lambda_would() {
    let tasks = LambdaTasks::new(InProcess::<seats::Function>::new(Counters::default()));
    let machine = StateMachine::from_json(
        r#"{"StartAt": "Charge", "States": {"Charge": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${ChargeFunctionArn}", "Payload.$": "$"},
            "End": true}}}"#,
    )
    .unwrap();
    let execution =
        futures::executor::block_on(machine.run(&tasks, json!({}), &ExecutionOptions::default()));
    let error = execution.error.expect("failed");
    assert_eq!(error.error, RESOURCE_NOT_FOUND);
    assert!(error.cause.unwrap().contains("${ChargeFunctionArn}"));
}

#[test]
fn a_payload_that_does_not_decode_is_refused_before_the_function_runs() {
    let functions = InProcess::<seats::Function>::new(Counters::default());
    let result = futures::executor::block_on(
        functions.call("${HoldFunctionArn}", json!({"input": {"seats": "two"}})),
    );
    match result {
        Err(LambdaError::Function { error_type, .. }) => {
            assert_eq!(error_type, reserved::INVALID_PAYLOAD);
        }
        other => panic!("expected Saga.InvalidPayload, got {other:?}"),
    }
    assert_eq!(held_and_released(&functions), (0, 0), "nothing ran");
}

#[test]
fn results_must_be_an_object_and_present() {
    let functions = InProcess::<seats::Function>::new(Counters::default());
    let context = json!({
        "saga": "Seats", "execution_id": "arn:exec-1", "execution_name": "exec-1",
        "state_name": "Hold", "idempotency_key": "exec-1:Hold", "retry_count": 0
    });
    for (payload, expected) in [
        (
            json!({"input": {"seats": 1}, "context": context}),
            "missing field `results`",
        ),
        (
            json!({"input": {"seats": 1}, "results": [], "context": context}),
            "invalid type for field `results`",
        ),
    ] {
        match futures::executor::block_on(functions.call("${HoldFunctionArn}", payload)) {
            Err(LambdaError::Function {
                error_type,
                error_message,
            }) => {
                assert_eq!(error_type, reserved::INVALID_PAYLOAD);
                assert!(error_message.contains(expected), "{error_message}");
            }
            other => panic!("expected Saga.InvalidPayload, got {other:?}"),
        }
    }
    let accepted = futures::executor::block_on(functions.call(
        "${HoldFunctionArn}",
        json!({"input": {"seats": 1}, "results": {}, "context": context}),
    ));
    assert_eq!(accepted, Ok(json!({"seats": 1})));
    assert_eq!(held_and_released(&functions), (1, 0));
}
