use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct User {
    name: String,
}

fn main() {}
