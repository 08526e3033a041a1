use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind")]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
        at: i64,
    },
    View {
        #[serde(rename = "_id")]
        id: ObjectId,
        at: String,
    },
}

fn main() {}
