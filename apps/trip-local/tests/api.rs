//! The local API as a client sees it: requests through the router in-process, a real listener
//! once, the `serve` command, and the committed OpenAPI document.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kernel::{CalendarDate, FlightNumber, Money, TripId};
use serde_json::{Value, json};
use tower::ServiceExt;
use trip_local::api::draft4::{self, DRAFT4_FILE, new_trip_draft4_json, new_trip_draft4_schema};
use trip_local::api::gateway::{self, GATEWAY_FILE, gateway_json};
use trip_local::api::openapi::{OPENAPI_FILE, REGENERATE, openapi, openapi_json};
use trip_local::api::schema::{RequestDecoder, new_trip_json_schema};
use trip_local::api::{self, Api, IDEMPOTENCY_KEY};
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request, trip_request_after};
use trip_local::execution::Saga;
use trip_local::faults::FaultPlan;
use trip_local::search::LocalSearch;
use trip_local::store::{
    self, DAY, HOTEL, Holdings, Inventory, NIGHTS, ONE_SEAT_FLIGHT, ROOMY_FLIGHT, Store, holdings,
    inventory,
};
use trip_saga::TripContext;

#[path = "support/serve.rs"]
mod serve;

const HAPPY_PATH: [&str; 6] = [
    "Start",
    "CreateTrip",
    "ReserveFlight",
    "ReserveHotel",
    "ProcessPayment",
    "ConfirmTrip",
];

/// An API on a seeded store, the store to read the stock from, and the search side that the
/// store's stream keeps in step.
struct Local {
    router: Router,
    context: TripContext,
    search: LocalSearch,
}

async fn local_on(context: TripContext, search: LocalSearch, store: &Store) -> Local {
    store::seed(&context).await.unwrap();
    // On moto, the executions table beside the store's, as `serve` has it.
    let log = store::execution_log(store).await.unwrap();
    let api = Api::new(Saga::new(context.clone()), search.service().clone(), store).with_log(log);
    Local {
        router: api.router(),
        context,
        search,
    }
}

/// An API on a fresh table of the shared DynamoDB-compatible server (its search table and stream
/// consumer on the same server), and the table.
async fn local_on_moto() -> (Local, kernel::testing::TestTable) {
    local_on_server(kernel::testing::shared_server()).await
}

/// An API on a fresh table of `server` (its search table and stream consumer on the same
/// server), and the table.
async fn local_on_server(
    server: &kernel::testing::TestServer,
) -> (Local, kernel::testing::TestTable) {
    let table = kernel::testing::test_table_on(server).await;
    let endpoint = server.endpoint().to_owned();
    let store = Store::DynamoDb {
        endpoint: endpoint.clone(),
        table: table.name.clone(),
    };
    let search = LocalSearch::on_endpoint(&endpoint, &table.name)
        .await
        .unwrap();
    let context = TripContext::dynamodb(&table.client, &table.name);
    (local_on(context, search, &store).await, table)
}

async fn local() -> Local {
    let (context, search) = store::connect_with_search(&Store::InMemory).await.unwrap();
    local_on(context, search.unwrap(), &Store::InMemory).await
}

/// A body for the demo catalogue, without `trip_id` (the API assigns one).
fn body(flight: &str, card: &str) -> Value {
    let mut body = trip_request(TripId::new(), flight, HOTEL, card);
    body.as_object_mut().unwrap().shift_remove("trip_id");
    body
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Answer {
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    fn violations(&self) -> Vec<(String, String)> {
        self.body["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["pointer"].as_str().unwrap().to_owned(),
                    v["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn trip_id(&self) -> String {
        self.body["trip_id"].as_str().unwrap().to_owned()
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    Answer {
        status,
        headers,
        body,
    }
}

fn post_request(body: impl Into<Body>, key: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/trips").header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(IDEMPOTENCY_KEY, key);
    }
    request.body(body.into()).unwrap()
}

async fn post(router: &Router, body: &Value, key: Option<&str>) -> Answer {
    send(router, post_request(body.to_string(), key)).await
}

async fn get(router: &Router, path: &str) -> Answer {
    send(router, Request::get(path).body(Body::empty()).unwrap()).await
}

/// `GET /trips/{id}` until the execution has ended.
async fn finished(router: &Router, trip_id: &str) -> Value {
    // Minutes, not seconds: on moto the tests of this binary share one server that applies one
    // request at a time, and the contention tests queue hundreds of requests on it.
    finished_within(
        router,
        trip_id,
        Duration::from_mins(3),
        Duration::from_millis(5),
    )
    .await
}

/// `GET /trips/{id}` every `interval` until the execution has ended, for at most `within`.
async fn finished_within(
    router: &Router,
    trip_id: &str,
    within: Duration,
    interval: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let answer = get(router, &format!("/trips/{trip_id}")).await;
        assert!(Instant::now() < deadline, "still running: {}", answer.body);
        // What a client does with a 503: ask again later (a loaded local server drops
        // connections now and then; the SDK's own retries may not be enough).
        if answer.status == StatusCode::SERVICE_UNAVAILABLE {
            tokio::time::sleep(interval).await;
            continue;
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        if answer.body["execution"]["status"] != "RUNNING" {
            assert_matches_contract("TripView", &answer.body);
            return answer.body;
        }
        assert!(Instant::now() < deadline, "still running: {}", answer.body);
        tokio::time::sleep(interval).await;
    }
}

/// `body` is valid against the OpenAPI document's schema `name`.
fn assert_matches_contract(name: &str, body: &Value) {
    let mut document = openapi();
    document["$ref"] = json!(format!("#/components/schemas/{name}"));
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&document)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect();
    assert!(errors.is_empty(), "{name} {body}:\n{}", errors.join("\n"));
}

fn states(view: &Value) -> Vec<&str> {
    view["execution"]["states_visited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

async fn stock(local: &Local) -> Inventory {
    inventory(&local.context).await.unwrap()
}

#[tokio::test]
async fn health_names_the_store_and_counts_executions() {
    let local = local().await;
    let answer = get(&local.router, "/health").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_matches_contract("Health", &answer.body);
    assert_eq!(answer.body["status"], "ok");
    assert_eq!(answer.body["store"], "in-memory");
    assert_eq!(
        answer.body["executions"],
        json!({ "running": 0, "finished": 0 })
    );
}

#[tokio::test]
async fn a_booking_is_accepted_then_confirmed_with_its_bookings_and_path() {
    let local = local().await;
    let before = stock(&local).await;
    let answer = post(&local.router, &body(ROOMY_FLIGHT, GOOD_CARD), None).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    assert_matches_contract("TripAccepted", &answer.body);
    let trip_id = answer.trip_id();
    assert!(TripId::parse(&trip_id).is_ok(), "an assigned id: {trip_id}");
    assert_eq!(answer.body["execution_name"], format!("trip-{trip_id}"));
    assert_eq!(answer.body["links"]["self"], format!("/trips/{trip_id}"));
    assert_eq!(
        answer.headers[header::LOCATION],
        format!("/trips/{trip_id}").as_str()
    );

    let view = finished(&local.router, &trip_id).await;
    assert_eq!(view["status"], "CONFIRMED", "{view}");
    assert_eq!(view["reason"], Value::Null);
    assert_eq!(view["request"]["flight"]["flight_number"], ROOMY_FLIGHT);
    assert_eq!(view["execution"]["status"], "SUCCEEDED");
    assert_eq!(view["execution"]["error"], Value::Null);
    assert_eq!(states(&view), HAPPY_PATH);
    let invocations: Vec<&str> = view["execution"]["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(invocations, HAPPY_PATH[1..]);
    let bookings = &view["bookings"];
    assert_eq!(bookings["flight"]["status"], "RESERVED");
    assert_eq!(bookings["flight"]["passengers"], 2);
    assert_eq!(
        bookings["flight"]["total"],
        json!({ "amount_minor": 60_000, "currency": "USD" })
    );
    assert_eq!(bookings["hotel"]["status"], "RESERVED");
    assert_eq!(bookings["hotel"]["rooms"], 1);
    assert_eq!(bookings["payment"]["status"], "CAPTURED");
    assert_eq!(
        bookings["payment"]["amount"],
        json!({ "amount_minor": 105_000, "currency": "USD" })
    );
    let after = stock(&local).await;
    assert_eq!(before.roomy_flight_seats - after.roomy_flight_seats, 2);

    let health = get(&local.router, "/health").await;
    assert_eq!(
        health.body["executions"],
        json!({ "running": 0, "finished": 1 })
    );
}

#[tokio::test]
async fn a_sold_out_flight_is_cancelled_and_the_path_shows_the_compensations() {
    let local = local().await;
    let answer = post(&local.router, &body(ONE_SEAT_FLIGHT, GOOD_CARD), None).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let view = finished(&local.router, &answer.trip_id()).await;
    assert_eq!(view["status"], "CANCELLED", "{view}");
    assert!(
        view["reason"].as_str().unwrap().contains("SoldOut"),
        "{view}"
    );
    assert_eq!(view["execution"]["status"], "FAILED");
    assert_eq!(view["execution"]["error"], "SoldOut");
    let path = states(&view);
    assert_eq!(
        path[..3],
        ["Start", "CreateTrip", "ReserveFlight"],
        "{path:?}"
    );
    for compensation in ["CancelFlight", "CancelTrip"] {
        assert!(path.contains(&compensation), "{compensation} in {path:?}");
    }
    assert!(!path.contains(&"ReserveHotel"), "{path:?}");
    let bookings = &view["bookings"];
    assert_eq!(bookings["hotel"], Value::Null);
    assert_eq!(bookings["payment"], Value::Null);
    assert_ne!(bookings["flight"]["status"], "RESERVED", "{bookings}");
    assert_eq!(
        stock(&local).await.one_seat_flight_seats,
        1,
        "nothing taken"
    );
}

#[tokio::test]
async fn a_declined_card_gives_the_flight_and_the_hotel_back() {
    let local = local().await;
    let before = stock(&local).await;
    let answer = post(&local.router, &body(ROOMY_FLIGHT, DECLINED_CARD), None).await;
    let view = finished(&local.router, &answer.trip_id()).await;
    assert_eq!(view["status"], "CANCELLED", "{view}");
    assert_eq!(view["execution"]["error"], "PaymentDeclined");
    let path = states(&view);
    for compensation in ["RefundPayment", "CancelHotel", "CancelFlight", "CancelTrip"] {
        assert!(path.contains(&compensation), "{compensation} in {path:?}");
    }
    assert_eq!(view["bookings"]["flight"]["status"], "CANCELLED");
    assert_eq!(view["bookings"]["hotel"]["status"], "CANCELLED");
    assert_eq!(view["bookings"]["payment"], Value::Null);
    assert_eq!(stock(&local).await, before, "everything given back");
}

/// Bodies the API must refuse, each with the pointer and a word of the violation it reports.
fn invalid_bodies() -> Vec<(Value, &'static str, &'static str)> {
    let with = |pointer: &str, value: Value| {
        let mut body = body(ROOMY_FLIGHT, GOOD_CARD);
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let mut missing = body(ROOMY_FLIGHT, GOOD_CARD);
    missing.as_object_mut().unwrap().shift_remove("hotel");
    let mut unknown = body(ROOMY_FLIGHT, GOOD_CARD);
    unknown["flight"]["seat"] = json!("12A");
    let mut bad_id = body(ROOMY_FLIGHT, GOOD_CARD);
    bad_id["trip_id"] = json!("TRIP-1");
    vec![
        (missing, "", "hotel"),
        (
            with("/flight/flight_number", json!("nh106")),
            "/flight/flight_number",
            "nh106",
        ),
        (
            with("/flight/passengers", json!(-2)),
            "/flight/passengers",
            "-2",
        ),
        (with("/hotel/guests", json!(10)), "/hotel/guests", "10"),
        (
            with("/flight/date", json!("2026-02-30")),
            "/flight/date",
            "2026-02-30",
        ),
        (
            with("/payment/card", json!("4242424242424242")),
            "/payment/card",
            "4242",
        ),
        (bad_id, "", "trip_id"),
        (unknown, "/flight", "seat"),
        (
            with(
                "/hotel/stay",
                json!({ "start": "2026-12-04", "end": "2026-12-01" }),
            ),
            "/hotel/stay",
            "start before the end",
        ),
        (json!([1, 2]), "", "object"),
    ]
}

#[tokio::test]
async fn invalid_bodies_get_400_with_every_violation_and_where_it_is() {
    let local = local().await;
    let with = |pointer: &str, value: Value| {
        let mut body = body(ROOMY_FLIGHT, GOOD_CARD);
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let cases = invalid_bodies();
    for (bad, pointer, mentions) in cases {
        let answer = post(&local.router, &bad, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_matches_contract("ErrorBody", &answer.body);
        assert_eq!(answer.error(), "invalid_request", "{}", answer.body);
        let violations = answer.violations();
        assert!(
            violations
                .iter()
                .any(|(p, m)| p == pointer && m.contains(mentions)),
            "{pointer} mentioning {mentions:?} in {violations:?}"
        );
    }

    let mut many = with("/flight/passengers", json!(0));
    many["flight"]["flight_number"] = json!("nh106");
    many["payment"] = json!({});
    let answer = post(&local.router, &many, None).await;
    let pointers: Vec<String> = answer.violations().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        pointers,
        ["/flight/flight_number", "/flight/passengers", "/payment"],
        "all at once: {}",
        answer.body
    );
    assert_eq!(
        get(&local.router, "/health").await.body["executions"],
        json!({ "running": 0, "finished": 0 }),
        "no execution started"
    );
}

#[tokio::test]
async fn malformed_json_and_other_media_types_are_refused() {
    let local = local().await;
    let answer = send(&local.router, post_request("{\"flight\": ", None)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error(), "invalid_json");
    assert_eq!(answer.violations()[0].0, "");
    assert!(answer.violations()[0].1.contains("EOF"), "{}", answer.body);

    let form = Request::post("/trips")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body(ROOMY_FLIGHT, GOOD_CARD).to_string()))
        .unwrap();
    let answer = send(&local.router, form).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.error(), "unsupported_media_type");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );

    let none = Request::post("/trips")
        .body(Body::from(body(ROOMY_FLIGHT, GOOD_CARD).to_string()))
        .unwrap();
    assert_eq!(
        send(&local.router, none).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let with_charset = Request::post("/trips")
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(body(ROOMY_FLIGHT, GOOD_CARD).to_string()))
        .unwrap();
    assert_eq!(
        send(&local.router, with_charset).await.status,
        StatusCode::ACCEPTED
    );

    let huge = json!({ "padding": "x".repeat(api::MAX_BODY_BYTES) });
    let answer = post(&local.router, &huge, None).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.error(), "payload_too_large");
}

/// An API whose executions take a while (real time, a delay before the hotel step), so that a
/// retry can arrive while the first execution still runs.
async fn slow_local() -> Local {
    let (context, search) = store::connect_with_search(&Store::InMemory).await.unwrap();
    let search = search.unwrap();
    store::seed(&context).await.unwrap();
    let saga = Saga::new(context.clone()).in_real_time(true);
    let faults = FaultPlan::parse_all(&["ReserveHotel=delay:1s".to_owned()]).unwrap();
    let api = Api::new(saga, search.service().clone(), &Store::InMemory).with_faults(faults);
    Local {
        router: api.router(),
        context,
        search,
    }
}

async fn post_text(router: &Router, body: &str, key: &str) -> Answer {
    let request = Request::post("/trips")
        .header(header::CONTENT_TYPE, "application/json")
        .header(IDEMPOTENCY_KEY, key)
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(router, request).await
}

/// The four cases of a repeated key, answered as Step Functions decides for a repeated
/// execution name (and so as API Gateway answers them): while the execution runs, the same
/// body is the same request (the same 202) and another body a conflict; once it has ended,
/// every body is a conflict. Whatever the answers, one trip is booked.
#[tokio::test]
async fn a_repeated_key_is_answered_as_step_functions_decides() {
    let local = slow_local().await;
    let before = stock(&local).await;
    let key = TripId::new().to_string();
    let request = body(ROOMY_FLIGHT, GOOD_CARD);
    let other = body(ROOMY_FLIGHT, DECLINED_CARD);

    let first = post(&local.router, &request, Some(&key)).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(first.trip_id(), key, "the key is the trip's id");
    assert_eq!(first.body["execution_name"], format!("trip-{key}"));

    // Running, same body: the same answer, nothing started.
    let again = post(&local.router, &request, Some(&key)).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body, first.body);
    assert_eq!(
        again.headers[header::LOCATION],
        first.headers[header::LOCATION]
    );
    // Running, another body, or the same JSON spelt otherwise (Step Functions compares text).
    for (label, answer) in [
        (
            "another body",
            post(&local.router, &other, Some(&key)).await,
        ),
        (
            "another spelling",
            post_text(
                &local.router,
                &serde_json::to_string_pretty(&request).unwrap(),
                &key,
            )
            .await,
        ),
    ] {
        assert_eq!(answer.status, StatusCode::CONFLICT, "{label}");
        assert_matches_contract("ErrorBody", &answer.body);
        assert_eq!(answer.error(), "trip_exists", "{label}");
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains(&format!("/trips/{key}")), "{message}");
    }
    assert_eq!(
        get(&local.router, "/health").await.body["executions"],
        json!({ "running": 1, "finished": 0 })
    );

    // Ended: every body is refused, the same one too.
    let view = finished(&local.router, &key).await;
    assert_eq!(view["status"], "CONFIRMED", "{view}");
    for body in [&request, &other] {
        let answer = post(&local.router, body, Some(&key)).await;
        assert_eq!(answer.status, StatusCode::CONFLICT);
        assert_eq!(answer.error(), "trip_exists");
    }
    let after = stock(&local).await;
    assert_eq!(
        before.roomy_flight_seats - after.roomy_flight_seats,
        2,
        "one trip"
    );

    // A new key is a new trip.
    let fresh = post(&local.router, &request, Some(&TripId::new().to_string())).await;
    assert_eq!(fresh.status, StatusCode::ACCEPTED);
}

/// A 202 is a promise that the start is recorded. The same request sent again while the first
/// one's record is still being written waits for it; when the write fails, nothing runs, and
/// the repeat is not told otherwise (it tries the start itself, and fails the same way).
#[tokio::test]
async fn a_repeat_during_a_start_that_fails_is_not_accepted() {
    let (context, search) = store::connect_with_search(&Store::InMemory).await.unwrap();
    store::seed(&context).await.unwrap();
    // An execution log on an endpoint where nothing listens: every record write fails, after
    // the SDK's retries.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let log = trip_local::journal::ExecutionLog::DynamoDb {
        client: kernel::dynamo::local_client(&endpoint, "us-east-1", "api-test"),
        table: "nowhere-executions".into(),
    };
    let router = Api::new(
        Saga::new(context.clone()),
        search.unwrap().service().clone(),
        &Store::InMemory,
    )
    .with_log(log)
    .router();
    let key = TripId::new().to_string();
    let request = body(ROOMY_FLIGHT, GOOD_CARD);
    let first = post(&router, &request, Some(&key));
    let repeat = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        post(&router, &request, Some(&key)).await
    };
    let (first, repeat) = tokio::join!(first, repeat);
    for answer in [&first, &repeat] {
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert_eq!(answer.error(), "store_unavailable", "{}", answer.body);
    }
    assert!(
        context
            .trips
            .get(TripId::parse(&key).unwrap())
            .await
            .unwrap()
            .is_none(),
        "nothing was started"
    );
}

#[tokio::test]
async fn an_unusable_idempotency_key_is_refused() {
    let local = local().await;
    let request = body(ROOMY_FLIGHT, GOOD_CARD);
    let upper = TripId::new().to_string().to_uppercase();
    for key in [
        "",
        "has space",
        "order-42",
        &upper,
        "00000000-0000-0000-0000-000000000000",
        &"k".repeat(256),
    ] {
        let answer = post(&local.router, &request, Some(key)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{key:?}");
        assert_eq!(answer.error(), "invalid_idempotency_key");
    }
    assert_eq!(
        get(&local.router, "/health").await.body["executions"],
        json!({ "running": 0, "finished": 0 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_start_one_execution() {
    let local = slow_local().await;
    let before = stock(&local).await;
    let request = body(ROOMY_FLIGHT, GOOD_CARD);
    let key = TripId::new().to_string();
    let answers = futures::future::join_all((0..16).map(|_| {
        let router = local.router.clone();
        let request = request.clone();
        let key = key.clone();
        tokio::spawn(async move { post(&router, &request, Some(&key)).await })
    }))
    .await;
    let answers: Vec<Answer> = answers.into_iter().map(Result::unwrap).collect();
    assert!(answers.iter().all(|a| a.status == StatusCode::ACCEPTED));
    assert!(answers.iter().all(|a| a.body == answers[0].body));
    finished(&local.router, &key).await;
    let after = stock(&local).await;
    assert_eq!(
        before.roomy_flight_seats - after.roomy_flight_seats,
        2,
        "one trip"
    );
    assert_eq!(
        get(&local.router, "/health").await.body["executions"],
        json!({ "running": 0, "finished": 1 })
    );
}

#[tokio::test]
async fn a_trip_booked_before_a_restart_is_not_booked_again() {
    let feed = kernel::stream::ChangeFeed::new("trips");
    let context = TripContext::in_memory_streaming(feed.clone());
    let search = || LocalSearch::in_memory(feed.clone());
    let before_restart = local_on(context.clone(), search(), &Store::InMemory).await;
    let key = TripId::new().to_string();
    let request = body(ROOMY_FLIGHT, GOOD_CARD);
    post(&before_restart.router, &request, Some(&key)).await;
    finished(&before_restart.router, &key).await;
    let stock_before = stock(&before_restart).await;

    // A new server on the same store: no registry, the trip is in the store.
    let after_restart = local_on(context, search(), &Store::InMemory).await;
    let retry = post(&after_restart.router, &request, Some(&key)).await;
    assert_eq!(retry.status, StatusCode::CONFLICT);
    assert_eq!(retry.error(), "trip_exists");
    assert_eq!(
        stock(&after_restart).await,
        stock_before,
        "nothing booked again"
    );
    let view = get(&after_restart.router, &format!("/trips/{key}")).await;
    assert_eq!(view.status, StatusCode::OK);
    assert_matches_contract("TripView", &view.body);
    assert_eq!(view.body["status"], "CONFIRMED");
    assert_eq!(
        view.body["execution"],
        Value::Null,
        "its history stayed with the old server"
    );
    assert_eq!(view.body["bookings"]["payment"]["status"], "CAPTURED");
}

/// The Lambda behind API Gateway's `GET /trips/{id}` answers with the local API's own view, on
/// the same store: the same body, but for `execution` (its history is Step Functions', not this
/// process's).
#[tokio::test]
async fn the_get_trip_lambda_answers_as_the_local_api() {
    use aws_lambda_events::apigw::ApiGatewayProxyRequest;
    use aws_lambda_events::encodings::Body as LambdaBody;
    use trip_local::api::lambda;

    let local = local().await;
    let key = TripId::new().to_string();
    post(&local.router, &body(ROOMY_FLIGHT, GOOD_CARD), Some(&key)).await;
    finished(&local.router, &key).await;
    let call = |id: &str| {
        let mut request = ApiGatewayProxyRequest::default();
        request
            .path_parameters
            .insert(lambda::TRIP_ID_PARAMETER.into(), id.into());
        let context = local.context.clone();
        async move { lambda::get_trip(&context, &request).await }
    };
    let json = |answer: &aws_lambda_events::apigw::ApiGatewayProxyResponse| -> Value {
        match &answer.body {
            Some(LambdaBody::Text(text)) => serde_json::from_str(text).unwrap(),
            other => panic!("a JSON body: {other:?}"),
        }
    };

    let answer = call(&key).await;
    assert_eq!(answer.status_code, 200);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    let mut expected = get(&local.router, &format!("/trips/{key}")).await.body;
    assert_eq!(expected["status"], "CONFIRMED");
    expected["execution"] = Value::Null;
    assert_eq!(json(&answer), expected);
    assert_matches_contract("TripView", &json(&answer));

    let unknown = TripId::new().to_string();
    let answer = call(&unknown).await;
    assert_eq!(answer.status_code, 404);
    assert_eq!(
        json(&answer),
        get(&local.router, &format!("/trips/{unknown}")).await.body
    );
    let answer = call("not-an-id").await;
    assert_eq!(answer.status_code, 400);
    assert_eq!(
        json(&answer),
        get(&local.router, "/trips/not-an-id").await.body
    );
}

/// On DynamoDB (moto), what the `GET /trips/{id}` Lambda sends is exactly what its role is
/// granted (`GET_TRIP_TABLE_ACTIONS`, in `generated/trip_api.gateway.json`).
#[tokio::test]
async fn the_get_trip_lambda_uses_exactly_its_declared_table_actions() {
    use aws_lambda_events::apigw::ApiGatewayProxyRequest;
    use kernel::testing::actions::{ActionLog, recording_client};
    use trip_local::api::lambda;

    let (local, table) = local_on_moto().await;
    let key = TripId::new().to_string();
    post(&local.router, &body(ROOMY_FLIGHT, GOOD_CARD), Some(&key)).await;
    finished(&local.router, &key).await;

    let log = ActionLog::default();
    let recording = TripContext::dynamodb(
        &recording_client(&table.client, "GetTrip", &log),
        &table.name,
    );
    for (id, status) in [(key.clone(), 200), (TripId::new().to_string(), 404)] {
        let mut request = ApiGatewayProxyRequest::default();
        request
            .path_parameters
            .insert(lambda::TRIP_ID_PARAMETER.into(), id);
        assert_eq!(
            lambda::get_trip(&recording, &request).await.status_code,
            status
        );
    }
    let declared: std::collections::BTreeSet<String> = lambda::GET_TRIP_TABLE_ACTIONS
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    assert_eq!(log.actions_of("GetTrip"), declared);
}

#[tokio::test]
async fn unknown_trips_ids_routes_and_methods_answer_json_errors() {
    let local = local().await;
    let unknown = TripId::new();
    let answer = get(&local.router, &format!("/trips/{unknown}")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error(), "trip_not_found");
    assert_matches_contract("ErrorBody", &answer.body);

    let answer = get(&local.router, "/trips/not-an-id").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error(), "invalid_trip_id");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("not-an-id")
    );

    let answer = get(&local.router, "/bookings").await;
    assert_eq!(
        (answer.status, answer.error()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    let delete = Request::delete("/trips").body(Body::empty()).unwrap();
    let answer = send(&local.router, delete).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.error(), "method_not_allowed");
}

#[tokio::test]
async fn the_api_serves_its_openapi_document() {
    let local = local().await;
    let answer = get(&local.router, "/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, openapi());
}

#[test]
fn the_committed_gateway_templates_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(GATEWAY_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == gateway_json(),
        "{GATEWAY_FILE} is stale: run `{}` (or `make gen`) and commit the result",
        gateway::REGENERATE
    );
}

/// The answers the gateway's examples expect (which the infrastructure's tests hold API
/// Gateway's templates to) are this API's answers to the same requests: started, then refused
/// as existing once ended; a key that is no trip id refused.
#[tokio::test]
async fn the_gateway_examples_are_this_apis_answers() {
    for example in gateway::examples() {
        let local = local().await;
        let key = example["idempotency_key"].as_str();
        let body = example["body"].as_str().unwrap();
        let Some(key) = key.filter(|_| example["start_execution"].is_object()) else {
            if let Some(key) = key {
                let answer = post_text(&local.router, body, key).await;
                assert_eq!(answer.status, StatusCode::BAD_REQUEST);
                assert_eq!(answer.body, example["invalid_key"], "{}", example["name"]);
            }
            continue;
        };
        let first = post_text(&local.router, body, key).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
        assert_eq!(first.body, example["accepted"]);
        finished(&local.router, key).await;
        let again = post_text(&local.router, body, key).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body, example["exists"]);
    }
}

#[test]
fn the_committed_draft4_request_model_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(DRAFT4_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == new_trip_draft4_json(),
        "{DRAFT4_FILE} is stale: run `{}` (or `make gen`) and commit the result",
        draft4::REGENERATE
    );
}

/// API Gateway validates with the draft 4 model, the local API with the 2020-12 schema: on every
/// body of the API's tests, and on the edges of every rule, they answer the same. What neither
/// schema can say (a stay's end after its start, at most 30 nights) both let through, and
/// decoding refuses.
#[test]
fn the_draft4_model_and_the_local_schema_agree() {
    let local = jsonschema::options()
        .should_validate_formats(true)
        .build(&new_trip_json_schema())
        .unwrap();
    let gateway = jsonschema::draft4::new(&new_trip_draft4_schema()).unwrap();
    let with = |pointer: &str, value: Value| {
        let mut body = body(ROOMY_FLIGHT, GOOD_CARD);
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let with_id = |id: Value| {
        let mut body = trip_request(TripId::new(), ROOMY_FLIGHT, HOTEL, GOOD_CARD);
        body["trip_id"] = id;
        body
    };
    let mut bodies: Vec<Value> = invalid_bodies().into_iter().map(|(b, _, _)| b).collect();
    bodies.extend([
        body(ROOMY_FLIGHT, GOOD_CARD),
        trip_request(TripId::new(), ONE_SEAT_FLIGHT, HOTEL, DECLINED_CARD),
        with_id(json!("00000000-0000-0000-0000-000000000000")),
        with_id(json!("0192F0C4-9C7E-7D3A-8F51-2F4B1C9E3A10")),
        with_id(json!(42)),
        with("/flight/passengers", json!(1)),
        with("/flight/passengers", json!(9)),
        with("/flight/passengers", json!(0)),
        with("/flight/passengers", json!(2.5)),
        with("/flight/passengers", json!("2")),
        with("/flight/date", json!("2028-02-29")),
        with("/flight/date", json!("2100-02-29")),
        with("/flight/date", json!("2026-04-31")),
        with("/flight/date", json!("2026-12-1")),
        with("/hotel/stay/end", json!("2027-02-29")),
        with("/hotel/hotel", json!("TOKYO-01")),
        with("/payment/card", json!("tok_abc")),
        with("/payment/card", json!(null)),
        with("/payment", json!({ "card": "tok_visa_4242", "cvc": "123" })),
        json!({}),
        json!(null),
        json!("a trip"),
    ]);
    let mut refused = 0;
    for body in &bodies {
        let (locally, at_the_gateway) = (local.is_valid(body), gateway.is_valid(body));
        assert_eq!(
            locally, at_the_gateway,
            "2020-12 says {locally}, draft 4 says {at_the_gateway}: {body}"
        );
        refused += usize::from(!locally);
    }
    assert!(
        refused >= 25,
        "the corpus exercises the rules: {refused} refused"
    );

    let decoder = RequestDecoder::new();
    for stay in [
        json!({ "start": "2026-12-04", "end": "2026-12-01" }),
        json!({ "start": "2026-12-01", "end": "2026-12-01" }),
        json!({ "start": "2026-12-01", "end": "2027-01-01" }),
    ] {
        let body = with("/hotel/stay", stay);
        assert!(local.is_valid(&body) && gateway.is_valid(&body), "{body}");
        assert!(
            decoder
                .decode(body.to_string().as_bytes(), TripId::new())
                .is_err(),
            "decoding refuses {body}"
        );
    }
}

#[test]
fn the_committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(OPENAPI_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == openapi_json(),
        "{OPENAPI_FILE} is stale: run `{REGENERATE}` (or `make gen`) and commit the result"
    );
}

#[test]
fn the_openapi_document_is_openapi_3_1_and_every_reference_resolves() {
    let document = openapi();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(
        document["info"]["description"]
            .as_str()
            .unwrap()
            .contains("do not edit")
    );
    let mut references = Vec::new();
    collect_refs(&document, &mut references);
    assert!(references.len() > 20, "{references:?}");
    for reference in references {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference}"));
        assert!(document.pointer(pointer).is_some(), "{reference} resolves");
    }
    let operations = ["/trips", "/trips/{id}", "/health", "/openapi.json"];
    for path in operations {
        assert!(document["paths"][path].is_object(), "{path}");
    }
    // The request body is the saga input's schema without `trip_id`, which is the key.
    let new_trip = &document["components"]["schemas"]["NewTrip"];
    assert_eq!(new_trip["required"], json!(["flight", "hotel", "payment"]));
    assert_eq!(new_trip["additionalProperties"], json!(false));
    assert!(new_trip["properties"].get("trip_id").is_none());
    let key = &document["paths"]["/trips"]["post"]["parameters"][0];
    assert_eq!(key["name"], "Idempotency-Key");
    assert_eq!(key["schema"]["$ref"], "#/components/schemas/TripId");
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field) {
                    ("$ref", Value::String(reference)) => into.push(reference.clone()),
                    _ => collect_refs(field, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, into)),
        _ => {}
    }
}

/// The curl lines `serve` prints, sent through the router: each does what its comment says.
#[tokio::test]
async fn the_printed_curl_lines_work() {
    let local = local().await;
    let trip_id = TripId::new();
    let lines = api::curl_lines("http://127.0.0.1:3000", trip_id);
    let posts: Vec<&String> = lines.iter().filter(|l| l.contains("-X POST")).collect();
    assert_eq!(posts.len(), 4, "{lines:#?}");
    let mut statuses = Vec::new();
    for line in posts {
        let body = between(line, "-d '", "'");
        let key = line
            .split("-H 'Idempotency-Key: ")
            .nth(1)
            .map(|rest| rest.split('\'').next().unwrap());
        let answer = post(&local.router, &serde_json::from_str(body).unwrap(), key).await;
        statuses.push(answer.status.as_u16());
        if answer.status == StatusCode::ACCEPTED {
            finished(&local.router, &answer.trip_id()).await;
        }
    }
    assert_eq!(statuses, [202, 202, 202, 400]);
    let get_line = lines
        .iter()
        .find(|l| l.starts_with("curl -s") && l.contains("/trips/"))
        .unwrap();
    let path = get_line.split("3000").nth(1).unwrap();
    let view = get(&local.router, path).await;
    assert_eq!(view.body["status"], "CONFIRMED");
    assert_eq!(view.body["trip_id"], trip_id.to_string());
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let rest = text.split_once(start).unwrap().1;
    rest.split_once(end).unwrap().0
}

/// `trip-local serve` listens, prints the curl lines with its real address, and answers them.
#[test]
fn serve_prints_curl_lines_and_answers_on_its_port() {
    use std::io::{Read, Write};

    let (server, address, output) = serve::serve(&[], &[]);
    let base = format!("http://{address}");
    let exchange = |request: String| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let health = exchange(format!(
        "GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    ));
    let booking = lines_with(&output, "-X POST")[0].clone();
    let body = between(&booking, "-d '", "'");
    let accepted = exchange(format!(
        "POST /trips HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    drop(server);

    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
    for expected in [
        "curl -i -X POST",
        "Idempotency-Key",
        ONE_SEAT_FLIGHT,
        DECLINED_CARD,
        "/health",
    ] {
        assert!(output.contains(expected), "{expected} in:\n{output}");
    }
    assert!(
        output.contains(&format!("curl -s {base}/trips/")),
        "{output}"
    );
}

fn lines_with(text: &str, needle: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_booking_on_dynamodb() {
    let (local, _table) = local_on_moto().await;
    let health = get(&local.router, "/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(
        health.body["store"]
            .as_str()
            .unwrap()
            .starts_with("DynamoDB")
    );

    let request = body(ROOMY_FLIGHT, GOOD_CARD);
    let key = TripId::new().to_string();
    let answer = post(&local.router, &request, Some(&key)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let view = finished(&local.router, &answer.trip_id()).await;
    assert_eq!(view["status"], "CONFIRMED", "{view}");
    assert_eq!(states(&view), HAPPY_PATH);
    assert_eq!(view["bookings"]["hotel"]["status"], "RESERVED");
    assert_eq!(view["bookings"]["payment"]["status"], "CAPTURED");
    let retry = post(&local.router, &request, Some(&key)).await;
    assert_eq!(retry.error(), "trip_exists", "finished: a conflict");
    assert_eq!(stock(&local).await.roomy_flight_seats, 198);
}

/// A burst of `count` bookings over the first ten days of the catalogue, some confirmed, some
/// cancelled (declined card, sold-out flight); then each status searched over days 2 to 8, a
/// few trips a page: every trip of that status and range appears exactly once, nothing else,
/// in departure order.
async fn burst_then_search(local: &Local, count: usize) {
    let plans = [
        (ROOMY_FLIGHT, GOOD_CARD),
        (ROOMY_FLIGHT, DECLINED_CARD),
        (ROOMY_FLIGHT, GOOD_CARD),
        (ONE_SEAT_FLIGHT, GOOD_CARD),
    ];
    let posts = (0..count).map(|n| {
        let (flight, card) = plans[n % plans.len()];
        let mut request = trip_request_after(TripId::new(), n % 10, flight, HOTEL, card);
        let trip_id = request["trip_id"].as_str().unwrap().to_owned();
        request.as_object_mut().unwrap().shift_remove("trip_id");
        let router = local.router.clone();
        async move {
            let answer = post(&router, &request, Some(&trip_id)).await;
            assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
            let view = finished(&router, &trip_id).await;
            let status = view["status"].as_str().unwrap().to_owned();
            (
                trip_id,
                request["flight"]["date"].as_str().unwrap().to_owned(),
                status,
            )
        }
    });
    let trips = futures::future::join_all(posts).await;
    local.search.caught_up().await.unwrap();
    assert_eq!(local.search.dead_letters().await.unwrap(), 0);
    for status in ["CONFIRMED", "CANCELLED"] {
        let mut expected: Vec<&str> = trips
            .iter()
            .filter(|(_, date, s)| {
                s == status && date.as_str() >= "2026-12-02" && date.as_str() <= "2026-12-08"
            })
            .map(|(id, _, _)| id.as_str())
            .collect();
        assert!(expected.len() >= 3, "{status}: {trips:?}");
        let mut found = Vec::new();
        let mut dates = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let token_parameter = token
                .as_ref()
                .map_or_else(String::new, |token| format!("&page_token={token}"));
            let path = format!(
                "/trips?status={status}&departure_from=2026-12-02&departure_to=2026-12-08&limit=4{token_parameter}"
            );
            let page = get(&local.router, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            assert_matches_contract("Page", &page.body);
            pages += 1;
            for trip in page.body["trips"].as_array().unwrap() {
                assert_eq!(trip["status"], status);
                found.push(trip["trip_id"].as_str().unwrap().to_owned());
                dates.push(
                    trip["flight"]["departure_date"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            token = page.body["next_page_token"].as_str().map(ToOwned::to_owned);
            if token.is_none() {
                break;
            }
        }
        assert_eq!(
            pages,
            expected.len().div_ceil(4),
            "no empty last page: found {found:?}, expected {expected:?}"
        );
        assert!(dates.is_sorted(), "{dates:?}");
        found.sort_unstable();
        expected.sort_unstable();
        assert_eq!(found, expected, "{status}: every trip once, nothing else");
    }
}

#[tokio::test]
async fn a_burst_of_bookings_is_found_exactly_once_across_pages() {
    burst_then_search(&local().await, 40).await;
}

#[tokio::test]
async fn a_burst_of_bookings_is_found_on_dynamodb_through_its_stream() {
    let (local, _table) = local_on_moto().await;
    burst_then_search(&local, 16).await;
    // The consumer read moto's Streams API: the documents carry what the trip items hold.
    let page = get(
        &local.router,
        "/trips?status=CONFIRMED&departure_from=2026-12-01&departure_to=2026-12-31&limit=1",
    )
    .await;
    let trip = &page.body["trips"][0];
    assert!(
        trip["charges"]["paid"]["amount_minor"].as_i64().unwrap() > 0,
        "{trip}"
    );
    assert!(
        trip["updated_at"].as_str().unwrap().ends_with('Z'),
        "{trip}"
    );
}

#[tokio::test]
async fn a_search_names_the_parameter_it_refuses_and_binds_its_page_token() {
    let local = local().await;
    let base = "status=CONFIRMED&departure_from=2026-12-01&departure_to=2026-12-14";
    for (query, parameter) in [
        (
            "departure_from=2026-12-01&departure_to=2026-12-14",
            "status",
        ),
        (
            "status=DONE&departure_from=2026-12-01&departure_to=2026-12-14",
            "status",
        ),
        (
            "status=CONFIRMED&departure_from=2026-02-30&departure_to=2026-12-14",
            "departure_from",
        ),
        (
            "status=CONFIRMED&departure_from=2026-12-14&departure_to=2026-12-01",
            "departure_to",
        ),
        (
            "status=CONFIRMED&departure_from=2026-12-01&departure_to=2028-12-01",
            "departure_to",
        ),
        (&format!("{base}&limit=0"), "limit"),
        (&format!("{base}&limit=1000"), "limit"),
        (&format!("{base}&page_token=bm90IGEgdG9rZW4"), "page_token"),
        (&format!("{base}&status=CANCELLED"), "status"),
        (&format!("{base}&sort=date"), "sort"),
    ] {
        let answer = get(&local.router, &format!("/trips?{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.error(), "invalid_query");
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{parameter}`")),
            "{query}: {}",
            answer.body
        );
        assert_matches_contract("ErrorBody", &answer.body);
    }

    // Three confirmed trips on the first day; a page of one.
    for _ in 0..3 {
        let key = TripId::new().to_string();
        post(&local.router, &body(ROOMY_FLIGHT, GOOD_CARD), Some(&key)).await;
        finished(&local.router, &key).await;
    }
    local.search.caught_up().await.unwrap();
    let first = get(&local.router, &format!("/trips?{base}&limit=1")).await;
    let token = first.body["next_page_token"].as_str().unwrap().to_owned();
    // The token on another search (another status, or another range) is refused …
    for other in [
        "status=CANCELLED&departure_from=2026-12-01&departure_to=2026-12-14",
        "status=CONFIRMED&departure_from=2026-12-01&departure_to=2026-12-13",
    ] {
        let answer = get(&local.router, &format!("/trips?{other}&page_token={token}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{other}");
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap()
                .contains("another search")
        );
    }
    // … and on its own search it continues after the first trip.
    let second = get(
        &local.router,
        &format!("/trips?{base}&limit=5&page_token={token}"),
    )
    .await;
    assert_eq!(second.body["trips"].as_array().unwrap().len(), 2);
    assert_ne!(
        second.body["trips"][0]["trip_id"],
        first.body["trips"][0]["trip_id"]
    );
    assert!(second.body.get("next_page_token").is_none());
}

#[tokio::test]
async fn the_search_lambda_answers_as_the_local_api() {
    use aws_lambda_events::apigw::ApiGatewayProxyRequest;
    use std::collections::HashMap;

    let local = local().await;
    let key = TripId::new().to_string();
    post(&local.router, &body(ROOMY_FLIGHT, GOOD_CARD), Some(&key)).await;
    finished(&local.router, &key).await;
    local.search.caught_up().await.unwrap();
    let service = local.search.service();
    let query = [
        ("status", "CONFIRMED"),
        ("departure_from", "2026-12-01"),
        ("departure_to", "2026-12-01"),
    ];
    let mut request = ApiGatewayProxyRequest::default();
    let single: HashMap<String, String> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    request.query_string_parameters = single.clone().into();
    let answer = trip_local::api::lambda::search_trips(service, &request).await;
    let local_answer = get(
        &local.router,
        "/trips?status=CONFIRMED&departure_from=2026-12-01&departure_to=2026-12-01",
    )
    .await;
    assert_eq!(answer.status_code, 200);
    let body: Value = match answer.body.unwrap() {
        aws_lambda_events::encodings::Body::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("not text: {other:?}"),
    };
    assert_eq!(body, local_answer.body);
    assert_eq!(body["trips"][0]["trip_id"], key);

    // A parameter repeated reaches the Lambda in the multi-value map: refused as locally.
    let mut repeated: HashMap<String, Vec<String>> =
        single.into_iter().map(|(k, v)| (k, vec![v])).collect();
    repeated.get_mut("status").unwrap().push("CANCELLED".into());
    request.multi_value_query_string_parameters = repeated.into();
    let answer = trip_local::api::lambda::search_trips(service, &request).await;
    assert_eq!(answer.status_code, 400);
}

/// `scripts/smoke-test.sh`, which the delivery pipeline runs against the dev stage, passes
/// against `trip-local serve` (same contract; the local API ignores signatures), and fails on a
/// day with nothing on sale.
#[test]
fn the_pipelines_smoke_test_passes_against_serve_and_fails_when_nothing_is_on_sale() {
    let (server, address, _) = serve::serve(&[], &[]);
    let base = format!("http://{address}");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/smoke-test.sh");
    let smoke = |date: &str| {
        std::process::Command::new("bash")
            .arg(script)
            .arg(format!("{base}/"))
            .env("SMOKE_REGION", "us-east-1")
            .env("SMOKE_DATE", date)
            .env("SMOKE_TIMEOUT", "30")
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .output()
            .unwrap()
    };

    let passed = smoke("2026-12-05");
    let nothing_on_sale = smoke("2027-03-01");
    drop(server);

    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(passed.status.success(), "{}", text(&passed));
    assert!(
        text(&passed).contains("Smoke test passed."),
        "{}",
        text(&passed)
    );
    assert!(
        !nothing_on_sale.status.success(),
        "{}",
        text(&nothing_on_sale)
    );
    assert!(
        text(&nothing_on_sale).contains("FAIL"),
        "{}",
        text(&nothing_on_sale)
    );
}

/// Reads the stock of `flight` and `hotel` on `day` every `poll` until `done`: each value read
/// item by item, so each one is a value the store really held.
fn watch_stock(
    context: &TripContext,
    flight: &FlightNumber,
    hotel: &hotel::HotelCode,
    day: CalendarDate,
    poll: Duration,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<StockSeen>> {
    let (context, flight, hotel) = (context.clone(), flight.clone(), hotel.clone());
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let seats_left = context.flights.seats_left(&flight, day).await;
            let rooms_left = context.hotels.rooms_left(&hotel, day).await;
            seen.push((
                seats_left.map_err(|e| e.to_string()),
                rooms_left.map_err(|e| e.to_string()),
            ));
            tokio::time::sleep(poll).await;
        }
        seen
    })
}

/// Seats and rooms left, as read during a run.
type StockSeen = (Result<Option<u32>, String>, Result<Option<u32>, String>);

/// Checks that each trip is either confirmed, holding a seat and a room and paid, or cancelled
/// for want of a seat or a room, holding nothing and paid nothing; how many were confirmed.
async fn confirmed_or_cancelled(context: &TripContext, booked: &[(String, Value)]) -> u32 {
    let mut confirmed = 0;
    for (trip_id, view) in booked {
        let id = TripId::parse(trip_id).unwrap();
        let held = holdings(context, id).await.unwrap();
        let payment = context.payments.payment(id).await.unwrap();
        match view["status"].as_str() {
            Some("CONFIRMED") => {
                confirmed += 1;
                assert_eq!(held, Holdings { seats: 1, rooms: 1 }, "{view}");
                assert_eq!(
                    payment.map(|p| p.status),
                    Some(payment::PaymentStatus::Captured)
                );
            }
            Some("CANCELLED") => {
                assert_eq!(
                    held,
                    Holdings::default(),
                    "a cancelled trip holds nothing: {view}"
                );
                assert!(payment.is_none(), "a cancelled trip paid nothing: {view}");
                let reason = view["reason"].as_str().unwrap_or_default();
                assert!(
                    reason.starts_with("SoldOut") || reason.starts_with("NoRooms"),
                    "cancelled for want of a seat or a room: {view}"
                );
            }
            _ => panic!("neither confirmed nor cancelled: {view}"),
        }
    }
    confirmed
}

/// `trips` bookings at once, through the API, for a flight with `seats` seats and a hotel with
/// fewer rooms than their guests need: exactly as many trips as there are rooms are confirmed,
/// every other one is cancelled with nothing left held, none stays pending, and the stock,
/// watched throughout, never leaves `0..=seeded`.
async fn contention(local: &Local, trips: usize, seats: u32, rooms: u32, poll: Duration) {
    const FLIGHT: &str = "NH500";
    const SMALL_HOTEL: &str = "SMALL01";
    assert!(
        rooms < seats && (rooms as usize) < trips,
        "the hotel is the bottleneck"
    );
    let flight = FlightNumber::parse(FLIGHT).unwrap();
    let hotel = hotel::HotelCode::parse(SMALL_HOTEL).unwrap();
    let day = CalendarDate::parse(DAY).unwrap();
    let usd = |text: &str| Money::parse(text).unwrap();
    let context = &local.context;
    context
        .flights
        .add_flight(flight.clone(), day, seats, usd("300.00 USD"))
        .await
        .unwrap();
    let nights = u32::try_from(NIGHTS.len()).unwrap();
    context
        .hotels
        .add_hotel(hotel.clone(), day, nights, rooms, usd("150.00 USD"))
        .await
        .unwrap();

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = watch_stock(context, &flight, &hotel, day, poll, done.clone());

    let posts = (0..trips).map(|_| {
        let trip_id = TripId::new().to_string();
        let request = json!({
            "flight": { "flight_number": FLIGHT, "date": DAY, "passengers": 1 },
            "hotel": { "hotel": SMALL_HOTEL, "stay": { "start": DAY, "end": store::CHECK_OUT }, "guests": 2 },
            "payment": { "card": GOOD_CARD }
        });
        let router = local.router.clone();
        async move {
            let answer = post(&router, &request, Some(&trip_id)).await;
            assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
            trip_id
        }
    });
    let accepted = futures::future::join_all(posts).await;
    // One poller, not one per trip: the store serves the bookings, not a crowd of readers.
    let mut booked = Vec::new();
    for trip_id in accepted {
        let view = finished_within(&local.router, &trip_id, Duration::from_mins(10), poll).await;
        booked.push((trip_id, view));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = watcher.await.unwrap();

    let confirmed = confirmed_or_cancelled(context, &booked).await;
    assert_eq!(
        confirmed, rooms,
        "exactly as many trips as rooms are confirmed"
    );
    assert_eq!(
        context.flights.seats_left(&flight, day).await.unwrap(),
        Some(seats - rooms),
        "the seats of every cancelled trip were given back"
    );
    for night in NIGHTS {
        let night = CalendarDate::parse(night).unwrap();
        assert_eq!(
            context.hotels.rooms_left(&hotel, night).await.unwrap(),
            Some(0)
        );
    }
    assert!(seen.len() > 1, "the stock was watched during the run");
    for (seats_left, rooms_left) in &seen {
        assert!(
            matches!(seats_left, Ok(Some(n)) if *n <= seats)
                && matches!(rooms_left, Ok(Some(n)) if *n <= rooms),
            "the stock left its bounds during the run: seats {seats_left:?}, rooms {rooms_left:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_bookings_for_fifty_seats_and_thirty_rooms() {
    contention(&local().await, 200, 50, 30, Duration::from_millis(5)).await;
}

/// On the shared server (moto unless `$TEST_DYNAMODB` says otherwise), a quarter of the crowd:
/// moto applies one request at a time (see `kernel::testing`) and copies the table for every
/// transaction, and 200 bookings at once did not finish on it in 25 minutes (docs/benchmarks.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_bookings_for_twenty_seats_and_twelve_rooms_on_dynamodb() {
    let (local, _table) = local_on_moto().await;
    contention(&local, 50, 20, 12, Duration::from_secs(1)).await;
}

/// The whole crowd on a DynamoDB-compatible server: dynoxide, whatever `$TEST_DYNAMODB` says,
/// because it serves it in well under a minute (`kernel::testing::Engine`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_bookings_for_fifty_seats_and_thirty_rooms_on_dynoxide() {
    let server = kernel::testing::shared_server_of(kernel::testing::Engine::Dynoxide);
    let (local, _table) = local_on_server(server).await;
    contention(&local, 200, 50, 30, Duration::from_millis(100)).await;
}
