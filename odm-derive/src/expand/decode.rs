//! The generated decoder: reads a stored document's raw BSON into the struct without serde, for structs
//! whose serde attributes leave decoding to serde's defaults (see `odm_core::decode` for the contract:
//! the decoder gives serde's value or gives up, never another value).

use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::quote;

use super::text::{self, byte_str_lit, Code};

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

    // Few `?` and few statements, whatever the number of fields: every slot is made in one `let .. else`,
    // every key read in one `match` with one `?`, and every value taken in one more `let .. else`. All of
    // it is text (see `text`) but the probes, which name the fields' types.
    let mut head = Code::default();
    head.push_str("let (");
    let mut probes = Vec::new();
    let mut arms = String::new();
    let mut values = String::new();
    let mut finishes = String::new();
    let mut inits = String::new();
    for (i, (field, plan)) in cont.fields().zip(&plans).enumerate() {
        let ident = field.ident;
        match plan {
            Plan::Read { default } => {
                let ty = field.ty;
                let _ = write!(head, "::core::option::Option::Some(mut __field{i}),");
                probes.push(quote!((&&__odm::Probe::<#ty>::NEW).slot(),));
                let _ = write!(
                    arms,
                    "{} => __field{i}.read(__value),",
                    byte_str_lit(&field.stored)
                );
                match default {
                    Some(default) => {
                        let _ = write!(
                            inits,
                            "{ident}: match __field{i}.take() {{ \
                             ::core::option::Option::Some(__v) => __v, \
                             ::core::option::Option::None => {default}, }},"
                        );
                    }
                    None => {
                        let _ = write!(values, "::core::option::Option::Some(__value{i}),");
                        let _ = write!(finishes, "__field{i}.finish(),");
                        let _ = write!(inits, "{ident}: __value{i},");
                    }
                }
            }
            Plan::Skip { default } => {
                let _ = write!(inits, "{ident}: {default},");
            }
        }
    }
    head.push_str(") =");
    // With no slot or no value to take, no `let .. else` (it would be irrefutable).
    let slots = if probes.is_empty() {
        TokenStream::new()
    } else {
        let head = head.into_tokens();
        let tail = text::tokens("else { return ::core::option::Option::None; };");
        quote!(#[allow(unused_imports)] use __odm::{ViaDecode as _, ViaSerde as _}; #head (#(#probes)*) #tail)
    };
    let mut rest = Code::default();
    let _ = write!(
        rest,
        "while let ::core::option::Option::Some((__key, __value)) = __elements.next()? {{ \
         match __key {{ {arms} _ => __odm::skip_element(__key, __value), }}?; }}"
    );
    if !values.is_empty() {
        let _ = write!(
            rest,
            "let ({values}) = ({finishes}) else {{ return ::core::option::Option::None; }};"
        );
    }
    let _ = write!(rest, "::core::option::Option::Some(Self {{ {inits} }})");
    let rest = rest.into_tokens();
    let ident = cont.ident;
    // Every field's slot comes first: a field whose type only serde decodes sends the document to serde
    // before anything is read.
    Some(quote! {
        #[automatically_derived]
        impl __odm::DecodeDocument for #ident {
            fn decode_elements(mut __elements: __odm::Elements<'_>) -> ::core::option::Option<Self> {
                #slots #rest
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
