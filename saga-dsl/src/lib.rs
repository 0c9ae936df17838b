//! The `saga!` language: one declaration of a saga's steps and compensations, from which come
//! the Amazon States Language definition, the typed Lambda entrypoints, a function manifest for
//! the infrastructure and a Mermaid diagram.
//!
//! This crate is the one front end shared by the `saga!` macro (`saga-macros`, a thin shim) and
//! the `saga-dsl` CLI that writes `generated/`: both call [`compile`], so they cannot disagree.
//! Phases are separated: [`syntax`] parses (spans kept), [`check`] validates and lowers into
//! [`model`], [`emit`] writes each artefact.
//!
//! ```
//! let tokens: proc_macro2::TokenStream = quote::quote! {
//!     /// Reserves seats and takes payment.
//!     saga Checkout {
//!         input: Order,
//!         step Reserve {
//!             action: seats::reserve -> Seats,
//!             compensation: Release => seats::release,
//!             business_errors: [SoldOut],
//!         }
//!         step Charge { action: payments::charge -> Receipt, irreversible }
//!     }
//! };
//! let compiled = saga_dsl::compile(tokens, saga_dsl::Origin::of_crate("shop")).unwrap();
//! assert_eq!(compiled.saga.module, "checkout");
//! let asl: serde_json::Value = serde_json::from_str(&compiled.artifacts.asl).unwrap();
//! assert_eq!(asl["States"]["Reserve"]["Catch"][0]["Next"], "Release");
//! assert_eq!(asl["States"]["Charge"]["Catch"][0]["Next"], "Release");
//! assert!(compiled.artifacts.mermaid.contains("Reserve -. error .-> Release"));
//! ```

pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod emit;
pub mod model;
pub mod report;
pub mod syntax;

use proc_macro2::TokenStream;

pub use model::{Origin, Saga};
pub use syntax::SagaDef;

/// The generated files of one saga, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifacts {
    /// `generated/<saga>.asl.json`
    pub asl: String,
    /// `generated/<saga>.mmd`
    pub mermaid: String,
    /// `generated/<saga>.functions.json`
    pub manifest: String,
}

/// A saga that parsed and passed every check, with its artefacts.
pub struct Compiled {
    /// The declaration, with spans.
    pub def: SagaDef,
    /// The validated model.
    pub saga: Saga,
    /// The generated files.
    pub artifacts: Artifacts,
}

impl Compiled {
    /// The Rust code `saga!` expands to.
    pub fn expand(&self) -> TokenStream {
        emit::rust::expand(&self.saga, &self.artifacts)
    }
}

/// Renders every artefact of a validated saga.
pub fn artifacts(saga: &Saga) -> Artifacts {
    Artifacts {
        asl: emit::asl::to_json(saga),
        mermaid: emit::mermaid::flowchart(saga),
        manifest: emit::manifest::to_json(saga),
    }
}

/// Parses and checks the body of a `saga!` invocation declared at `origin`.
///
/// # Errors
/// The syntax error, or every rule violation at once, each spanned on the offending token.
pub fn compile(tokens: TokenStream, origin: Origin) -> syn::Result<Compiled> {
    let def: SagaDef = syn::parse2(tokens)?;
    if let Some(error) = def.syntax_error() {
        return Err(error);
    }
    let saga = check::check(&def, origin)?;
    let artifacts = artifacts(&saga);
    Ok(Compiled {
        def,
        saga,
        artifacts,
    })
}

/// What `saga!` expands to: the generated module, or the errors as `compile_error!` beside
/// stubs of the module's public items.
pub fn expand(tokens: TokenStream, crate_name: &str) -> TokenStream {
    match syn::parse2::<SagaDef>(tokens) {
        Err(error) => emit::rust::fallback(None, &error),
        Ok(def) if !def.errors.is_empty() => {
            let error = def.syntax_error().expect("there are errors");
            emit::rust::fallback(Some(&def), &error)
        }
        Ok(def) => match check::check(&def, Origin::of_crate(crate_name)) {
            Err(error) => emit::rust::fallback(Some(&def), &error),
            Ok(saga) => {
                let artifacts = artifacts(&saga);
                emit::rust::expand(&saga, &artifacts)
            }
        },
    }
}
