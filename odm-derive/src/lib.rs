//! The `#[derive(Model)]` and `#[derive(Embedded)]` macros. Use them through `odm-core`, which re-exports
//! them; its `odm_core::schema` module is the reference of every attribute, and the guide chapter
//! `odm_core::guide::defining_models` walks through them.

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

/// Derives `odm_core::Model` for a struct with named fields and a field stored as `_id`, or for a serde
/// internally tagged enum (`#[serde(tag = "kind")]`) of struct variants that each have one: several
/// kinds of document in one collection, with a generated `{Name}Kind` enum for typed filters on the tag.
///
/// Struct attributes: `#[model(collection = "..", timestamps, version, validate = path, hooks,
/// index(fields("a", "-b"), unique, sparse, name = "..", partial = ".."))]`. Field attributes:
/// `#[field(required, range(min = .., max = ..), length(min = .., max = ..), regex = "..", email,
/// one_of(..), validate = path, nested, index, index = "desc", unique, sparse, ttl = "30d", text,
/// default = expr, immutable, hidden)]`.
/// serde's `rename`, `rename_all`, `skip` and `flatten` decide the stored names.
///
/// Generates `impl Model`, with the schema as a constant, and a public `{Name}Fields` struct of typed
/// paths (returned by `Name::fields()`) whose documentation is the schema. The full reference, with
/// examples, is the `odm_core::schema` module; the guide chapter `odm_core::guide::defining_models`
/// walks through it.
#[proc_macro_derive(Model, attributes(model, field))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, ast::Derive::Model).into()
}

/// Derives `odm_core::Embedded` for a struct stored inside other documents (`#[field(nested)]`).
///
/// Takes the same `#[field(...)]` rules as `Model` (not indexes: declare them on the model with dotted
/// paths) and `#[model(validate = path)]`. Generates `impl Embedded` and a public `{Name}Fields<M>` struct
/// of typed paths below the field of model `M` that holds it.
#[proc_macro_derive(Embedded, attributes(model, field))]
pub fn derive_embedded(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, ast::Derive::Embedded).into()
}
