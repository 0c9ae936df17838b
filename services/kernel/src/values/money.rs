use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// The ISO 4217 currencies the platform sells in, with their minor-unit digits.
///
/// A closed list rather than "any three letters": an amount means nothing without knowing how many
/// decimals its currency has, and a currency we cannot charge in is a bad request. Adding one is a
/// line in [`Currency::ALL`] and the two matches below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Currency {
    /// Australian dollar.
    Aud,
    /// Canadian dollar.
    Cad,
    /// Swiss franc.
    Chf,
    /// Chinese yuan.
    Cny,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
    /// Hong Kong dollar.
    Hkd,
    /// Japanese yen (no minor unit).
    Jpy,
    /// South Korean won (no minor unit).
    Krw,
    /// Singapore dollar.
    Sgd,
    /// Thai baht.
    Thb,
    /// US dollar.
    Usd,
}

impl Currency {
    /// Every supported currency.
    pub const ALL: [Self; 12] = [
        Self::Aud,
        Self::Cad,
        Self::Chf,
        Self::Cny,
        Self::Eur,
        Self::Gbp,
        Self::Hkd,
        Self::Jpy,
        Self::Krw,
        Self::Sgd,
        Self::Thb,
        Self::Usd,
    ];

    /// The ISO 4217 alphabetic code, e.g. `"JPY"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Aud => "AUD",
            Self::Cad => "CAD",
            Self::Chf => "CHF",
            Self::Cny => "CNY",
            Self::Eur => "EUR",
            Self::Gbp => "GBP",
            Self::Hkd => "HKD",
            Self::Jpy => "JPY",
            Self::Krw => "KRW",
            Self::Sgd => "SGD",
            Self::Thb => "THB",
            Self::Usd => "USD",
        }
    }

    /// How many decimal digits the minor unit has (ISO 4217 "E"): 2 for USD cents, 0 for yen.
    pub const fn minor_digits(self) -> u32 {
        match self {
            Self::Jpy | Self::Krw => 0,
            _ => 2,
        }
    }

    /// Parses an ISO 4217 code of a supported currency.
    ///
    /// # Errors
    /// When `input` is not the upper-case code of a currency in [`Currency::ALL`].
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|c| c.code() == input)
            .ok_or_else(|| {
                ValueError::new(
                    "currency",
                    input,
                    "expected a supported ISO 4217 code like JPY",
                )
            })
    }
}

impl schemars::JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "kernel::Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = Self::ALL.iter().map(|c| c.code()).collect();
        schemars::json_schema!({
            "type": "string",
            "enum": codes,
            "description": "An ISO 4217 currency code the platform sells in.",
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValueError;
    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

/// Arithmetic that would give a wrong amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Adding yen to dollars has no answer without an exchange rate.
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    /// The result does not fit in an i64 of minor units.
    #[error("amount out of range")]
    Overflow,
}

/// An amount of money: an integer number of minor units (cents, yen) and its currency.
///
/// Integers, never floats, so `0.1 + 0.2` is exactly `0.3`. Amounts may be negative (a balance or
/// a difference); whether a price or payment may be is the owning aggregate's rule. Arithmetic is
/// checked and refuses to mix currencies. JSON: `{"amount_minor": 1250, "currency": "USD"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    /// `amount_minor` minor units of `currency` (`Money::new(1250, Currency::Usd)` is 12.50 USD).
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    /// Nothing, in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// Parses `"<decimal amount> <CODE>"`, e.g. `"12.50 USD"`, `"-3 JPY"`; the inverse of `Display`.
    ///
    /// # Errors
    /// When the text is not an amount and a supported code, or has more decimals than the
    /// currency's minor unit (`"1.5 JPY"`), or does not fit in an i64 of minor units.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let error = || {
            ValueError::new(
                "amount",
                input,
                "expected an amount and currency like 12.50 USD",
            )
        };
        let (amount, code) = input.split_once(' ').ok_or_else(error)?;
        let currency = Currency::parse(code)?;
        Self::from_decimal(amount, currency).ok_or_else(error)
    }

    fn from_decimal(text: &str, currency: Currency) -> Option<Self> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let scale = currency.minor_digits();
        let fraction_len = u32::try_from(fraction.len()).ok()?;
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction_len > scale {
            return None;
        }
        if digits.contains('.') && fraction.is_empty() {
            return None;
        }
        // i128 so that i64::MIN, whose magnitude has no positive i64, parses too.
        let whole = i128::from(whole.parse::<u64>().ok()?);
        let fraction = if fraction.is_empty() {
            0
        } else {
            i128::from(fraction.parse::<u64>().ok()?)
        };
        let magnitude = whole * 10_i128.pow(scale) + fraction * 10_i128.pow(scale - fraction_len);
        let minor = i64::try_from(if negative { -magnitude } else { magnitude }).ok()?;
        Some(Self::new(minor, currency))
    }

    /// The amount in minor units.
    pub const fn amount_minor(self) -> i64 {
        self.amount_minor
    }

    /// The currency.
    pub const fn currency(self) -> Currency {
        self.currency
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.amount_minor == 0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.amount_minor < 0
    }

    /// `self + other`.
    ///
    /// # Errors
    /// On different currencies or overflow.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(other)?;
        let sum = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(sum, currency))
    }

    /// `self - other`.
    ///
    /// # Errors
    /// On different currencies or overflow.
    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(other)?;
        let difference = self
            .amount_minor
            .checked_sub(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(difference, currency))
    }

    /// `self × factor`, e.g. a nightly rate times the nights.
    ///
    /// # Errors
    /// On overflow.
    pub fn checked_mul(self, factor: u32) -> Result<Self, MoneyError> {
        let product = self
            .amount_minor
            .checked_mul(i64::from(factor))
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(product, self.currency))
    }

    /// The sum of `amounts`, all in `currency` (zero when empty).
    ///
    /// # Errors
    /// When an amount is in another currency, or on overflow.
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Self>,
    ) -> Result<Self, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Self::zero(currency), Self::checked_add)
    }

    fn same_currency(self, other: Self) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

impl fmt::Display for Money {
    /// `12.50 USD`, `-3 JPY`: the amount with exactly the currency's decimals, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = self.currency.minor_digits();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let magnitude = self.amount_minor.unsigned_abs();
        if scale == 0 {
            return write!(f, "{sign}{magnitude} {}", self.currency);
        }
        let unit = 10_u64.pow(scale);
        let width = scale as usize;
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            magnitude / unit,
            magnitude % unit,
            self.currency
        )
    }
}

impl FromStr for Money {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn display_uses_the_currency_decimals() {
        assert_eq!(Money::new(1250, Currency::Usd).to_string(), "12.50 USD");
        assert_eq!(Money::new(-5, Currency::Eur).to_string(), "-0.05 EUR");
        assert_eq!(Money::new(3000, Currency::Jpy).to_string(), "3000 JPY");
        assert_eq!(
            Money::new(i64::MIN, Currency::Usd).to_string(),
            "-92233720368547758.08 USD"
        );
    }

    #[test]
    fn parse_rejects_excess_precision_and_junk() {
        assert_eq!(
            Money::parse("12.5 USD"),
            Ok(Money::new(1250, Currency::Usd))
        );
        assert_eq!(Money::parse("12 USD"), Ok(Money::new(1200, Currency::Usd)));
        for bad in [
            "1.5 JPY",
            "1.234 USD",
            "12.50",
            "12.50 usd",
            "12.50 XXX",
            ". USD",
            "1. USD",
            "+1 USD",
            "1,000 JPY",
            "-- USD",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            Money::parse("92233720368547758.08 USD").is_err(),
            "overflow"
        );
        assert_eq!(
            Money::parse("-92233720368547758.08 USD"),
            Ok(Money::new(i64::MIN, Currency::Usd))
        );
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let usd = Money::new(100, Currency::Usd);
        let jpy = Money::new(100, Currency::Jpy);
        assert_eq!(
            usd.checked_add(jpy),
            Err(MoneyError::CurrencyMismatch(Currency::Usd, Currency::Jpy))
        );
        assert_eq!(
            usd.checked_sub(jpy),
            Err(MoneyError::CurrencyMismatch(Currency::Usd, Currency::Jpy))
        );
        assert_eq!(
            Money::new(i64::MAX, Currency::Usd).checked_add(usd),
            Err(MoneyError::Overflow)
        );
        assert_eq!(usd.checked_mul(3), Ok(Money::new(300, Currency::Usd)));
        assert_eq!(
            Money::sum(Currency::Usd, [usd, usd]),
            Ok(Money::new(200, Currency::Usd))
        );
        assert!(Money::sum(Currency::Usd, [usd, jpy]).is_err());
        assert_eq!(
            Money::sum(Currency::Eur, []),
            Ok(Money::zero(Currency::Eur))
        );
    }

    #[test]
    fn json_shape_is_minor_units_and_code() {
        let money = Money::new(1250, Currency::Usd);
        let json = serde_json::to_string(&money).unwrap();
        assert_eq!(json, r#"{"amount_minor":1250,"currency":"USD"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        assert!(serde_json::from_str::<Money>(r#"{"amount_minor":1,"currency":"usd"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount_minor":1.5,"currency":"USD"}"#).is_err());
    }

    #[test]
    fn the_schemas_say_what_decoding_checks() {
        use serde_json::json;
        let valid = [
            json!({"amount_minor": 1250, "currency": "USD"}),
            json!({"amount_minor": -3, "currency": "JPY"}),
        ];
        let invalid = [
            json!({"amount_minor": 1, "currency": "usd"}),
            json!({"amount_minor": 1.5, "currency": "USD"}),
            json!({"amount_minor": 1, "currency": "XXX"}),
            json!({"amount_minor": 1}),
            json!({"currency": "USD"}),
            json!("12.50 USD"),
        ];
        crate::values::schema_check::assert_classifies::<Money>(&valid, &invalid);
        let codes = Currency::ALL.map(|c| json!(c.code()));
        crate::values::schema_check::assert_classifies::<Currency>(&codes, &[json!("usd")]);
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        proptest::sample::select(Currency::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn display_and_parse_are_inverse(amount in any::<i64>(), currency in any_currency()) {
            let money = Money::new(amount, currency);
            prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }

        #[test]
        fn add_then_sub_gives_back_the_start(a in -1_i64 << 60..1 << 60, b in -1_i64 << 60..1 << 60, c in any_currency()) {
            let (x, y) = (Money::new(a, c), Money::new(b, c));
            prop_assert_eq!(x.checked_add(y).unwrap().checked_sub(y), Ok(x));
            prop_assert_eq!(x.checked_add(y), y.checked_add(x));
        }

        #[test]
        fn different_currencies_never_combine(a in any::<i64>(), b in any::<i64>(), c1 in any_currency(), c2 in any_currency()) {
            prop_assume!(c1 != c2);
            prop_assert!(Money::new(a, c1).checked_add(Money::new(b, c2)).is_err());
            prop_assert!(Money::new(a, c1).checked_sub(Money::new(b, c2)).is_err());
        }

        #[test]
        fn checked_add_matches_wide_arithmetic(a in any::<i64>(), b in any::<i64>()) {
            let exact = i128::from(a) + i128::from(b);
            let result = Money::new(a, Currency::Usd).checked_add(Money::new(b, Currency::Usd));
            let expected = i64::try_from(exact).map(|sum| Money::new(sum, Currency::Usd)).map_err(|_| MoneyError::Overflow);
            prop_assert_eq!(result, expected);
        }
    }
}
