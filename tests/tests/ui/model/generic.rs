use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct Wrapper<T> {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    value: T,
}

fn main() {}
