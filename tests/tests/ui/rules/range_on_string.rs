use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(range(min = 1, max = 10))]
    name: String,
}

fn main() {}
