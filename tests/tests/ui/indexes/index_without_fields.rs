use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(index(unique))]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    age: i32,
}

fn main() {}
