//! The compensation protocol every service's undo step follows (flight's `CancelFlight`, hotel's
//! `CancelHotel`, payment's `RefundPayment`), written once: [`compensate`] runs it on any store
//! that implements [`CompensationStore`].
//!
//! A compensation runs after its action step failed or a later step did, and must cope with every
//! state the action can be in. It looks up what the action's idempotency key left behind:
//!
//! | what the action key left behind | what the compensation does                               |
//! |---------------------------------|----------------------------------------------------------|
//! | an effect (a reservation, a captured payment) | undoes it: gives back what it took, marks it and the action compensated ([`CompensationStore::undo`]); if another compensation undid it first, records `nothing_to_undo` |
//! | a compensated action            | nothing (undone or ruled out already): records `nothing_to_undo` |
//! | nothing (the action never committed, or has not *yet*: a timed-out invocation may still be running) | voids the action with a marker, so a late run finds it and fails (`AlreadyCancelled`, `AlreadyRefunded`) instead of taking effect: `nothing_to_undo` ([`CompensationStore::void`]) |
//!
//! Each path stores its result under the compensation's own key, so a retried compensation
//! returns the first one's answer.
//!
//! The look-up and the write are separate calls, so the action may commit in between: voiding
//! then finds its record and answers [`Void::ActionTookEffect`], and the next round sees the
//! effect. [`ROUNDS`] bounds the loop; a race that never settles ends in a transient
//! `StoreConflict`, which the saga retries.

use std::future::Future;

use crate::dynamo::IdempotencyKey;
use crate::{InfraError, TripId};

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
    /// It was compensated: its effect was undone, or it was ruled out before it ran.
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

/// The result of [`CompensationStore::void`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Void<R> {
    /// The action is ruled out and the compensation's result recorded (now, or by an earlier
    /// call with the same key, whose result this is).
    Voided(R),
    /// The action committed after all (between the look-up and this call); nothing was written.
    ActionTookEffect,
}

/// The words a service's messages use for its action and compensation, so the shared routine
/// reports in each service's own terms (the errors and log lines are the same as before the
/// routine was shared).
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

/// The store operations a compensation needs. Each write is one atomic, idempotent step that
/// also stores the compensation key's result.
pub trait CompensationStore: Sync {
    /// What the action leaves behind when it takes effect (a reservation, a payment receipt).
    type Effect: Send + Sync;
    /// The compensation's result (what was given back).
    type Outcome: Send;

    /// The words for this service's messages.
    const WORDING: Wording;

    /// The trip `effect` belongs to; a compensation for another trip is refused.
    fn trip_of(effect: &Self::Effect) -> TripId;

    /// The result of a compensation that had nothing to undo.
    fn nothing_to_undo() -> Self::Outcome;

    /// What the action invocation `action` left behind, if anything.
    fn action<'a>(
        &'a self,
        action: &'a IdempotencyKey,
    ) -> impl Future<Output = Result<Option<Action<Self::Effect>>, InfraError>> + Send + 'a;

    /// Undoes `effect` (made by `action`) if it is still in effect, marks `action` compensated
    /// and records the result under `compensation`.
    fn undo<'a>(
        &'a self,
        effect: &'a Self::Effect,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> impl Future<Output = Result<Undo<Self::Outcome>, InfraError>> + Send + 'a;

    /// Rules out `action`, which has no record yet, by writing a marker as its record, and
    /// records `nothing_to_undo` under `compensation`.
    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> impl Future<Output = Result<Void<Self::Outcome>, InfraError>> + Send + 'a;

    /// Records `outcome` under `compensation`, changing nothing else; returns the result stored
    /// earlier under that key if there is one.
    fn record<'a>(
        &'a self,
        compensation: &'a IdempotencyKey,
        outcome: Self::Outcome,
    ) -> impl Future<Output = Result<Self::Outcome, InfraError>> + Send + 'a;
}

/// Compensates the action `action` of `trip_id` on `store`, as the invocation `compensation`
/// (see the module docs for the protocol).
///
/// # Errors
/// The store's failures; `StoreFailed` when the action's effect belongs to another trip;
/// `StoreConflict` (transient) when the action kept changing for [`ROUNDS`] rounds.
pub async fn compensate<S: CompensationStore>(
    store: &S,
    trip_id: TripId,
    action: &IdempotencyKey,
    compensation: &IdempotencyKey,
) -> Result<S::Outcome, InfraError> {
    let words = S::WORDING;
    for _ in 0..ROUNDS {
        match store.action(action).await? {
            Some(Action::TookEffect(effect)) => {
                let effect_trip = S::trip_of(&effect);
                if effect_trip != trip_id {
                    return Err(InfraError::failed(format!(
                        "action {action} {} trip {effect_trip}, not {trip_id}",
                        words.action_did
                    )));
                }
                return match store.undo(&effect, action, compensation).await? {
                    Undo::Undone(outcome) => Ok(outcome),
                    // Another compensation undid it first; answer (and remember) "nothing".
                    Undo::AlreadyUndone => store.record(compensation, S::nothing_to_undo()).await,
                };
            }
            Some(Action::Compensated) => {
                // Undone or ruled out already, possibly by this very key: recording returns the
                // first answer stored under it, so a retry reports what it actually did.
                return store.record(compensation, S::nothing_to_undo()).await;
            }
            None => match store.void(trip_id, action, compensation).await? {
                Void::Voided(outcome) => return Ok(outcome),
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
            },
        }
    }
    Err(InfraError::conflict(format!(
        "the {} {action} kept changing during {ROUNDS} {} rounds",
        words.effect, words.compensation
    )))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::InfraErrorKind;

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

    impl CompensationStore for Store {
        type Effect = TripId;
        type Outcome = &'static str;
        const WORDING: Wording = WORDS;

        fn trip_of(effect: &TripId) -> TripId {
            *effect
        }

        fn nothing_to_undo() -> &'static str {
            "nothing"
        }

        async fn action(&self, _: &IdempotencyKey) -> Result<Option<Action<TripId>>, InfraError> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("action");
            Ok(match state.action {
                None => None,
                Some(true) => Some(Action::TookEffect(state.effect_trip.unwrap())),
                Some(false) => Some(Action::Compensated),
            })
        }

        async fn undo(
            &self,
            _: &TripId,
            _: &IdempotencyKey,
            _: &IdempotencyKey,
        ) -> Result<Undo<&'static str>, InfraError> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("undo");
            if state.undone_by_another {
                return Ok(Undo::AlreadyUndone);
            }
            state.action = Some(false);
            state.recorded = Some("released");
            Ok(Undo::Undone("released"))
        }

        async fn void(
            &self,
            _: TripId,
            _: &IdempotencyKey,
            _: &IdempotencyKey,
        ) -> Result<Void<&'static str>, InfraError> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("void");
            if state.commits_late > 0 {
                state.commits_late -= 1;
                state.action = Some(true);
                return Ok(Void::ActionTookEffect);
            }
            state.action = Some(false);
            state.recorded = Some("nothing");
            Ok(Void::Voided("nothing"))
        }

        async fn record(
            &self,
            _: &IdempotencyKey,
            outcome: &'static str,
        ) -> Result<&'static str, InfraError> {
            let mut state = self.state.lock().unwrap();
            state.calls.push("record");
            Ok(*state.recorded.get_or_insert(outcome))
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
        /// Never sees the action, and always loses the void to it.
        struct Racing;
        impl CompensationStore for Racing {
            type Effect = TripId;
            type Outcome = ();
            const WORDING: Wording = WORDS;
            fn trip_of(effect: &TripId) -> TripId {
                *effect
            }
            fn nothing_to_undo() {}
            async fn action(
                &self,
                _: &IdempotencyKey,
            ) -> Result<Option<Action<TripId>>, InfraError> {
                Ok(None)
            }
            async fn undo(
                &self,
                _: &TripId,
                _: &IdempotencyKey,
                _: &IdempotencyKey,
            ) -> Result<Undo<()>, InfraError> {
                unreachable!("the action is never seen")
            }
            async fn void(
                &self,
                _: TripId,
                _: &IdempotencyKey,
                _: &IdempotencyKey,
            ) -> Result<Void<()>, InfraError> {
                Ok(Void::ActionTookEffect)
            }
            async fn record(&self, _: &IdempotencyKey, (): ()) -> Result<(), InfraError> {
                unreachable!("nothing is recorded")
            }
        }
        let (action, cancel) = keys();
        let error = compensate(&Racing, TripId::new(), &action, &cancel)
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
