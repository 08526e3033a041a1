//! The schema as `'static` data: one `FieldSchema` per stored field, one constant per rule (the one
//! definition the client-side check, the update check and the `$jsonSchema` share), the indexes.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::{Expr, ExprLit, Ident, Lit};

use super::defaults::{default_bson_fn_ident, default_text};
use super::docs::*;
use super::fields::*;
use crate::ast::{Container, Field};
use crate::attr::{Num, RuleKind};
use crate::symbol::{DELETED_AT, VERSION_KEY};
use crate::ty::{self, type_string, Ty};

pub(super) fn field_schemas(cont: &Container<'_>) -> Vec<TokenStream> {
    let p = quote!(__odm);
    let tag = cont.tagged().map(|tagged| {
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
    let variants = cont.tagged().map_or(0, |t| t.variants.len());
    tag.into_iter()
        .chain(cont.stored().map(|f| {
            let ident = unraw(f.ident);
            let stored = &f.stored;
            let rust_type = type_string(f.ty);
            let mut out = quote!(__odm::FieldSchema::new(#ident, #stored, #rust_type));
            let rules: Vec<Ident> = shared_rules(cont, f)
                .into_iter()
                .map(|j| rule_const(cont, f, j))
                .collect();
            if !rules.is_empty() {
                out = quote!(#out.with_rules(&[#(#rules),*]));
            }
            let nested = nested_type(f).is_some();
            let base = f.base();
            let bson_type = if f.serde.custom_serde {
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
            if f.attrs.immutable.is_some() {
                out = quote!(#out.immutable());
            }
            if f.attrs.hidden.is_some() {
                out = quote!(#out.hidden());
            }
            if let (Some((_, expr)), true) = (&f.attrs.default, f.is_option()) {
                let text = default_text(expr);
                let value = default_bson_fn_ident(f);
                out = quote!(#out.with_default(#p::FieldDefault::new(#text, #value)));
            }
            let in_some_variants = variants > 0 && cont.variants_storing(&f.stored) < variants;
            // A field serde fills in when it is absent (`default`) may be missing from a stored
            // document, as one skipped when serialized may: neither is required by `$jsonSchema`, so
            // documents of an older shape stay valid.
            if f.serde.skip_serializing_if || f.serde.default.is_some() || in_some_variants {
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

/// The rules of the union field `f` of an enum that hold for every document: those every variant storing
/// the name declares, and `required` only when every variant stores it. For a struct, its rules.
pub(super) fn shared_rules(cont: &Container<'_>, f: &Field<'_>) -> Vec<usize> {
    let Some(tagged) = cont.tagged() else {
        return (0..f.attrs.rules.len()).collect();
    };
    let everywhere = cont.variants_storing(&f.stored) == tagged.variants.len();
    let others: Vec<&Field<'_>> = cont
        .fields()
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

/// The constant that holds rule `j` of field `f`: the one definition the schema (`$jsonSchema`, the
/// update check) and the generated `validate_into` both use.
pub(super) fn rule_const(cont: &Container<'_>, f: &Field<'_>, j: usize) -> Ident {
    let i = cont
        .fields()
        .position(|g| std::ptr::eq(g, f))
        .expect("a field of the container");
    format_ident!("__RULE_{}_{}", i, j)
}

/// One constant per rule of every stored field (and, for a `regex`, the function that compiles it once).
pub(super) fn rule_consts(cont: &Container<'_>) -> TokenStream {
    let p = quote!(__odm);
    let mut out = TokenStream::new();
    for f in cont.fields().filter(|f| f.is_stored()) {
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

pub(super) fn rule_tokens(f: &Field<'_>, kind: &RuleKind, name: &Ident) -> TokenStream {
    let p = quote!(__odm);
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
pub(super) fn literal_tokens(base: Ty<'_>, e: &Expr) -> TokenStream {
    let p = quote!(__odm);
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

pub(super) fn f64_tokens(n: &Num) -> TokenStream {
    let lit = Literal::f64_suffixed(n.value.abs());
    if n.value < 0.0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

pub(super) fn opt<T: quote::ToTokens>(v: Option<T>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// A `one_of` value as text: a string without quotes, a number as written.
pub(super) fn literal_text(e: &Expr) -> String {
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

pub(super) struct IndexDoc {
    pub(super) keys: String,
    pub(super) options: Vec<String>,
}

pub(super) fn index_parts(cont: &Container<'_>) -> Vec<(TokenStream, IndexDoc)> {
    let key = quote!(__odm::IndexKey);
    let mut out = Vec::new();
    let mut text_keys = Vec::new();
    // Every stored field, not the union of an enum's: an index is declared on one variant's field.
    for f in cont.fields().filter(|f| f.is_stored()) {
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
        let mut tokens = quote!(__odm::IndexSchema::new(&[(#stored, #dir)]));
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
        let tokens = quote!(__odm::IndexSchema::new(&[#(#pairs),*]));
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
        let mut tokens = quote!(__odm::IndexSchema::new(&[#(#pairs),*]));
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

pub(super) fn indexes(cont: &Container<'_>) -> Vec<TokenStream> {
    index_parts(cont).into_iter().map(|(t, _)| t).collect()
}

/// The `Schema` constant's expression: name, collection, fields, indexes, and what the model's options
/// add (timestamps, version, tag).
pub(super) fn schema_expr(cont: &Container<'_>) -> TokenStream {
    let type_name = cont.ident.to_string();
    let collection = cont.collection();
    let mut schema =
        quote!(__odm::Schema::new(#type_name, #collection, __FIELDS).with_indexes(__INDEXES));
    if let Some(ts) = &cont.attrs.timestamps {
        let (c, u) = (&ts.created_at, &ts.updated_at);
        schema = quote!(#schema.with_timestamps(#c, #u));
    }
    if cont.attrs.version.is_some() {
        let v = VERSION_KEY.0;
        schema = quote!(#schema.with_version(#v));
    }
    if let Some(tagged) = cont.tagged() {
        let tag = &tagged.tag;
        schema = quote!(#schema.with_tag(#tag));
    }
    if cont.attrs.settings.any() {
        let settings = settings_expr(&cont.attrs.settings);
        schema = quote!(#schema.with_settings(|| {
            static SETTINGS: __odm::LazyLock<__odm::Settings> =
                __odm::LazyLock::new(|| #settings);
            &SETTINGS
        }));
    }
    if let Some((_, fields)) = &cont.attrs.shard_key {
        schema = quote!(#schema.with_shard_key(&[#(#fields),*]));
    }
    if cont.attrs.soft_delete.is_some() {
        let d = DELETED_AT.0;
        schema = quote!(#schema.with_soft_delete(#d));
    }
    schema
}

/// The model's default `Settings`, built from the driver's types on first use.
fn settings_expr(settings: &crate::attr::settings::Settings) -> TokenStream {
    use crate::attr::settings::W;
    let p = quote!(__odm);
    let mut out = quote!(#p::Settings::new());
    if let Some(read) = &settings.read {
        let mode = match read.as_str() {
            "primary" => quote!(#p::ReadPreference::Primary),
            "primaryPreferred" => quote!(#p::ReadPreference::PrimaryPreferred { options: None }),
            "secondary" => quote!(#p::ReadPreference::Secondary { options: None }),
            "secondaryPreferred" => {
                quote!(#p::ReadPreference::SecondaryPreferred { options: None })
            }
            _ => quote!(#p::ReadPreference::Nearest { options: None }),
        };
        out = quote!(#out.read_preference(#mode));
    }
    if let Some(level) = &settings.read_concern {
        let concern = match level.as_str() {
            "local" => quote!(#p::ReadConcern::local()),
            "available" => quote!(#p::ReadConcern::available()),
            "linearizable" => quote!(#p::ReadConcern::linearizable()),
            _ => quote!(#p::ReadConcern::majority()),
        };
        out = quote!(#out.read_concern(#concern));
    }
    if let Some(wc) = &settings.write_concern {
        let mut concern = quote!(#p::WriteConcern::default());
        let mut parts = Vec::new();
        if let Some(w) = &wc.w {
            let w = match w {
                W::Majority => quote!(#p::Acknowledgment::Majority),
                W::Nodes(n) => quote!(#p::Acknowledgment::Nodes(#n)),
                W::Tag(t) => quote!(#p::Acknowledgment::Custom(::std::string::String::from(#t))),
            };
            parts.push(quote!(concern.w = Some(#w);));
        }
        if let Some(j) = wc.journal {
            parts.push(quote!(concern.journal = Some(#j);));
        }
        if let Some(ms) = wc.timeout_ms {
            parts.push(quote!(concern.w_timeout = Some(::std::time::Duration::from_millis(#ms));));
        }
        concern = quote!({ let mut concern = #concern; #(#parts)* concern });
        out = quote!(#out.write_concern(#concern));
    }
    if let Some(c) = &settings.collation {
        let locale = &c.locale;
        let mut collation = quote!(#p::Collation::builder().locale(#locale));
        if let Some(strength) = c.strength {
            let level = match strength {
                1 => quote!(Primary),
                2 => quote!(Secondary),
                3 => quote!(Tertiary),
                4 => quote!(Quaternary),
                _ => quote!(Identical),
            };
            collation = quote!(#collation.strength(#p::CollationStrength::#level));
        }
        if c.case_level {
            collation = quote!(#collation.case_level(true));
        }
        if c.numeric_ordering {
            collation = quote!(#collation.numeric_ordering(true));
        }
        out = quote!(#out.collation(#collation.build()));
    }
    if let Some(ms) = settings.max_time_ms {
        out = quote!(#out.max_time(::std::time::Duration::from_millis(#ms)));
    }
    out
}
