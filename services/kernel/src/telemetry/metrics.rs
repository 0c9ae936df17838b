//! The booking's custom metrics, as DogStatsD datagrams over UDP (the Datadog extension
//! listens on `127.0.0.1:8125`).
//!
//! Each is emitted at the one place in the code where its fact becomes true, by the call that
//! made it true: a store write that committed, never a retry that found it done. Step Functions
//! retries a step whose answer was lost, and the retry must not count the booking twice; the
//! idempotent writes already tell the first call from its retries, so the metrics follow them.
//! The price: a fact whose invocation dies between its commit and the datagram is not counted
//! (at most once, never twice). A UDP datagram is sent when the call returns; there is nothing
//! to flush.
//!
//! | metric | type | tags | emitted when |
//! |---|---|---|---|
//! | `trip.bookings.confirmed` | count | | `ConfirmTrip` commits the trip confirmed |
//! | `trip.bookings.cancelled` | count | | `CancelTrip` commits the trip cancelled |
//! | `trip.saga.compensations` | count | `step:<compensation state>`, `result:undone\|voided` | a compensation gives back what its action took (`undone`), or rules the action out before it took anything (`voided`) |
//! | `trip.saga.escalations` | count | | a trip is first marked as needing an operator (or an escalation finds no trip to mark) |
//! | `trip.payments.amount` | distribution | `currency:<ISO 4217>` | `ProcessPayment` captures a payment (in major units) |

use std::io;
use std::net::{ToSocketAddrs, UdpSocket};

use cadence::prelude::*;
use cadence::{StatsdClient, UdpMetricSink};

use crate::Money;
use crate::dynamo::IdempotencyKey;

/// Bookings confirmed.
pub const BOOKINGS_CONFIRMED: &str = "trip.bookings.confirmed";
/// Bookings cancelled (compensated in full).
pub const BOOKINGS_CANCELLED: &str = "trip.bookings.cancelled";
/// Compensations that took effect, by compensation state.
pub const COMPENSATIONS: &str = "trip.saga.compensations";
/// Trips handed to an operator.
pub const ESCALATIONS: &str = "trip.saga.escalations";
/// Payments captured, by currency.
pub const PAYMENT_AMOUNT: &str = "trip.payments.amount";

/// What a compensation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compensated {
    /// It gave back what its action took.
    Undone,
    /// Its action had taken nothing (yet): it ruled it out, so a late run cannot take effect.
    Voided,
}

impl Compensated {
    /// The `result` tag's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Undone => "undone",
            Self::Voided => "voided",
        }
    }
}

/// A DogStatsD client. The process's own is installed by [`crate::tracing_setup`] when
/// `DD_DOGSTATSD_URL` is set; the free functions of this module send through it, and do
/// nothing when there is none.
pub struct Metrics {
    client: StatsdClient,
}

impl Metrics {
    /// Sends to `address` (`host:port`) from an unconnected, non-blocking UDP socket: a full
    /// socket buffer drops a metric rather than stall a handler.
    ///
    /// # Errors
    /// When the address does not resolve or no socket can be opened.
    pub fn udp(address: &str) -> io::Result<Self> {
        let target = address.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{address} resolves to nothing"),
            )
        })?;
        let local = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local)?;
        socket.set_nonblocking(true)?;
        let sink = UdpMetricSink::from(target, socket).map_err(io::Error::other)?;
        let client = StatsdClient::builder("", sink)
            .with_error_handler(|error| tracing::debug!(%error, "a metric was not sent"))
            .build();
        Ok(Self { client })
    }

    /// A booking is confirmed.
    pub fn booking_confirmed(&self) {
        self.client.count_with_tags(BOOKINGS_CONFIRMED, 1).send();
    }

    /// A booking is cancelled.
    pub fn booking_cancelled(&self) {
        self.client.count_with_tags(BOOKINGS_CANCELLED, 1).send();
    }

    /// The compensation state `step` took effect.
    pub fn compensated(&self, step: &str, result: Compensated) {
        self.client
            .count_with_tags(COMPENSATIONS, 1)
            .with_tag("step", step)
            .with_tag("result", result.as_str())
            .send();
    }

    /// A trip needs an operator.
    pub fn escalated(&self) {
        self.client.count_with_tags(ESCALATIONS, 1).send();
    }

    /// A payment of `amount` is captured.
    pub fn payment_captured(&self, amount: Money) {
        self.client
            .distribution_with_tags(PAYMENT_AMOUNT, major_units(amount))
            .with_tag("currency", amount.currency().code())
            .send();
    }
}

/// `amount` in major units (dollars, yen), as a dashboard shows prices.
#[allow(clippy::cast_precision_loss)] // exact below 2^53 minor units: 90 trillion dollars
fn major_units(amount: Money) -> f64 {
    amount.amount_minor() as f64 / 10_f64.powi(amount.currency().minor_digits().cast_signed())
}

fn installed() -> Option<&'static Metrics> {
    super::METRICS.get()
}

/// A booking is confirmed: [`Metrics::booking_confirmed`] on the process's client, if any.
pub fn booking_confirmed() {
    if let Some(metrics) = installed() {
        metrics.booking_confirmed();
    }
}

/// A booking is cancelled: [`Metrics::booking_cancelled`] on the process's client, if any.
pub fn booking_cancelled() {
    if let Some(metrics) = installed() {
        metrics.booking_cancelled();
    }
}

/// The compensation state `step` took effect: [`Metrics::compensated`] on the process's
/// client, if any.
pub fn compensated(step: &str, result: Compensated) {
    if let Some(metrics) = installed() {
        metrics.compensated(step, result);
    }
}

/// The compensation that ran with `key` took effect: [`compensated`] with the state the key
/// names.
pub fn compensated_by(key: &IdempotencyKey, result: Compensated) {
    if let Some(metrics) = installed() {
        metrics.compensated(state_of(key), result);
    }
}

/// The state a step's key names. A saga step's key is `<execution name>:<state name>` (what the
/// generated state machine sends as `idempotency_key`), and an execution name cannot contain a
/// colon (Step Functions refuses one), so the state is what follows the first colon; a key of
/// another shape is its own name.
pub fn state_of(key: &IdempotencyKey) -> &str {
    key.as_str()
        .split_once(':')
        .map_or(key.as_str(), |(_, state)| state)
}

/// A trip needs an operator: [`Metrics::escalated`] on the process's client, if any.
pub fn escalated() {
    if let Some(metrics) = installed() {
        metrics.escalated();
    }
}

/// A payment is captured: [`Metrics::payment_captured`] on the process's client, if any.
pub fn payment_captured(amount: Money) {
    if let Some(metrics) = installed() {
        metrics.payment_captured(amount);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Currency;

    fn receiver() -> (UdpSocket, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let address = socket.local_addr().unwrap().to_string();
        (socket, address)
    }

    fn next(socket: &UdpSocket) -> String {
        let mut buffer = [0; 512];
        let n = socket.recv(&mut buffer).unwrap();
        String::from_utf8(buffer[..n].to_vec()).unwrap()
    }

    #[test]
    fn each_metric_is_one_dogstatsd_datagram() {
        let (socket, address) = receiver();
        let metrics = Metrics::udp(&address).unwrap();
        metrics.booking_confirmed();
        assert_eq!(next(&socket), "trip.bookings.confirmed:1|c");
        metrics.booking_cancelled();
        assert_eq!(next(&socket), "trip.bookings.cancelled:1|c");
        metrics.compensated("CancelHotel", Compensated::Undone);
        assert_eq!(
            next(&socket),
            "trip.saga.compensations:1|c|#step:CancelHotel,result:undone"
        );
        metrics.escalated();
        assert_eq!(next(&socket), "trip.saga.escalations:1|c");
        metrics.payment_captured(Money::new(105_050, Currency::Usd));
        assert_eq!(next(&socket), "trip.payments.amount:1050.5|d|#currency:USD");
        metrics.payment_captured(Money::new(45_000, Currency::Jpy));
        assert_eq!(next(&socket), "trip.payments.amount:45000|d|#currency:JPY");
    }

    #[test]
    fn the_state_is_what_follows_the_execution_name() {
        let key = |text| IdempotencyKey::parse(text).unwrap();
        assert_eq!(state_of(&key("trip-0192:CancelHotel")), "CancelHotel");
        assert_eq!(state_of(&key("CancelHotel")), "CancelHotel");
    }

    #[test]
    fn nobody_listening_is_not_an_error_for_the_caller() {
        let (socket, address) = receiver();
        drop(socket);
        let metrics = Metrics::udp(&address).unwrap();
        metrics.booking_confirmed();
        metrics.booking_confirmed();
    }
}
