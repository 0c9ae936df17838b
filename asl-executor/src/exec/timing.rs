//! Waiting, back-off and deadlines, in virtual or real time.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use super::data::{seconds_at_path, select_required};
use super::{Exec, Stop};
use crate::definition::{Retrier, WaitFor};
use crate::error::{StatesError, names};

impl Exec<'_> {
    pub(super) fn retry_delay(&mut self, r: &Retrier, previous_attempts: u32) -> Duration {
        let exponent = i32::try_from(previous_attempts).unwrap_or(i32::MAX);
        let mut seconds = r.interval_seconds * r.backoff_rate.powi(exponent);
        if let Some(max) = r.max_delay_seconds {
            seconds = seconds.min(max);
        }
        if r.full_jitter && seconds > 0.0 {
            seconds = self.rng.random_range(0.0..seconds);
        }
        Duration::from_secs_f64(seconds.clamp(0.0, 1.0e9))
    }

    pub(super) fn wait_millis(&self, wait: &WaitFor, input: &Value) -> Result<i64, StatesError> {
        Ok(match wait {
            WaitFor::Seconds(s) => secs_to_ms(*s),
            WaitFor::SecondsPath(p) => secs_to_ms(seconds_at_path(p, input)?),
            WaitFor::Timestamp(t) => (t - self.clock.now_millis()).max(0),
            WaitFor::TimestampPath(p) => {
                let value = select_required(p, input, "TimestampPath")?;
                let t = value
                    .as_str()
                    .and_then(crate::clock::parse_timestamp)
                    .ok_or_else(|| {
                        StatesError::new(
                            names::RUNTIME,
                            format!(
                                "The TimestampPath '{p}' does not point to an RFC 3339 timestamp"
                            ),
                        )
                    })?;
                (t - self.clock.now_millis()).max(0)
            }
        })
    }

    /// Lets `ms` pass, or stops at the execution deadline.
    pub(super) async fn sleep(&mut self, ms: i64) -> Result<(), Stop> {
        let now = self.clock.now_millis();
        let (ms, hits_deadline) = match self.deadline_ms {
            Some(d) if now + ms > d => ((d - now).max(0), true),
            _ => (ms, false),
        };
        match (&self.sleeper, self.clock.is_real()) {
            (Some(sleeper), true) => sleeper.sleep(ms_to_duration(ms)).await,
            _ => self.clock.set_virtual(now + ms),
        }
        if hits_deadline {
            Err(Stop::TimedOut)
        } else {
            Ok(())
        }
    }

    pub(super) fn check_deadline(&self) -> Result<(), Stop> {
        match self.deadline_ms {
            Some(d) if self.clock.now_millis() > d => {
                self.clock.set_virtual(d);
                Err(Stop::TimedOut)
            }
            _ => Ok(()),
        }
    }
}

pub(super) fn secs_to_ms(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX)
}

pub(super) fn ms_to_duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
