use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    name: String,
    #[serde(rename = "name")]
    nickname: String,
}

fn main() {}
