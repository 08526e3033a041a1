//! The `#[derive(Model)]` and `#[derive(Embedded)]` macros. Use them through `odm-core`, which re-exports
//! them; its guide chapter `odm_core::guide::defining_models` documents every attribute.

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

/// Derives `odm_core::Model` for a struct with named fields, one of them stored as `_id`.
///
/// Reads `#[model(collection, timestamps, version, hooks, validate, index(..))]` on the struct,
/// `#[field(required, range, length, regex, email, one_of, validate, nested, index, unique, sparse, ttl,
/// text)]` on its fields, and serde's `rename`, `rename_all`, `skip` and `flatten`; writes the schema
/// as a constant and a documented `<Model>Fields` struct of typed paths. Every attribute is described
/// in the guide chapter `odm_core::guide::defining_models`.
#[proc_macro_derive(Model, attributes(model, field))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, ast::Derive::Model).into()
}

/// Derives `odm_core::Embedded` for a struct stored inside a model's documents.
///
/// Takes the `#[field]` rules of `#[derive(Model)]` (not indexes: declare those on the model with the
/// dotted path) and `#[model(validate = ..)]`, and writes a documented `<Type>Fields<M>` struct of typed
/// paths. Mark the model's field that holds it `#[field(nested)]`.
#[proc_macro_derive(Embedded, attributes(model, field))]
pub fn derive_embedded(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, ast::Derive::Embedded).into()
}
