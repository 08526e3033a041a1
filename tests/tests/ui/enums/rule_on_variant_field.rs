use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind")]
enum Event {
    View {
        #[serde(rename = "_id")]
        id: ObjectId,
        #[field(range(min = 0))]
        page: String,
        #[field(unknwn)]
        at: i64,
    },
}

fn main() {}
