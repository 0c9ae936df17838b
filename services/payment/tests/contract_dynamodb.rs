//! The contract suite on [`DynamoLedger`], against a real DynamoDB-compatible server (moto,
//! started by `kernel::testing`; the tests fail, never skip, when it cannot start), and the item
//! shapes the ledger documents.

mod contract;

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use kernel::dynamo::{IdempotencyKey, Item, ItemReader, Key, SingleTable};
use kernel::testing::{TestTable, test_table};
use kernel::{EventEnvelope, Money, TripId};
use payment::{CardToken, DynamoLedger, PaymentService, RefundPayment, TakePayment};
use saga_model::StepError;

struct Dynamo {
    ledger: DynamoLedger,
    service: PaymentService,
}

impl contract::Harness for Dynamo {
    fn service(&self) -> &PaymentService {
        &self.service
    }

    async fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        self.ledger.trip_events(trip_id).await.unwrap()
    }
}

async fn dynamo() -> Dynamo {
    let TestTable { client, name } = test_table().await;
    let ledger = DynamoLedger::new(client, name);
    Dynamo {
        service: PaymentService::new(Arc::new(ledger.clone())),
        ledger,
    }
}

contract::contract_tests!(dynamo);

async fn get(table: &TestTable, key: &Key) -> Item {
    let table = SingleTable::new(table.client.clone(), &table.name);
    let item = table.get(key).await.unwrap();
    item.unwrap_or_else(|| panic!("no item {key}"))
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

#[tokio::test]
async fn items_have_the_documented_keys_and_attributes() {
    let table = test_table().await;
    let service = PaymentService::new(Arc::new(DynamoLedger::new(
        table.client.clone(),
        &table.name,
    )));
    let trip = TripId::new();
    let receipt = service
        .take_payment(TakePayment {
            trip_id: trip,
            amount: Money::parse("1050.00 USD").unwrap(),
            card: CardToken::parse("tok_visa_4242").unwrap(),
            idempotency_key: key("e1:ProcessPayment"),
        })
        .await
        .unwrap();

    let payment = get(&table, &Key::trip_payment(trip, receipt.payment_id)).await;
    let payment = ItemReader::new(&payment);
    assert_eq!(payment.string("entity_type").unwrap(), "PAYMENT");
    assert_eq!(payment.string("amount").unwrap(), "1050.00 USD");
    assert_eq!(payment.string("card").unwrap(), "tok_visa_4242");
    assert_eq!(payment.string("status").unwrap(), "CAPTURED");
    assert_eq!(payment.string("captured_by").unwrap(), "e1:ProcessPayment");

    service
        .refund(RefundPayment {
            trip_id: trip,
            action_idempotency_key: key("e1:ProcessPayment"),
            idempotency_key: key("e1:RefundPayment"),
        })
        .await
        .unwrap();
    let payment = get(&table, &Key::trip_payment(trip, receipt.payment_id)).await;
    let payment = ItemReader::new(&payment);
    assert_eq!(payment.string("status").unwrap(), "REFUNDED");
    assert_eq!(payment.string("refunded_by").unwrap(), "e1:RefundPayment");

    let record = get(&table, &Key::idempotency(&key("e1:ProcessPayment"))).await;
    let result: serde_json::Value = ItemReader::new(&record).json("result").unwrap();
    assert_eq!(result["outcome"], "refunded");
    assert_eq!(result["refunded_by"], "e1:RefundPayment");
    assert!(matches!(
        record.get("expires_at"),
        Some(AttributeValue::N(_))
    ));
}

#[tokio::test]
async fn a_missing_table_is_store_failed() {
    let table = test_table().await;
    let service = PaymentService::new(Arc::new(DynamoLedger::new(
        table.client.clone(),
        "no-such-table",
    )));
    let error = service
        .take_payment(TakePayment {
            trip_id: TripId::new(),
            amount: Money::parse("10.00 USD").unwrap(),
            card: CardToken::parse("tok_visa_4242").unwrap(),
            idempotency_key: key("e1:ProcessPayment"),
        })
        .await
        .unwrap_err();
    assert_eq!(error.name(), "StoreFailed", "{error}");
}
