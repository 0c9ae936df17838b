//! The `saga!` macro and `#[derive(StepError)]`: thin shims over `saga-dsl`, which holds the
//! grammar, the checks and the emitters shared with the `saga-dsl` CLI.
//!
//! Use them through `saga-runtime`, which re-exports both next to the types the generated code
//! needs:
//!
//! ```
//! #[derive(Debug, saga_runtime::StepError)]
//! enum ChargeError { Declined, GatewayBusy }
//! impl std::fmt::Display for ChargeError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{self:?}") }
//! }
//! use saga_runtime::StepError as _;
//! assert_eq!(<ChargeError as saga_runtime::StepError>::NAMES, ["Declined", "GatewayBusy"]);
//! assert_eq!(saga_runtime::StepError::name(&ChargeError::Declined), "Declined");
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

/// Implements `saga_runtime::StepError` for an enum: each variant's name is the error name
/// Step Functions matches, so `saga!` can check it against the names a step declares.
#[proc_macro_derive(StepError)]
pub fn derive_step_error(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
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
        impl #impl_generics ::saga_runtime::StepError for #ident #ty_generics #where_clause {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            fn name(&self) -> &'static str {
                #body
            }
        }
    }
    .into()
}
