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
        #[serde(rename = "when")]
        at: i64,
        #[serde(rename = "at")]
        time: i64,
    },
}

fn main() {}
