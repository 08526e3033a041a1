use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind")]
#[model(timestamps, version)]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
        created_at: Option<DateTime>,
        updated_at: Option<DateTime>,
        #[serde(rename = "__v", default)]
        version: i64,
    },
    View {
        #[serde(rename = "_id")]
        id: ObjectId,
        updated_at: Option<DateTime>,
    },
}

fn main() {}
