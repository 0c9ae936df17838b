//! The search table's port.

use kernel::{BoxFuture, InfraError, TripId};

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
