use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(index(fields("created_at")))]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[serde(rename = "createdAt")]
    created_at: DateTime,
}

fn main() {}
