use odm_core::prelude::*;

#[derive(Serialize, Deserialize)]
struct Page {
    #[serde(rename = "_id")]
    id: ObjectId,
    path: String,
}

#[derive(Serialize, Deserialize, Model)]
#[serde(tag = "kind")]
enum Event {
    Click {
        #[serde(rename = "_id")]
        id: ObjectId,
        x: i32,
    },
    View(Page),
    Closed,
}

fn main() {
    // The kinds are still generated, so their uses add no errors.
    let _ = EventKind::Click;
}
