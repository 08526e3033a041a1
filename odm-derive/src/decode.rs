//! The generated decoder: reads a stored document's raw BSON into the struct without serde, for structs
//! whose serde attributes leave decoding to serde's defaults (see `odm_core::decode` for the contract:
//! the decoder gives serde's value or gives up, never another value).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Expr, ExprLit, Lit, Token};

use crate::ast::Container;
use crate::attr::skip_value;
use crate::symbol::*;

/// How one field is read.
enum Plan {
    /// Read from the stored key; when it is missing, `default` (serde's `default`) or the type's
    /// `missing()` (`None` for an `Option`).
    Read { default: Option<TokenStream> },
    /// Never read (serde's `skip`/`skip_deserializing`): the default.
    Skip { default: TokenStream },
}

/// The `DecodeDocument` and `Decode` impls, or nothing when serde's attributes change how the struct is
/// decoded in a way the generated decoder does not follow (then every read goes through serde).
pub fn decoder(cont: &Container<'_>) -> Option<TokenStream> {
    if cont.tagged.is_some() || !cont.input.generics.params.is_empty() {
        return None;
    }
    if !container_allows(&cont.input.attrs) {
        return None;
    }
    let plans = cont
        .fields
        .iter()
        .map(|f| field_plan(f.serde_attrs))
        .collect::<Option<Vec<Plan>>>()?;

    let p = quote!(::odm_core::__private);
    let option = quote!(::core::option::Option);
    let mut tys = Vec::new();
    let mut locals = Vec::new();
    let mut keys = Vec::new();
    let mut inits = Vec::new();
    for (i, (field, plan)) in cont.fields.iter().zip(&plans).enumerate() {
        let (ident, ty) = (field.ident, field.ty);
        match plan {
            Plan::Read { default } => {
                let local = format_ident!("__field{}", i);
                let missing = match default {
                    Some(default) => default.clone(),
                    None => quote!((&&#p::Probe::<#ty>::NEW).missing()?),
                };
                inits.push(quote! {
                    #ident: match #local {
                        #option::Some(__v) => __v,
                        #option::None => #missing,
                    }
                });
                tys.push(ty);
                locals.push(local);
                keys.push(syn::LitByteStr::new(field.stored.as_bytes(), ident.span()));
            }
            Plan::Skip { default } => inits.push(quote!(#ident: #default)),
        }
    }
    let ident = cont.ident;
    Some(quote! {
        #[automatically_derived]
        impl #p::DecodeDocument for #ident {
            fn decode_elements(mut __elements: #p::Elements<'_>) -> #option<Self> {
                #[allow(unused_imports)]
                use #p::{ViaDecode as _, ViaSerde as _};
                if !(true #(&& (&&#p::Probe::<#tys>::NEW).supported())*) {
                    return #option::None;
                }
                #(let mut #locals: #option<#tys> = #option::None;)*
                while let #option::Some((__key, __value)) = __elements.next()? {
                    match __key {
                        #(#keys => {
                            if #locals.is_some() {
                                return #option::None;
                            }
                            #locals = #option::Some((&&#p::Probe::<#tys>::NEW).decode(__value)?);
                        })*
                        // serde reads an unknown key as text and its value whole, then ignores both.
                        _ => {
                            ::core::str::from_utf8(__key).ok()?;
                            __value.check()?;
                        }
                    }
                }
                #option::Some(Self { #(#inits,)* })
            }
        }

        #[automatically_derived]
        impl #p::Decode for #ident {
            fn decode(__value: #p::Value<'_>) -> #option<Self> {
                <Self as #p::DecodeDocument>::decode_elements(__value.as_document()?)
            }
        }
    })
}

/// Container attributes the decoder follows: `rename` (the struct's name only) and `rename_all = ".."`
/// (already in the stored names). Anything else (`deny_unknown_fields`, `default`, `from`,
/// `transparent`, a split `rename_all(..)`) leaves decoding to serde.
fn container_allows(attrs: &[syn::Attribute]) -> bool {
    let mut ok = true;
    for attr in attrs.iter().filter(|a| a.path() == SERDE) {
        let parsed = attr.parse_nested_meta(|meta| {
            let follows =
                meta.path == RENAME || (meta.path == RENAME_ALL && meta.input.peek(Token![=]));
            ok &= follows;
            skip_value(&meta)
        });
        ok &= parsed.is_ok();
    }
    ok
}

/// The field's plan, or `None` when one of its serde attributes changes decoding (`alias`, `flatten`,
/// `with`, `deserialize_with`, a split `rename(..)`, ...).
fn field_plan(attrs: &[syn::Attribute]) -> Option<Plan> {
    let mut ok = true;
    let mut skip = false;
    let mut default: Option<TokenStream> = None;
    for attr in attrs.iter().filter(|a| a.path() == SERDE) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path == RENAME {
                ok &= meta.input.peek(Token![=]);
            } else if meta.path == SKIP || meta.path == SKIP_DESERIALIZING {
                skip = true;
            } else if meta.path == DEFAULT {
                if meta.input.peek(Token![=]) {
                    let expr: Expr = meta.value()?.parse()?;
                    match expr {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(path),
                            ..
                        }) => {
                            let path: syn::ExprPath = path.parse()?;
                            default = Some(quote!(#path()));
                        }
                        _ => ok = false,
                    }
                    return Ok(());
                }
                default = Some(quote!(::core::default::Default::default()));
            } else if !(meta.path == SKIP_SERIALIZING
                || meta.path == SKIP_SERIALIZING_IF
                || meta.path == SERIALIZE_WITH)
            {
                ok = false;
            }
            skip_value(&meta)
        });
        ok &= parsed.is_ok();
    }
    if !ok {
        return None;
    }
    Some(if skip {
        Plan::Skip {
            default: default.unwrap_or_else(|| quote!(::core::default::Default::default())),
        }
    } else {
        Plan::Read { default }
    })
}
