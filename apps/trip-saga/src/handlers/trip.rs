//! The trip's own steps: create it first, confirm it last (the saga's pivot), lock it against
//! confirmation when the confirmation fails, cancel it as the last compensation, mark it for
//! attention when compensations are left undone.

use kernel::{InfraError, TripId};
use saga_runtime::{ActionRequest, CompensationRequest, EscalationRequest, PivotCheck};
use serde::{Deserialize, Serialize};

use super::{describe, step_key};
use crate::TripContext;
use crate::trip_booking::results;
use trip::application::{ConfirmTripError, CreateTripError, Locked};
use trip::domain::{Charges, Trip, TripRequest, TripStatus};

/// What the trip steps return: the trip's status after the step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TripSummary {
    /// The trip.
    pub trip_id: TripId,
    /// Its status now.
    pub status: TripStatus,
    /// Why it is cancelled or needs attention.
    pub reason: Option<String>,
}

impl From<Trip> for TripSummary {
    fn from(trip: Trip) -> Self {
        Self {
            trip_id: trip.trip_id,
            status: trip.status,
            reason: trip.reason,
        }
    }
}

/// `CreateTrip`: the trip exists, pending.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn create(
    context: &TripContext,
    request: ActionRequest<TripRequest>,
) -> Result<TripSummary, CreateTripError> {
    let key = step_key(&request.context)?;
    Ok(context.trips.create(request.input, &key).await?.into())
}

/// `CancelTrip`, the last compensation: the trip is cancelled with the error that started
/// compensation, but only when nothing it took is still held. An earlier compensation that failed
/// for good leaves seats, rooms or a payment behind; the trip then needs attention, naming them,
/// so that it never reads CANCELLED while something is held (whether or not the escalation that
/// follows manages to say more).
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn cancel(
    context: &TripContext,
    request: CompensationRequest<TripRequest, TripSummary>,
) -> Result<TripSummary, InfraError> {
    let key = step_key(&request.context)?;
    let trip_id = request.input.trip_id;
    let reason = describe(&request.failure);
    let held = still_held(context, trip_id).await?;
    let trip = if held.is_empty() {
        context.trips.cancel(trip_id, &reason, &key).await?
    } else {
        let reason = format!("{}; after {reason}", held_phrase(&held));
        context.trips.escalate(trip_id, &reason, &key).await?
    };
    Ok(trip.into())
}

/// What the trip's bookings still hold, as the store says: `2 seat(s) reserved`,
/// `1 room(s) a night reserved`, `payment of 450.00 USD captured`.
async fn still_held(context: &TripContext, trip_id: TripId) -> Result<Vec<String>, InfraError> {
    let mut held = Vec::new();
    if let Some(seats) = context.flights.reservation(trip_id).await?
        && seats.status == flight::ReservationStatus::Reserved
    {
        held.push(format!("{} seat(s) reserved", seats.passengers.get()));
    }
    if let Some(rooms) = context.hotels.reservation(trip_id).await?
        && rooms.status == hotel::ReservationStatus::Reserved
    {
        held.push(format!("{} room(s) a night reserved", rooms.rooms));
    }
    if let Some(payment) = context.payments.payment(trip_id).await?
        && payment.status == payment::PaymentStatus::Captured
    {
        held.push(format!("payment of {} captured", payment.amount));
    }
    Ok(held)
}

/// `still held: 2 seat(s) reserved, …`, or `still held: nothing`: the part of a reason an
/// operator acts on, in one form whoever writes it.
fn held_phrase(held: &[String]) -> String {
    if held.is_empty() {
        "still held: nothing".to_owned()
    } else {
        format!("still held: {}", held.join(", "))
    }
}

/// `ConfirmTrip`: every booking is in place and paid; the trip records what it cost.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn confirm(
    context: &TripContext,
    request: ActionRequest<TripRequest, results::ConfirmTrip>,
) -> Result<TripSummary, ConfirmTripError> {
    let key = step_key(&request.context)?;
    let done = &request.results;
    let charges = Charges {
        flight: done.reserve_flight.total,
        hotel: done.reserve_hotel.total,
        paid: done.process_payment.amount,
    };
    Ok(context
        .trips
        .confirm(request.input.trip_id, charges, &key)
        .await?
        .into())
}

/// `LockTrip`, the guard of the pivot `ConfirmTrip`: when the confirmation failed (or its answer
/// was lost), either the trip is confirmed after all, and the saga ends confirmed with nothing
/// undone, or it is moved to cancelling with a conditional write, so that no late or retried
/// confirmation can confirm it while its bookings are undone.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn lock(
    context: &TripContext,
    request: CompensationRequest<TripRequest, TripSummary>,
) -> Result<PivotCheck, InfraError> {
    let key = step_key(&request.context)?;
    let reason = describe(&request.failure);
    let locked = context
        .trips
        .lock(request.input.trip_id, &reason, &key)
        .await?;
    Ok(match locked {
        Locked::Confirmed(_) => {
            tracing::warn!(
                reason,
                "the confirmation took effect although it failed: the trip stays confirmed"
            );
            PivotCheck::COMMITTED
        }
        Locked::Locked(_) | Locked::Missing => PivotCheck::LOCKED,
    })
}

/// `EscalateTrip`: the trip needs an operator; the reason lists what is left undone.
///
/// It never depends on the saga's input decoding (an input that does not decode is the likeliest
/// reason every compensation failed): the trip id is then read from the raw input. When there is
/// no trip id at all there is no trip to mark; the escalation logs the execution at ERROR level
/// and counts it (`trip.saga.escalations`) for the alarms and succeeds, and the execution still
/// fails with `TripBooking.CompensationFailed`, whose history holds the input.
#[tracing::instrument(skip_all, fields(execution_id = %request.context.execution_id))]
pub async fn escalate(
    context: &TripContext,
    request: EscalationRequest<TripRequest>,
) -> Result<Option<TripSummary>, InfraError> {
    let key = step_key(&request.context)?;
    let undone: Vec<String> = request
        .undone
        .iter()
        .map(|u| format!("{} ({})", u.state, describe(&u.failure)))
        .collect();
    let trip_id = match &request.input {
        Ok(input) => Some(input.trip_id),
        Err(invalid) => invalid
            .raw
            .get("trip_id")
            .and_then(|id| serde_json::from_value::<TripId>(id.clone()).ok()),
    };
    // What failed is not what is held: a compensation that failed may have done its work (its
    // response was lost), and a pivot's guard that failed stopped compensations that never ran.
    // The store says what the operator must undo; if it cannot be read (the likeliest reason
    // the compensations failed), the escalation still records what it knows.
    let held = match trip_id {
        Some(trip_id) => match still_held(context, trip_id).await {
            Ok(held) => held_phrase(&held),
            Err(e) => format!("still held: unknown (the bookings could not be read: {e})"),
        },
        None => "still held: unknown (no trip id)".to_owned(),
    };
    let mut reason = format!(
        "left undone: {}; {held}; after {}",
        undone.join(", "),
        describe(&request.failure)
    );
    if let Err(invalid) = &request.input {
        reason = format!("{reason}; {invalid}");
    }
    let Some(trip_id) = trip_id else {
        // No trip records the escalation, so nothing tells this call from a retry of it: a
        // retry after a lost answer counts it twice, which an operator's alarm prefers to never.
        kernel::telemetry::metrics::escalated();
        tracing::error!(
            reason,
            input = %request.input.as_ref().err().map(|i| i.raw.to_string()).unwrap_or_default(),
            "compensations were left undone for an input without a trip id: no trip to mark"
        );
        return Ok(None);
    };
    Ok(Some(
        context.trips.escalate(trip_id, &reason, &key).await?.into(),
    ))
}
