use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(untagged)]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
    },
}

fn main() {}
