//! The grammar of `saga!` and its parser.
//!
//! The parser keeps every token's span so that validation can point at the exact word to fix.
//! It reports the first *syntax* error it meets; the semantic rules in [`crate::check`] then
//! report all their findings at once.

use proc_macro2::{Delimiter, Group, Span};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Expr, ExprLit, Ident, Lit, LitFloat, LitInt, LitStr, Meta, Path, Token, Type,
    Visibility, braced,
};

/// Keywords of the DSL that are not Rust keywords.
#[allow(missing_docs)]
pub mod kw {
    syn::custom_keyword!(saga);
    syn::custom_keyword!(step);
    syn::custom_keyword!(irreversible);
}

/// One `saga!` invocation.
///
/// ```text
/// saga!        := doc* vis? "saga" Ident "{" saga-item* "}"
/// saga-item    := "input" ":" Type ","                 the execution input (required)
///               | "context" ":" Type ","               what every function borrows; default ()
///               | "timeout_seconds" ":" Int ","        the whole execution's timeout
///               | "escalation" ":" Ident "=>" Path "," the function run when compensations are left undone
///               | "transient_errors" ":" "[" Ident,* "]" ","  every step's, unless it lists its own
///               | "retry" ":" retry ","                the default retry of every action
///               | "compensation_retry" ":" retry ","   the default retry of every compensation
///               | "compensation_timeout_seconds" ":" Int ","  the default Task timeout of every compensation and the escalation
///               | step
/// step         := doc* "step" Ident "{" step-item* "}"
/// step-item    := "action" ":" Path "->" Type ","      async fn(&Context, ActionRequest<Input[, Results]>) -> Result<Type, E>
///               | "compensation" ":" Ident "=>" Path "," async fn(&Context, CompensationRequest<Input, Type>) -> Result<_, _>
///               | "irreversible" ","                   instead of a compensation
///               | "pivot" ":" Ident "=>" Path ","     the saga's pivot, with its guard: async fn(&Context, CompensationRequest<Input, Type>) -> Result<PivotCheck, _>
///               | "business_errors" ":" "[" Ident,* "]" ","   not retried; they start compensation
///               | "transient_errors" ":" "[" Ident,* "]" ","  retried with the step's policy; replaces the saga's list
///               | "retry" ":" retry ","
///               | "compensation_retry" ":" retry ","
///               | "compensation_timeout_seconds" ":" Int ","
///               | "timeout_seconds" ":" Int ","
///               | "state" ":" Str ","                  the ASL state name, when it differs from the Ident
/// retry        := "{" (retry-key ":" value),* "}"
/// retry-key    := "max_attempts" | "interval_seconds" | "backoff_rate" | "max_delay_seconds" | "jitter"
/// ```
///
/// The comma after the last item of a block is optional; `step` blocks need none.
///
/// A malformed item does not stop the parse: its error is recorded in [`SagaDef::errors`] and
/// the parser resumes at the next item, so that every syntax error is reported at once and the
/// rest of the declaration is still known (the macro emits stubs from it).
pub struct SagaDef {
    /// `///` lines above `saga`; they become the state machine's `Comment`.
    pub doc: Vec<String>,
    /// Visibility of the generated module.
    pub vis: Visibility,
    /// The saga's name, UpperCamelCase by convention.
    pub name: Ident,
    /// `input: Type`.
    pub input: Option<Type>,
    /// `context: Type`.
    pub context: Option<Type>,
    /// `timeout_seconds: N`.
    pub timeout_seconds: Option<LitInt>,
    /// `escalation: Name => path`.
    pub escalation: Option<FunctionRef>,
    /// `transient_errors: [...]` at saga level: the list of every step that gives none.
    pub transient_errors: Option<IdentList>,
    /// `retry: { … }` at saga level: the policy of every action.
    pub retry: Option<RetryDef>,
    /// `compensation_retry: { … }` at saga level.
    pub compensation_retry: Option<RetryDef>,
    /// `compensation_timeout_seconds: N` at saga level: the Task timeout of every compensation
    /// that gives none, and of the escalation.
    pub compensation_timeout_seconds: Option<LitInt>,
    /// The steps, in execution order.
    pub steps: Vec<StepDef>,
    /// The syntax errors of the items that did not parse, in source order.
    pub errors: Vec<syn::Error>,
}

/// `path::to::function -> Output`: an action and the type of its output.
pub struct ActionRef {
    /// The Rust function.
    pub path: Path,
    /// The declared output type; `None` when `-> Type` is missing (an error [`crate::check`]
    /// reports with a hint).
    pub output: Option<Type>,
}

/// `[A, B, C]`: a list of error names, with the brackets' span.
pub struct IdentList {
    /// The brackets, for errors about the whole list.
    pub span: Span,
    /// The names.
    pub idents: Vec<Ident>,
}

/// `Name => path::to::function`.
pub struct FunctionRef {
    /// The function's logical name; it names the state, the binary and the ARN placeholder.
    pub name: Ident,
    /// The Rust function.
    pub path: Path,
}

/// One `step Name { … }` block.
pub struct StepDef {
    /// `///` lines above `step`; they become the state's `Comment`.
    pub doc: Vec<String>,
    /// The step's logical name.
    pub name: Ident,
    /// `state: "…"`.
    pub state: Option<LitStr>,
    /// `action: path -> Output`.
    pub action: Option<ActionRef>,
    /// `compensation: Name => path`.
    pub compensation: Option<FunctionRef>,
    /// The `irreversible` mark.
    pub irreversible: Option<kw::irreversible>,
    /// `pivot: Name => path`: this step is the pivot, and `path` its guard.
    pub pivot: Option<FunctionRef>,
    /// `business_errors: [...]`.
    pub business_errors: Vec<Ident>,
    /// `transient_errors: [...]`; `None` takes the saga's.
    pub transient_errors: Option<IdentList>,
    /// `retry: { … }`.
    pub retry: Option<RetryDef>,
    /// `compensation_retry: { … }`.
    pub compensation_retry: Option<RetryDef>,
    /// `compensation_timeout_seconds: N`.
    pub compensation_timeout_seconds: Option<LitInt>,
    /// `timeout_seconds: N`.
    pub timeout_seconds: Option<LitInt>,
}

/// `{ max_attempts: 3, interval_seconds: 1, backoff_rate: 2.0, max_delay_seconds: 30, jitter: full }`.
pub struct RetryDef {
    /// The braces, for errors about the whole block.
    pub span: Span,
    /// How many retries after the first attempt.
    pub max_attempts: Option<LitInt>,
    /// Seconds before the first retry.
    pub interval_seconds: Option<LitInt>,
    /// Multiplier of the interval at each retry.
    pub backoff_rate: Option<Number>,
    /// Upper bound of one interval.
    pub max_delay_seconds: Option<LitInt>,
    /// `full` or `none`.
    pub jitter: Option<Ident>,
}

/// An integer or float literal, for `backoff_rate: 2` as well as `backoff_rate: 2.0`.
pub enum Number {
    /// `2`
    Int(LitInt),
    /// `2.0`
    Float(LitFloat),
}

impl Number {
    /// The value, or an error spanned on the literal.
    pub fn value(&self) -> syn::Result<f64> {
        match self {
            Number::Int(lit) => lit.base10_parse::<u32>().map(f64::from),
            Number::Float(lit) => lit.base10_parse::<f64>(),
        }
    }

    /// The literal's span.
    pub fn span(&self) -> Span {
        match self {
            Number::Int(lit) => lit.span(),
            Number::Float(lit) => lit.span(),
        }
    }
}

const SAGA_KEYS: &str = "`input`, `context`, `timeout_seconds`, `escalation`, `transient_errors`, `retry`, \
                         `compensation_retry`, `compensation_timeout_seconds` or `step`";
const STEP_KEYS: &str = "`action`, `compensation`, `irreversible`, `pivot`, `business_errors`, `transient_errors`, `retry`, \
                         `compensation_retry`, `compensation_timeout_seconds`, `timeout_seconds` or `state`";
const RETRY_KEYS: &str =
    "`max_attempts`, `interval_seconds`, `backoff_rate`, `max_delay_seconds` or `jitter`";

impl Parse for SagaDef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let doc = doc_lines(&input.call(Attribute::parse_outer)?)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(kw::saga) {
            return Err(input.error("expected `saga Name { … }`"));
        }
        input.parse::<kw::saga>()?;
        let name: Ident = input.parse()?;
        let body;
        braced!(body in input);
        let mut saga = SagaDef {
            doc,
            vis,
            name,
            input: None,
            context: None,
            timeout_seconds: None,
            escalation: None,
            transient_errors: None,
            retry: None,
            compensation_retry: None,
            compensation_timeout_seconds: None,
            steps: Vec::new(),
            errors: Vec::new(),
        };
        while !body.is_empty() {
            if let Err(error) = saga.parse_item(&body) {
                saga.errors.push(error);
                skip_item(&body)?;
            }
        }
        Ok(saga)
    }
}

impl SagaDef {
    fn parse_item(&mut self, body: ParseStream<'_>) -> syn::Result<()> {
        let attrs = body.call(Attribute::parse_outer)?;
        if body.peek(kw::step) {
            let step = StepDef::parse_with_doc(body, doc_lines(&attrs)?, &mut self.errors)?;
            self.steps.push(step);
            if body.peek(Token![,]) {
                body.parse::<Token![,]>()?;
            }
            return Ok(());
        }
        if let Some(attr) = attrs.first() {
            return Err(syn::Error::new_spanned(
                attr,
                "doc comments go above `saga` or `step` only",
            ));
        }
        let key: Ident = body.parse()?;
        body.parse::<Token![:]>()?;
        match key.to_string().as_str() {
            "input" => set_once(&mut self.input, &key, body.parse()?)?,
            "context" => set_once(&mut self.context, &key, body.parse()?)?,
            "timeout_seconds" => set_once(&mut self.timeout_seconds, &key, body.parse()?)?,
            "escalation" => set_once(&mut self.escalation, &key, body.parse()?)?,
            "transient_errors" => set_once(&mut self.transient_errors, &key, body.parse()?)?,
            "retry" => set_once(&mut self.retry, &key, body.parse()?)?,
            "compensation_retry" => {
                set_once(&mut self.compensation_retry, &key, body.parse()?)?;
            }
            "compensation_timeout_seconds" => {
                set_once(&mut self.compensation_timeout_seconds, &key, body.parse()?)?;
            }
            other => return Err(unknown_key(&key, other, "saga", SAGA_KEYS)),
        }
        end_of_item(body)
    }

    /// The syntax errors, combined, if there are any.
    pub fn syntax_error(&self) -> Option<syn::Error> {
        let mut errors = self.errors.iter().cloned();
        let mut first = errors.next()?;
        first.extend(errors);
        Some(first)
    }
}

/// Skips the rest of a malformed item: up to and including the next `,` of this block, or up to
/// the next `step`, which needs no comma before it.
fn skip_item(input: ParseStream<'_>) -> syn::Result<()> {
    input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            match &tree {
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => return Ok(((), next)),
                proc_macro2::TokenTree::Ident(i) if i == "step" && rest != *cursor => {
                    return Ok(((), rest));
                }
                _ => rest = next,
            }
        }
        Ok(((), rest))
    })
}

impl StepDef {
    fn parse_with_doc(
        input: ParseStream<'_>,
        doc: Vec<String>,
        errors: &mut Vec<syn::Error>,
    ) -> syn::Result<Self> {
        input.parse::<kw::step>()?;
        let name: Ident = input.parse()?;
        let body;
        braced!(body in input);
        let mut step = StepDef {
            doc,
            name,
            state: None,
            action: None,
            compensation: None,
            irreversible: None,
            pivot: None,
            business_errors: Vec::new(),
            transient_errors: None,
            retry: None,
            compensation_retry: None,
            compensation_timeout_seconds: None,
            timeout_seconds: None,
        };
        let mut business_seen = None;
        while !body.is_empty() {
            if let Err(error) = step.parse_item(&body, &mut business_seen) {
                errors.push(error);
                skip_item(&body)?;
            }
        }
        Ok(step)
    }

    fn parse_item(
        &mut self,
        body: ParseStream<'_>,
        business_seen: &mut Option<()>,
    ) -> syn::Result<()> {
        if body.peek(kw::irreversible) {
            let mark = body.parse::<kw::irreversible>()?;
            if self.irreversible.is_some() {
                return Err(syn::Error::new(
                    mark.span,
                    "`irreversible` is given twice; keep one",
                ));
            }
            self.irreversible = Some(mark);
            return end_of_item(body);
        }
        let key: Ident = body.parse()?;
        body.parse::<Token![:]>()?;
        match key.to_string().as_str() {
            "action" => set_once(&mut self.action, &key, body.parse()?)?,
            "compensation" => set_once(&mut self.compensation, &key, body.parse()?)?,
            "pivot" => set_once(&mut self.pivot, &key, body.parse()?)?,
            "state" => set_once(&mut self.state, &key, body.parse()?)?,
            "retry" => set_once(&mut self.retry, &key, body.parse()?)?,
            "compensation_retry" => {
                set_once(&mut self.compensation_retry, &key, body.parse()?)?;
            }
            "compensation_timeout_seconds" => {
                set_once(&mut self.compensation_timeout_seconds, &key, body.parse()?)?;
            }
            "timeout_seconds" => set_once(&mut self.timeout_seconds, &key, body.parse()?)?,
            "business_errors" => {
                set_once(business_seen, &key, ())?;
                self.business_errors = body.parse::<IdentList>()?.idents;
            }
            "transient_errors" => set_once(&mut self.transient_errors, &key, body.parse()?)?,
            other => return Err(unknown_key(&key, other, "step", STEP_KEYS)),
        }
        end_of_item(body)
    }
}

impl StepDef {
    /// What runs when the saga undoes this step: its compensation, or the pivot's guard.
    pub fn undo(&self) -> Option<&FunctionRef> {
        self.compensation.as_ref().or(self.pivot.as_ref())
    }
}

impl Parse for ActionRef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: Path = input.parse()?;
        let output = if input.peek(Token![->]) {
            input.parse::<Token![->]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(ActionRef { path, output })
    }
}

impl Parse for IdentList {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        in_group(input, Delimiter::Bracket, "`[Name, …]`", |list, span| {
            Ok(IdentList {
                span,
                idents: Punctuated::<Ident, Token![,]>::parse_terminated(list)?
                    .into_iter()
                    .collect(),
            })
        })
    }
}

/// Parses the contents of the next `delimiter` group on their own, so that a mistake inside
/// is that item's error and leaves nothing unparsed behind for the enclosing block (where
/// syn would report it again, as an unexpected token, at the end of the whole macro).
fn in_group<T>(
    input: ParseStream<'_>,
    delimiter: Delimiter,
    expected: &str,
    parse: impl FnOnce(ParseStream<'_>, Span) -> syn::Result<T>,
) -> syn::Result<T> {
    let group: Group = match input.parse() {
        Ok(group) => group,
        Err(_) => return Err(input.error(format!("expected {expected}"))),
    };
    if group.delimiter() != delimiter {
        return Err(syn::Error::new(
            group.span(),
            format!("expected {expected}"),
        ));
    }
    let span = group.span();
    Parser::parse2(|body: ParseStream<'_>| parse(body, span), group.stream())
}

impl Parse for FunctionRef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `compensation: void_label` or `compensation: shipping::void_label` without a logical
        // name: read the whole path so that the hint can name the function it would run.
        let fork = input.fork();
        if !(fork.parse::<Ident>().is_ok() && fork.peek(Token![=>])) {
            let path: Path = input.parse()?;
            let function = crate::check::path_string(&path);
            let last = path
                .segments
                .last()
                .map_or_else(String::new, |s| s.ident.to_string());
            let name = heck::ToUpperCamelCase::to_upper_camel_case(last.as_str());
            return Err(syn::Error::new_spanned(
                &path,
                format!(
                    "expected a logical name and `=>` before the function: write `{name} => {function}`"
                ),
            ));
        }
        let name: Ident = input.parse()?;
        input.parse::<Token![=>]>()?;
        Ok(FunctionRef {
            name,
            path: input.parse()?,
        })
    }
}

impl Parse for RetryDef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        in_group(
            input,
            Delimiter::Brace,
            "`{ max_attempts: …, … }`",
            Self::parse_body,
        )
    }
}

impl RetryDef {
    fn parse_body(body: ParseStream<'_>, span: Span) -> syn::Result<Self> {
        let mut retry = RetryDef {
            span,
            max_attempts: None,
            interval_seconds: None,
            backoff_rate: None,
            max_delay_seconds: None,
            jitter: None,
        };
        while !body.is_empty() {
            let key: Ident = body.parse()?;
            body.parse::<Token![:]>()?;
            match key.to_string().as_str() {
                "max_attempts" => set_once(&mut retry.max_attempts, &key, body.parse()?)?,
                "interval_seconds" => set_once(&mut retry.interval_seconds, &key, body.parse()?)?,
                "max_delay_seconds" => set_once(&mut retry.max_delay_seconds, &key, body.parse()?)?,
                "jitter" => set_once(&mut retry.jitter, &key, body.parse()?)?,
                "backoff_rate" => {
                    let number = if body.peek(LitFloat) {
                        Number::Float(body.parse()?)
                    } else {
                        Number::Int(body.parse()?)
                    };
                    set_once(&mut retry.backoff_rate, &key, number)?;
                }
                other => return Err(unknown_key(&key, other, "retry", RETRY_KEYS)),
            }
            end_of_item(body)?;
        }
        Ok(retry)
    }
}

fn set_once<T>(slot: &mut Option<T>, key: &Ident, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` is given twice; keep one"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn end_of_item(input: ParseStream<'_>) -> syn::Result<()> {
    if input.is_empty() {
        return Ok(());
    }
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        return Ok(());
    }
    Err(input.error("expected `,` between items"))
}

fn unknown_key(key: &Ident, found: &str, block: &str, expected: &str) -> syn::Error {
    syn::Error::new(
        key.span(),
        format!("unknown {block} key `{found}`; expected {expected}"),
    )
}

fn doc_lines(attrs: &[Attribute]) -> syn::Result<Vec<String>> {
    attrs
        .iter()
        .map(|attr| match &attr.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Ok(s.value().trim().to_owned()),
                _ => Err(syn::Error::new_spanned(
                    attr,
                    "expected a `///` doc comment",
                )),
            },
            _ => Err(syn::Error::new_spanned(
                attr,
                "only `///` doc comments are allowed here",
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<SagaDef> {
        let def: SagaDef = syn::parse2(tokens)?;
        match def.syntax_error() {
            Some(error) => Err(error),
            None => Ok(def),
        }
    }

    #[test]
    fn parses_a_full_saga() {
        let saga = parse(quote! {
            /// Books a trip.
            pub saga TripBooking {
                input: TripRequest,
                context: Services,
                timeout_seconds: 600,
                escalation: NotifyOperator => ops::notify,
                compensation_retry: { max_attempts: 5 },
                /// Takes seats.
                step ReserveFlight {
                    action: flight::reserve -> Seats,
                    compensation: CancelFlight => flight::cancel,
                    business_errors: [SoldOut],
                    transient_errors: [Busy, Throttled],
                    retry: { max_attempts: 2, interval_seconds: 1, backoff_rate: 1.5, max_delay_seconds: 9, jitter: none },
                    timeout_seconds: 30,
                    state: "Reserve flight",
                }
                step Confirm { action: trip::confirm -> Confirmation, irreversible }
            }
        })
        .unwrap();
        assert_eq!(saga.name, "TripBooking");
        assert_eq!(saga.doc, ["Books a trip."]);
        assert_eq!(saga.steps.len(), 2);
        let flight = &saga.steps[0];
        assert_eq!(flight.doc, ["Takes seats."]);
        assert_eq!(flight.compensation.as_ref().unwrap().name, "CancelFlight");
        assert_eq!(flight.transient_errors.as_ref().unwrap().idents.len(), 2);
        assert!(flight.action.as_ref().unwrap().output.is_some());
        let backoff = flight
            .retry
            .as_ref()
            .unwrap()
            .backoff_rate
            .as_ref()
            .unwrap()
            .value()
            .unwrap();
        assert!((backoff - 1.5).abs() < f64::EPSILON);
        assert_eq!(flight.state.as_ref().unwrap().value(), "Reserve flight");
        assert!(saga.steps[1].irreversible.is_some());
    }

    #[test]
    fn unknown_keys_list_the_expected_ones() {
        let Err(err) = parse(quote! { saga S { input: I, step A { acton: f } } }) else {
            panic!("expected an error");
        };
        assert!(
            err.to_string()
                .starts_with("unknown step key `acton`; expected `action`"),
            "{err}"
        );
    }

    #[test]
    fn every_malformed_item_is_reported_and_the_rest_is_kept() {
        let def: SagaDef = syn::parse2(quote! {
            saga S {
                input: I,
                timeout_seconds: "long",
                step A { action: a -> O, retry: { max_attempts: many }, irreversible }
                step B { acton: b -> O, irreversible }
                escalation: page,
            }
        })
        .unwrap();
        let messages: Vec<String> = def.errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert_eq!(messages[0], "expected integer literal");
        assert!(
            messages[2].starts_with("unknown step key `acton`"),
            "{messages:?}"
        );
        assert!(
            messages[3].starts_with("expected a logical name"),
            "{messages:?}"
        );
        assert!(def.input.is_some());
        assert_eq!(def.steps.len(), 2);
        assert!(def.steps[0].irreversible.is_some() && def.steps[0].action.is_some());
        assert!(def.steps[1].irreversible.is_some());
    }

    #[test]
    fn a_key_given_twice_is_an_error() {
        let Err(err) = parse(quote! { saga S { input: I, input: J } }) else {
            panic!("expected an error");
        };
        assert_eq!(err.to_string(), "`input` is given twice; keep one");
    }

    #[test]
    fn a_compensation_without_a_logical_name_suggests_one_from_the_function() {
        for (tokens, expected) in [
            (
                quote! { saga S { step A { action: f -> O, compensation: shipping::void_label } } },
                "expected a logical name and `=>` before the function: write `VoidLabel => shipping::void_label`",
            ),
            (
                quote! { saga S { step A { action: f -> O, compensation: g } } },
                "expected a logical name and `=>` before the function: write `G => g`",
            ),
            (
                quote! { saga S { input: I, escalation: ops::page_operator } },
                "expected a logical name and `=>` before the function: write `PageOperator => ops::page_operator`",
            ),
        ] {
            let Err(err) = parse(tokens) else {
                panic!("expected an error");
            };
            assert_eq!(err.to_string(), expected);
        }
    }
}
