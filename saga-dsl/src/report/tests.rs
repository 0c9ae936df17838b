//! The arithmetic, checked by hand on small sagas.

use quote::quote;

use super::*;
use crate::Origin;

fn report(tokens: proc_macro2::TokenStream) -> Report {
    let compiled = crate::compile(tokens, Origin::of_crate("shop")).expect("the saga is valid");
    of(&compiled.saga.info())
}

fn path<'r>(report: &'r Report, label: &str) -> &'r Path {
    report
        .paths
        .iter()
        .find(|p| p.label == label)
        .unwrap_or_else(|| panic!("no path `{label}` in {:?}", labels(report)))
}

fn labels(report: &Report) -> Vec<&str> {
    report.paths.iter().map(|p| p.label.as_str()).collect()
}

fn counts(without_retries: u64, worst_case: u64) -> Counts {
    Counts {
        without_retries,
        worst_case,
    }
}

/// One compensated step with a transient error, no escalation: the default policies (actions 3
/// retries per retrier, compensations 6).
fn one_step() -> Report {
    report(quote! {
        saga Greet {
            input: Greeting,
            step Send {
                action: mail::send -> Sent,
                compensation: Recall => mail::recall,
                business_errors: [NoRecipient],
                transient_errors: [MailerBusy],
            }
        }
    })
}

#[test]
fn a_one_step_saga_has_a_happy_path_and_two_failures() {
    let report = one_step();
    assert_eq!(
        labels(&report),
        [
            "happy path",
            "Send fails",
            "Send fails, a compensation fails"
        ]
    );
}

#[test]
fn the_happy_path_is_start_and_the_step() {
    let report = one_step();
    let happy = path(&report, "happy path");
    assert_eq!(happy.states().collect::<Vec<_>>(), ["Start", "Send"]);
    assert_eq!(happy.end, End::Succeeded);
    // Start + Send; Send retries 3 service errors and 3 transient ones at worst.
    assert_eq!(happy.transitions(), counts(2, 2 + 6));
    assert_eq!(happy.invocations(), counts(1, 1 + 6));
    // Started, Pass entered/exited, Task entered/scheduled/started/succeeded/exited, Succeeded;
    // each retry: scheduled, started, failed.
    assert_eq!(happy.history_events(), counts(9, 9 + 3 * 6));
    // 2 transitions × $0.025 per 1,000 = $0.050 per 1,000 executions.
    assert_eq!(happy.cost_per_1000_executions(), counts(50, 200));
}

#[test]
fn a_failure_runs_the_compensation_then_both_checks() {
    let report = one_step();
    let failed = path(&report, "Send fails");
    assert_eq!(
        failed.states().collect::<Vec<_>>(),
        [
            "Start",
            "Send",
            "Recall",
            "CheckCompensations",
            "CheckFailure",
            "Compensated"
        ]
    );
    assert_eq!(failed.end, End::Compensated);
    // Worst case: Send retries 6 times, Recall 6 (its States.ALL retrier).
    assert_eq!(failed.transitions(), counts(6, 6 + 12));
    assert_eq!(failed.invocations(), counts(2, 2 + 12));
    // 2 (execution) + 2 (Start) + 5 (Send) + 5 (Recall) + 2 + 2 (Choices) + 1 (Fail).
    assert_eq!(failed.history_events(), counts(19, 19 + 3 * 12));
    assert_eq!(failed.cost_per_1000_executions(), counts(150, 450));
}

#[test]
fn without_an_escalation_function_a_pass_state_records_what_is_undone() {
    let report = one_step();
    let undone = path(&report, "Send fails, a compensation fails");
    assert_eq!(
        undone.states().collect::<Vec<_>>(),
        [
            "Start",
            "Send",
            "Recall",
            "CheckCompensations",
            "Escalate",
            "CompensationFailed"
        ]
    );
    assert_eq!(undone.end, End::CompensationFailed);
    assert_eq!(undone.transitions(), counts(6, 18));
    // Escalate is a Pass: 2 events, like the CheckFailure it replaces.
    assert_eq!(undone.history_events(), counts(19, 55));
}

#[test]
fn a_saga_that_undoes_nothing_goes_straight_to_check_failure() {
    let report = report(quote! {
        saga Checkout {
            input: Order,
            step Charge { action: payments::charge -> Receipt, irreversible }
        }
    });
    assert_eq!(labels(&report), ["happy path", "Charge fails"]);
    let failed = path(&report, "Charge fails");
    assert_eq!(
        failed.states().collect::<Vec<_>>(),
        ["Start", "Charge", "CheckFailure", "Compensated"]
    );
    // No transient errors: one retrier, 3 retries.
    assert_eq!(failed.transitions(), counts(4, 7));
    assert_eq!(failed.history_events(), counts(2 + 2 + 5 + 2 + 1, 12 + 9));
}

/// Two steps, an escalation function, custom policies and a timeout on the second step.
fn with_escalation() -> Report {
    report(quote! {
        saga MoveMoney {
            input: Transfer,
            escalation: Page => ops::page,
            compensation_retry: { max_attempts: 4 },
            step Debit {
                action: ledger::debit -> u64,
                compensation: ReverseDebit => ledger::reverse_debit,
                business_errors: [InsufficientFunds],
                retry: { max_attempts: 2 },
            }
            step Credit {
                action: ledger::credit -> u64,
                compensation: ReverseCredit => ledger::reverse_credit,
                business_errors: [InsufficientFunds],
                transient_errors: [LedgerBusy],
                retry: { max_attempts: 5 },
                timeout_seconds: 10,
            }
        }
    })
}

#[test]
fn every_failure_point_has_its_escalation_variants_and_timeouts() {
    let report = with_escalation();
    assert_eq!(
        labels(&report),
        [
            "happy path",
            "Debit fails",
            "Debit fails, a compensation fails",
            "Debit fails, a compensation and the escalation fail",
            "Credit fails",
            "Credit fails, a compensation fails",
            "Credit fails, a compensation and the escalation fail",
            "Credit times out",
        ]
    );
}

#[test]
fn a_timeout_is_renamed_by_step_failed() {
    let report = with_escalation();
    let timeout = path(&report, "Credit times out");
    assert_eq!(
        timeout.states().collect::<Vec<_>>(),
        [
            "Start",
            "Debit",
            "Credit",
            "ReverseCredit",
            "ReverseDebit",
            "CheckCompensations",
            "CheckFailure",
            "StepFailed",
            "Compensated"
        ]
    );
    // Retries: Debit 2, Credit 5 + 5 (service errors, then transient ones, then the timeout),
    // each compensation 4.
    assert_eq!(timeout.transitions(), counts(9, 9 + 2 + 10 + 4 + 4));
    assert_eq!(timeout.invocations(), counts(4, 4 + 20));
}

#[test]
fn a_failing_escalation_ends_in_escalation_failed() {
    let report = with_escalation();
    let failed = path(
        &report,
        "Debit fails, a compensation and the escalation fail",
    );
    assert_eq!(
        failed.states().collect::<Vec<_>>(),
        [
            "Start",
            "Debit",
            "ReverseDebit",
            "CheckCompensations",
            "Page",
            "EscalationFailed"
        ]
    );
    assert_eq!(failed.end, End::EscalationFailed);
    // Debit 2, ReverseDebit 4, Page 4 (the saga's compensation policy).
    assert_eq!(failed.transitions(), counts(6, 16));
    // 2 + 2 + 5 × 3 Tasks + 2 (Choice) + 1 (Fail), and 3 events per retry.
    assert_eq!(failed.history_events(), counts(22, 22 + 30));
    let Kind::Task { outcome, .. } = failed.visits[2].kind else {
        panic!("ReverseDebit is a Task")
    };
    assert_eq!(outcome, Outcome::Fails, "the compensation left undone");
}

#[test]
fn the_escalation_receives_the_most() {
    let report = with_escalation();
    let largest = &report.largest_payload;
    assert_eq!(largest.task, "Page");
    assert_eq!(
        largest.when,
        "after Credit fails and every compensation fails"
    );
    let typed: Vec<(&str, &str)> = largest
        .typed
        .iter()
        .map(|p| (p.type_name.as_str(), p.source.as_str()))
        .collect();
    assert_eq!(typed, [("Transfer", "input"), ("u64", "Debit")]);
    // The failure and both compensations' failures.
    assert_eq!(largest.failures, 3);
    assert_eq!(
        largest.bounded_chars(),
        largest.fixed_chars + 3 * (256 + 32_768)
    );
}

#[test]
fn the_fixed_part_is_the_compact_json_around_the_typed_values() {
    let report = one_step();
    let largest = &report.largest_payload;
    assert_eq!(largest.task, "Recall");
    assert_eq!(largest.failures, 1);
    // What Recall is sent, written out by hand with every name at its longest: an 80-character
    // execution name, a 256-character execution ARN, and the input as `null`.
    let name = "n".repeat(80);
    let arn = "a".repeat(256);
    let by_hand = format!(
        concat!(
            r#"{{"input":null,"results":{{}},"failure":{{"Error":"","Cause":""}},"#,
            r#""action_idempotency_key":"Send:{name}","#,
            r#""context":{{"saga":"Greet","execution_id":"{arn}","execution_name":"{name}","#,
            r#""state_name":"Recall","idempotency_key":"{name}:Recall","retry_count":6}}}}"#
        ),
        name = name,
        arn = arn
    );
    assert_eq!(largest.fixed_chars, by_hand.len() - "null".len());
}

#[test]
fn the_longest_history_is_the_worst_case_of_the_longest_path() {
    let report = with_escalation();
    let longest = report.longest_history();
    // Credit's failure runs both compensations; with the escalation it is the longest.
    assert_eq!(longest.label, "Credit fails, a compensation fails");
    let most = report
        .paths
        .iter()
        .map(|p| p.history_events().worst_case)
        .max();
    assert_eq!(Some(longest.history_events().worst_case), most);
}
