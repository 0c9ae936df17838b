//! Aggregate versions for optimistic locking.
//!
//! An aggregate item carries a `version` attribute. A writer reads the item, decides, and writes it
//! back on the condition that the version is still the one it read, storing the next version; two
//! writers that read the same version cannot both succeed. [`crate::dynamo::Write::put_versioned`]
//! builds that conditional write.

use serde::{Deserialize, Serialize};

/// How many times an aggregate has been stored; [`AggregateVersion::NEW`] (0) means "never".
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct AggregateVersion(u64);

impl AggregateVersion {
    /// The version of an aggregate that has not been stored yet.
    pub const NEW: Self = Self(0);

    /// The version read from storage.
    pub const fn from_stored(version: u64) -> Self {
        Self(version)
    }

    /// The version the next successful write stores.
    #[must_use]
    pub const fn next(self) -> Self {
        // u64 cannot overflow in practice (one write per nanosecond for 584 years); saturate
        // rather than panic so the conditional write, not the arithmetic, reports the problem.
        Self(self.0.saturating_add(1))
    }

    /// Whether the aggregate was never stored.
    pub const fn is_new(self) -> bool {
        self.0 == 0
    }

    /// The number stored in the `version` attribute.
    pub const fn value(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for AggregateVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_writes() {
        assert!(AggregateVersion::NEW.is_new());
        let first = AggregateVersion::NEW.next();
        assert_eq!(first.value(), 1);
        assert!(!first.is_new());
        assert!(first < first.next());
        assert_eq!(
            AggregateVersion::from_stored(u64::MAX).next().value(),
            u64::MAX
        );
    }
}
