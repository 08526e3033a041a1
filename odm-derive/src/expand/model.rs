//! The `Model` methods that read or write the document's own fields (`id`, `set_id`, `touch`, `version`,
//! `set_version`), and `hooks`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{Ident, Path};

use crate::ast::Container;
use crate::attr::Timestamps;
use crate::symbol::{ID, VERSION_KEY};

/// `id` and `set_id`, through the field stored as `_id` (of whichever variant the value is).
pub(super) fn id_fns(cont: &Container<'_>) -> TokenStream {
    let type_name = cont.ident.to_string();
    match cont.tagged() {
        None => {
            let id = cont.stored_field(ID.0).expect("checked").ident;
            quote! {
                fn id(&self) -> __odm::Result<__odm::bson::Bson> {
                    __odm::id_to_bson(#type_name, &self.#id)
                }

                fn set_id(&mut self, id: __odm::bson::Bson) -> __odm::Result<()> {
                    self.#id = __odm::id_from_bson(#type_name, id)?;
                    ::core::result::Result::Ok(())
                }
            }
        }
        Some(tagged) => {
            let arms: Vec<(&Ident, &Ident)> = tagged
                .variants
                .iter()
                .map(|v| {
                    let id = cont
                        .variant_fields(v)
                        .find(|f| f.stored == ID.0)
                        .expect("checked")
                        .ident;
                    (v.ident, id)
                })
                .collect();
            let get = arms.iter().map(|(v, id)| {
                quote!(Self::#v { #id: __id, .. } => __odm::id_to_bson(#type_name, __id),)
            });
            let set = arms.iter().map(|(v, id)| {
                quote!(Self::#v { #id: __id, .. } => *__id = __odm::id_from_bson(#type_name, __new_id)?,)
            });
            quote! {
                fn id(&self) -> __odm::Result<__odm::bson::Bson> {
                    match self { #(#get)* }
                }

                fn set_id(&mut self, __new_id: __odm::bson::Bson) -> __odm::Result<()> {
                    match self { #(#set)* }
                    ::core::result::Result::Ok(())
                }
            }
        }
    }
}

/// `touch`: stamps the timestamp fields.
pub(super) fn touch_fn(cont: &Container<'_>, ts: &Timestamps) -> TokenStream {
    let created = cont.stored_field(&ts.created_at).expect("checked").ident;
    let updated = cont.stored_field(&ts.updated_at).expect("checked").ident;
    let set = quote!(__odm::TimestampField::set_timestamp);
    let body = match cont.tagged() {
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
    quote! {
        fn touch(&mut self, now: __odm::bson::DateTime, created: bool) {
            #body
        }
    }
}

/// `version` and `set_version`, through the field stored as `__v`.
pub(super) fn version_fns(cont: &Container<'_>) -> TokenStream {
    let v = cont.stored_field(VERSION_KEY.0).expect("checked").ident;
    let p = quote!(__odm::VersionField);
    let (get, put) = match cont.tagged() {
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
    quote! {
        fn version(&self) -> ::core::option::Option<i64> {
            #get
        }
        fn set_version(&mut self, version: i64) {
            #put
        }
    }
}

/// `hooks`, for `#[model(hooks)]`; `key` is that key.
pub(super) fn hooks_fn(key: &Path) -> TokenStream {
    // Spanned at `hooks`: a model without `impl Hooks` gets the error there.
    let span = key.segments[0].ident.span();
    let hooks_of = quote_spanned!(span=> __odm::hooks_of::<Self>());
    quote! {
        fn hooks() -> ::core::option::Option<&'static dyn __odm::DynHooks<Self>> {
            ::core::option::Option::Some(#hooks_of)
        }
    }
}
