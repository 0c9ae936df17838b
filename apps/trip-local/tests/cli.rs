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
