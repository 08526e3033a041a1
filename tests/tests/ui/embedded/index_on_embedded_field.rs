use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Embedded)]
struct Address {
    #[field(unique)]
    city: String,
}

fn main() {}
