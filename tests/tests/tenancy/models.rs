//! The models of the tenancy tests. `Model` is implemented by hand here the way `#[derive(Model)]`
//! generates it (schema constant, `_id` accessors); switch them to the derive once it expands.

use odm_core::prelude::*;
use odm_core::schema::{FieldSchema, IndexKey, IndexSchema, Schema};

fn set_object_id(slot: &mut Option<ObjectId>, id: Bson) -> odm_core::Result<()> {
    match id {
        Bson::ObjectId(oid) => {
            *slot = Some(oid);
            Ok(())
        }
        _ => Err(Error::Unsupported("the test models have ObjectId ids")),
    }
}

/// A document that records which tenant wrote it, so a read can tell a leak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub owner: String,
    pub n: i32,
}

impl Model for Doc {
    const SCHEMA: &'static Schema = &Schema::new(
        "Doc",
        "docs",
        &[
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("owner", "owner", "String"),
            FieldSchema::new("n", "n", "i32"),
        ],
    );
    type Fields = ();

    fn fields() {}

    fn id(&self) -> odm_core::Result<Bson> {
        Ok(self.id.map_or(Bson::Null, Bson::ObjectId))
    }

    fn set_id(&mut self, id: Bson) -> odm_core::Result<()> {
        set_object_id(&mut self.id, id)
    }
}

/// A document that declares the tenant field itself (shared-collection strategy), to try writing
/// another tenant's id through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub tenant_id: Option<String>,
    pub name: String,
}

impl Model for Stamped {
    const SCHEMA: &'static Schema = &Schema::new(
        "Stamped",
        "stamped",
        &[
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("tenant_id", "tenant_id", "Option<String>"),
            FieldSchema::new("name", "name", "String"),
        ],
    );
    type Fields = ();

    fn fields() {}

    fn id(&self) -> odm_core::Result<Bson> {
        Ok(self.id.map_or(Bson::Null, Bson::ObjectId))
    }

    fn set_id(&mut self, id: Bson) -> odm_core::Result<()> {
        set_object_id(&mut self.id, id)
    }
}

/// An account with a unique e-mail index, for fleet-wide index sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    pub email: String,
}

impl Model for Account {
    const SCHEMA: &'static Schema = &Schema::new(
        "Account",
        "accounts",
        &[
            FieldSchema::new("id", "_id", "Option<ObjectId>"),
            FieldSchema::new("email", "email", "String"),
        ],
    )
    .with_indexes(&[IndexSchema::new(&[("email", IndexKey::Asc)]).unique()]);
    type Fields = ();

    fn fields() {}

    fn id(&self) -> odm_core::Result<Bson> {
        Ok(self.id.map_or(Bson::Null, Bson::ObjectId))
    }

    fn set_id(&mut self, id: Bson) -> odm_core::Result<()> {
        set_object_id(&mut self.id, id)
    }
}
