use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(version)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[serde(rename = "__v", default)]
    #[field(hidden)]
    version: i64,
}

fn main() {}
