use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Embedded)]
#[serde(tag = "kind")]
enum Shape {
    Circle { r: f64 },
}

fn main() {}
