//! Add a hotel: put its rooms on sale for a run of nights (seeding; not a saga step).

use kernel::{CalendarDate, InfraError, Money};

use crate::domain::{HotelCode, HotelNight, HotelRepository, RoomNight};

/// Puts `rooms_per_night` rooms of `hotel` on sale at `nightly_rate` for `nights` nights from
/// `from`. Idempotent: nights already on sale keep their rooms and rate.
pub(crate) async fn add_hotel(
    repository: &dyn HotelRepository,
    hotel: HotelCode,
    from: CalendarDate,
    nights: u32,
    rooms_per_night: u32,
    nightly_rate: Money,
) -> Result<(), InfraError> {
    let dates: Vec<CalendarDate> = std::iter::successors(Some(from), |d| d.next_day())
        .take(usize::try_from(nights).unwrap_or(usize::MAX))
        .collect();
    // The signature only has the store's errors; a bad request is what `StoreFailed` means for
    // a write ("the request is wrong"), and a retry would fail the same way.
    if u32::try_from(dates.len()).ok() != Some(nights) {
        return Err(InfraError::failed(format!(
            "{nights} nights from {from} run past the year 9999"
        )));
    }
    let nights = dates
        .into_iter()
        .map(|night| {
            let night = HotelNight {
                hotel: hotel.clone(),
                night,
            };
            RoomNight::new(night, rooms_per_night, nightly_rate)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| InfraError::failed(format!("adding hotel {hotel}: {e}")).with_source(e))?;
    repository.add_nights(&nights).await
}
