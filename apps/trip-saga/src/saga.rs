//! The trip booking saga, declared once: `generated/trip_booking.*` and the Lambda entrypoints
//! come from here.

use flight::SeatReservation;
use hotel::RoomReservation;
use payment::PaymentReceipt;
use saga_runtime::saga;
use trip::domain::TripRequest;

use crate::TripContext;
use crate::handlers;
use crate::handlers::trip::TripSummary;

saga! {
    /// Books a trip: creates it, reserves the flight and the hotel, takes payment and confirms
    /// it; when a step fails, undoes the completed ones, newest first, and cancels the trip.
    pub saga TripBooking {
        input: TripRequest,
        context: TripContext,
        // No `timeout_seconds`: derived from the longest path, so that the execution can never
        // time out while a compensation or the escalation still runs (no Catch sees that).
        // Every step stores through the kernel, whose transient failures these are.
        transient_errors: [StoreThrottled, StoreUnavailable, StoreConflict],
        // As the reservations' own: their functions give up after 10 seconds (infra/lib/stage.ts),
        // so a hung undo is retried and, at worst, escalated.
        compensation_timeout_seconds: 30,
        escalation: EscalateTrip => handlers::trip::escalate,

        /// Records the trip, pending, so that its status can be read from the start.
        step CreateTrip {
            action: handlers::trip::create -> TripSummary,
            compensation: CancelTrip => handlers::trip::cancel,
            business_errors: [AlreadySettled, StoreFailed],
        }
        /// Takes the seats from the flight's inventory.
        step ReserveFlight {
            action: handlers::flight::reserve -> SeatReservation,
            compensation: CancelFlight => handlers::flight::cancel,
            business_errors: [FlightNotFound, SoldOut, AlreadyCancelled, StoreFailed],
            timeout_seconds: 30,
        }
        /// Takes the rooms for every night of the stay.
        step ReserveHotel {
            action: handlers::hotel::reserve -> RoomReservation,
            compensation: CancelHotel => handlers::hotel::cancel,
            business_errors: [HotelNotFound, NoRooms, AlreadyCancelled, StoreFailed],
            timeout_seconds: 30,
        }
        /// Authorises and captures the flight's and the hotel's totals.
        step ProcessPayment {
            action: handlers::payment::charge -> PaymentReceipt,
            compensation: RefundPayment => handlers::payment::refund,
            business_errors: [PaymentDeclined, AlreadyRefunded, PriceUnavailable, StoreFailed],
            timeout_seconds: 30,
        }
        /// Confirms the trip: the pivot. When it fails, LockTrip settles whether it took effect
        /// (the trip stays confirmed, nothing is undone) or can no longer (the trip is locked in
        /// cancelling, then everything before is undone).
        step ConfirmTrip {
            action: handlers::trip::confirm -> TripSummary,
            pivot: LockTrip => handlers::trip::lock,
            business_errors: [TripNotFound, TripNotPending, StoreFailed],
        }
    }
}
