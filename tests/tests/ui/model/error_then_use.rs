use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Embedded)]
struct Address {
    #[field(lenght(max = 5))]
    zip: String,
}

#[derive(Serialize, Deserialize, Model)]
#[model(colection = "users")]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    email: String,
    #[field(nested)]
    address: Address,
}

// Only the attribute errors are reported: the model's trait impl and its field paths still exist.
fn main() {
    let f = User::fields();
    println!("{} {} {}", User::SCHEMA.collection, f.email.path(), f.address.zip.path());
}
