use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[serde(skip)]
    #[field(length(max = 10))]
    cache: String,
}

fn main() {}
