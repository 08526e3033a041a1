//! Code generation, one job per file: the schema as data (`schema`), the typed field paths (`fields`) and
//! their documentation (`docs`), the `Model` methods on the document's own fields (`model`), the
//! generated check (`validate`) and decoder (`decode`), and an enum model's kinds (`kind`).

mod decode;
mod defaults;
mod docs;
mod fields;
mod kind;
mod model;
mod schema;
mod text;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use self::fields::{embedded_fields, embedded_fns, model_fields, FieldsParts};
use self::kind::kind_enum;
use self::schema::{field_schemas, rule_consts, schema_expr};
use self::validate::validate_into;
use crate::ast::{Container, Derive};
use crate::ctxt::Ctxt;
use crate::valid;

/// The generated items inside `const _: () = { .. }` reach `odm_core::__private` through this alias: a
/// short path, so each model's expansion is fewer tokens for the compiler to read.
fn private_alias() -> TokenStream {
    quote!(
        #[allow(unused_imports)]
        use ::odm_core::__private as __odm;
    )
}

pub fn derive(input: &DeriveInput, derive: Derive) -> TokenStream {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input, derive);
    if let Some(cont) = &cont {
        valid::check(&cx, cont);
    }
    match (cx.check(), cont) {
        (Ok(()), Some(cont)) => match derive {
            Derive::Model => expand_model(&cont),
            Derive::Embedded => expand_embedded(&cont),
        },
        (Err(errors), cont) => {
            let errors = errors.into_compile_error();
            let stub = fallback(input, derive, cont.as_ref());
            quote!(#errors #stub)
        }
        (Ok(()), None) => unreachable!("a failed parse records an error"),
    }
}

/// A minimal impl next to the errors, so uses of the trait and of the field paths elsewhere do not add
/// errors of their own. The field paths are real when the struct could be read.
fn fallback(input: &DeriveInput, derive: Derive, cont: Option<&Container<'_>>) -> TokenStream {
    let private = private_alias();
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let name = ident.to_string();
    let parts = cont.map(|cont| match derive {
        Derive::Model => model_fields(cont),
        Derive::Embedded => embedded_fields(cont),
    });
    let (decl, impls, assoc) = match (parts, derive) {
        (Some(FieldsParts { decl, impls, assoc }), _) => (decl, impls, assoc),
        (None, Derive::Model) => (
            TokenStream::new(),
            TokenStream::new(),
            quote!(
                type Fields = ();
                fn fields() -> Self::Fields {}
            ),
        ),
        (None, Derive::Embedded) => (
            TokenStream::new(),
            TokenStream::new(),
            quote!(
                type Fields<M> = ();
                fn fields_at<M>(_: &str) -> Self::Fields<M> {}
            ),
        ),
    };
    let collection = cont.map(Container::collection).unwrap_or_default();
    // The kinds of an enum, so uses of `{Name}Kind` do not add errors; not `kind()`, whose match needs
    // every variant to be a struct variant.
    let (kind_decl, kind_impls, _) = cont
        .and_then(|c| Some((c, c.tagged()?)))
        .map(|(c, t)| kind_enum(c, t))
        .unwrap_or_default();
    let body = match derive {
        Derive::Model => quote! {
            #[automatically_derived]
            impl ::odm_core::Model for #ident {
                const SCHEMA: &'static __odm::Schema =
                    &__odm::Schema::new(#name, #collection, &[]);
                #assoc
                fn id(&self) -> __odm::Result<__odm::bson::Bson> {
                    ::core::result::Result::Ok(__odm::bson::Bson::Null)
                }
                fn set_id(&mut self, _: __odm::bson::Bson) -> __odm::Result<()> {
                    ::core::result::Result::Ok(())
                }
            }
        },
        Derive::Embedded => quote! {
            #[automatically_derived]
            impl ::odm_core::Embedded for #ident {
                const FIELDS: &'static [__odm::FieldSchema] = &[];
                #assoc
            }
        },
    };
    quote! {
        #decl
        #kind_decl
        const _: () = {
            #private
            #impls
            #kind_impls
            #body
        };
    }
}

fn expand_model(cont: &Container<'_>) -> TokenStream {
    let private = private_alias();
    let ident = cont.ident;
    let rules = rule_consts(cont);
    let schema = text::tokens(&format!("&{}", schema_expr(cont)));

    let mut methods = model::id_fns(cont);
    if let Some(ts) = &cont.attrs.timestamps {
        methods.extend(model::touch_fn(cont, ts));
    }
    if cont.attrs.version.is_some() {
        methods.extend(model::version_fns(cont));
    }
    if let Some(key) = &cont.attrs.hooks {
        methods.extend(model::hooks_fn(key));
    }
    methods.extend(validate_into(cont));
    methods.extend(defaults::apply_defaults(cont));

    let FieldsParts { decl, impls, assoc } = model_fields(cont);
    let embedded_fns = embedded_fns(cont);
    let default_fns = defaults::default_fns(cont);
    let decoder = decode::decoder(cont);
    if decoder.is_some() {
        let cfg = decode::compiled_in();
        methods.extend(quote! {
            #cfg
            fn decode_generated(
                doc: &__odm::bson::RawDocument,
            ) -> ::core::option::Option<Self> {
                <Self as __odm::DecodeDocument>::decode_document(doc)
            }
        });
    }
    let (kind_decl, kind_impls, kind_method) = match cont.tagged() {
        Some(tagged) => kind_enum(cont, tagged),
        None => Default::default(),
    };

    quote! {
        #decl
        #kind_decl

        const _: () = {
            #private
            #impls
            #kind_impls
            #kind_method
            #embedded_fns
            #decoder
            #default_fns

            #rules

            #[automatically_derived]
            impl ::odm_core::Model for #ident {
                const SCHEMA: &'static __odm::Schema = #schema;

                #assoc

                #methods
            }
        };
    }
}

fn expand_embedded(cont: &Container<'_>) -> TokenStream {
    let private = private_alias();
    let ident = cont.ident;
    let rules = rule_consts(cont);
    let fields = text::tokens(&format!("&[{}]", field_schemas(cont)));
    let FieldsParts { decl, impls, assoc } = embedded_fields(cont);
    let embedded_fns = embedded_fns(cont);
    let validate = validate_into(cont);
    let decoder = decode::decoder(cont);

    quote! {
        #decl

        const _: () = {
            #private
            #impls
            #embedded_fns
            #decoder
            #rules

            #[automatically_derived]
            impl ::odm_core::Embedded for #ident {
                const FIELDS: &'static [__odm::FieldSchema] = #fields;

                #assoc

                #validate
            }
        };
    }
}
