//! A `202` is a promise: an execution accepted by `serve` ends, in a state the saga's
//! invariants allow, however the server stops. Stopped mid-execution (its runtime dropped, or
//! the process killed), the next server on the same store resumes every accepted trip from its
//! last checkpoint; a retry of an ended trip's request starts nothing; the registry in memory
//! holds only what runs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kernel::TripId;
use serde_json::{Value, json};
use tower::ServiceExt;
use trip_local::api::{Api, IDEMPOTENCY_KEY};
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use trip_local::execution::Saga;
use trip_local::faults::FaultPlan;
use trip_local::journal::ExecutionLog;
use trip_local::search::LocalSearch;
use trip_local::store::{self, HOTEL, ONE_SEAT_FLIGHT, ROOMY_FLIGHT, Store};
use trip_saga::TripContext;

#[path = "support/serve.rs"]
mod serve;
use serve::Server;

/// A request body without `trip_id` (the `Idempotency-Key` names the trip).
fn body(flight: &str, card: &str) -> Value {
    let mut body = trip_request(TripId::new(), flight, HOTEL, card);
    body.as_object_mut().unwrap().shift_remove("trip_id");
    body
}

/// Six trips: two that book, two with a declined card, two for a flight with one seat.
fn requests() -> Vec<(String, Value)> {
    [
        (ROOMY_FLIGHT, GOOD_CARD),
        (ROOMY_FLIGHT, DECLINED_CARD),
        (ONE_SEAT_FLIGHT, GOOD_CARD),
        (ROOMY_FLIGHT, GOOD_CARD),
        (ROOMY_FLIGHT, DECLINED_CARD),
        (ONE_SEAT_FLIGHT, GOOD_CARD),
    ]
    .into_iter()
    .map(|(flight, card)| (TripId::new().to_string(), body(flight, card)))
    .collect()
}

async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn post(router: &Router, key: &str, body: &Value) -> (StatusCode, Value) {
    let request = Request::post("/trips")
        .header(header::CONTENT_TYPE, "application/json")
        .header(IDEMPOTENCY_KEY, key)
        .body(Body::from(body.to_string()))
        .unwrap();
    call(router, request).await
}

async fn get(router: &Router, key: &str) -> (StatusCode, Value) {
    let request = Request::get(format!("/trips/{key}"))
        .body(Body::empty())
        .unwrap();
    call(router, request).await
}

const ENDED: [&str; 3] = ["CONFIRMED", "CANCELLED", "NEEDS_ATTENTION"];

/// What the invariants allow a trip that ended: CONFIRMED with its seats, rooms and a captured
/// payment; CANCELLED with nothing held or captured (NEEDS_ATTENTION does not occur without
/// faults in the steps).
async fn assert_ended_consistently(context: &TripContext, key: &str, view: &Value) {
    let trip_id = TripId::parse(key).unwrap();
    let held = store::holdings(context, trip_id).await.unwrap();
    let payment = view["bookings"]["payment"]["status"].as_str();
    match view["status"].as_str().unwrap() {
        "CONFIRMED" => {
            assert_eq!((held.seats, held.rooms), (2, 1), "{key}: {view}");
            assert_eq!(payment, Some("CAPTURED"), "{key}: {view}");
        }
        "CANCELLED" => {
            assert_eq!((held.seats, held.rooms), (0, 0), "{key}: {view}");
            assert_ne!(payment, Some("CAPTURED"), "{key}: {view}");
        }
        other => panic!("{key} ended {other}: {view}"),
    }
    // A compensated saga fails with the step's business error, as Step Functions shows it.
    let expected = match view["status"].as_str() {
        Some("CONFIRMED") => "SUCCEEDED",
        _ => "FAILED",
    };
    assert_eq!(view["execution"]["status"], expected, "{key}: {view}");
}

/// A resumed execution's view is the whole execution, as one timeline: the path before the
/// stop (up to the payment it was waiting on), then the rest.
fn assert_whole_path(execution: &Value) {
    let strings = |field: &str, key: Option<&str>| -> Vec<String> {
        execution[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| key.map_or(v, |k| &v[k]).as_str().unwrap().to_owned())
            .collect()
    };
    let path = strings("states_visited", None);
    assert!(
        path.starts_with(&[
            "Start".into(),
            "CreateTrip".into(),
            "ReserveFlight".into(),
            "ReserveHotel".into(),
            "ProcessPayment".into()
        ]),
        "the path from the start: {execution}"
    );
    assert_eq!(
        path.iter().filter(|s| *s == "ProcessPayment").count(),
        1,
        "entered once in the view: the cut attempt was never recorded: {execution}"
    );
    let invoked = strings("invocations", Some("state"));
    assert!(
        invoked.starts_with(&[
            "CreateTrip".into(),
            "ReserveFlight".into(),
            "ReserveHotel".into(),
            "ProcessPayment".into()
        ]),
        "the invocations from the start: {execution}"
    );
    let at: Vec<i64> = execution["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["at_ms"].as_i64().unwrap())
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] <= w[1]),
        "one timeline: {execution}"
    );
}

/// The API of one "server": a saga in real time (so that a delay keeps executions in flight)
/// on the shared store and log.
fn api(context: &TripContext, search: &LocalSearch, log: &ExecutionLog, faults: FaultPlan) -> Api {
    Api::new(
        Saga::new(context.clone()).in_real_time(true),
        search.service().clone(),
        &Store::InMemory,
    )
    .with_faults(faults)
    .with_log(log.clone())
}

#[test]
fn a_server_stopped_mid_execution_leaves_nothing_that_the_next_does_not_finish() {
    let feed = kernel::stream::ChangeFeed::new("trips");
    let context = TripContext::in_memory_streaming(feed.clone());
    let log = ExecutionLog::in_memory();
    let requests = requests();

    // The first server accepts every trip, then stops while each waits on its payment: its
    // runtime is dropped, which ends its tasks where they are, as a kill would.
    let first = tokio::runtime::Runtime::new().unwrap();
    first.block_on(async {
        store::seed(&context).await.unwrap();
        let search = LocalSearch::in_memory(feed.clone());
        let faults = FaultPlan::parse_all(&["ProcessPayment=delay:30s".to_owned()]).unwrap();
        let router = api(&context, &search, &log, faults).router();
        for (key, body) in &requests {
            let (status, answer) = post(&router, key, body).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The one-seat flight's trips end at once (sold out); the others wait on payment.
        for (key, body) in &requests {
            let (_, view) = get(&router, key).await;
            if body["flight"]["flight_number"] == ROOMY_FLIGHT {
                assert_eq!(view["execution"]["status"], "RUNNING", "{view}");
                assert_eq!(view["status"], "PENDING", "{view}");
            }
        }
    });
    first.shutdown_background();
    let stock_after_stop = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(store::inventory(&context))
        .unwrap();

    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let search = LocalSearch::in_memory(feed.clone());
        let api = api(&context, &search, &log, FaultPlan::none());
        let mut resumed = api.resume_unfinished().await.unwrap();
        resumed.sort_unstable();
        let mut expected: Vec<TripId> = requests
            .iter()
            .filter(|(_, body)| body["flight"]["flight_number"] == ROOMY_FLIGHT)
            .map(|(key, _)| TripId::parse(key).unwrap())
            .collect();
        expected.sort_unstable();
        assert_eq!(resumed, expected, "every trip still running is resumed");
        assert_eq!(api.drain(Duration::from_mins(1)).await, 0);
        assert_eq!(api.held_in_memory(), 0, "ended executions live in the log");

        let router = api.router();
        let mut confirmed = 0;
        for (key, body) in &requests {
            let (status, view) = get(&router, key).await;
            assert_eq!(status, StatusCode::OK, "{view}");
            assert!(ENDED.contains(&view["status"].as_str().unwrap()), "{view}");
            assert_ended_consistently(&context, key, &view).await;
            confirmed += usize::from(view["status"] == "CONFIRMED");
            if body["flight"]["flight_number"] == ROOMY_FLIGHT {
                assert_whole_path(&view["execution"]);
            }
            // Sent again now that it has ended: refused, and nothing is booked again.
            let (status, answer) = post(&router, key, body).await;
            assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        }
        // The two roomy bookings with a good card; a party of two never fits one seat.
        assert_eq!(confirmed, 2);
        let stock = store::inventory(&context).await.unwrap();
        assert_eq!(stock.one_seat_flight_seats, 1);
        // At the stop four parties of two held seats; the two declined gave theirs back.
        assert_eq!(
            stock.roomy_flight_seats,
            stock_after_stop.roomy_flight_seats + 4
        );
        assert_eq!(api.resume_unfinished().await.unwrap(), [], "nothing left");
    });
}

#[tokio::test]
async fn a_restarted_server_shows_how_an_execution_it_did_not_run_ended() {
    let feed = kernel::stream::ChangeFeed::new("trips");
    let context = TripContext::in_memory_streaming(feed.clone());
    store::seed(&context).await.unwrap();
    let log = ExecutionLog::in_memory();
    let search = LocalSearch::in_memory(feed.clone());
    let first = api(&context, &search, &log, FaultPlan::none());
    let key = TripId::new().to_string();
    let request = body(ROOMY_FLIGHT, DECLINED_CARD);
    post(&first.router(), &key, &request).await;
    assert_eq!(first.drain(Duration::from_secs(30)).await, 0);
    let (_, before) = get(&first.router(), &key).await;

    let second = api(&context, &search, &log, FaultPlan::none());
    let (status, after) = get(&second.router(), &key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["status"], "CANCELLED");
    assert_eq!(after["execution"], before["execution"], "the same path");
    assert!(
        after["execution"]["states_visited"]
            .as_array()
            .unwrap()
            .contains(&json!("RefundPayment"))
    );
    // Another body under the same key: the name is taken, for as long as the record lives.
    let (status, answer) = post(&second.router(), &key, &body(ROOMY_FLIGHT, GOOD_CARD)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
}

// ---- The process, killed, on a DynamoDB endpoint ----

/// `trip-local serve` on `table` of the DynamoDB-compatible server at `endpoint`, in real time,
/// with `extra` arguments.
fn serve(endpoint: &str, table: &str, extra: &[&str]) -> (Server, String, String) {
    serve::serve(
        &[
            "--dynamodb-endpoint",
            endpoint,
            "--table",
            table,
            "--real-time",
        ],
        extra,
    )
}

/// One HTTP/1.1 exchange: the status and the JSON body.
fn http(address: &str, method: &str, path: &str, key: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Idempotency-Key: {key}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_with_executions_in_flight_finishes_every_accepted_trip_on_restart() {
    let table = kernel::testing::test_table().await;
    let endpoint = kernel::testing::shared_server().endpoint().to_owned();
    let requests: Vec<(String, Value)> = (0..3).flat_map(|_| requests()).collect();

    let (mut first, address, _) = serve(
        &endpoint,
        &table.name,
        &["--fault", "ProcessPayment=delay:20s"],
    );
    let accepted = {
        let (address, requests) = (address.clone(), requests.clone());
        tokio::task::spawn_blocking(move || {
            requests
                .iter()
                .map(|(key, body)| http(&address, "POST", "/trips", key, &body.to_string()).0)
                .collect::<Vec<_>>()
        })
        .await
        .unwrap()
    };
    assert!(accepted.iter().all(|s| *s == 202), "{accepted:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.0.kill().unwrap(); // SIGKILL: nothing drains, nothing is written on the way out
    first.0.wait().unwrap();

    let (mut second, address, printed) = serve(&endpoint, &table.name, &[]);
    // At least the twelve that were waiting on their payment; the one-seat flight's, which
    // end at once, may have ended before the kill.
    let resumed: usize = printed
        .split("Resumed ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("nothing resumed:\n{printed}"));
    assert!((12..=requests.len()).contains(&resumed), "{printed}");
    let context = TripContext::dynamodb(&table.client, &table.name);
    let deadline = Instant::now() + Duration::from_mins(4);
    for (key, body) in &requests {
        let view = loop {
            let (address, id) = (address.clone(), key.clone());
            let (status, view) = tokio::task::spawn_blocking(move || {
                http(&address, "GET", &format!("/trips/{id}"), &id, "")
            })
            .await
            .unwrap();
            assert_eq!(status, 200, "{view}");
            if ENDED.contains(&view["status"].as_str().unwrap_or_default())
                && view["execution"]["status"] != "RUNNING"
            {
                break view;
            }
            assert!(Instant::now() < deadline, "{key} did not end: {view}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_ended_consistently(&context, key, &view).await;
        let (address, key2, body) = (address.clone(), key.clone(), body.to_string());
        let (status, answer) =
            tokio::task::spawn_blocking(move || http(&address, "POST", "/trips", &key2, &body))
                .await
                .unwrap();
        assert_eq!(status, 409, "{key} sent again after it ended: {answer}");
    }
    // SIGTERM: a graceful stop, with nothing left running.
    let pid = second.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = second.0.wait().unwrap();
    assert!(status.success(), "{status}");
}
