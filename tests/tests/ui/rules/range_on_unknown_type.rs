use odm_core::prelude::*;

#[derive(Serialize, Deserialize)]
struct Money(i64);

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(range(min = 0))]
    price: Money,
}

fn main() {}
