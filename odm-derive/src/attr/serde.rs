//! The one reader of `#[serde(...)]`: the keys that decide what is stored (names, skipped and flattened
//! fields, the enum's tagging) and whether the generated decoder can follow serde's decoding.
//!
//! serde checks its own attributes, so nothing here reports an error: a key this module does not know
//! only means the generated decoder leaves the type to serde.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit, LitStr, Path, Token};

use super::{skip_value, ungroup};
use crate::case::RenameRule;
use crate::symbol::*;

/// serde's attributes on the struct or enum.
#[derive(Default)]
pub struct Container {
    pub rename_all: Option<RenameRule>,
    /// `rename_all_fields`: on an enum, the casing of every variant's fields.
    pub rename_all_fields: Option<RenameRule>,
    /// `tag = ".."`: the enum is internally tagged, with the tag stored under this name.
    pub tag: Option<LitStr>,
    /// `content`: the enum is adjacently tagged; the key, for spans.
    pub content: Option<Path>,
    /// `untagged`; the key, for spans.
    pub untagged: Option<Path>,
    /// The generated decoder follows every key: `rename` (the type's name only) and `rename_all = ".."`
    /// (already in the stored names). Anything else (`deny_unknown_fields`, `default`, `from`,
    /// `transparent`, a split `rename_all(..)`) leaves decoding to serde.
    pub decodable: bool,
}

/// serde's attributes on an enum's variant.
#[derive(Default)]
pub struct Variant {
    /// `rename`: the tag value.
    pub rename: Option<String>,
    /// `rename_all`: the casing of the variant's fields.
    pub rename_all: Option<RenameRule>,
}

/// serde's attributes on a field.
pub struct Field {
    /// The serialize-side name of `rename`.
    pub rename: Option<String>,
    /// `skip` or `skip_serializing`: never stored.
    pub skip: bool,
    /// `skip` or `skip_deserializing`: never read.
    pub skip_deserializing: bool,
    pub skip_serializing_if: bool,
    pub flatten: bool,
    /// `with`/`serialize_with`: the stored form is not the Rust type's.
    pub custom_serde: bool,
    /// `default` or `default = "path"`: the value of a missing field, as an expression.
    pub default: Option<TokenStream>,
    /// The generated decoder follows every key: `rename = ".."`, `skip`, `skip_deserializing`,
    /// `default`, and the serialize-only ones. Anything else (`alias`, `flatten`, `with`,
    /// `deserialize_with`, a split `rename(..)`, ...) leaves decoding to serde.
    pub decodable: bool,
}

/// Calls `key` on every key of every `#[serde(...)]` attribute in `attrs`; returns whether all of them
/// parsed. A key that fails to parse ends its attribute, as it does for serde.
fn each_key(
    attrs: &[syn::Attribute],
    mut key: impl FnMut(&ParseNestedMeta<'_>, Key) -> syn::Result<()>,
) -> bool {
    let mut ok = true;
    for attr in attrs.iter().filter(|a| a.path() == SERDE) {
        ok &= attr
            .parse_nested_meta(|meta| key(&meta, Key::of(&meta.path)))
            .is_ok();
    }
    ok
}

impl Container {
    pub fn from_attrs(attrs: &[syn::Attribute]) -> Self {
        let mut out = Container::default();
        let mut decodable = true;
        let parsed = each_key(attrs, |meta, name| {
            decodable &= name == RENAME || (name == RENAME_ALL && meta.input.peek(Token![=]));
            if name == RENAME_ALL {
                if let Some(rule) = serialize_name(meta)? {
                    out.rename_all = RenameRule::from_str(&rule);
                }
            } else if name == RENAME_ALL_FIELDS {
                if let Some(rule) = serialize_name(meta)? {
                    out.rename_all_fields = RenameRule::from_str(&rule);
                }
            } else if name == TAG {
                if meta.input.peek(Token![=]) {
                    if let Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) = ungroup(meta.value()?.parse()?)
                    {
                        out.tag = Some(s);
                    }
                }
            } else if name == CONTENT {
                out.content = Some(meta.path.clone());
                skip_value(meta)?;
            } else if name == UNTAGGED {
                out.untagged = Some(meta.path.clone());
                skip_value(meta)?;
            } else {
                skip_value(meta)?;
            }
            Ok(())
        });
        out.decodable = decodable && parsed;
        out
    }
}

impl Variant {
    pub fn from_attrs(attrs: &[syn::Attribute]) -> Self {
        let mut out = Variant::default();
        each_key(attrs, |meta, name| {
            if name == RENAME {
                out.rename = serialize_name(meta)?;
            } else if name == RENAME_ALL {
                if let Some(rule) = serialize_name(meta)? {
                    out.rename_all = RenameRule::from_str(&rule);
                }
            } else {
                skip_value(meta)?;
            }
            Ok(())
        });
        out
    }
}

impl Field {
    pub fn from_attrs(attrs: &[syn::Attribute]) -> Self {
        let mut out = Field {
            rename: None,
            skip: false,
            skip_deserializing: false,
            skip_serializing_if: false,
            flatten: false,
            custom_serde: false,
            default: None,
            decodable: true,
        };
        let parsed = each_key(attrs, |meta, name| {
            if name == RENAME {
                out.decodable &= meta.input.peek(Token![=]);
                if let Some(stored) = serialize_name(meta)? {
                    out.rename = Some(stored);
                }
                return Ok(());
            }
            if name == DEFAULT {
                out.default = Some(quote!(::core::default::Default::default()));
                if meta.input.peek(Token![=]) {
                    let expr: Expr = meta.value()?.parse()?;
                    out.default = match ungroup(expr) {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(path),
                            ..
                        }) => path.parse::<syn::ExprPath>().ok().map(|p| quote!(#p())),
                        _ => None,
                    };
                    out.decodable &= out.default.is_some();
                }
                return Ok(());
            }
            if name == SKIP {
                out.skip = true;
                out.skip_deserializing = true;
            } else if name == SKIP_SERIALIZING {
                out.skip = true;
            } else if name == SKIP_DESERIALIZING {
                out.skip_deserializing = true;
            } else if name == SKIP_SERIALIZING_IF {
                out.skip_serializing_if = true;
            } else if name == FLATTEN {
                out.flatten = true;
                out.decodable = false;
            } else if name == WITH {
                out.custom_serde = true;
                out.decodable = false;
            } else if name == SERIALIZE_WITH {
                out.custom_serde = true;
            } else {
                out.decodable = false;
            }
            skip_value(meta)
        });
        out.decodable &= parsed;
        out
    }
}

/// The serialize-side name of `rename = ".."` or `rename(serialize = "..")`.
fn serialize_name(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<String>> {
    if meta.input.peek(Token![=]) {
        let expr: Expr = meta.value()?.parse()?;
        if let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = ungroup(expr)
        {
            return Ok(Some(s.value()));
        }
        return Ok(None);
    }
    let mut name = None;
    if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| {
            if inner.path == SERIALIZE {
                let expr: Expr = inner.value()?.parse()?;
                if let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = ungroup(expr)
                {
                    name = Some(s.value());
                }
                Ok(())
            } else {
                skip_value(&inner)
            }
        })?;
    }
    Ok(name)
}
