use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
        #[serde(rename = "k")]
        kind: String,
    },
    #[serde(rename = "click")]
    DoubleClick {
        #[serde(rename = "_id")]
        id: ObjectId,
    },
}

fn main() {}
