//! Random fault schedules: many trips at once on scarce, shared inventory, each with a fault
//! drawn for every Task state and attempt, and the saga's invariants checked on the store after
//! every schedule.
//!
//! The matrix ([`crate::cases`]) says what each single fault must do; this says what no
//! combination of faults may ever do. A schedule draws, per trip, for every state of the saga
//! (actions, compensations, the pivot's guard and the escalation) and for each of its first
//! attempts, one of: success, a declared business error, a transient error, a lost response
//! after the effect, a timeout after the effect, or a delay (which, in virtual time, also lets
//! the other trips overtake: see `Functions::wait`), short or past the Tasks' timeouts; or one
//! fault on every attempt, a hang included. The trips run
//! side by side on one store seeded with a flight and a hotel of a few seats and rooms, so they
//! race for the last ones. Then, from the store:
//!
//! - CONFIRMED ⇒ its seats and rooms held, one payment captured for exactly their totals, and
//!   the execution succeeded;
//! - CANCELLED ⇒ nothing held, nothing captured;
//! - NEEDS_ATTENTION ⇒ its reason names everything still held;
//! - anything else (PENDING, CANCELLING, no trip) ⇒ the execution failed with
//!   `TripBooking.EscalationFailed`, the error the saga's alarm is on: someone is told;
//! - every execution ended; seats and rooms are conserved (the stock is the seeded one less what
//!   the reservations hold); each trip's outbox has one event per version, the last one its
//!   status.
//!
//! The run is deterministic for a seed on the in-memory store (one thread, virtual time), so a
//! failure prints the shrunk schedule and the one command that replays it. `make soak` runs
//! 100,000 schedules with a fresh seed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flight::ReservationStatus as SeatStatus;
use hotel::{HotelCode, ReservationStatus as RoomStatus};
use kernel::{CalendarDate, FlightNumber, InfraError, Money, TripId};
use payment::PaymentStatus;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use saga_runtime::FunctionKind;
use serde_json::json;
use trip::application::TripService;
use trip::domain::{Trip, TripStatus};
use trip::infrastructure::InMemoryTripRepository;
use trip_local::demo::{DECLINED_CARD, GOOD_CARD};
use trip_local::execution::{Report, Saga};
use trip_local::faults::{FaultPlan, Times};
use trip_local::store::{CHECK_OUT, DAY, NIGHTS};
use trip_saga::TripContext;
use trip_saga::trip_booking::SAGA;

use crate::run::StoreKind;

/// The flight and the hotel every trip of a schedule books.
const FLIGHT: &str = "NH106";
const HOTEL: &str = "TOKYO01";

/// Attempts a schedule decides one by one; later ones succeed. Compensations are tried 7 times,
/// so a state whose every attempt fails is drawn as "always" instead.
const ATTEMPTS_DRAWN: usize = 8;

/// The seed the test command uses: the same schedules on every run, so that a red build is
/// reproducible; `make soak` draws a fresh one.
const DEFAULT_SEED: u64 = 20_261_206;

/// The execution errors an operator is alerted on: compensations left undone (the trip says
/// what), or not even the escalation could mark the trip.
const ESCALATED: [&str; 2] = ["TripBooking.CompensationFailed", ESCALATION_FAILED];
const ESCALATION_FAILED: &str = "TripBooking.EscalationFailed";

/// One fault on one attempt of a state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Draw {
    /// A business error the step declares (actions only): caught, never retried.
    Business(String),
    /// A transient error: retried by the state's `Retry`.
    Transient(String),
    /// The handler ran; its response was lost.
    LoseResponse,
    /// The handler ran; then the time ran out.
    Timeout,
    /// The call took this many milliseconds longer.
    Delay(u64),
}

/// What goes wrong on one state of one trip.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StateFaults {
    /// Attempt `i + 1` gets `draws[i]`; `None` and later attempts succeed.
    Attempts(Vec<Option<Draw>>),
    /// Every attempt.
    Always(Draw),
}

/// One trip of a schedule.
#[derive(Debug, Clone)]
struct TripPlan {
    passengers: u8,
    guests: u8,
    declined: bool,
    faults: Vec<(String, StateFaults)>,
}

/// Trips booked side by side on a flight with `seats` seats and a hotel with `rooms` rooms a
/// night.
#[derive(Debug, Clone)]
struct Schedule {
    seats: u32,
    rooms: u32,
    trips: Vec<TripPlan>,
}

impl TripPlan {
    fn fault_plan(&self) -> FaultPlan {
        let mut plan = FaultPlan::none();
        for (state, faults) in &self.faults {
            match faults {
                StateFaults::Always(draw) => plan = with_draw(plan, state, draw, Times::Always),
                StateFaults::Attempts(draws) => {
                    for (attempt, draw) in (1..).zip(draws) {
                        if let Some(draw) = draw {
                            plan = with_draw(plan, state, draw, Times::Nth(attempt));
                        }
                    }
                }
            }
        }
        plan
    }

    fn request(&self, trip_id: TripId) -> serde_json::Value {
        json!({
            "trip_id": trip_id,
            "flight": { "flight_number": FLIGHT, "date": DAY, "passengers": self.passengers },
            "hotel": { "hotel": HOTEL, "stay": { "start": DAY, "end": CHECK_OUT }, "guests": self.guests },
            "payment": { "card": if self.declined { DECLINED_CARD } else { GOOD_CARD } }
        })
    }
}

fn with_draw(plan: FaultPlan, state: &str, draw: &Draw, times: Times) -> FaultPlan {
    match draw {
        Draw::Business(error) | Draw::Transient(error) => plan.fail(state, error, times),
        Draw::LoseResponse => plan.lose_response(state, times),
        Draw::Timeout => plan.time_out(state, times),
        Draw::Delay(ms) => plan.delay(state, Duration::from_millis(*ms), times),
    }
}

/// The schedule as `trip-local run` arguments, trip by trip.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} seat(s) on {FLIGHT}, {} room(s) a night at {HOTEL}; {} trip(s):",
            self.seats,
            self.rooms,
            self.trips.len()
        )?;
        for (i, trip) in self.trips.iter().enumerate() {
            write!(
                f,
                "  trip {i}: {} passenger(s), {} guest(s), card {}",
                trip.passengers,
                trip.guests,
                if trip.declined { "declined" } else { "good" }
            )?;
            for fault in trip.fault_plan().faults() {
                write!(f, " --fault {fault}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// What a schedule draws, from the saga's model.
// ---------------------------------------------------------------------------------------------

fn draw(business: Vec<String>, transient: Vec<String>) -> BoxedStrategy<Draw> {
    let transient = proptest::sample::select(transient).prop_map(Draw::Transient);
    let others = prop_oneof![
        10 => transient,
        7 => Just(Draw::LoseResponse),
        5 => Just(Draw::Timeout),
        // Up to 20 s: below every Task's 30 s timeout, so that a delay stays a delay.
        8 => (1u64..=200).prop_map(|tenths| Draw::Delay(tenths * 100)),
        // Past the Tasks' timeouts, up to past Lambda's 15 minutes and the 900 s the whole saga
        // was once given: the attempt times out (a Task with a timeout), or holds the execution
        // that long (an action without one).
        2 => long_delay(),
    ];
    if business.is_empty() {
        others.boxed()
    } else {
        prop_oneof![
            30 => others,
            4 => proptest::sample::select(business).prop_map(Draw::Business),
        ]
        .boxed()
    }
}

/// 25 s to 20 minutes, in whole seconds.
fn long_delay() -> impl Strategy<Value = Draw> {
    (25u64..=1_200).prop_map(|seconds| Draw::Delay(seconds * 1_000))
}

fn state_faults(business: Vec<String>, transient: Vec<String>) -> BoxedStrategy<StateFaults> {
    let draw = draw(business.clone(), transient.clone());
    let attempts =
        proptest::collection::vec(proptest::option::weighted(0.45, draw), 1..=ATTEMPTS_DRAWN)
            .prop_map(StateFaults::Attempts);
    // A state that fails on every attempt, with or without its effect: what exhausts retries
    // and sends the saga down its compensation and escalation paths.
    let mut broken = vec![
        (
            3,
            proptest::sample::select(transient)
                .prop_map(Draw::Transient)
                .boxed(),
        ),
        (1, Just(Draw::LoseResponse).boxed()),
        (1, Just(Draw::Timeout).boxed()),
        // Hung on every attempt: a compensation that times out each time must escalate.
        (1, long_delay().boxed()),
    ];
    if !business.is_empty() {
        broken.push((
            1,
            proptest::sample::select(business)
                .prop_map(Draw::Business)
                .boxed(),
        ));
    }
    let broken = proptest::strategy::Union::new_weighted(broken).prop_map(StateFaults::Always);
    prop_oneof![
        3 => attempts,
        1 => broken,
    ]
    .boxed()
}

/// The errors each state may be given: an action's declared ones; for compensations and the
/// escalation, which retry on any error, the store's.
fn errors_of(state: &str, kind: FunctionKind) -> (Vec<String>, Vec<String>) {
    let store_errors = || {
        ["StoreThrottled", "StoreUnavailable", "StoreFailed"]
            .map(String::from)
            .to_vec()
    };
    if kind != FunctionKind::Action {
        return (Vec::new(), store_errors());
    }
    let step = SAGA
        .steps
        .iter()
        .find(|s| s.state() == state)
        .expect("an action is a step's");
    let names = |errors: &[_]| errors.iter().map(ToString::to_string).collect();
    let mut transient: Vec<String> = names(&step.transient_errors);
    transient.push("Lambda.TooManyRequestsException".into());
    (names(&step.business_errors), transient)
}

fn trip_plan() -> impl Strategy<Value = TripPlan> {
    // Each state is faulty or not on its own; a faulty one shrinks to a fault-free one.
    let faults: Vec<BoxedStrategy<Option<(String, StateFaults)>>> = SAGA
        .functions()
        .map(|f| {
            let state = f.state.to_string();
            let (business, transient) = errors_of(&state, f.kind);
            proptest::option::weighted(0.3, state_faults(business, transient))
                .prop_map(move |faults| faults.map(|faults| (state.clone(), faults)))
                .boxed()
        })
        .collect();
    (1u8..=3, 1u8..=4, proptest::bool::weighted(0.15), faults).prop_map(
        |(passengers, guests, declined, faults)| TripPlan {
            passengers,
            guests,
            declined,
            faults: faults.into_iter().flatten().collect(),
        },
    )
}

fn schedule(max_trips: usize) -> impl Strategy<Value = Schedule> {
    (
        1u32..=8,
        1u32..=4,
        proptest::collection::vec(trip_plan(), 1..=max_trips),
    )
        .prop_map(|(seats, rooms, trips)| Schedule {
            seats,
            rooms,
            trips,
        })
}

// ---------------------------------------------------------------------------------------------
// Running a schedule.
// ---------------------------------------------------------------------------------------------

/// A fresh store and a way to read its trips' outbox.
struct Store {
    saga: Saga,
    outbox: Outbox,
}

enum Outbox {
    InMemory(Arc<InMemoryTripRepository>),
    DynamoDb(kernel::testing::TestTable),
}

impl Store {
    async fn fresh(kind: StoreKind) -> Self {
        match kind {
            StoreKind::InMemory => {
                let trips = Arc::new(InMemoryTripRepository::new());
                let context = TripContext {
                    trips: TripService::new(trips.clone()),
                    ..TripContext::in_memory()
                };
                Self {
                    saga: Saga::new(context),
                    outbox: Outbox::InMemory(trips),
                }
            }
            StoreKind::DynamoDb => {
                let table = kernel::testing::test_table().await;
                let context = TripContext::dynamodb(&table.client, &table.name);
                Self {
                    saga: Saga::new(context),
                    outbox: Outbox::DynamoDb(table),
                }
            }
        }
    }

    fn context(&self) -> &TripContext {
        self.saga.context()
    }

    /// The event types of `trip_id`'s outbox, oldest first.
    async fn events_of(&self, trip_id: TripId) -> Result<Vec<String>, InfraError> {
        match &self.outbox {
            Outbox::InMemory(trips) => Ok(trips
                .outbox()
                .into_iter()
                .filter(|e| e.aggregate_type == "Trip" && e.aggregate_id == trip_id.to_string())
                .map(|e| e.event_type)
                .collect()),
            Outbox::DynamoDb(table) => {
                let partition = kernel::dynamo::Key::outbox_partition("Trip", &trip_id.to_string());
                let pk = kernel::dynamo::table::TABLE.partition_key.name;
                let items = table
                    .client
                    .query()
                    .table_name(&table.name)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", pk)
                    .expression_attribute_values(
                        ":pk",
                        aws_sdk_dynamodb::types::AttributeValue::S(partition),
                    )
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| InfraError::from_sdk("Query", e))?
                    .items
                    .unwrap_or_default();
                Ok(items
                    .iter()
                    .filter_map(|item| item.get("event_type")?.as_s().ok().cloned())
                    .collect())
            }
        }
    }
}

fn flight_number() -> FlightNumber {
    FlightNumber::parse(FLIGHT).expect("a valid flight number")
}

fn hotel_code() -> HotelCode {
    HotelCode::parse(HOTEL).expect("a valid hotel code")
}

fn date(text: &str) -> CalendarDate {
    CalendarDate::parse(text).expect("a valid date")
}

async fn seed(context: &TripContext, schedule: &Schedule) -> Result<(), String> {
    let usd = |text: &str| Money::parse(text).expect("a valid amount");
    context
        .flights
        .add_flight(
            flight_number(),
            date(DAY),
            schedule.seats,
            usd("300.00 USD"),
        )
        .await
        .map_err(|e| format!("seeding the flight: {e:?}"))?;
    let nights = u32::try_from(NIGHTS.len()).expect("three nights");
    context
        .hotels
        .add_hotel(
            hotel_code(),
            date(DAY),
            nights,
            schedule.rooms,
            usd("150.00 USD"),
        )
        .await
        .map_err(|e| format!("seeding the hotel: {e:?}"))
}

/// How the trips of a run ended: `CONFIRMED, SUCCEEDED`, `CANCELLED, FAILED PaymentDeclined` …
type Tally = std::collections::BTreeMap<String, u64>;

/// Runs every trip of `schedule` side by side on a fresh store; the invariants it breaks.
async fn run_schedule(
    kind: StoreKind,
    schedule: &Schedule,
    seed_base: u64,
    tally: &mut Tally,
) -> Vec<String> {
    let store = Store::fresh(kind).await;
    if let Err(e) = seed(store.context(), schedule).await {
        return vec![e];
    }
    let trips: Vec<(TripId, &TripPlan)> = schedule
        .trips
        .iter()
        .map(|plan| (TripId::new(), plan))
        .collect();
    let runs = trips
        .iter()
        .zip(seed_base..)
        .map(|((trip_id, plan), seed)| {
            store.saga.run(
                plan.request(*trip_id),
                plan.fault_plan(),
                Arc::new(()),
                seed,
            )
        });
    let reports = futures::future::join_all(runs).await;
    match check(&store, schedule, &trips, reports, tally).await {
        Ok(violations) => violations,
        Err(e) => vec![format!("reading the store back: {e}")],
    }
}

/// What a trip holds in the store at the end.
struct Held {
    seats: Option<flight::SeatReservation>,
    rooms: Option<hotel::RoomReservation>,
    payment: Option<payment::PaymentReceipt>,
}

impl Held {
    fn seats(&self) -> Option<&flight::SeatReservation> {
        self.seats
            .as_ref()
            .filter(|s| s.status == SeatStatus::Reserved)
    }

    fn rooms(&self) -> Option<&hotel::RoomReservation> {
        self.rooms
            .as_ref()
            .filter(|r| r.status == RoomStatus::Reserved)
    }

    fn captured(&self) -> Option<&payment::PaymentReceipt> {
        self.payment
            .as_ref()
            .filter(|p| p.status == PaymentStatus::Captured)
    }

    /// What is held: `seats`, `rooms`, `payment`.
    fn named(&self) -> Vec<&'static str> {
        let mut held = Vec::new();
        if self.seats().is_some() {
            held.push("seats");
        }
        if self.rooms().is_some() {
            held.push("rooms");
        }
        if self.captured().is_some() {
            held.push("payment");
        }
        held
    }
}

/// How a reason names each thing held (`trip_saga::handlers::trip`'s `still held: …`).
const HELD_WORDS: [(&str, &str); 3] = [
    ("seats", "seat(s) reserved"),
    ("rooms", "room(s) a night reserved"),
    ("payment", "captured"),
];

/// The `still held: …` part of a reason, up to the next `; `.
fn still_held(reason: &str) -> Option<&str> {
    let (_, rest) = reason.split_once("still held: ")?;
    Some(rest.split_once("; ").map_or(rest, |(held, _)| held))
}

async fn check(
    store: &Store,
    schedule: &Schedule,
    trips: &[(TripId, &TripPlan)],
    reports: Vec<Result<Report, InfraError>>,
    tally: &mut Tally,
) -> Result<Vec<String>, InfraError> {
    let context = store.context();
    let mut violations = Vec::new();
    let mut seats_held = 0u32;
    let mut rooms_held = 0u32;
    for (i, ((trip_id, plan), report)) in trips.iter().zip(reports).enumerate() {
        let report = report?;
        let trip = context.trips.get(*trip_id).await?;
        let held = Held {
            seats: context.flights.reservation(*trip_id).await?,
            rooms: context.hotels.reservation(*trip_id).await?,
            payment: context.payments.payment(*trip_id).await?,
        };
        seats_held += held.seats().map_or(0, |s| u32::from(s.passengers.get()));
        rooms_held += held.rooms().map_or(0, |r| r.rooms);
        let status = trip.as_ref().map_or("no trip", |t| t.status.as_str());
        *tally
            .entry(format!("{status}, {}", outcome_class(&report)))
            .or_default() += 1;
        let mut problems = Vec::new();
        check_trip(&mut problems, plan, &report, trip.as_ref(), &held);
        if let Some(trip) = &trip {
            check_outbox(&mut problems, trip, &store.events_of(*trip_id).await?);
        }
        for problem in problems {
            violations.push(format!(
                "trip {i} ({trip_id}), execution {}: {problem}",
                report.outcome()
            ));
        }
    }
    let seats_left = context
        .flights
        .seats_left(&flight_number(), date(DAY))
        .await?;
    if seats_left != schedule.seats.checked_sub(seats_held) {
        violations.push(format!(
            "seats not conserved: {} seeded, {seats_held} held by reservations, {seats_left:?} left",
            schedule.seats
        ));
    }
    for night in NIGHTS {
        let left = context
            .hotels
            .rooms_left(&hotel_code(), date(night))
            .await?;
        if left != schedule.rooms.checked_sub(rooms_held) {
            violations.push(format!(
                "rooms on {night} not conserved: {} seeded, {rooms_held} held by reservations, \
                 {left:?} left",
                schedule.rooms
            ));
        }
    }
    Ok(violations)
}

/// The execution's outcome, with the error only when it names a path of the saga rather than
/// the step's own error.
fn outcome_class(report: &Report) -> String {
    match report.error() {
        Some(error) if error.starts_with("TripBooking.") => report.outcome(),
        Some(_) => format!("{} (a step's error)", report.status()),
        None => report.outcome(),
    }
}

/// The invariants of one trip: its status, what it holds, and how its execution ended.
fn check_trip(
    problems: &mut Vec<String>,
    plan: &TripPlan,
    report: &Report,
    trip: Option<&Trip>,
    held: &Held,
) {
    let status = trip.map(|t| t.status);
    let succeeded = report.status() == "SUCCEEDED";
    let confirmed = status == Some(TripStatus::Confirmed);
    if succeeded && !confirmed {
        problems.push(format!(
            "the execution succeeded but the trip is {status:?}"
        ));
    }
    // The one way to a confirmed trip without a successful execution: the pivot's guard could
    // not settle whether the confirmation took effect, so the saga escalated (and the trip,
    // confirmed after all, refused to be marked): a false alarm, never a silent one.
    if confirmed && !succeeded && !report.error().is_some_and(|e| ESCALATED.contains(&e)) {
        problems.push(format!(
            "the trip is CONFIRMED but the execution {} without escalating",
            report.outcome()
        ));
    }
    match (status, trip) {
        (Some(TripStatus::Confirmed), Some(trip)) => {
            let (Some(seats), Some(rooms), Some(payment)) =
                (held.seats(), held.rooms(), held.captured())
            else {
                problems.push(format!(
                    "CONFIRMED without everything held: seats {:?}, rooms {:?}, payment {:?}",
                    held.seats.as_ref().map(|s| s.status),
                    held.rooms.as_ref().map(|r| r.status),
                    held.payment.as_ref().map(|p| p.status)
                ));
                return;
            };
            if seats.passengers.get() != plan.passengers {
                problems.push(format!(
                    "CONFIRMED with {} seat(s) for {} passenger(s)",
                    seats.passengers.get(),
                    plan.passengers
                ));
            }
            let total = seats.total.checked_add(rooms.total).ok();
            if total != Some(payment.amount) {
                problems.push(format!(
                    "CONFIRMED with {} captured for a flight of {} and a hotel of {}",
                    payment.amount, seats.total, rooms.total
                ));
            }
            let charges = trip.charges.map(|c| (c.flight, c.hotel, c.paid));
            if charges != Some((seats.total, rooms.total, payment.amount)) {
                problems.push(format!("CONFIRMED with charges {:?}", trip.charges));
            }
        }
        (Some(TripStatus::Cancelled), _) => {
            let named = held.named();
            if !named.is_empty() {
                problems.push(format!("CANCELLED while still holding {named:?}"));
            }
        }
        (Some(TripStatus::NeedsAttention), Some(trip)) => {
            // Exactly what is held, no more and no less: an operator undoes what it says.
            let reason = trip.reason.as_deref().unwrap_or_default();
            let Some(named) = still_held(reason) else {
                problems.push(format!(
                    "NEEDS_ATTENTION without saying what is still held: {reason:?}"
                ));
                return;
            };
            let held = held.named();
            for (what, words) in HELD_WORDS {
                let is_held = held.contains(&what);
                if is_held != named.contains(words) {
                    problems.push(format!(
                        "NEEDS_ATTENTION {} {what}, but its reason says \"still held: {named}\"",
                        if is_held { "holding" } else { "not holding" }
                    ));
                }
            }
        }
        _ => {
            if report.error() != Some(ESCALATION_FAILED) {
                problems.push(format!(
                    "the trip is {status:?} (holding {:?}) and nobody was told: the execution \
                     did not fail with TripBooking.EscalationFailed",
                    held.named()
                ));
            }
        }
    }
}

/// One outbox event per version of the trip, the last one announcing its status.
fn check_outbox(problems: &mut Vec<String>, trip: &Trip, events: &[String]) {
    let version = trip.version.value();
    if u64::try_from(events.len()).ok() != Some(version) {
        problems.push(format!(
            "the trip is at version {version} but its outbox has {} event(s): {events:?}",
            events.len()
        ));
    }
    let expected = match trip.status {
        TripStatus::Pending => "TripRequested",
        TripStatus::Cancelling => "TripCancelling",
        TripStatus::Confirmed => "TripConfirmed",
        TripStatus::Cancelled => "TripCancelled",
        TripStatus::NeedsAttention => "TripNeedsAttention",
    };
    if events.last().map(String::as_str) != Some(expected) {
        problems.push(format!(
            "the trip is {:?} but its last outbox event is {:?}",
            trip.status,
            events.last()
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// The runner: how many, which seed, and what a failure prints.
// ---------------------------------------------------------------------------------------------

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    if name == SEED_VAR && text == "random" {
        return Some(rand_seed());
    }
    Some(
        text.parse()
            .unwrap_or_else(|_| panic!("{name}={text}: expected a number")),
    )
}

const CASES_VAR: &str = "FAULT_SCHEDULES";
const SEED_VAR: &str = "FAULT_SCHEDULES_SEED";

fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

/// Runs `default_cases` schedules (or `$FAULT_SCHEDULES`) of up to `max_trips` trips on `kind`,
/// seeded by `$FAULT_SCHEDULES_SEED` (a number, or `random`) or [`DEFAULT_SEED`].
pub(crate) fn run_schedules(kind: StoreKind, test: &str, default_cases: u32, max_trips: usize) {
    let cases = env_number(CASES_VAR).map_or(default_cases, |n| {
        u32::try_from(n).expect("at most 4 billion schedules")
    });
    assert!(cases > 0, "{CASES_VAR}=0 would check nothing");
    let seed = env_number(SEED_VAR).unwrap_or(DEFAULT_SEED);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        // Each schedule is a whole run; a few thousand shrinking steps is minutes at worst.
        max_shrink_iters: 4_096,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    // One thread: the trips interleave at every call and delay, in the same order on every run.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    // Each run (a schedule, or a step of shrinking one) gets seeds of its own for the retry
    // jitter of its executions.
    let runs = std::cell::Cell::new(0u64);
    let tally = std::cell::RefCell::new(Tally::new());
    let result = runner.run(&schedule(max_trips), |schedule| {
        runs.set(runs.get() + 1);
        let violations = runtime.block_on(run_schedule(
            kind,
            &schedule,
            runs.get() * 16,
            &mut tally.borrow_mut(),
        ));
        if violations.is_empty() {
            Ok(())
        } else {
            Err(TestCaseError::fail(violations.join("\n")))
        }
    });
    let runs = runs.get();
    let elapsed = started.elapsed();
    match result {
        Ok(()) => {
            println!(
                "{cases} fault schedules on {kind:?} (seed {seed}), no invariant broken: {runs} \
                 runs in {:.1} s, {:.0} schedules/s; how the trips ended:",
                elapsed.as_secs_f64(),
                f64::from(cases) / elapsed.as_secs_f64()
            );
            for (outcome, count) in tally.borrow().iter() {
                println!("  {count:>8}  {outcome}");
            }
        }
        Err(TestError::Fail(violations, schedule)) => panic!(
            "a fault schedule breaks the saga's invariants on {kind:?}:\n{violations}\n\n\
             the shrunk schedule:\n{schedule}\n\
             replay it: {SEED_VAR}={seed} {CASES_VAR}={cases} cargo test -p trip-local \
             --test fault_matrix {test} -- --exact --nocapture"
        ),
        Err(TestError::Abort(reason)) => panic!("the fault schedules stopped: {reason}"),
    }
}
