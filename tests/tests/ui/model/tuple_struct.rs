use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
struct Pair(ObjectId, String);

fn main() {}
