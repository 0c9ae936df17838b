//! The trip aggregate and the rules of its status.

use kernel::{AggregateVersion, Money, TripId};
use serde::{Deserialize, Serialize};

use super::{TripEvent, TripRequest, TripStatus};

/// A trip and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trip {
    /// The trip's id.
    pub trip_id: TripId,
    /// Its status.
    pub status: TripStatus,
    /// Why it is cancelled or needs attention.
    pub reason: Option<String>,
    /// What was asked for; `None` for a trip whose creation never ran (its saga failed first).
    pub request: Option<TripRequest>,
    /// What the trip cost, recorded when it is confirmed.
    pub charges: Option<Charges>,
    /// For optimistic locking: the version this value was read at.
    pub version: AggregateVersion,
}

/// What a confirmed trip cost: the bookings' totals and the amount the payment captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Charges {
    /// The flight reservation's total.
    pub flight: Money,
    /// The hotel reservation's total.
    pub hotel: Money,
    /// What the card was charged.
    pub paid: Money,
}

/// What a status change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The trip changed; store it and announce the event.
    Changed(TripEvent),
    /// The trip already had that status: nothing to store (a retried or repeated step).
    Unchanged,
    /// The change is not allowed from the current status.
    Refused {
        /// The status the trip has.
        current: TripStatus,
    },
}

impl Trip {
    /// A new trip, pending while its saga runs.
    pub fn requested(request: TripRequest) -> (Self, TripEvent) {
        let trip = Trip {
            trip_id: request.trip_id,
            status: TripStatus::Pending,
            reason: None,
            request: Some(request),
            charges: None,
            version: AggregateVersion::NEW,
        };
        let event = TripEvent::TripRequested {
            trip_id: trip.trip_id,
        };
        (trip, event)
    }

    /// A trip recorded by a compensation or the escalation when its creation never ran, so that
    /// its final status can be read and a late creation cannot bring it back to life.
    pub fn settled_without_request(
        trip_id: TripId,
        status: TripStatus,
        reason: String,
    ) -> (Self, TripEvent) {
        let trip = Trip {
            trip_id,
            status,
            reason: Some(reason.clone()),
            request: None,
            charges: None,
            version: AggregateVersion::NEW,
        };
        let event = TripEvent::TripSettled {
            trip_id,
            status,
            reason: Some(reason),
        };
        (trip, event)
    }

    /// Pending → confirmed: every booking is in place and paid, for `charges`.
    pub fn confirm(&mut self, charges: Charges) -> Transition {
        match self.status {
            TripStatus::Confirmed => Transition::Unchanged,
            TripStatus::Pending => {
                self.charges = Some(charges);
                self.settle(TripStatus::Confirmed, None)
            }
            current => Transition::Refused { current },
        }
    }

    /// Pending → cancelling: the semantic lock that the saga's compensation takes first, so
    /// that a late or retried confirmation can no longer confirm the trip. Refused when the trip
    /// is confirmed already (the confirmation took effect: nothing is to be undone); a trip that
    /// is cancelling, cancelled or needs attention stays as it is (it cannot be confirmed).
    pub fn lock(&mut self, reason: String) -> Transition {
        match self.status {
            TripStatus::Pending => {
                self.status = TripStatus::Cancelling;
                self.reason = Some(reason.clone());
                Transition::Changed(TripEvent::TripCancelling {
                    trip_id: self.trip_id,
                    reason,
                })
            }
            TripStatus::Cancelling | TripStatus::Cancelled | TripStatus::NeedsAttention => {
                Transition::Unchanged
            }
            current @ TripStatus::Confirmed => Transition::Refused { current },
        }
    }

    /// Pending or cancelling → cancelled, with the error that started compensation.
    ///
    /// A trip that needs attention stays so: the escalation knows more than the cancellation.
    pub fn cancel(&mut self, reason: String) -> Transition {
        match self.status {
            TripStatus::Cancelled | TripStatus::NeedsAttention => Transition::Unchanged,
            TripStatus::Pending | TripStatus::Cancelling => {
                self.settle(TripStatus::Cancelled, Some(reason))
            }
            current @ TripStatus::Confirmed => Transition::Refused { current },
        }
    }

    /// Any status but confirmed → needs attention: compensations were left undone.
    pub fn needs_attention(&mut self, reason: String) -> Transition {
        match self.status {
            TripStatus::NeedsAttention if self.reason.as_deref() == Some(reason.as_str()) => {
                Transition::Unchanged
            }
            TripStatus::Confirmed => Transition::Refused {
                current: TripStatus::Confirmed,
            },
            _ => self.settle(TripStatus::NeedsAttention, Some(reason)),
        }
    }

    fn settle(&mut self, status: TripStatus, reason: Option<String>) -> Transition {
        self.status = status;
        self.reason.clone_from(&reason);
        Transition::Changed(TripEvent::TripSettled {
            trip_id: self.trip_id,
            status,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Trip {
        Trip {
            trip_id: TripId::new(),
            status: TripStatus::Pending,
            reason: None,
            request: None,
            charges: None,
            version: AggregateVersion::NEW,
        }
    }

    fn charges() -> Charges {
        let usd = |text| Money::parse(text).unwrap();
        Charges {
            flight: usd("600.00 USD"),
            hotel: usd("450.00 USD"),
            paid: usd("1050.00 USD"),
        }
    }

    #[test]
    fn a_pending_trip_confirms_once() {
        let mut trip = pending();
        assert!(matches!(
            trip.confirm(charges()),
            Transition::Changed(TripEvent::TripSettled {
                status: TripStatus::Confirmed,
                ..
            })
        ));
        assert_eq!(trip.confirm(charges()), Transition::Unchanged);
        assert_eq!(
            trip.cancel("late".into()),
            Transition::Refused {
                current: TripStatus::Confirmed
            }
        );
        assert_eq!(trip.status, TripStatus::Confirmed);
    }

    #[test]
    fn a_cancelled_trip_keeps_its_first_reason_and_cannot_be_confirmed() {
        let mut trip = pending();
        assert!(matches!(
            trip.cancel("SoldOut: no seat".into()),
            Transition::Changed(_)
        ));
        assert_eq!(trip.cancel("again".into()), Transition::Unchanged);
        assert_eq!(trip.reason.as_deref(), Some("SoldOut: no seat"));
        assert_eq!(
            trip.confirm(charges()),
            Transition::Refused {
                current: TripStatus::Cancelled
            }
        );
    }

    #[test]
    fn needs_attention_overrides_a_cancellation_but_not_a_confirmation() {
        let mut trip = pending();
        trip.cancel("Declined".into());
        assert!(matches!(
            trip.needs_attention("CancelHotel failed".into()),
            Transition::Changed(_)
        ));
        assert_eq!(
            trip.needs_attention("CancelHotel failed".into()),
            Transition::Unchanged
        );
        assert_eq!(trip.cancel("again".into()), Transition::Unchanged);
        assert_eq!(trip.status, TripStatus::NeedsAttention);
        let mut confirmed = pending();
        confirmed.confirm(charges());
        assert!(matches!(
            confirmed.needs_attention("x".into()),
            Transition::Refused { .. }
        ));
    }
}
