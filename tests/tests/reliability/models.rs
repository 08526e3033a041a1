//! The models of the reliability tests (`faults`, `concurrency`, `hostile`).
//!
//! `Model` is implemented by hand here, mirroring what `#[derive(Model)]` writes for the attributes in
//! each struct's doc comment: a `'static` schema, typed field paths, the `_id` accessors and the field
//! rules. Once the derive is available these become `#[derive(Model)]` with those attributes.
#![allow(dead_code)]

use odm_core::bson::{oid::ObjectId, Bson};
use odm_core::schema::{FieldSchema, Rule, Schema};
use odm_core::validate::{FieldError, ValidationErrors};
use odm_core::{Field, Model, Result};
use serde::{Deserialize, Serialize};

/// A document of one tenant. As derived:
///
/// ```ignore
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
/// #[model(collection = "items")]
/// pub struct Item { #[serde(rename = "_id", ...)] id, tenant, seq, payload }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    /// The tenant the item was written for, so a document found in another tenant's database is caught.
    pub tenant: String,
    /// The item's number within its writer.
    pub seq: i64,
    pub payload: String,
}

impl Item {
    pub fn new(tenant: &str, seq: i64, payload: impl Into<String>) -> Item {
        Item {
            id: None,
            tenant: tenant.to_owned(),
            seq,
            payload: payload.into(),
        }
    }
}

/// The typed paths of [`Item`].
pub struct ItemFields {
    pub id: Field<Item, Option<ObjectId>>,
    pub tenant: Field<Item, String>,
    pub seq: Field<Item, i64>,
    pub payload: Field<Item, String>,
}

impl Model for Item {
    const SCHEMA: &'static Schema = &Schema::new(
        "Item",
        "items",
        &[
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("tenant", "tenant", "String"),
            FieldSchema::new("seq", "seq", "i64"),
            FieldSchema::new("payload", "payload", "String"),
        ],
    );

    type Fields = ItemFields;

    fn fields() -> ItemFields {
        ItemFields {
            id: Field::new("_id"),
            tenant: Field::new("tenant"),
            seq: Field::new("seq"),
            payload: Field::new("payload"),
        }
    }

    fn id(&self) -> Result<Bson> {
        Ok(self.id.map_or(Bson::Null, Bson::ObjectId))
    }

    fn set_id(&mut self, id: Bson) -> Result<()> {
        self.id = id.as_object_id();
        Ok(())
    }
}

/// A profile filled in by an end user, with rules on every field. As derived:
///
/// ```ignore
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
/// #[model(collection = "profiles")]
/// pub struct Profile {
///     #[serde(rename = "_id", ...)] id,
///     #[field(length(min = 1, max = 64))] name: String,
///     #[field(range(min = 0, max = 150))] age: i32,
///     #[field(email)] email: String,
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub name: String,
    pub age: i32,
    pub email: String,
}

/// The typed paths of [`Profile`].
pub struct ProfileFields {
    pub id: Field<Profile, Option<ObjectId>>,
    pub name: Field<Profile, String>,
    pub age: Field<Profile, i32>,
    pub email: Field<Profile, String>,
}

pub const NAME_MAX: usize = 64;
pub const AGE_MAX: i32 = 150;

impl Model for Profile {
    const SCHEMA: &'static Schema = &Schema::new(
        "Profile",
        "profiles",
        &[
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("name", "name", "String").with_rules(&[Rule::Length {
                min: Some(1),
                max: Some(NAME_MAX),
            }]),
            FieldSchema::new("age", "age", "i32").with_rules(&[Rule::Range {
                min: Some(0.0),
                max: Some(AGE_MAX as f64),
            }]),
            FieldSchema::new("email", "email", "String").with_rules(&[Rule::Email]),
        ],
    );

    type Fields = ProfileFields;

    fn fields() -> ProfileFields {
        ProfileFields {
            id: Field::new("_id"),
            name: Field::new("name"),
            age: Field::new("age"),
            email: Field::new("email"),
        }
    }

    fn id(&self) -> Result<Bson> {
        Ok(self.id.map_or(Bson::Null, Bson::ObjectId))
    }

    fn set_id(&mut self, id: Bson) -> Result<()> {
        self.id = id.as_object_id();
        Ok(())
    }

    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        let at = |field: &str| {
            if path.is_empty() {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            }
        };
        let chars = self.name.chars().count();
        if !(1..=NAME_MAX).contains(&chars) {
            errors.push(FieldError::new(
                at("name"),
                "length",
                format!("a string of {chars} characters"),
                format!("must be 1 to {NAME_MAX} characters long"),
            ));
        }
        if !(0..=AGE_MAX).contains(&self.age) {
            errors.push(FieldError::new(
                at("age"),
                "range",
                self.age.to_string(),
                format!("must be between 0 and {AGE_MAX}"),
            ));
        }
        if !looks_like_email(&self.email) {
            errors.push(FieldError::new(
                at("email"),
                "email",
                format!("{:?}", self.email),
                "must look like an e-mail address (local@domain.tld)",
            ));
        }
    }
}

/// `local@domain.tld`, without spaces or control characters: the shape the `email` rule checks.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let clean = |p: &str| !p.is_empty() && !p.chars().any(|c| c.is_whitespace() || c.is_control());
    clean(local)
        && clean(domain)
        && !domain.contains('@')
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
}
