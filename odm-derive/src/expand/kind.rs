//! The `{Name}Kind` enum of an enum model: its kinds, serialized as the tag's values.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use crate::ast::{Container, Tagged};

/// The `{Name}Kind` enum of an enum model: one unit variant per kind, serialized as the tag's value;
/// its impls; and `{Name}::kind()`.
pub(super) fn kind_enum(
    cont: &Container<'_>,
    tagged: &Tagged<'_>,
) -> (TokenStream, TokenStream, TokenStream) {
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
    let serde = quote!(__odm::serde);
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
