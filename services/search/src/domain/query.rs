//! A search: trips of one status departing within a date range, a page at a time, and the
//! page token that continues it.
//!
//! The keys of the status index are built here, for every store: a document of status `S`
//! departing on day `D` sits in the partition `S#<month of D>` under the sort key
//! `D#<trip id>`. A search reads the months of its range in order, each with one key condition,
//! so results come sorted by departure date (then trip id) and nothing is ever scanned.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kernel::{CalendarDate, TripId};
use serde::{Deserialize, Serialize};
use trip::domain::TripStatus;

/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: u16 = 20;
/// The largest page.
pub const MAX_LIMIT: u16 = 100;
/// The longest departure range one search may cover, in days (a year and a day, so that
/// "this day next year" is in range): at most 13 months, so a page never queries more.
pub const MAX_RANGE_DAYS: i64 = 366;

/// The parameters a search takes, as they appear in the query string.
pub const PARAMETERS: [&str; 5] = [
    "status",
    "departure_from",
    "departure_to",
    "limit",
    "page_token",
];

/// What to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// The trips' status.
    pub status: TripStatus,
    /// The first departure day, included.
    pub departure_from: CalendarDate,
    /// The last departure day, included.
    pub departure_to: CalendarDate,
    /// The most trips one page holds.
    pub limit: u16,
}

/// A search and where its previous page ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    /// What to find.
    pub query: SearchQuery,
    /// The last trip of the previous page; `None` for the first page.
    pub after: Option<DepartureKey>,
}

/// A query parameter that is missing, repeated, unknown or invalid: the API answers 400 naming
/// it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct InvalidParameter {
    /// The parameter, as spelled in the query string.
    pub parameter: String,
    /// What is wrong with it.
    pub message: String,
}

impl InvalidParameter {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

impl SearchRequest {
    /// Reads a search from its query-string pairs (already percent-decoded).
    ///
    /// # Errors
    /// The first parameter that is unknown, repeated, missing or invalid, or a `page_token`
    /// that was not issued for this same search.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, InvalidParameter> {
        let mut values: [Option<&str>; PARAMETERS.len()] = [None; PARAMETERS.len()];
        for (name, value) in pairs {
            let Some(slot) = PARAMETERS.iter().position(|p| *p == name) else {
                return Err(InvalidParameter::new(
                    name,
                    format!(
                        "unknown parameter; a search takes {}",
                        PARAMETERS.join(", ")
                    ),
                ));
            };
            if values[slot].replace(value).is_some() {
                return Err(InvalidParameter::new(name, "given more than once"));
            }
        }
        let [status, from, to, limit, token] = values;
        let required = |name: &str, value: Option<&'a str>| {
            value.ok_or_else(|| InvalidParameter::new(name, "required"))
        };
        let status = required("status", status)?;
        let status: TripStatus = status.parse().map_err(|_| {
            let names: Vec<_> = TripStatus::ALL.iter().map(|s| s.as_str()).collect();
            InvalidParameter::new(
                "status",
                format!(
                    "unknown status `{status}`; expected one of {}",
                    names.join(", ")
                ),
            )
        })?;
        let date = |name: &str, value: Option<&'a str>| {
            let value = required(name, value)?;
            CalendarDate::parse(value).map_err(|_| {
                InvalidParameter::new(
                    name,
                    format!("`{value}` is not a real date written YYYY-MM-DD"),
                )
            })
        };
        let departure_from = date("departure_from", from)?;
        let departure_to = date("departure_to", to)?;
        if departure_from > departure_to {
            return Err(InvalidParameter::new(
                "departure_to",
                format!("{departure_to} is before departure_from {departure_from}"),
            ));
        }
        if (departure_to.date() - departure_from.date()).whole_days() > MAX_RANGE_DAYS {
            return Err(InvalidParameter::new(
                "departure_to",
                format!("the range may cover at most {MAX_RANGE_DAYS} days after departure_from"),
            ));
        }
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<u16>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    InvalidParameter::new(
                        "limit",
                        format!("`{text}` is not a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let query = SearchQuery {
            status,
            departure_from,
            departure_to,
            limit,
        };
        let after = token
            .map(|token| PageToken::decode(token, &query))
            .transpose()?;
        Ok(Self { query, after })
    }
}

impl SearchQuery {
    /// The partitions of the status index this search reads, in order: one per month of the
    /// range, starting with the month of `after` when continuing.
    pub fn buckets(&self, after: Option<&DepartureKey>) -> Vec<String> {
        let first = after.map_or(self.departure_from, |a| a.date);
        months(first, self.departure_to)
            .map(|(year, month)| format!("{}#{year:04}-{month:02}", self.status.as_str()))
            .collect()
    }

    /// The lowest sort key in range.
    pub fn first_key(&self) -> String {
        format!("{}#", self.departure_from)
    }

    /// The highest sort key in range (`~` sorts after every character of a trip id).
    pub fn last_key(&self) -> String {
        format!("{}#~", self.departure_to)
    }
}

/// The index partition of a document: its status and the month it departs in.
pub fn bucket(status: TripStatus, date: CalendarDate) -> String {
    let date = date.date();
    format!(
        "{}#{:04}-{:02}",
        status.as_str(),
        date.year(),
        u8::from(date.month())
    )
}

fn months(from: CalendarDate, to: CalendarDate) -> impl Iterator<Item = (i32, u8)> {
    let end = (to.date().year(), u8::from(to.date().month()));
    let start = (from.date().year(), u8::from(from.date().month()));
    std::iter::successors(Some(start), |&(year, month)| {
        Some(if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        })
    })
    .take_while(move |month| *month <= end)
}

/// A document's sort key in the status index: its departure day, then its trip id, so that
/// trips of one day have a stable order and every key is unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DepartureKey {
    /// The departure day.
    pub date: CalendarDate,
    /// The trip.
    pub trip_id: TripId,
}

impl std::fmt::Display for DepartureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.date, self.trip_id)
    }
}

impl std::str::FromStr for DepartureKey {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (date, trip_id) = text
            .split_once('#')
            .ok_or_else(|| format!("`{text}` is not <date>#<trip id>"))?;
        Ok(Self {
            date: CalendarDate::parse(date).map_err(|e| e.to_string())?,
            trip_id: TripId::parse(trip_id).map_err(|e| e.to_string())?,
        })
    }
}

/// Where the next page starts, bound to the search that issued it.
///
/// The token holds the search itself (status and range) and the last key returned; it is
/// accepted only with the same status and range, and only when that key lies inside the range.
/// A client can neither read another search's keys with it (every read is confined to the
/// request's own status and range by its key condition) nor make a search scan outside them.
/// It is not secret: it only says where a page ended, which the client has seen.
#[derive(Serialize, Deserialize)]
pub(crate) struct PageToken {
    #[serde(rename = "s")]
    status: TripStatus,
    #[serde(rename = "f")]
    from: CalendarDate,
    #[serde(rename = "t")]
    to: CalendarDate,
    #[serde(rename = "a")]
    after: String,
}

impl PageToken {
    /// The opaque text of the token that continues `query` after `after`.
    pub(crate) fn encode(query: &SearchQuery, after: &DepartureKey) -> String {
        let token = PageToken {
            status: query.status,
            from: query.departure_from,
            to: query.departure_to,
            after: after.to_string(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("a page token serializes"))
    }

    fn decode(text: &str, query: &SearchQuery) -> Result<DepartureKey, InvalidParameter> {
        let invalid = |why: &str| {
            InvalidParameter::new(
                "page_token",
                format!("{why}; use the next_page_token of a page of this same search"),
            )
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| invalid("not a page token"))?;
        let token: PageToken =
            serde_json::from_slice(&bytes).map_err(|_| invalid("not a page token"))?;
        if token.status != query.status
            || token.from != query.departure_from
            || token.to != query.departure_to
        {
            return Err(invalid("issued for another search"));
        }
        let after: DepartureKey = token
            .after
            .parse()
            .map_err(|_| invalid("not a page token"))?;
        if after.date < query.departure_from || after.date > query.departure_to {
            return Err(invalid("points outside the search's range"));
        }
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(pairs: &[(&str, &str)]) -> Result<SearchRequest, InvalidParameter> {
        SearchRequest::from_pairs(pairs.iter().copied())
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("status", "CONFIRMED"),
            ("departure_from", "2026-12-01"),
            ("departure_to", "2027-01-15"),
        ]
    }

    fn named(result: Result<SearchRequest, InvalidParameter>) -> String {
        result.unwrap_err().parameter
    }

    #[test]
    fn a_valid_search_reads_each_month_of_its_range_in_order() {
        let request = search(&base()).unwrap();
        assert_eq!(request.query.limit, DEFAULT_LIMIT);
        assert_eq!(request.after, None);
        assert_eq!(
            request.query.buckets(None),
            ["CONFIRMED#2026-12", "CONFIRMED#2027-01"]
        );
        assert_eq!(request.query.first_key(), "2026-12-01#");
        assert_eq!(request.query.last_key(), "2027-01-15#~");
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let with = |name: &'static str, value: &'static str| {
            let mut pairs = base();
            pairs.retain(|(n, _)| *n != name);
            pairs.push((name, value));
            search(&pairs)
        };
        assert_eq!(named(with("status", "DONE")), "status");
        assert_eq!(named(with("status", "confirmed")), "status");
        assert_eq!(
            named(with("departure_from", "2026-02-30")),
            "departure_from"
        );
        assert_eq!(named(with("departure_to", "tomorrow")), "departure_to");
        assert_eq!(named(with("departure_from", "2027-02-01")), "departure_to");
        assert_eq!(named(with("departure_to", "2027-12-03")), "departure_to");
        assert!(with("departure_to", "2027-12-02").is_ok(), "366 days");
        for limit in ["0", "101", "-1", "ten", ""] {
            assert_eq!(named(with("limit", limit)), "limit", "{limit}");
        }
        assert_eq!(with("limit", "100").unwrap().query.limit, 100);
        assert_eq!(named(with("page_token", "???")), "page_token");
        assert_eq!(named(with("sort", "date")), "sort");
        let mut twice = base();
        twice.push(("status", "CANCELLED"));
        assert_eq!(named(search(&twice)), "status");
        assert_eq!(named(search(&base()[1..])), "status");
        assert_eq!(named(search(&base()[..2])), "departure_to");
    }

    #[test]
    fn a_page_token_continues_only_its_own_search_within_its_range() {
        let request = search(&base()).unwrap();
        let key = DepartureKey {
            date: CalendarDate::parse("2027-01-03").unwrap(),
            trip_id: TripId::new(),
        };
        let token = PageToken::encode(&request.query, &key);
        let mut next = base();
        next.push(("page_token", &token));
        next.push(("limit", "5"));
        let continued = search(&next).unwrap();
        assert_eq!(continued.after, Some(key));
        assert_eq!(
            continued.query.buckets(continued.after.as_ref()),
            ["CONFIRMED#2027-01"]
        );

        // The same token on another search: refused.
        for (name, value) in [
            ("status", "CANCELLED"),
            ("departure_from", "2026-11-01"),
            ("departure_to", "2027-01-31"),
        ] {
            let mut other = base();
            other.retain(|(n, _)| *n != name);
            other.push((name, value));
            other.push(("page_token", &token));
            let error = search(&other).unwrap_err();
            assert_eq!(error.parameter, "page_token");
            assert!(error.message.contains("another search"), "{error}");
        }

        // A token edited to point outside the range: refused.
        let outside = DepartureKey {
            date: CalendarDate::parse("2027-03-01").unwrap(),
            trip_id: key.trip_id,
        };
        let forged = PageToken::encode(&request.query, &outside);
        let mut pairs = base();
        pairs.push(("page_token", &forged));
        assert!(search(&pairs).unwrap_err().message.contains("outside"));
    }

    #[test]
    fn departure_keys_sort_by_date_then_trip_and_read_back() {
        let early = DepartureKey {
            date: CalendarDate::parse("2026-12-01").unwrap(),
            trip_id: TripId::new(),
        };
        let late = DepartureKey {
            date: CalendarDate::parse("2026-12-02").unwrap(),
            trip_id: TripId::new(),
        };
        assert!(early.to_string() < late.to_string());
        assert_eq!(early.to_string().parse::<DepartureKey>().unwrap(), early);
        let query = search(&base()).unwrap().query;
        assert!(query.first_key() < early.to_string() && late.to_string() < query.last_key());
        assert_eq!(
            bucket(TripStatus::NeedsAttention, late.date),
            "NEEDS_ATTENTION#2026-12"
        );
    }
}
