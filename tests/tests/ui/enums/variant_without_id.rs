use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind")]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
        x: i32,
    },
    View {
        id: ObjectId,
        page: String,
    },
}

fn main() {}
