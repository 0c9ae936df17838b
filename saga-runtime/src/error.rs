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

/// A message built at compile time: what a failed error-name check says, with the names it
/// found. Const evaluation cannot format, so the text is copied into a fixed buffer (long lists
/// are cut with `…`).
pub struct Message {
    bytes: [u8; Message::CAPACITY],
    len: usize,
    full: bool,
}

impl Message {
    const CAPACITY: usize = 1024;

    /// `prefix`, then every name of `names` that `declared` lacks, each quoted in backticks
    /// and separated by `, `, then `suffix`.
    pub const fn undeclared(
        prefix: &str,
        names: &[&str],
        declared: &[&str],
        suffix: &str,
    ) -> Message {
        let mut message = Message {
            bytes: [0; Message::CAPACITY],
            len: 0,
            full: false,
        };
        message.push(prefix);
        let mut first = true;
        let mut i = 0;
        while i < names.len() {
            if !contains(declared, names[i]) {
                if !first {
                    message.push(", ");
                }
                message.push("`");
                message.push(names[i]);
                message.push("`");
                first = false;
            }
            i += 1;
        }
        message.push(suffix);
        message
    }

    const fn push(&mut self, text: &str) {
        const ELLIPSIS: &[u8] = "…".as_bytes();
        if self.full {
            return;
        }
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() {
            let width = match text[i] {
                0x00..=0x7F => 1,
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            // Stop before a character that would leave no room for `…`.
            if self.len + width > Message::CAPACITY - ELLIPSIS.len() {
                let mut j = 0;
                while j < ELLIPSIS.len() {
                    self.bytes[self.len] = ELLIPSIS[j];
                    self.len += 1;
                    j += 1;
                }
                self.full = true;
                return;
            }
            let mut j = 0;
            while j < width {
                self.bytes[self.len] = text[i + j];
                self.len += 1;
                j += 1;
            }
            i += width;
        }
    }

    /// The text.
    pub const fn as_str(&self) -> &str {
        let (text, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            Err(_) => "",
        }
    }
}

/// The module that contains `module` (`a::b` for `a::b::c`): what the generated module, which
/// `saga!` nests in the module that declares the saga, reads its `declared_in` from.
pub const fn parent_module(module: &str) -> &str {
    let bytes = module.as_bytes();
    let mut i = bytes.len();
    while i >= 2 {
        if bytes[i - 1] == b':' && bytes[i - 2] == b':' {
            return module.split_at(i - 2).0;
        }
        i -= 1;
    }
    module
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
    fn the_message_names_every_undeclared_name() {
        const MESSAGE: Message = Message::undeclared(
            "step `Charge` does not declare ",
            &["Declined", "Busy", "Timeout"],
            &["Declined"],
            "; list them",
        );
        assert_eq!(
            MESSAGE.as_str(),
            "step `Charge` does not declare `Busy`, `Timeout`; list them"
        );
    }

    #[test]
    fn a_long_message_is_cut_on_a_character_boundary() {
        let names = vec!["é".repeat(40); 40];
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let message = Message::undeclared("", &names, &[], "");
        assert!(message.as_str().ends_with('…'), "{}", message.as_str());
        assert!(message.as_str().len() <= Message::CAPACITY);
    }

    #[test]
    fn the_parent_module_drops_the_last_segment() {
        assert_eq!(
            parent_module("trip_saga::saga::trip_booking"),
            "trip_saga::saga"
        );
        assert_eq!(parent_module("app::booking"), "app");
        assert_eq!(parent_module("app"), "app");
    }

    #[test]
    fn all_in_requires_every_name() {
        assert!(all_in(&["A", "B"], &["B", "A", "C"]));
        assert!(!all_in(&["A", "D"], &["A", "B"]));
        assert!(all_in(&[], &["A"]));
    }
}
