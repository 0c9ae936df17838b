//! A function's real binary under a local Lambda Runtime API, as Lambda runs it: it answers an
//! invocation from the table on a DynamoDB-compatible server, and a missing configuration is
//! reported as the init error Lambda shows, not only printed.

use std::process::{Command, Stdio};
use std::time::Duration;

use saga_runtime::testing::RuntimeApi;

#[path = "support/invocation.rs"]
mod invocation;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

fn create_trip(api: &RuntimeApi) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_create-trip"));
    command
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "create-trip")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env_remove("TABLE_NAME")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

#[tokio::test]
async fn a_missing_table_name_is_reported_as_the_init_error() {
    let api = RuntimeApi::start([]).await.unwrap();
    let child = create_trip(&api).spawn().unwrap();

    let log = api
        .wait_until(|log| log.init_error.is_some(), WAIT)
        .await
        .expect("an init error");
    let output = child.wait_with_output().unwrap();

    let error = log.init_error.unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some(saga_runtime::INIT_ERROR_TYPE)
    );
    assert_eq!(error.body["errorType"], saga_runtime::INIT_ERROR_TYPE);
    assert_eq!(error.body["errorMessage"], "TABLE_NAME is not set");
    assert!(log.first_next.is_none(), "it never asked for an event");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TABLE_NAME is not set"), "{stderr}");
}

#[tokio::test]
async fn the_binary_answers_an_invocation_from_the_table() {
    let table = kernel::testing::test_table().await;
    let server = kernel::testing::shared_server();
    let trip_id = kernel::TripId::new();
    let payload = invocation::create_trip(trip_id, "e1");
    // The same invocation twice: Step Functions retries a step whose answer was lost.
    let api = RuntimeApi::start([payload.clone(), payload]).await.unwrap();
    let mut child = create_trip(&api)
        .env("TABLE_NAME", &table.name)
        .env("AWS_ENDPOINT_URL", server.endpoint())
        .env("AWS_REGION", kernel::testing::REGION)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .spawn()
        .unwrap();

    let log = api.wait_until(|log| log.answers.len() == 2, WAIT).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let log = log.expect("two answers");

    let (first, second) = (&log.answers[0], &log.answers[1]);
    assert!(!first.is_error, "{}", first.body);
    assert_eq!(first.body["trip_id"], json!(trip_id), "{}", first.body);
    assert_eq!(first.body["status"], "PENDING", "{}", first.body);
    assert_eq!(
        second.body, first.body,
        "a retry answers as the first call did"
    );
    assert!(log.first_next.unwrap() <= first.at);
}
