//! Executions per second of the whole local system: the generated trip saga on asl-executor,
//! the REAL handlers invoked in-process by `trip_local::functions::Functions`, the in-memory
//! store; one thread (a current-thread tokio runtime), virtual time.
//!
//! ```sh
//! cargo bench -p trip-local --bench system
//! ```
//!
//! Two paths: the happy one (the trip is confirmed) and a declined card (`PaymentDeclined`, then
//! every compensation). Measured two ways:
//! - `Saga::run`, what `trip-local` itself does per trip: a fresh `Functions` (call log), the
//!   execution with its default history (every event, no payloads), then the trip read back
//!   from the store. The
//!   handlers' own wall time, summed from the call log, says how much of it is theirs.
//! - the compiled machine run directly with `LambdaTasks` over a `Functions`, once per
//!   [`HistoryMode`], to show what recording history costs.
//!
//! Each measurement runs on a fresh in-memory store with a flight and a hotel stocked for all
//! its executions, so the happy path never sells out and no measurement inherits a store the
//! ones before it have grown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use asl_executor::{ExecutionOptions, HistoryMode, LambdaTasks, StateMachine, Status};
use hotel::HotelCode;
use kernel::{CalendarDate, FlightNumber, Money, TripId};
use saga_runtime::local::InProcess;
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use trip_local::execution::Saga;
use trip_local::faults::FaultPlan;
use trip_local::functions::Functions;
use trip_local::store::DAY;
use trip_saga::TripContext;
use trip_saga::trip_booking::{ASL, NAME};

/// Executions measured per path and variant.
const COUNT: u32 = 20_000;
/// Executions run first, unmeasured.
const WARMUP: u32 = 2_000;

/// The benchmark's own flight and hotel, stocked for the whole run.
const FLIGHT: &str = "NH900";
const HOTEL: &str = "OSAKA01";

/// A fresh in-memory store with enough seats and rooms for every execution of one measurement
/// (two passengers and at most two rooms each), with margin. Each measurement gets its own, so
/// that none runs on a store the ones before it have grown.
async fn stocked_store() -> TripContext {
    let context = TripContext::in_memory();
    let trips = COUNT + WARMUP + 1_000;
    let day = CalendarDate::parse(DAY).expect("valid date");
    let usd = |text: &str| Money::parse(text).expect("valid price");
    context
        .flights
        .add_flight(
            FlightNumber::parse(FLIGHT).expect("valid flight"),
            day,
            2 * trips,
            usd("300.00 USD"),
        )
        .await
        .expect("the flight is on sale");
    context
        .hotels
        .add_hotel(
            HotelCode::parse(HOTEL).expect("valid hotel code"),
            day,
            10,
            2 * trips,
            usd("150.00 USD"),
        )
        .await
        .expect("the hotel is on sale");
    context
}

fn card(failing: bool) -> &'static str {
    if failing { DECLINED_CARD } else { GOOD_CARD }
}

fn check(status: Status, error: Option<&str>, failing: bool) {
    if failing {
        assert_eq!((status, error), (Status::Failed, Some("PaymentDeclined")));
    } else {
        assert_eq!((status, error), (Status::Succeeded, None));
    }
}

/// `Saga::run` per trip: executions/s and the share of wall time spent inside the handlers.
async fn measure_saga(saga: &Saga, failing: bool) -> (f64, f64) {
    let run = async || {
        let request = trip_request(TripId::new(), FLIGHT, HOTEL, card(failing));
        let report = saga
            .run(request, FaultPlan::none(), Arc::new(()), 0)
            .await
            .expect("the trip is read back");
        check(report.execution.status, report.error(), failing);
        report.calls.iter().map(|c| c.wall).sum::<Duration>()
    };
    for _ in 0..WARMUP {
        run().await;
    }
    let mut in_handlers = Duration::ZERO;
    let start = Instant::now();
    for _ in 0..COUNT {
        in_handlers += run().await;
    }
    let elapsed = start.elapsed();
    (
        f64::from(COUNT) / elapsed.as_secs_f64(),
        in_handlers.as_secs_f64() / elapsed.as_secs_f64(),
    )
}

/// The compiled machine over the in-process invoker, with `history`: executions/s.
async fn measure_direct(machine: &StateMachine, failing: bool, history: HistoryMode) -> f64 {
    let in_process = Arc::new(InProcess::new(stocked_store().await));
    let run = async || {
        let trip_id = TripId::new();
        let functions = Functions::new(Arc::clone(&in_process));
        let tasks = LambdaTasks::new(&functions);
        let options = ExecutionOptions {
            state_machine_name: NAME.into(),
            // One execution name per trip keeps the idempotency keys apart, as `Saga::run` does.
            execution_name: format!("trip-{trip_id}"),
            history,
            ..ExecutionOptions::default()
        };
        let request = trip_request(trip_id, FLIGHT, HOTEL, card(failing));
        let execution = machine.run(&tasks, request, &options).await;
        let error = execution.error.as_ref().map(|e| e.error.as_str());
        check(execution.status, error, failing);
    };
    for _ in 0..WARMUP {
        run().await;
    }
    let start = Instant::now();
    for _ in 0..COUNT {
        run().await;
    }
    f64::from(COUNT) / start.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let machine = StateMachine::from_json(ASL).expect("the generated ASL compiles");

        println!(
            "trip saga, real handlers, in-memory store, one thread (current-thread tokio), \
             executions/s ({COUNT} after {WARMUP} warm-up each)"
        );
        println!(
            "{:<8} | {:>10} | {:>14} | {:>11} | {:>15} | {:>11}",
            "path", "Saga::run", "in handlers", "direct Full", "direct NoPayloads", "direct Off"
        );
        for (name, failing) in [("happy", false), ("failure", true)] {
            let saga = Saga::new(stocked_store().await);
            let (saga_rate, handler_share) = measure_saga(&saga, failing).await;
            let full = measure_direct(&machine, failing, HistoryMode::Full).await;
            let without = measure_direct(&machine, failing, HistoryMode::WithoutPayloads).await;
            let off = measure_direct(&machine, failing, HistoryMode::Off).await;
            println!(
                "{:<8} | {:>10.0} | {:>13.0}% | {:>11.0} | {:>17.0} | {:>11.0}",
                name,
                saga_rate,
                handler_share * 100.0,
                full,
                without,
                off
            );
        }
    });
}
