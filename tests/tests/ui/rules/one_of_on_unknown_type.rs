use odm_core::prelude::*;

#[derive(Serialize, Deserialize, PartialEq)]
enum Plan {
    Free,
    Pro,
}

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(one_of("Free", "Pro"))]
    plan: Plan,
}

fn main() {}
