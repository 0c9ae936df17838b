//! Errors that a step can raise, named the way the state machine matches them.

use std::fmt::Display;

/// The error type of a saga action or compensation.
///
/// Step Functions routes a failed task by the *name* of its error: `Retry` and `Catch` compare the
/// Lambda `errorType` with the names in `ErrorEquals`. `NAMES` lists every name the type can
/// produce, so `saga!` can check at compile time that the names a step declares are exactly the
/// names its action raises. Derive it with [`StepError`](macro@crate::StepError): one name per
/// enum variant.
pub trait StepError: Display {
    /// Every name [`StepError::name`] can return.
    const NAMES: &'static [&'static str];

    /// The name reported to Step Functions as the Lambda `errorType`.
    fn name(&self) -> &'static str;
}

/// Error names the generated entrypoints raise themselves; they never collide with user names
/// because user names are Rust identifiers and these contain a dot.
pub mod reserved {
    /// The task payload does not match the types the step expects. Actions never retry it (the
    /// same payload would fail again); compensations and the escalation retry every error, so
    /// they retry it too before escalating.
    pub const INVALID_PAYLOAD: &str = "Saga.InvalidPayload";
    /// The step's output could not be serialised to JSON.
    pub const INVALID_OUTPUT: &str = "Saga.InvalidOutput";
}

/// Whether `name` is one of `names`, usable in constant evaluation so that `saga!` can reject an
/// undeclared error name at compile time.
pub const fn contains(names: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < names.len() {
        if str_eq(names[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether every element of `names` is in `declared`.
pub const fn all_in(names: &[&str], declared: &[&str]) -> bool {
    let mut i = 0;
    while i < names.len() {
        if !contains(declared, names[i]) {
            return false;
        }
        i += 1;
    }
    true
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_compares_whole_names() {
        assert!(contains(&["SoldOut", "Busy"], "Busy"));
        assert!(!contains(&["SoldOut"], "Sold"));
        assert!(!contains(&[], "SoldOut"));
    }

    #[test]
    fn all_in_requires_every_name() {
        assert!(all_in(&["A", "B"], &["B", "A", "C"]));
        assert!(!all_in(&["A", "D"], &["A", "B"]));
        assert!(all_in(&[], &["A"]));
    }
}
