//! The built binary, as a newcomer runs it.

use std::process::Command;

fn trip_local(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_trip-local"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The summary row of a scenario: the line after `Summary` that names it.
fn summary_row<'a>(stdout: &'a str, scenario: &str) -> &'a str {
    let summary = stdout.split("\nSummary\n").nth(1).expect("a summary");
    summary
        .lines()
        .find(|line| line.contains(scenario))
        .unwrap_or_else(|| panic!("no summary row for {scenario}:\n{summary}"))
}

#[test]
fn the_demo_summarises_every_scenario_with_its_outcome() {
    let (ok, stdout, stderr) = trip_local(&["demo"]);
    assert!(ok, "{stdout}\n{stderr}");
    let expected = [
        ("(a) happy path", "SUCCEEDED"),
        ("(b) sold-out flight", "FAILED SoldOut"),
        ("(c) no rooms", "FAILED NoRooms"),
        ("(d) declined payment", "FAILED PaymentDeclined"),
        ("(e) transient errors retried", "SUCCEEDED"),
        ("(f) lost response, idempotent retry", "SUCCEEDED"),
        (
            "(g) compensation escalated",
            "FAILED TripBooking.CompensationFailed",
        ),
    ];
    for (scenario, outcome) in expected {
        let row = summary_row(&stdout, scenario);
        let columns: Vec<&str> = row
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(columns[1], scenario, "{row}");
        assert_eq!(columns[2], outcome, "{row}");
    }
    assert!(stdout.contains("NEEDS_ATTENTION"), "{stdout}");
    assert!(
        stdout.contains("ReserveHotel    2 retry"),
        "the path shows retries live:\n{stdout}"
    );
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
}

#[test]
fn the_demo_runs_on_a_dynamodb_endpoint_and_creates_the_table() {
    let server = kernel::testing::shared_server();
    let table = format!("trip-local-cli-{}", kernel::TripId::new());
    let args = [
        "demo",
        "--dynamodb-endpoint",
        server.endpoint(),
        "--table",
        &table,
    ];
    let (ok, stdout, stderr) = trip_local(&args);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!(
        "store: DynamoDB {}, table {table}",
        server.endpoint()
    )));
    assert_eq!(
        summary_row(&stdout, "(g)").split_whitespace().nth(4),
        Some("FAILED")
    );
    // A second demo on the same table finds the catalogue already there and still balances.
    let (ok, stdout, stderr) = trip_local(&args);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    assert!(
        stdout.contains("NH106 2026-12-01 seats                 194     188"),
        "{stdout}"
    );
}

/// `seed` puts the catalogue on sale and keeps stock a trip has taken: seeding a table twice,
/// with a booking between, leaves that booking's seats taken.
#[test]
fn seed_puts_the_catalogue_on_sale_and_keeps_what_is_taken() {
    let server = kernel::testing::shared_server();
    let table = format!("trip-local-seed-{}", kernel::TripId::new());
    let on_table = |command: &[&str]| {
        let mut args = command.to_vec();
        args.extend(["--dynamodb-endpoint", server.endpoint(), "--table", &table]);
        trip_local(&args)
    };
    let (ok, stdout, stderr) = on_table(&["seed"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("The demo catalogue is on sale"), "{stdout}");
    let (ok, stdout, stderr) = on_table(&["run"]);
    assert!(ok, "{stdout}\n{stderr}");
    let (ok, stdout, stderr) = on_table(&["seed"]);
    assert!(ok, "{stdout}\n{stderr}");
    // The demo's inventory check reads the stock: 200 seats, 2 taken by the run above.
    let (ok, stdout, stderr) = on_table(&["demo"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("NH106 2026-12-01 seats                 198 "),
        "{stdout}"
    );
}

#[test]
fn an_aws_table_and_an_endpoint_are_exclusive() {
    let (ok, _, stderr) = trip_local(&[
        "--aws-table",
        "t",
        "--dynamodb-endpoint",
        "http://x",
        "seed",
    ]);
    assert!(!ok);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn demo_is_the_default_command() {
    let (ok, stdout, _) = trip_local(&[]);
    assert!(ok);
    assert!(stdout.contains("\nSummary\n"), "{stdout}");
}

#[test]
fn a_run_with_faults_prints_its_path() {
    let (ok, stdout, stderr) = trip_local(&[
        "run",
        "--fault",
        "ReserveHotel=StoreThrottled:2",
        "--fault",
        "ReserveFlight=lose-response:1",
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("result: SUCCEEDED"), "{stdout}");
    assert!(
        stdout.contains("Lambda.ServiceException (ran, response lost)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("holds:  2 seat(s), 1 room(s) a night"),
        "{stdout}"
    );
}

#[test]
fn a_failing_run_exits_non_zero() {
    let (ok, stdout, _) = trip_local(&["run", "--fault", "ProcessPayment=PaymentDeclined"]);
    assert!(!ok);
    assert!(
        stdout.contains("result: FAILED PaymentDeclined"),
        "{stdout}"
    );
}

#[test]
fn a_bad_fault_is_refused_before_anything_runs() {
    let (ok, stdout, stderr) = trip_local(&["run", "--fault", "ReserveHotl=StoreThrottled"]);
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("unknown state `ReserveHotl`"), "{stderr}");
}

#[test]
fn a_request_file_without_a_trip_id_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trip.json");
    std::fs::write(
        &path,
        r#"{
          "flight": { "flight_number": "NH108", "date": "2026-12-01", "passengers": 2 },
          "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
          "payment": { "card": "tok_visa_4242" }
        }"#,
    )
    .unwrap();
    let (ok, stdout, _) = trip_local(&["run", "--request", path.to_str().unwrap()]);
    assert!(!ok);
    assert!(stdout.contains("result: FAILED SoldOut"), "{stdout}");
    assert!(stdout.contains("CANCELLED"), "{stdout}");
}

#[test]
fn an_invalid_request_file_is_refused_with_every_violation_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trip.json");
    std::fs::write(
        &path,
        r#"{
          "flight": { "flight_number": "nh106", "date": "2026-12-01", "passengers": 12 },
          "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
          "payment": { "card": "tok_visa_4242" }
        }"#,
    )
    .unwrap();
    let (ok, stdout, stderr) = trip_local(&["run", "--request", path.to_str().unwrap()]);
    assert!(!ok);
    assert!(stdout.is_empty(), "nothing ran: {stdout}");
    assert!(stderr.contains("is not a valid trip request"), "{stderr}");
    assert!(
        stderr.contains("/flight/passengers: 12 is greater than the maximum of 9"),
        "{stderr}"
    );
    assert!(stderr.contains("/flight/flight_number"), "{stderr}");

    std::fs::write(&path, "{ not json").unwrap();
    let (ok, _, stderr) = trip_local(&["run", "--request", path.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("the body is not JSON"), "{stderr}");
}

/// `replay-dead-letters` on a DynamoDB endpoint (moto serves SQS and the Streams API too): a
/// batch the event source mapping gave up on is read back from the stream into the search
/// table; a poison record and a stranger's message stay, listed with their reasons, and show
/// again for the next replay.
#[test]
fn replay_dead_letters_redrives_a_failed_batch_and_keeps_what_cannot_be_projected() {
    use search::infrastructure::DynamoSearchRepository;

    // moto whatever `$TEST_DYNAMODB` says: the dead letters need its SQS; dynoxide serves
    // DynamoDB alone.
    let server = kernel::testing::shared_server_of(kernel::testing::Engine::Moto);
    let table = format!("trip-local-replay-{}", kernel::TripId::new());
    let on_table = |command: &[&str]| {
        let mut args = command.to_vec();
        args.extend(["--dynamodb-endpoint", server.endpoint(), "--table", &table]);
        trip_local(&args)
    };
    // One confirmed trip; the run creates the table, the search table and the queue.
    let (ok, stdout, stderr) = on_table(&["run"]);
    assert!(ok, "{stdout}\n{stderr}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (config, trip_id) = runtime.block_on(fill_dead_letter_queue(server.endpoint(), &table));

    // Into a search table the live consumer never wrote: all it holds comes from the replay.
    let rebuilt = format!("{table}-rebuilt");
    let (ok, stdout, stderr) = on_table(&["replay-dead-letters", "--search-table", &rebuilt]);
    assert!(
        !ok,
        "two messages stay, so the exit status says so\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.starts_with("3 message(s) read, 1 replayed and deleted: "),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("2 kept in the queue:"), "{stdout}");
    assert!(
        stdout.contains("still cannot be projected: unknown event name `TELEPORT`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("neither a dead letter nor an on-failure record: hello"),
        "{stdout}"
    );

    let document = runtime.block_on(async {
        let repository =
            DynamoSearchRepository::new(aws_sdk_dynamodb::Client::new(&config), &rebuilt);
        search::domain::SearchRepository::get(&repository, trip_id)
            .await
            .unwrap()
    });
    let document = document.expect("the replay wrote the trip's document");
    assert_eq!(document.status, trip::domain::TripStatus::Confirmed);

    // The kept messages show again at once; nothing is written twice.
    let (ok, stdout, _) = on_table(&["replay-dead-letters", "--search-table", &rebuilt]);
    assert!(!ok);
    assert!(
        stdout.starts_with("2 message(s) read, 0 replayed and deleted: 0 document(s) written"),
        "{stdout}"
    );
}

/// Puts three messages in the local consumer's dead-letter queue of `table`: the on-failure
/// record of a batch that spans the stream's first page (the event source mapping's), a poison
/// record (the consumer's), and a stranger's. Answers the SDK configuration and the trip the
/// batch holds.
async fn fill_dead_letter_queue(
    endpoint: &str,
    table: &str,
) -> (aws_config::SdkConfig, kernel::TripId) {
    let config = trip_local::store::local_sdk_config(endpoint).await;
    let (stream_arn, page) = first_stream_page(&config, table).await;
    let (trip_record, trip_id) = first_trip_record(&page.records);
    let sequence = |i: usize| page.records[i].change.sequence_number.clone().unwrap();
    let on_failure = serde_json::json!({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": page.shard_id,
            "startSequenceNumber": sequence(0),
            "endSequenceNumber": sequence(page.records.len() - 1),
            "batchSize": page.records.len(),
            "streamArn": stream_arn
        }
    });
    let poison =
        serde_json::json!({ "reason": "unknown event name", "record": poison(trip_record) });
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = queue_url(&sqs, table).await;
    for body in [
        on_failure.to_string(),
        poison.to_string(),
        "hello".to_owned(),
    ] {
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    (config, trip_id)
}

/// The single table's stream ARN and the first page of its stream that holds records.
async fn first_stream_page(
    config: &aws_config::SdkConfig,
    table: &str,
) -> (String, search::infrastructure::streams::ShardPage) {
    let stream_arn = aws_sdk_dynamodb::Client::new(config)
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table()
        .and_then(|t| t.latest_stream_arn())
        .unwrap()
        .to_owned();
    let mut reader = search::infrastructure::StreamReader::new(
        aws_sdk_dynamodbstreams::Client::new(config),
        &stream_arn,
    );
    let page = reader
        .poll(1000)
        .await
        .unwrap()
        .into_iter()
        .find(|p| !p.records.is_empty())
        .expect("the run's records");
    (stream_arn, page)
}

/// The first record of `records` about a trip, and the trip.
fn first_trip_record(
    records: &[kernel::stream::ChangeRecord],
) -> (kernel::stream::ChangeRecord, kernel::TripId) {
    records
        .iter()
        .find_map(|r| {
            let projection = search::application::projection(r).ok().flatten()?;
            Some((r.clone(), projection.trip_id()))
        })
        .expect("a trip record")
}

/// `record` with an event name DynamoDB never sends: it can never be projected.
fn poison(mut record: kernel::stream::ChangeRecord) -> kernel::stream::ChangeRecord {
    "TELEPORT".clone_into(&mut record.event_name);
    record
}

/// The URL of the local consumer's dead-letter queue of `table`.
async fn queue_url(sqs: &aws_sdk_sqs::Client, table: &str) -> String {
    sqs.get_queue_url()
        .queue_name(trip_local::search::dead_letter_queue_name(table))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned()
}

/// The stream consumer's own binary, `project-trips`, under a local Lambda Runtime API, as
/// Lambda runs it on the table's stream: a batch whose first record is poison dead-letters it
/// on SQS (through the client the binary builds only then) and projects the trip record after
/// it; the same batch again (the event source mapping redelivers) writes nothing twice.
#[test]
fn the_stream_consumer_binary_sends_poison_to_the_queue_and_projects_the_rest() {
    use saga_runtime::testing::RuntimeApi;
    use search::infrastructure::{DynamoSearchRepository, SEARCH_TABLE};

    // moto: the dead letters need its SQS.
    let server = kernel::testing::shared_server_of(kernel::testing::Engine::Moto);
    let table = format!("trip-local-consumer-{}", kernel::TripId::new());
    let (ok, stdout, stderr) = trip_local(&[
        "run",
        "--dynamodb-endpoint",
        server.endpoint(),
        "--table",
        &table,
    ]);
    assert!(ok, "{stdout}\n{stderr}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = trip_local::store::local_sdk_config(server.endpoint()).await;
        let (_, page) = first_stream_page(&config, &table).await;
        let (trip_record, trip_id) = first_trip_record(&page.records);
        let mut batch = kernel::stream::ChangeBatch::default();
        batch.records = vec![poison(trip_record.clone()), trip_record];
        let batch = serde_json::to_value(batch).unwrap();
        // A search table of its own: what it holds, the binary wrote.
        let search_table = format!("{table}-consumer");
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        trip_local::store::ensure_table_as(&dynamodb, &SEARCH_TABLE, &search_table)
            .await
            .unwrap();
        let sqs = aws_sdk_sqs::Client::new(&config);
        let queue = queue_url(&sqs, &table).await;

        let api = RuntimeApi::start([batch.clone(), batch]).await.unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_project-trips"))
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "project-trips")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("SEARCH_TABLE_NAME", &search_table)
            .env("DEAD_LETTER_QUEUE_URL", &queue)
            .env("AWS_ENDPOINT_URL", server.endpoint())
            .env("AWS_REGION", kernel::testing::REGION)
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let log = api
            .wait_until(
                |log| log.answers.len() == 2,
                std::time::Duration::from_secs(30),
            )
            .await;
        child.kill().unwrap();
        child.wait().unwrap();
        let log = log.expect("two answers");

        for answer in &log.answers {
            assert!(!answer.is_error, "{}", answer.body);
            assert_eq!(
                answer.body["batchItemFailures"],
                serde_json::json!([]),
                "nothing to retry: {}",
                answer.body
            );
        }
        let repository = DynamoSearchRepository::new(dynamodb, &search_table);
        let document = search::domain::SearchRepository::get(&repository, trip_id)
            .await
            .unwrap()
            .expect("the trip record was projected");
        assert_eq!(document.trip_id, trip_id);

        let received = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let letters: Vec<serde_json::Value> = received
            .messages()
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
            .collect();
        // Once per delivery: a standard queue does not deduplicate, and both copies name the
        // same record (its sequence number), which is what a reader of the queue acts on.
        assert_eq!(letters.len(), 2, "{letters:?}");
        for letter in &letters {
            assert_eq!(
                letter["reason"], "unknown event name `TELEPORT`",
                "{letter}"
            );
            assert_eq!(letter["record"]["eventName"], "TELEPORT", "{letter}");
        }
    });
}

#[test]
fn replay_dead_letters_says_where_the_queue_must_be() {
    let (ok, _, stderr) = trip_local(&["replay-dead-letters"]);
    assert!(!ok);
    assert!(stderr.contains("--dynamodb-endpoint URL"), "{stderr}");
    let (ok, _, stderr) = trip_local(&["replay-dead-letters", "--queue-url", "https://sqs/q"]);
    assert!(!ok);
    assert!(stderr.contains("--search-table is missing"), "{stderr}");
}
