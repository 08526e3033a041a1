use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(discriminator = "kind")]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
}

fn main() {}
