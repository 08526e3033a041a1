//! The `#[derive(Model)]` and `#[derive(Embedded)]` macros. Use them through `odm-core`, which re-exports
//! them and documents their attributes on the `Model` and `Embedded` traits.

mod ast;
mod attr;
mod case;
mod ctxt;
mod expand;
mod symbol;
mod ty;
mod valid;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `odm_core::Model`.
#[proc_macro_derive(Model, attributes(model, field))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, ast::Derive::Model).into()
}

/// Derives `odm_core::Embedded`.
#[proc_macro_derive(Embedded, attributes(model, field))]
pub fn derive_embedded(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, ast::Derive::Embedded).into()
}
