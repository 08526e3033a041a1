//! Parses the model's default settings, `read`, `read_concern`, `write_concern(..)`, `collation(..)`,
//! `max_time`, and its `shard_key(..)`. Values are checked here, each error on its own span.

use syn::meta::ParseNestedMeta;
use syn::parse::Parse;
use syn::{Expr, ExprLit, Lit, LitStr, Token};

use super::{no_value, parse_duration, path_name, skip_value, string_value, ungroup};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// The read preference modes MongoDB knows, as Mongoose spells them.
pub const READ_MODES: &[&str] = &[
    "primary",
    "primaryPreferred",
    "secondary",
    "secondaryPreferred",
    "nearest",
];
/// The read concern levels a model can declare (`snapshot` belongs to a session, not to every command).
pub const READ_CONCERNS: &[&str] = &["local", "available", "majority", "linearizable"];

/// `write_concern(w = .., journal, timeout = "..")`.
#[derive(Default)]
pub struct WriteConcern {
    pub w: Option<W>,
    pub journal: Option<bool>,
    pub timeout_ms: Option<u64>,
}

pub enum W {
    Majority,
    Nodes(u32),
    Tag(String),
}

/// `collation(locale = "..", strength = 1..=5, case_level, numeric_ordering)`.
pub struct Collation {
    pub locale: String,
    pub strength: Option<u8>,
    pub case_level: bool,
    pub numeric_ordering: bool,
}

/// The model's default settings, each checked.
#[derive(Default)]
pub struct Settings {
    pub read: Option<String>,
    pub read_concern: Option<String>,
    pub write_concern: Option<WriteConcern>,
    pub collation: Option<Collation>,
    pub max_time_ms: Option<u64>,
}

impl Settings {
    pub fn any(&self) -> bool {
        self.read.is_some()
            || self.read_concern.is_some()
            || self.write_concern.is_some()
            || self.collation.is_some()
            || self.max_time_ms.is_some()
    }
}

/// `key = "one of"`, checked against `allowed`.
pub fn one_of(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    allowed: &[&str],
    what: &str,
) -> syn::Result<Option<String>> {
    let example = format!("\"{}\"", allowed[allowed.len() - 1]);
    let Some(lit) = string_value(cx, meta, &example)? else {
        return Ok(None);
    };
    let value = lit.value();
    if allowed.contains(&value.as_str()) {
        return Ok(Some(value));
    }
    let list = allowed
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    cx.error_spanned_by(
        &lit,
        format!("`{value}` is not a {what} a model can declare; write one of {list}"),
    );
    Ok(None)
}

/// `key = "5s"`: a duration in milliseconds, from a whole number and a unit `ms`, `s`, `m`, `h` or `d`.
pub fn duration_ms(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<u64>> {
    let key = path_name(&meta.path);
    let Some(lit) = string_value(cx, meta, "\"5s\"")? else {
        return Ok(None);
    };
    let text = lit.value();
    let ms = match text.trim().strip_suffix("ms") {
        Some(n) => n.trim().parse::<u64>().ok(),
        None => parse_duration(&text).and_then(|s| s.checked_mul(1000)),
    };
    match ms {
        Some(0) | None => {
            cx.error_spanned_by(
                &lit,
                format!("`{key}` expects a duration above zero: a whole number and a unit, `ms`, `s`, `m`, `h` or `d`, like \"500ms\" or \"5s\""),
            );
            Ok(None)
        }
        Some(ms) => Ok(Some(ms)),
    }
}

/// `write_concern(w = "majority" | 2 | "tag", journal, timeout = "5s")`.
pub fn write_concern(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<WriteConcern>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "`write_concern` needs its parts: `write_concern(w = \"majority\", journal, timeout = \"5s\")`",
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let fork = meta.input.fork();
    let content;
    syn::parenthesized!(content in fork);
    if content.is_empty() {
        cx.error_spanned_by(&meta.path, "`write_concern` needs `w`, `journal` or `timeout`: `write_concern(w = \"majority\", journal)`");
        return skip_value(meta).map(|()| None);
    }
    let mut out = WriteConcern::default();
    let mut ok = true;
    meta.parse_nested_meta(|inner| {
        if inner.path == W_KEY {
            if !inner.input.peek(Token![=]) {
                cx.error_spanned_by(&inner.path, "`w` needs a value: `w = \"majority\"` or `w = 2`");
                ok = false;
                return skip_value(&inner);
            }
            let expr: Expr = inner.value()?.parse()?;
            match ungroup(expr) {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if s.value() == "majority" => {
                    out.w = Some(W::Majority);
                }
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if !s.value().is_empty() => {
                    out.w = Some(W::Tag(s.value()));
                }
                Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => match i.base10_parse::<u32>() {
                    Ok(0) | Err(_) => {
                        cx.error_spanned_by(&i, "`w` counts the members that acknowledge a write: 1 or more (an unacknowledged write, `w = 0`, is not supported)");
                        ok = false;
                    }
                    Ok(n) => out.w = Some(W::Nodes(n)),
                },
                other => {
                    cx.error_spanned_by(other, "`w` expects `\"majority\"`, a number of members like `2`, or a tag set's name");
                    ok = false;
                }
            }
        } else if inner.path == JOURNAL {
            no_value(cx, &inner, "write_concern")?;
            out.journal = Some(true);
        } else if inner.path == TIMEOUT {
            match duration_ms(cx, &inner)? {
                Some(ms) => out.timeout_ms = Some(ms),
                None => ok = false,
            }
        } else {
            cx.unknown_key(&inner.path, "write_concern", &path_name(&inner.path), WRITE_CONCERN_KEYS);
            ok = false;
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    if ok && out.w.is_none() && out.journal.is_none() && out.timeout_ms.is_none() {
        cx.error_spanned_by(&meta.path, "`write_concern` needs `w`, `journal` or `timeout`: `write_concern(w = \"majority\", journal)`");
        return Ok(None);
    }
    Ok(ok.then_some(out))
}

/// `collation(locale = "en", strength = 2, case_level, numeric_ordering)`.
pub fn collation(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Collation>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "`collation` needs a locale: `collation(locale = \"en\", strength = 2)`",
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let mut locale: Option<LitStr> = None;
    let mut out = Collation {
        locale: String::new(),
        strength: None,
        case_level: false,
        numeric_ordering: false,
    };
    let mut ok = true;
    meta.parse_nested_meta(|inner| {
        if inner.path == LOCALE {
            locale = string_value(cx, &inner, "\"en\"")?;
            if let Some(l) = locale.as_ref().filter(|l| l.value().trim().is_empty()) {
                cx.error_spanned_by(l, "`locale` names an ICU locale: `\"en\"`, `\"fr\"`, `\"simple\"`");
                ok = false;
            }
        } else if inner.path == STRENGTH {
            if !inner.input.peek(Token![=]) {
                cx.error_spanned_by(&inner.path, "`strength` needs a level: `strength = 2`");
                ok = false;
                return skip_value(&inner);
            }
            let expr: Expr = inner.value()?.parse()?;
            match ungroup(expr) {
                Expr::Lit(ExprLit { lit: Lit::Int(i), .. })
                    if matches!(i.base10_parse::<u8>(), Ok(1..=5)) =>
                {
                    out.strength = i.base10_parse::<u8>().ok();
                }
                other => {
                    cx.error_spanned_by(other, "`strength` is a comparison level from 1 to 5: 1 ignores case and accents, 2 ignores case, 3 (the default) compares both");
                    ok = false;
                }
            }
        } else if inner.path == CASE_LEVEL {
            no_value(cx, &inner, "collation")?;
            out.case_level = true;
        } else if inner.path == NUMERIC_ORDERING {
            no_value(cx, &inner, "collation")?;
            out.numeric_ordering = true;
        } else {
            cx.unknown_key(&inner.path, "collation", &path_name(&inner.path), COLLATION_KEYS);
            ok = false;
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    match locale {
        Some(l) if ok => {
            out.locale = l.value();
            Ok(Some(out))
        }
        Some(_) => Ok(None),
        None => {
            cx.error_spanned_by(
                &meta.path,
                "`collation` needs a locale: `collation(locale = \"en\", strength = 2)`",
            );
            Ok(None)
        }
    }
}

/// `shard_key("org", "_id")`: stored names, checked against the model's fields by `valid`.
pub fn shard_key(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<LitStr>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "`shard_key` needs its fields: `shard_key(\"org\", \"_id\")`",
        );
        skip_value(meta)?;
        return Ok(Vec::new());
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let mut fields = Vec::new();
    for expr in content.parse_terminated(Expr::parse, Token![,])? {
        match ungroup(expr) {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => fields.push(s),
            other => cx.error_spanned_by(
                other,
                "`shard_key` lists stored field names as strings: `shard_key(\"org\", \"_id\")`",
            ),
        }
    }
    if fields.is_empty() {
        cx.error_spanned_by(
            &meta.path,
            "`shard_key` needs at least one field: `shard_key(\"org\", \"_id\")`",
        );
    }
    Ok(fields)
}
