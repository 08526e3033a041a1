use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Embedded)]
struct Address {
    #[field(default = "Lyon")]
    city: Option<String>,
}

fn main() {}
