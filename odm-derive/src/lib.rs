//! The `#[derive(Model)]` macro. Use it through `odm-core`, which re-exports it.
use proc_macro::TokenStream;

/// Derives `odm_core::Model`.
#[proc_macro_derive(Model, attributes(model, field))]
pub fn derive_model(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Derives `odm_core::Embedded`.
#[proc_macro_derive(Embedded, attributes(model, field))]
pub fn derive_embedded(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
