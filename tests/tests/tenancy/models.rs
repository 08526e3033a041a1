//! The models of the tenancy tests.

use odm_core::prelude::*;

/// A document that records which tenant wrote it, so a read can tell a leak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "docs")]
pub struct Doc {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub owner: String,
    pub n: i32,
}

/// A document that declares the tenant field itself (shared-collection strategy), to try writing
/// another tenant's id through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "stamped")]
pub struct Stamped {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub tenant_id: Option<String>,
    pub name: String,
}

/// An account with a unique e-mail index, for fleet-wide index sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "accounts")]
pub struct Account {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    #[field(unique)]
    pub email: String,
}
