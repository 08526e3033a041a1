//! The generated decoder: reads a stored document's raw BSON into the struct without serde, for structs
//! whose serde attributes leave decoding to serde's defaults (see `odm_core::decode` for the contract:
//! the decoder gives serde's value or gives up, never another value).

use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::text::{self, byte_str_lit};

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

    // The loop over the elements is `odm_core`'s `decode_slots`, generic over a tuple of the fields'
    // slots; all the struct says is its keys, its fields' types (the probes) and its defaults. All of
    // it is text (see `text`) but the defaults, and the probes when a type's text would not do.
    let mut keys = String::new();
    // Each read field's type, and whether it has a serde default.
    let mut probes: Vec<(&Field<'_>, bool)> = Vec::new();
    let mut inits = String::new();
    // A default may be the input's path (serde's `default = ".."`): tokens, so that an error in it is
    // reported where serde reports it.
    let mut defaults = Vec::new();
    for (field, plan) in cont.fields().zip(&plans) {
        let ident = field.ident;
        match plan {
            Plan::Read { default } => {
                let i = probes.len();
                let _ = write!(keys, "{},", byte_str_lit(&field.stored));
                probes.push((field, default.is_some()));
                match default {
                    Some(default) => {
                        let value = format_ident!("__value{}", i);
                        defaults.push(quote! {
                            #ident: match #value {
                                ::core::option::Option::Some(__v) => __v,
                                ::core::option::Option::None => #default,
                            },
                        });
                    }
                    None => {
                        let _ = write!(inits, "{ident}: __value{i},");
                    }
                }
            }
            Plan::Skip { default } => defaults.push(quote!(#ident: #default,)),
        }
    }
    if probes.len() > CHUNK * CHUNK {
        return None;
    }
    let nested = probes.len() > CHUNK;
    let names: Vec<String> = (0..probes.len()).map(|i| format!("__value{i}")).collect();
    let pattern = group(&names, nested, |g| format!("({})", comma_terminated(g)));
    // The call, as text when every type's text reads back as the type (see `Field::type_code`), the
    // probes as tokens otherwise.
    let head = format!(
        "#[allow(unused_imports)] use __odm::{{ViaDecode as _, ViaSerde as _, WithDefault as _}}; \
         let {pattern} = __odm::decode_slots"
    );
    let args = format!("__elements, &[{keys}],");
    let suffix = |with_default: bool| {
        if with_default {
            ".slot().with_default()"
        } else {
            ".slot()"
        }
    };
    let texts: Option<Vec<String>> = probes
        .iter()
        .map(|(f, d)| {
            let ty = f.type_code.as_ref()?;
            Some(format!("(&&__odm::Probe::<{ty}>::NEW){}", suffix(*d)))
        })
        .collect();
    let call = match texts {
        Some(texts) => {
            let slots = group(&texts, nested, |g| format!("({})", comma_terminated(g)));
            text::tokens(&format!("{head}({args} {slots})?;"))
        }
        None => {
            let probes: Vec<TokenStream> = probes
                .iter()
                .map(|(f, d)| {
                    let ty = f.ty;
                    let suffix = text::tokens(suffix(*d));
                    quote!((&&__odm::Probe::<#ty>::NEW)#suffix)
                })
                .collect();
            let slots = group(&probes, nested, |g| quote!((#(#g,)*)));
            let head = text::tokens(&head);
            let args = text::tokens(&args);
            quote!(#head(#args #slots)?;)
        }
    };
    let inits = text::tokens(&inits);
    let ident = cont.ident;
    let cfg = compiled_in();
    Some(quote! {
        #cfg
        #[automatically_derived]
        impl __odm::DecodeDocument for #ident {
            fn decode_elements(__elements: __odm::Elements<'_>) -> ::core::option::Option<Self> {
                #call
                ::core::option::Option::Some(Self { #inits #(#defaults)* })
            }
        }
    })
}

/// Where the generated decoder is compiled: in release builds and in tests, not in a debug build of a
/// crate's library or binaries (unless odm-core's `debug-decoder` feature asks for it). It gives the
/// same values as serde, only faster; leaving it out of debug builds keeps a crate of models' rebuild
/// close to what serde's derive alone costs, since the decoder is the largest part of what the derive
/// adds for the compiler.
pub fn compiled_in() -> TokenStream {
    if cfg!(feature = "debug-decoder") {
        TokenStream::new()
    } else {
        text::tokens("#[cfg(any(not(debug_assertions), test))]")
    }
}

/// Tuples of at most `CHUNK` slots, nested in one more past `CHUNK` fields.
const CHUNK: usize = 12;

/// The tuple of `items` (`tuple` makes one of a slice of items or of tuples), nested in tuples of
/// `CHUNK` items when `nested`.
fn group<T, F: Fn(&[T]) -> T>(items: &[T], nested: bool, tuple: F) -> T {
    if nested {
        let groups: Vec<T> = items.chunks(CHUNK).map(&tuple).collect();
        tuple(&groups)
    } else {
        tuple(items)
    }
}

/// `a, b, c,`: a tuple's elements, the one-element tuple's comma included.
fn comma_terminated(items: &[String]) -> String {
    items.iter().map(|i| format!("{i},")).collect()
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
