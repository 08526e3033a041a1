//! The schema as `'static` data: one `FieldSchema` per stored field, one constant per rule (the one
//! definition the client-side check, the update check and the `$jsonSchema` share), the indexes; all
//! of it written as text (see `text`), since none of it carries a span.

use std::fmt::Write as _;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::{Expr, ExprLit, Ident, Lit};

use super::text::{f64_lit, str_lit, Code};

use super::defaults::{default_fn_ident, default_text};
use super::docs::{code as docs_code, *};
use super::fields::*;
use crate::ast::{Container, Derive, Field};
use crate::attr::RuleKind;
use crate::symbol::{DELETED_AT, VERSION_KEY};
use crate::ty::{self, Ty};

/// One `FieldSchema` per stored field (and the tag of an enum), as the text of a slice's elements.
pub(super) fn field_schemas(cont: &Container<'_>) -> String {
    let mut out = String::new();
    if let Some(tagged) = cont.tagged() {
        let values: Vec<String> = tagged
            .variants
            .iter()
            .map(|v| format!("__odm::Literal::Text({})", str_lit(&v.tag_value)))
            .collect();
        let _ = write!(
            out,
            "__odm::FieldSchema::new({}, {}, {}).with_bson_type(__odm::BsonType::String)\
             .with_rules(&[__odm::Rule::OneOf(&[{}])]),",
            str_lit(&unraw(&tagged.tag_member)),
            str_lit(&tagged.tag),
            str_lit(&format!("{}Kind", cont.ident)),
            values.join(", "),
        );
    }
    let variants = cont.tagged().map_or(0, |t| t.variants.len());
    for f in cont.stored() {
        let _ = write!(
            out,
            "__odm::FieldSchema::new({}, {}, {})",
            str_lit(&unraw(f.ident)),
            str_lit(&f.stored),
            str_lit(&f.type_name),
        );
        // A struct's rules are written here, and its `validate_into` reads them from the schema; an
        // enum's union field holds the rules its variants share, so each variant's rule is a constant.
        let rules: Vec<String> = shared_rules(cont, f)
            .into_iter()
            .map(|j| match cont.tagged() {
                Some(_) => rule_const(cont, f, j).to_string(),
                None => rule_text(f, &f.attrs.rules[j].kind, &rule_const(cont, f, j)),
            })
            .collect();
        if !rules.is_empty() {
            let _ = write!(out, ".with_rules(&[{}])", rules.join(", "));
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
            let _ = write!(out, ".with_bson_type(__odm::BsonType::{t})");
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
                let _ = write!(out, ".with_items(__odm::BsonType::{items})");
            }
        }
        if f.is_option() {
            out.push_str(".optional()");
        }
        if f.attrs.immutable.is_some() {
            out.push_str(".immutable()");
        }
        if f.attrs.hidden.is_some() {
            out.push_str(".hidden()");
        }
        if let (Some((_, expr)), true) = (&f.attrs.default, f.is_option()) {
            let _ = write!(
                out,
                ".with_default(__odm::FieldDefault::new({}, || __odm::default_to_bson({}, &{}())))",
                str_lit(&default_text(expr)),
                str_lit(&cont.ident.to_string()),
                default_fn_ident(f),
            );
        }
        let in_some_variants = variants > 0 && cont.variants_storing(&f.stored) < variants;
        // A field serde fills in when it is absent (`default`) may be missing from a stored
        // document, as one skipped when serialized may: neither is required by `$jsonSchema`, so
        // documents of an older shape stay valid.
        if f.serde.skip_serializing_if || f.serde.default.is_some() || in_some_variants {
            out.push_str(".omittable()");
        }
        if nested {
            let _ = write!(out, ".with_embedded({})", embedded_fn_ident(f));
        }
        out.push(',');
    }
    out
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

/// The rule `j` of field `f`, as `validate_into` reads it: from the schema's table for a struct, from
/// its constant for an enum's variant.
pub(super) fn rule_ref(cont: &Container<'_>, f: &Field<'_>, j: usize) -> TokenStream {
    if cont.tagged().is_some() {
        let name = rule_const(cont, f, j);
        return quote!(#name);
    }
    let i = cont
        .stored()
        .position(|g| std::ptr::eq(g, f))
        .expect("a stored field");
    let (i, j) = (Literal::usize_unsuffixed(i), Literal::usize_unsuffixed(j));
    match cont.derive {
        Derive::Model => quote!(Self::SCHEMA.fields[#i].rules[#j]),
        Derive::Embedded => quote!(Self::FIELDS[#i].rules[#j]),
    }
}

/// For an enum, one constant per rule of every stored field; for a `regex`, the function that compiles it
/// once.
pub(super) fn rule_consts(cont: &Container<'_>) -> TokenStream {
    let mut out = Code::default();
    for f in cont.fields().filter(|f| f.is_stored()) {
        for (j, rule) in f.attrs.rules.iter().enumerate() {
            let name = rule_const(cont, f, j);
            if let RuleKind::Regex(lit) = &rule.kind {
                let _ = write!(
                    out,
                    "#[allow(non_snake_case)] fn {name}_REGEX() -> &'static __odm::Regex {{ \
                     static __RE: __odm::LazyLock<__odm::Regex> = \
                     __odm::LazyLock::new(|| __odm::compile({})); &__RE }}",
                    str_lit(&lit.value()),
                );
            }
            if cont.tagged().is_some() {
                let _ = write!(
                    out,
                    "#[allow(dead_code)] const {name}: __odm::Rule = {};",
                    rule_text(f, &rule.kind, &name)
                );
            }
        }
    }
    out.into_tokens()
}

fn rule_text(f: &Field<'_>, kind: &RuleKind, name: &Ident) -> String {
    let opt = |v: Option<String>| match v {
        Some(v) => format!("::core::option::Option::Some({v})"),
        None => "::core::option::Option::None".to_owned(),
    };
    match kind {
        RuleKind::Required => "__odm::Rule::Required".to_owned(),
        RuleKind::Range { min, max } => format!(
            "__odm::Rule::Range {{ min: {}, max: {} }}",
            opt(min.as_ref().map(|n| f64_lit(n.value))),
            opt(max.as_ref().map(|n| f64_lit(n.value))),
        ),
        RuleKind::Length { min, max } => format!(
            "__odm::Rule::Length {{ min: {}, max: {} }}",
            opt(min.map(|n| format!("{n}usize"))),
            opt(max.map(|n| format!("{n}usize"))),
        ),
        RuleKind::Regex(lit) => format!(
            "__odm::Rule::Regex(__odm::Pattern::new({}, {name}_REGEX))",
            str_lit(&lit.value())
        ),
        RuleKind::OneOf(values) => {
            let base = f.base();
            let literals: Vec<String> = values.iter().map(|v| literal_text_code(base, v)).collect();
            format!("__odm::Rule::OneOf(&[{}])", literals.join(", "))
        }
        RuleKind::Email => "__odm::Rule::Email".to_owned(),
        RuleKind::Custom(path) => format!(
            "__odm::Rule::Custom({})",
            str_lit(&crate::attr::path_name(path))
        ),
    }
}

/// A `one_of` value as the field stores it: an `f32` literal is the `f32` widened, as it is stored.
fn literal_text_code(base: Ty<'_>, e: &Expr) -> String {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => return format!("__odm::Literal::Bool({})", b.value),
        Expr::Lit(ExprLit {
            lit: Lit::Str(_) | Lit::Char(_),
            ..
        }) => return format!("__odm::Literal::Text({})", str_lit(&literal_text(e))),
        _ => {}
    }
    let Some(n) = crate::attr::number(e) else {
        return format!("__odm::Literal::Text({})", str_lit(&literal_text(e)));
    };
    let float = f64_lit(n.value);
    let number = match (base, n.text.parse::<i64>()) {
        (Ty::Float("f32"), _) => format!("__odm::Number::Float({float} as f32 as f64)"),
        (Ty::Float(_), _) | (_, Err(_)) => format!("__odm::Number::Float({float})"),
        (_, Ok(i)) => format!("__odm::Number::Int({i}i64)"),
    };
    format!("__odm::Literal::Number({number})")
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

pub(super) fn index_parts(cont: &Container<'_>) -> Vec<(String, IndexDoc)> {
    let dir = |desc: bool| {
        if desc {
            "__odm::IndexKey::Desc"
        } else {
            "__odm::IndexKey::Asc"
        }
    };
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
        let mut code = format!(
            "__odm::IndexSchema::new(&[({}, {})])",
            str_lit(stored),
            dir(desc)
        );
        let mut options = Vec::new();
        if ix.unique.is_some() {
            code.push_str(".unique()");
            options.push("unique".to_owned());
        }
        if ix.sparse.is_some() {
            code.push_str(".sparse()");
            options.push("sparse".to_owned());
        }
        if let Some((_, secs)) = ix.ttl {
            let _ = write!(code, ".expire_after_secs({secs}u64)");
            options.push(format!("expires {secs} s after the date"));
        }
        let keys = format!("{{ {stored}: {} }}", if desc { -1 } else { 1 });
        out.push((code, IndexDoc { keys, options }));
    }
    if !text_keys.is_empty() {
        let pairs: Vec<String> = text_keys
            .iter()
            .map(|k| format!("({}, __odm::IndexKey::Text)", str_lit(k)))
            .collect();
        let code = format!("__odm::IndexSchema::new(&[{}])", pairs.join(", "));
        let keys = text_keys
            .iter()
            .map(|k| format!("{k}: \"text\""))
            .collect::<Vec<_>>()
            .join(", ");
        out.push((
            code,
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
            doc_keys.push(format!("{name}: {}", if desc { -1 } else { 1 }));
            pairs.push(format!("({}, {})", str_lit(&name), dir(desc)));
        }
        let mut code = format!("__odm::IndexSchema::new(&[{}])", pairs.join(", "));
        let mut options = Vec::new();
        if let Some(name) = &index.name {
            let _ = write!(code, ".named({})", str_lit(&name.value()));
            options.push(format!("named {}", docs_code(&name.value())));
        }
        if index.unique {
            code.push_str(".unique()");
            options.push("unique".to_owned());
        }
        if index.sparse {
            code.push_str(".sparse()");
            options.push("sparse".to_owned());
        }
        if let Some(partial) = &index.partial {
            let _ = write!(code, ".partial_filter({})", str_lit(&partial.value()));
            options.push(format!("partial {}", docs_code(&partial.value())));
        }
        out.push((
            code,
            IndexDoc {
                keys: format!("{{ {} }}", doc_keys.join(", ")),
                options,
            },
        ));
    }
    out
}

/// The text of the indexes' slice's elements.
pub(super) fn indexes(cont: &Container<'_>) -> String {
    index_parts(cont)
        .into_iter()
        .map(|(code, _)| code + ",")
        .collect()
}

/// The `Schema` constant's expression: name, collection, fields, indexes, and what the model's options
/// add (timestamps, version, tag).
pub(super) fn schema_expr(cont: &Container<'_>) -> String {
    let mut schema = format!(
        "__odm::Schema::new({}, {}, &[{}]).with_indexes(&[{}])",
        str_lit(&cont.ident.to_string()),
        str_lit(&cont.collection()),
        field_schemas(cont),
        indexes(cont),
    );
    if let Some(ts) = &cont.attrs.timestamps {
        let _ = write!(
            schema,
            ".with_timestamps({}, {})",
            str_lit(&ts.created_at),
            str_lit(&ts.updated_at)
        );
    }
    if cont.attrs.version.is_some() {
        let _ = write!(schema, ".with_version({})", str_lit(VERSION_KEY.0));
    }
    if let Some(tagged) = cont.tagged() {
        let _ = write!(schema, ".with_tag({})", str_lit(&tagged.tag));
    }
    if cont.attrs.settings.any() {
        let settings = settings_expr(&cont.attrs.settings);
        let _ = write!(
            schema,
            ".with_settings(|| {{ static SETTINGS: __odm::LazyLock<__odm::Settings> = \
             __odm::LazyLock::new(|| {settings}); &SETTINGS }})"
        );
    }
    if let Some((_, fields)) = &cont.attrs.shard_key {
        let fields: Vec<String> = fields.iter().map(|f| str_lit(&f.value())).collect();
        let _ = write!(schema, ".with_shard_key(&[{}])", fields.join(", "));
    }
    if cont.attrs.soft_delete.is_some() {
        let _ = write!(schema, ".with_soft_delete({})", str_lit(DELETED_AT.0));
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
