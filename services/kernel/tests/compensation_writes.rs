//! The compensation records in the single table (`TableRecords`) and the table handle
//! (`SingleTable`) against moto, on a minimal action: a "hold" that takes tokens from a pool,
//! undone by giving them back. The services' contract suites run the same writes through their
//! own stores; these cases pin down the kernel's part alone.

use kernel::compensation::{Action, CompensationRecords, Undo, Void};
use kernel::dynamo::compensation::{ActionRecord, EffectItem, TableRecords};
use kernel::dynamo::{
    IdempotencyKey, ItemBuilder, ItemReader, Key, SingleTable, StepTransaction, Write,
};
use kernel::testing::test_table;
use kernel::{DomainEvent, EventEnvelope, InfraErrorKind};
use serde::{Deserialize, Serialize};

/// What the action took: tokens from the pool, held under `hold`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Hold {
    hold: String,
    tokens: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum HoldRecord {
    Held { hold: Hold },
    Released { released_by: String },
}

impl ActionRecord for HoldRecord {
    type Effect = Hold;
    fn took_effect(hold: Hold) -> Self {
        Self::Held { hold }
    }
    fn compensated_by(compensation: &IdempotencyKey) -> Self {
        Self::Released {
            released_by: compensation.to_string(),
        }
    }
    fn into_action(self) -> Action<Hold> {
        match self {
            Self::Held { hold } => Action::TookEffect(hold),
            Self::Released { .. } => Action::Compensated,
        }
    }
}

#[derive(Serialize)]
struct Happened(&'static str);

impl DomainEvent for Happened {
    const AGGREGATE_TYPE: &'static str = "Pool";
    fn event_type(&self) -> &'static str {
        self.0
    }
    fn aggregate_id(&self) -> String {
        "p1".to_owned()
    }
}

/// `nothing_to_undo` is the zero of given-back tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct GivenBack(u32);

impl kernel::compensation::CompensationOutcome for GivenBack {
    fn nothing_to_undo() -> Self {
        Self(0)
    }
}

type Records = TableRecords<HoldRecord>;

fn records(table: &SingleTable) -> Records {
    TableRecords::new(table.clone())
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn pool() -> Key {
    Key::new("POOL#p1", "INVENTORY")
}

fn hold_item(hold: &str) -> Key {
    Key::new("POOL#p1", format!("HOLD#{hold}"))
}

async fn table_with_pool(tokens: u32) -> SingleTable {
    let table = test_table().await;
    let table = SingleTable::new(table.client, table.name);
    let pool = ItemBuilder::new(&pool()).number("tokens", tokens).build();
    assert!(table.put_if_absent(pool).await.unwrap());
    table
}

async fn tokens(table: &SingleTable) -> u32 {
    let pool = table.get(&pool()).await.unwrap().unwrap();
    ItemReader::new(&pool).number("tokens").unwrap()
}

/// The action: takes `tokens` and stores the hold, as `action`.
async fn hold(table: &SingleTable, action: &str, tokens: u32) -> Action<Hold> {
    let hold = Hold {
        hold: action.to_owned(),
        tokens,
    };
    let transaction = StepTransaction::new(table.name(), key(action))
        .write(
            "pool",
            Write::update(&pool(), "SET tokens = tokens - :n").number_value(":n", tokens),
        )
        .write(
            "hold",
            Write::put_new(
                ItemBuilder::new(&hold_item(action))
                    .string("status", "HELD")
                    .build(),
            ),
        )
        .announce(&Happened("Held"))
        .unwrap();
    records(table)
        .commit_action(transaction, hold)
        .await
        .unwrap()
        .unwrap()
}

/// The compensation of `<exec>:Hold` voids it, as `<exec>:Release`.
async fn void(table: &SingleTable, exec: &str) -> Void<GivenBack> {
    let (action, compensation) = (
        key(&format!("{exec}:Hold")),
        key(&format!("{exec}:Release")),
    );
    let voided = EventEnvelope::now(&Happened("Voided")).unwrap();
    CompensationRecords::<Hold, GivenBack>::void(&records(table), &action, &compensation, voided)
        .await
        .unwrap()
}

/// The compensation's undo: gives the tokens back and releases the hold.
async fn release(
    table: &SingleTable,
    hold: &Hold,
    compensation_key: &str,
) -> Result<Undo<GivenBack>, kernel::InfraError> {
    let give_back = StepTransaction::new(table.name(), key(compensation_key))
        .write(
            "pool",
            Write::update(&pool(), "SET tokens = tokens + :n")
                .condition("attribute_exists(PK)")
                .number_value(":n", hold.tokens),
        )
        .announce(&Happened("Released"))?;
    let effect = EffectItem {
        label: "hold",
        key: hold_item(&hold.hold),
        in_effect: "HELD",
        undone: "RELEASED",
        undone_by: "released_by",
    };
    records(table)
        .undo(give_back, effect, &key(&hold.hold), GivenBack(hold.tokens))
        .await
}

#[tokio::test]
async fn an_undo_gives_back_marks_the_effect_and_the_action_and_answers_retries_the_same() {
    let table = table_with_pool(10).await;
    let Action::TookEffect(held) = hold(&table, "e1:Hold", 3).await else {
        panic!("the hold took effect")
    };
    assert_eq!(tokens(&table).await, 7);
    assert_eq!(
        records(&table).look_up(&key("e1:Hold")).await.unwrap(),
        Some(Action::TookEffect(held.clone()))
    );

    let undone = release(&table, &held, "e1:Release").await.unwrap();
    assert_eq!(undone, Undo::Undone(GivenBack(3)));
    assert_eq!(tokens(&table).await, 10);
    let item = table.get(&hold_item("e1:Hold")).await.unwrap().unwrap();
    let item = ItemReader::new(&item);
    assert_eq!(item.string("status").unwrap(), "RELEASED");
    assert_eq!(item.string("released_by").unwrap(), "e1:Release");
    assert_eq!(
        records(&table).look_up(&key("e1:Hold")).await.unwrap(),
        Some(Action::Compensated),
        "the action's record says compensated"
    );
    assert_eq!(
        hold(&table, "e1:Hold", 3).await,
        Action::Compensated,
        "a late retry of the action takes nothing"
    );
    assert_eq!(tokens(&table).await, 10);

    // The same compensation again answers the same; another finds the hold released already.
    assert_eq!(
        release(&table, &held, "e1:Release").await.unwrap(),
        Undo::Undone(GivenBack(3))
    );
    assert_eq!(
        release(&table, &held, "redrive:Release").await.unwrap(),
        Undo::AlreadyUndone
    );
    assert_eq!(tokens(&table).await, 10);
    let events = table.events("Pool", "p1").await.unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["Held", "Released"]);
}

#[tokio::test]
async fn a_void_rules_the_action_out_unless_it_committed_first() {
    let table = table_with_pool(10).await;
    assert_eq!(void(&table, "e1").await, Void::Voided(GivenBack(0)));
    assert_eq!(hold(&table, "e1:Hold", 3).await, Action::Compensated);
    assert_eq!(tokens(&table).await, 10, "the late action took nothing");

    hold(&table, "e2:Hold", 2).await;
    assert_eq!(void(&table, "e2").await, Void::ActionTookEffect);
    // Nothing was recorded for the compensation: its first answer is still to come.
    let (records, release) = (records(&table), key("e2:Release"));
    let record = async |answer| records.record(&release, GivenBack(answer)).await.unwrap();
    assert_eq!(record(0).await, GivenBack(0));
    assert_eq!(record(9).await, GivenBack(0), "a recorded answer is kept");
}

#[tokio::test]
async fn an_undo_of_an_effect_whose_item_is_missing_is_store_failed() {
    let table = table_with_pool(10).await;
    let Action::TookEffect(held) = hold(&table, "e1:Hold", 3).await else {
        panic!("the hold took effect")
    };
    let ghost = Hold {
        hold: "e9:Hold".to_owned(),
        ..held
    };
    let error = release(&table, &ghost, "e9:Release").await.unwrap_err();
    assert_eq!(error.kind(), InfraErrorKind::Failed);
    assert!(error.message().contains("item is missing"), "{error}");
    assert_eq!(tokens(&table).await, 7, "nothing was given back");
}

#[tokio::test]
async fn a_key_of_another_kind_is_store_failed() {
    let table = table_with_pool(10).await;
    hold(&table, "e1:Hold", 1).await;
    let error = records(&table)
        .record(&key("e1:Hold"), GivenBack(0))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), InfraErrorKind::Failed);
    records(&table)
        .record(&key("e1:Release"), GivenBack(0))
        .await
        .unwrap();
    let error = records(&table)
        .look_up(&key("e1:Release"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), InfraErrorKind::Failed);
}

#[tokio::test]
async fn seeding_keeps_an_existing_item_and_the_last_item_is_the_greatest() {
    let table = table_with_pool(10).await;
    let again = ItemBuilder::new(&pool()).number("tokens", 99).build();
    assert!(
        !table.put_if_absent(again).await.unwrap(),
        "kept, not written"
    );
    assert_eq!(tokens(&table).await, 10);
    for hold in ["a", "c", "b"] {
        let item = ItemBuilder::new(&hold_item(hold)).build();
        table.put_if_absent(item).await.unwrap();
    }
    let last = table.last("POOL#p1", "HOLD#").await.unwrap().unwrap();
    assert_eq!(ItemReader::new(&last).string("SK").unwrap(), "HOLD#c");
    assert_eq!(table.last("POOL#p2", "HOLD#").await.unwrap(), None);
}
