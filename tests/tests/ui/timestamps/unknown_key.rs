use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(timestamps(created = "created", updated_at = "updated_at"))]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    created: DateTime,
    updated_at: DateTime,
}

fn main() {}
