use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind", content = "data")]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
    },
}

fn main() {}
