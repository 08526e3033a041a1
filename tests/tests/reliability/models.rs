//! The models of the reliability tests (`faults`, `concurrency`, `hostile`).

#![allow(dead_code)]

use odm_core::prelude::*;

/// A document that carries the tenant it was written for, so a read can tell a leak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "items")]
pub struct Item {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub tenant: String,
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

pub const NAME_MAX: usize = 64;
pub const AGE_MAX: i32 = 150;

/// A profile whose fields come from end users: every rule must hold before a write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "profiles")]
pub struct Profile {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    #[field(length(min = 1, max = 64))]
    pub name: String,
    #[field(range(min = 0, max = 150))]
    pub age: i32,
    #[field(email)]
    pub email: String,
}

/// The `email` rule, as the library checks it.
pub fn looks_like_email(s: &str) -> bool {
    odm_core::validate::is_email(s)
}
