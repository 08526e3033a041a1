//! The model every benchmark uses: a `User` with the rules a real schema has (an e-mail shape and pattern,
//! lengths, a range, a list, an embedded address with a rule of its own, timestamps).
//!
//! The `Model` and `Embedded` implementations are written out by hand with what `#[derive(Model)]` and
//! `#[derive(Embedded)]` generate for the attributes shown on each field, so the figures are those of
//! derived code. The rules mirror `bench/mongoose/bench.js` one for one.
#![allow(dead_code)]

use std::sync::LazyLock;

use odm_core::__private::{FieldError, FieldSchema, Rule, Schema, ValidationErrors};
use odm_core::bson::{oid::ObjectId, Bson, DateTime};
use odm_core::{Embedded, Model};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// The pattern of `#[field(email, regex = ..)]` on `User::email`.
pub const EMAIL_PATTERN: &str = r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$";
/// The pattern of `#[field(regex = ..)]` on `Address::zip`.
pub const ZIP_PATTERN: &str = r"^[0-9]{5}$";

static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(EMAIL_PATTERN).expect("pattern"));
static ZIP_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(ZIP_PATTERN).expect("pattern"));

/// A user, as it would be declared with the derive:
///
/// ```ignore
/// #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// #[model(collection = "users", timestamps)]
/// pub struct User {
///     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
///     pub id: Option<ObjectId>,
///     #[field(email, regex = r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")]
///     pub email: String,
///     #[field(length(min = 1, max = 100))]
///     pub name: String,
///     #[field(range(min = 0, max = 150))]
///     pub age: i32,
///     #[field(length(max = 10))]
///     pub tags: Vec<String>,
///     pub address: Address,
///     pub created_at: Option<DateTime>,
///     pub updated_at: Option<DateTime>,
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The id.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    /// E-mail shape and pattern.
    pub email: String,
    /// 1 to 100 characters.
    pub name: String,
    /// 0 to 150.
    pub age: i32,
    /// At most 10.
    pub tags: Vec<String>,
    /// Embedded, with rules of its own.
    pub address: Address,
    /// Set on insert.
    pub created_at: Option<DateTime>,
    /// Set on every write.
    pub updated_at: Option<DateTime>,
}

/// An embedded address:
///
/// ```ignore
/// #[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
/// pub struct Address {
///     #[field(length(min = 1, max = 200))]
///     pub street: String,
///     #[field(length(min = 1, max = 100))]
///     pub city: String,
///     #[field(regex = r"^[0-9]{5}$")]
///     pub zip: String,
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// 1 to 200 characters.
    pub street: String,
    /// 1 to 100 characters.
    pub city: String,
    /// Five digits.
    pub zip: String,
}

const EMAIL_RULES: &[Rule] = &[Rule::Email, Rule::Regex(EMAIL_PATTERN)];
const NAME_RULES: &[Rule] = &[Rule::Length {
    min: Some(1),
    max: Some(100),
}];
const AGE_RULES: &[Rule] = &[Rule::Range {
    min: Some(0.0),
    max: Some(150.0),
}];
const TAGS_RULES: &[Rule] = &[Rule::Length {
    min: None,
    max: Some(10),
}];
const STREET_RULES: &[Rule] = &[Rule::Length {
    min: Some(1),
    max: Some(200),
}];
const CITY_RULES: &[Rule] = &[Rule::Length {
    min: Some(1),
    max: Some(100),
}];
const ZIP_RULES: &[Rule] = &[Rule::Regex(ZIP_PATTERN)];

static ADDRESS_FIELDS: [FieldSchema; 3] = [
    FieldSchema::new("street", "street", "String").with_rules(STREET_RULES),
    FieldSchema::new("city", "city", "String").with_rules(CITY_RULES),
    FieldSchema::new("zip", "zip", "String").with_rules(ZIP_RULES),
];

fn address_fields() -> &'static [FieldSchema] {
    &ADDRESS_FIELDS
}

static USER_FIELDS: [FieldSchema; 8] = [
    FieldSchema::new("id", "_id", "Option<ObjectId>"),
    FieldSchema::new("email", "email", "String").with_rules(EMAIL_RULES),
    FieldSchema::new("name", "name", "String").with_rules(NAME_RULES),
    FieldSchema::new("age", "age", "i32").with_rules(AGE_RULES),
    FieldSchema::new("tags", "tags", "Vec<String>").with_rules(TAGS_RULES),
    FieldSchema::new("address", "address", "Address").with_embedded(address_fields),
    FieldSchema::new("created_at", "created_at", "Option<DateTime>"),
    FieldSchema::new("updated_at", "updated_at", "Option<DateTime>"),
];

static USER_SCHEMA: Schema =
    Schema::new("User", "users", &USER_FIELDS).with_timestamps("created_at", "updated_at");

/// The path of a field below `prefix`, built only when a rule fails.
fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn check_length(
    errors: &mut ValidationErrors,
    prefix: &str,
    field: &str,
    len: usize,
    min: Option<usize>,
    max: Option<usize>,
) {
    if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
        errors.push(FieldError::new(
            path(prefix, field),
            "length",
            format!("length {len}"),
            format!("length must be within {min:?}..={max:?}"),
        ));
    }
}

fn check_regex(errors: &mut ValidationErrors, prefix: &str, field: &str, re: &Regex, value: &str) {
    if !re.is_match(value) {
        errors.push(FieldError::new(
            path(prefix, field),
            "regex",
            format!("{value:?}"),
            format!("must match {}", re.as_str()),
        ));
    }
}

/// Shaped like an e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.contains(char::is_whitespace)
}

impl Embedded for Address {
    const FIELDS: &'static [FieldSchema] = &ADDRESS_FIELDS;
    type Fields<M> = ();

    fn fields_at<M>(_prefix: &str) -> Self::Fields<M> {}

    fn validate_into(&self, prefix: &str, errors: &mut ValidationErrors) {
        check_length(
            errors,
            prefix,
            "street",
            self.street.chars().count(),
            Some(1),
            Some(200),
        );
        check_length(
            errors,
            prefix,
            "city",
            self.city.chars().count(),
            Some(1),
            Some(100),
        );
        check_regex(errors, prefix, "zip", &ZIP_RE, &self.zip);
    }
}

impl Model for User {
    const SCHEMA: &'static Schema = &USER_SCHEMA;
    type Fields = ();

    fn fields() -> Self::Fields {}

    fn id(&self) -> odm_core::Result<Bson> {
        Ok(self.id.map_or(Bson::Null, Bson::ObjectId))
    }

    fn set_id(&mut self, id: Bson) -> odm_core::Result<()> {
        match id {
            Bson::ObjectId(oid) => {
                self.id = Some(oid);
                Ok(())
            }
            other => Err(odm_core::Error::Unsupported(
                if matches!(other, Bson::Null) {
                    "`_id` of `User` cannot be null"
                } else {
                    "`_id` of `User` is an ObjectId"
                },
            )),
        }
    }

    fn validate_into(&self, prefix: &str, errors: &mut ValidationErrors) {
        if !is_email(&self.email) {
            errors.push(FieldError::new(
                path(prefix, "email"),
                "email",
                format!("{:?}", self.email),
                "must be shaped like an e-mail address",
            ));
        }
        check_regex(errors, prefix, "email", &EMAIL_RE, &self.email);
        check_length(
            errors,
            prefix,
            "name",
            self.name.chars().count(),
            Some(1),
            Some(100),
        );
        if !(0..=150).contains(&self.age) {
            errors.push(FieldError::new(
                path(prefix, "age"),
                "range",
                self.age.to_string(),
                "must be within 0..=150",
            ));
        }
        check_length(errors, prefix, "tags", self.tags.len(), None, Some(10));
        // At the top level the embedded path is a literal: validating a valid value allocates nothing.
        if prefix.is_empty() {
            self.address.validate_into("address", errors);
        } else {
            self.address.validate_into(&path(prefix, "address"), errors);
        }
    }

    fn touch(&mut self, now: DateTime, created: bool) {
        if created {
            self.created_at = Some(now);
        }
        self.updated_at = Some(now);
    }
}

/// The `i`-th sample user: valid, with three tags, an address and no id or timestamps.
pub fn user(i: usize) -> User {
    User {
        id: None,
        email: format!("user{i}@acme.io"),
        name: format!("User Number {i}"),
        age: (i % 100) as i32,
        tags: vec!["admin".into(), "beta".into(), "eu-west".into()],
        address: Address {
            street: format!("{i} Main Street"),
            city: "Springfield".into(),
            zip: "12345".into(),
        },
        created_at: None,
        updated_at: None,
    }
}

/// The tenant database name of tenant `i`, written into `buf` (reused, so naming allocates nothing).
pub fn tenant_name(buf: &mut String, i: usize) -> &str {
    use std::fmt::Write;
    buf.clear();
    write!(buf, "tenant_{i:07}").expect("write to a String");
    buf
}
