//! Test models. `User`, `Address` and `Post` implement `Model`/`Embedded` by hand, mirroring what
//! `#[derive(Model)]`/`#[derive(Embedded)]` generate (a `UserFields` struct of typed paths with stored
//! names, and the schema constant); `Event`, an enum, uses the derive.
#![allow(dead_code)]

use odm_core::bson::{oid::ObjectId, Bson, DateTime};
use odm_core::schema::{FieldSchema, Schema};
use odm_core::{Embedded, Field, Model, Ref, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub city: String,
    #[serde(rename = "postcode")]
    pub zip: String,
}

pub struct AddressFields<M> {
    pub city: Field<M, String>,
    pub zip: Field<M, String>,
}

impl Embedded for Address {
    const FIELDS: &'static [FieldSchema] = &[
        FieldSchema::new("city", "city", "String"),
        FieldSchema::new("zip", "postcode", "String"),
    ];
    type Fields<M> = AddressFields<M>;
    fn fields_at<M>(prefix: &str) -> AddressFields<M> {
        AddressFields {
            city: Field::nested(prefix, "city"),
            zip: Field::nested(prefix, "postcode"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub email: String,
    #[serde(rename = "years")]
    pub age: i32,
    pub nick: Option<String>,
    pub tags: Vec<String>,
    pub score: f64,
    pub address: Address,
    pub seen_at: Option<DateTime>,
}

pub struct UserFields {
    pub id: Field<User, Option<ObjectId>>,
    pub email: Field<User, String>,
    pub age: Field<User, i32>,
    pub nick: Field<User, Option<String>>,
    pub tags: Field<User, Vec<String>>,
    pub score: Field<User, f64>,
    pub address: <Address as Embedded>::Fields<User>,
    pub seen_at: Field<User, Option<DateTime>>,
}

impl Model for User {
    const SCHEMA: &'static Schema = &Schema::new(
        "User",
        "users",
        &[
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("email", "email", "String"),
            FieldSchema::new("age", "years", "i32"),
            FieldSchema::new("nick", "nick", "Option<String>"),
            FieldSchema::new("tags", "tags", "Vec<String>"),
            FieldSchema::new("score", "score", "f64"),
            FieldSchema::new("address", "address", "Address")
                .with_embedded(|| <Address as Embedded>::FIELDS),
            FieldSchema::new("seen_at", "seen_at", "Option<DateTime>"),
        ],
    );
    type Fields = UserFields;
    fn fields() -> UserFields {
        UserFields {
            id: Field::new("_id"),
            email: Field::new("email"),
            age: Field::new("years"),
            nick: Field::new("nick"),
            tags: Field::new("tags"),
            score: Field::new("score"),
            address: <Address as Embedded>::fields_at::<User>("address"),
            seen_at: Field::new("seen_at"),
        }
    }
    fn id(&self) -> Result<Bson> {
        Ok(self.id.map(Bson::ObjectId).unwrap_or(Bson::Null))
    }
    fn set_id(&mut self, id: Bson) -> Result<()> {
        self.id = id.as_object_id();
        Ok(())
    }
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub title: String,
    pub author: Ref<User>,
    pub reviewers: Vec<Ref<User>>,
}

pub struct PostFields {
    pub id: Field<Post, Option<ObjectId>>,
    pub title: Field<Post, String>,
    pub author: Field<Post, Ref<User>>,
    pub reviewers: Field<Post, Vec<Ref<User>>>,
}

impl Model for Post {
    const SCHEMA: &'static Schema = &Schema::new(
        "Post",
        "posts",
        &[
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("title", "title", "String"),
            FieldSchema::new("author", "author", "Ref<User>"),
            FieldSchema::new("reviewers", "reviewers", "Vec<Ref<User>>"),
        ],
    );
    type Fields = PostFields;
    fn fields() -> PostFields {
        PostFields {
            id: Field::new("_id"),
            title: Field::new("title"),
            author: Field::new("author"),
            reviewers: Field::new("reviewers"),
        }
    }
    fn id(&self) -> Result<Bson> {
        Ok(self.id.map(Bson::ObjectId).unwrap_or(Bson::Null))
    }
    fn set_id(&mut self, id: Bson) -> Result<()> {
        self.id = id.as_object_id();
        Ok(())
    }
}

/// Several kinds of document in one collection (Mongoose's discriminators): a serde-tagged enum. The
/// derive generates `EventKind` and `EventFields` (the tag, then every stored field of any variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[model(collection = "events")]
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
