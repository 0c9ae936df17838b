//! What `saga!` expands to: a module holding the generated artefacts as constants, the saga's
//! model as a `static`, the `Function` enum that dispatches every Lambda function to the user's
//! code, one typed entrypoint per function, the typed results each step receives, and the
//! compile-time checks, each spanned on the DSL token it is about.
//!
//! The emitter reads the checked [`Saga`] only (as cxx's `expand` reads only checked APIs).
//! Each user function is named exactly once, in a function whose return type is an opaque
//! handler (`impl ActionHandler<…>`): its trait bounds are where rustc checks the function
//! against the declaration, so one mistake gives one diagnostic on the DSL path; everything else
//! goes through the opaque handler. When the declaration is invalid, [`fallback`] emits the
//! same public items as stubs beside the errors, so that code using the module does not add a
//! cascade of errors of its own.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Ident, Path, Type, Visibility};

use crate::Artifacts;
use crate::model::{Function, FunctionKind, Jitter, RetryPolicy, Saga, Step, path_string};
use crate::syntax::SagaDef;
use saga_model::{FunctionInfo, RetriedFunction, SagaInfo, StepInfo};

/// The module `saga!` expands to.
pub fn expand(saga: &Saga, artifacts: &Artifacts) -> TokenStream {
    let skeleton = Skeleton::of(saga);
    let (asl, mermaid) = (
        Literal::string(&artifacts.asl),
        Literal::string(&artifacts.mermaid),
    );
    let info = info_tokens(&saga.info());
    // Each function's call of its handler, with `context` and `payload` in scope, from the
    // module (`Function::invoke`) or from `entrypoints` (`super::`).
    let run = |f: &Function, from: TokenStream| {
        let handler = handler_fn(f);
        let handler_trait = match f.kind {
            FunctionKind::Action => quote!(ActionHandler),
            FunctionKind::Compensation => quote!(CompensationHandler),
            FunctionKind::Escalation => quote!(EscalationHandler),
        };
        quote! {
            ::saga_runtime::__private::#handler_trait::run(#from #handler(), context, payload).await
        }
    };
    let dispatch = saga.functions().map(|f| {
        let ident = &f.ident;
        let run = run(f, TokenStream::new());
        quote! { Function::#ident => #run, }
    });
    let runs = saga.functions().map(|f| run(f, quote!(super::))).collect();
    let handlers = handlers(saga);
    let checks = saga.steps.iter().map(error_name_checks);
    let body = Body {
        asl: quote!(#asl),
        mermaid: quote!(#mermaid),
        saga: info,
        invoke: quote!(match self { #(#dispatch)* }),
        runs,
        decodes_results: true,
    };
    skeleton.module(&body, &quote! { #handlers #(#checks)* })
}

/// What `saga!` expands to when the declaration is invalid: the errors, and the module's public
/// items as stubs (whatever of the declaration could be read), so that the binaries and handlers
/// using them report nothing of their own.
pub fn fallback(def: Option<&SagaDef>, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let Some(skeleton) = def.map(Skeleton::lenient) else {
        return errors;
    };
    let name = &skeleton.name;
    let unreachable = quote! {
        ::core::unreachable!("the saga! declaration does not compile")
    };
    let body = Body {
        asl: quote!(""),
        mermaid: quote!(""),
        saga: quote! {
            ::saga_runtime::__private::saga_model::SagaInfo {
                name: ::std::borrow::Cow::Borrowed(#name),
                module: ::std::borrow::Cow::Borrowed(""),
                crate_name: ::std::borrow::Cow::Borrowed(""),
                declared_in: ::std::borrow::Cow::Borrowed(::saga_runtime::__private::parent_module(::core::module_path!())),
                input: ::std::borrow::Cow::Borrowed(""),
                timeout_seconds: ::core::option::Option::None,
                steps: ::std::borrow::Cow::Borrowed(&[]),
                escalation: ::core::option::Option::None,
            }
        },
        invoke: quote!({ let _ = (context, payload); #unreachable }),
        runs: skeleton
            .functions
            .iter()
            .map(|_| quote!({ let _ = (context, payload); #unreachable }))
            .collect(),
        decodes_results: false,
    };
    let module = skeleton.module(&body, &TokenStream::new());
    quote! { #errors #module }
}

/// The public items of the generated module, shared by [`expand`] and [`fallback`].
struct Skeleton {
    vis: Visibility,
    module: Ident,
    name: String,
    doc: Vec<String>,
    input: Type,
    context: Type,
    functions: Vec<FunctionSkeleton>,
    steps: Vec<StepSkeleton>,
}

struct FunctionSkeleton {
    ident: Ident,
    state: String,
    binary: String,
    substitution_key: String,
    handler: String,
}

struct StepSkeleton {
    ident: Ident,
    field: Ident,
    output: Option<Type>,
}

/// The parts of the module that differ between a checked saga and a stub.
struct Body {
    asl: TokenStream,
    mermaid: TokenStream,
    saga: TokenStream,
    invoke: TokenStream,
    /// Each function's run of its handler (in the order of [`Skeleton::functions`]), with
    /// `context` and `payload` in scope: the body of its entrypoint, which names that handler
    /// only, so that a binary serving one entrypoint links no other function's code.
    runs: Vec<TokenStream>,
    /// Whether the results structs decode their fields (through the steps' handlers, which a
    /// stub does not have).
    decodes_results: bool,
}

impl Skeleton {
    fn of(saga: &Saga) -> Self {
        Skeleton {
            vis: saga.vis.clone(),
            module: Ident::new(&saga.module, saga.ident.span()),
            name: saga.name.clone(),
            doc: saga.doc.clone(),
            input: relocate_type(saga.input.clone(), 1),
            context: saga
                .context
                .clone()
                .map_or_else(|| syn::parse_quote!(()), |t| relocate_type(t, 1)),
            functions: saga
                .functions()
                .map(|f| FunctionSkeleton {
                    ident: f.ident.clone(),
                    state: f.state.clone(),
                    binary: f.binary(),
                    substitution_key: f.substitution_key(),
                    handler: f.handler(),
                })
                .collect(),
            steps: saga
                .steps
                .iter()
                .map(|s| StepSkeleton {
                    ident: s.action.ident.clone(),
                    field: Ident::new(&s.action.snake_name(), s.action.ident.span()),
                    output: Some(s.output.clone()),
                })
                .collect(),
        }
    }

    /// Whatever an invalid declaration still says: its names, its types, its steps.
    fn lenient(def: &SagaDef) -> Self {
        let function = |ident: &Ident, path: Option<&Path>| FunctionSkeleton {
            ident: ident.clone(),
            state: ident.to_string(),
            binary: heck::ToKebabCase::to_kebab_case(ident.to_string().as_str()),
            substitution_key: format!("{ident}FunctionArn"),
            handler: path.map(path_string).unwrap_or_default(),
        };
        let mut functions = Vec::new();
        for step in &def.steps {
            functions.push(function(&step.name, step.action.as_ref().map(|a| &a.path)));
            if let Some(c) = step.undo() {
                functions.push(function(&c.name, Some(&c.path)));
            }
        }
        if let Some(e) = &def.escalation {
            functions.push(function(&e.name, Some(&e.path)));
        }
        // Names an invalid declaration repeats are stubbed once: the duplicate is its error.
        let mut seen = std::collections::HashSet::new();
        functions.retain(|f| seen.insert(f.ident.to_string()));
        let mut seen = std::collections::HashSet::new();
        let steps = def.steps.iter().filter(|s| seen.insert(s.name.to_string()));
        Skeleton {
            vis: def.vis.clone(),
            module: Ident::new(
                &heck::ToSnakeCase::to_snake_case(def.name.to_string().as_str()),
                def.name.span(),
            ),
            name: def.name.to_string(),
            doc: def.doc.clone(),
            input: def
                .input
                .clone()
                .map_or_else(|| syn::parse_quote!(()), |t| relocate_type(t, 1)),
            context: def
                .context
                .clone()
                .map_or_else(|| syn::parse_quote!(()), |t| relocate_type(t, 1)),
            functions,
            steps: steps
                .map(|s| StepSkeleton {
                    ident: s.name.clone(),
                    field: Ident::new(
                        &heck::ToSnakeCase::to_snake_case(s.name.to_string().as_str()),
                        s.name.span(),
                    ),
                    output: s.action.as_ref().and_then(|a| a.output.clone()),
                })
                .collect(),
        }
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one quote! of the whole public module reads as the code it generates"
    )]
    fn module(&self, body: &Body, private: &TokenStream) -> TokenStream {
        let Skeleton {
            vis,
            module,
            name,
            input,
            context,
            ..
        } = self;
        let Body {
            asl,
            mermaid,
            saga,
            invoke,
            runs,
            ..
        } = body;
        let module_doc = format!(" The `{name}` saga, generated by `saga!`.");
        let user_doc = self.doc.iter().map(|line| format!(" {line}"));
        let variants: Vec<&Ident> = self.functions.iter().map(|f| &f.ident).collect();
        let variant_docs = self
            .functions
            .iter()
            .map(|f| format!(" `{}`: runs `{}`.", f.ident, f.handler));
        let names = self.functions.iter().map(|f| f.ident.to_string());
        let names_again = names.clone();
        let states = self.functions.iter().map(|f| &f.state);
        let binaries = self.functions.iter().map(|f| &f.binary);
        let keys = self.functions.iter().map(|f| &f.substitution_key);
        let entrypoints = self.functions.iter().zip(runs).map(|(f, run)| {
            let ident = &f.ident;
            let entry = format_ident!("{}", heck::ToSnakeCase::to_snake_case(ident.to_string().as_str()));
            let doc = format!(" The Lambda entrypoint of `{ident}`: decodes the payload its Task state sends and runs `{}`.", f.handler);
            quote! {
                #[doc = #doc]
                pub async fn #entry(
                    context: &super::Context,
                    event: ::saga_runtime::__private::lambda_runtime::LambdaEvent<::saga_runtime::__private::serde_json::Value>,
                ) -> ::core::result::Result<::saga_runtime::__private::serde_json::Value, ::saga_runtime::__private::lambda_runtime::Diagnostic> {
                    let payload = event.payload;
                    #run
                }
            }
        });
        let outputs = self.outputs();
        let results = self.results(body.decodes_results);
        quote! {
            #[doc = #module_doc]
            #(#[doc = #user_doc])*
            #vis mod #module {
                #![allow(clippy::all, clippy::pedantic, unreachable_pub, dead_code)]
                use super::*;

                /// The saga's name.
                pub const NAME: &str = #name;
                /// The Amazon States Language definition, identical to `generated/<saga>.asl.json`.
                pub const ASL: &str = #asl;
                /// The Mermaid flowchart, identical to `generated/<saga>.mmd`.
                pub const MERMAID: &str = #mermaid;
                /// The saga as `saga!` checked it: its steps, functions, error names, retry
                /// policies and timeouts. `generated/<saga>.functions.json` is its serde form.
                pub static SAGA: ::saga_runtime::__private::saga_model::SagaInfo = #saga;
                /// The execution input.
                pub type Input = #input;
                /// What every function borrows: built once per Lambda instance.
                pub type Context = #context;

                #outputs
                #results

                /// Every Lambda function of the saga.
                #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
                pub enum Function {
                    #( #[doc = #variant_docs] #variants, )*
                }

                impl Function {
                    /// All functions, in manifest order.
                    pub const ALL: &'static [Function] = &[#(Function::#variants),*];

                    /// The logical name.
                    pub const fn name(self) -> &'static str {
                        match self { #(Function::#variants => #names,)* }
                    }

                    /// The ASL state that invokes the function.
                    pub const fn state(self) -> &'static str {
                        match self { #(Function::#variants => #states,)* }
                    }

                    /// The Cargo binary and Lambda function name.
                    pub const fn binary(self) -> &'static str {
                        match self { #(Function::#variants => #binaries,)* }
                    }

                    /// The `definitionSubstitutions` key of the function's ARN.
                    pub const fn substitution_key(self) -> &'static str {
                        match self { #(Function::#variants => #keys,)* }
                    }

                    /// The function with this logical name.
                    pub fn from_name(name: &str) -> ::core::option::Option<Self> {
                        match name {
                            #(#names_again => ::core::option::Option::Some(Function::#variants),)*
                            _ => ::core::option::Option::None,
                        }
                    }

                    /// Runs the function on a payload, exactly as its Lambda would.
                    ///
                    /// # Errors
                    /// The `Diagnostic` Lambda would report: its `error_type` is the name the
                    /// state machine's `Retry` and `Catch` match.
                    pub async fn invoke(
                        self,
                        context: &Context,
                        payload: ::saga_runtime::__private::serde_json::Value,
                    ) -> ::core::result::Result<::saga_runtime::__private::serde_json::Value, ::saga_runtime::__private::lambda_runtime::Diagnostic> {
                        #invoke
                    }

                    /// Serves the function under the Lambda runtime: the whole `main` of its binary.
                    ///
                    /// # Errors
                    /// When the Lambda runtime API fails.
                    pub async fn serve(self, context: Context) -> ::core::result::Result<(), ::saga_runtime::__private::lambda_runtime::Error> {
                        let context = &context;
                        ::saga_runtime::__private::lambda_runtime::run(::saga_runtime::__private::lambda_runtime::service_fn(
                            move |event: ::saga_runtime::__private::lambda_runtime::LambdaEvent<::saga_runtime::__private::serde_json::Value>| {
                                self.invoke(context, event.payload)
                            },
                        ))
                        .await
                    }
                }

                impl ::saga_runtime::SagaFunctions for Function {
                    type Context = Context;
                    const SAGA: &'static ::saga_runtime::__private::saga_model::SagaInfo = &SAGA;

                    fn from_name(name: &str) -> ::core::option::Option<Self> {
                        Function::from_name(name)
                    }

                    fn invoke(
                        self,
                        context: &Context,
                        payload: ::saga_runtime::__private::serde_json::Value,
                    ) -> ::saga_runtime::BoxFuture<'_, ::core::result::Result<::saga_runtime::__private::serde_json::Value, ::saga_runtime::__private::lambda_runtime::Diagnostic>> {
                        ::std::boxed::Box::pin(Function::invoke(self, context, payload))
                    }
                }

                /// One typed Lambda entrypoint per function.
                pub mod entrypoints {
                    #(#entrypoints)*
                }

                #private
            }
        }
    }

    /// `outputs::<Step>`: each step's declared output type, by the step's name.
    fn outputs(&self) -> TokenStream {
        let aliases = self.steps.iter().filter_map(|s| {
            let output = relocate_type(s.output.clone()?, 2);
            let ident = &s.ident;
            let doc = format!(" What `{ident}` returns.");
            Some(quote! {
                #[doc = #doc]
                pub type #ident = #output;
            })
        });
        quote! {
            /// Each step's output type, as declared after `->`.
            pub mod outputs {
                use super::*;
                #(#aliases)*
            }
        }
    }

    /// `results::<Step>`: the outputs of the steps before `<Step>`, one typed field each, for
    /// `ActionRequest<Input, results::<Step>>`.
    fn results(&self, decodes: bool) -> TokenStream {
        let structs = self.steps.iter().enumerate().map(|(index, step)| {
            let ident = &step.ident;
            let earlier: Vec<&StepSkeleton> = self.steps[..index]
                .iter()
                .filter(|s| s.output.is_some())
                .collect();
            let fields = earlier.iter().map(|s| {
                let (field, output) = (&s.field, &s.ident);
                let doc = format!(" What `{output}` returned.");
                quote! { #[doc = #doc] pub #field: super::outputs::#output, }
            });
            let doc = if earlier.is_empty() {
                format!(" The outputs of the steps before `{ident}`: none, it is the first.")
            } else {
                let names: Vec<String> = earlier.iter().map(|s| format!("`{}`", s.ident)).collect();
                format!(" The outputs of the steps before `{ident}`: {}.", names.join(", "))
            };
            let from = if decodes {
                // Each earlier output is decoded by its own action's handler, where its type is
                // checked once.
                let taken = earlier.iter().map(|s| {
                    let (field, key) = (&s.field, s.ident.to_string());
                    let handler = format_ident!("__{}", s.field);
                    quote! {
                        #field: ::saga_runtime::__private::output(&mut results, #key, super::#handler)?,
                    }
                });
                quote! {
                    let _ = &mut results;
                    ::core::result::Result::Ok(Self { #(#taken)* })
                }
            } else {
                quote! {
                    let _ = results;
                    ::core::unreachable!("the saga! declaration does not compile")
                }
            };
            quote! {
                #[doc = #doc]
                pub struct #ident { #(#fields)* }

                impl ::saga_runtime::FromResults for #ident {
                    fn from_results(
                        mut results: ::saga_runtime::__private::serde_json::Map<::std::string::String, ::saga_runtime::__private::serde_json::Value>,
                    ) -> ::core::result::Result<Self, ::saga_runtime::ResultError> {
                        #from
                    }
                }

                impl ::saga_runtime::ResultsOf<#ident> for #ident {}
            }
        });
        quote! {
            /// The results each step's action may ask for: `ActionRequest<Input, results::<Step>>`.
            pub mod results {
                use super::*;
                #(#structs)*
            }
        }
    }
}

/// The name of the function that holds `function`'s handler.
fn handler_fn(function: &Function) -> Ident {
    format_ident!("__{}", function.snake_name())
}

/// One function per user function, each naming it once: the only place rustc checks it
/// against the declaration, spanned on its DSL path. The function is bound with `let` before it
/// is wrapped, which is how clippy's `unused_async` sees it used as a value (an `async fn` the
/// saga requires, even when it has nothing to await).
fn handlers(saga: &Saga) -> TokenStream {
    let mut out = TokenStream::new();
    for step in &saga.steps {
        out.extend(action_handler(step));
        if let Some(c) = &step.compensation {
            let handler = handler_fn(&c.function);
            let action = handler_fn(&step.action);
            let path = relocate_path(c.function.path.clone(), 1);
            let key = step.name();
            // A pivot's guard is a compensation whose answer must be a `PivotCheck`: the state
            // machine's `CheckPivot` reads it.
            let wrapper = if step.pivot {
                quote!(PivotGuard)
            } else {
                quote!(Compensation)
            };
            out.extend(quote_spanned! {path.span()=>
                fn #handler<'a>() -> impl ::saga_runtime::__private::CompensationHandler<'a, Context, Input> {
                    let function = #path;
                    ::saga_runtime::__private::#wrapper::new(function, #key, ::saga_runtime::__private::decoder_of(#action))
                }
            });
        }
    }
    if let Some(e) = &saga.escalation {
        let handler = handler_fn(&e.function);
        let path = relocate_path(e.function.path.clone(), 1);
        out.extend(quote_spanned! {path.span()=>
            fn #handler<'a>() -> impl ::saga_runtime::__private::EscalationHandler<'a, Context, Input> {
                let function = #path;
                ::saga_runtime::__private::Escalation::new(function)
            }
        });
    }
    out
}

fn action_handler(step: &Step) -> TokenStream {
    let handler = handler_fn(&step.action);
    let ident = &step.action.ident;
    let path = relocate_path(step.action.path.clone(), 1);
    // The declared output is spanned on its own token, so that an action returning another type
    // is reported there.
    let output = quote_spanned! {step.output.span()=> Output = outputs::#ident };
    quote_spanned! {path.span()=>
        fn #handler<'a>() -> impl ::saga_runtime::__private::ActionHandler<'a, Context, Input, results::#ident, #output> {
            let function = #path;
            ::saga_runtime::__private::Action::new(function)
        }
    }
}

/// Both directions of "the names the ASL matches are the names the code raises": every name a
/// step lists exists in its action's `StepError::NAMES` (spanned on the name), and every name
/// there is declared, the saga's default transient errors included (spanned on the action, the
/// message listing the missing ones).
fn error_name_checks(step: &Step) -> TokenStream {
    let handler = handler_fn(&step.action);
    let path = step.action.handler();
    let step_name = step.name();
    let names_of = quote!(::saga_runtime::__private::names_of(#handler));
    let required = step.required_error_names().map(|error| {
        let name = error.to_string();
        let message = format!(
            "step `{step_name}` declares error `{name}`, but the error type of `{path}` has no variant `{name}` (see its `StepError::NAMES`)"
        );
        quote_spanned! {error.span()=>
            const _: () = ::core::assert!(::saga_runtime::__private::contains(#names_of, #name), #message);
        }
    });
    let declared: Vec<String> = step
        .business_errors
        .iter()
        .chain(&step.transient_errors)
        .map(ToString::to_string)
        .collect();
    let prefix =
        format!("the error type of `{path}` has names that step `{step_name}` does not declare: ");
    let suffix = "; list each in `business_errors` or `transient_errors`";
    // The panic is what rustc reports: spanned on the action, whose error type is at fault.
    let undeclared_check = quote_spanned! {step.action.path.span()=>
        if !::saga_runtime::__private::all_in(NAMES, DECLARED) {
            ::core::panic!("{}", MESSAGE.as_str());
        }
    };
    quote! {
        #(#required)*
        const _: () = {
            const NAMES: &[&str] = #names_of;
            const DECLARED: &[&str] = &[#(#declared),*];
            const MESSAGE: ::saga_runtime::__private::Message =
                ::saga_runtime::__private::Message::undeclared(#prefix, NAMES, DECLARED, #suffix);
            #undeclared_check
        };
    }
}

/// The `SAGA` static: the checked model, built at compile time, with `declared_in` asked of
/// rustc (the generated module's parent).
fn info_tokens(info: &SagaInfo) -> TokenStream {
    let steps = info.steps.iter().map(step_tokens);
    let (name, module, crate_name, input) = (
        text(&info.name),
        text(&info.module),
        text(&info.crate_name),
        text(&info.input),
    );
    let timeout = option(info.timeout_seconds.map(|t| quote!(#t)));
    let escalation = option(info.escalation.as_ref().map(retried_tokens));
    quote! {
        ::saga_runtime::__private::saga_model::SagaInfo {
            name: #name,
            module: #module,
            crate_name: #crate_name,
            declared_in: ::std::borrow::Cow::Borrowed(::saga_runtime::__private::parent_module(::core::module_path!())),
            input: #input,
            timeout_seconds: #timeout,
            steps: ::std::borrow::Cow::Borrowed(&[#(#steps),*]),
            escalation: #escalation,
        }
    }
}

fn step_tokens(step: &StepInfo) -> TokenStream {
    let action = function_tokens(&step.action);
    let output = text(&step.output);
    let business = texts(&step.business_errors);
    let transient = texts(&step.transient_errors);
    let retry = retry_tokens(&step.retry);
    let timeout = option(step.timeout_seconds.map(|t| quote!(#t)));
    let compensation = option(step.compensation.as_ref().map(retried_tokens));
    let pivot = step.pivot;
    quote! {
        ::saga_runtime::__private::saga_model::StepInfo {
            action: #action,
            output: #output,
            business_errors: #business,
            transient_errors: #transient,
            retry: #retry,
            timeout_seconds: #timeout,
            compensation: #compensation,
            pivot: #pivot,
        }
    }
}

fn function_tokens(f: &FunctionInfo) -> TokenStream {
    let kind = match f.kind {
        FunctionKind::Action => quote!(Action),
        FunctionKind::Compensation => quote!(Compensation),
        FunctionKind::Escalation => quote!(Escalation),
    };
    let (name, state, key, crate_name, binary, handler) = (
        text(&f.name),
        text(&f.state),
        text(&f.substitution_key),
        text(&f.crate_name),
        text(&f.binary),
        text(&f.handler),
    );
    quote! {
        ::saga_runtime::__private::saga_model::FunctionInfo {
            name: #name,
            kind: ::saga_runtime::__private::saga_model::FunctionKind::#kind,
            state: #state,
            substitution_key: #key,
            crate_name: #crate_name,
            binary: #binary,
            handler: #handler,
        }
    }
}

fn retried_tokens(r: &RetriedFunction) -> TokenStream {
    let (function, retry) = (function_tokens(&r.function), retry_tokens(&r.retry));
    let timeout = r.timeout_seconds;
    quote! {
        ::saga_runtime::__private::saga_model::RetriedFunction {
            function: #function,
            retry: #retry,
            timeout_seconds: #timeout,
        }
    }
}

fn retry_tokens(r: &RetryPolicy) -> TokenStream {
    let RetryPolicy {
        max_attempts,
        interval_seconds,
        backoff_rate,
        max_delay_seconds,
        jitter,
    } = r;
    let jitter = match jitter {
        Jitter::Full => quote!(Full),
        Jitter::None => quote!(None),
    };
    quote! {
        ::saga_runtime::__private::saga_model::RetryPolicy {
            max_attempts: #max_attempts,
            interval_seconds: #interval_seconds,
            backoff_rate: #backoff_rate,
            max_delay_seconds: #max_delay_seconds,
            jitter: ::saga_runtime::__private::saga_model::Jitter::#jitter,
        }
    }
}

fn text(s: &str) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(#s))
}

fn texts(list: &[std::borrow::Cow<'static, str>]) -> TokenStream {
    let items = list.iter().map(|s| text(s));
    quote!(::std::borrow::Cow::Borrowed(&[#(#items),*]))
}

fn option(value: Option<TokenStream>) -> TokenStream {
    value.map_or_else(
        || quote!(::core::option::Option::None),
        |v| quote!(::core::option::Option::Some(#v)),
    )
}

/// Paths in the DSL are written relative to the module containing `saga!`; generated code that
/// names them lives `depth` modules deeper, so `self::` and `super::` move up that many levels.
/// Other paths resolve through each generated module's `use super::*`.
fn relocate_path(mut path: Path, depth: usize) -> Path {
    Relocate(depth).visit_path_mut(&mut path);
    path
}

fn relocate_type(mut ty: Type, depth: usize) -> Type {
    Relocate(depth).visit_type_mut(&mut ty);
    ty
}

struct Relocate(usize);

impl VisitMut for Relocate {
    fn visit_path_mut(&mut self, path: &mut Path) {
        if path.leading_colon.is_none()
            && let Some(first) = path.segments.first_mut()
        {
            let span = first.ident.span();
            // `self::x` becomes `super::x` one level down; `super::x`, `super::super::x`.
            let ups = if first.ident == "self" {
                first.ident = Ident::new("super", span);
                self.0 - 1
            } else if first.ident == "super" {
                self.0
            } else {
                0
            };
            for _ in 0..ups {
                path.segments
                    .insert(0, syn::PathSegment::from(Ident::new("super", span)));
            }
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}
