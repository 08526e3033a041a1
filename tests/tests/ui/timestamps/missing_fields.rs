use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(timestamps)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    created_at: Option<DateTime>,
}

fn main() {}
