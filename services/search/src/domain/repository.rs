//! The ports of the search side: the search table, and the queue that keeps the change records
//! no projection can ever apply.

use kernel::stream::ChangeRecord;
use kernel::{BoxFuture, InfraError, TripId};
use serde::{Deserialize, Serialize};

use super::{Projection, TripDocument};

/// What applying a projection did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The search table now holds it.
    Written,
    /// The table holds a later version (or this one already): nothing changed.
    Stale,
}

/// One read of one index partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketPage {
    /// Documents in sort-key order.
    pub documents: Vec<TripDocument>,
    /// Set when the partition may hold more after the last document (DynamoDB's
    /// `LastEvaluatedKey`, as a sort key): read again from there.
    pub last_key: Option<String>,
}

/// The search table. Its methods return [`BoxFuture`], as every port's do.
pub trait SearchRepository: Send + Sync {
    /// Applies `projection` if it [supersedes](Projection::supersedes) what the table holds for
    /// its trip, atomically (a conditional write on DynamoDB): concurrent and repeated
    /// deliveries can never make a document go back.
    ///
    /// # Errors
    /// When the store fails.
    fn apply(&self, projection: Projection) -> BoxFuture<'_, Result<Applied, InfraError>>;

    /// The document of `trip_id`, unless there is none or it was removed.
    ///
    /// # Errors
    /// When the store fails.
    fn get(&self, trip_id: TripId) -> BoxFuture<'_, Result<Option<TripDocument>, InfraError>>;

    /// Up to `limit` documents of the index partition `bucket` whose sort keys lie between
    /// `first` and `last` (both included) and after `after`, in sort-key order.
    ///
    /// # Errors
    /// When the store fails.
    fn query<'a>(
        &'a self,
        bucket: &'a str,
        first: &'a str,
        last: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<BucketPage, InfraError>>;
}

/// A change record that can never be projected, and why: enough to look at it and to replay it
/// once the cause is fixed (it is the record itself, as Lambda delivered it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Why it was set aside.
    pub reason: String,
    /// The record.
    pub record: ChangeRecord,
}

/// Where dead letters go: an SQS queue on AWS, memory locally.
pub trait DeadLetters: Send + Sync {
    /// Keeps `letter` until it is replayed.
    ///
    /// # Errors
    /// When the queue cannot be reached: the record is then retried, never dropped.
    fn send(&self, letter: DeadLetter) -> BoxFuture<'_, Result<(), InfraError>>;
}
