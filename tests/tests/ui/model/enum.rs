use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
        x: i32,
    },
    View {
        #[serde(rename = "_id")]
        id: ObjectId,
        page: String,
    },
}

fn main() {}
