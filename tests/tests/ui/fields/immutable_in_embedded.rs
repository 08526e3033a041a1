use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Embedded)]
struct Address {
    #[field(immutable)]
    city: String,
}

fn main() {}
