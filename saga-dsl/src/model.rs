//! The checked saga: what every emitter reads, and nothing else.
//!
//! [`crate::check`] builds it from the syntax tree once every rule holds; after that nothing
//! re-derives anything from the declaration. Names and numbers are plain values; the few syn
//! nodes the Rust emitter needs (the input and output types, the functions' paths, the error
//! names) keep their spans so that rustc's own errors point at the DSL token they are about.
//! [`Saga::info`] is the serialisable part: the `SAGA` static and the function manifest.

use std::borrow::Cow;

use syn::{Ident, Path, Type, Visibility};

use saga_model::{FunctionInfo, RetriedFunction, SagaInfo, StepInfo};
pub use saga_model::{FunctionKind, Jitter, RetryPolicy};

/// A saga that passed every check in [`crate::check`].
#[derive(Clone, Debug, PartialEq)]
pub struct Saga {
    /// The declared name, e.g. `TripBooking`.
    pub name: String,
    /// The name as written, with its span (for the generated module).
    pub ident: Ident,
    /// The visibility of the generated module.
    pub vis: Visibility,
    /// snake_case of the name: the generated module and the file stem in `generated/`.
    pub module: String,
    /// Where the saga is declared.
    pub origin: Origin,
    /// The saga's doc comment, line by line.
    pub doc: Vec<String>,
    /// The execution input's type, as written.
    pub input: Type,
    /// What every function borrows, as written; `None` is `()`.
    pub context: Option<Type>,
    /// The execution's `TimeoutSeconds`: the declared one, or derived from the worst case of
    /// every path ([`SagaInfo::derived_timeout_seconds`]); above that worst case either way.
    pub timeout_seconds: u32,
    /// The steps in execution order.
    pub steps: Vec<Step>,
    /// The function run when compensations are left undone; `None` records them in a Pass state.
    pub escalation: Option<Escalation>,
}

/// Where a `saga!` is: the Cargo package that builds it and the Rust module that contains it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Origin {
    /// The Cargo package (its `name`, as `CARGO_PKG_NAME` gives it).
    pub crate_name: String,
    /// The module path (`trip_saga::saga`), when known: the CLI reads it from the file's place in
    /// the crate; the macro leaves it `None` and the generated code asks rustc
    /// (`module_path!()`).
    pub declared_in: Option<String>,
}

impl Origin {
    /// A saga of `crate_name` in a module the caller does not know.
    pub fn of_crate(crate_name: &str) -> Self {
        Origin {
            crate_name: crate_name.to_owned(),
            declared_in: None,
        }
    }
}

/// One step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The action.
    pub action: Function,
    /// The action's declared output type.
    pub output: Type,
    /// The step's doc comment.
    pub doc: Vec<String>,
    /// Errors that start compensation without a retry, as written.
    pub business_errors: Vec<Ident>,
    /// Errors retried with `retry`: the step's own list, or the saga's.
    pub transient_errors: Vec<Ident>,
    /// Whether `transient_errors` came from the saga's default list. The action's error type
    /// need not have those names (a default applies where it can occur); it must have every
    /// name the step lists itself.
    pub transient_inherited: bool,
    /// The retry policy of the action.
    pub retry: RetryPolicy,
    /// The Task's `TimeoutSeconds`.
    pub timeout_seconds: Option<u32>,
    /// The compensation; `None` for an irreversible step. On the pivot, its guard.
    pub compensation: Option<Compensation>,
    /// Whether the step is the saga's pivot (see [`saga_model::StepInfo::pivot`]).
    pub pivot: bool,
}

/// How a step is undone.
#[derive(Clone, Debug, PartialEq)]
pub struct Compensation {
    /// The compensation's function.
    pub function: Function,
    /// Its retry policy (it retries on every error).
    pub retry: RetryPolicy,
    /// Its Task's `TimeoutSeconds`.
    pub timeout_seconds: u32,
}

/// The function that hands what is left undone to an operator.
#[derive(Clone, Debug, PartialEq)]
pub struct Escalation {
    /// The escalation's function.
    pub function: Function,
    /// Its retry policy (it retries on every error).
    pub retry: RetryPolicy,
    /// Its Task's `TimeoutSeconds`.
    pub timeout_seconds: u32,
}

/// One Lambda function of the saga.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The logical name as written: a Rust identifier, unique in the saga. It keys the step's
    /// result, names the binary, the ARN placeholder and the `Function` variant.
    pub ident: Ident,
    /// The ASL state that invokes it.
    pub state: String,
    /// What the function is for.
    pub kind: FunctionKind,
    /// The user's function, as written in the DSL.
    pub path: Path,
}

impl Function {
    /// The logical name.
    pub fn name(&self) -> String {
        self.ident.to_string()
    }

    /// The `definitionSubstitutions` key that CDK fills with the function's ARN.
    pub fn substitution_key(&self) -> String {
        format!("{}FunctionArn", self.ident)
    }

    /// The Cargo binary (and Lambda function) name: kebab-case of the logical name.
    pub fn binary(&self) -> String {
        heck::ToKebabCase::to_kebab_case(self.name().as_str())
    }

    /// snake_case of the logical name: the generated entrypoint, and the field that holds the
    /// step's output in the results of later steps.
    pub fn snake_name(&self) -> String {
        heck::ToSnakeCase::to_snake_case(self.name().as_str())
    }

    /// The Rust path of the user's function as written, without the spaces a token stream puts
    /// around `::`.
    pub fn handler(&self) -> String {
        path_string(&self.path)
    }

    fn info(&self, crate_name: &str) -> FunctionInfo {
        FunctionInfo {
            name: Cow::Owned(self.name()),
            kind: self.kind,
            state: Cow::Owned(self.state.clone()),
            substitution_key: Cow::Owned(self.substitution_key()),
            crate_name: Cow::Owned(crate_name.to_owned()),
            binary: Cow::Owned(self.binary()),
            handler: Cow::Owned(self.handler()),
        }
    }
}

impl Step {
    /// The step's logical name (its action's).
    pub fn name(&self) -> String {
        self.action.name()
    }

    /// The names the action's error type must have: the business errors and the transient ones
    /// the step lists itself.
    pub fn required_error_names(&self) -> impl Iterator<Item = &Ident> {
        let own_transient: &[Ident] = if self.transient_inherited {
            &[]
        } else {
            &self.transient_errors
        };
        self.business_errors.iter().chain(own_transient)
    }
}

impl Saga {
    /// Every function, in manifest order: each step's action then its compensation, then the
    /// escalation.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.steps
            .iter()
            .flat_map(|step| {
                std::iter::once(&step.action).chain(step.compensation.as_ref().map(|c| &c.function))
            })
            .chain(self.escalation.as_ref().map(|e| &e.function))
    }

    /// Whether any step can be undone.
    pub fn has_compensations(&self) -> bool {
        self.steps.iter().any(|step| step.compensation.is_some())
    }

    /// The serialisable model: what the `SAGA` static holds and the manifest is the serde form
    /// of. `declared_in` is empty when the origin does not know it.
    pub fn info(&self) -> SagaInfo {
        let crate_name = &self.origin.crate_name;
        let retried =
            |function: &Function, retry: RetryPolicy, timeout_seconds: u32| RetriedFunction {
                function: function.info(crate_name),
                retry,
                timeout_seconds,
            };
        let names = |idents: &[Ident]| -> Vec<Cow<'static, str>> {
            idents.iter().map(|i| Cow::Owned(i.to_string())).collect()
        };
        SagaInfo {
            name: Cow::Owned(self.name.clone()),
            module: Cow::Owned(self.module.clone()),
            crate_name: Cow::Owned(crate_name.clone()),
            declared_in: Cow::Owned(self.origin.declared_in.clone().unwrap_or_default()),
            input: Cow::Owned(type_string(&self.input)),
            timeout_seconds: Some(self.timeout_seconds),
            steps: self
                .steps
                .iter()
                .map(|step| StepInfo {
                    action: step.action.info(crate_name),
                    output: Cow::Owned(type_string(&step.output)),
                    business_errors: Cow::Owned(names(&step.business_errors)),
                    transient_errors: Cow::Owned(names(&step.transient_errors)),
                    retry: step.retry,
                    timeout_seconds: step.timeout_seconds,
                    compensation: step
                        .compensation
                        .as_ref()
                        .map(|c| retried(&c.function, c.retry, c.timeout_seconds)),
                    pivot: step.pivot,
                })
                .collect(),
            escalation: self
                .escalation
                .as_ref()
                .map(|e| retried(&e.function, e.retry, e.timeout_seconds)),
        }
    }
}

/// `a :: b` as written in source, without the spaces a token stream puts around `::`.
pub fn path_string(path: &Path) -> String {
    let segments = path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    if path.leading_colon.is_some() {
        format!("::{segments}")
    } else {
        segments
    }
}

/// A type as written, with the spacing rustfmt would give it (`Vec<Seat>`, `&'static str`).
pub fn type_string(ty: &Type) -> String {
    let text = quote::ToTokens::to_token_stream(ty).to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // The token stream spaces every token apart; keep a space only between two words
        // (`dyn Trait`, `&'a mut T`) and after a comma.
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if prev == Some(',') || (word(prev) && word(next)) {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_print_as_written() {
        for text in [
            "Seats",
            "Vec<Seat>",
            "Option<(u32, String)>",
            "&'static str",
            "crate::domain::Trip",
            "HashMap<String, Vec<u8>>",
        ] {
            let ty: Type = syn::parse_str(text).unwrap();
            assert_eq!(type_string(&ty), text);
        }
    }
}
