//! The port through which the trip is stored.

use kernel::dynamo::IdempotencyKey;
use kernel::{AggregateVersion, BoxFuture, InfraError, TripId};

use super::{Trip, TripEvent};

/// One change of a trip, stored with its event and the step's idempotency record.
#[derive(Clone, Debug)]
pub struct TripChange {
    /// The trip as it should be stored.
    pub trip: Trip,
    /// The version it was read at; [`AggregateVersion::NEW`] for a trip that must not exist yet.
    pub expected: AggregateVersion,
    /// What the change announces.
    pub event: TripEvent,
    /// The step invocation making the change.
    pub key: IdempotencyKey,
}

/// What storing a change did.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveOutcome {
    /// Stored; the trip with its new version.
    Saved(Trip),
    /// This step invocation stored its change before; the trip as it stored it.
    AlreadyProcessed(Trip),
    /// The trip changed since it was read (or exists, for a new one): read it again and decide.
    Stale,
}

/// Where trips live. Its methods return [`BoxFuture`], as every port's do (its docs say why).
pub trait TripRepository: Send + Sync {
    /// The trip, if it exists.
    ///
    /// # Errors
    /// When the store fails.
    fn get(&self, trip_id: TripId) -> BoxFuture<'_, Result<Option<Trip>, InfraError>>;

    /// Stores `change` atomically with its event and idempotency record, if the trip is still at
    /// `change.expected` and the key was not used before.
    ///
    /// # Errors
    /// When the store fails.
    fn save(&self, change: TripChange) -> BoxFuture<'_, Result<SaveOutcome, InfraError>>;
}
