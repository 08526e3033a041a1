use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind")]
#[model(soft_delete)]
enum Event {
    Click {
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        id: Option<ObjectId>,
        deleted_at: Option<DateTime>,
    },
    View {
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        id: Option<ObjectId>,
    },
}

fn main() {}
