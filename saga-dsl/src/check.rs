//! The rules a `saga!` must satisfy, one `check_*` function each, and the lowering into
//! [`model::Saga`](crate::model::Saga).
//!
//! Every rule runs even when an earlier one failed, so the user sees all problems in one
//! compile. Messages are lower case, quote the DSL and say how to fix it.

use std::collections::HashMap;

use heck::ToSnakeCase;
use proc_macro2::Span;
use syn::{Ident, LitInt, Path};

use crate::model::{
    Compensation, Escalation, Function, FunctionKind, Jitter, Origin, RetryPolicy, Saga, Step,
};
use crate::syntax::{ActionRef, RetryDef, SagaDef, StepDef};

/// State names the generated state machine uses for itself.
pub const RESERVED_STATE_NAMES: [&str; 10] = saga_model::states::RESERVED;

/// Longest state name Step Functions accepts.
pub const MAX_STATE_NAME_LEN: usize = 80;

/// Characters refused in state names. Step Functions forbids these in the names of its resources
/// (executions, state machines, activities); we refuse them in state names as well, because the
/// state name is part of every idempotency key and is embedded in `States.Format` templates.
pub const FORBIDDEN_STATE_NAME_CHARS: &str = "<>{}[]?*\"#%\\^|~`$&,;:/'";

/// Longest Task `TimeoutSeconds`: a Lambda function runs at most 15 minutes.
pub const MAX_TASK_TIMEOUT_SECONDS: u32 = 900;

/// Longest execution of a Standard workflow: one year.
pub const MAX_SAGA_TIMEOUT_SECONDS: u32 = 31_536_000;

/// Bounds of retry policies. Step Functions accepts wider ranges; these are the ranges in which a
/// saga still finishes in reasonable time, so a typo like `interval_seconds: 3600000` is caught.
pub mod retry_bounds {
    /// `max_attempts`
    pub const MAX_ATTEMPTS: u32 = 25;
    /// `interval_seconds` (Step Functions' minimum is 1)
    pub const INTERVAL_SECONDS: (u32, u32) = (1, 3_600);
    /// `backoff_rate` (Step Functions' minimum is 1.0)
    pub const BACKOFF_RATE: (f64, f64) = (1.0, 10.0);
    /// `max_delay_seconds`
    pub const MAX_DELAY_SECONDS: (u32, u32) = (1, 86_400);
}

/// Collects errors so that every rule can report.
#[derive(Default)]
struct Errors(Vec<syn::Error>);

impl Errors {
    fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.0.push(syn::Error::new(span, message));
    }

    fn push(&mut self, error: syn::Error) {
        self.0.push(error);
    }

    fn finish<T>(self, value: T) -> syn::Result<T> {
        let mut errors = self.0.into_iter();
        match errors.next() {
            None => Ok(value),
            Some(mut first) => {
                first.extend(errors);
                Err(first)
            }
        }
    }
}

/// Checks `def` and lowers it into the model.
///
/// # Errors
/// Every rule violation, combined into one [`syn::Error`] whose parts each carry the span of the
/// offending token.
pub fn check(def: &SagaDef, origin: Origin) -> syn::Result<Saga> {
    let mut errors = Errors::default();
    check_input(def, &mut errors);
    check_not_empty(def, &mut errors);
    check_unique_names(def, &mut errors);
    if let Some(list) = &def.transient_errors {
        check_error_lists(&def.name, &[], list.idents.as_slice(), &mut errors);
    }
    check_how_steps_are_undone(def, &mut errors);
    for step in &def.steps {
        check_step_has_action(step, &mut errors);
        check_compensation_retry_has_a_compensation(step, &mut errors);
        let transient: Vec<Ident> = match (&step.transient_errors, &def.transient_errors) {
            (Some(own), _) => own.idents.clone(),
            // The saga-level check reported the inherited list's own duplicates once.
            (None, Some(inherited)) => unique(&inherited.idents),
            (None, None) => Vec::new(),
        };
        check_error_lists(&step.name, &step.business_errors, &transient, &mut errors);
        check_state_name(&step_state(step), state_span(step), &mut errors);
        if let Some(c) = step.undo() {
            check_state_name(&c.name.to_string(), c.name.span(), &mut errors);
        }
    }
    if let Some(e) = &def.escalation {
        check_state_name(&e.name.to_string(), e.name.span(), &mut errors);
    }
    check_escalation_reachable(def, &mut errors);
    let declared_timeout = check_timeout(
        "timeout_seconds",
        def.timeout_seconds.as_ref(),
        MAX_SAGA_TIMEOUT_SECONDS,
        "an execution",
        &mut errors,
    );
    let compensation_timeout_seconds = check_timeout(
        "compensation_timeout_seconds",
        def.compensation_timeout_seconds.as_ref(),
        MAX_TASK_TIMEOUT_SECONDS,
        "a Lambda task",
        &mut errors,
    )
    .unwrap_or(saga_model::RetriedFunction::DEFAULT_TIMEOUT_SECONDS);
    let defaults = Defaults {
        transient_errors: def.transient_errors.as_ref().map(|l| l.idents.as_slice()),
        retry: retry_policy(def.retry.as_ref(), RetryPolicy::ACTION_DEFAULT, &mut errors),
        compensation_retry: retry_policy(
            def.compensation_retry.as_ref(),
            RetryPolicy::COMPENSATION_DEFAULT,
            &mut errors,
        ),
        compensation_timeout_seconds,
    };
    let steps: Vec<Option<Step>> = def
        .steps
        .iter()
        .map(|step| lower_step(step, &defaults, &mut errors))
        .collect();
    let escalation = def.escalation.as_ref().map(|e| Escalation {
        function: function(&e.name, &e.path, FunctionKind::Escalation),
        retry: defaults.compensation_retry,
        timeout_seconds: defaults.compensation_timeout_seconds,
    });
    let (Some(input), Some(steps)) = (def.input.clone(), steps.into_iter().collect()) else {
        // A rule above reported why; there is no model to build.
        return Err(errors.finish(()).expect_err("a missing part was reported"));
    };
    let mut saga = Saga {
        name: def.name.to_string(),
        ident: def.name.clone(),
        vis: def.vis.clone(),
        module: def.name.to_string().to_snake_case(),
        origin,
        doc: def.doc.clone(),
        input,
        context: def.context.clone(),
        // Set below, from the finished model.
        timeout_seconds: 0,
        steps,
        escalation,
    };
    // A saga without steps has no path to bound (`check_not_empty` reported it).
    if !saga.steps.is_empty() {
        saga.timeout_seconds = check_saga_timeout(def, declared_timeout, &saga.info(), &mut errors);
    }
    errors.finish(saga)
}

fn unique(idents: &[Ident]) -> Vec<Ident> {
    let mut seen = std::collections::HashSet::new();
    idents
        .iter()
        .filter(|i| seen.insert(i.to_string()))
        .cloned()
        .collect()
}

/// What a step takes from the saga when it does not say.
struct Defaults<'a> {
    transient_errors: Option<&'a [Ident]>,
    retry: RetryPolicy,
    compensation_retry: RetryPolicy,
    compensation_timeout_seconds: u32,
}

/// A saga needs a typed input: the state machine's execution input and every request carry it.
fn check_input(def: &SagaDef, errors: &mut Errors) {
    if def.input.is_none() {
        errors.at(
            def.name.span(),
            format!(
                "saga `{}` has no `input`; add `input: YourInputType,`",
                def.name
            ),
        );
    }
}

/// A saga without steps would be a state machine that does nothing.
fn check_not_empty(def: &SagaDef, errors: &mut Errors) {
    if def.steps.is_empty() {
        errors.at(
            def.name.span(),
            format!(
                "saga `{}` has no steps; add `step Name {{ action: path::to::function, … }}`",
                def.name
            ),
        );
    }
}

/// Every function name and state name is unique: logical names key results, binaries and ARN
/// placeholders, and ASL requires unique state names.
fn check_unique_names(def: &SagaDef, errors: &mut Errors) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut claim = |name: String, span: Span, what: &str, errors: &mut Errors| {
        if RESERVED_STATE_NAMES.contains(&name.as_str()) {
            errors.at(span, format!("`{name}` is a state of the generated state machine; give the {what} another name"));
        } else if seen.insert(name.clone(), span).is_some() {
            errors.at(
                span,
                format!("duplicate name `{name}`; every step, compensation and escalation needs its own name"),
            );
        }
    };
    for step in &def.steps {
        claim(step.name.to_string(), step.name.span(), "step", errors);
        if let Some(state) = &step.state
            && step.name != state.value()
        {
            claim(state.value(), state.span(), "step's state", errors);
        }
        if let Some(c) = &step.compensation {
            claim(c.name.to_string(), c.name.span(), "compensation", errors);
        }
        if let Some(guard) = &step.pivot {
            claim(
                guard.name.to_string(),
                guard.name.span(),
                "pivot's guard",
                errors,
            );
        }
    }
    if let Some(e) = &def.escalation {
        claim(e.name.to_string(), e.name.span(), "escalation", errors);
    }
}

/// Step Functions refuses state names over 80 characters; we also refuse the characters listed
/// in [`FORBIDDEN_STATE_NAME_CHARS`] and control characters.
fn check_state_name(name: &str, span: Span, errors: &mut Errors) {
    let len = name.chars().count();
    if len == 0 {
        errors.at(span, "a state name cannot be empty");
    } else if len > MAX_STATE_NAME_LEN {
        errors.at(
            span,
            format!("state name `{name}` is {len} characters long; Step Functions allows at most {MAX_STATE_NAME_LEN}"),
        );
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || FORBIDDEN_STATE_NAME_CHARS.contains(*c))
    {
        errors.at(
            span,
            format!("state name `{}` contains `{}`, which Step Functions names cannot contain; use letters, digits, spaces, `-`, `_` or `.`", name.escape_debug(), c.escape_debug()),
        );
    }
}

/// A step without an action has nothing to run; an action's output type is declared, so that
/// later steps read it typed and the compensation's input is checked against it.
fn check_step_has_action(step: &StepDef, errors: &mut Errors) {
    match &step.action {
        None => errors.at(
            step.name.span(),
            format!(
                "step `{}` has no `action`; add `action: path::to::function -> OutputType,`",
                step.name
            ),
        ),
        Some(ActionRef { path, output: None }) => errors.push(syn::Error::new_spanned(
            path,
            format!(
                "the action of step `{}` declares no output type; write `action: {} -> OutputType,` with the type its `Ok` holds",
                step.name,
                path_string(path)
            ),
        )),
        Some(_) => {}
    }
}

/// Forgetting a compensation must be a decision, not an accident: a step either says how it is
/// undone or says that it cannot be. With a pivot (Garcia-Molina and Salem's compensatable,
/// pivot, retriable steps), the steps before it must be undoable, the pivot has a guard instead
/// of a compensation, and the steps after it are never undone (the saga only goes forward).
fn check_how_steps_are_undone(def: &SagaDef, errors: &mut Errors) {
    let mut pivot: Option<&Ident> = None;
    for step in &def.steps {
        if step.pivot.is_some() {
            if let Some(first) = pivot {
                errors.at(
                    step.name.span(),
                    format!("step `{}` is a second pivot; a saga has one (`{first}`): the step after which it only goes forward", step.name),
                );
            }
            if let Some(c) = &step.compensation {
                errors.at(
                    c.name.span(),
                    format!("step `{}` is the pivot: its guard replaces a compensation; remove `compensation`", step.name),
                );
            }
            if let Some(mark) = &step.irreversible {
                errors.at(
                    mark.span,
                    format!("step `{}` is the pivot, which is irreversible by definition; remove `irreversible`", step.name),
                );
            }
            pivot = pivot.or(Some(&step.name));
            continue;
        }
        match (pivot, &step.compensation, &step.irreversible) {
            (Some(pivot), Some(c), _) => errors.at(
                c.name.span(),
                format!(
                    "step `{}` comes after the pivot `{pivot}`: the saga only goes forward after it, so nothing after it is undone; remove the compensation (the step is retried, then escalated)",
                    step.name
                ),
            ),
            (Some(_), None, _) | (None, Some(_), None) => {}
            (None, None, None) => errors.at(
                step.name.span(),
                format!(
                    "step `{0}` has no compensation; add `compensation: Undo{0} => path::to::function,` or mark the step `irreversible,`",
                    step.name
                ),
            ),
            (None, Some(_), Some(mark)) => errors.at(
                mark.span,
                format!("step `{}` is marked `irreversible` but also has a compensation; keep one of them", step.name),
            ),
            (None, None, Some(mark)) => {
                if let Some(later) = def.steps.iter().find(|s| s.pivot.is_some()) {
                    errors.at(
                        mark.span,
                        format!(
                            "step `{}` comes before the pivot `{}`, so it must be undoable if the pivot fails: give it a compensation instead of `irreversible`",
                            step.name, later.name
                        ),
                    );
                }
            }
        }
    }
}

/// A retry policy or a timeout for a compensation that does not exist would be silently ignored.
fn check_compensation_retry_has_a_compensation(step: &StepDef, errors: &mut Errors) {
    if let (Some(retry), None) = (&step.compensation_retry, step.undo()) {
        errors.at(
            retry.span,
            format!(
                "step `{}` has no compensation, so `compensation_retry` would never apply; remove it",
                step.name
            ),
        );
    }
    if let (Some(timeout), None) = (&step.compensation_timeout_seconds, step.undo()) {
        errors.at(
            timeout.span(),
            format!(
                "step `{}` has no compensation, so `compensation_timeout_seconds` would never apply; remove it",
                step.name
            ),
        );
    }
}

/// The state machine's `TimeoutSeconds`. When it expires, Step Functions ends the execution and
/// no `Catch` runs: a compensation or the escalation cut there leaves what it was undoing held,
/// with nobody told. So it must never fall while a Task can still run: a declared one must be
/// above the longest path ([`saga_model::SagaInfo::worst_case`]), and without one it is derived
/// from it. Returns the timeout to emit (any value when an error was reported).
fn check_saga_timeout(
    def: &SagaDef,
    declared: Option<u32>,
    info: &saga_model::SagaInfo,
    errors: &mut Errors,
) -> u32 {
    let worst = info.worst_case();
    match (declared, &def.timeout_seconds) {
        (Some(declared), Some(lit)) => {
            if f64::from(declared) <= worst.seconds {
                errors.at(
                    lit.span(),
                    format!(
                        "`timeout_seconds: {declared}` can expire while the saga is still running: the path \"{}\" can take {:.0} seconds, and an execution that times out runs no compensation; remove it (the timeout is then derived: {} seconds) or raise it above the worst case",
                        worst.path,
                        worst.seconds.ceil(),
                        info.derived_timeout_seconds()
                    ),
                );
            }
            declared
        }
        _ => match u32::try_from(info.derived_timeout_seconds()) {
            Ok(derived) if derived <= MAX_SAGA_TIMEOUT_SECONDS => derived,
            _ => {
                errors.at(
                    def.name.span(),
                    format!(
                        "saga `{}` can run for longer than Step Functions lets an execution run ({MAX_SAGA_TIMEOUT_SECONDS} seconds): the path \"{}\" can take {:.0} seconds; lower the retries or the timeouts",
                        def.name,
                        worst.path,
                        worst.seconds.ceil()
                    ),
                );
                MAX_SAGA_TIMEOUT_SECONDS
            }
        },
    }
}

/// An error name is either business (caught, compensated) or transient (retried), once.
/// A step that inherits the saga's transient errors is checked against them too.
fn check_error_lists(owner: &Ident, business: &[Ident], transient: &[Ident], errors: &mut Errors) {
    let mut seen: HashMap<String, &str> = HashMap::new();
    let lists = [
        ("business_errors", business),
        ("transient_errors", transient),
    ];
    for (list_name, list) in lists {
        for error in list {
            let name = error.to_string();
            match seen.insert(name.clone(), list_name) {
                None => {}
                Some(previous) if previous == list_name => {
                    errors.at(error.span(), format!("error `{name}` is listed twice in `{list_name}`"));
                }
                Some(_) => errors.at(
                    error.span(),
                    format!(
                        "error `{name}` is declared both business and transient in step `{owner}`; a business error starts compensation, a transient one is retried: keep it in one list (a step's own `transient_errors` replace the saga's)"
                    ),
                ),
            }
        }
    }
}

/// The escalation runs only when a compensation fails; with no compensation it would be
/// unreachable, and ASL refuses unreachable states.
fn check_escalation_reachable(def: &SagaDef, errors: &mut Errors) {
    if let Some(e) = &def.escalation
        && def.steps.iter().all(|s| s.undo().is_none())
    {
        errors.at(
            e.name.span(),
            format!(
                "escalation `{}` can never run because no step has a compensation; remove it",
                e.name
            ),
        );
    }
}

fn check_timeout(
    key: &str,
    lit: Option<&LitInt>,
    max: u32,
    what: &str,
    errors: &mut Errors,
) -> Option<u32> {
    let lit = lit?;
    match lit.base10_parse::<u32>() {
        Ok(value) if (1..=max).contains(&value) => Some(value),
        _ => {
            errors.at(
                lit.span(),
                format!("`{key}: {lit}` is out of range; {what} may last 1 to {max} seconds"),
            );
            None
        }
    }
}

fn lower_step(step: &StepDef, defaults: &Defaults<'_>, errors: &mut Errors) -> Option<Step> {
    let retry = retry_policy(step.retry.as_ref(), defaults.retry, errors);
    let compensation_retry = retry_policy(
        step.compensation_retry.as_ref(),
        defaults.compensation_retry,
        errors,
    );
    let compensation_timeout_seconds = check_timeout(
        "compensation_timeout_seconds",
        step.compensation_timeout_seconds.as_ref(),
        MAX_TASK_TIMEOUT_SECONDS,
        "a Lambda task",
        errors,
    )
    .unwrap_or(defaults.compensation_timeout_seconds);
    let timeout_seconds = check_timeout(
        "timeout_seconds",
        step.timeout_seconds.as_ref(),
        MAX_TASK_TIMEOUT_SECONDS,
        "a Lambda task",
        errors,
    );
    let ActionRef {
        path,
        output: Some(output),
    } = step.action.as_ref()?
    else {
        return None;
    };
    let mut action = function(&step.name, path, FunctionKind::Action);
    action.state = step_state(step);
    let (transient_errors, transient_inherited) =
        match (&step.transient_errors, defaults.transient_errors) {
            (Some(own), _) => (own.idents.clone(), false),
            (None, Some(inherited)) => (unique(inherited), true),
            (None, None) => (Vec::new(), false),
        };
    Some(Step {
        action,
        output: output.clone(),
        doc: step.doc.clone(),
        business_errors: step.business_errors.clone(),
        transient_errors,
        transient_inherited,
        retry,
        timeout_seconds,
        compensation: step.undo().map(|c| Compensation {
            function: function(&c.name, &c.path, FunctionKind::Compensation),
            retry: compensation_retry,
            timeout_seconds: compensation_timeout_seconds,
        }),
        pivot: step.pivot.is_some(),
    })
}

fn step_state(step: &StepDef) -> String {
    step.state
        .as_ref()
        .map_or_else(|| step.name.to_string(), syn::LitStr::value)
}

fn state_span(step: &StepDef) -> Span {
    step.state
        .as_ref()
        .map_or_else(|| step.name.span(), syn::LitStr::span)
}

fn function(name: &Ident, path: &Path, kind: FunctionKind) -> Function {
    Function {
        ident: name.clone(),
        state: name.to_string(),
        kind,
        path: path.clone(),
    }
}

pub use crate::model::path_string;

/// Resolves a retry block against `default`, checking every value it sets.
fn retry_policy(def: Option<&RetryDef>, default: RetryPolicy, errors: &mut Errors) -> RetryPolicy {
    use retry_bounds::{BACKOFF_RATE, INTERVAL_SECONDS, MAX_ATTEMPTS, MAX_DELAY_SECONDS};
    let Some(def) = def else { return default };
    let mut policy = default;
    if let Some(lit) = &def.max_attempts {
        policy.max_attempts = int_in(lit, 0, MAX_ATTEMPTS, "max_attempts", "retries", errors)
            .unwrap_or(default.max_attempts);
    }
    if let Some(lit) = &def.interval_seconds {
        policy.interval_seconds = int_in(
            lit,
            INTERVAL_SECONDS.0,
            INTERVAL_SECONDS.1,
            "interval_seconds",
            "seconds",
            errors,
        )
        .unwrap_or(default.interval_seconds);
    }
    if let Some(lit) = &def.max_delay_seconds {
        policy.max_delay_seconds = int_in(
            lit,
            MAX_DELAY_SECONDS.0,
            MAX_DELAY_SECONDS.1,
            "max_delay_seconds",
            "seconds",
            errors,
        )
        .unwrap_or(default.max_delay_seconds);
    }
    if let Some(number) = &def.backoff_rate {
        match number.value() {
            Ok(v) if (BACKOFF_RATE.0..=BACKOFF_RATE.1).contains(&v) => policy.backoff_rate = v,
            _ => errors.at(
                number.span(),
                format!(
                    "`backoff_rate` must be between {:.1} and {:.1}",
                    BACKOFF_RATE.0, BACKOFF_RATE.1
                ),
            ),
        }
    }
    if let Some(jitter) = &def.jitter {
        match jitter.to_string().as_str() {
            "full" => policy.jitter = Jitter::Full,
            "none" => policy.jitter = Jitter::None,
            other => errors.at(
                jitter.span(),
                format!("unknown jitter `{other}`; expected `full` or `none`"),
            ),
        }
    }
    if policy.max_delay_seconds < policy.interval_seconds {
        errors.at(
            def.span,
            format!(
                "`max_delay_seconds` ({}) is shorter than `interval_seconds` ({}); the first retry would already be capped",
                policy.max_delay_seconds, policy.interval_seconds
            ),
        );
    }
    policy
}

fn int_in(
    lit: &LitInt,
    min: u32,
    max: u32,
    key: &str,
    unit: &str,
    errors: &mut Errors,
) -> Option<u32> {
    match lit.base10_parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Some(v),
        _ => {
            errors.push(syn::Error::new(
                lit.span(),
                format!("`{key}: {lit}` is out of range; use {min} to {max} {unit}"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::{Origin, compile};

    /// Two compensable steps, each attempt of every Task bounded at 10 s, one retry each.
    fn saga(extra: &proc_macro2::TokenStream) -> syn::Result<crate::Compiled> {
        compile(
            quote! {
                saga Transfer {
                    input: Order,
                    retry: { max_attempts: 1, interval_seconds: 2 },
                    compensation_retry: { max_attempts: 1, interval_seconds: 2 },
                    compensation_timeout_seconds: 10,
                    escalation: Page => ops::page,
                    #extra
                    step Debit {
                        action: ledger::debit -> u64,
                        compensation: Reverse => ledger::reverse,
                        timeout_seconds: 10,
                    }
                    step Credit {
                        action: ledger::credit -> u64,
                        compensation: Refund => ledger::refund,
                        timeout_seconds: 10,
                    }
                }
            },
            Origin::of_crate("bank"),
        )
    }

    /// Each Task: 2 attempts of 10 s (+ 1 s each) and a 2 s back-off, 24 s. The longest path is
    /// a failure of `Credit`: both actions, both compensations and the escalation, 120 s.
    const WORST_SECONDS: u32 = 5 * 24;

    #[test]
    fn without_a_timeout_the_next_minute_above_the_longest_path_is_derived() {
        let compiled = saga(&quote!()).unwrap();
        let info = compiled.saga.info();
        let worst = info.worst_case();
        assert!((worst.seconds - f64::from(WORST_SECONDS)).abs() < f64::EPSILON);
        assert_eq!(
            worst.path,
            "Credit fails, then every compensation and the escalation run"
        );
        assert_eq!(compiled.saga.timeout_seconds, 180);
        let asl: serde_json::Value = serde_json::from_str(&compiled.artifacts.asl).unwrap();
        assert_eq!(asl["TimeoutSeconds"], 180);
        for task in ["Reverse", "Refund", "Page"] {
            assert_eq!(asl["States"][task]["TimeoutSeconds"], 10, "{task}");
        }
    }

    #[test]
    fn a_timeout_the_longest_path_can_reach_is_refused() {
        let error = saga(&quote!(timeout_seconds: 120,))
            .err()
            .expect("120 s is the worst case itself");
        let message = error.to_string();
        assert!(
            message.starts_with("`timeout_seconds: 120` can expire while the saga is still running: the path \"Credit fails, then every compensation and the escalation run\" can take 120 seconds"),
            "{message}"
        );
        assert!(message.contains("derived: 180 seconds"), "{message}");
        let compiled = saga(&quote!(timeout_seconds: 121,)).unwrap();
        assert_eq!(compiled.saga.timeout_seconds, 121);
    }

    #[test]
    fn a_compensation_timeout_is_its_steps_or_the_sagas_or_a_minute() {
        let compiled = compile(
            quote! {
                saga Trip {
                    input: Order,
                    step Book {
                        action: book -> u64,
                        compensation: Unbook => unbook,
                        compensation_timeout_seconds: 45,
                    }
                    step Pay { action: pay -> u64, compensation: Refund => refund }
                }
            },
            Origin::of_crate("trips"),
        )
        .unwrap();
        let timeouts: Vec<u32> = compiled
            .saga
            .steps
            .iter()
            .map(|s| s.compensation.as_ref().unwrap().timeout_seconds)
            .collect();
        assert_eq!(
            timeouts,
            [45, saga_model::RetriedFunction::DEFAULT_TIMEOUT_SECONDS]
        );
    }

    #[test]
    fn a_compensation_timeout_out_of_range_names_its_key() {
        let error = compile(
            quote! {
                saga Trip {
                    input: Order,
                    compensation_timeout_seconds: 901,
                    step Book { action: book -> u64, compensation: Unbook => unbook }
                }
            },
            Origin::of_crate("trips"),
        )
        .err()
        .expect("a Lambda function runs at most 900 seconds");
        assert_eq!(
            error.to_string(),
            "`compensation_timeout_seconds: 901` is out of range; a Lambda task may last 1 to 900 seconds"
        );
    }

    #[test]
    fn a_compensation_timeout_without_a_compensation_is_refused() {
        let error = compile(
            quote! {
                saga Trip {
                    input: Order,
                    step Pay { action: pay -> u64, irreversible, compensation_timeout_seconds: 30 }
                }
            },
            Origin::of_crate("trips"),
        )
        .err()
        .expect("an irreversible step has no compensation to time out");
        assert_eq!(
            error.to_string(),
            "step `Pay` has no compensation, so `compensation_timeout_seconds` would never apply; remove it"
        );
    }
}
