//! The model's field rules, checked on the values an update document writes, so an update cannot store
//! what `create` would refuse.
//!
//! What a value alone decides is checked: `required`, `range`, `length`, `regex`, `email` and `one_of` on
//! the values of `$set` and `$setOnInsert` (embedded documents included), and `$unset` of a required
//! field. What depends on the stored document is not: the results of `$inc`, `$push` and the like, custom
//! `validate = ..` functions, and update pipelines.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use mongodb::bson::{Bson, Document};
use regex::Regex;

use crate::schema::{typed_value, FieldSchema, Rule, Schema};
use crate::validate::{is_email, FieldError, ValidationErrors};

/// Checks an update document against `schema`; every failure is reported, with its path.
pub(crate) fn check(schema: &Schema, update: &Document) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new(schema.type_name);
    for (op, args) in update {
        let Bson::Document(args) = args else { continue };
        match op.as_str() {
            "$set" | "$setOnInsert" => {
                for (path, value) in args {
                    if let Some(field) = resolve(schema.fields, path) {
                        check_value(field, path, value, &mut errors);
                    }
                }
            }
            "$unset" => {
                for path in args.keys() {
                    if let Some(field) = resolve(schema.fields, path) {
                        if field.is_required() {
                            errors.push(FieldError::new(
                                path.as_str(),
                                "required",
                                "(removed)",
                                "is required and cannot be unset",
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    errors.into_result()
}

/// The field a dotted path names, through embedded documents. A path into an array element or a field
/// the schema does not know has no rules to check.
fn resolve(fields: &'static [FieldSchema], path: &str) -> Option<&'static FieldSchema> {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let field = fields.iter().find(|f| f.stored == head)?;
    match rest {
        None => Some(field),
        Some(rest) => resolve(field.embedded?(), rest),
    }
}

fn check_value(field: &FieldSchema, path: &str, value: &Bson, errors: &mut ValidationErrors) {
    if let (Some(embedded), Bson::Document(doc)) = (field.embedded, value) {
        for (name, inner) in doc {
            if let Some(inner_field) = embedded().iter().find(|f| f.stored == name) {
                check_value(inner_field, &format!("{path}.{name}"), inner, errors);
            }
        }
    }
    if matches!(value, Bson::Null) {
        if field.is_required() {
            errors.push(FieldError::new(path, "required", "null", "is required"));
        }
        return;
    }
    for rule in field.rules {
        if let Some(message) = broken(field, rule, value) {
            errors.push(FieldError::new(path, rule.name(), describe(value), message));
        }
    }
}

/// What is wrong with `value` under `rule`, if anything.
fn broken(field: &FieldSchema, rule: &Rule, value: &Bson) -> Option<String> {
    let text = value.as_str();
    match *rule {
        Rule::Range { min, max } => {
            let n = number(value)?;
            let low = min.is_some_and(|min| n < min);
            let high = max.is_some_and(|max| n > max);
            (low || high).then(|| bounds("must be", min, max))
        }
        Rule::Length { min, max } => {
            let len = match value {
                Bson::String(s) => s.chars().count(),
                Bson::Array(items) => items.len(),
                _ => return None,
            } as f64;
            let (min, max) = (min.map(|m| m as f64), max.map(|m| m as f64));
            let wrong = min.is_some_and(|min| len < min) || max.is_some_and(|max| len > max);
            wrong.then(|| bounds("must have a length", min, max))
        }
        Rule::Regex(pattern) => {
            let text = text?;
            (!matches_pattern(pattern, text)).then(|| format!("must match /{pattern}/"))
        }
        Rule::Email => (!is_email(text?)).then(|| "must be an e-mail address".to_owned()),
        Rule::OneOf(values) => {
            let allowed = values
                .iter()
                .any(|v| &typed_value(field.bson_type, v) == value);
            (!allowed).then(|| format!("must be one of {values:?}"))
        }
        _ => None,
    }
}

fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    }
}

fn bounds(what: &str, min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("{what} between {min} and {max}"),
        (Some(min), None) => format!("{what} at least {min}"),
        (None, Some(max)) => format!("{what} at most {max}"),
        (None, None) => what.to_owned(),
    }
}

fn describe(value: &Bson) -> String {
    match value {
        Bson::String(s) if s.chars().count() > 40 => {
            format!("a string of {} characters", s.chars().count())
        }
        Bson::Array(items) => format!("an array of {} elements", items.len()),
        other => other.to_string(),
    }
}

/// Patterns compile once each. The derive checked them at compile time; one a hand-written schema got
/// wrong checks nothing here, as it cannot be checked on `create` either.
fn matches_pattern(pattern: &'static str, text: &str) -> bool {
    static COMPILED: LazyLock<Mutex<HashMap<&'static str, Option<Regex>>>> =
        LazyLock::new(Default::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    compiled
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).ok())
        .as_ref()
        .is_none_or(|regex| regex.is_match(text))
}
