//! [`InMemoryJournal`]: the idempotency records and the outbox of an in-memory store, and the
//! [`CompensationRecords`] of every in-memory store whose state holds one.

use std::collections::HashMap;
use std::fmt;
use std::future::ready;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use super::{Action, CompensationOutcome, CompensationRecords, Undo, Void};
use crate::dynamo::IdempotencyKey;
use crate::events::{DomainEvent, EventEnvelope};
use crate::{BoxFuture, InfraError};

/// What one idempotency key stands for: the in-memory twin of a DynamoDB idempotency record's
/// `result`.
#[derive(Clone, Debug)]
enum Record<E, O> {
    /// An action's key: what it left behind.
    Action(Action<E>),
    /// A compensation's key: what it answered.
    Compensation(O),
}

/// The idempotency records and outbox events of an in-memory store whose actions leave effects
/// of type `E` and whose compensations answer `O`.
///
/// Keep it under the store's one lock with the rest of its state: a store method then checks
/// and changes everything at once, as one `TransactWriteItems` does. Every method that changes
/// the journal takes the event announcing the change already built, so that a store builds
/// everything that can fail before it changes anything.
#[derive(Clone, Debug)]
pub struct InMemoryJournal<E, O> {
    records: HashMap<IdempotencyKey, Record<E, O>>,
    events: Vec<EventEnvelope>,
}

impl<E, O> Default for InMemoryJournal<E, O> {
    fn default() -> Self {
        Self {
            records: HashMap::new(),
            events: Vec::new(),
        }
    }
}

impl<E: Clone, O: Clone> InMemoryJournal<E, O> {
    /// The outbox envelope of `event`, stamped now: build it before changing anything.
    ///
    /// # Errors
    /// `StoreFailed` when the event does not serialise.
    pub fn announce(event: &impl DomainEvent) -> Result<EventEnvelope, InfraError> {
        EventEnvelope::for_outbox(event, OffsetDateTime::now_utc())
    }

    /// Every event written so far, oldest first.
    pub fn events(&self) -> &[EventEnvelope] {
        &self.events
    }

    /// What the action `key` left behind, if it ran or was ruled out.
    ///
    /// # Errors
    /// `StoreFailed` when `key` is a compensation's.
    pub fn action(&self, key: &IdempotencyKey) -> Result<Option<Action<E>>, InfraError> {
        match self.records.get(key) {
            None => Ok(None),
            Some(Record::Action(action)) => Ok(Some(action.clone())),
            Some(Record::Compensation(_)) => Err(wrong_kind(key)),
        }
    }

    /// Records that the action `key` took `effect`, announced by `event`.
    pub fn took_effect(&mut self, key: &IdempotencyKey, effect: E, event: EventEnvelope) {
        self.records
            .insert(key.clone(), Record::Action(Action::TookEffect(effect)));
        self.events.push(event);
    }

    /// Before `compensation` undoes what `action` did: the answer to give without changing
    /// anything, if there is one. `in_effect` is whether the store finds the action's effect
    /// (`effect`, named in errors) still in effect (`Some(true)`), undone (`Some(false)`) or not
    /// at all (`None`), as the DynamoDB undo's condition on the effect's item decides.
    ///
    /// The answer is the one `compensation` stored if it ran before, else
    /// [`Undo::AlreadyUndone`] when another compensation undid the effect; `None` means undo it.
    ///
    /// # Errors
    /// `StoreFailed` when `compensation` is an action's key, or `action` has no record or its
    /// effect is not stored (corrupt data: they are written together).
    pub fn before_undo(
        &self,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
        effect: &impl fmt::Display,
        in_effect: Option<bool>,
    ) -> Result<Option<Undo<O>>, InfraError> {
        if let Some(answer) = self.compensation(compensation)? {
            return Ok(Some(Undo::Undone(answer)));
        }
        match self.records.get(action) {
            Some(Record::Action(_)) => {}
            Some(Record::Compensation(_)) => return Err(wrong_kind(action)),
            None => {
                return Err(InfraError::failed(format!(
                    "the record of action {action} is missing"
                )));
            }
        }
        match in_effect {
            Some(true) => Ok(None),
            Some(false) => Ok(Some(Undo::AlreadyUndone)),
            None => Err(InfraError::failed(format!("{effect} is not stored"))),
        }
    }

    /// Records that `compensation` undid what `action` did, answering `outcome`, announced by
    /// `event`; the store has given back what the effect took. Answers `outcome`.
    pub fn undone(
        &mut self,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
        outcome: O,
        event: EventEnvelope,
    ) -> O {
        self.records
            .insert(action.clone(), Record::Action(Action::Compensated));
        self.records
            .insert(compensation.clone(), Record::Compensation(outcome.clone()));
        self.events.push(event);
        outcome
    }

    /// Rules out `action`, which has no record, as `compensation`, announced by `event`
    /// ([`CompensationRecords::void`]).
    ///
    /// # Errors
    /// `StoreFailed` when `compensation` is an action's key.
    pub fn void(
        &mut self,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
        event: EventEnvelope,
    ) -> Result<Void<O>, InfraError>
    where
        O: CompensationOutcome,
    {
        if let Some(answer) = self.compensation(compensation)? {
            return Ok(Void::Voided(answer));
        }
        if self.records.contains_key(action) {
            return Ok(Void::ActionTookEffect);
        }
        let outcome = O::nothing_to_undo();
        self.records
            .insert(action.clone(), Record::Action(Action::Compensated));
        self.records
            .insert(compensation.clone(), Record::Compensation(outcome.clone()));
        self.events.push(event);
        Ok(Void::Voided(outcome))
    }

    /// Records `outcome` under `compensation` unless it answered before
    /// ([`CompensationRecords::record`]). Answers what is recorded.
    ///
    /// # Errors
    /// `StoreFailed` when `compensation` is an action's key.
    pub fn record(&mut self, compensation: &IdempotencyKey, outcome: O) -> Result<O, InfraError> {
        if let Some(answer) = self.compensation(compensation)? {
            return Ok(answer);
        }
        self.records
            .insert(compensation.clone(), Record::Compensation(outcome.clone()));
        Ok(outcome)
    }

    fn compensation(&self, key: &IdempotencyKey) -> Result<Option<O>, InfraError> {
        match self.records.get(key) {
            None => Ok(None),
            Some(Record::Compensation(answer)) => Ok(Some(answer.clone())),
            Some(Record::Action(_)) => Err(wrong_kind(key)),
        }
    }
}

/// The records of an in-memory store whose state `S` holds its journal, under the store's one
/// lock: each call checks and changes the journal at once, and never holds the lock across an
/// `.await` (the answer is ready when the future is made).
impl<S, E, O> CompensationRecords<E, O> for Mutex<S>
where
    S: AsMut<InMemoryJournal<E, O>> + Send,
    E: Clone + Send + Sync + 'static,
    O: Clone + CompensationOutcome + 'static,
{
    fn action<'a>(
        &'a self,
        action: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<Action<E>>, InfraError>> {
        Box::pin(ready(journal(self).as_mut().action(action)))
    }

    fn void<'a>(
        &'a self,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
        event: EventEnvelope,
    ) -> BoxFuture<'a, Result<Void<O>, InfraError>> {
        Box::pin(ready(journal(self).as_mut().void(
            action,
            compensation,
            event,
        )))
    }

    fn record<'a>(
        &'a self,
        compensation: &'a IdempotencyKey,
        outcome: O,
    ) -> BoxFuture<'a, Result<O, InfraError>> {
        Box::pin(ready(journal(self).as_mut().record(compensation, outcome)))
    }
}

/// The store's state, locked. A panic under the lock cannot leave it half changed (stores and
/// the journal change only after every check has passed), so a poisoned lock is still usable.
fn journal<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A key used by an action and a compensation both: a bug in the caller's keys, which a retry
/// would hit again.
fn wrong_kind(key: &IdempotencyKey) -> InfraError {
    InfraError::failed(format!(
        "idempotency key {key} was used by another kind of invocation"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InfraErrorKind;
    use crate::events::test_event::Happened;

    impl CompensationOutcome for u32 {
        fn nothing_to_undo() -> Self {
            0
        }
    }

    type Journal = InMemoryJournal<&'static str, u32>;

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    fn event() -> EventEnvelope {
        Journal::announce(&Happened("Happened")).unwrap()
    }

    #[test]
    fn an_effect_is_undone_once_and_the_answer_kept() {
        let (action, cancel) = (key("e:Reserve"), key("e:Cancel"));
        let mut journal = Journal::default();
        journal.took_effect(&action, "seats", event());
        assert_eq!(
            journal.action(&action).unwrap(),
            Some(Action::TookEffect("seats"))
        );
        assert_eq!(
            journal
                .before_undo(&action, &cancel, &"seats", Some(true))
                .unwrap(),
            None
        );
        assert_eq!(journal.undone(&action, &cancel, 2, event()), 2);
        assert_eq!(journal.action(&action).unwrap(), Some(Action::Compensated));
        assert_eq!(
            journal
                .before_undo(&action, &cancel, &"seats", Some(false))
                .unwrap(),
            Some(Undo::Undone(2)),
            "its own answer, even though the seats are no longer held"
        );
        assert_eq!(
            journal
                .before_undo(&action, &key("redrive:Cancel"), &"seats", Some(false))
                .unwrap(),
            Some(Undo::AlreadyUndone)
        );
        assert_eq!(journal.record(&cancel, 0).unwrap(), 2, "the first answer");
        assert_eq!(journal.events().len(), 2);
    }

    #[test]
    fn a_void_rules_the_action_out_unless_it_ran() {
        let (action, cancel) = (key("e:Reserve"), key("e:Cancel"));
        let mut journal = Journal::default();
        assert_eq!(
            journal.void(&action, &cancel, event()).unwrap(),
            Void::Voided(0)
        );
        assert_eq!(journal.action(&action).unwrap(), Some(Action::Compensated));
        assert_eq!(
            journal.void(&action, &cancel, event()).unwrap(),
            Void::Voided(0),
            "a retry gets the first answer"
        );
        assert_eq!(journal.events().len(), 1, "and announces nothing more");

        let (late, other) = (key("f:Reserve"), key("f:Cancel"));
        journal.took_effect(&late, "seats", event());
        assert_eq!(
            journal.void(&late, &other, event()).unwrap(),
            Void::ActionTookEffect
        );
        assert_eq!(journal.record(&other, 0).unwrap(), 0);
    }

    #[test]
    fn keys_of_the_other_kind_and_missing_records_are_store_failed() {
        let (action, cancel) = (key("e:Reserve"), key("e:Cancel"));
        let mut journal = Journal::default();
        journal.record(&cancel, 0).unwrap();
        journal.took_effect(&action, "seats", event());
        let kind = |error: InfraError| error.kind();
        assert_eq!(
            journal.action(&cancel).map_err(kind),
            Err(InfraErrorKind::Failed)
        );
        assert_eq!(
            journal.record(&action, 0).map_err(kind),
            Err(InfraErrorKind::Failed)
        );
        assert_eq!(
            journal.void(&cancel, &action, event()).map_err(kind),
            Err(InfraErrorKind::Failed)
        );
        assert_eq!(
            journal
                .before_undo(&key("x:Reserve"), &key("x:Cancel"), &"seats", Some(true))
                .map_err(kind),
            Err(InfraErrorKind::Failed),
            "an effect without its action's record"
        );
        assert_eq!(
            journal
                .before_undo(&action, &key("e:Other"), &"seats", None)
                .map_err(kind),
            Err(InfraErrorKind::Failed),
            "an action whose effect is not stored"
        );
    }

    /// A store's state: its own data beside the journal, under one lock.
    #[derive(Default)]
    struct State {
        journal: Journal,
    }

    impl AsMut<Journal> for State {
        fn as_mut(&mut self) -> &mut Journal {
            &mut self.journal
        }
    }

    #[tokio::test]
    async fn a_locked_state_holding_a_journal_is_the_store_s_records() {
        let store = Mutex::new(State::default());
        let records: &dyn CompensationRecords<&'static str, u32> = &store;
        let (action, cancel) = (key("e:Reserve"), key("e:Cancel"));
        assert_eq!(records.action(&action).await.unwrap(), None);
        assert_eq!(
            records.void(&action, &cancel, event()).await.unwrap(),
            Void::Voided(0)
        );
        assert_eq!(
            records.action(&action).await.unwrap(),
            Some(Action::Compensated)
        );
        assert_eq!(records.record(&cancel, 7).await.unwrap(), 0);
        assert_eq!(store.lock().unwrap().journal.events().len(), 1);
    }
}
