//! The generated `validate_into`: every field's rules and embedded documents, checked before a write.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::fields::*;
use super::schema::*;
use crate::ast::{Container, Field, Shape};
use crate::attr::RuleKind;

/// The generated body of `validate_into`, or nothing when the type has no rules.
pub(super) fn validate_into(cont: &Container<'_>) -> TokenStream {
    let p = quote!(__odm);
    let mut checks = Vec::new();
    match cont.tagged() {
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
pub(super) fn field_checks(
    cont: &Container<'_>,
    f: &Field<'_>,
    place: &dyn Fn(Span) -> TokenStream,
) -> Vec<TokenStream> {
    let p = quote!(__odm);
    let stored = &f.stored;
    let mut checks = Vec::new();
    for (j, rule) in f.attrs.rules.iter().enumerate() {
        let span = rule.key.segments[0].ident.span();
        let mut member = place(span);
        let def = rule_ref(cont, f, j);
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

pub(super) fn path_span(path: &syn::Path) -> Span {
    path.segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span())
}
