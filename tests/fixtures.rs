#![allow(dead_code, unreachable_pub)] // fixtures are shared by several test targets

//! The fixture sagas compiled through `saga!`: their entrypoints driven with the exact payloads
//! the generated ASL sends, and their constants compared with what the CLI writes.

#[path = "support/fixtures.rs"]
mod cli;
mod support;

#[path = "fixtures/custom_escalation.rs"]
mod custom_escalation;
#[path = "fixtures/custom_retry.rs"]
mod custom_retry;
#[path = "fixtures/irreversible_last.rs"]
mod irreversible_last;
#[path = "fixtures/one_step.rs"]
mod one_step;
#[path = "fixtures/pivot_forward.rs"]
mod pivot_forward;
#[path = "fixtures/three_steps.rs"]
mod three_steps;

use saga_model::{Manifest, SagaInfo};
use serde_json::{Value, json};
use support::{Execution, payload};
use three_steps::trip_booking::{self, Function};

fn tariff() -> three_steps::Tariff {
    three_steps::Tariff {
        seat_price: 100,
        night_price: 80,
        card_limit: 1_000,
    }
}

/// The execution state right after `Start`.
fn started(input: &Value) -> Value {
    json!({ "input": input, "results": {}, "compensations": {}, "compensation_failures": {} })
}

async fn invoke(
    function: Function,
    data: &Value,
    execution: &Execution,
) -> Result<Value, lambda_runtime::Diagnostic> {
    let payload = payload(trip_booking::ASL, function.state(), data, execution, 0);
    let event = lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default());

    match function {
        Function::ReserveFlight => {
            trip_booking::entrypoints::reserve_flight(&tariff(), event).await
        }
        Function::CancelFlight => trip_booking::entrypoints::cancel_flight(&tariff(), event).await,
        Function::ReserveHotel => trip_booking::entrypoints::reserve_hotel(&tariff(), event).await,
        Function::CancelHotel => trip_booking::entrypoints::cancel_hotel(&tariff(), event).await,
        Function::ProcessPayment => {
            trip_booking::entrypoints::process_payment(&tariff(), event).await
        }
    }
}

fn trip(seats: u32, nights: u32, card: &str) -> Value {
    json!({ "trip_id": "T-1", "seats": seats, "nights": nights, "card": card })
}

#[tokio::test]
async fn happy_path_outputs_feed_the_next_steps() {
    let execution = Execution::named("exec-1");
    let mut data = started(&trip(2, 3, "visa"));
    for (function, expected) in [
        (
            Function::ReserveFlight,
            json!({ "booking_id": "F-exec-1:ReserveFlight", "price": 200 }),
        ),
        (
            Function::ReserveHotel,
            json!({ "booking_id": "H-exec-1:ReserveHotel", "price": 240 }),
        ),
        (
            Function::ProcessPayment,
            json!({ "payment_id": "P-exec-1:ProcessPayment", "amount": 440 }),
        ),
    ] {
        let output = invoke(function, &data, &execution).await.unwrap();
        assert_eq!(output, expected, "{function:?}");
        // What `ResultSelector` + `ResultPath` do with the output.
        data["results"][function.name()] = json!({ "output": output });
    }
}

#[tokio::test]
async fn each_declared_error_is_reported_under_its_asl_name() {
    let execution = Execution::named("exec-2");
    let cases = [
        (
            Function::ReserveFlight,
            trip(12, 1, "visa"),
            "SoldOut",
            "no seat left for 12 passengers",
        ),
        (
            Function::ReserveFlight,
            trip(0, 1, "visa"),
            "InventoryBusy",
            "inventory store throttled",
        ),
        (
            Function::ReserveHotel,
            trip(1, 30, "visa"),
            "NoRooms",
            "no room for 30 nights",
        ),
    ];
    for (function, input, error_type, message) in cases {
        let err = invoke(function, &started(&input), &execution)
            .await
            .unwrap_err();
        assert_eq!(
            (err.error_type.as_str(), err.error_message.as_str()),
            (error_type, message)
        );
        assert_asl_handles(function.state(), error_type);
    }
    let mut data = started(&trip(9, 14, "visa"));
    data["results"]["ReserveFlight"] = json!({ "output": { "booking_id": "F", "price": 900 } });
    data["results"]["ReserveHotel"] = json!({ "output": { "booking_id": "H", "price": 1120 } });
    let err = invoke(Function::ProcessPayment, &data, &execution)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Declined");
    assert_asl_handles("ProcessPayment", "Declined");
    data["input"]["card"] = json!("timeout");
    let err = invoke(Function::ProcessPayment, &data, &execution)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "GatewayTimeout");
    assert_asl_handles("ProcessPayment", "GatewayTimeout");
    // The earlier results are decoded before the action runs: a state machine that sent none
    // (it never does) gets `Saga.InvalidPayload`, naming the step whose output is missing.
    data["results"] = json!({ "ReserveFlight": { "output": { "booking_id": "F", "price": 900 } } });
    let err = invoke(Function::ProcessPayment, &data, &execution)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Saga.InvalidPayload");
    assert!(
        err.error_message.contains("ReserveHotel"),
        "{}",
        err.error_message
    );
}

/// A transient name must be in a `Retry`; a business name must not be, and is then caught.
fn assert_asl_handles(state: &str, error: &str) {
    let asl: Value = serde_json::from_str(trip_booking::ASL).unwrap();
    let task = &asl["States"][state];
    let retried = task["Retry"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["ErrorEquals"].as_array().unwrap().contains(&json!(error)));
    let declared_transient = matches!(error, "InventoryBusy" | "GatewayTimeout");
    assert_eq!(retried, declared_transient, "{state}: {error}");
    assert_eq!(task["Catch"][0]["ErrorEquals"], json!(["States.ALL"]));
}

#[tokio::test]
async fn compensation_gets_the_step_output_when_the_step_completed() {
    let execution = Execution::named("exec-3");
    let mut data = started(&trip(2, 30, "visa"));
    data["results"]["ReserveFlight"] = json!({ "output": { "booking_id": "F", "price": 200 } });
    data["failure"] = json!({ "Error": "NoRooms", "Cause": "no room for 30 nights" });
    // The hotel failed: its own compensation runs first, with nothing to undo...
    let hotel = invoke(Function::CancelHotel, &data, &execution)
        .await
        .unwrap();
    assert_eq!(hotel, json!({ "had_booking": false }));
    // ...then the flight's, which finds the booking.
    let flight = invoke(Function::CancelFlight, &data, &execution)
        .await
        .unwrap();
    assert_eq!(flight, json!({ "had_booking": true }));
}

#[tokio::test]
async fn compensation_payload_carries_the_action_idempotency_key() {
    let execution = Execution::named("exec-4");
    let mut data = started(&trip(2, 3, "visa"));
    data["failure"] = json!({ "Error": "States.Timeout", "Cause": "" });
    let sent = payload(trip_booking::ASL, "CancelFlight", &data, &execution, 2);
    assert_eq!(sent["action_idempotency_key"], "exec-4:ReserveFlight");
    assert_eq!(sent["context"]["idempotency_key"], "exec-4:CancelFlight");
    assert_eq!(sent["context"]["retry_count"], 2);
    assert_eq!(sent["context"]["execution_id"], json!(execution.id));
}

#[tokio::test]
async fn a_payload_of_the_wrong_shape_is_a_named_error() {
    let err = Function::ReserveFlight
        .invoke(&tariff(), json!({ "input": { "seats": "two" } }))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, saga_runtime::reserved::INVALID_PAYLOAD);
    assert!(
        err.error_message.contains("invalid type"),
        "{}",
        err.error_message
    );
}

#[tokio::test]
async fn escalation_receives_the_compensations_left_undone() {
    use custom_escalation::move_money::{ASL, Function};
    let execution = Execution::named("exec-5");
    let data = json!({
        "input": { "amount": 5 },
        "results": { "Debit": { "output": 5 } },
        "failure": { "Error": "InsufficientFunds", "Cause": "insufficient funds" },
        "compensations": {},
        "compensation_failures": { "ReverseDebit": { "Error": "LedgerLocked", "Cause": "ledger locked" } }
    });
    let sent = payload(ASL, "PageOperator", &data, &execution, 0);
    let ticket = Function::PageOperator.invoke(&(), sent).await.unwrap();
    assert_eq!(
        ticket,
        json!({ "undone": ["ReverseDebit"], "reason": "InsufficientFunds" })
    );
}

#[test]
fn functions_know_their_binaries_and_placeholders() {
    assert_eq!(
        Function::ALL,
        [
            Function::ReserveFlight,
            Function::CancelFlight,
            Function::ReserveHotel,
            Function::CancelHotel,
            Function::ProcessPayment
        ]
    );
    assert_eq!(Function::CancelHotel.binary(), "cancel-hotel");
    assert_eq!(
        Function::CancelHotel.substitution_key(),
        "CancelHotelFunctionArn"
    );
    assert_eq!(
        Function::from_name("ProcessPayment"),
        Some(Function::ProcessPayment)
    );
    assert_eq!(Function::from_name("Nope"), None);
    let binaries: Vec<&str> = trip_booking::SAGA.functions().map(|f| &*f.binary).collect();
    assert_eq!(
        binaries,
        Function::ALL.iter().map(|f| f.binary()).collect::<Vec<_>>()
    );
    let first = trip_booking::SAGA.functions().next().unwrap();
    assert_eq!(first.crate_name, "tests");
    assert_eq!(trip_booking::SAGA.declared_in, "fixtures::three_steps");
}

/// The macro's constants and model and the CLI's files come from one compiler: byte-identical.
#[test]
fn macro_constants_equal_the_cli_output() {
    let cases: [(&str, &str, &str, &SagaInfo); 6] = [
        (
            "one_step",
            one_step::greet::ASL,
            one_step::greet::MERMAID,
            &one_step::greet::SAGA,
        ),
        (
            "three_steps",
            trip_booking::ASL,
            trip_booking::MERMAID,
            &trip_booking::SAGA,
        ),
        (
            "irreversible_last",
            irreversible_last::ship_order::ASL,
            irreversible_last::ship_order::MERMAID,
            &irreversible_last::ship_order::SAGA,
        ),
        (
            "custom_retry",
            custom_retry::batch_job::ASL,
            custom_retry::batch_job::MERMAID,
            &custom_retry::batch_job::SAGA,
        ),
        (
            "custom_escalation",
            custom_escalation::move_money::ASL,
            custom_escalation::move_money::MERMAID,
            &custom_escalation::move_money::SAGA,
        ),
        (
            "pivot_forward",
            pivot_forward::checkout::ASL,
            pivot_forward::checkout::MERMAID,
            &pivot_forward::checkout::SAGA,
        ),
    ];
    for (stem, asl, mermaid, saga) in cases {
        let compiled = cli::compile_fixture(stem);
        assert_eq!(compiled.artifacts.asl, asl, "{stem}");
        assert_eq!(compiled.artifacts.mermaid, mermaid, "{stem}");
        let mut manifest = serde_json::to_string_pretty(&Manifest::of(saga)).unwrap();
        manifest.push('\n');
        assert_eq!(compiled.artifacts.manifest, manifest, "{stem}");
        let read_back: SagaInfo = serde_json::from_str(&manifest).unwrap();
        assert_eq!(
            &read_back, saga,
            "{stem}: the manifest reads back into the same model"
        );
    }
}
