//! The generated decoder: reads a stored document's raw BSON into the struct without serde, for structs
//! whose serde attributes leave decoding to serde's defaults (see `odm_core::decode` for the contract:
//! the decoder gives serde's value or gives up, never another value).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ast::{Container, Field};

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
    if cont.tagged().is_some() || !cont.input.generics.params.is_empty() || !cont.serde.decodable {
        return None;
    }
    let plans = cont
        .fields()
        .map(field_plan)
        .collect::<Option<Vec<Plan>>>()?;

    let p = quote!(::odm_core::__private);
    let option = quote!(::core::option::Option);
    let mut tys = Vec::new();
    let mut locals = Vec::new();
    let mut keys = Vec::new();
    let mut inits = Vec::new();
    for (i, (field, plan)) in cont.fields().zip(&plans).enumerate() {
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

/// The field's plan, or `None` when one of its serde attributes changes decoding.
fn field_plan(field: &Field<'_>) -> Option<Plan> {
    let serde = &field.serde;
    if !serde.decodable {
        return None;
    }
    let default = serde.default.clone();
    Some(if serde.skip_deserializing {
        Plan::Skip {
            default: default.unwrap_or_else(|| quote!(::core::default::Default::default())),
        }
    } else {
        Plan::Read { default }
    })
}
