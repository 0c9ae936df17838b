//! The `--fault` syntax: what it accepts, and what it says about what it does not.

use std::time::Duration;

use trip_local::faults::{Fault, FaultKind, FaultPlan, LOST_RESPONSE_ERROR, Times};

fn parse(text: &str) -> Fault {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn problem(text: &str) -> String {
    let error = text.parse::<Fault>().expect_err(text);
    assert_eq!(error.input, text);
    error.to_string()
}

#[test]
fn an_error_with_a_count() {
    let fault = parse("ReserveHotel=StoreThrottled:2");
    assert_eq!(fault.state, "ReserveHotel");
    assert_eq!(fault.times, Times::First(2));
    assert!(matches!(&fault.kind, FaultKind::Fail { error, .. } if error == "StoreThrottled"));
}

#[test]
fn an_error_always_with_a_message_that_may_hold_colons() {
    let fault = parse("CancelHotel=StoreUnavailable:always:table down: try later");
    assert_eq!(fault.times, Times::Always);
    assert_eq!(
        fault.kind,
        FaultKind::Fail {
            error: "StoreUnavailable".into(),
            message: "table down: try later".into()
        }
    );
}

#[test]
fn an_error_without_a_count_happens_once() {
    let fault = parse("ProcessPayment=PaymentDeclined");
    assert_eq!(fault.times, Times::First(1));
    let fault = parse("CreateTrip=Lambda.TooManyRequestsException:3");
    assert!(
        matches!(&fault.kind, FaultKind::Fail { error, .. } if error == "Lambda.TooManyRequestsException")
    );
}

#[test]
fn lost_responses_and_delays() {
    assert_eq!(
        parse("ReserveFlight=lose-response:1").kind,
        FaultKind::LoseResponse
    );
    assert_eq!(parse("ReserveFlight=lose-response").times, Times::First(1));
    let delay = parse("ProcessPayment=delay:5s");
    assert_eq!(delay.kind, FaultKind::Delay(Duration::from_secs(5)));
    assert_eq!(delay.times, Times::Always);
    assert_eq!(
        parse("ProcessPayment=delay:250ms:2"),
        Fault {
            state: "ProcessPayment".into(),
            kind: FaultKind::Delay(Duration::from_millis(250)),
            times: Times::First(2)
        }
    );
    assert_eq!(
        parse("ConfirmTrip=delay:2m").kind,
        FaultKind::Delay(Duration::from_mins(2))
    );
}

#[test]
fn mistakes_are_named_with_the_fix() {
    assert!(problem("ReserveHotel").contains("expected STATE=FAULT"));
    let unknown = problem("ReserveHotl=StoreThrottled");
    assert!(unknown.contains("unknown state `ReserveHotl`"), "{unknown}");
    assert!(
        unknown.contains("ReserveHotel"),
        "lists the states: {unknown}"
    );
    assert!(problem("ReserveHotel=").contains("missing fault"));
    assert!(problem("ReserveHotel=Store Throttled").contains("is not an error name"));
    assert!(problem("ReserveHotel=StoreThrottled:0").contains("at least 1"));
    assert!(problem("ReserveHotel=StoreThrottled:twice").contains("`twice` is not a count"));
    assert!(problem("ReserveHotel=delay").contains("delay needs a duration"));
    assert!(problem("ReserveHotel=delay:5 hours").contains("is not a duration"));
    assert!(problem("ReserveHotel=delay:5").contains("is not a duration"));
    assert!(problem("ReserveHotel=lose-response:1:extra").contains("at most a count"));
    assert!(problem("ReserveHotel=lose-response:never").contains("not a count"));
}

#[test]
fn a_plan_decides_each_attempt() {
    let plan = FaultPlan::parse_all(&[
        "ReserveHotel=StoreThrottled:2",
        "ReserveHotel=delay:1s",
        "ReserveFlight=lose-response:1",
    ])
    .unwrap();
    let first = plan.injection("ReserveHotel", 1);
    assert_eq!(
        first.fail.as_ref().map(|(e, _)| e.as_str()),
        Some("StoreThrottled")
    );
    assert_eq!(first.delay, Duration::from_secs(1));
    assert!(plan.injection("ReserveHotel", 2).fail.is_some());
    let third = plan.injection("ReserveHotel", 3);
    assert!(third.fail.is_none() && !third.lose_response);
    assert_eq!(
        third.delay,
        Duration::from_secs(1),
        "a delay is `always` by default"
    );
    assert!(plan.injection("ReserveFlight", 1).lose_response);
    assert!(plan.injection("ReserveFlight", 2).is_empty());
    assert!(plan.injection("ProcessPayment", 1).is_empty());
    assert_eq!(LOST_RESPONSE_ERROR, "Lambda.ServiceException");
}

#[test]
fn a_plan_reports_the_first_bad_argument() {
    let error = FaultPlan::parse_all(&["ReserveHotel=StoreThrottled:2", "Nope=X"]).unwrap_err();
    assert_eq!(error.input, "Nope=X");
    assert!(FaultPlan::parse_all::<&str>(&[]).unwrap().is_empty());
}

#[test]
fn timeouts_and_single_attempts() {
    assert_eq!(parse("ReserveHotel=timeout").kind, FaultKind::Timeout);
    assert_eq!(parse("ReserveHotel=timeout").times, Times::First(1));
    assert_eq!(parse("CancelHotel=timeout:always").times, Times::Always);
    assert_eq!(parse("CancelHotel=StoreThrottled:#3").times, Times::Nth(3));
    assert_eq!(parse("CancelHotel=lose-response:#2").times, Times::Nth(2));
    assert!(problem("CancelHotel=timeout:1:2").contains("at most a count"));
    assert!(problem("CancelHotel=StoreThrottled:#0").contains("count from 1"));
    assert!(problem("CancelHotel=StoreThrottled:#x").contains("`#x` is not an attempt"));

    let plan = FaultPlan::parse_all(&[
        "CancelHotel=StoreThrottled:#2",
        "CancelHotel=lose-response:#3",
        "CancelHotel=timeout:#3",
        "CancelHotel=StoreFailed:#4",
        "CancelHotel=timeout:#4",
    ])
    .unwrap();
    assert!(plan.injection("CancelHotel", 1).is_empty());
    assert!(plan.injection("CancelHotel", 2).fail.is_some());
    let third = plan.injection("CancelHotel", 3);
    assert!(
        third.time_out && !third.lose_response,
        "nothing answers after a timeout, not even a lost response: {third:?}"
    );
    let fourth = plan.injection("CancelHotel", 4);
    assert!(
        fourth.fail.is_some() && !fourth.time_out,
        "a function that failed before running cannot run out of time: {fourth:?}"
    );
    assert!(plan.injection("CancelHotel", 5).is_empty());
}

#[test]
fn every_fault_prints_as_the_argument_that_gives_it_back() {
    for text in [
        "ReserveHotel=StoreThrottled:#2",
        "ReserveHotel=timeout:always",
        "ReserveHotel=lose-response:3",
        "ReserveHotel=delay:1500ms:#1",
        "ReserveHotel=StoreFailed:always:table gone: restore it",
    ] {
        let fault = parse(text);
        assert_eq!(parse(&fault.to_string()), fault, "{text}");
    }
}
