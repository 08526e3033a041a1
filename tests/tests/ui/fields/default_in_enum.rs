use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind")]
enum Event {
    Click {
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        id: Option<ObjectId>,
        #[field(default = 0)]
        x: Option<i32>,
    },
}

fn main() {}
