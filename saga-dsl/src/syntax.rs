//! The grammar of `saga!` and its parser.
//!
//! The parser keeps every token's span so that validation can point at the exact word to fix.
//! It reports the first *syntax* error it meets; the semantic rules in [`crate::check`] then
//! report all their findings at once.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Expr, ExprLit, Ident, Lit, LitFloat, LitInt, LitStr, Meta, Path, Token, Type,
    Visibility, braced, bracketed,
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
///               | "compensation_retry" ":" retry ","   the default retry of every compensation
///               | step
/// step         := doc* "step" Ident "{" step-item* "}"
/// step-item    := "action" ":" Path ","                async fn(&Context, ActionRequest<Input>) -> Result<O, E>
///               | "compensation" ":" Ident "=>" Path "," async fn(&Context, CompensationRequest<Input, O>) -> Result<_, _>
///               | "irreversible" ","                   instead of a compensation
///               | "business_errors" ":" "[" Ident,* "]" ","   not retried; they start compensation
///               | "transient_errors" ":" "[" Ident,* "]" ","  retried with the step's policy
///               | "retry" ":" retry ","
///               | "compensation_retry" ":" retry ","
///               | "timeout_seconds" ":" Int ","
///               | "state" ":" Str ","                  the ASL state name, when it differs from the Ident
/// retry        := "{" (retry-key ":" value),* "}"
/// retry-key    := "max_attempts" | "interval_seconds" | "backoff_rate" | "max_delay_seconds" | "jitter"
/// ```
///
/// The comma after the last item of a block is optional; `step` blocks need none.
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
    /// `compensation_retry: { … }` at saga level.
    pub compensation_retry: Option<RetryDef>,
    /// The steps, in execution order.
    pub steps: Vec<StepDef>,
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
    /// `action: path`.
    pub action: Option<Path>,
    /// `compensation: Name => path`.
    pub compensation: Option<FunctionRef>,
    /// The `irreversible` mark.
    pub irreversible: Option<kw::irreversible>,
    /// `business_errors: [...]`.
    pub business_errors: Vec<Ident>,
    /// `transient_errors: [...]`.
    pub transient_errors: Vec<Ident>,
    /// `retry: { … }`.
    pub retry: Option<RetryDef>,
    /// `compensation_retry: { … }`.
    pub compensation_retry: Option<RetryDef>,
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

const SAGA_KEYS: &str =
    "`input`, `context`, `timeout_seconds`, `escalation`, `compensation_retry` or `step`";
const STEP_KEYS: &str = "`action`, `compensation`, `irreversible`, `business_errors`, `transient_errors`, `retry`, \
                         `compensation_retry`, `timeout_seconds` or `state`";
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
            compensation_retry: None,
            steps: Vec::new(),
        };
        while !body.is_empty() {
            let attrs = body.call(Attribute::parse_outer)?;
            if body.peek(kw::step) {
                saga.steps
                    .push(StepDef::parse_with_doc(&body, doc_lines(&attrs)?)?);
                if body.peek(Token![,]) {
                    body.parse::<Token![,]>()?;
                }
                continue;
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
                "input" => set_once(&mut saga.input, &key, body.parse()?)?,
                "context" => set_once(&mut saga.context, &key, body.parse()?)?,
                "timeout_seconds" => set_once(&mut saga.timeout_seconds, &key, body.parse()?)?,
                "escalation" => set_once(&mut saga.escalation, &key, body.parse()?)?,
                "compensation_retry" => {
                    set_once(&mut saga.compensation_retry, &key, body.parse()?)?;
                }
                other => return Err(unknown_key(&key, other, "saga", SAGA_KEYS)),
            }
            end_of_item(&body)?;
        }
        Ok(saga)
    }
}

impl StepDef {
    fn parse_with_doc(input: ParseStream<'_>, doc: Vec<String>) -> syn::Result<Self> {
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
            business_errors: Vec::new(),
            transient_errors: Vec::new(),
            retry: None,
            compensation_retry: None,
            timeout_seconds: None,
        };
        let mut business_seen = None;
        let mut transient_seen = None;
        while !body.is_empty() {
            if body.peek(kw::irreversible) {
                let mark = body.parse::<kw::irreversible>()?;
                if step.irreversible.is_some() {
                    return Err(syn::Error::new(
                        mark.span,
                        "`irreversible` is given twice; keep one",
                    ));
                }
                step.irreversible = Some(mark);
                end_of_item(&body)?;
                continue;
            }
            let key: Ident = body.parse()?;
            body.parse::<Token![:]>()?;
            match key.to_string().as_str() {
                "action" => set_once(&mut step.action, &key, body.parse()?)?,
                "compensation" => set_once(&mut step.compensation, &key, body.parse()?)?,
                "state" => set_once(&mut step.state, &key, body.parse()?)?,
                "retry" => set_once(&mut step.retry, &key, body.parse()?)?,
                "compensation_retry" => {
                    set_once(&mut step.compensation_retry, &key, body.parse()?)?;
                }
                "timeout_seconds" => set_once(&mut step.timeout_seconds, &key, body.parse()?)?,
                "business_errors" => {
                    set_once(&mut business_seen, &key, ())?;
                    step.business_errors = parse_ident_list(&body)?;
                }
                "transient_errors" => {
                    set_once(&mut transient_seen, &key, ())?;
                    step.transient_errors = parse_ident_list(&body)?;
                }
                other => return Err(unknown_key(&key, other, "step", STEP_KEYS)),
            }
            end_of_item(&body)?;
        }
        Ok(step)
    }
}

impl Parse for FunctionRef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        if !input.peek(Token![=>]) {
            return Err(syn::Error::new(
                name.span(),
                format!("expected `=>` after `{name}`: write `{name} => path::to::function`"),
            ));
        }
        input.parse::<Token![=>]>()?;
        Ok(FunctionRef {
            name,
            path: input.parse()?,
        })
    }
}

impl Parse for RetryDef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let body;
        let brace = braced!(body in input);
        let mut retry = RetryDef {
            span: brace.span.join(),
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
            end_of_item(&body)?;
        }
        Ok(retry)
    }
}

fn parse_ident_list(input: ParseStream<'_>) -> syn::Result<Vec<Ident>> {
    let list;
    bracketed!(list in input);
    Ok(Punctuated::<Ident, Token![,]>::parse_terminated(&list)?
        .into_iter()
        .collect())
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
        syn::parse2(tokens)
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
                    action: flight::reserve,
                    compensation: CancelFlight => flight::cancel,
                    business_errors: [SoldOut],
                    transient_errors: [Busy, Throttled],
                    retry: { max_attempts: 2, interval_seconds: 1, backoff_rate: 1.5, max_delay_seconds: 9, jitter: none },
                    timeout_seconds: 30,
                    state: "Reserve flight",
                }
                step Confirm { action: trip::confirm, irreversible }
            }
        })
        .unwrap();
        assert_eq!(saga.name, "TripBooking");
        assert_eq!(saga.doc, ["Books a trip."]);
        assert_eq!(saga.steps.len(), 2);
        let flight = &saga.steps[0];
        assert_eq!(flight.doc, ["Takes seats."]);
        assert_eq!(flight.compensation.as_ref().unwrap().name, "CancelFlight");
        assert_eq!(flight.transient_errors.len(), 2);
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
    fn a_key_given_twice_is_an_error() {
        let Err(err) = parse(quote! { saga S { input: I, input: J } }) else {
            panic!("expected an error");
        };
        assert_eq!(err.to_string(), "`input` is given twice; keep one");
    }

    #[test]
    fn missing_arrow_in_a_compensation_suggests_the_form() {
        let Err(err) = parse(quote! { saga S { step A { action: f, compensation: g } } }) else {
            panic!("expected an error");
        };
        assert_eq!(
            err.to_string(),
            "expected `=>` after `g`: write `g => path::to::function`"
        );
    }
}
