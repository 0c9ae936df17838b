//! Errors that a step can raise, named the way the state machine matches them: the trait lives in
//! `saga-model` (the domain implements it without depending on the runtime); the const helpers
//! here let generated code check names at compile time.

pub use saga_model::{StepError, reserved};

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
