//! The model's field rules, checked on the BSON values an update writes, so an update cannot store what
//! `create` would refuse, nor what the server's `$jsonSchema` would.
//!
//! Every decision is the rule's own ([`Rule::judge`] for a rule, [`BsonType::accepts`] for a field's type,
//! in `schema::rules`): this module only finds the field a path names and the values an operator writes.
//! What a value alone decides is checked: the type, `required`, `range`, `length`, `regex`, `email` and
//! `one_of` of the values of `$set` and `$setOnInsert` (embedded documents, lists of them and array
//! elements included, and the required fields of a whole embedded document), the elements `$push` and
//! `$addToSet` add, the type `$inc`, `$mul`, `$min`, `$max` and `$currentDate` leave, and `$unset` or
//! `$rename` of a required field. What depends on the stored document is not: the value `$inc` leaves
//! against `range`, a list's length after `$push`, custom `validate = ..` functions, update pipelines.

use mongodb::bson::{Bson, DateTime, Document, Timestamp};

use crate::schema::{judge_type, BsonType, FieldSchema, Rule, Schema, Subject};
use crate::validate::{join_path, judge_into, FieldError, ValidationErrors};

/// Checks an update document against `schema`; every failure is reported, with its path.
pub(crate) fn check(schema: &Schema, update: &Document) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new(schema.type_name);
    for (op, args) in update {
        let Bson::Document(args) = args else { continue };
        for (path, arg) in args {
            let Some(slot) = resolve(schema.fields, path) else {
                continue;
            };
            match op.as_str() {
                "$set" | "$setOnInsert" => slot.check(path, arg, &mut errors),
                // `$rename` takes the value away from its source, as `$unset` does.
                "$unset" | "$rename" => {
                    if let Slot::Field(field) = slot {
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
                "$push" | "$addToSet" => {
                    if let Slot::Field(field) = slot {
                        let each = match arg {
                            Bson::Document(d) if d.contains_key("$each") => {
                                d.get_array("$each").ok()
                            }
                            _ => None,
                        };
                        match each {
                            Some(values) => {
                                for value in values {
                                    Slot::Element(field).check(path, value, &mut errors);
                                }
                            }
                            None => Slot::Element(field).check(path, arg, &mut errors),
                        }
                    }
                }
                // The result has the argument's type when it wins (and a float when a float is added).
                "$inc" | "$mul" | "$min" | "$max" => slot.check_type(path, arg, &mut errors),
                "$currentDate" => {
                    let is_timestamp = arg
                        .as_document()
                        .and_then(|d| d.get_str("$type").ok())
                        .is_some_and(|t| t == "timestamp");
                    let now = if is_timestamp {
                        Bson::Timestamp(Timestamp {
                            time: 0,
                            increment: 0,
                        })
                    } else {
                        Bson::DateTime(DateTime::now())
                    };
                    slot.check(path, &now, &mut errors);
                }
                _ => {}
            }
        }
    }
    errors.into_result()
}

/// Checks a whole document as it would be stored (inserted or replaced): each field the schema knows,
/// and the presence of every required one (`_id` aside, which the server fills in).
pub(crate) fn check_document(schema: &Schema, doc: &Document) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new(schema.type_name);
    check_object(schema.fields, "", doc, &mut errors, true);
    errors.into_result()
}

/// What a path of an update names.
#[derive(Clone, Copy)]
enum Slot {
    /// A field (of the model, or of an embedded document).
    Field(&'static FieldSchema),
    /// An element of a list field: `tags.2`, `past.$`, `past.$[]`, `past.$[old]`.
    Element(&'static FieldSchema),
}

/// The field or element a dotted path names, through embedded documents and array elements. A path the
/// schema does not know has no rules to check.
fn resolve(fields: &'static [FieldSchema], path: &str) -> Option<Slot> {
    let mut segments = path.split('.');
    let first = segments.next()?;
    let mut slot = Slot::Field(fields.iter().find(|f| f.stored == first)?);
    for segment in segments {
        slot = match slot {
            Slot::Field(field) if is_list(field) => {
                if !is_element(segment) {
                    return None;
                }
                Slot::Element(field)
            }
            Slot::Field(field) | Slot::Element(field) => {
                let embedded = field.embedded?();
                Slot::Field(embedded.iter().find(|f| f.stored == segment)?)
            }
        };
    }
    Some(slot)
}

fn is_list(field: &FieldSchema) -> bool {
    field.bson_type == Some(BsonType::Array)
}

/// An array index or a positional operator.
fn is_element(segment: &str) -> bool {
    segment == "$"
        || (segment.starts_with("$[") && segment.ends_with(']'))
        || (!segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()))
}

impl Slot {
    /// Checks a value written at `path`.
    fn check(self, path: &str, value: &Bson, errors: &mut ValidationErrors) {
        match self {
            Slot::Field(field) => check_field(field, path, value, errors),
            Slot::Element(field) => check_element(field, path, value, errors),
        }
    }

    /// Checks only the type of a value written at `path`.
    fn check_type(self, path: &str, value: &Bson, errors: &mut ValidationErrors) {
        let (ty, nullable) = match self {
            Slot::Field(field) => (field.bson_type, field.is_nullable()),
            Slot::Element(field) => (element_type(field), false),
        };
        if let Some(ty) = ty {
            type_failure(ty, nullable, path, value, errors);
        }
    }
}

/// The type of a list field's elements.
fn element_type(field: &FieldSchema) -> Option<BsonType> {
    if field.embedded.is_some() {
        Some(BsonType::Object)
    } else {
        field.items
    }
}

fn type_failure(
    ty: BsonType,
    nullable: bool,
    path: &str,
    value: &Bson,
    errors: &mut ValidationErrors,
) -> bool {
    match judge_type(ty, nullable, value) {
        Ok(()) => false,
        Err(message) => {
            errors.push(FieldError::new(path, "type", describe(value), message));
            true
        }
    }
}

fn check_field(field: &FieldSchema, path: &str, value: &Bson, errors: &mut ValidationErrors) {
    if matches!(value, Bson::Null) {
        if field.is_nullable() {
            return;
        }
        if field.is_required() {
            errors.push(FieldError::new(path, "required", "null", "is required"));
        } else {
            // Omittable but not an `Option`: absent is fine, `null` is not.
            match field.bson_type {
                Some(ty) => {
                    type_failure(ty, false, path, value, errors);
                }
                None => errors.push(FieldError::new(path, "type", "null", "must not be null")),
            }
        }
        return;
    }
    if let Some(ty) = field.bson_type {
        if type_failure(ty, field.is_nullable(), path, value, errors) {
            return;
        }
    }
    match (field.embedded, value) {
        (Some(embedded), Bson::Document(doc)) if !is_list(field) => {
            check_object(embedded(), path, doc, errors, false);
        }
        (_, Bson::Array(items)) if is_list(field) => {
            for (i, item) in items.iter().enumerate() {
                check_element(field, &format!("{path}.{i}"), item, errors);
            }
        }
        _ => {}
    }
    for rule in field.rules {
        judge_into(errors, || path.to_owned(), rule, Subject::of(rule, value));
    }
}

/// Checks one element of a list field: its type, and an embedded document's fields.
fn check_element(field: &FieldSchema, path: &str, value: &Bson, errors: &mut ValidationErrors) {
    if let Some(ty) = element_type(field) {
        if type_failure(ty, false, path, value, errors) {
            return;
        }
    }
    if let (Some(embedded), Bson::Document(doc)) = (field.embedded, value) {
        check_object(embedded(), path, doc, errors, false);
    }
}

/// Checks a whole embedded document (or a whole stored one, at the `top`): each field it holds, and the
/// presence of the required ones.
fn check_object(
    fields: &[FieldSchema],
    path: &str,
    doc: &Document,
    errors: &mut ValidationErrors,
    top: bool,
) {
    for field in fields {
        let inner = join_path(path, field.stored);
        match doc.get(field.stored) {
            Some(value) => check_field(field, &inner, value, errors),
            None if field.is_required() && !(top && field.stored == "_id") => {
                errors.push(FieldError::new(
                    inner,
                    "required",
                    "(missing)",
                    "is required",
                ));
            }
            None => {}
        }
    }
}

/// A short description of a value of the wrong type.
fn describe(value: &Bson) -> String {
    let ty = BsonType::of(value);
    let rule = Rule::Length {
        min: None,
        max: None,
    };
    match ty {
        BsonType::String | BsonType::Int | BsonType::Long | BsonType::Double => {
            let scalar = Rule::OneOf(&[]);
            format!("{} ({ty})", Subject::of(&scalar, value).describe())
        }
        BsonType::Array | BsonType::Object => Subject::of(&rule, value).describe(),
        BsonType::Null => "null".to_owned(),
        _ => format!("a `{ty}`"),
    }
}

/// What an update must not do with an immutable field (`#[field(immutable)]`): name it, a path below it
/// or a path above it under any operator but `$setOnInsert` (which writes only a new document), or, in
/// a pipeline, set, unset or reshape it. Returns the first path that does.
pub(crate) fn immutable_path(schema: &Schema, update: &crate::query::Update) -> Option<String> {
    let immutable = schema
        .fields
        .iter()
        .filter(|f| f.immutable)
        .map(|f| f.stored);
    let first = immutable.clone().next()?;
    let hit = |path: &str| immutable.clone().any(|f| overlaps(path, f));
    match update {
        crate::query::Update::Document(doc) => {
            for (op, args) in doc {
                let Bson::Document(args) = args else { continue };
                if op == "$setOnInsert" {
                    continue;
                }
                for (path, arg) in args {
                    if hit(path) {
                        return Some(path.clone());
                    }
                    // `$rename` writes its target too.
                    if let (true, Bson::String(to)) = (op == "$rename", arg) {
                        if hit(to) {
                            return Some(to.clone());
                        }
                    }
                }
            }
            None
        }
        crate::query::Update::Pipeline(stages) => {
            for stage in stages {
                for (op, args) in stage {
                    match (op.as_str(), args) {
                        ("$set" | "$addFields", Bson::Document(fields)) => {
                            if let Some(path) = fields.keys().find(|p| hit(p)) {
                                return Some(path.clone());
                            }
                        }
                        ("$unset", Bson::String(path)) if hit(path) => return Some(path.clone()),
                        ("$unset", Bson::Array(paths)) => {
                            if let Some(Bson::String(path)) =
                                paths.iter().find(|p| p.as_str().is_some_and(hit))
                            {
                                return Some(path.clone());
                            }
                        }
                        // A stage that rebuilds the whole document may drop or change anything.
                        ("$project" | "$replaceRoot" | "$replaceWith", _) => {
                            return Some(first.to_owned())
                        }
                        _ => {}
                    }
                }
            }
            None
        }
    }
}

/// `true` when the paths `a` and `b` are one path, or one is below the other.
pub(crate) fn overlaps(a: &str, b: &str) -> bool {
    let below = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    below(a, b) || below(b, a)
}
