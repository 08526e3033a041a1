use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(default)]
    role: Option<String>,
}

fn main() {}
