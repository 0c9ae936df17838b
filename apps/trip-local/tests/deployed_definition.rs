//! What would be deployed is what is tested: the CDK app (`infra/`) is synthesized as `cdk
//! synth` does (without building the binaries), its state machine's definition gets its
//! `definitionSubstitutions` applied as CloudFormation applies them, and that definition runs on
//! the local interpreter with the real handlers: the happy path, and a declined card with every
//! compensation.
//!
//! Each substitution is a `Ref` to an `AWS::Lambda::Version`; the test follows it to the
//! function it publishes and, through that function's construct path (the app names each
//! function's construct after its manifest entry), back to the saga's function. The ARN put in
//! its place is the version ARN of a function named after the binary, which the in-process
//! invoker resolves as Lambda resolves the real one.
//!
//! Needs the CDK app's packages (`scripts/setup.sh`, which the test command runs).

use std::path::{Path, PathBuf};
use std::process::Command;

use asl_executor::{ExecutionOptions, LambdaTasks, StateMachine, Status};
use kernel::TripId;
use saga_runtime::local::InProcess;
use serde_json::{Map, Value};
use trip::domain::TripStatus;
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use trip_local::store::{HOTEL, ROOMY_FLIGHT, seed};
use trip_saga::TripContext;
use trip_saga::trip_booking::{ASL, Function, SAGA};

const STACK: &str = "TripSaga-dev";

fn infra_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra")
}

/// `cdk synth` of the dev stage, without bundling: its template.
fn synthesized_template() -> Value {
    let infra = infra_dir();
    let cdk = infra.join("node_modules/.bin/cdk");
    assert!(
        cdk.exists(),
        "{} is missing: run scripts/setup.sh (the test command does)",
        cdk.display()
    );
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(&cdk)
        .args([
            "synth",
            "--quiet",
            "--no-notices",
            "-c",
            "stage=dev",
            "--output",
        ])
        .arg(out.path())
        .env("SKIP_BUNDLING", "1")
        .env("CDK_DISABLE_CLI_TELEMETRY", "true")
        .env("CDK_DISABLE_VERSION_CHECK", "1")
        .current_dir(&infra)
        .output()
        .expect("the CDK CLI runs");
    assert!(
        output.status.success(),
        "cdk synth failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let template = out.path().join(format!("{STACK}.template.json"));
    serde_json::from_str(&std::fs::read_to_string(&template).unwrap()).unwrap()
}

fn resources_of<'t>(template: &'t Value, kind: &str) -> Vec<(&'t String, &'t Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// The saga function whose construct (`<stack>/<saga>Functions/<name>/Function`) made the
/// `AWS::Lambda::Function` with `logical_id`.
fn function_of(template: &Value, logical_id: &str) -> Function {
    let path = template["Resources"][logical_id]["Metadata"]["aws:cdk:path"]
        .as_str()
        .unwrap_or_else(|| panic!("{logical_id} has no construct path"));
    let parts: Vec<&str> = path.split('/').collect();
    assert_eq!(
        (parts[0], parts[1], parts[3]),
        (STACK, "TripBookingFunctions", "Function"),
        "{path}"
    );
    Function::from_name(parts[2]).unwrap_or_else(|| panic!("{path}: not a function of the saga"))
}

/// The state machine's definition with every `${Key}` replaced as CloudFormation would: by the
/// ARN of the version the substitution refers to. Also answers which function each key became.
fn deployed_definition(template: &Value) -> (String, Vec<(String, Function)>) {
    let machines = resources_of(template, "AWS::StepFunctions::StateMachine");
    assert_eq!(machines.len(), 1);
    let properties = &machines[0].1["Properties"];
    let mut definition = properties["DefinitionString"]
        .as_str()
        .expect("the definition is inline")
        .to_owned();
    let substitutions: &Map<String, Value> =
        properties["DefinitionSubstitutions"].as_object().unwrap();
    let mut bound = Vec::new();
    for (key, value) in substitutions {
        let version_id = value["Ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is not a Ref: {value}"));
        let version = &template["Resources"][version_id];
        assert_eq!(
            version["Type"], "AWS::Lambda::Version",
            "{key} → {version_id}"
        );
        let function_id = version["Properties"]["FunctionName"]["Ref"]
            .as_str()
            .unwrap();
        let function = function_of(template, function_id);
        let arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}:1",
            function.binary()
        );
        definition = definition.replace(&format!("${{{key}}}"), &arn);
        bound.push((key.clone(), function));
    }
    assert!(
        !definition.contains("${"),
        "a placeholder has no substitution"
    );
    (definition, bound)
}

#[tokio::test]
async fn the_synthesized_state_machine_runs_the_saga_with_the_real_handlers() {
    let template = synthesized_template();
    let (definition, bound) = deployed_definition(&template);

    // Every function of the saga is bound, each under its own key, and the definition deployed
    // is the generated one.
    assert_eq!(bound.len(), SAGA.functions().count());
    for (key, function) in &bound {
        assert_eq!(key, function.substitution_key());
    }
    let mut generated = ASL.to_owned();
    for (key, function) in &bound {
        generated = generated.replace(
            &format!("${{{key}}}"),
            &format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}:1",
                function.binary()
            ),
        );
    }
    assert_eq!(definition, generated);

    let machine = StateMachine::from_json(&definition).expect("the deployed definition compiles");
    let context = TripContext::in_memory();
    seed(&context).await.unwrap();
    let tasks = LambdaTasks::new(InProcess::<Function>::new(context.clone()));
    let run = |trip_id: TripId, card: &'static str| {
        let machine = &machine;
        let tasks = &tasks;
        async move {
            let options = ExecutionOptions {
                execution_name: format!("trip-{trip_id}"),
                ..ExecutionOptions::default()
            };
            machine
                .run(
                    tasks,
                    trip_request(trip_id, ROOMY_FLIGHT, HOTEL, card),
                    &options,
                )
                .await
        }
    };

    let confirmed = TripId::new();
    let execution = run(confirmed, GOOD_CARD).await;
    assert_eq!(execution.status, Status::Succeeded, "{}", execution.history);
    let trip = context.trips.get(confirmed).await.unwrap().unwrap();
    assert_eq!(trip.status, TripStatus::Confirmed);

    let cancelled = TripId::new();
    let execution = run(cancelled, DECLINED_CARD).await;
    assert_eq!(execution.status, Status::Failed, "{}", execution.history);
    assert_eq!(execution.error.as_ref().unwrap().error, "PaymentDeclined");
    let visited = execution.history.states_visited();
    for compensation in ["RefundPayment", "CancelHotel", "CancelFlight", "CancelTrip"] {
        assert!(visited.contains(&compensation), "{visited:?}");
    }
    let trip = context.trips.get(cancelled).await.unwrap().unwrap();
    assert_eq!(trip.status, TripStatus::Cancelled);
}
