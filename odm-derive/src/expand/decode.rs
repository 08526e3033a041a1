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

/// The `DecodeDocument` impl (odm-core's blanket impl makes it `Decode`), or nothing when serde's attributes change how the struct is
/// decoded in a way the generated decoder does not follow (then every read goes through serde).
pub fn decoder(cont: &Container<'_>) -> Option<TokenStream> {
    if cont.tagged().is_some() || !cont.input.generics.params.is_empty() || !cont.serde.decodable {
        return None;
    }
    let plans = cont
        .fields()
        .map(field_plan)
        .collect::<Option<Vec<Plan>>>()?;

    let p = quote!(__odm);
    let option = quote!(::core::option::Option);
    let mut slots = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    for (i, (field, plan)) in cont.fields().zip(&plans).enumerate() {
        let (ident, ty) = (field.ident, field.ty);
        match plan {
            Plan::Read { default } => {
                let slot = format_ident!("__field{}", i);
                let key = syn::LitByteStr::new(field.stored.as_bytes(), ident.span());
                slots.push(quote!(let mut #slot = (&&#p::Probe::<#ty>::NEW).slot()?;));
                arms.push(quote!(#key => #slot.read(__value)?,));
                inits.push(match default {
                    Some(default) => quote! {
                        #ident: match #slot.take() {
                            #option::Some(__v) => __v,
                            #option::None => #default,
                        }
                    },
                    None => quote!(#ident: #slot.finish()?),
                });
            }
            Plan::Skip { default } => inits.push(quote!(#ident: #default)),
        }
    }
    let ident = cont.ident;
    // Every field's slot comes first: a field whose type only serde decodes sends the document to serde
    // before anything is read.
    Some(quote! {
        #[automatically_derived]
        impl #p::DecodeDocument for #ident {
            fn decode_elements(mut __elements: #p::Elements<'_>) -> #option<Self> {
                #[allow(unused_imports)]
                use #p::{ViaDecode as _, ViaSerde as _};
                #(#slots)*
                while let #option::Some((__key, __value)) = __elements.next()? {
                    match __key {
                        #(#arms)*
                        _ => #p::skip_element(__key, __value)?,
                    }
                }
                #option::Some(Self { #(#inits,)* })
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
