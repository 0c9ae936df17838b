use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::format_description::FormatItem;
use time::macros::format_description;

use super::ValueError;

/// `YYYY-MM-DD`, four-digit year (ISO 8601 calendar date, the form our API and keys use).
const ISO_DATE: &[FormatItem<'static>] = format_description!("[year repr:full]-[month]-[day]");

/// A calendar date without time zone, written `YYYY-MM-DD` (e.g. a departure or check-in date),
/// in [`CalendarDate::YEARS`].
///
/// Serialises as that string: `time::Date`'s own serde form is a `[year, ordinal]` tuple unless a
/// feature is enabled, which is not what a JSON API or a sort key wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CalendarDate(time::Date);

impl CalendarDate {
    /// The years a date may be in. Nothing is sold before 2000: the catalogue holds its days
    /// as `CalendarDate`s, so it cannot put an earlier one on sale, and a request naming one,
    /// which could never be booked, is refused where it is decoded (at the API, and by the
    /// same rule in the request's schema, which API Gateway applies too) instead of failing
    /// inside the saga. The upper bound keeps every date four digits long, so that keys sort
    /// as dates do.
    ///
    /// A day already past can never be booked either, but "today" is not a rule a schema can
    /// state, and the catalogue does not refuse past days (the demo sells fixed ones): the
    /// stock on sale decides those.
    pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=9999;

    /// Parses `YYYY-MM-DD`.
    ///
    /// # Errors
    /// When `input` is not a real date in that form (`2026-02-30` is rejected), or its year is
    /// outside [`Self::YEARS`].
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        match time::Date::parse(input, ISO_DATE) {
            Ok(date) if input.len() == 10 => Self::new(date)
                .map_err(|_| ValueError::new("date", input, "expected a year from 2000 to 9999")),
            _ => Err(ValueError::new(
                "date",
                input,
                "expected a real date written YYYY-MM-DD",
            )),
        }
    }

    /// Wraps a `time::Date` with a four-digit year.
    ///
    /// # Errors
    /// When the year is outside [`Self::YEARS`].
    pub fn new(date: time::Date) -> Result<Self, ValueError> {
        if Self::YEARS.contains(&date.year()) {
            Ok(Self(date))
        } else {
            Err(ValueError::new(
                "date",
                date,
                "expected a year from 2000 to 9999",
            ))
        }
    }

    /// The date inside.
    pub const fn date(self) -> time::Date {
        self.0
    }

    /// The following day, if it is still a four-digit year.
    pub fn next_day(self) -> Option<Self> {
        self.0.next_day().and_then(|d| Self::new(d).ok())
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The format has no component that can fail for a four-digit year.
        let text = self.0.format(ISO_DATE).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl schemars::JsonSchema for CalendarDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CalendarDate".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "kernel::CalendarDate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            // `format` checks that the day exists; the pattern adds `parse`'s years, `YEARS`.
            "format": "date",
            "pattern": "^[2-9][0-9]{3}-[0-9]{2}-[0-9]{2}$",
            "description": "A calendar date written YYYY-MM-DD, year 2000 to 9999: no earlier day is ever on sale.",
            "examples": ["2026-12-01"],
        })
    }
}

impl FromStr for CalendarDate {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for CalendarDate {
    type Error = ValueError;
    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<CalendarDate> for String {
    fn from(date: CalendarDate) -> Self {
        date.to_string()
    }
}

/// A stay: from `start` (check-in) to `end` (check-out), end exclusive, at least one night and at
/// most [`DateRange::MAX_NIGHTS`].
///
/// Serialises as `{"start": "2026-05-01", "end": "2026-05-04"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDateRange", into = "RawDateRange")]
pub struct DateRange {
    start: CalendarDate,
    end: CalendarDate,
}

#[derive(Serialize, Deserialize)]
struct RawDateRange {
    start: CalendarDate,
    end: CalendarDate,
}

impl DateRange {
    /// The longest stay one booking may cover; longer stays are split by the client.
    pub const MAX_NIGHTS: u16 = 30;

    /// Checks the range.
    ///
    /// # Errors
    /// When `start` is not before `end`, or the stay is longer than [`Self::MAX_NIGHTS`].
    pub fn new(start: CalendarDate, end: CalendarDate) -> Result<Self, ValueError> {
        let text = || format!("{start}..{end}");
        if start >= end {
            return Err(ValueError::new(
                "date range",
                text(),
                "expected the start before the end",
            ));
        }
        if (end.0 - start.0).whole_days() > i64::from(Self::MAX_NIGHTS) {
            return Err(ValueError::new(
                "date range",
                text(),
                "expected at most 30 nights",
            ));
        }
        Ok(Self { start, end })
    }

    /// The first day (check-in).
    pub const fn start(self) -> CalendarDate {
        self.start
    }

    /// The day after the last night (check-out).
    pub const fn end(self) -> CalendarDate {
        self.end
    }

    /// How many nights the stay has: 1..=30.
    pub fn nights(self) -> u16 {
        // Bounded by MAX_NIGHTS at construction.
        u16::try_from((self.end.0 - self.start.0).whole_days()).unwrap_or(Self::MAX_NIGHTS)
    }

    /// Each night of the stay, by its date: what per-night room inventory is keyed on.
    pub fn each_night(self) -> impl Iterator<Item = CalendarDate> {
        std::iter::successors(Some(self.start), |d| d.next_day()).take_while(move |d| *d < self.end)
    }
}

impl schemars::JsonSchema for DateRange {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateRange".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "kernel::DateRange".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let date = generator.subschema_for::<CalendarDate>();
        // JSON Schema cannot compare two values, so the order and the length of the stay are
        // said in the description and checked by `DateRange::new` as the value is decoded.
        // `RawDateRange` ignores unknown fields, hence no `additionalProperties: false`.
        schemars::json_schema!({
            "type": "object",
            "properties": {
                "start": date,
                "end": date,
            },
            "required": ["start", "end"],
            "description": format!(
                "A stay: from `start` (check-in) to `end` (check-out, exclusive). `end` must be \
                 after `start`, and the stay at most {} nights.",
                Self::MAX_NIGHTS
            ),
        })
    }
}

impl TryFrom<RawDateRange> for DateRange {
    type Error = ValueError;
    fn try_from(raw: RawDateRange) -> Result<Self, Self::Error> {
        Self::new(raw.start, raw.end)
    }
}

impl From<DateRange> for RawDateRange {
    fn from(range: DateRange) -> Self {
        Self {
            start: range.start,
            end: range.end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> CalendarDate {
        CalendarDate::parse(text).unwrap()
    }

    #[test]
    fn dates_are_strict_iso() {
        assert_eq!(date("2026-05-01").to_string(), "2026-05-01");
        for bad in [
            "2026-5-1",
            "2026-02-30",
            "26-05-01",
            "2026/05/01",
            "2026-05-01T00:00",
            "",
            "+2026-05-01",
        ] {
            assert!(CalendarDate::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            serde_json::to_string(&date("2024-02-29")).unwrap(),
            "\"2024-02-29\""
        );
        assert!(serde_json::from_str::<CalendarDate>("\"2025-02-29\"").is_err());
    }

    #[test]
    fn ranges_need_a_night_and_at_most_thirty() {
        assert!(DateRange::new(date("2026-05-01"), date("2026-05-01")).is_err());
        assert!(DateRange::new(date("2026-05-02"), date("2026-05-01")).is_err());
        assert_eq!(
            DateRange::new(date("2026-05-01"), date("2026-05-31"))
                .unwrap()
                .nights(),
            30
        );
        assert!(DateRange::new(date("2026-05-01"), date("2026-06-01")).is_err());
        let range = DateRange::new(date("2026-12-30"), date("2027-01-02")).unwrap();
        let nights: Vec<String> = range.each_night().map(|d| d.to_string()).collect();
        assert_eq!(nights, ["2026-12-30", "2026-12-31", "2027-01-01"]);
    }

    #[test]
    fn ranges_deserialise_through_the_check() {
        let range: DateRange =
            serde_json::from_str(r#"{"start":"2026-05-01","end":"2026-05-03"}"#).unwrap();
        assert_eq!(range.nights(), 2);
        assert_eq!(
            serde_json::to_string(&range).unwrap(),
            r#"{"start":"2026-05-01","end":"2026-05-03"}"#
        );
        assert!(
            serde_json::from_str::<DateRange>(r#"{"start":"2026-05-03","end":"2026-05-01"}"#)
                .is_err()
        );
    }

    #[test]
    fn the_date_schema_says_what_parse_checks() {
        let valid = ["2026-05-01", "2024-02-29", "2000-01-01", "9999-12-31"];
        let invalid = [
            "2026-5-1",
            "2026-02-30",
            "2025-02-29",
            "26-05-01",
            "2026/05/01",
            "2026-05-01T00:00",
            "",
            "+2026-05-01",
            "0999-12-31",
            "1000-01-01",
            "1999-12-31",
            "10000-01-01",
            "2026-13-01",
            "2026-00-10",
        ];
        crate::values::schema_check::assert_classifies::<CalendarDate>(
            &valid.map(serde_json::Value::from),
            &invalid.map(serde_json::Value::from),
        );
    }

    #[test]
    fn the_range_schema_says_the_shape_and_leaves_the_order_to_the_decoder() {
        use serde_json::json;
        let valid = [
            json!({"start": "2026-05-01", "end": "2026-05-03"}),
            json!({"start": "2026-05-01", "end": "2026-05-31"}),
        ];
        let invalid = [
            json!({"start": "2026-05-01"}),
            json!({"start": "2026-05-01", "end": "2026-5-3"}),
            json!({"start": "2026-05-01", "end": null}),
        ];
        crate::values::schema_check::assert_classifies::<DateRange>(&valid, &invalid);
        // serde's derive also decodes a struct from an array of its fields; the schema publishes
        // the object form only, so it is the stricter of the two there.
        let positional = json!(["2026-05-01", "2026-05-03"]);
        assert!(serde_json::from_value::<DateRange>(positional.clone()).is_ok());
        let schema = schemars::schema_for!(DateRange);
        assert!(!jsonschema::is_valid(schema.as_value(), &positional));
        // What only the decoder can check: the schema's description says it.
        let schema = schemars::schema_for!(DateRange);
        let description = schema.get("description").and_then(|d| d.as_str()).unwrap();
        assert!(description.contains("after `start`") && description.contains("30 nights"));
        for backwards_or_long in [
            json!({"start": "2026-05-03", "end": "2026-05-01"}),
            json!({"start": "2026-05-01", "end": "2026-06-01"}),
        ] {
            assert!(serde_json::from_value::<DateRange>(backwards_or_long).is_err());
        }
    }

    fn any_date() -> impl Strategy<Value = CalendarDate> {
        let first = time::macros::date!(2000 - 01 - 01).to_julian_day();
        (first..first + 20_000)
            .prop_map(|day| CalendarDate::new(time::Date::from_julian_day(day).unwrap()).unwrap())
    }

    proptest! {
        #[test]
        fn the_date_schema_accepts_exactly_what_parses(
            input in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9+-]{8,11}|\\PC{0,12}"
        ) {
            crate::values::schema_check::assert_agree::<CalendarDate>(&serde_json::json!(input));
        }

        #[test]
        fn dates_round_trip_through_text(d in any_date()) {
            prop_assert_eq!(CalendarDate::parse(&d.to_string()), Ok(d));
        }

        #[test]
        fn a_range_is_valid_exactly_when_one_to_thirty_nights(a in any_date(), b in any_date()) {
            let days = (b.date() - a.date()).whole_days();
            let range = DateRange::new(a, b);
            prop_assert_eq!(range.is_ok(), (1..=30).contains(&days));
            if let Ok(range) = range {
                prop_assert_eq!(i64::from(range.nights()), days);
                prop_assert_eq!(range.each_night().count(), usize::from(range.nights()));
            }
        }

        #[test]
        fn text_order_is_date_order(a in any_date(), b in any_date()) {
            // Keys embed dates as text; range queries rely on this.
            prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
        }
    }
}
