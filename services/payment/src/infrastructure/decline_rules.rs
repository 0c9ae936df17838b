//! The decline rules of the built-in ledger provider ([`crate::InMemoryLedger`],
//! [`crate::DynamoLedger`]): explicit and deterministic, so that tests and local runs can make a
//! payment fail on purpose, as a real provider's test mode allows.
//!
//! A charge is declined, checked in this order, when:
//!
//! 1. its amount is zero or negative ([`DeclineReason::NotPositive`]): nothing to charge;
//! 2. its card token starts with [`DECLINING_CARD_PREFIX`] (`tok_decline`,
//!    `tok_decline_insufficient_funds`, …: a test card that is always declined, like Stripe's
//!    `tok_chargeDeclined`) ([`DeclineReason::DecliningCard`]);
//! 3. its amount is above [`PER_PAYMENT_LIMIT_MAJOR_UNITS`] (5,000) whole units of its currency
//!    ([`per_payment_limit`]: 500,000 minor units for USD, 5,000 for JPY)
//!    ([`DeclineReason::OverLimit`]). The limit itself is allowed.
//!
//! Everything else is authorised and captured.

use kernel::{Currency, Money};

use crate::domain::{CardToken, DeclineReason};

/// The most one payment may take, in whole units of its currency (5,000.00 USD, 5,000 JPY).
pub const PER_PAYMENT_LIMIT_MAJOR_UNITS: i64 = 5_000;

/// Card tokens starting with this are always declined: the deterministic test card.
pub const DECLINING_CARD_PREFIX: &str = "tok_decline";

/// The per-payment limit in `currency`: [`PER_PAYMENT_LIMIT_MAJOR_UNITS`] scaled by the
/// currency's minor-unit digits.
pub fn per_payment_limit(currency: Currency) -> Money {
    Money::new(
        PER_PAYMENT_LIMIT_MAJOR_UNITS * 10_i64.pow(currency.minor_digits()),
        currency,
    )
}

/// Applies the rules, in the documented order.
///
/// # Errors
/// The first rule `amount` and `card` break.
pub fn screen(amount: Money, card: &CardToken) -> Result<(), DeclineReason> {
    if amount.is_negative() || amount.is_zero() {
        return Err(DeclineReason::NotPositive { amount });
    }
    if card.as_str().starts_with(DECLINING_CARD_PREFIX) {
        return Err(DeclineReason::DecliningCard { card: card.clone() });
    }
    let limit = per_payment_limit(amount.currency());
    if amount.amount_minor() > limit.amount_minor() {
        return Err(DeclineReason::OverLimit { amount, limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn card(text: &str) -> CardToken {
        CardToken::parse(text).unwrap()
    }

    #[test]
    fn the_limit_follows_the_currency_digits() {
        assert_eq!(
            per_payment_limit(Currency::Usd),
            Money::new(500_000, Currency::Usd)
        );
        assert_eq!(
            per_payment_limit(Currency::Jpy),
            Money::new(5_000, Currency::Jpy)
        );
    }

    #[test]
    fn each_rule_declines_with_its_reason() {
        let visa = card("tok_visa_4242");
        assert_eq!(
            screen(money("5000.00 USD"), &visa),
            Ok(()),
            "the limit itself is allowed"
        );
        assert_eq!(screen(money("0.01 USD"), &visa), Ok(()));
        assert_eq!(
            screen(money("5000.01 USD"), &visa),
            Err(DeclineReason::OverLimit {
                amount: money("5000.01 USD"),
                limit: money("5000.00 USD")
            })
        );
        assert!(matches!(
            screen(money("5001 JPY"), &visa),
            Err(DeclineReason::OverLimit { .. })
        ));
        assert_eq!(screen(money("5000 JPY"), &visa), Ok(()));
        for not_positive in ["0.00 USD", "-1.00 USD"] {
            assert_eq!(
                screen(money(not_positive), &visa),
                Err(DeclineReason::NotPositive {
                    amount: money(not_positive)
                })
            );
        }
        for declining in ["tok_decline", "tok_decline_insufficient_funds"] {
            assert!(matches!(
                screen(money("10.00 USD"), &card(declining)),
                Err(DeclineReason::DecliningCard { .. })
            ));
        }
        assert_eq!(
            screen(money("10.00 USD"), &card("tok_declined_not")),
            Err(DeclineReason::DecliningCard {
                card: card("tok_declined_not")
            }),
            "a prefix rule"
        );
        assert_eq!(
            screen(money("10.00 USD"), &card("tok_visa_decline")),
            Ok(())
        );
    }
}
