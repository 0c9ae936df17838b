//! The compensation port's DynamoDB reads and writes, written once for every service's adapter:
//! [`TableRecords`], the [`CompensationRecords`] of the single table, and [`TableRecords::undo`],
//! the shared part of each adapter's [`CompensationStore::undo`]. Each write is one
//! [`StepTransaction`] on the compensation's key, so its idempotency record, the change and the
//! outbox event commit together or not at all.
//!
//! | method | what is read or written |
//! |-------------|-------------------------|
//! | `action` | `GetItem IDEMPOTENCY#<action key> / META`, consistent ([`stored_result`]) |
//! | `undo` | `Put IDEMPOTENCY#<compensation key> / META`, condition `attribute_not_exists(PK)`; the service's writes giving back what the effect took; `Update <effect item> SET status = <undone>, <undone_by> = <compensation key>`, condition `status = <in effect>` (an effect is undone once, whatever the key); `Update IDEMPOTENCY#<action key> / META SET result = <compensated record>`, condition `attribute_exists(PK)` (a late retry of the action now answers "compensated"); the service's event |
//! | `void` | `Put IDEMPOTENCY#<compensation key> / META`; `Put IDEMPOTENCY#<action key> / META` holding the compensated record, condition `attribute_not_exists(PK)` (fails when the action committed meanwhile: undo it then); the service's event |
//! | `record` | the `Put IDEMPOTENCY#<compensation key> / META` alone |
//!
//! The marker that `void` writes is an idempotency record like any other (see
//! [`idempotency::marker_item`]): it lives 30 days, beyond Step Functions' retry and redrive
//! windows, and the action's own transaction, should it run late, fails on it and returns the
//! compensated record as its stored result.
//!
//! What stays in a service: the JSON of its action records ([`ActionRecord`]), the writes that
//! give back what its effect took, the item its effect lives in ([`EffectItem`]) and its events.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::idempotency::{self, IdempotencyKey, RESULT, stored_result};
use super::keys::{Key, PK};
use super::table::SingleTable;
use super::transaction::{ConditionFailed, StepTransaction, TransactionOutcome, Write};
use crate::BoxFuture;
#[cfg(doc)]
use crate::compensation::CompensationStore;
use crate::compensation::{Action, CompensationOutcome, CompensationRecords, Undo, Void};
use crate::error::InfraError;
use crate::events::EventEnvelope;

/// The label of the write on the action's idempotency record.
const ACTION: &str = "action";

/// What an action's idempotency record holds, in the service's own JSON (a stored record must
/// stay readable across deploys, so each service keeps its shape): the effect the action took,
/// or the mark of the compensation that undid or ruled it out.
pub trait ActionRecord: Serialize + DeserializeOwned + Send {
    /// What the action leaves behind.
    type Effect;

    /// The record of an action that took `effect`.
    fn took_effect(effect: Self::Effect) -> Self;

    /// The record of an action that `compensation` undid or ruled out.
    fn compensated_by(compensation: &IdempotencyKey) -> Self;

    /// What the record says the action left behind.
    fn into_action(self) -> Action<Self::Effect>;
}

/// The item an action's effect lives in, and the status change that marks it undone.
#[derive(Clone, Debug)]
pub struct EffectItem<'a> {
    /// Names the item's write, as in "the reservation item is missing".
    pub label: &'static str,
    /// Its key.
    pub key: Key,
    /// Its `status` while the effect holds, e.g. `RESERVED`.
    pub in_effect: &'a str,
    /// Its `status` once undone, e.g. `CANCELLED`.
    pub undone: &'a str,
    /// The attribute naming the compensation that undid it, e.g. `cancelled_by`.
    pub undone_by: &'static str,
}

/// The idempotency records of a service's actions and compensations in the single table, the
/// actions' in the JSON of `R`.
pub struct TableRecords<R> {
    table: SingleTable,
    record: PhantomData<fn() -> R>,
}

impl<R> Clone for TableRecords<R> {
    fn clone(&self) -> Self {
        Self {
            table: self.table.clone(),
            record: PhantomData,
        }
    }
}

impl<R> fmt::Debug for TableRecords<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableRecords")
            .field("table", &self.table.name())
            .finish_non_exhaustive()
    }
}

impl<R: ActionRecord> TableRecords<R> {
    /// The records in `table`.
    pub fn new(table: SingleTable) -> Self {
        Self {
            table,
            record: PhantomData,
        }
    }

    /// What the action `action` left behind, from its idempotency record (what an action asks
    /// first when a record must win over a fresh decision, as a payment's over its rules).
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the record is not an `R` (another kind of step's).
    pub async fn look_up(
        &self,
        action: &IdempotencyKey,
    ) -> Result<Option<Action<R::Effect>>, InfraError> {
        let record: Option<R> =
            stored_result(self.table.client(), self.table.name(), action).await?;
        Ok(record.map(R::into_action))
    }

    /// Commits an action's transaction (its writes and event, on the action's key) with the
    /// record of its `effect`: what the action left behind, now or by an earlier run with the
    /// same key (maybe compensated since), or the write whose condition failed.
    ///
    /// # Errors
    /// As [`StepTransaction::commit`].
    pub async fn commit_action(
        &self,
        transaction: StepTransaction,
        effect: R::Effect,
    ) -> Result<Result<Action<R::Effect>, ConditionFailed>, InfraError> {
        let outcome = transaction
            .commit(self.table.client(), R::took_effect(effect))
            .await?;
        Ok(outcome.into_result().map(R::into_action))
    }

    /// Undoes an action's effect: `give_back` (the compensation's transaction with the
    /// service's writes giving back what the effect took, and its event) plus marking `effect`
    /// undone and the action `action` compensated, answering `outcome`.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an item it writes is missing (the effect's, the
    /// action's record, or one the service gives back to).
    pub async fn undo<O>(
        &self,
        give_back: StepTransaction,
        effect: EffectItem<'_>,
        action: &IdempotencyKey,
        outcome: O,
    ) -> Result<Undo<O>, InfraError>
    where
        O: Serialize + DeserializeOwned,
    {
        let compensation = give_back.key().clone();
        let compensated = record_json(&R::compensated_by(&compensation))?;
        let transaction = give_back
            .write(
                effect.label,
                Write::update(
                    &effect.key,
                    format!("SET #status = :undone, {} = :by", effect.undone_by),
                )
                .condition("#status = :in_effect")
                .name("#status", "status")
                .string_value(":undone", effect.undone)
                .string_value(":in_effect", effect.in_effect)
                .string_value(":by", compensation.as_str()),
            )
            .write(
                ACTION,
                Write::update(&Key::idempotency(action), "SET #result = :compensated")
                    .condition(format!("attribute_exists({PK})"))
                    .name("#result", RESULT)
                    .string_value(":compensated", compensated),
            );
        match transaction.commit(self.table.client(), outcome).await? {
            TransactionOutcome::Committed(outcome)
            | TransactionOutcome::AlreadyProcessed(outcome) => Ok(Undo::Undone(outcome)),
            // The effect's status is no longer "in effect": another key undid it. A missing item
            // (no old image) is bad data, not an undo.
            TransactionOutcome::ConditionFailed(failed)
                if failed.label == effect.label && failed.item.is_some() =>
            {
                Ok(Undo::AlreadyUndone)
            }
            TransactionOutcome::ConditionFailed(failed) => Err(InfraError::failed(format!(
                "undoing {} {} as {compensation}: the {} item is missing",
                effect.label, effect.key, failed.label
            ))),
        }
    }

    async fn void<O>(
        &self,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
        event: EventEnvelope,
    ) -> Result<Void<O>, InfraError>
    where
        O: CompensationOutcome + Serialize + DeserializeOwned,
    {
        let now = OffsetDateTime::now_utc();
        let compensated = record_json(&R::compensated_by(compensation))?;
        let outcome = StepTransaction::new(self.table.name(), compensation.clone())
            .at(now)
            .write(
                ACTION,
                Write::put_new(idempotency::marker_item(action, compensated, now)),
            )
            .event(event)
            .commit(self.table.client(), O::nothing_to_undo())
            .await?;
        Ok(match outcome {
            TransactionOutcome::Committed(outcome)
            | TransactionOutcome::AlreadyProcessed(outcome) => Void::Voided(outcome),
            // Only the marker has a condition: the action's record appeared since the look-up.
            TransactionOutcome::ConditionFailed(_) => Void::ActionTookEffect,
        })
    }
}

impl<R, O> CompensationRecords<R::Effect, O> for TableRecords<R>
where
    R: ActionRecord + 'static,
    R::Effect: Send,
    O: CompensationOutcome + Serialize + DeserializeOwned + 'static,
{
    fn action<'a>(
        &'a self,
        action: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<Action<R::Effect>>, InfraError>> {
        Box::pin(self.look_up(action))
    }

    fn void<'a>(
        &'a self,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
        event: EventEnvelope,
    ) -> BoxFuture<'a, Result<Void<O>, InfraError>> {
        Box::pin(TableRecords::void(self, action, compensation, event))
    }

    fn record<'a>(
        &'a self,
        compensation: &'a IdempotencyKey,
        outcome: O,
    ) -> BoxFuture<'a, Result<O, InfraError>> {
        Box::pin(
            StepTransaction::new(self.table.name(), compensation.clone())
                .commit_result(self.table.client(), outcome),
        )
    }
}

fn record_json(record: &impl Serialize) -> Result<String, InfraError> {
    serde_json::to_string(record).map_err(|e| {
        InfraError::failed(format!("serialising an action record: {e}")).with_source(e)
    })
}
