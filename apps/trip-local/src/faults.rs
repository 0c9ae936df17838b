//! Fault injection around the handlers, per Task state, without touching their code.
//!
//! A [`FaultPlan`] says, for a state, what goes wrong on which invocations; the in-process
//! invoker ([`crate::functions::Functions`]) consults it before and after calling the real
//! handler. The handlers cannot tell an injected fault from a real one, which is the point:
//! what is exercised is the state machine's `Retry`/`Catch` rules and the handlers'
//! idempotency, exactly as on AWS.
//!
//! The command-line syntax, one `--fault` per rule:
//!
//! ```text
//! STATE=ERROR[:TIMES[:MESSAGE]]     fail with ERROR (e.g. StoreThrottled, PaymentDeclined)
//! STATE=lose-response[:TIMES]      run the handler, then report Lambda.ServiceException
//! STATE=timeout[:TIMES]            run out of time after the handler's effect: past the Task's
//!                                  TimeoutSeconds (States.Timeout), or, for a Task without
//!                                  one, the function's own timeout (Lambda.Unknown)
//! STATE=delay:DURATION[:TIMES]     take DURATION longer (e.g. 500ms, 5s, 2m)
//!
//! TIMES = a positive number (the first N invocations of the state), `#N` (the N-th
//!         invocation only) or `always`; the default is 1 for errors, lost responses and
//!         timeouts, `always` for delays.
//! ```

use std::fmt;
use std::time::Duration;

use trip_saga::trip_booking::Function;

/// The error name Lambda reports when the service, not the function, failed: the case where the
/// function ran (its effect happened) but Step Functions only saw an error.
pub const LOST_RESPONSE_ERROR: &str = "Lambda.ServiceException";

/// The error Step Functions reports when a Lambda function ran out of its own time (Lambda reports
/// unhandled errors, timeouts among them, as `Lambda.Unknown`): what a Task without
/// `TimeoutSeconds` sees when its function times out.
pub const FUNCTION_TIMEOUT_ERROR: &str = "Lambda.Unknown";

/// On which invocations of its state a fault applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The first `n` invocations (1-based attempts `1..=n`).
    First(u32),
    /// The `n`-th invocation only (1-based): schedules that differ attempt by attempt.
    Nth(u32),
    /// Every invocation.
    Always,
}

impl Times {
    /// Whether the fault applies to the `attempt`-th invocation (1-based).
    pub fn covers(self, attempt: u32) -> bool {
        match self {
            Times::First(n) => attempt <= n,
            Times::Nth(n) => attempt == n,
            Times::Always => true,
        }
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Times::First(n) => write!(f, "{n}"),
            Times::Nth(n) => write!(f, "#{n}"),
            Times::Always => f.write_str("always"),
        }
    }
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// The function fails with this error before its handler runs (nothing happens).
    Fail {
        /// The error name the state machine matches, e.g. `StoreThrottled`.
        error: String,
        /// The error message.
        message: String,
    },
    /// The handler runs (its effect happens), then the invocation reports
    /// [`LOST_RESPONSE_ERROR`] instead of its result.
    LoseResponse,
    /// The handler runs (its effect happens), then the invocation runs out of time: past the
    /// Task's `TimeoutSeconds` when it has one (the executor reports `States.Timeout`), else
    /// the function's own timeout ([`FUNCTION_TIMEOUT_ERROR`]).
    Timeout,
    /// The invocation takes this much longer (virtual time, or a real sleep in real time).
    Delay(Duration),
}

/// One rule of a plan: a fault on a state for some invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The Task state, e.g. `ReserveHotel`.
    pub state: String,
    /// What goes wrong.
    pub kind: FaultKind,
    /// On which invocations.
    pub times: Times,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FaultKind::Fail { error, message } => {
                write!(f, "{}={error}:{}", self.state, self.times)?;
                if *message != default_message(error, &self.state) {
                    write!(f, ":{message}")?;
                }
                Ok(())
            }
            FaultKind::LoseResponse => write!(f, "{}=lose-response:{}", self.state, self.times),
            FaultKind::Timeout => write!(f, "{}=timeout:{}", self.state, self.times),
            // In milliseconds, so that what is printed parses back to the same fault.
            FaultKind::Delay(d) => {
                write!(f, "{}=delay:{}ms:{}", self.state, d.as_millis(), self.times)
            }
        }
    }
}

/// A `--fault` argument that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault `{input}`: {problem}")]
pub struct FaultSyntaxError {
    /// The argument as given.
    pub input: String,
    /// What is wrong and what would be accepted.
    pub problem: String,
}

/// What the invoker must do around one invocation, as decided by a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injection {
    /// Added latency before the handler (or the injected error) answers.
    pub delay: Duration,
    /// Fail with `(error, message)` without running the handler.
    pub fail: Option<(String, String)>,
    /// Run the handler, then report [`LOST_RESPONSE_ERROR`].
    pub lose_response: bool,
    /// Run the handler, then run out of time (see [`FaultKind::Timeout`]).
    pub time_out: bool,
}

impl Injection {
    /// Whether anything is injected at all.
    pub fn is_empty(&self) -> bool {
        self.delay.is_zero() && self.fail.is_none() && !self.lose_response && !self.time_out
    }
}

/// The faults of one execution, by state. Empty by default: no faults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    faults: Vec<Fault>,
}

impl FaultPlan {
    /// A plan without faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds a rule.
    #[must_use]
    pub fn with(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// `state` fails with `error` on the `times` first invocations.
    #[must_use]
    pub fn fail(self, state: &str, error: &str, times: Times) -> Self {
        let message = default_message(error, state);
        self.with(Fault {
            state: state.into(),
            kind: FaultKind::Fail {
                error: error.into(),
                message,
            },
            times,
        })
    }

    /// `state` runs but its response is lost on the `times` first invocations.
    #[must_use]
    pub fn lose_response(self, state: &str, times: Times) -> Self {
        self.with(Fault {
            state: state.into(),
            kind: FaultKind::LoseResponse,
            times,
        })
    }

    /// `state` runs out of time after its effect on the `times` invocations.
    #[must_use]
    pub fn time_out(self, state: &str, times: Times) -> Self {
        self.with(Fault {
            state: state.into(),
            kind: FaultKind::Timeout,
            times,
        })
    }

    /// `state` takes `by` longer on the `times` first invocations.
    #[must_use]
    pub fn delay(self, state: &str, by: Duration, times: Times) -> Self {
        self.with(Fault {
            state: state.into(),
            kind: FaultKind::Delay(by),
            times,
        })
    }

    /// Parses `--fault` arguments (see the module docs for the syntax).
    ///
    /// # Errors
    /// The first argument that does not parse, with what is wrong.
    pub fn parse_all<S: AsRef<str>>(args: &[S]) -> Result<Self, FaultSyntaxError> {
        let faults = args
            .iter()
            .map(|a| a.as_ref().parse())
            .collect::<Result<_, _>>()?;
        Ok(Self { faults })
    }

    /// The rules, in the order given.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// Whether the plan has no rule.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// What to inject into the `attempt`-th invocation (1-based) of `state`.
    ///
    /// Delays add up; the first matching error wins over a lost response or a timeout, since a
    /// function that failed before running has no response to lose and no time to run out of;
    /// a timeout wins over a lost response (the caller stopped waiting before any answer).
    pub fn injection(&self, state: &str, attempt: u32) -> Injection {
        let mut injection = Injection::default();
        for fault in self
            .faults
            .iter()
            .filter(|f| f.state == state && f.times.covers(attempt))
        {
            match &fault.kind {
                FaultKind::Delay(by) => injection.delay += *by,
                FaultKind::Fail { error, message } => {
                    injection
                        .fail
                        .get_or_insert_with(|| (error.clone(), message.clone()));
                }
                FaultKind::LoseResponse => injection.lose_response = true,
                FaultKind::Timeout => injection.time_out = true,
            }
        }
        if injection.fail.is_some() {
            injection.lose_response = false;
            injection.time_out = false;
        }
        if injection.time_out {
            injection.lose_response = false;
        }
        injection
    }
}

impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.faults.is_empty() {
            return f.write_str("none");
        }
        for (i, fault) in self.faults.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{fault}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Fault {
    type Err = FaultSyntaxError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = |problem: String| FaultSyntaxError {
            input: input.into(),
            problem,
        };
        let (state, spec) = input.split_once('=').ok_or_else(|| {
            error("expected STATE=FAULT, e.g. ReserveHotel=StoreThrottled:2".into())
        })?;
        let state = state.trim();
        check_state(state).map_err(error)?;
        let mut parts = spec.splitn(3, ':');
        let head = parts.next().unwrap_or_default().trim();
        let (kind, times) = match head {
            name @ ("lose-response" | "timeout") => {
                let times = parse_times(parts.next(), Times::First(1)).map_err(error)?;
                if parts.next().is_some() {
                    return Err(error(format!(
                        "{name} takes at most a count: STATE={name}[:TIMES]"
                    )));
                }
                let kind = if name == "timeout" {
                    FaultKind::Timeout
                } else {
                    FaultKind::LoseResponse
                };
                (kind, times)
            }
            "delay" => {
                let duration = parts.next().ok_or_else(|| {
                    error(
                        "delay needs a duration: STATE=delay:DURATION[:TIMES], e.g. delay:5s"
                            .into(),
                    )
                })?;
                let duration = parse_duration(duration).map_err(error)?;
                let times = parse_times(parts.next(), Times::Always).map_err(error)?;
                (FaultKind::Delay(duration), times)
            }
            name => {
                check_error_name(name).map_err(error)?;
                let times = parse_times(parts.next(), Times::First(1)).map_err(error)?;
                let message = parts
                    .next()
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map_or_else(|| default_message(name, state), str::to_owned);
                (
                    FaultKind::Fail {
                        error: name.into(),
                        message,
                    },
                    times,
                )
            }
        };
        Ok(Fault {
            state: state.into(),
            kind,
            times,
        })
    }
}

/// The message of an injected error when none is given.
fn default_message(error: &str, state: &str) -> String {
    format!("injected {error} on {state}")
}

/// The rule: a fault names a Task state of the saga, so that a typo fails loudly instead of
/// injecting nothing.
fn check_state(state: &str) -> Result<(), String> {
    if Function::ALL.iter().any(|f| f.state() == state) {
        return Ok(());
    }
    let known: Vec<&str> = Function::ALL.iter().map(|f| f.state()).collect();
    Err(format!(
        "unknown state `{state}`; the saga's Task states are {}",
        known.join(", ")
    ))
}

/// The rule: an error name is what `ErrorEquals` would match, letters, digits, `.` and `_`.
fn check_error_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(
            "missing fault after `=`: give an error name, `lose-response`, `timeout` or \
             `delay:DURATION`"
                .into(),
        );
    }
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not an error name (letters, digits, `.` and `_`, e.g. StoreThrottled), \
             `lose-response`, `timeout` or `delay:DURATION`"
        ))
    }
}

fn parse_times(text: Option<&str>, default: Times) -> Result<Times, String> {
    let Some(text) = text.map(str::trim) else {
        return Ok(default);
    };
    if text == "always" {
        return Ok(Times::Always);
    }
    if let Some(nth) = text.strip_prefix('#') {
        return match nth.parse::<u32>() {
            Ok(0) => Err("attempts count from 1: `#1` is the first invocation".into()),
            Ok(n) => Ok(Times::Nth(n)),
            Err(_) => Err(format!(
                "`{text}` is not an attempt: give `#` and a positive number, e.g. #2"
            )),
        };
    }
    match text.parse::<u32>() {
        Ok(0) => Err("the count must be at least 1 (or `always`)".into()),
        Ok(n) => Ok(Times::First(n)),
        Err(_) => Err(format!(
            "`{text}` is not a count: give a positive number, `#N` or `always`"
        )),
    }
}

/// `250ms`, `5s`, `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not a duration: use e.g. 250ms, 5s or 2m");
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |i| text.split_at(i));
    let value: u64 = number.parse().map_err(|_| invalid())?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value.saturating_mul(60))),
        _ => Err(invalid()),
    }
}
