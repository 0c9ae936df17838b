//! [`HotelService`]: the hotel's use cases on one repository.

use std::sync::Arc;

use kernel::{CalendarDate, InfraError, Money, TripId};

use super::add_hotel::{AddHotelError, add_hotel};
use super::cancel_rooms::{CancelRooms, CancelRoomsError, cancel_rooms};
use super::reserve_rooms::{ReserveRooms, ReserveRoomsError, reserve_rooms};
use crate::domain::{HotelCode, HotelRepository, RoomCancellation, RoomReservation};

/// The hotel service: what the saga's hotel steps and the seeding tools call. Cheap to clone
/// (the repository is shared).
#[derive(Clone)]
pub struct HotelService {
    repository: Arc<dyn HotelRepository>,
}

impl std::fmt::Debug for HotelService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotelService").finish_non_exhaustive()
    }
}

impl HotelService {
    /// The service on `repository` (in memory, DynamoDB, …).
    pub fn new(repository: Arc<dyn HotelRepository>) -> Self {
        Self { repository }
    }

    /// Puts `rooms_per_night` rooms of `hotel` on sale at `nightly_rate` for `nights` nights from
    /// `from`. Idempotent: nights already on sale keep their rooms (taken ones stay taken) and
    /// rate.
    ///
    /// # Errors
    /// [`AddHotelError::InvalidRate`] for a negative rate, [`AddHotelError::PastTheCalendar`]
    /// for nights past the year 9999; the store's failure otherwise.
    pub async fn add_hotel(
        &self,
        hotel: HotelCode,
        from: CalendarDate,
        nights: u32,
        rooms_per_night: u32,
        nightly_rate: Money,
    ) -> Result<(), AddHotelError> {
        add_hotel(
            &*self.repository,
            hotel,
            from,
            nights,
            rooms_per_night,
            nightly_rate,
        )
        .await
    }

    /// Rooms `hotel` has left on `night`, or `None` when that night is not on sale.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn rooms_left(
        &self,
        hotel: &HotelCode,
        night: CalendarDate,
    ) -> Result<Option<u32>, InfraError> {
        let night = self.repository.night(hotel, night).await?;
        Ok(night.map(|n| n.rooms_available()))
    }

    /// The most recent room reservation of `trip_id`, reserved or cancelled.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn reservation(
        &self,
        trip_id: TripId,
    ) -> Result<Option<RoomReservation>, InfraError> {
        self.repository.reservation_of_trip(trip_id).await
    }

    /// Reserves rooms on every night of a stay, atomically (see [`ReserveRooms`]).
    ///
    /// # Errors
    /// [`ReserveRoomsError`]: `HotelNotFound`, `NoRooms`, `AlreadyCancelled` or the store's.
    pub async fn reserve_rooms(
        &self,
        command: ReserveRooms,
    ) -> Result<RoomReservation, ReserveRoomsError> {
        reserve_rooms(&*self.repository, command).await
    }

    /// Undoes what the reservation `command.action_idempotency_key` did, if anything (see
    /// [`CancelRooms`]).
    ///
    /// # Errors
    /// [`CancelRoomsError`]: only the store's.
    pub async fn cancel_rooms(
        &self,
        command: CancelRooms,
    ) -> Result<RoomCancellation, CancelRoomsError> {
        cancel_rooms(&*self.repository, command).await
    }
}

#[cfg(test)]
mod tests {
    use kernel::dynamo::IdempotencyKey;
    use kernel::{DateRange, GuestCount};
    use saga_model::StepError;

    use super::*;
    use crate::InMemoryHotelRepository;

    fn date(text: &str) -> CalendarDate {
        CalendarDate::parse(text).unwrap()
    }

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    async fn seeded() -> (HotelService, Arc<InMemoryHotelRepository>) {
        let repository = Arc::new(InMemoryHotelRepository::new());
        let service = HotelService::new(repository.clone());
        service
            .add_hotel(
                HotelCode::parse("TOKYO01").unwrap(),
                date("2026-12-01"),
                3,
                5,
                Money::parse("150.00 USD").unwrap(),
            )
            .await
            .unwrap();
        (service, repository)
    }

    fn reserve(trip_id: TripId, action: &str) -> ReserveRooms {
        ReserveRooms {
            trip_id,
            hotel: HotelCode::parse("TOKYO01").unwrap(),
            stay: DateRange::new(date("2026-12-01"), date("2026-12-03")).unwrap(),
            guests: GuestCount::new(2).unwrap(),
            idempotency_key: key(action),
        }
    }

    #[tokio::test]
    async fn seeding_refuses_a_negative_rate_and_dates_past_9999_saying_why() {
        let service = HotelService::new(Arc::new(InMemoryHotelRepository::new()));
        let hotel = HotelCode::parse("TOKYO01").unwrap();
        let negative = service
            .add_hotel(
                hotel.clone(),
                date("2026-12-01"),
                1,
                1,
                Money::parse("-1.00 USD").unwrap(),
            )
            .await
            .unwrap_err();
        let AddHotelError::InvalidRate { rate, .. } = &negative else {
            panic!("expected an invalid rate, got {negative:?}")
        };
        assert_eq!(rate.what(), "nightly rate");
        assert_eq!(
            negative.to_string(),
            "hotel TOKYO01: invalid nightly rate `-1.00 USD`: expected zero or more"
        );
        let too_late = service
            .add_hotel(
                hotel.clone(),
                date("9999-12-30"),
                5,
                1,
                Money::parse("1.00 USD").unwrap(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(too_late, AddHotelError::PastTheCalendar { nights: 5, .. }),
            "{too_late:?}"
        );
        assert_eq!(
            too_late.to_string(),
            "hotel TOKYO01: 5 nights from 9999-12-30 run past the year 9999"
        );
        assert!(
            too_late.into_store_error().is_err(),
            "not the store's failure"
        );
        for night in ["2026-12-01", "9999-12-30"] {
            assert_eq!(service.rooms_left(&hotel, date(night)).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_key_of_another_kind_of_invocation_is_store_failed() {
        let (service, _) = seeded().await;
        let trip = TripId::new();
        // A cancellation recorded under the key first; the reservation then must not read it as
        // its own result.
        service
            .cancel_rooms(CancelRooms {
                trip_id: trip,
                action_idempotency_key: key("e1:ReserveHotel"),
                idempotency_key: key("e1:Shared"),
            })
            .await
            .unwrap();
        let error = service
            .reserve_rooms(reserve(trip, "e1:Shared"))
            .await
            .unwrap_err();
        assert_eq!(error.name(), "StoreFailed", "{error}");
    }

    #[tokio::test]
    async fn a_cancellation_for_another_trip_is_store_failed_and_changes_nothing() {
        let (service, repository) = seeded().await;
        let trip = TripId::new();
        service
            .reserve_rooms(reserve(trip, "e1:ReserveHotel"))
            .await
            .unwrap();
        let error = service
            .cancel_rooms(CancelRooms {
                trip_id: TripId::new(),
                action_idempotency_key: key("e1:ReserveHotel"),
                idempotency_key: key("e1:CancelHotel"),
            })
            .await
            .unwrap_err();
        assert_eq!(error.name(), "StoreFailed");
        let hotel = HotelCode::parse("TOKYO01").unwrap();
        assert_eq!(
            service
                .rooms_left(&hotel, date("2026-12-01"))
                .await
                .unwrap(),
            Some(4)
        );
        assert_eq!(repository.events().len(), 1, "only the reservation's event");
    }

    #[tokio::test]
    async fn a_stay_priced_in_two_currencies_is_store_failed() {
        let (service, _) = seeded().await;
        service
            .add_hotel(
                HotelCode::parse("TOKYO01").unwrap(),
                date("2026-12-04"),
                1,
                5,
                Money::parse("15000 JPY").unwrap(),
            )
            .await
            .unwrap();
        let mut command = reserve(TripId::new(), "e1:ReserveHotel");
        command.stay = DateRange::new(date("2026-12-03"), date("2026-12-05")).unwrap();
        let error = service.reserve_rooms(command).await.unwrap_err();
        assert_eq!(error.name(), "StoreFailed", "{error}");
    }

    #[test]
    fn error_names_are_the_state_machine_names() {
        assert_eq!(
            <ReserveRoomsError as StepError>::NAMES,
            [
                "HotelNotFound",
                "NoRooms",
                "AlreadyCancelled",
                "StoreThrottled",
                "StoreUnavailable",
                "StoreConflict",
                "StoreFailed"
            ]
        );
        assert_eq!(
            <CancelRoomsError as StepError>::NAMES,
            kernel::error::names::ALL
        );
    }
}
