//! Add a hotel: put its rooms on sale for a run of nights (seeding; not a saga step).

use kernel::{CalendarDate, InfraError, Money, ValueError};

use crate::domain::{HotelCode, HotelNight, HotelRepository, RoomNight};

/// Why a hotel's rooms were not put on sale. Nothing is stored when the request is invalid.
#[derive(Debug, thiserror::Error)]
pub enum AddHotelError {
    /// The nightly rate is negative.
    #[error("hotel {hotel}: {rate}")]
    InvalidRate {
        /// The hotel.
        hotel: HotelCode,
        /// What is wrong with the rate.
        rate: ValueError,
    },
    /// The nights run past 9999-12-31, the last date a [`CalendarDate`] holds.
    #[error("hotel {hotel}: {nights} nights from {from} run past the year 9999")]
    PastTheCalendar {
        /// The hotel.
        hotel: HotelCode,
        /// The first night.
        from: CalendarDate,
        /// How many nights were asked for.
        nights: u32,
    },
    /// The store failed (see [`InfraError`] for which failures are worth retrying); nights
    /// stored before the failure stay stored.
    #[error(transparent)]
    Store(#[from] InfraError),
}

impl AddHotelError {
    /// The store's failure, or this error back when the request itself was invalid: for a
    /// caller whose own errors are the store's only.
    ///
    /// # Errors
    /// `self`, when it is not the store's failure.
    pub fn into_store_error(self) -> Result<InfraError, Self> {
        match self {
            Self::Store(error) => Ok(error),
            invalid @ (Self::InvalidRate { .. } | Self::PastTheCalendar { .. }) => Err(invalid),
        }
    }
}

/// Puts `rooms_per_night` rooms of `hotel` on sale at `nightly_rate` for `nights` nights from
/// `from`. Idempotent: nights already on sale keep their rooms and rate.
pub(crate) async fn add_hotel(
    repository: &dyn HotelRepository,
    hotel: HotelCode,
    from: CalendarDate,
    nights: u32,
    rooms_per_night: u32,
    nightly_rate: Money,
) -> Result<(), AddHotelError> {
    let dates: Vec<CalendarDate> = std::iter::successors(Some(from), |d| d.next_day())
        .take(usize::try_from(nights).unwrap_or(usize::MAX))
        .collect();
    if u32::try_from(dates.len()).ok() != Some(nights) {
        return Err(AddHotelError::PastTheCalendar {
            hotel,
            from,
            nights,
        });
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
        .collect::<Result<Vec<_>, _>>();
    match nights {
        Ok(nights) => Ok(repository.add_nights(&nights).await?),
        Err(rate) => Err(AddHotelError::InvalidRate { hotel, rate }),
    }
}
