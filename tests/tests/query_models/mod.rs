//! The models of the typed-query tests.
#![allow(dead_code)]

use odm_core::prelude::*;
use odm_core::Ref;

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
