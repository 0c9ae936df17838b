//! The contract of the payment provider: every [`payment::PaymentProvider`] adapter, driven
//! through [`PaymentService`], must pass each case here. `contract_in_memory.rs` and
//! `contract_dynamodb.rs` run the same cases with [`contract_tests!`], one `#[tokio::test]` each.

use std::future::Future;
use std::sync::Arc;

use kernel::dynamo::IdempotencyKey;
use kernel::{EventEnvelope, Money, TripId};
use payment::{
    CardToken, DeclineReason, PaymentReceipt, PaymentService, PaymentStatus, RefundError,
    RefundPayment, RefundReceipt, TakePayment, TakePaymentError,
};
use saga_model::StepError;

/// What a case needs from an adapter: the service on it, and the outbox to look at.
pub(crate) trait Harness: Send + Sync + 'static {
    /// The service on the adapter under test (a fresh, empty ledger per case).
    fn service(&self) -> &PaymentService;
    /// The outbox events of `trip_id`'s payment, oldest first.
    fn trip_events(&self, trip_id: TripId) -> impl Future<Output = Vec<EventEnvelope>> + Send;
}

/// Writes one `#[tokio::test]` per contract case, each on a harness from `$new` (an async fn).
macro_rules! contract_tests {
    ($new:path) => {
        $crate::contract::contract_tests!(@cases $new;
            a_payment_is_captured_once_per_key,
            each_decline_rule_declines_and_charges_nothing,
            a_declined_payment_records_nothing_and_is_declined_again,
            a_refund_gives_the_money_back_once,
            a_late_action_after_its_refund_is_already_refunded,
            a_refund_before_the_action_rules_it_out,
            a_refund_after_a_declined_payment_has_nothing_to_undo,
            a_second_refund_key_finds_nothing_left_to_undo,
            concurrent_retries_of_one_payment_charge_once,
            concurrent_refunds_refund_once,
            a_payment_racing_its_refund_leaves_nothing_captured,
        );
    };
    (@cases $new:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::$case(Arc::new($new().await)).await;
            }
        )*
    };
}
pub(crate) use contract_tests;

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn card(text: &str) -> CardToken {
    CardToken::parse(text).unwrap()
}

fn take(trip_id: TripId, amount: &str, token: &str, action: &str) -> TakePayment {
    TakePayment {
        trip_id,
        amount: money(amount),
        card: card(token),
        idempotency_key: key(action),
    }
}

fn refund(trip_id: TripId, action: &str, refund: &str) -> RefundPayment {
    RefundPayment {
        trip_id,
        action_idempotency_key: key(action),
        idempotency_key: key(refund),
    }
}

fn event_types(events: &[EventEnvelope]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

/// Runs `attempt` until it stops failing with a transient store error, as the saga's `Retry`
/// would; business outcomes and `StoreFailed` are returned.
async fn retrying<T, E: StepError, F: Future<Output = Result<T, E>>>(
    mut attempt: impl FnMut() -> F,
) -> Result<T, E> {
    loop {
        match attempt().await {
            Err(e) if kernel::error::names::TRANSIENT.contains(&e.name()) => {
                tokio::task::yield_now().await;
            }
            other => return other,
        }
    }
}

pub(crate) async fn a_payment_is_captured_once_per_key(h: Arc<impl Harness>) {
    let trip = TripId::new();
    let command = take(trip, "1050.00 USD", "tok_visa_4242", "e1:ProcessPayment");

    let receipt = h.service().take_payment(command.clone()).await.unwrap();
    let again = h.service().take_payment(command.clone()).await.unwrap();
    // Same key, another card that the rules would decline: the record answers, not the rules.
    let with_declining_card = TakePayment {
        card: card("tok_decline"),
        ..command
    };
    let recorded = h.service().take_payment(with_declining_card).await.unwrap();

    assert_eq!(receipt.trip_id, trip);
    assert_eq!(receipt.amount, money("1050.00 USD"));
    assert_eq!(receipt.status, PaymentStatus::Captured);
    assert_eq!(again, receipt, "same payment id, same everything");
    assert_eq!(recorded, receipt);
    assert_eq!(
        h.service().payment(trip).await.unwrap(),
        Some(receipt.clone())
    );
    assert_eq!(h.service().payment(TripId::new()).await.unwrap(), None);
    let events = h.trip_events(trip).await;
    assert_eq!(event_types(&events), ["PaymentCaptured"], "one charge");
    assert_eq!(
        events[0].payload["payment_id"],
        receipt.payment_id.to_string()
    );
    assert_eq!(events[0].payload["amount"]["amount_minor"], 105_000);
    assert_eq!(events[0].aggregate_type, "Payment");
}

/// Whether a decline reason is the one a case expects.
type IsExpected = fn(&DeclineReason) -> bool;

pub(crate) async fn each_decline_rule_declines_and_charges_nothing(h: Arc<impl Harness>) {
    let cases: [(&str, &str, IsExpected); 5] = [
        ("0.00 USD", "tok_visa_4242", |r| {
            matches!(r, DeclineReason::NotPositive { .. })
        }),
        ("-5.00 USD", "tok_visa_4242", |r| {
            matches!(r, DeclineReason::NotPositive { .. })
        }),
        ("10.00 USD", "tok_decline_insufficient_funds", |r| {
            matches!(r, DeclineReason::DecliningCard { .. })
        }),
        ("5000.01 USD", "tok_visa_4242", |r| {
            *r == DeclineReason::OverLimit {
                amount: money("5000.01 USD"),
                limit: money("5000.00 USD"),
            }
        }),
        ("5001 JPY", "tok_visa_4242", |r| {
            *r == DeclineReason::OverLimit {
                amount: money("5001 JPY"),
                limit: money("5000 JPY"),
            }
        }),
    ];
    for (i, (amount, token, expected)) in cases.iter().enumerate() {
        let trip = TripId::new();
        let error = h
            .service()
            .take_payment(take(trip, amount, token, &format!("d{i}:ProcessPayment")))
            .await
            .unwrap_err();
        assert_eq!(error.name(), "PaymentDeclined", "{amount} {token}: {error}");
        let TakePaymentError::PaymentDeclined { reason } = &error else {
            panic!("{error:?}")
        };
        assert!(expected(reason), "{amount} {token}: {reason:?}");
        assert!(
            error.to_string().starts_with("payment declined: "),
            "{error}"
        );
        assert_eq!(h.service().payment(trip).await.unwrap(), None);
        assert!(h.trip_events(trip).await.is_empty());
    }
    // The limit itself is allowed.
    let at_limit = h
        .service()
        .take_payment(take(
            TripId::new(),
            "5000.00 USD",
            "tok_visa_4242",
            "l:ProcessPayment",
        ))
        .await
        .unwrap();
    assert_eq!(at_limit.amount, money("5000.00 USD"));
}

pub(crate) async fn a_declined_payment_records_nothing_and_is_declined_again(h: Arc<impl Harness>) {
    let trip = TripId::new();
    let command = take(trip, "10.00 USD", "tok_decline", "e1:ProcessPayment");
    for _ in 0..2 {
        let error = h.service().take_payment(command.clone()).await.unwrap_err();
        assert!(
            matches!(error, TakePaymentError::PaymentDeclined { .. }),
            "{error:?}"
        );
    }
    assert!(h.trip_events(trip).await.is_empty());
}

pub(crate) async fn a_refund_gives_the_money_back_once(h: Arc<impl Harness>) {
    let trip = TripId::new();
    let receipt = h
        .service()
        .take_payment(take(
            trip,
            "1050.00 USD",
            "tok_visa_4242",
            "e1:ProcessPayment",
        ))
        .await
        .unwrap();
    let command = refund(trip, "e1:ProcessPayment", "e1:RefundPayment");

    let refunded = h.service().refund(command.clone()).await.unwrap();
    let again = h.service().refund(command).await.unwrap();

    assert_eq!(
        refunded,
        RefundReceipt {
            refunded: Some(money("1050.00 USD")),
            nothing_to_undo: false
        }
    );
    assert_eq!(again, refunded, "a retry answers what the first call did");
    let stored = h.service().payment(trip).await.unwrap().unwrap();
    assert_eq!(stored.status, PaymentStatus::Refunded);
    assert_eq!(stored.payment_id, receipt.payment_id);
    let events = h.trip_events(trip).await;
    assert_eq!(
        event_types(&events),
        ["PaymentCaptured", "PaymentRefunded"],
        "refunded once"
    );
    assert_eq!(
        events[1].payload["payment_id"],
        receipt.payment_id.to_string()
    );
    assert_eq!(events[1].payload["refunded"]["amount_minor"], 105_000);
}

pub(crate) async fn a_late_action_after_its_refund_is_already_refunded(h: Arc<impl Harness>) {
    let trip = TripId::new();
    let command = take(trip, "80.00 EUR", "tok_visa_4242", "e1:ProcessPayment");
    h.service().take_payment(command.clone()).await.unwrap();
    h.service()
        .refund(refund(trip, "e1:ProcessPayment", "e1:RefundPayment"))
        .await
        .unwrap();

    let error = h.service().take_payment(command).await.unwrap_err();

    assert!(
        matches!(error, TakePaymentError::AlreadyRefunded),
        "{error:?}"
    );
    assert_eq!(error.name(), "AlreadyRefunded");
    assert_eq!(
        h.service().payment(trip).await.unwrap().unwrap().status,
        PaymentStatus::Refunded
    );
    assert_eq!(
        event_types(&h.trip_events(trip).await),
        ["PaymentCaptured", "PaymentRefunded"]
    );
}

pub(crate) async fn a_refund_before_the_action_rules_it_out(h: Arc<impl Harness>) {
    let trip = TripId::new();
    let command = refund(trip, "e1:ProcessPayment", "e1:RefundPayment");

    let refunded = h.service().refund(command.clone()).await.unwrap();
    let again = h.service().refund(command).await.unwrap();

    assert_eq!(
        refunded,
        RefundReceipt {
            refunded: None,
            nothing_to_undo: true
        }
    );
    assert_eq!(again, refunded);
    let events = h.trip_events(trip).await;
    assert_eq!(
        event_types(&events),
        ["PaymentRefunded"],
        "one event, not one per retry"
    );
    assert!(events[0].payload["refunded"].is_null());
    assert!(events[0].payload["payment_id"].is_null());

    // The timed-out action arrives late: it must not charge.
    let late = h
        .service()
        .take_payment(take(
            trip,
            "10.00 USD",
            "tok_visa_4242",
            "e1:ProcessPayment",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(late, TakePaymentError::AlreadyRefunded),
        "{late:?}"
    );
    assert_eq!(h.service().payment(trip).await.unwrap(), None);
}

pub(crate) async fn a_refund_after_a_declined_payment_has_nothing_to_undo(h: Arc<impl Harness>) {
    let trip = TripId::new();
    let declined = h
        .service()
        .take_payment(take(trip, "10.00 USD", "tok_decline", "e1:ProcessPayment"))
        .await
        .unwrap_err();
    assert_eq!(declined.name(), "PaymentDeclined");

    let refunded = h
        .service()
        .refund(refund(trip, "e1:ProcessPayment", "e1:RefundPayment"))
        .await
        .unwrap();

    assert!(refunded.nothing_to_undo);
    assert_eq!(refunded.refunded, None);
    assert_eq!(h.service().payment(trip).await.unwrap(), None);
}

pub(crate) async fn a_second_refund_key_finds_nothing_left_to_undo(h: Arc<impl Harness>) {
    let trip = TripId::new();
    h.service()
        .take_payment(take(
            trip,
            "300.00 USD",
            "tok_visa_4242",
            "e1:ProcessPayment",
        ))
        .await
        .unwrap();

    let first = h
        .service()
        .refund(refund(trip, "e1:ProcessPayment", "e1:RefundPayment"))
        .await
        .unwrap();
    let second = h
        .service()
        .refund(refund(trip, "e1:ProcessPayment", "redrive:RefundPayment"))
        .await
        .unwrap();

    assert_eq!(first.refunded, Some(money("300.00 USD")));
    assert_eq!(
        second,
        RefundReceipt {
            refunded: None,
            nothing_to_undo: true
        }
    );
    assert_eq!(
        event_types(&h.trip_events(trip).await),
        ["PaymentCaptured", "PaymentRefunded"]
    );
}

pub(crate) async fn concurrent_retries_of_one_payment_charge_once(h: Arc<impl Harness>) {
    let trip = TripId::new();
    let command = take(trip, "99.99 USD", "tok_visa_4242", "e1:ProcessPayment");
    let attempts = (0..10).map(|_| {
        let (h, command) = (Arc::clone(&h), command.clone());
        tokio::spawn(async move { retrying(|| h.service().take_payment(command.clone())).await })
    });
    let receipts: Vec<PaymentReceipt> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|o| o.unwrap().unwrap())
        .collect();

    assert!(receipts.iter().all(|r| *r == receipts[0]), "{receipts:?}");
    assert_eq!(event_types(&h.trip_events(trip).await), ["PaymentCaptured"]);
}

pub(crate) async fn concurrent_refunds_refund_once(h: Arc<impl Harness>) {
    let trip = TripId::new();
    h.service()
        .take_payment(take(
            trip,
            "450.00 USD",
            "tok_visa_4242",
            "e1:ProcessPayment",
        ))
        .await
        .unwrap();
    let attempts = (0..10).map(|i| {
        let h = Arc::clone(&h);
        tokio::spawn(async move {
            let command = refund(trip, "e1:ProcessPayment", &format!("r{i}:RefundPayment"));
            retrying(|| h.service().refund(command.clone())).await
        })
    });
    let results: Vec<RefundReceipt> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|o| o.unwrap().unwrap())
        .collect();

    let refunds: Vec<_> = results.iter().filter(|r| !r.nothing_to_undo).collect();
    assert_eq!(refunds, [&RefundReceipt::refunded(money("450.00 USD"))]);
    assert_eq!(
        event_types(&h.trip_events(trip).await),
        ["PaymentCaptured", "PaymentRefunded"]
    );
}

pub(crate) async fn a_payment_racing_its_refund_leaves_nothing_captured(h: Arc<impl Harness>) {
    for round in 0..5 {
        let trip = TripId::new();
        let action = format!("r{round}:ProcessPayment");
        let command = take(trip, "120.00 USD", "tok_visa_4242", &action);
        let compensation = refund(trip, &action, &format!("r{round}:RefundPayment"));
        let charging = {
            let h = Arc::clone(&h);
            tokio::spawn(
                async move { retrying(|| h.service().take_payment(command.clone())).await },
            )
        };
        let refunding = {
            let h = Arc::clone(&h);
            tokio::spawn(async move { retrying(|| h.service().refund(compensation.clone())).await })
        };
        let (charged, refunded) = (charging.await.unwrap(), refunding.await.unwrap());
        let refunded = refunded.unwrap_or_else(|e: RefundError| panic!("{e}"));

        // Either order is fine; a captured payment left behind, or a refund that claims money it
        // did not give back, is not.
        match charged {
            Ok(receipt) => assert_eq!(refunded.refunded, Some(receipt.amount), "round {round}"),
            Err(TakePaymentError::AlreadyRefunded) => assert!(refunded.nothing_to_undo),
            Err(other) => panic!("round {round}: {other:?}"),
        }
        let left = h.service().payment(trip).await.unwrap();
        assert!(
            left.as_ref()
                .is_none_or(|p| p.status == PaymentStatus::Refunded),
            "round {round}: {left:?}"
        );
    }
}
