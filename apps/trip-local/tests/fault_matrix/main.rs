//! The fault matrix: the trip saga end to end on the executor with the real handlers, with a
//! fault at every step and every compensation, on the in-memory store and on DynamoDB (moto).
//!
//! The matrix is generated from the saga's model (`trip_booking::SAGA`, what `saga!` checked):
//! the steps, their compensations, their declared business and transient errors, retry limits
//! and timeouts ([`model`]). A new step is covered by every group without a change here, except
//! for two tables that say what only a person can ([`knowledge`]): what the step leaves in the
//! store and, optionally, a request that really makes it fail; a step missing from the first
//! fails `the_matrix_knows_every_step_of_the_saga`.
//!
//! Every case ([`cases`]) asserts the execution's status and error, the exact states visited,
//! every invocation (state and error, in order), the number of retries, the trip as stored, and
//! what the store holds: the flight and hotel reservations, the payment, and the stock of the
//! whole catalogue compared with the seeded one ([`run`]). Each case runs on a fresh store (a
//! new in-memory context, or a new table on the shared moto server), so the cases of a test run
//! concurrently and their stock checks are exact.
//!
//! Beside the matrix, [`schedules`] draws random fault schedules (a fault per state and attempt,
//! for many trips at once on scarce inventory) and checks the saga's invariants after each:
//! what no combination of faults may ever do. `make soak` runs 100,000 of them.

mod cases;
mod knowledge;
mod model;
mod run;
mod schedules;

use std::collections::BTreeSet;

use saga_runtime::FunctionKind;
use trip_saga::trip_booking::SAGA;

use cases::*;
use knowledge::{business_trigger, effect_of};
use model::model;
use run::{StoreKind, run_all};

// ---------------------------------------------------------------------------------------------
// What the matrix must cover, counted from the saga's model.
// ---------------------------------------------------------------------------------------------

/// The states of the functions of `kind`, in manifest order.
fn states_of(kind: FunctionKind) -> Vec<&'static str> {
    SAGA.functions()
        .filter(|f| f.kind == kind)
        .map(|f| &*f.state)
        .collect()
}

fn actions() -> Vec<&'static str> {
    states_of(FunctionKind::Action)
}

fn compensations() -> Vec<&'static str> {
    states_of(FunctionKind::Compensation)
}

fn reversible_actions() -> Vec<&'static str> {
    SAGA.steps
        .iter()
        .filter(|s| s.compensation.is_some())
        .map(saga_runtime::StepInfo::state)
        .collect()
}

fn timed_actions() -> Vec<&'static str> {
    SAGA.steps
        .iter()
        .filter(|s| s.timeout_seconds.is_some())
        .map(saga_runtime::StepInfo::state)
        .collect()
}

fn declared_business_errors() -> usize {
    SAGA.steps.iter().map(|s| s.business_errors.len()).sum()
}

fn declared_transient_errors() -> usize {
    SAGA.steps.iter().map(|s| s.transient_errors.len()).sum()
}

#[test]
fn the_matrix_knows_every_step_of_the_saga() {
    let model = model();
    assert_eq!(
        model
            .steps
            .iter()
            .map(|s| s.state.as_str())
            .collect::<Vec<_>>(),
        actions()
    );
    assert_eq!(
        model
            .compensations
            .iter()
            .map(|c| c.state.as_str())
            .collect::<Vec<_>>(),
        compensations()
    );
    for step in &model.steps {
        assert!(
            effect_of(&step.state).is_some(),
            "the fault matrix does not know what {} leaves in the store: add it to `effect_of`",
            step.state
        );
        assert!(
            !step.business_errors.is_empty(),
            "{}: no business error",
            step.state
        );
        assert!(
            !step.transient_errors.is_empty() && step.retries > 0,
            "{}: no transient error, or no retry",
            step.state
        );
        let _ = business_trigger(step);
    }
    for c in &model.compensations {
        assert!(
            model.steps.iter().any(|s| s.state == c.undoes),
            "{} undoes {}, which is not a step",
            c.state,
            c.undoes
        );
        assert!(c.retries > 0, "{}: no retry", c.state);
    }
    // Every step's effect is a different one: the store checks tell them apart.
    let effects: BTreeSet<String> = model
        .steps
        .iter()
        .map(|s| format!("{:?}", effect_of(&s.state)))
        .collect();
    assert_eq!(effects.len(), model.steps.len());
}

/// One test per group and store; each runs every case of its group and names the failing ones.
macro_rules! fault_matrix {
    ($($store:ident => $kind:expr;)*) => {$(
        mod $store {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn happy_path() {
                run_all($kind, happy_cases(), &["all"], 1).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_business_failure_at_every_step_compensates_the_earlier_steps_newest_first() {
                run_all($kind, business_cases(), &actions(), actions().len()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn every_declared_business_error_is_caught_without_a_retry() {
                run_all(
                    $kind,
                    declared_business_error_cases(),
                    &actions(),
                    declared_business_errors(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn transient_errors_up_to_the_retry_limit_are_absorbed_at_every_step() {
                run_all(
                    $kind,
                    transient_absorbed_cases(),
                    &actions(),
                    declared_transient_errors(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn transient_errors_past_the_retry_limit_compensate_at_every_step() {
                run_all(
                    $kind,
                    transient_exhausted_cases(),
                    &actions(),
                    declared_transient_errors(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_lost_response_at_every_step_is_retried_idempotently() {
                run_all($kind, lost_response_cases(), &actions(), actions().len()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_step_whose_response_is_always_lost_is_undone_by_its_own_compensation() {
                run_all(
                    $kind,
                    lost_for_good_cases(),
                    &reversible_actions(),
                    reversible_actions().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_step_that_times_out_after_taking_effect_is_undone_by_its_own_compensation() {
                run_all($kind, timeout_cases(), &timed_actions(), timed_actions().len()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_lost_response_at_every_compensation_is_retried_idempotently() {
                run_all(
                    $kind,
                    compensation_lost_response_cases(),
                    &compensations(),
                    compensations().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn every_compensation_absorbs_transient_failures() {
                run_all(
                    $kind,
                    compensation_transient_cases(),
                    &compensations(),
                    compensations().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn every_compensation_that_keeps_failing_escalates_and_the_others_still_run() {
                run_all(
                    $kind,
                    compensation_escalation_cases(),
                    &compensations(),
                    compensations().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn every_compensation_that_keeps_timing_out_escalates_and_the_execution_never_times_out() {
                run_all(
                    $kind,
                    compensation_timeout_cases(),
                    &compensations(),
                    // One per compensation, and issue #11's declined payment with a hung hotel
                    // cancellation.
                    compensations().len() + 1,
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn an_escalation_that_keeps_failing_ends_the_execution_escalation_failed() {
                run_all(
                    $kind,
                    escalation_failed_cases(),
                    &states_of(FunctionKind::Escalation),
                    // One case per compensation left undone before the escalation fails.
                    states_of(FunctionKind::Compensation).len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn the_escalation_absorbs_transient_failures() {
                run_all(
                    $kind,
                    escalation_transient_cases(),
                    &states_of(FunctionKind::Escalation),
                    states_of(FunctionKind::Escalation).len(),
                )
                .await;
            }
        }
    )*};
}

fault_matrix! {
    in_memory => StoreKind::InMemory;
    dynamodb => StoreKind::DynamoDb;
}

/// Random fault schedules ([`schedules`]): at least 1,000 on the in-memory store, a few hundred
/// on DynamoDB (moto), every run of the test command; `make soak` runs 100,000.
mod random_schedules {
    use super::*;

    #[test]
    fn in_memory() {
        schedules::run_schedules(StoreKind::InMemory, "random_schedules::in_memory", 1_000, 6);
    }

    #[test]
    fn on_dynamodb() {
        schedules::run_schedules(StoreKind::DynamoDb, "random_schedules::on_dynamodb", 200, 4);
    }
}
