//! Time: virtual by default, real on request.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Something that can sleep for real; needed only for [`TimeMode::Real`].
///
/// Kept as a trait so the crate does not tie callers to one async runtime; enable the `tokio`
/// feature for `TokioSleeper`.
pub trait Sleeper: Send + Sync {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// A [`Sleeper`] backed by `tokio::time::sleep`.
#[cfg(feature = "tokio")]
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

#[cfg(feature = "tokio")]
impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// How Wait states, retry intervals and timeouts pass.
#[derive(Clone, Default)]
pub enum TimeMode {
    /// Waiting advances a virtual clock instantly; executions are deterministic.
    #[default]
    Virtual,
    /// Waiting really sleeps, using the given sleeper; timestamps come from the system clock.
    Real(std::sync::Arc<dyn Sleeper>),
}

impl std::fmt::Debug for TimeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeMode::Virtual => f.write_str("Virtual"),
            TimeMode::Real(_) => f.write_str("Real"),
        }
    }
}

/// The execution's notion of "now", in milliseconds since the Unix epoch.
///
/// Task handlers receive a reference so that a mock can simulate a slow task with
/// [`Clock::advance`] (virtual mode only; in real mode time passes by itself).
#[derive(Debug)]
pub struct Clock {
    virtual_ms: AtomicI64,
    real_origin: Option<(Instant, i64)>,
}

impl Clock {
    pub(crate) fn new(start_ms: i64, real: bool) -> Self {
        Self {
            virtual_ms: AtomicI64::new(start_ms),
            real_origin: real.then(|| (Instant::now(), start_ms)),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> i64 {
        match self.real_origin {
            Some((origin, start)) => {
                start + i64::try_from(origin.elapsed().as_millis()).unwrap_or(i64::MAX)
            }
            None => self.virtual_ms.load(Ordering::Relaxed),
        }
    }

    /// Moves virtual time forward; a no-op in real mode.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.virtual_ms.fetch_add(by, Ordering::Relaxed);
    }

    pub(crate) fn set_virtual(&self, ms: i64) {
        self.virtual_ms.store(ms, Ordering::Relaxed);
    }

    pub(crate) fn is_real(&self) -> bool {
        self.real_origin.is_some()
    }
}

/// Formats epoch milliseconds the way Step Functions writes timestamps (RFC 3339, UTC).
pub(crate) fn format_millis(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Parses an RFC 3339 timestamp into epoch milliseconds.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let ms = parse_timestamp("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(ms, 1_704_067_200_000);
        assert_eq!(format_millis(ms + 1500), "2024-01-01T00:00:01.5Z");
        assert!(parse_timestamp("yesterday").is_none());
    }

    #[test]
    fn virtual_clock_only_moves_when_advanced() {
        let clock = Clock::new(1000, false);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_millis(), 3000);
    }
}
