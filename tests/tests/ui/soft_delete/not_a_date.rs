use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(soft_delete)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    deleted_at: Option<bool>,
}

fn main() {}
