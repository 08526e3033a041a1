//! The typed field paths: the public `{Name}Fields` struct, its impls, and the functions that reach an
//! embedded document's schema.

use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens as _};
use syn::Ident;

use super::text::{str_lit, Code, Mixed};

use super::docs::*;
use crate::ast::{Container, Field};

/// The typed field paths: the public struct, its `Debug` impl, and the trait's associated type and
/// constructor.
pub(super) struct FieldsParts {
    pub(super) decl: TokenStream,
    pub(super) impls: TokenStream,
    pub(super) assoc: TokenStream,
}

pub(super) fn model_fields(cont: &Container<'_>) -> FieldsParts {
    let ident = cont.ident;
    let vis = &cont.input.vis;
    let fields_ident = format_ident!("{}Fields", ident);
    let mut members = Mixed::default();
    let mut inits: Vec<TokenStream> = Vec::new();
    if let Some(tagged) = cont.tagged() {
        let member = &tagged.tag_member;
        let tag = &tagged.tag;
        let kind = format_ident!("{}Kind", ident);
        let doc = format!(
            "The tag, stored as `{tag}`: which kind of `{ident}` the document is (`{kind}`)."
        );
        let _ = write!(
            members,
            "#[doc = {}] pub {member}: ::odm_core::Field<{ident}, {kind}>,",
            str_lit(&doc)
        );
        inits.push(quote!(#member: ::odm_core::Field::new(#tag),));
    }
    stored_members(cont, &ident.to_string(), &mut members);
    let members = members.into_tokens();
    inits.extend(path_inits(
        cont,
        |elem, stored| quote!(#elem::fields_at::<#ident>(#stored)),
        "::odm_core::Field::new(",
    ));
    let doc = model_doc(cont, &cont.collection());
    FieldsParts {
        decl: quote! {
            #[doc = #doc]
            #vis struct #fields_ident {
                #members
            }
        },
        impls: debug_impl(cont, &fields_ident, false),
        assoc: quote! {
            type Fields = #fields_ident;

            fn fields() -> #fields_ident {
                #fields_ident { #(#inits)* }
            }
        },
    }
}

pub(super) fn embedded_fields(cont: &Container<'_>) -> FieldsParts {
    let vis = &cont.input.vis;
    let fields_ident = format_ident!("{}Fields", cont.ident);
    let empty = cont.stored().next().is_none();
    let mut members = Mixed::default();
    stored_members(cont, "M", &mut members);
    let mut inits = path_inits(
        cont,
        |elem, stored| quote!(#elem::fields_at::<M>(&__odm::join_path(prefix, #stored))),
        "::odm_core::Field::nested(prefix, ",
    );
    let prefix = if empty {
        members.push_str("__model: ::core::marker::PhantomData<fn() -> M>,");
        inits.push(quote!(__model: ::core::marker::PhantomData,));
        quote!(_prefix)
    } else {
        quote!(prefix)
    };
    let members = members.into_tokens();
    let doc = embedded_doc(cont);
    FieldsParts {
        decl: quote! {
            #[doc = #doc]
            #vis struct #fields_ident<M> {
                #members
            }
        },
        impls: debug_impl(cont, &fields_ident, true),
        assoc: quote! {
            type Fields<M> = #fields_ident<M>;

            fn fields_at<M>(#prefix: &str) -> #fields_ident<M> {
                #fields_ident { #(#inits)* }
            }
        },
    }
}

/// The constructor's `member: path,` of every stored field: a nested field's from `nested(<Elem as
/// Embedded>, stored name)`, as tokens (it names the type); the others as text (see `text`), each
/// `{plain}"stored name")`.
fn path_inits(
    cont: &Container<'_>,
    nested: impl Fn(TokenStream, &str) -> TokenStream,
    plain: &str,
) -> Vec<TokenStream> {
    let mut inits = Vec::new();
    let mut text = Code::default();
    for f in cont.stored() {
        let member = f.ident;
        match as_embedded(f) {
            Some(elem) => {
                let path = nested(elem, &f.stored);
                inits.push(quote!(#member: #path,));
            }
            None => {
                let _ = write!(text, "{member}: {plain}{}),", str_lit(&f.stored));
            }
        }
    }
    inits.push(text.into_tokens());
    inits
}

/// The type that derives `Embedded` for a `nested` field.
pub(super) fn nested_type<'a>(f: &Field<'a>) -> Option<&'a syn::Type> {
    f.attrs.nested.as_ref()?;
    f.embedded_type().map(|(t, _)| t)
}

/// `<Elem as Embedded>` for a `nested` field, spanned at `nested` so that, when `Elem` does not implement
/// `Embedded`, every use reports at the attribute (and the compiler folds the repeats).
pub(super) fn as_embedded(f: &Field<'_>) -> Option<TokenStream> {
    let span = f.attrs.nested.as_ref()?.segments[0].ident.span();
    let elem = nested_type(f)?;
    let mut elem_tokens = TokenStream::new();
    for mut tt in quote!(#elem) {
        tt.set_span(span);
        elem_tokens.extend([tt]);
    }
    Some(quote_spanned!(span=> <#elem_tokens as ::odm_core::Embedded>))
}

/// `#[doc = ".."] pub member: Type,` for every stored field, `model` being the model's type: a nested
/// field's `<Elem as Embedded>::Fields<model>` as tokens (spanned at `nested`), the rest as text.
fn stored_members(cont: &Container<'_>, model: &str, out: &mut Mixed) {
    for f in cont.stored() {
        let _ = write!(
            out,
            "#[doc = {}] pub {}: ",
            str_lit(&member_doc(cont, f)),
            f.ident
        );
        match as_embedded(f) {
            Some(elem) => {
                out.push_tokens(quote!(#elem::Fields));
                let _ = write!(out, "<{model}");
            }
            None => {
                let _ = write!(out, "::odm_core::Field<{model}, ");
                out.push_text_or(f.type_code.as_deref(), || f.ty.to_token_stream());
            }
        }
        let _ = write!(out, ">,");
    }
}

/// The `Debug` impl of the typed paths (text: it names no type of the input).
pub(super) fn debug_impl(cont: &Container<'_>, fields_ident: &Ident, generic: bool) -> TokenStream {
    let mut members: Vec<&Ident> = cont.tagged().into_iter().map(|t| &t.tag_member).collect();
    members.extend(cont.stored().map(|f| f.ident));
    let generics = if generic { "<M>" } else { "" };
    let mut code = Code::default();
    let _ = write!(
        code,
        "#[automatically_derived] impl{generics} ::core::fmt::Debug for {fields_ident}{generics} {{ \
         fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{ \
         f.debug_struct({})",
        str_lit(&fields_ident.to_string())
    );
    for member in members {
        let _ = write!(code, ".field({}, &self.{member})", str_lit(&unraw(member)));
    }
    code.push_str(".finish() } }");
    code.into_tokens()
}

pub(super) fn embedded_fn_ident(f: &Field<'_>) -> Ident {
    format_ident!("__embedded_{}", unraw(f.ident))
}

/// An identifier without its `r#`.
pub(super) fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
}

/// One function per `nested` field returning the embedded type's fields (`FieldSchema::embedded`).
pub(super) fn embedded_fns(cont: &Container<'_>) -> TokenStream {
    cont.stored()
        .filter_map(|f| {
            let elem = as_embedded(f)?;
            let fn_ident = embedded_fn_ident(f);
            Some(quote! {
                fn #fn_ident() -> &'static [__odm::FieldSchema] {
                    #elem::FIELDS
                }
            })
        })
        .collect()
}
