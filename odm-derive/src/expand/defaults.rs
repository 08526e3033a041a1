//! `#[field(default = ..)]`: one function per default, from which `apply_defaults` (for inserts) and the
//! schema's `FieldDefault` (for the `$setOnInsert` of upserts, and the documentation) both come.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::fields::unraw;
use crate::ast::{Container, Field};
use crate::ty::Ty;

/// The function that evaluates the default of `f`.
pub(super) fn default_fn_ident(f: &Field<'_>) -> Ident {
    format_ident!("__default_{}", unraw(f.ident))
}

/// The default's expression: a path to a function (`default_role`, `chrono::now`, as serde's
/// `default = "path"`) is called on every insert, anything else is the value itself (`"member"`, `0`,
/// `Role::Member`, `MAX`, `vec![]`).
fn value_expr(expr: &Expr) -> TokenStream {
    match expr {
        Expr::Path(p) if p.qself.is_none() && looks_like_function(&p.path) => {
            quote_spanned!(expr.span()=> #p())
        }
        other => quote!(#other),
    }
}

/// A path whose last segment is snake_case names a function; constants and variants are capitalised.
fn looks_like_function(path: &syn::Path) -> bool {
    path.segments.last().is_some_and(|s| {
        s.arguments.is_none()
            && s.ident
                .to_string()
                .starts_with(|c: char| c.is_lowercase() || c == '_')
    })
}

/// The function of every default, giving the value as the field's type (the schema's `FieldDefault`
/// converts it to BSON, in a closure of the schema's table).
pub(super) fn default_fns(cont: &Container<'_>) -> TokenStream {
    let mut out = TokenStream::new();
    for f in cont.stored() {
        let Some((_, expr)) = &f.attrs.default else {
            continue;
        };
        let Ty::Option(inner) = f.classify() else {
            continue;
        };
        let value = default_fn_ident(f);
        let span = expr.span();
        let expr = value_expr(expr);
        let into = quote_spanned!(span=> ::core::convert::Into::<#inner>::into(#expr));
        out.extend(quote! {
            #[allow(non_snake_case, clippy::useless_conversion)]
            fn #value() -> #inner {
                #into
            }
        });
    }
    out
}

/// `apply_defaults`, or nothing when no field has a default.
pub(super) fn apply_defaults(cont: &Container<'_>) -> TokenStream {
    let fills: Vec<TokenStream> = cont
        .stored()
        .filter(|f| f.attrs.default.is_some() && f.is_option())
        .map(|f| {
            let member = f.ident;
            let value = default_fn_ident(f);
            quote! {
                if self.#member.is_none() {
                    self.#member = ::core::option::Option::Some(#value());
                }
            }
        })
        .collect();
    if fills.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn apply_defaults(&mut self) {
            #(#fills)*
        }
    }
}

/// The default's expression as written, for the documentation and the schema.
pub(super) fn default_text(expr: &Expr) -> String {
    let text = quote!(#expr).to_string();
    let mut out = text
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" !", "!")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(" .", ".")
        .replace(". ", ".");
    if let Some(rest) = out.strip_prefix("- ") {
        out = format!("-{rest}");
    }
    out
}
