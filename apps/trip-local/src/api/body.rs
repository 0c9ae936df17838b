//! The JSON bodies the API answers with. Their schemas, like the request's, are generated from
//! these types, so the published contract ([`openapi`](super::openapi)) is what the handlers send.
//!
//! Every field is always sent, `null` when there is nothing: their schemas are generated for
//! serialisation (see [`super::openapi`]), so an `Option` is required and may be `null`.
//!
//! The services' own types are not sent as they are: the API chooses its field names and
//! statuses here, once, and the `From` impls below are exhaustive matches, so a new status in a
//! service fails to compile here instead of reaching a client unannounced.

use hotel::HotelCode;
use kernel::{
    BookingId, CalendarDate, DateRange, FlightNumber, Money, PassengerCount, PaymentId, TripId,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use trip::domain::{TripRequest, TripStatus};

/// The answer to `POST /trips`: the execution is started (or was, by the same request before).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TripAccepted {
    /// The trip's id: the client's, or one the API assigned.
    pub trip_id: TripId,
    /// The saga execution booking it: `trip-<trip_id>`.
    pub execution_name: String,
    /// Where to follow it.
    pub links: Links,
}

/// Related resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Links {
    /// The trip: `/trips/<trip_id>`.
    #[serde(rename = "self")]
    pub trip: String,
}

/// `GET /trips/{id}`: where a trip stands, what it holds, and the path its saga took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TripView {
    /// The trip's id.
    pub trip_id: TripId,
    /// `PENDING` while the saga runs; then `CONFIRMED`, `CANCELLED` or `NEEDS_ATTENTION`. `null`
    /// only when the execution ended without recording the trip at all.
    pub status: Option<TripState>,
    /// Why the trip is cancelled or needs attention.
    pub reason: Option<String>,
    /// What was asked for (`null` when the trip was settled before its creation ran).
    pub request: Option<TripRequest>,
    /// The flight, hotel and payment as their services hold them now.
    pub bookings: Bookings,
    /// The saga execution; `null` for a trip found in the store that this server did not run
    /// (it was booked before the server restarted).
    pub execution: Option<ExecutionView>,
    /// Related resources.
    pub links: Links,
}

/// A trip's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TripState {
    /// The saga is running.
    Pending,
    /// The saga is undoing the bookings; the trip can no longer be confirmed.
    Cancelling,
    /// Flight, hotel and payment are all in place.
    Confirmed,
    /// A step failed; every completed step was undone.
    Cancelled,
    /// A compensation failed after all its retries: an operator must finish it (see `reason`).
    NeedsAttention,
}

impl From<TripStatus> for TripState {
    fn from(status: TripStatus) -> Self {
        match status {
            TripStatus::Pending => Self::Pending,
            TripStatus::Cancelling => Self::Cancelling,
            TripStatus::Confirmed => Self::Confirmed,
            TripStatus::Cancelled => Self::Cancelled,
            TripStatus::NeedsAttention => Self::NeedsAttention,
        }
    }
}

/// Each booking of the trip; `null` when its step never made one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Bookings {
    /// The seats.
    pub flight: Option<FlightBooking>,
    /// The rooms.
    pub hotel: Option<HotelBooking>,
    /// The payment.
    pub payment: Option<Payment>,
}

/// Whether a reservation still holds what it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationState {
    /// Held for the trip.
    Reserved,
    /// Given back: the saga compensated.
    Cancelled,
}

impl From<flight::ReservationStatus> for ReservationState {
    fn from(status: flight::ReservationStatus) -> Self {
        match status {
            flight::ReservationStatus::Reserved => Self::Reserved,
            flight::ReservationStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<hotel::ReservationStatus> for ReservationState {
    fn from(status: hotel::ReservationStatus) -> Self {
        match status {
            hotel::ReservationStatus::Reserved => Self::Reserved,
            hotel::ReservationStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// Seats on one flight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FlightBooking {
    /// The reservation's id.
    pub reservation_id: BookingId,
    /// The flight.
    pub flight_number: FlightNumber,
    /// Its departure date.
    pub date: CalendarDate,
    /// Seats held: one per passenger.
    pub passengers: PassengerCount,
    /// Fare × passengers.
    pub total: Money,
    /// Held or given back.
    pub status: ReservationState,
}

impl From<flight::SeatReservation> for FlightBooking {
    fn from(reservation: flight::SeatReservation) -> Self {
        Self {
            reservation_id: reservation.reservation_id,
            flight_number: reservation.flight,
            date: reservation.date,
            passengers: reservation.passengers,
            total: reservation.total,
            status: reservation.status.into(),
        }
    }
}

/// Rooms in one hotel for every night of a stay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HotelBooking {
    /// The reservation's id.
    pub reservation_id: BookingId,
    /// The hotel.
    pub hotel: HotelCode,
    /// Check-in to check-out.
    pub stay: DateRange,
    /// Rooms held on each night.
    pub rooms: u32,
    /// The nightly rates times the rooms, over the stay.
    pub total: Money,
    /// Held or given back.
    pub status: ReservationState,
}

impl From<hotel::RoomReservation> for HotelBooking {
    fn from(reservation: hotel::RoomReservation) -> Self {
        Self {
            reservation_id: reservation.reservation_id,
            hotel: reservation.hotel,
            stay: reservation.stay,
            rooms: reservation.rooms,
            total: reservation.total,
            status: reservation.status.into(),
        }
    }
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentState {
    /// The money is taken.
    Captured,
    /// Given back in full: the saga compensated.
    Refunded,
}

impl From<payment::PaymentStatus> for PaymentState {
    fn from(status: payment::PaymentStatus) -> Self {
        match status {
            payment::PaymentStatus::Captured => Self::Captured,
            payment::PaymentStatus::Refunded => Self::Refunded,
        }
    }
}

/// The trip's payment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Payment {
    /// The payment's id.
    pub payment_id: PaymentId,
    /// The amount captured.
    pub amount: Money,
    /// Captured, or refunded since.
    pub status: PaymentState,
}

impl From<payment::PaymentReceipt> for Payment {
    fn from(receipt: payment::PaymentReceipt) -> Self {
        Self {
            payment_id: receipt.payment_id,
            amount: receipt.amount,
            status: receipt.status.into(),
        }
    }
}

/// How an execution stands, with the names Step Functions uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Still running.
    Running,
    /// Reached the end: the trip is confirmed.
    Succeeded,
    /// Ended in a Fail state (the trip was compensated) or could not be run to its end.
    Failed,
    /// The state machine's timeout elapsed.
    TimedOut,
}

impl From<asl_executor::Status> for ExecutionStatus {
    fn from(status: asl_executor::Status) -> Self {
        match status {
            asl_executor::Status::Succeeded => Self::Succeeded,
            asl_executor::Status::Failed => Self::Failed,
            asl_executor::Status::TimedOut => Self::TimedOut,
        }
    }
}

/// The saga execution of a trip: how it stands and the path it took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExecutionView {
    /// `trip-<trip_id>`.
    pub name: String,
    /// Running, or how it ended.
    pub status: ExecutionStatus,
    /// The error it failed with, e.g. `SoldOut` or `TripBooking.CompensationFailed`.
    pub error: Option<String>,
    /// The error's detail.
    pub cause: Option<String>,
    /// Every state entered, in order (`Start`, `CreateTrip`, … then the compensations on
    /// failure). While running: the Task states invoked so far.
    pub states_visited: Vec<String>,
    /// Every invocation of a step or compensation function, in order, retries included.
    pub invocations: Vec<Invocation>,
    /// How many retries the state machine scheduled.
    pub retries: u32,
}

/// One invocation of a step's or compensation's function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Invocation {
    /// The Task state, e.g. `ReserveFlight` or `CancelFlight`.
    pub state: String,
    /// 1 for the first invocation of the state, 2 for its first retry …
    pub attempt: u32,
    /// The error the function reported, as `Retry`/`Catch` match it; `null` when it succeeded.
    pub error: Option<String>,
    /// The error's message.
    pub message: Option<String>,
    /// When it started, in milliseconds since the execution began, on the execution's clock
    /// (virtual unless the server runs in real time, so retry back-offs show here).
    pub at_ms: i64,
}

impl From<&crate::functions::Call> for Invocation {
    fn from(call: &crate::functions::Call) -> Self {
        Self {
            state: call.state.clone(),
            attempt: call.attempt,
            error: call.error().map(str::to_owned),
            message: match &call.outcome {
                crate::functions::Outcome::Succeeded => None,
                crate::functions::Outcome::Failed { message, .. } => Some(message.clone()),
            },
            at_ms: call.at_ms,
        }
    }
}

/// `GET /health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the store does not answer (with status 503).
    pub status: HealthStatus,
    /// Where the data lives: `in-memory`, or `DynamoDB <endpoint>, table <name>`.
    pub store: String,
    /// Why the store is unavailable.
    pub message: Option<String>,
    /// Executions this server started.
    pub executions: ExecutionCounts,
}

/// Whether the API can serve requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The store answers.
    Ok,
    /// The store does not answer.
    Unavailable,
}

/// How many executions this server started, by whether they have ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExecutionCounts {
    /// Still running.
    pub running: u32,
    /// Ended, whatever the outcome.
    pub finished: u32,
}

/// Every error: a stable code for programs, a sentence for people, and for a rejected request
/// each violation found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// A stable code: `invalid_json`, `invalid_request`, `invalid_idempotency_key`,
    /// `invalid_trip_id`, `unsupported_media_type`, `payload_too_large`, `trip_exists`,
    /// `trip_not_found`, `not_found`, `method_not_allowed`, `store_unavailable`, and for a
    /// request the HTTP server cannot read, `malformed_request`, `uri_too_long`,
    /// `header_fields_too_large`.
    pub error: String,
    /// What went wrong, in a sentence.
    pub message: String,
    /// Every problem found in the request; empty for other errors.
    pub violations: Vec<Violation>,
}

/// One problem with a request body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Violation {
    /// Where: a JSON pointer into the body (`/flight/passengers`; `""` is the whole body).
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}
