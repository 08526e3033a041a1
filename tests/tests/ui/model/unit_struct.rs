use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct Marker;

fn main() {}
