use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Embedded)]
#[model(soft_delete)]
struct Address {
    city: String,
}

fn main() {}
