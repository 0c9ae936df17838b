//! The compensation protocol every service's undo step follows (flight's `CancelFlight`, hotel's
//! `CancelHotel`, payment's `RefundPayment`), and the port it runs on, both written once:
//! [`compensate`] runs the protocol on any [`CompensationStore`], which each service's repository
//! implements with what is specific to it (which items its effect took and how to give them
//! back). The records every store keeps the same way ([`CompensationRecords`]) are written once
//! per kind of storage: [`InMemoryJournal`] for the in-memory adapters,
//! [`crate::dynamo::compensation`] for the DynamoDB ones.
//!
//! A compensation runs after its action step failed or a later step did, and must cope with every
//! state the action can be in. It looks up what the action's idempotency key left behind:
//!
//! | what the action key left behind | what the compensation does                               |
//! |---------------------------------|----------------------------------------------------------|
//! | an effect (a reservation, a captured payment) | undoes it: gives back what it took, marks it and the action compensated ([`CompensationStore::undo`]); if another compensation undid it first, records `nothing_to_undo` ([`CompensationRecords::record`]) |
//! | a compensated action            | nothing (undone or ruled out already): records `nothing_to_undo` |
//! | nothing (the action never committed, or has not *yet*: a timed-out invocation may still be running) | voids the action with a marker, so a late run finds it and fails (`AlreadyCancelled`, `AlreadyRefunded`) instead of taking effect: `nothing_to_undo` ([`CompensationRecords::void`], announced by [`ActionEffect::voided`]) |
//!
//! Each path stores its result under the compensation's own key, so a retried compensation
//! returns the first one's answer. The undo and the void are counted
//! (`trip.saga.compensations`, [`crate::telemetry::metrics`]) by the call that wrote them; a
//! retry takes the `nothing_to_undo` path and counts nothing.
//!
//! The look-up and the write are separate calls, so the action may commit in between: voiding
//! then finds its record and answers [`Void::ActionTookEffect`], and the next round sees the
//! effect. [`ROUNDS`] bounds the loop; a race that never settles ends in a transient
//! `StoreConflict`, which the saga retries.

mod in_memory;

pub use in_memory::InMemoryJournal;

use time::OffsetDateTime;

use crate::dynamo::IdempotencyKey;
use crate::events::{DomainEvent, EventEnvelope};
use crate::telemetry::metrics::{self, Compensated};
use crate::{BoxFuture, InfraError, TripId};

/// How many look-up-then-write rounds a compensation makes. A round is lost only when the action
/// commits between the look-up and the write; the next round then sees the effect, which cannot
/// change again, so two rounds suffice and a third is margin.
pub const ROUNDS: usize = 3;

/// What an action invocation (identified by its idempotency key) left behind, if anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<E> {
    /// It took effect, and the effect has not been undone since (undoing it marks the action
    /// [`Action::Compensated`] in the same write).
    TookEffect(E),
    /// It was compensated: its effect was undone, or it was ruled out before it ran. A later
    /// invocation with its key must not take effect.
    Compensated,
}

/// The result of [`CompensationStore::undo`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undo<R> {
    /// The effect is undone and the compensation's result recorded under its key (now, or by an
    /// earlier call with the same key, whose result this is).
    Undone(R),
    /// Another compensation undid the effect first; nothing was written.
    AlreadyUndone,
}

/// The result of [`CompensationRecords::void`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Void<R> {
    /// The action is ruled out and the compensation's result recorded (now, or by an earlier
    /// call with the same key, whose result this is).
    Voided(R),
    /// The action committed after all (between the look-up and this call); nothing was written.
    ActionTookEffect,
}

/// The words a service's messages use for its action and compensation, so the shared routine
/// reports in each service's own terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wording {
    /// The effect, as in "the reservation … kept changing": `"reservation"`, `"payment"`.
    pub effect: &'static str,
    /// The compensation, as in "… during 3 cancellation rounds": `"cancellation"`, `"refund"`.
    pub compensation: &'static str,
    /// What the action did, as in "action k reserved seats for trip …": `"reserved seats for"`,
    /// `"charged"`.
    pub action_did: &'static str,
    /// How the action takes effect, as in "the payment captured during its refund":
    /// `"committed"`, `"captured"`.
    pub took_effect: &'static str,
    /// Undoing, as in "…; releasing it": `"releasing"`, `"refunding"`.
    pub undoing: &'static str,
}

/// What an action leaves behind when it takes effect (a seat reservation, a captured payment),
/// as its compensation sees it.
pub trait ActionEffect: Send + Sync {
    /// The words for this service's messages.
    const WORDING: Wording;

    /// The event announcing that an action was ruled out before it took effect.
    type Voided: DomainEvent;

    /// The trip the effect belongs to; a compensation for another trip is refused.
    fn trip_id(&self) -> TripId;

    /// The event announcing that the action `action` of `trip_id` was ruled out.
    fn voided(trip_id: TripId, action: &IdempotencyKey) -> Self::Voided;
}

/// What a compensation answers (what it gave back).
pub trait CompensationOutcome: Send + Sized {
    /// The answer of a compensation that had nothing to undo.
    fn nothing_to_undo() -> Self;
}

/// The half of the compensation port that is the same in every service: the idempotency records
/// of actions (effect `E`) and of their compensations (answer `O`). Written once per kind of
/// storage: [`InMemoryJournal`] under an in-memory store's lock, and
/// [`TableRecords`](crate::dynamo::compensation::TableRecords) in the single table. Each write is
/// atomic and stores the compensation key's answer.
pub trait CompensationRecords<E, O>: Send + Sync {
    /// What the action invocation `action` left behind, if anything.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the key's record is not an action's.
    fn action<'a>(
        &'a self,
        action: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<Action<E>>, InfraError>>;

    /// Rules out `action`, which has no record yet, by writing a marker as its record, and
    /// records `nothing_to_undo` under `compensation`, with `event`, atomically.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when `compensation` was used by another kind of
    /// invocation.
    fn void<'a>(
        &'a self,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
        event: EventEnvelope,
    ) -> BoxFuture<'a, Result<Void<O>, InfraError>>;

    /// Records `outcome` under `compensation`, changing nothing else; returns the result stored
    /// earlier under that key if there is one.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when `compensation` was used by another kind of
    /// invocation.
    fn record<'a>(
        &'a self,
        compensation: &'a IdempotencyKey,
        outcome: O,
    ) -> BoxFuture<'a, Result<O, InfraError>>;
}

/// The compensation port, implemented by each service's repository with what is specific to
/// it: how to undo its effect. The records are the kernel's ([`CompensationRecords`]). Its
/// methods return [`BoxFuture`] (see there why) so that a service's repository port, which
/// extends this one, can be used as `dyn`.
pub trait CompensationStore: Send + Sync {
    /// What the action leaves behind when it takes effect.
    type Effect: ActionEffect;
    /// The compensation's result.
    type Outcome: CompensationOutcome;

    /// The store's idempotency records.
    fn records(&self) -> &dyn CompensationRecords<Self::Effect, Self::Outcome>;

    /// Undoes `effect` (made by `action`) if it is still in effect: gives back what it took,
    /// marks it and `action` compensated and records the result under `compensation`, with an
    /// event announcing it, atomically.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an item the effect took from, or the action's
    /// record, is missing, or `compensation` was used by another kind of invocation.
    fn undo<'a>(
        &'a self,
        effect: &'a Self::Effect,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Undo<Self::Outcome>, InfraError>>;
}

/// Compensates the action `action` of `trip_id` on `store`, as the invocation `compensation`
/// (see the module docs for the protocol).
///
/// # Errors
/// The store's failures; `StoreFailed` when the action's effect belongs to another trip;
/// `StoreConflict` (transient) when the action kept changing for [`ROUNDS`] rounds.
pub async fn compensate<S: CompensationStore + ?Sized>(
    store: &S,
    trip_id: TripId,
    action: &IdempotencyKey,
    compensation: &IdempotencyKey,
) -> Result<S::Outcome, InfraError> {
    let words = <S::Effect as ActionEffect>::WORDING;
    let records = store.records();
    for _ in 0..ROUNDS {
        match records.action(action).await? {
            Some(Action::TookEffect(effect)) => {
                let effect_trip = effect.trip_id();
                if effect_trip != trip_id {
                    return Err(InfraError::failed(format!(
                        "action {action} {} trip {effect_trip}, not {trip_id}",
                        words.action_did
                    )));
                }
                return match store.undo(&effect, action, compensation).await? {
                    Undo::Undone(outcome) => {
                        // The look-up found the effect in place, and undoing it marks the action
                        // compensated in the same write: an earlier call with this key would have
                        // been seen, so this call is the one that undid it.
                        metrics::compensated_by(compensation, Compensated::Undone);
                        Ok(outcome)
                    }
                    // Another compensation undid it first; answer (and remember) "nothing".
                    Undo::AlreadyUndone => {
                        records
                            .record(compensation, S::Outcome::nothing_to_undo())
                            .await
                    }
                };
            }
            Some(Action::Compensated) => {
                // Undone or ruled out already, possibly by this very key: recording returns the
                // first answer stored under it, so a retry reports what it actually did.
                return records
                    .record(compensation, S::Outcome::nothing_to_undo())
                    .await;
            }
            None => {
                let voided = <S::Effect as ActionEffect>::voided(trip_id, action);
                let event = EventEnvelope::for_outbox(&voided, OffsetDateTime::now_utc())?;
                match records.void(action, compensation, event).await? {
                    Void::Voided(outcome) => {
                        // As for an undo: an earlier void with this key left the marker the
                        // look-up would have found.
                        metrics::compensated_by(compensation, Compensated::Voided);
                        return Ok(outcome);
                    }
                    Void::ActionTookEffect => {
                        tracing::info!(
                            action_idempotency_key = %action,
                            "the {} {} during its {}; {} it",
                            words.effect,
                            words.took_effect,
                            words.compensation,
                            words.undoing
                        );
                    }
                }
            }
        }
    }
    Err(InfraError::conflict(format!(
        "the {} {action} kept changing during {ROUNDS} {} rounds",
        words.effect, words.compensation
    )))
}

#[cfg(test)]
mod tests {
    use std::future::ready;
    use std::sync::Mutex;

    use super::*;
    use crate::InfraErrorKind;
    use crate::events::test_event::Happened;

    /// One action and one compensation key, in memory, with the race injectable: `commits_late`
    /// makes the action commit (for `effect_trip`) the next time a void is attempted, as a
    /// timed-out action invocation that was still running would.
    struct Store {
        state: Mutex<State>,
    }

    #[derive(Default)]
    struct State {
        /// The action's record: `Some(true)` took effect, `Some(false)` compensated.
        action: Option<bool>,
        /// The compensation's recorded result.
        recorded: Option<&'static str>,
        /// Voids that find the action committing under them, and then make it commit.
        commits_late: usize,
        effect_trip: Option<TripId>,
        undone_by_another: bool,
        /// The look-up never finds the action, even once it committed.
        hides_the_action: bool,
        calls: Vec<&'static str>,
    }

    impl Store {
        fn new(state: State) -> Self {
            Self {
                state: Mutex::new(state),
            }
        }

        fn calls(&self) -> Vec<&'static str> {
            self.state.lock().unwrap().calls.clone()
        }
    }

    const WORDS: Wording = Wording {
        effect: "reservation",
        compensation: "cancellation",
        action_did: "reserved seats for",
        took_effect: "committed",
        undoing: "releasing",
    };

    /// An effect: the trip it was for.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Booked(TripId);

    impl ActionEffect for Booked {
        const WORDING: Wording = WORDS;
        type Voided = Happened;
        fn trip_id(&self) -> TripId {
            self.0
        }
        fn voided(_: TripId, _: &IdempotencyKey) -> Happened {
            Happened("Voided")
        }
    }

    impl CompensationOutcome for &'static str {
        fn nothing_to_undo() -> Self {
            "nothing"
        }
    }

    impl Store {
        fn undo_now(&self) -> Undo<&'static str> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("undo");
            if state.undone_by_another {
                return Undo::AlreadyUndone;
            }
            state.action = Some(false);
            state.recorded = Some("released");
            Undo::Undone("released")
        }
    }

    impl CompensationRecords<Booked, &'static str> for Store {
        fn action<'a>(
            &'a self,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<Option<Action<Booked>>, InfraError>> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("action");
            let found = match state.action {
                _ if state.hides_the_action => None,
                None => None,
                Some(true) => Some(Action::TookEffect(Booked(state.effect_trip.unwrap()))),
                Some(false) => Some(Action::Compensated),
            };
            Box::pin(ready(Ok(found)))
        }

        fn void<'a>(
            &'a self,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
            event: EventEnvelope,
        ) -> BoxFuture<'a, Result<Void<&'static str>, InfraError>> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("void");
            assert_eq!(event.event_type, "Voided");
            if state.commits_late > 0 {
                state.commits_late -= 1;
                state.action = Some(true);
                return Box::pin(ready(Ok(Void::ActionTookEffect)));
            }
            state.action = Some(false);
            state.recorded = Some("nothing");
            Box::pin(ready(Ok(Void::Voided("nothing"))))
        }

        fn record<'a>(
            &'a self,
            _: &'a IdempotencyKey,
            outcome: &'static str,
        ) -> BoxFuture<'a, Result<&'static str, InfraError>> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("record");
            Box::pin(ready(Ok(*state.recorded.get_or_insert(outcome))))
        }
    }

    impl CompensationStore for Store {
        type Effect = Booked;
        type Outcome = &'static str;

        fn records(&self) -> &dyn CompensationRecords<Booked, &'static str> {
            self
        }

        fn undo<'a>(
            &'a self,
            _: &'a Booked,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<Undo<&'static str>, InfraError>> {
            Box::pin(ready(Ok(self.undo_now())))
        }
    }

    fn keys() -> (IdempotencyKey, IdempotencyKey) {
        (
            IdempotencyKey::parse("e:ReserveFlight").unwrap(),
            IdempotencyKey::parse("e:CancelFlight").unwrap(),
        )
    }

    #[tokio::test]
    async fn an_effect_is_undone() {
        let trip = TripId::new();
        let store = Store::new(State {
            action: Some(true),
            effect_trip: Some(trip),
            ..State::default()
        });
        let (action, cancel) = keys();
        assert_eq!(
            compensate(&store, trip, &action, &cancel).await.unwrap(),
            "released"
        );
        assert_eq!(store.calls(), ["action", "undo"]);
    }

    #[tokio::test]
    async fn an_effect_undone_by_another_compensation_records_nothing() {
        let trip = TripId::new();
        let store = Store::new(State {
            action: Some(true),
            effect_trip: Some(trip),
            undone_by_another: true,
            ..State::default()
        });
        let (action, cancel) = keys();
        assert_eq!(
            compensate(&store, trip, &action, &cancel).await.unwrap(),
            "nothing"
        );
        assert_eq!(store.calls(), ["action", "undo", "record"]);
    }

    #[tokio::test]
    async fn a_compensated_action_returns_the_first_answer() {
        let store = Store::new(State {
            action: Some(false),
            recorded: Some("released"),
            ..State::default()
        });
        let (action, cancel) = keys();
        let outcome = compensate(&store, TripId::new(), &action, &cancel).await;
        assert_eq!(outcome.unwrap(), "released");
        assert_eq!(store.calls(), ["action", "record"]);
    }

    #[tokio::test]
    async fn a_missing_action_is_voided() {
        let store = Store::new(State::default());
        let (action, cancel) = keys();
        let outcome = compensate(&store, TripId::new(), &action, &cancel).await;
        assert_eq!(outcome.unwrap(), "nothing");
        assert_eq!(store.calls(), ["action", "void"]);
    }

    #[tokio::test]
    async fn an_action_that_commits_during_the_compensation_is_undone_next_round() {
        let trip = TripId::new();
        let store = Store::new(State {
            commits_late: 1,
            effect_trip: Some(trip),
            ..State::default()
        });
        let (action, cancel) = keys();
        assert_eq!(
            compensate(&store, trip, &action, &cancel).await.unwrap(),
            "released"
        );
        assert_eq!(store.calls(), ["action", "void", "action", "undo"]);
    }

    #[tokio::test]
    async fn a_race_that_never_settles_is_a_transient_conflict_after_the_rounds() {
        // Never sees the action, and always loses the void to it.
        let racing = Store::new(State {
            commits_late: usize::MAX,
            hides_the_action: true,
            ..State::default()
        });
        let (action, cancel) = keys();
        let error = compensate(&racing, TripId::new(), &action, &cancel)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), InfraErrorKind::Conflict);
        assert_eq!(
            error.message(),
            format!("the reservation {action} kept changing during 3 cancellation rounds")
        );
    }

    #[tokio::test]
    async fn an_effect_of_another_trip_is_refused_without_writing() {
        let (theirs, ours) = (TripId::new(), TripId::new());
        let store = Store::new(State {
            action: Some(true),
            effect_trip: Some(theirs),
            ..State::default()
        });
        let (action, cancel) = keys();
        let error = compensate(&store, ours, &action, &cancel)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), InfraErrorKind::Failed);
        assert_eq!(
            error.message(),
            format!("action {action} reserved seats for trip {theirs}, not {ours}")
        );
        assert_eq!(store.calls(), ["action"]);
    }
}
