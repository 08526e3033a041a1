//! The models of the typed-query tests.
#![allow(dead_code)]

use odm_core::prelude::*;
use odm_core::schema::{FieldSchema, Schema};
use odm_core::{Field, Ref};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Embedded)]
pub struct Address {
    pub city: String,
    #[serde(rename = "postcode")]
    pub zip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "users")]
pub struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub email: String,
    #[serde(rename = "years")]
    pub age: i32,
    pub nick: Option<String>,
    pub tags: Vec<String>,
    pub score: f64,
    #[field(nested)]
    pub address: Address,
    pub seen_at: Option<DateTime>,
}

impl User {
    pub fn new(email: &str, age: i32) -> User {
        User {
            id: None,
            email: email.to_owned(),
            age,
            nick: None,
            tags: Vec::new(),
            score: 0.0,
            address: Address {
                city: "Lyon".to_owned(),
                zip: "69001".to_owned(),
            },
            seen_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "posts")]
pub struct Post {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub title: String,
    pub author: Ref<User>,
    pub reviewers: Vec<Ref<User>>,
}

/// Several kinds of document in one collection (Mongoose's discriminators): a serde-tagged enum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Click {
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        id: Option<ObjectId>,
        at: i64,
        x: i32,
        y: i32,
    },
    View {
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        id: Option<ObjectId>,
        at: i64,
        page: String,
    },
}

/// The tag's values, for a typed filter on the kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Click,
    View,
}

/// The tag, the fields every variant has, and the variants' own fields.
pub struct EventFields {
    pub kind: Field<Event, EventKind>,
    pub id: Field<Event, Option<ObjectId>>,
    pub at: Field<Event, i64>,
    pub x: Field<Event, i32>,
    pub y: Field<Event, i32>,
    pub page: Field<Event, String>,
}

impl Model for Event {
    const SCHEMA: &'static Schema = &Schema::new(
        "Event",
        "events",
        &[
            FieldSchema::new("kind", "kind", "EventKind"),
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("at", "at", "i64"),
            FieldSchema::new("x", "x", "i32"),
            FieldSchema::new("y", "y", "i32"),
            FieldSchema::new("page", "page", "String"),
        ],
    );
    type Fields = EventFields;
    fn fields() -> EventFields {
        EventFields {
            kind: Field::new("kind"),
            id: Field::new("_id"),
            at: Field::new("at"),
            x: Field::new("x"),
            y: Field::new("y"),
            page: Field::new("page"),
        }
    }
    fn id(&self) -> Result<Bson> {
        let (Event::Click { id, .. } | Event::View { id, .. }) = self;
        Ok(id.map(Bson::ObjectId).unwrap_or(Bson::Null))
    }
    fn set_id(&mut self, new: Bson) -> Result<()> {
        let (Event::Click { id, .. } | Event::View { id, .. }) = self;
        *id = new.as_object_id();
        Ok(())
    }
}
