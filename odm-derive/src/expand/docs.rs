//! The rustdoc of the typed paths, which is the schema's reference: the field table, kinds, indexes.

use super::defaults::default_text;
use super::fields::*;
use super::schema::*;
use crate::ast::{Container, Field};
use crate::attr::{Num, RuleKind};
use crate::ty::type_string;

pub(super) fn code(text: &str) -> String {
    // Inside a Markdown table, `|` ends a cell even within backticks.
    format!("`{}`", text.replace('|', "\\|"))
}

pub(super) fn num_text(n: &Num) -> String {
    n.text.clone()
}

pub(super) fn rule_doc(kind: &RuleKind) -> String {
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

pub(super) fn field_rules_doc(f: &Field<'_>) -> Vec<String> {
    let mut out: Vec<String> = f.attrs.rules.iter().map(|r| rule_doc(&r.kind)).collect();
    if let Some(elem) = nested_type(f) {
        out.push(format!("nested {}", code(&type_string(elem))));
    }
    if f.attrs.immutable.is_some() {
        out.push("immutable".to_owned());
    }
    if f.attrs.hidden.is_some() {
        out.push("hidden from reads".to_owned());
    }
    if let Some((_, expr)) = &f.attrs.default {
        out.push(format!("default {}", code(&default_text(expr))));
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
pub(super) fn variants_doc(cont: &Container<'_>, f: &Field<'_>) -> Option<String> {
    let tagged = cont.tagged()?;
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

pub(super) fn member_doc(cont: &Container<'_>, f: &Field<'_>) -> String {
    let mut doc = format!(
        "`{}`, stored as `{}`: `{}`",
        unraw(f.ident),
        f.stored,
        f.type_name
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

pub(super) fn fields_table(cont: &Container<'_>) -> String {
    let mut doc =
        String::from("| Field | Stored as | Type | Rules and indexes |\n|---|---|---|---|\n");
    if let Some(tagged) = cont.tagged() {
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
            code(&f.type_name),
            field_rules_doc(f).join(", ")
        ));
    }
    doc
}

pub(super) fn model_doc(cont: &Container<'_>, collection: &str) -> String {
    let ident = cont.ident;
    let mut doc = format!(
        "Typed paths to the stored fields of `{ident}`, from `{ident}::fields()`: filters, updates, sorts and projections.\n\n\
         # Schema of `{ident}`\n\n\
         Stored in the collection `{collection}`.\n\n"
    );
    doc.push_str(&fields_table(cont));
    if let Some(tagged) = cont.tagged() {
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
    if cont.attrs.soft_delete.is_some() {
        doc.push_str("\nSoft delete: deletes stamp `deleted_at`, and reads skip stamped documents unless `.with_deleted()`.\n");
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

pub(super) fn embedded_doc(cont: &Container<'_>) -> String {
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
