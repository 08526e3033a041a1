use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Embedded)]
#[model(collection = "addresses")]
struct Address {
    city: String,
}

fn main() {}
