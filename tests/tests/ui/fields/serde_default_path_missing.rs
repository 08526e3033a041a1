use odm_core::prelude::*;

// A serde default that names no function: serde's error, at the path, and no other.
#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[serde(default = "no_such_function")]
    plan: String,
}

fn main() {}
