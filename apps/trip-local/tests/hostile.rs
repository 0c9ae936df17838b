//! Hostile input: generated JSON and mutations of valid payloads against every saga function's
//! payload decoding, the API's Lambda functions and the local API itself. Whatever arrives,
//! nothing panics, the answer is a declared error that says what is wrong, and a refused input
//! writes nothing.
//!
//! The valid payloads are the real ones: recorded from executions of the generated state machine
//! with the real handlers (a confirmed trip, a declined card, and a trip whose confirmation and
//! one compensation fail, for the pivot's guard and the escalation), so that a mutation starts
//! from exactly what Step Functions sends.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use asl_executor::{
    BoxFuture, ExecutionOptions, LambdaError, LambdaInvocation, LambdaInvoker, LambdaTasks,
    StateMachine,
};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kernel::TripId;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use saga_runtime::local::InProcess;
use serde_json::{Map, Number, Value, json};
use tower::ServiceExt;
use trip_local::api::openapi::openapi;
use trip_local::api::{Api, IDEMPOTENCY_KEY, MAX_BODY_BYTES};
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use trip_local::execution::Saga;
use trip_local::faults::FaultPlan;
use trip_local::store::{self, HOTEL, ROOMY_FLIGHT, Store};
use trip_saga::TripContext;
use trip_saga::trip_booking::{ASL, Function, SAGA};

/// The error every saga function answers for a payload it cannot decode.
const INVALID_PAYLOAD: &str = "Saga.InvalidPayload";

/// The longest error message a refused payload may get: an error must not grow with the input
/// it refuses (Step Functions keeps at most 32,768 characters of a cause).
const MESSAGE_LIMIT: usize = 2_000;

/// How many generated inputs each property tries: enough to reach every field of every payload
/// with every kind of mutation, few enough to keep the test command's budget.
const CASES: u32 = 256;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

// --- generated JSON --------------------------------------------------------------------------

/// The names the payloads and bodies use, so that generated objects often get past the outer
/// shape and reach the inner decoding.
const KNOWN_KEYS: &[&str] = &[
    "input",
    "results",
    "context",
    "failure",
    "undone",
    "output",
    "action_idempotency_key",
    "trip_id",
    "flight",
    "hotel",
    "payment",
    "flight_number",
    "date",
    "passengers",
    "stay",
    "start",
    "end",
    "guests",
    "card",
    "saga",
    "execution_id",
    "execution_name",
    "state_name",
    "idempotency_key",
    "retry_count",
    "Error",
    "Cause",
];

/// Numbers at the edges: of the integer types, of `f64`, of JSON's exact integers.
fn edge_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u32::MAX)),
        Just(json!(u64::from(u32::MAX) + 1)),
        Just(json!(9_007_199_254_740_993_u64)),
        Just(json!(1.0e308)),
        Just(json!(-1.0e308)),
        Just(json!(f64::MIN_POSITIVE)),
        Just(json!(2.5)),
        Just(json!(-0.0)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        edge_number(),
        ".{0,24}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
        Just(json!(TripId::new())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KNOWN_KEYS).prop_map(str::to_owned),
        "[a-z_]{0,10}",
        ".{0,8}",
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// What a mutation does to the value it picks.
#[derive(Debug, Clone)]
enum Mutation {
    /// Takes it out of its object or array (the whole payload: `null`).
    Drop,
    /// Puts another value in its place.
    Replace(Value),
    /// The same content in another JSON type: `2` for `"2"`, `"true"` for `true`, `[]` for `{}`.
    Retype,
    /// A string of 100,000 characters in its place.
    Huge,
    /// It, nested 1,000 arrays deep.
    Deep,
    /// An unknown field next to it (in it, when it is an object).
    Extra(String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Drop),
        any_json().prop_map(Mutation::Replace),
        edge_number().prop_map(Mutation::Replace),
        Just(Mutation::Retype),
        Just(Mutation::Huge),
        Just(Mutation::Deep),
        (key(), leaf()).prop_map(|(k, v)| Mutation::Extra(k, v)),
    ]
}

/// Every value's path in `value`, the root first.
fn paths(value: &Value) -> Vec<Vec<String>> {
    let mut found = vec![Vec::new()];
    let mut index = 0;
    while index < found.len() {
        let path = found[index].clone();
        let at = pointer(value, &path).expect("a path found in the value");
        match at {
            Value::Object(fields) => {
                found.extend(
                    fields
                        .keys()
                        .map(|k| [path.clone(), vec![k.clone()]].concat()),
                );
            }
            Value::Array(items) => {
                found
                    .extend((0..items.len()).map(|i| [path.clone(), vec![i.to_string()]].concat()));
            }
            _ => {}
        }
        index += 1;
    }
    found
}

fn pointer<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |at, token| match at {
        Value::Object(fields) => fields.get(token),
        Value::Array(items) => items.get(token.parse::<usize>().ok()?),
        _ => None,
    })
}

fn pointer_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |at, token| match at {
        Value::Object(fields) => fields.get_mut(token),
        Value::Array(items) => items.get_mut(token.parse::<usize>().ok()?),
        _ => None,
    })
}

/// `valid` with `mutation` applied to its `pick`-th value (in [`paths`] order), and the
/// mutated value's JSON pointer.
fn mutate(valid: &Value, pick: usize, mutation: &Mutation) -> (Value, String) {
    let mut value = valid.clone();
    let all = paths(valid);
    let path = all[pick % all.len()].clone();
    let shown: String = path
        .iter()
        .flat_map(|t| ["/".to_owned(), t.replace('~', "~0").replace('/', "~1")])
        .collect();
    match mutation {
        Mutation::Drop => match path.split_last() {
            None => value = Value::Null,
            Some((last, parent)) => match pointer_mut(&mut value, parent) {
                Some(Value::Object(fields)) => {
                    fields.shift_remove(last);
                }
                Some(Value::Array(items)) => {
                    items.remove(last.parse::<usize>().expect("an index"));
                }
                _ => unreachable!("a parent is a container"),
            },
        },
        Mutation::Extra(key, extra) => {
            let target = pointer_mut(&mut value, &path).expect("the path exists");
            match target {
                Value::Object(fields) => {
                    fields.insert(format!("{key}_extra"), extra.clone());
                }
                other => *other = json!({ "value": other.take(), key.clone(): extra }),
            }
        }
        other => {
            let target = pointer_mut(&mut value, &path).expect("the path exists");
            *target = match other {
                Mutation::Replace(with) => with.clone(),
                Mutation::Retype => retyped(target),
                Mutation::Huge => Value::String("x".repeat(100_000)),
                Mutation::Deep => (0..1_000).fold(target.take(), |inner, _| json!([inner])),
                Mutation::Drop | Mutation::Extra(..) => unreachable!("handled above"),
            };
        }
    }
    (value, shown)
}

fn retyped(value: &Value) -> Value {
    match value {
        Value::Null => json!(0),
        Value::Bool(b) => json!(b.to_string()),
        Value::Number(n) => json!(n.to_string()),
        Value::String(s) => s.parse::<u64>().map_or_else(|_| json!([s]), |n| json!(n)),
        Value::Array(items) => Value::Object(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.clone()))
                .collect::<Map<_, _>>(),
        ),
        Value::Object(fields) => Value::Array(fields.values().cloned().collect()),
    }
}

// --- the saga's functions --------------------------------------------------------------------

/// The saga's functions in-process, recording what Step Functions sends them; the functions
/// named in `failing` answer `StoreFailed` without running (for the trips that must reach the
/// pivot's guard and the escalation).
struct Recorder {
    in_process: InProcess<Function>,
    failing: Mutex<BTreeSet<&'static str>>,
    seen: Mutex<Vec<(Function, Value)>>,
}

impl LambdaInvoker for &Recorder {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        Box::pin(async move {
            let function = self
                .in_process
                .resolve(invocation.function_name)
                .unwrap_or_else(|| panic!("no function {}", invocation.function_name));
            self.seen
                .lock()
                .unwrap()
                .push((function, invocation.payload.clone()));
            if self.failing.lock().unwrap().contains(function.name()) {
                return Err(LambdaError::Function {
                    error_type: "StoreFailed".into(),
                    error_message: "injected by the test".into(),
                });
            }
            self.in_process
                .call(invocation.function_name, invocation.payload)
                .await
        })
    }
}

/// A store after three executions, the trips they booked, the change feed of its trips, and one
/// real payload of every function of the saga.
struct Recorded {
    context: TripContext,
    feed: kernel::stream::ChangeFeed,
    trips: Vec<TripId>,
    payloads: Vec<(Function, Value)>,
}

async fn record() -> Recorded {
    let feed = kernel::stream::ChangeFeed::new("trips");
    let context = TripContext::in_memory_streaming(feed.clone());
    store::seed(&context).await.unwrap();
    let recorder = Recorder {
        in_process: InProcess::new(context.clone()),
        failing: Mutex::new(BTreeSet::new()),
        seen: Mutex::new(Vec::new()),
    };
    let machine = StateMachine::from_json(ASL).unwrap();
    let mut trips = Vec::new();
    for (card, failing) in [
        (GOOD_CARD, vec![]),
        (DECLINED_CARD, vec![]),
        (GOOD_CARD, vec!["ConfirmTrip", "CancelFlight"]),
    ] {
        *recorder.failing.lock().unwrap() = failing.into_iter().collect();
        let trip_id = TripId::new();
        trips.push(trip_id);
        let tasks = LambdaTasks::new(&recorder);
        let options = ExecutionOptions {
            execution_name: format!("trip-{trip_id}"),
            ..ExecutionOptions::default()
        };
        machine
            .run(
                &tasks,
                trip_request(trip_id, ROOMY_FLIGHT, HOTEL, card),
                &options,
            )
            .await;
    }
    let mut payloads: Vec<(Function, Value)> = Vec::new();
    for (function, payload) in recorder.seen.into_inner().unwrap() {
        if payloads.iter().all(|(f, _)| *f != function) {
            payloads.push((function, payload));
        }
    }
    let missing: Vec<&str> = Function::ALL
        .iter()
        .filter(|f| payloads.iter().all(|(seen, _)| seen != *f))
        .map(|f| f.name())
        .collect();
    assert!(missing.is_empty(), "no payload recorded for {missing:?}");
    Recorded {
        context,
        feed,
        trips,
        payloads,
    }
}

/// Everything the store holds that a saga function can change: the stock, and every trip's
/// record, bookings and payment, and the trips' change feed.
async fn snapshot(recorded: &Recorded) -> String {
    let context = &recorded.context;
    let mut state = format!(
        "{:?} {:?}",
        store::inventory(context).await.unwrap(),
        recorded.feed.last_sequence_number()
    );
    for trip_id in &recorded.trips {
        use std::fmt::Write;
        write!(
            state,
            " {:?} {:?} {:?} {:?}",
            context.trips.get(*trip_id).await.unwrap(),
            context.flights.reservation(*trip_id).await.unwrap(),
            context.hotels.reservation(*trip_id).await.unwrap(),
            context.payments.payment(*trip_id).await.unwrap(),
        )
        .unwrap();
    }
    state
}

/// Every error name a function of the saga may answer with.
fn declared_errors() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = [INVALID_PAYLOAD, "Saga.InvalidOutput"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    for step in SAGA.steps.iter() {
        names.extend(step.business_errors.iter().map(ToString::to_string));
        names.extend(step.transient_errors.iter().map(ToString::to_string));
    }
    names
}

/// Invokes `function` with `payload` on the recorded store: its answer, or the panic's message.
async fn invoke(
    recorded: &Recorded,
    function: Function,
    payload: Value,
) -> Result<Result<Value, lambda_runtime::Diagnostic>, String> {
    let context = recorded.context.clone();
    let run = tokio::spawn(async move { function.invoke(&context, payload).await });
    run.await.map_err(|e| format!("{e:?}"))
}

/// One input to one function: no panic; an error is declared, bounded and not empty; a payload
/// refused as undecodable wrote nothing.
async fn check_function(
    recorded: &Recorded,
    function: Function,
    payload: Value,
    label: &str,
) -> Result<(), TestCaseError> {
    let before = snapshot(recorded).await;
    let answer = invoke(recorded, function, payload).await;
    let answer = answer.map_err(|panic| {
        TestCaseError::fail(format!("{function:?} panicked on {label}: {panic}"))
    })?;
    if let Err(diagnostic) = answer {
        prop_assert!(
            declared_errors().contains(&diagnostic.error_type),
            "{function:?} on {label}: undeclared error {}: {}",
            diagnostic.error_type,
            diagnostic.error_message
        );
        let length = diagnostic.error_message.chars().count();
        prop_assert!(
            length > 0 && length <= MESSAGE_LIMIT,
            "{function:?} on {label}: a {length}-character message: {:.300}",
            diagnostic.error_message
        );
        if diagnostic.error_type == INVALID_PAYLOAD {
            prop_assert_eq!(
                snapshot(recorded).await,
                before,
                "{:?} wrote on a payload it refused ({}): {}",
                function,
                label,
                diagnostic.error_message
            );
        }
    }
    Ok(())
}

fn recorded() -> &'static (tokio::runtime::Runtime, Recorded) {
    static RECORDED: OnceLock<(tokio::runtime::Runtime, Recorded)> = OnceLock::new();
    RECORDED.get_or_init(|| {
        let runtime = runtime();
        let recorded = runtime.block_on(record());
        (runtime, recorded)
    })
}

#[test]
fn every_saga_function_refuses_generated_json_and_writes_nothing() {
    let (runtime, recorded) = recorded();
    let functions: Vec<Function> = Function::ALL.to_vec();
    runner()
        .run(
            &(prop::sample::select(functions), any_json()),
            |(function, payload)| {
                let label = format!("{payload:.200}");
                runtime.block_on(check_function(recorded, function, payload, &label))
            },
        )
        .unwrap();
}

#[test]
fn every_saga_function_refuses_mutations_of_its_real_payload_and_writes_nothing() {
    let (runtime, recorded) = recorded();
    let count = recorded.payloads.len();
    runner()
        .run(
            &(0..count, any::<usize>(), mutation()),
            |(which, pick, mutation)| {
                let (function, valid) = &recorded.payloads[which];
                let (payload, at) = mutate(valid, pick, &mutation);
                let label = format!("{mutation:.80?} at {at}");
                runtime.block_on(check_function(recorded, *function, payload, &label))
            },
        )
        .unwrap();
}

/// Every value of every function's payload broken, one way or another: the generated cases above
/// sample the values, this goes through all of them.
#[test]
fn every_field_of_every_payload_dropped_retyped_or_huge_is_refused_cleanly() {
    let (runtime, recorded) = recorded();
    // One kind of break per value, in turn: every value is broken once, and every kind reaches
    // values of every part of the payload.
    let kinds = [
        Mutation::Drop,
        Mutation::Retype,
        Mutation::Huge,
        Mutation::Deep,
    ];
    for (offset, (function, valid)) in recorded.payloads.iter().enumerate() {
        for pick in 0..paths(valid).len() {
            let mutation = &kinds[(pick + offset) % kinds.len()];
            let (payload, at) = mutate(valid, pick, mutation);
            let label = format!("{mutation:?} at {at}");
            runtime
                .block_on(check_function(recorded, *function, payload, &label))
                .unwrap();
        }
    }
}

// --- the API's Lambda functions --------------------------------------------------------------

/// `GET /trips/{id}`'s and the search's Lambda functions get what API Gateway sends: whatever
/// event the runtime decodes, the answer is JSON with a status the API declares, and a refusal
/// is an `ErrorBody`.
#[test]
fn the_api_lambdas_answer_any_event_with_a_declared_status_and_body() {
    use aws_lambda_events::apigw::ApiGatewayProxyRequest;
    use trip_local::api::lambda;

    let (runtime, recorded) = recorded();
    let search = {
        let _inside = runtime.enter();
        trip_local::search::LocalSearch::in_memory(recorded.feed.clone())
    };
    let valid = {
        let mut request = ApiGatewayProxyRequest::default();
        request
            .path_parameters
            .insert("id".into(), recorded.trips[0].to_string());
        request.query_string_parameters =
            std::collections::HashMap::from([("status".to_owned(), "CONFIRMED".to_owned())]).into();
        serde_json::to_value(request).unwrap()
    };
    let contract = Contract::new();
    runner()
        .run(
            &prop_oneof![
                any_json(),
                (any::<usize>(), mutation()).prop_map(move |(pick, m)| mutate(&valid, pick, &m).0),
            ],
            |event| {
                // What the Lambda runtime does first: an event that does not decode never
                // reaches the handler (the runtime reports it to Lambda as an error).
                let Ok(request) = serde_json::from_value::<ApiGatewayProxyRequest>(event) else {
                    return Ok(());
                };
                let before = runtime.block_on(snapshot(recorded));
                for (name, answer) in [
                    (
                        "GetTrip",
                        runtime.block_on(lambda::get_trip(&recorded.context, &request)),
                    ),
                    (
                        "SearchTrips",
                        runtime.block_on(lambda::search_trips(search.service(), &request)),
                    ),
                ] {
                    let status = u16::try_from(answer.status_code).unwrap();
                    prop_assert!([200, 400, 404].contains(&status), "{name}: {status}");
                    let Some(aws_lambda_events::encodings::Body::Text(text)) = &answer.body else {
                        return Err(TestCaseError::fail(format!("{name}: no text body")));
                    };
                    let body: Value = serde_json::from_str(text).unwrap();
                    if status >= 400 {
                        contract.check_error(&body).map_err(TestCaseError::fail)?;
                    }
                }
                prop_assert_eq!(runtime.block_on(snapshot(recorded)), before);
                Ok(())
            },
        )
        .unwrap();
}

/// The stream consumer gets batches of records: a record it cannot project is named in the
/// batch's failures or kept as a dead letter, never dropped, and never a panic.
#[test]
fn the_stream_consumer_keeps_what_it_cannot_project() {
    use kernel::stream::ChangeBatch;
    use search::application::Projector;
    use search::infrastructure::{InMemoryDeadLetters, InMemorySearchRepository};

    let (runtime, recorded) = recorded();
    let records = recorded.feed.read(None, 100).unwrap();
    let mut batch = ChangeBatch::default();
    batch.records = records.into_iter().take(4).collect();
    let valid = serde_json::to_value(batch).unwrap();
    runner()
        .run(
            &prop_oneof![
                any_json(),
                (any::<usize>(), mutation()).prop_map(move |(pick, m)| mutate(&valid, pick, &m).0),
            ],
            |event| {
                let Ok(batch) = serde_json::from_value::<ChangeBatch>(event) else {
                    return Ok(());
                };
                let table = Arc::new(InMemorySearchRepository::new());
                let dead_letters = Arc::new(InMemoryDeadLetters::new());
                let projector = Projector::new(table, dead_letters.clone());
                let outcome = runtime.block_on(async {
                    tokio::spawn(async move { projector.handle(&batch.records).await }).await
                });
                prop_assert!(outcome.is_ok(), "the consumer panicked: {outcome:?}");
                Ok(())
            },
        )
        .unwrap();
}

// --- the local API ---------------------------------------------------------------------------

/// The OpenAPI document's `ErrorBody`, to check refusals against.
struct Contract(jsonschema::Validator);

impl Contract {
    fn new() -> Self {
        let mut document = openapi();
        document["$ref"] = json!("#/components/schemas/ErrorBody");
        Self(
            jsonschema::options()
                .should_validate_formats(true)
                .build(&document)
                .unwrap(),
        )
    }

    /// `body` is an `ErrorBody` whose message, and every violation's, is bounded and not empty.
    fn check_error(&self, body: &Value) -> Result<(), String> {
        let errors: Vec<String> = self.0.iter_errors(body).map(|e| e.to_string()).collect();
        if !errors.is_empty() {
            return Err(format!("not an ErrorBody: {errors:?}: {body:.300}"));
        }
        let mut messages = vec![body["message"].as_str().unwrap_or_default()];
        for violation in body["violations"].as_array().into_iter().flatten() {
            messages.push(violation["message"].as_str().unwrap_or_default());
        }
        for message in messages {
            let length = message.chars().count();
            if length == 0 || length > MESSAGE_LIMIT {
                return Err(format!("a {length}-character message: {message:.300}"));
            }
        }
        Ok(())
    }
}

struct Local {
    router: Router,
    context: TripContext,
    _search: trip_local::search::LocalSearch,
}

async fn local() -> Local {
    let (context, search) = store::connect_with_search(&Store::InMemory).await.unwrap();
    let search = search.unwrap();
    store::seed(&context).await.unwrap();
    let api = Api::new(
        Saga::new(context.clone()),
        search.service().clone(),
        &Store::InMemory,
    );
    Local {
        router: api.router(),
        context,
        _search: search,
    }
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{status}"
    );
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

fn post(body: impl Into<Body>, key: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/trips").header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(IDEMPOTENCY_KEY, key);
    }
    request.body(body.into()).unwrap()
}

/// A body for the demo catalogue, without `trip_id` (the API assigns one).
fn valid_body() -> Value {
    let mut body = trip_request(TripId::new(), ROOMY_FLIGHT, HOTEL, GOOD_CARD);
    body.as_object_mut().unwrap().shift_remove("trip_id");
    body
}

/// Executions started and the stock: what a refused request must leave as it was.
async fn api_state(local: &Local) -> (Value, store::Inventory) {
    let (_, health) = send(
        &local.router,
        Request::get("/health").body(Body::empty()).unwrap(),
    )
    .await;
    (
        health["executions"].clone(),
        store::inventory(&local.context).await.unwrap(),
    )
}

/// `POST /trips` with `body`: a `202`, or a `4xx` `ErrorBody` after which nothing started and
/// nothing was booked.
async fn check_post(contract: &Contract, body: Vec<u8>, label: &str) -> Result<(), TestCaseError> {
    let local = local().await;
    let before = api_state(&local).await;
    let (status, answer) = send(&local.router, post(body, Some(&TripId::new().to_string()))).await;
    if status == StatusCode::ACCEPTED {
        return Ok(());
    }
    prop_assert!(status.is_client_error(), "{label}: {status} {answer}");
    contract
        .check_error(&answer)
        .map_err(|e| TestCaseError::fail(format!("{label}: {e}")))?;
    if status == StatusCode::BAD_REQUEST {
        let violations = answer["violations"].as_array().unwrap();
        prop_assert!(
            !violations.is_empty(),
            "{label}: no violation named: {answer}"
        );
    }
    prop_assert_eq!(api_state(&local).await, before, "{}: {}", label, answer);
    Ok(())
}

#[test]
fn post_trips_refuses_generated_json_with_a_4xx_that_names_the_problem() {
    let runtime = runtime();
    let contract = Contract::new();
    runner()
        .run(&any_json(), |body| {
            let label = format!("{body:.200}");
            runtime.block_on(check_post(&contract, body.to_string().into_bytes(), &label))
        })
        .unwrap();
}

#[test]
fn post_trips_refuses_mutated_bodies_with_a_4xx_that_names_the_problem() {
    let runtime = runtime();
    let contract = Contract::new();
    let valid = valid_body();
    runner()
        .run(&(any::<usize>(), mutation()), |(pick, mutation)| {
            let (body, at) = mutate(&valid, pick, &mutation);
            let label = format!("{mutation:.80?} at {at}");
            runtime.block_on(check_post(&contract, body.to_string().into_bytes(), &label))
        })
        .unwrap();
}

/// The bytes, not the value: cut short, a byte flipped, a key repeated, other text.
#[test]
fn post_trips_refuses_mangled_bytes_with_a_4xx_that_names_the_problem() {
    let runtime = runtime();
    let contract = Contract::new();
    let valid = valid_body().to_string().into_bytes();
    let length = valid.len();
    runner()
        .run(
            &prop_oneof![
                (0..length).prop_map({
                    let valid = valid.clone();
                    move |cut| valid[..cut].to_vec()
                }),
                (0..length, any::<u8>()).prop_map({
                    let valid = valid.clone();
                    move |(at, byte)| {
                        let mut bytes = valid.clone();
                        bytes[at] = byte;
                        bytes
                    }
                }),
                Just(
                    br#"{"flight":{"flight_number":"NH106","date":"2026-12-01","passengers":2},"flight":{}}"#
                        .to_vec()
                ),
                Just(vec![b'['; 100_000]),
                Just(format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES)).into_bytes()),
                prop::collection::vec(any::<u8>(), 0..64),
            ],
            |bytes| {
                let label = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
                runtime.block_on(check_post(&contract, bytes, &label))
            },
        )
        .unwrap();
}

/// `GET /trips/{id}` with any id, and the search with any query: `200`, or a `4xx` `ErrorBody`.
#[test]
fn gets_answer_any_id_and_any_query_with_a_declared_status_and_body() {
    let runtime = runtime();
    let contract = Contract::new();
    let local = runtime.block_on(local());
    let segment = "[^/?#]{1,80}";
    let pair = (
        prop_oneof![
            prop::sample::select(
                &[
                    "status",
                    "departure_from",
                    "departure_to",
                    "limit",
                    "page_token"
                ][..]
            )
            .prop_map(str::to_owned),
            ".{0,12}",
        ],
        ".{0,40}",
    );
    runner()
        .run(
            &prop_oneof![
                segment.prop_map(|id| format!("/trips/{}", utf8_percent(&id))),
                prop::collection::vec(pair, 0..6).prop_map(|pairs| {
                    let query: Vec<String> = pairs
                        .iter()
                        .map(|(k, v)| format!("{}={}", utf8_percent(k), utf8_percent(v)))
                        .collect();
                    format!("/trips?{}", query.join("&"))
                }),
                // Values far longer than any the API takes, in a parameter and in a path.
                (
                    prop::sample::select(
                        &["status", "departure_from", "limit", "page_token", "x"][..]
                    ),
                    1_000..30_000usize,
                )
                    .prop_map(|(name, length)| format!("/trips?{name}={}", "x".repeat(length))),
                (
                    prop::sample::select(&["/trips/", "/", "/trips/x/"][..]),
                    1_000..30_000usize
                )
                    .prop_map(|(prefix, length)| format!("{prefix}{}", "y".repeat(length))),
                // Escapes that decode to no text, stray `=` and `&`: the query's own syntax.
                prop::collection::vec(prop_oneof!["%[0-9A-F]{2}", "[a-z=&%+]{1,3}"], 0..12)
                    .prop_map(|parts| format!("/trips?{}", parts.concat())),
                prop::collection::vec(prop_oneof!["%[0-9A-F]{2}", "[a-z%]{1,3}"], 1..12)
                    .prop_map(|parts| format!("/trips/{}", parts.concat())),
            ],
            |uri| {
                let (status, body) = runtime.block_on(send(
                    &local.router,
                    Request::get(uri.as_str()).body(Body::empty()).unwrap(),
                ));
                if status == StatusCode::OK {
                    return Ok(());
                }
                prop_assert!(
                    [StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND].contains(&status),
                    "{uri}: {status} {body}"
                );
                contract
                    .check_error(&body)
                    .map_err(|e| TestCaseError::fail(format!("{uri}: {e}")))?;
                Ok(())
            },
        )
        .unwrap();
}

fn utf8_percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// --- one key, different bodies ---------------------------------------------------------------

/// Requests with one `Idempotency-Key` and different bodies, all at once while nothing has that
/// key yet: exactly one starts the trip (`202`), every other gets `409 trip_exists`, whatever
/// order they arrive in; after the execution has ended, every one of them gets `409` too. One
/// trip is booked.
#[test]
fn one_key_with_different_bodies_at_once_starts_one_trip_and_refuses_the_rest() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (context, search) = store::connect_with_search(&Store::InMemory).await.unwrap();
        let search = search.unwrap();
        store::seed(&context).await.unwrap();
        // Real time, with the hotel step slowed: every request arrives while the first runs.
        let saga = Saga::new(context.clone()).in_real_time(true);
        let faults = FaultPlan::parse_all(&["ReserveHotel=delay:500ms".to_owned()]).unwrap();
        let api = Api::new(saga, search.service().clone(), &Store::InMemory).with_faults(faults);
        let local = Local {
            router: api.router(),
            context,
            _search: search,
        };
        let before = store::inventory(&local.context).await.unwrap();
        let key = TripId::new().to_string();
        let bodies: Vec<Value> = (1..=4)
            .flat_map(|passengers| {
                (1..=4).map(move |guests| {
                    let mut body = valid_body();
                    body["flight"]["passengers"] = json!(passengers);
                    body["hotel"]["guests"] = json!(guests);
                    body
                })
            })
            .collect();
        let answers = futures::future::join_all(bodies.iter().map(|body| {
            let router = local.router.clone();
            let request = post(body.to_string(), Some(&key));
            tokio::spawn(async move { send(&router, request).await })
        }))
        .await;
        let answers: Vec<(StatusCode, Value)> = answers.into_iter().map(Result::unwrap).collect();
        let started: Vec<usize> = (0..answers.len())
            .filter(|&i| answers[i].0 == StatusCode::ACCEPTED)
            .collect();
        assert_eq!(started.len(), 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::ACCEPTED) {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["error"], "trip_exists", "{body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("started with another body"), "{message}");
            assert!(message.contains(&format!("/trips/{key}")), "{message}");
        }
        let winner = &bodies[started[0]];

        // Once it has ended: every body is refused, the one that started it too.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (_, view) = send(
                &local.router,
                Request::get(format!("/trips/{key}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            if view["execution"]["status"] != "RUNNING" {
                assert_eq!(view["status"], "CONFIRMED", "{view}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running: {view}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for body in &bodies {
            let (status, answer) = send(&local.router, post(body.to_string(), Some(&key))).await;
            assert_eq!(status, StatusCode::CONFLICT, "{answer}");
            assert_eq!(answer["error"], "trip_exists");
        }
        let after = store::inventory(&local.context).await.unwrap();
        let passengers = u32::try_from(winner["flight"]["passengers"].as_u64().unwrap()).unwrap();
        assert_eq!(
            before.roomy_flight_seats - after.roomy_flight_seats,
            passengers,
            "one trip, the one that started"
        );
    });
}

// --- requests the HTTP server cannot read ----------------------------------------------------

/// Sends `request` to `address` as raw bytes; the answer's status line, headers and body.
fn exchange(address: std::net::SocketAddr, request: &[u8]) -> (String, String, String) {
    use std::io::{Read, Write};

    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (
        status.to_owned(),
        headers.to_ascii_lowercase(),
        body.to_owned(),
    )
}

/// A URI too long, too many or too large headers, a request line that is not HTTP: the HTTP
/// server refuses them before any route, with this API's `ErrorBody` as every other error.
#[test]
fn requests_the_server_cannot_read_get_the_apis_error_body() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let address = runtime.block_on(async {
        let (context, search) = store::connect_with_search(&Store::InMemory).await.unwrap();
        let search = search.unwrap();
        let api = Api::new(
            Saga::new(context),
            search.service().clone(),
            &Store::InMemory,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _search = search;
            trip_local::api::serve(listener, &api, std::future::pending()).await
        });
        address
    });
    let contract = Contract::new();
    let long_uri = format!(
        "GET /trips?status={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "A".repeat(70_000)
    );
    let many_headers = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "x-h: v\r\n".repeat(150)
    );
    let large_header = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nx-big: {}\r\n\r\n",
        "v".repeat(500_000)
    );
    for (label, request, status, error) in [
        ("a 70 KB URI", long_uri.as_str(), "414", "uri_too_long"),
        (
            "150 headers",
            many_headers.as_str(),
            "431",
            "header_fields_too_large",
        ),
        (
            "a 500 KB header",
            large_header.as_str(),
            "431",
            "header_fields_too_large",
        ),
        (
            "not HTTP",
            "GET / HTTP/1.1\r\nbad header line\r\n\r\n",
            "400",
            "malformed_request",
        ),
    ] {
        let (line, headers, body) = exchange(address, request.as_bytes());
        assert!(
            line.starts_with(&format!("HTTP/1.1 {status}")),
            "{label}: {line}"
        );
        assert!(
            headers.contains("content-type: application/json"),
            "{label}: {headers}"
        );
        let body: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{label}: not JSON ({e}): {body:?}"));
        assert_eq!(body["error"], error, "{label}");
        contract.check_error(&body).unwrap();
    }
    // A request it can read still gets the router's answer on the same server.
    let (line, _, body) = exchange(
        address,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
}

// --- what can never be booked ----------------------------------------------------------------

/// A day before any the catalogue can sell (`CalendarDate::YEARS`) is refused at the door with
/// a violation at its field, by the local API and by API Gateway's request model alike, and
/// starts nothing; the first day that can be sold is accepted.
#[test]
fn a_day_that_can_never_be_on_sale_is_refused_at_the_door() {
    use trip_local::api::draft4::new_trip_draft4_schema;

    let runtime = runtime();
    let contract = Contract::new();
    let gateway_model = jsonschema::draft4::new(&new_trip_draft4_schema()).unwrap();
    for (pointer, value) in [
        ("/flight/date", "1000-06-01"),
        ("/flight/date", "1999-12-31"),
        ("/hotel/stay/start", "1999-12-31"),
        ("/hotel/stay/end", "1000-01-02"),
    ] {
        let mut body = valid_body();
        *pointer_mut(
            &mut body,
            &pointer[1..]
                .split('/')
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
        .unwrap() = json!(value);
        assert!(
            !gateway_model.is_valid(&body),
            "API Gateway's model accepts {value} at {pointer}"
        );
        let (status, answer) = runtime.block_on(async {
            let local = local().await;
            let before = api_state(&local).await;
            let answer = send(&local.router, post(body.to_string(), None)).await;
            assert_eq!(api_state(&local).await, before, "{answer:?}");
            answer
        });
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{value} at {pointer}: {answer}"
        );
        contract.check_error(&answer).unwrap();
        assert!(
            answer["violations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["pointer"] == pointer),
            "{value} at {pointer}: {answer}"
        );
    }
    let mut first = valid_body();
    first["flight"]["date"] = json!("2000-01-01");
    first["hotel"]["stay"] = json!({ "start": "2000-01-01", "end": "2000-01-03" });
    assert!(gateway_model.is_valid(&first));
    let (status, answer) = runtime.block_on(async {
        let local = local().await;
        send(&local.router, post(first.to_string(), None)).await
    });
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}
