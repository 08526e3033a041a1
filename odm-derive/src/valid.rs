//! Checks that need the whole struct: rules against field types, required fields, index keys.

use syn::{Expr, ExprLit, ExprUnary, Lit, UnOp};

use crate::ast::{Container, Derive, Field};
use crate::attr::RuleKind;
use crate::ctxt::{list, suggest, Ctxt};
use crate::symbol::{DELETED_AT, ID, MODEL_KEYS, VALIDATE, VERSION_KEY};
use crate::ty::Ty;

pub fn check(cx: &Ctxt, cont: &Container<'_>) {
    check_generics(cx, cont);
    check_container_keys(cx, cont);
    check_stored_names(cx, cont);
    for field in cont.fields() {
        check_field(cx, cont, field);
    }
    if cont.derive == Derive::Model {
        if cont.tagged().is_some() {
            check_variants(cx, cont);
            check_enum_keys(cx, cont);
        } else {
            check_id(cx, cont);
        }
        check_timestamps(cx, cont);
        check_version(cx, cont);
        check_soft_delete(cx, cont);
        check_indexes(cx, cont);
        check_shard_key(cx, cont);
        check_collection(cx, cont);
    }
}

fn check_generics(cx: &Ctxt, cont: &Container<'_>) {
    let generics = &cont.input.generics;
    if !generics.params.is_empty() {
        cx.error_spanned_by(
            generics,
            format!(
                "`#[derive({})]` does not support generic parameters: a model's schema is computed once, for one concrete type",
                cont.derive.name()
            ),
        );
    }
}

fn check_container_keys(cx: &Ctxt, cont: &Container<'_>) {
    if cont.derive != Derive::Embedded {
        return;
    }
    for key in &cont.attrs.keys {
        // Every model key but `validate`, which an embedded document takes too.
        for &model_only in MODEL_KEYS.iter().filter(|k| k.0 != VALIDATE.0) {
            if *key == model_only {
                cx.error_spanned_by(
                    key,
                    format!("`{model_only}` applies to `#[derive(Model)]`; an embedded document is stored inside its model's documents"),
                );
            }
        }
    }
}

fn check_stored_names(cx: &Ctxt, cont: &Container<'_>) {
    if let Some(tagged) = cont.tagged() {
        for variant in &tagged.variants {
            let stored: Vec<&Field<'_>> = cont.variant_fields(variant).collect();
            duplicate_names(cx, &stored);
        }
        return;
    }
    let stored: Vec<&Field<'_>> = cont.stored().collect();
    duplicate_names(cx, &stored);
}

fn duplicate_names(cx: &Ctxt, stored: &[&Field<'_>]) {
    for (i, field) in stored.iter().enumerate() {
        if let Some(first) = stored[..i].iter().find(|f| f.stored == field.stored) {
            cx.error_spanned_by(
                field.ident,
                format!(
                    "`{}` and `{}` are both stored as `{}`; rename one with `#[serde(rename = \"...\")]`",
                    first.ident, field.ident, field.stored
                ),
            );
        }
    }
}

fn check_field(cx: &Ctxt, cont: &Container<'_>, field: &Field<'_>) {
    let attrs = &field.attrs;
    if !field.is_stored() {
        if let Some(attr) = &attrs.field_attr {
            let why = if field.serde.flatten {
                "`#[serde(flatten)]` merges it into the document"
            } else {
                "serde skips it"
            };
            cx.error_spanned_by(
                attr,
                format!("`{}` is not stored ({why}), so `#[field]` rules and indexes cannot apply to it", field.ident),
            );
        }
        return;
    }
    let base = field.base();
    let ty = &field.type_name;
    let name = field.ident;
    for rule in &attrs.rules {
        let key = &rule.key;
        match &rule.kind {
            RuleKind::Required => {
                if !field.is_option() {
                    cx.error_spanned_by(
                        key,
                        format!("`required` applies to `Option` fields, not to `{name}: {ty}`, which is always present"),
                    );
                }
            }
            RuleKind::Range { min, max } => {
                if !(base.is_number() || matches!(base, Ty::Other)) {
                    cx.error_spanned_by(
                        key,
                        format!(
                            "`range` applies to numbers, but `{name}` is {} (`{ty}`){}",
                            base.describe(),
                            hint_for_range(base)
                        ),
                    );
                }
                check_min_max(
                    cx,
                    key,
                    "range",
                    min.as_ref().map(|n| (n.value, n.text.clone())),
                    max.as_ref().map(|n| (n.value, n.text.clone())),
                );
            }
            RuleKind::Length { min, max } => {
                if !matches!(base, Ty::Text | Ty::List(_) | Ty::Map | Ty::Other) {
                    cx.error_spanned_by(
                        key,
                        format!(
                            "`length` applies to strings and collections, not to `{name}: {ty}`{}",
                            if base.is_number() {
                                "; use `range(min = .., max = ..)` for numbers"
                            } else {
                                ""
                            }
                        ),
                    );
                }
                check_min_max(
                    cx,
                    key,
                    "length",
                    min.map(|n| (n as f64, n.to_string())),
                    max.map(|n| (n as f64, n.to_string())),
                );
            }
            RuleKind::Regex(_) | RuleKind::Email => {
                if !matches!(base, Ty::Text | Ty::Other) {
                    let rule_name = crate::attr::path_name(key);
                    cx.error_spanned_by(
                        key,
                        format!(
                            "`{rule_name}` applies to strings, but `{name}` is {} (`{ty}`)",
                            base.describe()
                        ),
                    );
                }
            }
            RuleKind::OneOf(values) => check_one_of(cx, key, field, base, values),
            RuleKind::Custom(_) => {}
        }
    }
    if let Some(nested) = &attrs.nested {
        if field.embedded_type().is_none() {
            cx.error_spanned_by(
                nested,
                format!(
                    "`nested` applies to a type that derives `Embedded` (or an `Option` or list of one), not to `{name}: {ty}`"
                ),
            );
        }
    }
    if let Some((key, _)) = &attrs.default {
        check_default(cx, cont, field, key);
    }
    if let Some(key) = &attrs.immutable {
        check_immutable(cx, cont, field, key);
    }
    if let Some(key) = &attrs.hidden {
        check_hidden(cx, cont, field, key);
    }
    let index = &attrs.index;
    if cont.derive == Derive::Embedded {
        if let Some(key) = index.first_key() {
            cx.error_spanned_by(
                key,
                "indexes of an embedded document are declared on the model, with the dotted path: `#[model(index(fields(\"address.city\")))]`",
            );
        }
        return;
    }
    if let Some((key, _)) = &index.ttl {
        if !matches!(base, Ty::DateTime) {
            cx.error_spanned_by(
                key,
                format!("`ttl` applies to bson `DateTime` fields (or an `Option` of one): MongoDB expires a document a time after the date it holds; not to `{name}: {ty}`"),
            );
        }
    }
    if let Some(text) = &index.text {
        if index.index.is_some() || index.unique.is_some() || index.ttl.is_some() {
            cx.error_spanned_by(
                text,
                "`text` makes the field part of the model's text index; it does not combine with `index`, `unique` or `ttl`",
            );
        }
    }
}

/// `default` fills a model's `Option` field that is `None` when a document is inserted.
fn check_default(cx: &Ctxt, cont: &Container<'_>, field: &Field<'_>, key: &syn::Path) {
    let name = field.ident;
    if cont.derive == Derive::Embedded {
        cx.error_spanned_by(
            key,
            "`default` applies to the fields of a model; give the embedded value its default where the model's field is built",
        );
    } else if cont.tagged().is_some() {
        cx.error_spanned_by(
            key,
            "`default` applies to the fields of a struct model, not to the variants of an enum; set the value when the variant is built",
        );
    } else if !field.is_option() {
        cx.error_spanned_by(
            key,
            format!(
                "`default` applies to `Option` fields, where `None` takes the default on insert; `{name}: {}` always has a value: make it `Option<{}>`, or give it its value where the struct is built",
                field.type_name,
                field.type_name
            ),
        );
    }
}

/// `immutable` holds a model's own field to the value it was created with.
fn check_immutable(cx: &Ctxt, cont: &Container<'_>, field: &Field<'_>, key: &syn::Path) {
    let stored = &field.stored;
    let updated_at = cont
        .attrs
        .timestamps
        .as_ref()
        .map(|ts| ts.updated_at.as_str());
    let problem = if cont.derive == Derive::Embedded {
        "`immutable` applies to the fields of a model; mark the model's field that holds the embedded document `immutable` instead".to_owned()
    } else if cont.tagged().is_some() {
        "`immutable` applies to the fields of a struct model, not to the variants of an enum"
            .to_owned()
    } else if field.stored == ID {
        "`_id` never changes already: MongoDB refuses to change a document's `_id`; remove `immutable`".to_owned()
    } else if cont.attrs.version.is_some() && field.stored == VERSION_KEY {
        "`__v` is moved on by every versioned write, so it cannot be `immutable`; remove `immutable`".to_owned()
    } else if updated_at == Some(stored) {
        format!("`{stored}` is set by `timestamps` on every write, so it cannot be `immutable`; remove `immutable` (`created_at`, set once, may be)")
    } else {
        return;
    };
    cx.error_spanned_by(key, problem);
}

/// `hidden` leaves a model's field out of reads: the struct must still decode without it.
fn check_hidden(cx: &Ctxt, cont: &Container<'_>, field: &Field<'_>, key: &syn::Path) {
    let (name, ty) = (field.ident, field.ty);
    let problem = if cont.derive == Derive::Embedded {
        "`hidden` applies to the fields of a model; mark the model's field that holds the embedded document `hidden` instead".to_owned()
    } else if cont.tagged().is_some() {
        "`hidden` applies to the fields of a struct model, not to the variants of an enum"
            .to_owned()
    } else if field.stored == ID {
        "`_id` cannot be `hidden`: every read needs it to tell documents apart; remove `hidden`"
            .to_owned()
    } else if cont.attrs.version.is_some() && field.stored == VERSION_KEY {
        "`__v` cannot be `hidden`: `save` checks the version a value was read at; remove `hidden`"
            .to_owned()
    } else if !field.is_option() && field.serde.default.is_none() {
        // On the field: its type or its serde attributes are what to change.
        cx.error_spanned_by(
            quote::quote!(#name: #ty),
            format!(
                "`{name}` is `hidden`, so reads leave it out, and `{name}: {}` cannot be decoded without it: make it an `Option`, or give it `#[serde(default)]`",
                field.type_name
            ),
        );
        return;
    } else {
        return;
    };
    cx.error_spanned_by(key, problem);
}

fn hint_for_range(base: Ty<'_>) -> &'static str {
    match base {
        Ty::Text | Ty::List(_) | Ty::Map => "; use `length(min = .., max = ..)` for sizes",
        _ => "",
    }
}

fn check_min_max(
    cx: &Ctxt,
    key: &syn::Path,
    rule: &str,
    min: Option<(f64, String)>,
    max: Option<(f64, String)>,
) {
    if let (Some((lo, lo_text)), Some((hi, hi_text))) = (min, max) {
        if lo > hi {
            cx.error_spanned_by(
                key,
                format!(
                    "`{rule}` has min {lo_text} greater than max {hi_text}: nothing could pass"
                ),
            );
        }
    }
}

fn check_one_of(cx: &Ctxt, key: &syn::Path, field: &Field<'_>, base: Ty<'_>, values: &[Expr]) {
    let ty = &field.type_name;
    let name = field.ident;
    let expected: fn(&Expr) -> bool = match base {
        Ty::Text => |e| {
            matches!(
                e,
                Expr::Lit(ExprLit {
                    lit: Lit::Str(_),
                    ..
                })
            )
        },
        Ty::Char => |e| {
            matches!(
                e,
                Expr::Lit(ExprLit {
                    lit: Lit::Char(_),
                    ..
                })
            )
        },
        Ty::Bool => |e| {
            matches!(
                e,
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(_),
                    ..
                })
            )
        },
        Ty::Int(_) => |e| is_int(e),
        Ty::Float(_) => |e| crate::attr::number(e).is_some(),
        Ty::Other => |_| true,
        _ => {
            cx.error_spanned_by(
                key,
                format!("`one_of` applies to strings, numbers, `char`s and `bool`s, not to `{name}: {ty}`"),
            );
            return;
        }
    };
    for value in values {
        if !expected(value) {
            cx.error_spanned_by(
                value,
                format!(
                    "this `one_of` value is not {} like `{name}` (`{ty}`)",
                    base.describe()
                ),
            );
        }
    }
}

fn is_int(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(_), ..
        }) => true,
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => is_int(expr),
        _ => false,
    }
}

fn check_id(cx: &Ctxt, cont: &Container<'_>) {
    if cont.stored_field(ID.0).is_none() {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "`{}` has no field stored as `_id`, MongoDB's primary key; add one, e.g. `#[serde(rename = \"_id\", skip_serializing_if = \"Option::is_none\")] id: Option<ObjectId>`",
                cont.ident
            ),
        );
    }
}

/// An enum model: every variant has an `_id`; a name stored by several variants is one field of the
/// collection, with one Rust name and one type; no field takes the tag's name; tag values differ.
fn check_variants(cx: &Ctxt, cont: &Container<'_>) {
    let Some(tagged) = cont.tagged() else { return };
    for (i, variant) in tagged.variants.iter().enumerate() {
        if !cont.variant_fields(variant).any(|f| f.stored == ID) {
            cx.error_spanned_by(
                variant.node,
                format!(
                    "the variant `{}::{}` has no field stored as `_id`; every kind of document needs MongoDB's primary key, of the same type in every variant: add `#[serde(rename = \"_id\", skip_serializing_if = \"Option::is_none\")] id: Option<ObjectId>`",
                    cont.ident, variant.ident
                ),
            );
        }
        if let Some(first) = tagged.variants[..i]
            .iter()
            .find(|v| v.tag_value == variant.tag_value)
        {
            cx.error_spanned_by(
                variant.ident,
                format!(
                    "`{}` and `{}` are both stored with `{}: \"{}\"`, so documents of the two kinds could not be told apart; give one another name with `#[serde(rename = \"...\")]`",
                    first.ident, variant.ident, tagged.tag, variant.tag_value
                ),
            );
        }
    }
    let has_id = |variant: Option<usize>| {
        variant.is_some_and(|v| {
            cont.variant_fields(&tagged.variants[v])
                .any(|f| f.stored == ID)
        })
    };
    let stored: Vec<&Field<'_>> = cont.fields().filter(|f| f.is_stored()).collect();
    for (i, field) in stored.iter().enumerate() {
        if !tagged.tag.is_empty() && field.stored == tagged.tag {
            cx.error_spanned_by(
                field.ident,
                format!(
                    "`{}` is stored as `{}`, the name of the tag that tells the kinds of `{}` apart; rename the field or the tag",
                    field.ident, tagged.tag, cont.ident
                ),
            );
            continue;
        }
        if *field.ident == tagged.tag_member && field.stored != tagged.tag {
            cx.error_spanned_by(
                field.ident,
                format!(
                    "`{}` would clash with `{}::fields().{}`, the path of the tag `{}`; rename this field in Rust",
                    field.ident, cont.ident, tagged.tag_member, tagged.tag
                ),
            );
        }
        let earlier = &stored[..i];
        if let Some(first) = earlier
            .iter()
            .find(|f| f.stored == field.stored && f.variant != field.variant)
        {
            if first.ident != field.ident {
                cx.error_spanned_by(
                    field.ident,
                    format!(
                        "`{}` is stored as `{}`, like `{}` of another variant; a name stored by several variants is one field of the collection: give it the same Rust name in each",
                        field.ident, field.stored, first.ident
                    ),
                );
            } else if first.type_name != field.type_name {
                cx.error_spanned_by(
                    field.ty,
                    format!(
                        "`{}` is `{}` here but `{}` in another variant; a field stored by several variants is one field of the collection, with one type",
                        field.ident,
                        field.type_name,
                        first.type_name
                    ),
                );
            } else if field.attrs.index.any() && first.attrs.index.any() {
                let key = field.attrs.index.first_key().expect("some index key");
                cx.error_spanned_by(
                    key,
                    format!(
                        "the index on `{}` is declared in another variant already; an index covers the whole collection: declare it once",
                        field.stored
                    ),
                );
            }
        } else if let Some(first) = earlier.iter().find(|f| {
            // A variant without `_id` has its own error already.
            f.ident == field.ident && f.variant != field.variant && has_id(field.variant)
        }) {
            cx.error_spanned_by(
                field.ident,
                format!(
                    "`{}` is stored as `{}` here but as `{}` in another variant; a field shared by several variants is stored under one name",
                    field.ident, field.stored, first.stored
                ),
            );
        }
    }
}

/// `timestamps` and `version` set fields of whichever variant the value is: every variant stores them.
fn check_enum_keys(cx: &Ctxt, cont: &Container<'_>) {
    let Some(tagged) = cont.tagged() else { return };
    let mut wanted: Vec<(&syn::Path, &str, &str)> = Vec::new();
    if let Some(ts) = &cont.attrs.timestamps {
        wanted.push((&ts.key, &ts.created_at, "timestamps"));
        wanted.push((&ts.key, &ts.updated_at, "timestamps"));
    }
    if let Some(key) = &cont.attrs.version {
        wanted.push((key, VERSION_KEY.0, "version"));
    }
    if let Some(key) = &cont.attrs.soft_delete {
        wanted.push((key, DELETED_AT.0, "soft_delete"));
    }
    for (key, stored, what) in wanted {
        if cont.stored_field(stored).is_none() {
            continue; // no variant stores it: `check_timestamps` and the like say so
        }
        for variant in &tagged.variants {
            if !cont.variant_fields(variant).any(|f| f.stored == stored) {
                cx.error_spanned_by(
                    key,
                    format!(
                        "`{what}` on an enum needs every variant to store `{stored}`, and `{}::{}` does not: add the field to it",
                        cont.ident, variant.ident
                    ),
                );
            }
        }
    }
}

fn check_timestamps(cx: &Ctxt, cont: &Container<'_>) {
    let Some(ts) = &cont.attrs.timestamps else {
        return;
    };
    let mut missing = Vec::new();
    for stored in [&ts.created_at, &ts.updated_at] {
        match cont.stored_field(stored) {
            None => missing.push(stored.as_str()),
            Some(field) => {
                if !matches!(field.base(), Ty::DateTime) {
                    cx.error_spanned_by(
                        field.ty,
                        format!("the timestamp field `{}` must be a `DateTime` or `Option<DateTime>` (bson's), not `{}`", field.ident, field.type_name),
                    );
                }
            }
        }
    }
    if !missing.is_empty() {
        cx.error_spanned_by(
            &ts.key,
            format!(
                "`timestamps` needs fields stored as `{}` and `{}` (of type `DateTime` or `Option<DateTime>`); `{}` has no field stored as {}",
                ts.created_at,
                ts.updated_at,
                cont.ident,
                list(&missing)
            ),
        );
    }
}

fn check_version(cx: &Ctxt, cont: &Container<'_>) {
    let Some(key) = &cont.attrs.version else {
        return;
    };
    match cont.stored_field(VERSION_KEY.0) {
        None => cx.error_spanned_by(
            key,
            format!(
                "`version` needs a field stored as `__v`; `{}` has none: add `#[serde(rename = \"__v\", default)] version: i64`",
                cont.ident
            ),
        ),
        Some(field) => {
            if !matches!(field.base(), Ty::Int(_)) {
                cx.error_spanned_by(
                    field.ty,
                    format!("the version field `{}` must be an integer or an `Option` of one, not `{}`", field.ident, field.type_name),
                );
            }
        }
    }
}

/// `soft_delete` stamps `deleted_at` and reads it back as "not deleted" when `null`.
fn check_soft_delete(cx: &Ctxt, cont: &Container<'_>) {
    let Some(key) = &cont.attrs.soft_delete else {
        return;
    };
    let stored = DELETED_AT.0;
    match cont.stored_field(stored) {
        None => cx.error_spanned_by(
            key,
            format!(
                "`soft_delete` needs a field stored as `{stored}`; `{}` has none: add `{stored}: Option<DateTime>`",
                cont.ident
            ),
        ),
        Some(field) => {
            if !(field.is_option() && matches!(field.base(), Ty::DateTime)) {
                cx.error_spanned_by(
                    key,
                    format!(
                        "`soft_delete` needs `{}` to be an `Option<DateTime>` (`None` while the document is live), not `{}`",
                        field.ident,
                        field.type_name
                    ),
                );
            }
        }
    }
}

fn check_indexes(cx: &Ctxt, cont: &Container<'_>) {
    let mut stored: Vec<&str> = cont.stored().map(|f| f.stored.as_str()).collect();
    if let Some(tagged) = cont.tagged().filter(|t| !t.tag.is_empty()) {
        stored.insert(0, &tagged.tag);
    }
    for index in &cont.attrs.indexes {
        if index.fields.is_empty() {
            cx.error_spanned_by(
                &index.key,
                "`index` needs at least one field in `fields(...)`",
            );
        }
        let mut keys: Vec<String> = Vec::new();
        for lit in &index.fields {
            let spec = lit.value();
            let name = spec.strip_prefix(['-', '+']).unwrap_or(&spec);
            let head = name.split('.').next().unwrap_or_default();
            if name.is_empty() || head.is_empty() {
                cx.error_spanned_by(lit, "an index field is a stored name, with `-` in front for descending: `\"-created_at\"`");
                continue;
            }
            if keys.iter().any(|k| k == name) {
                cx.error_spanned_by(lit, format!("`{name}` appears twice in this index"));
            }
            keys.push(name.to_owned());
            if !stored.contains(&head) {
                let msg = no_stored_field(cont, head, &stored, "to index", "indexes use");
                cx.error_spanned_by(lit, msg);
            }
        }
        if let Some(partial) = &index.partial {
            match serde_json::from_str::<serde_json::Value>(&partial.value()) {
                Ok(serde_json::Value::Object(_)) => {}
                Ok(_) => cx.error_spanned_by(
                    partial,
                    "`partial` must be a JSON object: a filter like `{\"age\": {\"$gt\": 18}}`",
                ),
                Err(e) => cx.error_spanned_by(partial, format!("`partial` is not valid JSON: {e}")),
            }
        }
        if let Some(name) = &index.name {
            if name.value().is_empty() {
                cx.error_spanned_by(name, "an index name cannot be empty");
            }
        }
    }
}

/// The message for a key (of an index or the shard key) naming `head`, which is no stored field: the
/// field stored under another name, the closest stored name, or the stored names.
fn no_stored_field(
    cont: &Container<'_>,
    head: &str,
    stored: &[&str],
    purpose: &str,
    uses: &str,
) -> String {
    let mut msg = format!("`{}` has no stored field `{head}` {purpose}", cont.ident);
    if let Some(field) = cont.stored().find(|f| f.ident == head && f.stored != head) {
        msg.push_str(&format!(
            "; the field `{head}` is stored as `{}`, and {uses} stored names",
            field.stored
        ));
    } else if let Some(best) = suggest(head, stored) {
        msg.push_str(&format!("; did you mean `{best}`?"));
    } else {
        msg.push_str(&format!("; stored fields are {}", list(stored)));
    }
    msg
}

/// The shard key names stored fields (top-level or dotted below an embedded one), each once.
fn check_shard_key(cx: &Ctxt, cont: &Container<'_>) {
    let Some((_, fields)) = &cont.attrs.shard_key else {
        return;
    };
    let mut stored: Vec<&str> = cont.stored().map(|f| f.stored.as_str()).collect();
    if let Some(tagged) = cont.tagged().filter(|t| !t.tag.is_empty()) {
        stored.insert(0, &tagged.tag);
    }
    let mut seen: Vec<String> = Vec::new();
    for lit in fields {
        let name = lit.value();
        let head = name.split('.').next().unwrap_or_default();
        if seen.contains(&name) {
            cx.error_spanned_by(lit, format!("`{name}` appears twice in the shard key"));
        }
        seen.push(name.clone());
        if !stored.contains(&head) {
            let msg = no_stored_field(
                cont,
                head,
                &stored,
                "for the shard key",
                "the shard key uses",
            );
            cx.error_spanned_by(lit, msg);
        }
    }
}

fn check_collection(cx: &Ctxt, cont: &Container<'_>) {
    let Some(lit) = &cont.attrs.collection else {
        return;
    };
    let name = lit.value();
    let problem = if name.is_empty() {
        Some("is empty".to_owned())
    } else if let Some(c) = name.chars().find(|c| matches!(c, '$' | '\0')) {
        Some(format!("contains `{}`", c.escape_default()))
    } else if name.starts_with("system.") {
        Some("starts with `system.`, which MongoDB reserves".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        cx.error_spanned_by(
            lit,
            format!("invalid collection name `{name}`: it {problem}"),
        );
    }
}
