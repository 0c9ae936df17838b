//! The demo: seven trips on one store, each taking a different path through the saga, printed
//! as they run, then a summary and an inventory check read back from the store.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use kernel::{CalendarDate, InfraError, TripId};
use search::application::{Page, SearchService};
use search::domain::SearchRequest;
use serde_json::{Value, json};
use trip::domain::TripStatus;

use crate::execution::{Report, Saga};
use crate::faults::{FaultPlan, Times};
use crate::functions::{Call, Observer, Outcome};
use crate::store::{
    CHECK_OUT, DAY, FULL_HOTEL, HOTEL, Holdings, Inventory, NIGHTS, ONE_SEAT_FLIGHT, ROOMY_FLIGHT,
    holdings, inventory, seed,
};

/// A card the demo payment provider accepts.
pub const GOOD_CARD: &str = "tok_visa_4242";
/// A card the demo payment provider declines (any `tok_decline_…` token).
pub const DECLINED_CARD: &str = "tok_decline_insufficient_funds";

/// One trip of the demo: what is asked for and what goes wrong around the handlers.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `a`, `b` …: the order of the demo.
    pub label: char,
    /// What it shows, e.g. `sold-out flight`.
    pub name: &'static str,
    /// The flight asked for.
    pub flight: &'static str,
    /// The hotel asked for.
    pub hotel: &'static str,
    /// The card token.
    pub card: &'static str,
    /// Faults injected around the handlers.
    pub faults: FaultPlan,
}

impl Scenario {
    /// `(a) happy path`.
    pub fn title(&self) -> String {
        format!("({}) {}", self.label, self.name)
    }

    /// The execution input for `trip_id`: two passengers, three nights, two guests.
    pub fn request(&self, trip_id: TripId) -> Value {
        trip_request(trip_id, self.flight, self.hotel, self.card)
    }
}

/// A trip request on the demo catalogue, on [`DAY`].
pub fn trip_request(trip_id: TripId, flight: &str, hotel: &str, card: &str) -> Value {
    json!({
        "trip_id": trip_id,
        "flight": { "flight_number": flight, "date": DAY, "passengers": 2 },
        "hotel": { "hotel": hotel, "stay": { "start": DAY, "end": CHECK_OUT }, "guests": 2 },
        "payment": { "card": card }
    })
}

/// A trip request leaving `days` days after [`DAY`], for three nights.
pub fn trip_request_after(
    trip_id: TripId,
    days: usize,
    flight: &str,
    hotel: &str,
    card: &str,
) -> Value {
    let day = |n: usize| {
        std::iter::successors(Some(CalendarDate::parse(DAY).expect("a valid date")), |d| {
            d.next_day()
        })
        .nth(n)
        .expect("the demo days are in range")
        .to_string()
    };
    json!({
        "trip_id": trip_id,
        "flight": { "flight_number": flight, "date": day(days), "passengers": 2 },
        "hotel": { "hotel": hotel, "stay": { "start": day(days), "end": day(days + 3) }, "guests": 2 },
        "payment": { "card": card }
    })
}

/// The rest of the week, booked after the scenarios so that a search by departure date has
/// something to sort and to leave out: (days after [`DAY`], flight, card).
pub const WEEK: [(usize, &str, &str); 6] = [
    (1, ROOMY_FLIGHT, GOOD_CARD),
    (2, ROOMY_FLIGHT, GOOD_CARD),
    (3, ROOMY_FLIGHT, DECLINED_CARD),
    (4, ROOMY_FLIGHT, GOOD_CARD),
    (6, ONE_SEAT_FLIGHT, GOOD_CARD),
    (9, ROOMY_FLIGHT, GOOD_CARD),
];

/// Books [`WEEK`] at [`HOTEL`], one line per trip; the reports, in order.
///
/// # Errors
/// The store's failure.
pub async fn book_week(saga: &Saga, console: &Console) -> Result<Vec<Report>, InfraError> {
    let mut reports = Vec::new();
    for (n, (days, flight, card)) in WEEK.into_iter().enumerate() {
        let request = trip_request_after(TripId::new(), days, flight, HOTEL, card);
        let date = request["flight"]["date"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let seed = u64::try_from(n).unwrap_or_default();
        let report = saga
            .run(request, FaultPlan::none(), Arc::new(()), seed)
            .await?;
        let status = report
            .trip
            .as_ref()
            .map_or_else(|| "not recorded".to_owned(), |t| t.status.to_string());
        console.line(&format!(
            "    {}  {date}  {flight} + {HOTEL}, card {card}: {status}",
            short_id(report.trip_id)
        ));
        reports.push(report);
    }
    Ok(reports)
}

/// What the demo's search found, against what it should have.
#[derive(Debug, Clone)]
pub struct SearchCheck {
    /// The pages, in order.
    pub pages: Vec<Page>,
    /// The confirmed trips departing in the range, as this run's executions left them.
    pub expected: Vec<TripId>,
    /// The first departure day searched.
    pub from: CalendarDate,
    /// The last.
    pub to: CalendarDate,
}

impl SearchCheck {
    /// Every expected trip is found, no trip twice, every one confirmed and in the range, in
    /// departure order. A store that outlives the run (a DynamoDB table) also holds earlier
    /// runs' trips: they are found too, and are not this run's to check further.
    pub fn holds(&self) -> bool {
        let found: Vec<_> = self.pages.iter().flat_map(|p| &p.trips).collect();
        let sorted = found
            .windows(2)
            .all(|w| w[0].departure_date() <= w[1].departure_date());
        let in_range = found.iter().all(|t| {
            t.status == TripStatus::Confirmed
                && t.departure_date()
                    .is_some_and(|d| d >= self.from && d <= self.to)
        });
        let mut ids: Vec<TripId> = found.iter().map(|t| t.trip_id).collect();
        ids.sort_unstable();
        let unique = ids.windows(2).all(|w| w[0] != w[1]);
        let all_expected = self.expected.iter().all(|id| ids.binary_search(id).is_ok());
        sorted && in_range && unique && all_expected
    }
}

/// The confirmed trips leaving in the first week ([`DAY`] and the six days after), read
/// `limit` at a time; `reports` are every execution of the demo, to check the answer against.
///
/// # Errors
/// The search table's failure.
pub async fn search_week(
    search: &SearchService,
    reports: &[&Report],
    limit: u16,
) -> Result<SearchCheck, InfraError> {
    let first = CalendarDate::parse(DAY).expect("a valid date");
    let last = std::iter::successors(Some(first), |d| d.next_day())
        .nth(6)
        .expect("in range");
    let expected = reports
        .iter()
        .filter_map(|r| r.trip.as_ref())
        .filter(|t| t.status == TripStatus::Confirmed)
        .filter(|t| {
            t.request
                .as_ref()
                .is_some_and(|r| r.flight.date >= first && r.flight.date <= last)
        })
        .map(|t| t.trip_id)
        .collect();
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (from, to, limit) = (first.to_string(), last.to_string(), limit.to_string());
        let mut pairs = vec![
            ("status", "CONFIRMED"),
            ("departure_from", from.as_str()),
            ("departure_to", to.as_str()),
            ("limit", limit.as_str()),
        ];
        if let Some(token) = &token {
            pairs.push(("page_token", token.as_str()));
        }
        let request = SearchRequest::from_pairs(pairs).expect("the demo's search is valid");
        let page = search.search(&request).await?;
        token.clone_from(&page.next_page_token);
        pages.push(page);
        if token.is_none() {
            return Ok(SearchCheck {
                pages,
                expected,
                from: first,
                to: last,
            });
        }
    }
}

/// The search's pages as lines.
pub fn search_lines(check: &SearchCheck) -> Vec<String> {
    let mut lines = Vec::new();
    for (n, page) in check.pages.iter().enumerate() {
        lines.push(format!("  page {}:", n + 1));
        for trip in &page.trips {
            let flight = trip.flight.as_ref();
            let hotel = trip.hotel.as_ref();
            lines.push(format!(
                "    {}  {}  {} + {}  paid {}",
                short_id(trip.trip_id),
                flight.map_or_else(String::new, |f| f.departure_date.to_string()),
                flight.map_or_else(String::new, |f| f.flight_number.to_string()),
                hotel.map_or_else(String::new, |h| h.hotel.to_string()),
                trip.charges
                    .map_or_else(|| "-".to_owned(), |c| c.paid.to_string()),
            ));
        }
        if page.trips.is_empty() {
            lines.push("    (none)".to_owned());
        }
    }
    lines.push(format!(
        "  {} trip(s) in {} page(s); this run confirmed {} in the range, each found once: {}",
        check.pages.iter().map(|p| p.trips.len()).sum::<usize>(),
        check.pages.len(),
        check.expected.len(),
        if check.holds() { "ok" } else { "MISMATCH" }
    ));
    lines
}

/// The demo's scenarios, in order.
pub fn scenarios() -> Vec<Scenario> {
    let trip = |label, name, flight, hotel, card, faults| Scenario {
        label,
        name,
        flight,
        hotel,
        card,
        faults,
    };
    vec![
        trip(
            'a',
            "happy path",
            ROOMY_FLIGHT,
            HOTEL,
            GOOD_CARD,
            FaultPlan::none(),
        ),
        trip(
            'b',
            "sold-out flight",
            ONE_SEAT_FLIGHT,
            HOTEL,
            GOOD_CARD,
            FaultPlan::none(),
        ),
        trip(
            'c',
            "no rooms",
            ROOMY_FLIGHT,
            FULL_HOTEL,
            GOOD_CARD,
            FaultPlan::none(),
        ),
        trip(
            'd',
            "declined payment",
            ROOMY_FLIGHT,
            HOTEL,
            DECLINED_CARD,
            FaultPlan::none(),
        ),
        trip(
            'e',
            "transient errors retried",
            ROOMY_FLIGHT,
            HOTEL,
            GOOD_CARD,
            FaultPlan::none().fail("ReserveHotel", "StoreThrottled", Times::First(2)),
        ),
        trip(
            'f',
            "lost response, idempotent retry",
            ROOMY_FLIGHT,
            HOTEL,
            GOOD_CARD,
            FaultPlan::none().lose_response("ReserveFlight", Times::First(1)),
        ),
        trip(
            'g',
            "compensation escalated",
            ROOMY_FLIGHT,
            HOTEL,
            DECLINED_CARD,
            FaultPlan::none().fail("CancelHotel", "StoreUnavailable", Times::Always),
        ),
    ]
}

/// Prints each invocation as it returns, one aligned line per state and attempt.
pub struct Console {
    out: Mutex<Box<dyn Write + Send>>,
}

impl Console {
    /// Printing to standard output.
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }

    /// Printing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    /// Prints `text` and a new line, flushed, so that the path shows as it happens.
    pub fn line(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        // A closed pipe (`trip-local | head`) is no reason to stop the saga half-way.
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

impl Observer for Console {
    fn invoked(&self, call: &Call) {
        self.line(&call_line(call));
    }
}

const STATE_WIDTH: usize = 15;
const RESULT_WIDTH: usize = 46;

/// The header of the live path.
pub fn path_header() -> String {
    format!(
        "    {:<STATE_WIDTH$} {:<9} {:<RESULT_WIDTH$} {:>9} {:>9}",
        "state", "attempt", "result", "at", "took"
    )
}

/// `    ReserveHotel    2 retry   ok     +1637ms    38µs`: state, attempt, result, when on the
/// execution clock, wall time taken.
pub fn call_line(call: &Call) -> String {
    let attempt = if call.attempt > 1 {
        format!("{} retry", call.attempt)
    } else {
        call.attempt.to_string()
    };
    let mut result = match &call.outcome {
        Outcome::Succeeded => "ok".to_owned(),
        Outcome::Failed { error, .. } => format!("✗ {error}"),
    };
    if let Some(injected) = &call.injected {
        let _ = write!(result, " ({injected})");
    }
    format!(
        "    {:<STATE_WIDTH$} {:<9} {:<RESULT_WIDTH$} {:>9} {:>9}",
        call.state,
        attempt,
        result,
        format!("+{}ms", call.at_ms),
        wall_time(call.wall)
    )
}

/// `38µs` for a handler, `1002ms` for one slowed down for real: short enough for the column.
fn wall_time(wall: std::time::Duration) -> String {
    if wall.as_millis() < 10 {
        format!("{}µs", wall.as_micros())
    } else {
        format!("{}ms", wall.as_millis())
    }
}

/// What one scenario did.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The scenario.
    pub scenario: Scenario,
    /// The execution's report.
    pub report: Report,
    /// What the trip still holds in the store.
    pub holdings: Holdings,
}

/// Runs one scenario on a fresh trip id, telling `observer` of every invocation.
///
/// # Errors
/// The store's failure when reading the trip back.
pub async fn run_scenario(
    saga: &Saga,
    scenario: &Scenario,
    observer: Arc<dyn Observer>,
) -> Result<ScenarioRun, InfraError> {
    let trip_id = TripId::new();
    // The label as seed: each scenario's retry jitter is the same on every run.
    let seed = u64::from(scenario.label);
    let report = saga
        .run(
            scenario.request(trip_id),
            scenario.faults.clone(),
            observer,
            seed,
        )
        .await?;
    let holdings = holdings(saga.context(), trip_id).await?;
    Ok(ScenarioRun {
        scenario: scenario.clone(),
        report,
        holdings,
    })
}

/// The whole demo's outcome.
#[derive(Debug, Clone)]
pub struct DemoRun {
    /// Every scenario, in order.
    pub runs: Vec<ScenarioRun>,
    /// The catalogue before the first trip.
    pub before: Inventory,
    /// The catalogue after the last.
    pub after: Inventory,
}

/// Seeds the catalogue and runs every scenario on `saga`'s store, printing to `console`.
///
/// # Errors
/// The store's failure (seeding, reading back).
pub async fn run_demo(saga: &Saga, console: &Arc<Console>) -> Result<DemoRun, InfraError> {
    seed(saga.context()).await?;
    let before = inventory(saga.context()).await?;
    let mut runs = Vec::new();
    for scenario in scenarios() {
        console.line("");
        console.line(&format!(
            "{} — {} + {}, card {}, faults: {}",
            scenario.title(),
            scenario.flight,
            scenario.hotel,
            scenario.card,
            scenario.faults
        ));
        console.line(&path_header());
        let observer: Arc<dyn Observer> = console.clone();
        let run = run_scenario(saga, &scenario, observer).await?;
        for line in outcome_lines(&run.report) {
            console.line(&line);
        }
        runs.push(run);
    }
    let after = inventory(saga.context()).await?;
    Ok(DemoRun {
        runs,
        before,
        after,
    })
}

/// The lines printed after an execution: path, result, the trip as stored.
pub fn outcome_lines(report: &Report) -> Vec<String> {
    let mut lines = vec![format!(
        "    path:   {}",
        report.states_visited().join(" → ")
    )];
    lines.push(format!(
        "    result: {} after {}ms on the execution clock, {}µs wall",
        report.outcome(),
        report.clock_ms(),
        report.wall.as_micros()
    ));
    let trip = match &report.trip {
        Some(trip) => match &trip.reason {
            Some(reason) => format!("{} — {reason}", trip.status),
            None => trip.status.to_string(),
        },
        None => "not recorded".to_owned(),
    };
    lines.push(format!("    trip {}: {trip}", short_id(report.trip_id)));
    lines
}

/// The last eight hex digits of a trip id: enough to tell the demo's trips apart (the first
/// ones are a timestamp, the same for trips made in the same millisecond).
pub fn short_id(trip_id: TripId) -> String {
    let id = trip_id.to_string();
    id[id.len().saturating_sub(8)..].to_owned()
}

/// The summary table: one row per scenario.
pub fn summary(runs: &[ScenarioRun]) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<8}  {:<36}  {:<40}  {:>6}  {:>7}  {:>10}  {:>8}",
        "trip", "scenario", "outcome", "states", "retries", "virtual ms", "wall µs"
    )];
    for run in runs {
        let report = &run.report;
        lines.push(format!(
            "{:<8}  {:<36}  {:<40}  {:>6}  {:>7}  {:>10}  {:>8}",
            short_id(report.trip_id),
            run.scenario.title(),
            report.outcome(),
            report.states_visited().len(),
            report.retries(),
            report.clock_ms(),
            report.wall.as_micros()
        ));
    }
    lines
}

/// One line of the inventory check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockCheck {
    /// e.g. `NH106 2026-12-01 seats`.
    pub resource: String,
    /// Stock before the demo.
    pub before: u32,
    /// Stock after it.
    pub after: u32,
    /// Held by confirmed trips, as read from their reservations.
    pub confirmed: u32,
    /// Held by trips whose compensation was left to an operator.
    pub needs_attention: u32,
    /// Held by trips that were cancelled: must be 0.
    pub cancelled: u32,
}

impl StockCheck {
    /// Every unit that left the stock is held by a trip that is confirmed or awaits an
    /// operator, and cancelled trips hold nothing: compensations gave back what they took.
    pub fn balances(&self) -> bool {
        self.before.checked_sub(self.after) == Some(self.confirmed + self.needs_attention)
            && self.cancelled == 0
    }
}

/// Compares the catalogue before and after with what each trip still holds.
pub fn inventory_check(demo: &DemoRun) -> Vec<StockCheck> {
    let held = |pick: &dyn Fn(&ScenarioRun) -> u32, status: TripStatus| -> u32 {
        demo.runs
            .iter()
            .filter(|r| r.report.trip.as_ref().map(|t| t.status) == Some(status))
            .map(pick)
            .sum()
    };
    let check = |resource: String, before: u32, after: u32, pick: &dyn Fn(&ScenarioRun) -> u32| {
        StockCheck {
            resource,
            before,
            after,
            confirmed: held(pick, TripStatus::Confirmed),
            needs_attention: held(pick, TripStatus::NeedsAttention),
            cancelled: held(pick, TripStatus::Cancelled),
        }
    };
    let seats_on = |flight: &'static str| {
        move |r: &ScenarioRun| {
            if r.scenario.flight == flight {
                r.holdings.seats
            } else {
                0
            }
        }
    };
    let rooms_at = |hotel: &'static str| {
        move |r: &ScenarioRun| {
            if r.scenario.hotel == hotel {
                r.holdings.rooms
            } else {
                0
            }
        }
    };
    let (b, a) = (&demo.before, &demo.after);
    let mut checks = vec![
        check(
            format!("{ROOMY_FLIGHT} {DAY} seats"),
            b.roomy_flight_seats,
            a.roomy_flight_seats,
            &seats_on(ROOMY_FLIGHT),
        ),
        check(
            format!("{ONE_SEAT_FLIGHT} {DAY} seats"),
            b.one_seat_flight_seats,
            a.one_seat_flight_seats,
            &seats_on(ONE_SEAT_FLIGHT),
        ),
    ];
    for (i, night) in NIGHTS.iter().enumerate() {
        checks.push(check(
            format!("{HOTEL} rooms, night of {night}"),
            b.hotel_rooms[i],
            a.hotel_rooms[i],
            &rooms_at(HOTEL),
        ));
    }
    for (i, night) in NIGHTS.iter().enumerate() {
        checks.push(check(
            format!("{FULL_HOTEL} rooms, night of {night}"),
            b.full_hotel_rooms[i],
            a.full_hotel_rooms[i],
            &rooms_at(FULL_HOTEL),
        ));
    }
    checks
}

/// The inventory check as a table.
pub fn inventory_lines(checks: &[StockCheck]) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<34}  {:>6}  {:>6}  {:>9}  {:>15}  {:>9}  {}",
        "stock", "before", "after", "confirmed", "needs attention", "cancelled", "check"
    )];
    for c in checks {
        lines.push(format!(
            "{:<34}  {:>6}  {:>6}  {:>9}  {:>15}  {:>9}  {}",
            c.resource,
            c.before,
            c.after,
            c.confirmed,
            c.needs_attention,
            c.cancelled,
            if c.balances() { "ok" } else { "MISMATCH" }
        ));
    }
    lines
}
