use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    #[field(hidden)]
    id: Option<ObjectId>,
    email: String,
}

fn main() {}
