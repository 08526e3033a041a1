use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
#[model(colection = "people", timestamps, index(fields("nam")))]
struct Person {
    #[field(range(min = 0), lenght(max = 3))]
    name: String,
    #[field(ttl = "1d")]
    age: i32,
}

fn main() {}
