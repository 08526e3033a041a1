use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(timestamps, version)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(immutable)]
    created_at: Option<DateTime>,
    #[field(immutable)]
    updated_at: Option<DateTime>,
    #[serde(rename = "__v", default)]
    #[field(immutable)]
    version: i64,
}

fn main() {}
