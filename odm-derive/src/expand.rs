//! Code generation: the `Model`/`Embedded` impl, the typed field paths and their documentation.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, Expr, ExprLit, Ident, Lit};

use crate::ast::{Container, Derive, Field, Shape, Tagged};
use crate::attr::{Num, RuleKind};
use crate::ctxt::Ctxt;
use crate::decode;
use crate::ty::{self, type_string, Ty};
use crate::valid;

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
        .and_then(|c| Some((c, c.tagged.as_ref()?)))
        .map(|(c, t)| kind_enum(c, t))
        .unwrap_or_default();
    let body = match derive {
        Derive::Model => quote! {
            #[automatically_derived]
            impl ::odm_core::Model for #ident {
                const SCHEMA: &'static ::odm_core::__private::Schema =
                    &::odm_core::__private::Schema::new(#name, #collection, &[]);
                #assoc
                fn id(&self) -> ::odm_core::__private::Result<::odm_core::__private::bson::Bson> {
                    ::core::result::Result::Ok(::odm_core::__private::bson::Bson::Null)
                }
                fn set_id(&mut self, _: ::odm_core::__private::bson::Bson) -> ::odm_core::__private::Result<()> {
                    ::core::result::Result::Ok(())
                }
            }
        },
        Derive::Embedded => quote! {
            #[automatically_derived]
            impl ::odm_core::Embedded for #ident {
                const FIELDS: &'static [::odm_core::__private::FieldSchema] = &[];
                #assoc
            }
        },
    };
    quote! {
        #decl
        #kind_decl
        const _: () = {
            #impls
            #kind_impls
            #body
        };
    }
}

fn expand_model(cont: &Container<'_>) -> TokenStream {
    let ident = cont.ident;
    let type_name = ident.to_string();
    let collection = cont.collection();
    let field_schemas = field_schemas(cont);
    let rule_consts = rule_consts(cont);
    let indexes = indexes(cont);

    let mut schema = quote!(::odm_core::__private::Schema::new(#type_name, #collection, __FIELDS).with_indexes(__INDEXES));
    let mut extra = TokenStream::new();
    if let Some(ts) = &cont.attrs.timestamps {
        let (c, u) = (&ts.created_at, &ts.updated_at);
        schema = quote!(#schema.with_timestamps(#c, #u));
        let created = cont.stored_field(c).expect("checked").ident;
        let updated = cont.stored_field(u).expect("checked").ident;
        let set = quote!(::odm_core::__private::TimestampField::set_timestamp);
        let body = match &cont.tagged {
            None => quote! {
                if created {
                    #set(&mut self.#created, now);
                }
                #set(&mut self.#updated, now);
            },
            // Shared names have one Rust name in every variant (checked).
            Some(tagged) => {
                let variants = tagged.variants.iter().map(|v| v.ident);
                if created == updated {
                    quote!(match self { #(Self::#variants { #updated: __updated, .. } => #set(__updated, now),)* })
                } else {
                    quote! {
                        match self {
                            #(Self::#variants { #created: __created, #updated: __updated, .. } => {
                                if created {
                                    #set(__created, now);
                                }
                                #set(__updated, now);
                            })*
                        }
                    }
                }
            }
        };
        extra.extend(quote! {
            fn touch(&mut self, now: ::odm_core::__private::bson::DateTime, created: bool) {
                #body
            }
        });
    }
    if cont.attrs.version.is_some() {
        schema = quote!(#schema.with_version("__v"));
        let v = cont.stored_field("__v").expect("checked").ident;
        let p = quote!(::odm_core::__private::VersionField);
        let (get, put) = match &cont.tagged {
            None => (
                quote!(#p::get_version(&self.#v)),
                quote!(#p::put_version(&mut self.#v, version)),
            ),
            Some(tagged) => {
                let variants: Vec<&Ident> = tagged.variants.iter().map(|v| v.ident).collect();
                (
                    quote!(match self { #(Self::#variants { #v: __v, .. } => #p::get_version(__v),)* }),
                    quote!(match self { #(Self::#variants { #v: __v, .. } => #p::put_version(__v, version),)* }),
                )
            }
        };
        extra.extend(quote! {
            fn version(&self) -> ::core::option::Option<i64> {
                #get
            }
            fn set_version(&mut self, version: i64) {
                #put
            }
        });
    }
    if let Some(key) = &cont.attrs.hooks {
        // Spanned at `hooks`: a model without `impl Hooks` gets the error there.
        let span = key.segments[0].ident.span();
        let hooks_of = quote_spanned!(span=> ::odm_core::__private::hooks_of::<Self>());
        extra.extend(quote! {
            fn hooks() -> ::core::option::Option<&'static dyn ::odm_core::__private::DynHooks<Self>> {
                ::core::option::Option::Some(#hooks_of)
            }
        });
    }
    extra.extend(validate_into(cont));
    let id_fns = match &cont.tagged {
        None => {
            let id = cont.stored_field("_id").expect("checked").ident;
            quote! {
                fn id(&self) -> ::odm_core::__private::Result<::odm_core::__private::bson::Bson> {
                    ::odm_core::__private::id_to_bson(#type_name, &self.#id)
                }

                fn set_id(&mut self, id: ::odm_core::__private::bson::Bson) -> ::odm_core::__private::Result<()> {
                    self.#id = ::odm_core::__private::id_from_bson(#type_name, id)?;
                    ::core::result::Result::Ok(())
                }
            }
        }
        Some(tagged) => {
            let tag = &tagged.tag;
            schema = quote!(#schema.with_tag(#tag));
            let arms: Vec<(&Ident, &Ident)> = tagged
                .variants
                .iter()
                .map(|v| {
                    let id = cont
                        .variant_fields(v)
                        .find(|f| f.stored == "_id")
                        .expect("checked")
                        .ident;
                    (v.ident, id)
                })
                .collect();
            let get = arms.iter().map(|(v, id)| {
                quote!(Self::#v { #id: __id, .. } => ::odm_core::__private::id_to_bson(#type_name, __id),)
            });
            let set = arms.iter().map(|(v, id)| {
                quote!(Self::#v { #id: __id, .. } => *__id = ::odm_core::__private::id_from_bson(#type_name, __new_id)?,)
            });
            quote! {
                fn id(&self) -> ::odm_core::__private::Result<::odm_core::__private::bson::Bson> {
                    match self { #(#get)* }
                }

                fn set_id(&mut self, __new_id: ::odm_core::__private::bson::Bson) -> ::odm_core::__private::Result<()> {
                    match self { #(#set)* }
                    ::core::result::Result::Ok(())
                }
            }
        }
    };

    let FieldsParts { decl, impls, assoc } = model_fields(cont);
    let embedded_fns = embedded_fns(cont);
    let decoder = decode::decoder(cont);
    if decoder.is_some() {
        extra.extend(quote! {
            fn decode_generated(
                doc: &::odm_core::__private::bson::RawDocument,
            ) -> ::core::option::Option<Self> {
                <Self as ::odm_core::__private::DecodeDocument>::decode_document(doc)
            }
        });
    }
    let (kind_decl, kind_impls, kind_method) = match &cont.tagged {
        Some(tagged) => kind_enum(cont, tagged),
        None => Default::default(),
    };

    quote! {
        #decl
        #kind_decl

        const _: () = {
            #impls
            #kind_impls
            #kind_method
            #embedded_fns
            #decoder

            #rule_consts
            const __FIELDS: &[::odm_core::__private::FieldSchema] = &[#(#field_schemas),*];
            const __INDEXES: &[::odm_core::__private::IndexSchema] = &[#(#indexes),*];

            #[automatically_derived]
            impl ::odm_core::Model for #ident {
                const SCHEMA: &'static ::odm_core::__private::Schema = &#schema;

                #assoc

                #id_fns

                #extra
            }
        };
    }
}

/// The `{Name}Kind` enum of an enum model: one unit variant per kind, serialized as the tag's value;
/// its impls; and `{Name}::kind()`.
fn kind_enum(cont: &Container<'_>, tagged: &Tagged<'_>) -> (TokenStream, TokenStream, TokenStream) {
    let ident = cont.ident;
    let vis = &cont.input.vis;
    let kind = format_ident!("{}Kind", ident);
    let tag = &tagged.tag;
    let variants: Vec<&Ident> = tagged.variants.iter().map(|v| v.ident).collect();
    let values: Vec<&str> = tagged
        .variants
        .iter()
        .map(|v| v.tag_value.as_str())
        .collect();
    let variant_docs = tagged.variants.iter().map(|v| {
        format!(
            "`{ident}::{}`, stored with `{tag}: \"{}\"`.",
            v.ident, v.tag_value
        )
    });
    let doc = format!(
        "The kinds of `{ident}`: the values of its tag `{tag}`, for typed filters such as \
         `{ident}::fields().{}.eq({kind}::{})`. Serialized as the tag's value.",
        tagged.tag_member,
        variants.first().map(|v| v.to_string()).unwrap_or_default()
    );
    let kind_doc =
        format!("The kind of this `{ident}`: which variant it is, as stored in `{tag}`.");
    let serde = quote!(::odm_core::__private::serde);
    let decl = quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash)]
        #vis enum #kind {
            #(#[doc = #variant_docs] #variants,)*
        }
    };
    let impls = quote! {
        // A private model need not use every generated item.
        #[automatically_derived]
        #[allow(dead_code)]
        impl #kind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [#kind] = &[#(#kind::#variants),*];

            /// The tag's stored value for this kind.
            pub const fn as_str(self) -> &'static str {
                match self { #(#kind::#variants => #values,)* }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #kind {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[automatically_derived]
        impl #serde::Serialize for #kind {
            fn serialize<__S: #serde::Serializer>(&self, serializer: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        #[automatically_derived]
        impl<'de> #serde::Deserialize<'de> for #kind {
            fn deserialize<__D: #serde::Deserializer<'de>>(deserializer: __D) -> ::core::result::Result<Self, __D::Error> {
                let value = <::std::string::String as #serde::Deserialize>::deserialize(deserializer)?;
                match value.as_str() {
                    #(#values => ::core::result::Result::Ok(#kind::#variants),)*
                    other => ::core::result::Result::Err(<__D::Error as #serde::de::Error>::unknown_variant(other, &[#(#values),*])),
                }
            }
        }

    };
    let method = quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            #[doc = #kind_doc]
            #vis fn kind(&self) -> #kind {
                match self { #(Self::#variants { .. } => #kind::#variants,)* }
            }
        }
    };
    (decl, impls, method)
}

fn expand_embedded(cont: &Container<'_>) -> TokenStream {
    let ident = cont.ident;
    let field_schemas = field_schemas(cont);
    let rule_consts = rule_consts(cont);
    let FieldsParts { decl, impls, assoc } = embedded_fields(cont);
    let embedded_fns = embedded_fns(cont);
    let validate = validate_into(cont);
    let decoder = decode::decoder(cont);

    quote! {
        #decl

        const _: () = {
            #impls
            #embedded_fns
            #decoder
            #rule_consts

            #[automatically_derived]
            impl ::odm_core::Embedded for #ident {
                const FIELDS: &'static [::odm_core::__private::FieldSchema] = &[#(#field_schemas),*];

                #assoc

                #validate
            }
        };
    }
}

/// The typed field paths: the public struct, its `Clone`/`Debug` impls, and the trait's associated type and
/// constructor.
struct FieldsParts {
    decl: TokenStream,
    impls: TokenStream,
    assoc: TokenStream,
}

fn model_fields(cont: &Container<'_>) -> FieldsParts {
    let ident = cont.ident;
    let vis = &cont.input.vis;
    let fields_ident = format_ident!("{}Fields", ident);
    let mut members: Vec<TokenStream> = Vec::new();
    let mut inits: Vec<TokenStream> = Vec::new();
    if let Some(tagged) = &cont.tagged {
        let member = &tagged.tag_member;
        let tag = &tagged.tag;
        let kind = format_ident!("{}Kind", ident);
        let doc = format!(
            "The tag, stored as `{tag}`: which kind of `{ident}` the document is (`{kind}`)."
        );
        members.push(quote!(#[doc = #doc] pub #member: ::odm_core::Field<#ident, #kind>,));
        inits.push(quote!(#member: ::odm_core::Field::new(#tag),));
    }
    members.extend(cont.stored().map(|f| {
        let member = f.ident;
        let doc = member_doc(cont, f);
        let ty = member_type(f, quote!(#ident));
        quote!(#[doc = #doc] pub #member: #ty,)
    }));
    inits.extend(cont.stored().map(|f| {
        let member = f.ident;
        let stored = &f.stored;
        match as_embedded(f) {
            Some(elem) => quote!(#member: #elem::fields_at::<#ident>(#stored),),
            None => quote!(#member: ::odm_core::Field::new(#stored),),
        }
    }));
    let doc = model_doc(cont, &cont.collection());
    FieldsParts {
        decl: quote! {
            #[doc = #doc]
            #vis struct #fields_ident {
                #(#members)*
            }
        },
        impls: clone_debug(cont, &fields_ident, false),
        assoc: quote! {
            type Fields = #fields_ident;

            fn fields() -> #fields_ident {
                #fields_ident { #(#inits)* }
            }
        },
    }
}

fn embedded_fields(cont: &Container<'_>) -> FieldsParts {
    let vis = &cont.input.vis;
    let fields_ident = format_ident!("{}Fields", cont.ident);
    let empty = cont.stored().next().is_none();
    let mut members: Vec<TokenStream> = cont
        .stored()
        .map(|f| {
            let member = f.ident;
            let doc = member_doc(cont, f);
            let ty = member_type(f, quote!(M));
            quote!(#[doc = #doc] pub #member: #ty,)
        })
        .collect();
    let mut inits: Vec<TokenStream> = cont
        .stored()
        .map(|f| {
            let member = f.ident;
            let stored = &f.stored;
            match as_embedded(f) {
                Some(elem) => quote! {
                    #member: #elem::fields_at::<M>(
                        &::odm_core::__private::join_path(prefix, #stored),
                    ),
                },
                None => quote!(#member: ::odm_core::Field::nested(prefix, #stored),),
            }
        })
        .collect();
    let prefix = if empty {
        members.push(quote!(__model: ::core::marker::PhantomData<fn() -> M>,));
        inits.push(quote!(__model: ::core::marker::PhantomData,));
        quote!(_prefix)
    } else {
        quote!(prefix)
    };
    let doc = embedded_doc(cont);
    FieldsParts {
        decl: quote! {
            #[doc = #doc]
            #vis struct #fields_ident<M> {
                #(#members)*
            }
        },
        impls: clone_debug(cont, &fields_ident, true),
        assoc: quote! {
            type Fields<M> = #fields_ident<M>;

            fn fields_at<M>(#prefix: &str) -> #fields_ident<M> {
                #fields_ident { #(#inits)* }
            }
        },
    }
}

/// The type that derives `Embedded` for a `nested` field.
fn nested_type<'a>(f: &Field<'a>) -> Option<&'a syn::Type> {
    f.attrs.nested.as_ref()?;
    f.embedded_type().map(|(t, _)| t)
}

/// `<Elem as Embedded>` for a `nested` field, spanned at `nested` so that, when `Elem` does not implement
/// `Embedded`, every use reports at the attribute (and the compiler folds the repeats).
fn as_embedded(f: &Field<'_>) -> Option<TokenStream> {
    let span = f.attrs.nested.as_ref()?.segments[0].ident.span();
    let elem = nested_type(f)?;
    let mut elem_tokens = TokenStream::new();
    for mut tt in quote!(#elem) {
        tt.set_span(span);
        elem_tokens.extend([tt]);
    }
    Some(quote_spanned!(span=> <#elem_tokens as ::odm_core::Embedded>))
}

fn member_type(f: &Field<'_>, model: TokenStream) -> TokenStream {
    match as_embedded(f) {
        Some(elem) => quote!(#elem::Fields<#model>),
        None => {
            let ty = f.ty;
            quote!(::odm_core::Field<#model, #ty>)
        }
    }
}

fn clone_debug(cont: &Container<'_>, fields_ident: &Ident, generic: bool) -> TokenStream {
    let name = fields_ident.to_string();
    let mut members: Vec<&Ident> = cont.tagged.iter().map(|t| &t.tag_member).collect();
    members.extend(cont.stored().map(|f| f.ident));
    let names: Vec<String> = members.iter().map(|m| unraw(m)).collect();
    let (generics, phantom) = if generic {
        (quote!(<M>), members.is_empty())
    } else {
        (TokenStream::new(), false)
    };
    let phantom_init = if phantom {
        quote!(__model: ::core::marker::PhantomData,)
    } else {
        TokenStream::new()
    };
    quote! {
        #[automatically_derived]
        impl #generics ::core::clone::Clone for #fields_ident #generics {
            fn clone(&self) -> Self {
                #fields_ident { #(#members: ::core::clone::Clone::clone(&self.#members),)* #phantom_init }
            }
        }

        #[automatically_derived]
        impl #generics ::core::fmt::Debug for #fields_ident #generics {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name)
                    #(.field(#names, &self.#members))*
                    .finish()
            }
        }
    }
}

fn embedded_fn_ident(f: &Field<'_>) -> Ident {
    format_ident!("__embedded_{}", unraw(f.ident))
}

/// An identifier without its `r#`.
fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
}

/// One function per `nested` field returning the embedded type's fields (`FieldSchema::embedded`).
fn embedded_fns(cont: &Container<'_>) -> TokenStream {
    cont.stored()
        .filter_map(|f| {
            let elem = as_embedded(f)?;
            let fn_ident = embedded_fn_ident(f);
            Some(quote! {
                fn #fn_ident() -> &'static [::odm_core::__private::FieldSchema] {
                    #elem::FIELDS
                }
            })
        })
        .collect()
}

fn f64_tokens(n: &Num) -> TokenStream {
    let lit = Literal::f64_suffixed(n.value.abs());
    if n.value < 0.0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

fn opt<T: quote::ToTokens>(v: Option<T>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// A `one_of` value as text: a string without quotes, a number as written.
fn literal_text(e: &Expr) -> String {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.value(),
        Expr::Lit(ExprLit {
            lit: Lit::Char(c), ..
        }) => c.value().to_string(),
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => b.value.to_string(),
        other => crate::attr::number(other)
            .map(|n| n.text)
            .unwrap_or_else(|| quote!(#other).to_string()),
    }
}

/// The rules of the union field `f` of an enum that hold for every document: those every variant storing
/// the name declares, and `required` only when every variant stores it. For a struct, its rules.
fn shared_rules(cont: &Container<'_>, f: &Field<'_>) -> Vec<usize> {
    let Some(tagged) = &cont.tagged else {
        return (0..f.attrs.rules.len()).collect();
    };
    let everywhere = cont.variants_storing(&f.stored) == tagged.variants.len();
    let others: Vec<&Field<'_>> = cont
        .fields
        .iter()
        .filter(|g| g.is_stored() && g.stored == f.stored)
        .collect();
    f.attrs
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| everywhere || !matches!(r.kind, RuleKind::Required))
        .filter(|(_, r)| {
            let doc = rule_doc(&r.kind);
            others
                .iter()
                .all(|g| g.attrs.rules.iter().any(|r| rule_doc(&r.kind) == doc))
        })
        .map(|(j, _)| j)
        .collect()
}

fn field_schemas(cont: &Container<'_>) -> Vec<TokenStream> {
    let p = quote!(::odm_core::__private);
    let tag = cont.tagged.as_ref().map(|tagged| {
        let member = unraw(&tagged.tag_member);
        let stored = &tagged.tag;
        let kind = format!("{}Kind", cont.ident);
        let values = tagged.variants.iter().map(|v| &v.tag_value);
        quote! {
            #p::FieldSchema::new(#member, #stored, #kind)
                .with_bson_type(#p::BsonType::String)
                .with_rules(&[#p::Rule::OneOf(&[#(#p::Literal::Text(#values)),*])])
        }
    });
    let variants = cont.tagged.as_ref().map_or(0, |t| t.variants.len());
    tag.into_iter()
        .chain(cont.stored().map(|f| {
            let ident = unraw(f.ident);
            let stored = &f.stored;
            let rust_type = type_string(f.ty);
            let mut out =
                quote!(::odm_core::__private::FieldSchema::new(#ident, #stored, #rust_type));
            let rules: Vec<Ident> = shared_rules(cont, f)
                .into_iter()
                .map(|j| rule_const(cont, f, j))
                .collect();
            if !rules.is_empty() {
                out = quote!(#out.with_rules(&[#(#rules),*]));
            }
            let nested = nested_type(f).is_some();
            let base = f.base();
            let bson_type = if f.attrs.custom_serde {
                None
            } else if nested && matches!(base, Ty::Other) {
                Some("Object")
            } else {
                base.bson_type()
            };
            if let Some(t) = bson_type {
                let t = format_ident!("{}", t);
                out = quote!(#out.with_bson_type(#p::BsonType::#t));
            }
            if let (Some("Array"), Ty::List(elem)) = (bson_type, base) {
                let elem = ty::classify(elem);
                // An element that may be `None` is stored as `null`: its type is not one.
                let items = match elem {
                    Ty::Option(_) => None,
                    _ if nested => Some("Object"),
                    _ => elem.bson_type(),
                };
                if let Some(items) = items {
                    let items = format_ident!("{}", items);
                    out = quote!(#out.with_items(#p::BsonType::#items));
                }
            }
            if f.is_option() {
                out = quote!(#out.optional());
            }
            let in_some_variants = variants > 0 && cont.variants_storing(&f.stored) < variants;
            if f.attrs.skip_serializing_if || in_some_variants {
                out = quote!(#out.omittable());
            }
            if nested {
                let fn_ident = embedded_fn_ident(f);
                out = quote!(#out.with_embedded(#fn_ident));
            }
            out
        }))
        .collect()
}

/// The constant that holds rule `j` of field `f`: the one definition the schema (`$jsonSchema`, the
/// update check) and the generated `validate_into` both use.
fn rule_const(cont: &Container<'_>, f: &Field<'_>, j: usize) -> Ident {
    let i = cont
        .fields
        .iter()
        .position(|g| std::ptr::eq(g, f))
        .expect("a field of the container");
    format_ident!("__RULE_{}_{}", i, j)
}

/// One constant per rule of every stored field (and, for a `regex`, the function that compiles it once).
fn rule_consts(cont: &Container<'_>) -> TokenStream {
    let p = quote!(::odm_core::__private);
    let mut out = TokenStream::new();
    for f in cont.fields.iter().filter(|f| f.is_stored()) {
        for (j, rule) in f.attrs.rules.iter().enumerate() {
            let name = rule_const(cont, f, j);
            let tokens = rule_tokens(f, &rule.kind, &name);
            if let RuleKind::Regex(lit) = &rule.kind {
                let compiled = format_ident!("{}_REGEX", name);
                out.extend(quote! {
                    #[allow(non_snake_case)]
                    fn #compiled() -> &'static #p::Regex {
                        static __RE: #p::LazyLock<#p::Regex> = #p::LazyLock::new(|| #p::compile(#lit));
                        &__RE
                    }
                });
            }
            out.extend(quote! {
                #[allow(dead_code)]
                const #name: #p::Rule = #tokens;
            });
        }
    }
    out
}

fn rule_tokens(f: &Field<'_>, kind: &RuleKind, name: &Ident) -> TokenStream {
    let p = quote!(::odm_core::__private);
    let rule = quote!(#p::Rule);
    match kind {
        RuleKind::Required => quote!(#rule::Required),
        RuleKind::Range { min, max } => {
            let min = opt(min.as_ref().map(f64_tokens));
            let max = opt(max.as_ref().map(f64_tokens));
            quote!(#rule::Range { min: #min, max: #max })
        }
        RuleKind::Length { min, max } => {
            let min = opt(min.map(Literal::usize_suffixed));
            let max = opt(max.map(Literal::usize_suffixed));
            quote!(#rule::Length { min: #min, max: #max })
        }
        RuleKind::Regex(lit) => {
            let compiled = format_ident!("{}_REGEX", name);
            quote!(#rule::Regex(#p::Pattern::new(#lit, #compiled)))
        }
        RuleKind::OneOf(values) => {
            let base = f.base();
            let literals = values.iter().map(|v| literal_tokens(base, v));
            quote!(#rule::OneOf(&[#(#literals),*]))
        }
        RuleKind::Email => quote!(#rule::Email),
        RuleKind::Custom(path) => {
            let text = crate::attr::path_name(path);
            quote!(#rule::Custom(#text))
        }
    }
}

/// A `one_of` value as the field stores it: an `f32` literal is the `f32` widened, as it is stored.
fn literal_tokens(base: Ty<'_>, e: &Expr) -> TokenStream {
    let p = quote!(::odm_core::__private);
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => {
            let b = b.value;
            return quote!(#p::Literal::Bool(#b));
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(_) | Lit::Char(_),
            ..
        }) => {
            let text = literal_text(e);
            return quote!(#p::Literal::Text(#text));
        }
        _ => {}
    }
    let Some(n) = crate::attr::number(e) else {
        let text = literal_text(e);
        return quote!(#p::Literal::Text(#text));
    };
    let float = f64_tokens(&n);
    let number = match (base, n.text.parse::<i64>()) {
        (Ty::Float("f32"), _) => quote!(#p::Number::Float(#float as f32 as f64)),
        (Ty::Float(_), _) | (_, Err(_)) => quote!(#p::Number::Float(#float)),
        (_, Ok(i)) => quote!(#p::Number::Int(#i)),
    };
    quote!(#p::Literal::Number(#number))
}

struct IndexDoc {
    keys: String,
    options: Vec<String>,
}

fn index_parts(cont: &Container<'_>) -> Vec<(TokenStream, IndexDoc)> {
    let key = quote!(::odm_core::__private::IndexKey);
    let mut out = Vec::new();
    let mut text_keys = Vec::new();
    // Every stored field, not the union of an enum's: an index is declared on one variant's field.
    for f in cont.fields.iter().filter(|f| f.is_stored()) {
        let ix = &f.attrs.index;
        let stored = &f.stored;
        if ix.text.is_some() {
            text_keys.push(stored.clone());
            continue;
        }
        if !ix.any() {
            continue;
        }
        let desc = ix.index.as_ref().is_some_and(|(_, d)| *d);
        let dir = if desc {
            quote!(#key::Desc)
        } else {
            quote!(#key::Asc)
        };
        let mut tokens = quote!(::odm_core::__private::IndexSchema::new(&[(#stored, #dir)]));
        let mut options = Vec::new();
        if ix.unique.is_some() {
            tokens = quote!(#tokens.unique());
            options.push("unique".to_owned());
        }
        if ix.sparse.is_some() {
            tokens = quote!(#tokens.sparse());
            options.push("sparse".to_owned());
        }
        if let Some((_, secs)) = ix.ttl {
            tokens = quote!(#tokens.expire_after_secs(#secs));
            options.push(format!("expires {secs} s after the date"));
        }
        let keys = format!("{{ {stored}: {} }}", if desc { -1 } else { 1 });
        out.push((tokens, IndexDoc { keys, options }));
    }
    if !text_keys.is_empty() {
        let pairs = text_keys.iter().map(|k| quote!((#k, #key::Text)));
        let tokens = quote!(::odm_core::__private::IndexSchema::new(&[#(#pairs),*]));
        let keys = text_keys
            .iter()
            .map(|k| format!("{k}: \"text\""))
            .collect::<Vec<_>>()
            .join(", ");
        out.push((
            tokens,
            IndexDoc {
                keys: format!("{{ {keys} }}"),
                options: vec!["text".to_owned()],
            },
        ));
    }
    for index in &cont.attrs.indexes {
        let mut pairs = Vec::new();
        let mut doc_keys = Vec::new();
        for lit in &index.fields {
            let spec = lit.value();
            let (name, desc) = match spec.strip_prefix('-') {
                Some(rest) => (rest.to_owned(), true),
                None => (spec.trim_start_matches('+').to_owned(), false),
            };
            let dir = if desc {
                quote!(#key::Desc)
            } else {
                quote!(#key::Asc)
            };
            doc_keys.push(format!("{name}: {}", if desc { -1 } else { 1 }));
            pairs.push(quote!((#name, #dir)));
        }
        let mut tokens = quote!(::odm_core::__private::IndexSchema::new(&[#(#pairs),*]));
        let mut options = Vec::new();
        if let Some(name) = &index.name {
            tokens = quote!(#tokens.named(#name));
            options.push(format!("named {}", code(&name.value())));
        }
        if index.unique {
            tokens = quote!(#tokens.unique());
            options.push("unique".to_owned());
        }
        if index.sparse {
            tokens = quote!(#tokens.sparse());
            options.push("sparse".to_owned());
        }
        if let Some(partial) = &index.partial {
            tokens = quote!(#tokens.partial_filter(#partial));
            options.push(format!("partial {}", code(&partial.value())));
        }
        out.push((
            tokens,
            IndexDoc {
                keys: format!("{{ {} }}", doc_keys.join(", ")),
                options,
            },
        ));
    }
    out
}

fn indexes(cont: &Container<'_>) -> Vec<TokenStream> {
    index_parts(cont).into_iter().map(|(t, _)| t).collect()
}

/// The generated body of `validate_into`, or nothing when the type has no rules.
fn validate_into(cont: &Container<'_>) -> TokenStream {
    let p = quote!(::odm_core::__private);
    let mut checks = Vec::new();
    match &cont.tagged {
        None => {
            for f in cont.stored() {
                // The member takes the rule's span, so a type error underlines the rule alone.
                checks.extend(field_checks(cont, f, &|span| {
                    let mut member = f.ident.clone();
                    member.set_span(span);
                    quote_spanned!(span=> self.#member)
                }));
            }
        }
        Some(tagged) => {
            let mut arms = Vec::new();
            let mut any = false;
            for v in &tagged.variants {
                let mut binds = Vec::new();
                let mut body = Vec::new();
                for f in cont.variant_fields(v) {
                    let binding = format_ident!("__f_{}", unraw(f.ident));
                    let field_body = field_checks(cont, f, &|span| {
                        let mut binding = binding.clone();
                        binding.set_span(span);
                        quote_spanned!(span=> *#binding)
                    });
                    if !field_body.is_empty() {
                        let member = f.ident;
                        binds.push(quote!(#member: #binding));
                        body.extend(field_body);
                    }
                }
                any |= !body.is_empty();
                let vi = v.ident;
                arms.push(quote!(Self::#vi { #(#binds,)* .. } => { #(#body)* }));
            }
            if any {
                checks.push(quote!(match self { #(#arms)* }));
            }
        }
    }
    if let Some(path) = &cont.attrs.validate {
        let what = format!("the whole `{}`", cont.ident);
        let call = quote_spanned! {path_span(path)=>
            let __r: ::core::result::Result<(), ::std::string::String> = #path(self);
        };
        checks.push(quote! {
            {
                #call
                #p::check_custom(__errors, __path, "", __r, || ::std::string::String::from(#what));
            }
        });
    }
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn validate_into(&self, __path: &str, __errors: &mut #p::ValidationErrors) {
            #(#checks)*
        }
    }
}

/// The checks of one field's rules and embedded document. `place(span)` is the field as a place
/// expression (`self.age`, `*__f_age`), spanned at the rule.
fn field_checks(
    cont: &Container<'_>,
    f: &Field<'_>,
    place: &dyn Fn(Span) -> TokenStream,
) -> Vec<TokenStream> {
    let p = quote!(::odm_core::__private);
    let stored = &f.stored;
    let mut checks = Vec::new();
    for (j, rule) in f.attrs.rules.iter().enumerate() {
        let span = rule.key.segments[0].ident.span();
        let mut member = place(span);
        let def = rule_const(cont, f, j);
        checks.push(match &rule.kind {
                RuleKind::Required => quote_spanned! {span=>
                    #p::check_required(__errors, __path, #stored, ::core::option::Option::is_some(&#member));
                },
                RuleKind::Range { .. } => quote_spanned! {span=>
                    #p::check_range(__errors, __path, #stored, &#member, &#def);
                },
                RuleKind::Length { .. } => quote_spanned! {span=>
                    #p::check_length(__errors, __path, #stored, &#member, &#def);
                },
                RuleKind::Regex(_) => quote_spanned! {span=>
                    #p::check_regex(__errors, __path, #stored, &#member, &#def);
                },
                RuleKind::Email => quote_spanned! {span=>
                    #p::check_email(__errors, __path, #stored, &#member, &#def);
                },
                RuleKind::OneOf(_) => quote_spanned! {span=>
                    #p::check_one_of(__errors, __path, #stored, &#member, &#def);
                },
                RuleKind::Custom(path) => {
                    member = place(path_span(path));
                    let call = quote_spanned! {path_span(path)=>
                        let __r: ::core::result::Result<(), ::std::string::String> = #path(&#member);
                    };
                    quote! {
                        {
                            #call
                            #p::check_custom(__errors, __path, #stored, __r, || {
                                #[allow(unused_imports)]
                                use #p::{DescribeAny as _, DescribeDebug as _};
                                (&#p::Describe(&#member)).describe_value()
                            });
                        }
                    }
                }
            });
    }
    if let (Some(nested), Some((elem, shape))) = (&f.attrs.nested, f.embedded_type()) {
        let span = nested.segments[0].ident.span();
        let member = place(f.ident.span());
        let call = |value: TokenStream, list: bool| {
            if list {
                quote_spanned!(span=> #p::validate_embedded_list::<#elem>(__errors, __path, #stored, #value);)
            } else {
                quote_spanned!(span=> #p::validate_embedded::<#elem>(__errors, __path, #stored, #value);)
            }
        };
        checks.push(match shape {
            Shape::One => call(quote!(&#member), false),
            Shape::List => call(quote!(&#member), true),
            Shape::Option | Shape::OptionList => {
                let c = call(quote!(__v), shape == Shape::OptionList);
                quote!(if let ::core::option::Option::Some(__v) = &#member { #c })
            }
        });
    }
    checks
}

fn path_span(path: &syn::Path) -> Span {
    path.segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span())
}

// ---- documentation ----

fn code(text: &str) -> String {
    // Inside a Markdown table, `|` ends a cell even within backticks.
    format!("`{}`", text.replace('|', "\\|"))
}

fn num_text(n: &Num) -> String {
    n.text.clone()
}

fn rule_doc(kind: &RuleKind) -> String {
    let bounds = |min: Option<String>, max: Option<String>| {
        let mut parts = Vec::new();
        if let Some(min) = min {
            parts.push(format!("min = {min}"));
        }
        if let Some(max) = max {
            parts.push(format!("max = {max}"));
        }
        parts.join(", ")
    };
    match kind {
        RuleKind::Required => "required".to_owned(),
        RuleKind::Range { min, max } => {
            format!(
                "range({})",
                bounds(min.as_ref().map(num_text), max.as_ref().map(num_text))
            )
        }
        RuleKind::Length { min, max } => {
            format!(
                "length({})",
                bounds(min.map(|n| n.to_string()), max.map(|n| n.to_string()))
            )
        }
        RuleKind::Regex(lit) => format!("regex {}", code(&lit.value())),
        RuleKind::OneOf(values) => {
            let list: Vec<String> = values.iter().map(|v| code(&literal_text(v))).collect();
            format!("one of {}", list.join(", "))
        }
        RuleKind::Email => "email".to_owned(),
        RuleKind::Custom(path) => format!("validate = {}", code(&crate::attr::path_name(path))),
    }
}

fn field_rules_doc(f: &Field<'_>) -> Vec<String> {
    let mut out: Vec<String> = f.attrs.rules.iter().map(|r| rule_doc(&r.kind)).collect();
    if let Some(elem) = nested_type(f) {
        out.push(format!("nested {}", code(&type_string(elem))));
    }
    let ix = &f.attrs.index;
    if ix.text.is_some() {
        out.push("text index".to_owned());
    } else if ix.any() {
        let mut index = String::from(if ix.unique.is_some() {
            "unique index"
        } else {
            "index"
        });
        if ix.index.as_ref().is_some_and(|(_, d)| *d) {
            index.push_str(" (descending)");
        }
        if ix.sparse.is_some() {
            index.push_str(", sparse");
        }
        if let Some((_, secs)) = ix.ttl {
            index.push_str(&format!(", expires {secs} s after the date"));
        }
        out.push(index);
    }
    out
}

/// For an enum's union field, the variants that store it, as "in `Click`, `View`".
fn variants_doc(cont: &Container<'_>, f: &Field<'_>) -> Option<String> {
    let tagged = cont.tagged.as_ref()?;
    let names: Vec<String> = tagged
        .variants
        .iter()
        .filter(|v| cont.variant_fields(v).any(|g| g.stored == f.stored))
        .map(|v| format!("`{}`", v.ident))
        .collect();
    Some(if names.len() == tagged.variants.len() {
        "in every kind".to_owned()
    } else {
        format!("in {} only", names.join(", "))
    })
}

fn member_doc(cont: &Container<'_>, f: &Field<'_>) -> String {
    let mut doc = format!(
        "`{}`, stored as `{}`: `{}`",
        unraw(f.ident),
        f.stored,
        type_string(f.ty)
    );
    if let Some(variants) = variants_doc(cont, f) {
        doc.push_str(&format!(", {variants}"));
    }
    let rules = field_rules_doc(f);
    if !rules.is_empty() {
        // Outside a table, `|` needs no escape.
        doc.push_str(&format!("; {}", rules.join(", ").replace("\\|", "|")));
    }
    doc.push('.');
    doc
}

fn fields_table(cont: &Container<'_>) -> String {
    let mut doc =
        String::from("| Field | Stored as | Type | Rules and indexes |\n|---|---|---|---|\n");
    if let Some(tagged) = &cont.tagged {
        doc.push_str(&format!(
            "| `{}` | `{}` | `{}Kind` | the tag |\n",
            unraw(&tagged.tag_member),
            tagged.tag,
            cont.ident
        ));
    }
    for f in cont.stored() {
        doc.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            unraw(f.ident),
            f.stored,
            code(&type_string(f.ty)),
            field_rules_doc(f).join(", ")
        ));
    }
    doc
}

fn model_doc(cont: &Container<'_>, collection: &str) -> String {
    let ident = cont.ident;
    let mut doc = format!(
        "Typed paths to the stored fields of `{ident}`, from `{ident}::fields()`: filters, updates, sorts and projections.\n\n\
         # Schema of `{ident}`\n\n\
         Stored in the collection `{collection}`.\n\n"
    );
    doc.push_str(&fields_table(cont));
    if let Some(tagged) = &cont.tagged {
        doc.push_str(&format!(
            "\n## Kinds\n\nEach document stores its kind in `{}`; a field stored by some kinds only may be absent.\n\n\
             | Variant | `{}` | Fields (rules) |\n|---|---|---|\n",
            tagged.tag, tagged.tag
        ));
        for v in &tagged.variants {
            let fields: Vec<String> = cont
                .variant_fields(v)
                .map(|f| {
                    let rules = field_rules_doc(f);
                    if rules.is_empty() {
                        code(&f.stored)
                    } else {
                        format!("{} ({})", code(&f.stored), rules.join(", "))
                    }
                })
                .collect();
            doc.push_str(&format!(
                "| `{}::{}` | {} | {} |\n",
                ident,
                v.ident,
                code(&format!("\"{}\"", v.tag_value)),
                fields.join(", ")
            ));
        }
    }
    if let Some(ts) = &cont.attrs.timestamps {
        doc.push_str(&format!(
            "\nTimestamps: `{}` is set on insert, `{}` on insert and on every update.\n",
            ts.created_at, ts.updated_at
        ));
    }
    if cont.attrs.version.is_some() {
        doc.push_str("\nVersioned: `__v` holds the document's version.\n");
    }
    if let Some(path) = &cont.attrs.validate {
        doc.push_str(&format!(
            "\nWhole-document rule: {}.\n",
            code(&crate::attr::path_name(path))
        ));
    }
    let indexes = index_parts(cont);
    if !indexes.is_empty() {
        doc.push_str("\n## Indexes\n\n| Keys | Options |\n|---|---|\n");
        for (_, ix) in indexes {
            doc.push_str(&format!(
                "| {} | {} |\n",
                code(&ix.keys),
                ix.options.join(", ")
            ));
        }
    }
    doc
}

fn embedded_doc(cont: &Container<'_>) -> String {
    let ident = cont.ident;
    let mut doc = format!(
        "Typed paths to the fields of the embedded document `{ident}`, below the field of model `M` that holds it.\n\n\
         # Schema of `{ident}`\n\n"
    );
    doc.push_str(&fields_table(cont));
    if let Some(path) = &cont.attrs.validate {
        doc.push_str(&format!(
            "\nWhole-document rule: {}.\n",
            code(&crate::attr::path_name(path))
        ));
    }
    doc
}
