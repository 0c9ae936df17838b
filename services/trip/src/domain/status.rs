//! Where a trip is in its life.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The status of a trip, readable at every point of the saga.
///
/// `Pending` while the saga runs; it ends `Confirmed`, or `Cancelled` when a step failed and
/// everything was undone, or `NeedsAttention` when some compensation could not be completed and
/// an operator must finish it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TripStatus {
    /// The saga is running.
    Pending,
    /// The saga is undoing its steps: the trip can no longer be confirmed (the semantic lock
    /// its pivot's guard takes).
    Cancelling,
    /// Flight, hotel and payment are all in place.
    Confirmed,
    /// A step failed; every completed step was undone.
    Cancelled,
    /// A compensation failed after all its retries; see the reason.
    NeedsAttention,
}

impl TripStatus {
    /// Every status, in the order of a trip's life.
    pub const ALL: [TripStatus; 5] = [
        TripStatus::Pending,
        TripStatus::Cancelling,
        TripStatus::Confirmed,
        TripStatus::Cancelled,
        TripStatus::NeedsAttention,
    ];

    /// The name stored and shown: `PENDING`, `CANCELLING`, `CONFIRMED`, `CANCELLED`,
    /// `NEEDS_ATTENTION`.
    pub fn as_str(self) -> &'static str {
        match self {
            TripStatus::Pending => "PENDING",
            TripStatus::Cancelling => "CANCELLING",
            TripStatus::Confirmed => "CONFIRMED",
            TripStatus::Cancelled => "CANCELLED",
            TripStatus::NeedsAttention => "NEEDS_ATTENTION",
        }
    }

    /// Whether the saga has finished with this trip.
    pub fn is_final(self) -> bool {
        !matches!(self, TripStatus::Pending | TripStatus::Cancelling)
    }
}

impl std::fmt::Display for TripStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TripStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "PENDING" => Ok(TripStatus::Pending),
            "CANCELLING" => Ok(TripStatus::Cancelling),
            "CONFIRMED" => Ok(TripStatus::Confirmed),
            "CANCELLED" => Ok(TripStatus::Cancelled),
            "NEEDS_ATTENTION" => Ok(TripStatus::NeedsAttention),
            other => Err(format!("unknown trip status `{other}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_name() {
        for status in TripStatus::ALL {
            assert_eq!(status.as_str().parse::<TripStatus>().unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!("DONE".parse::<TripStatus>().is_err());
    }
}
