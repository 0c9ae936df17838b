//! The `saga!` macro and `#[derive(StepError)]`: thin shims over `saga-dsl`, which holds the
//! grammar, the checks and the emitters shared with the `saga-dsl` CLI.
//!
//! Use them through `saga-runtime`, which re-exports both next to the types the generated code
//! needs; a domain crate that only names its errors can depend on `saga-model` (the trait) and
//! this crate (the derive) instead:
//!
//! ```
//! // A domain crate needs only `saga-model` for the trait and this crate for the derive.
//! #[derive(Debug, saga_macros::StepError)]
//! enum ChargeError { Declined, GatewayBusy }
//! impl std::fmt::Display for ChargeError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{self:?}") }
//! }
//! use saga_model::StepError;
//! assert_eq!(ChargeError::NAMES, ["Declined", "GatewayBusy"]);
//! assert_eq!(ChargeError::Declined.name(), "Declined");
//! ```

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, parse_macro_input};

/// Declares a saga; see `docs/saga-dsl.md` for the grammar and what it generates.
#[proc_macro]
pub fn saga(input: TokenStream) -> TokenStream {
    // Cargo sets CARGO_PKG_NAME for every rustc it runs; the manifest records the crate so that
    // the infrastructure knows which package builds each function.
    let crate_name = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    saga_dsl::expand(input.into(), &crate_name).into()
}

/// Implements `StepError` for an enum: each variant's name is the error name Step Functions
/// matches, so `saga!` can check it against the names a step declares.
///
/// The trait is `saga_model::StepError`; a crate that depends only on `saga-runtime` gets it
/// through that crate's re-export, under whatever name either is imported.
#[proc_macro_derive(StepError)]
pub fn derive_step_error(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let step_error = match step_error_trait() {
        Ok(path) => path,
        Err(error) => return error.to_compile_error().into(),
    };
    let Data::Enum(data) = &input.data else {
        return syn::Error::new_spanned(
            &input.ident,
            "`StepError` can only be derived for an enum: one variant per error name",
        )
        .to_compile_error()
        .into();
    };
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let names: Vec<String> = data.variants.iter().map(|v| v.ident.to_string()).collect();
    let arms = data.variants.iter().map(|v| {
        let variant = &v.ident;
        let name = variant.to_string();
        quote!(Self::#variant { .. } => #name,)
    });
    let body = if names.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(#arms)* })
    };
    quote! {
        impl #impl_generics #step_error for #ident #ty_generics #where_clause {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            fn name(&self) -> &'static str {
                #body
            }
        }
    }
    .into()
}

/// The path of the `StepError` trait as the deriving crate sees it.
fn step_error_trait() -> syn::Result<proc_macro2::TokenStream> {
    use proc_macro_crate::{FoundCrate, crate_name};
    match crate_name("saga-model").or_else(|_| crate_name("saga-runtime")) {
        Ok(FoundCrate::Itself) => Ok(quote!(crate::StepError)),
        Ok(FoundCrate::Name(name)) => {
            let name = syn::Ident::new(&name, proc_macro2::Span::call_site());
            Ok(quote!(::#name::StepError))
        }
        Err(_) => Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`#[derive(StepError)]` needs `saga-model` (or `saga-runtime`) among this crate's dependencies",
        )),
    }
}
