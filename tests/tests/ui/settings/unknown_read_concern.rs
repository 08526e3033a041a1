use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(read_concern = "snapshot")]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    org: String,
}

fn main() {}
