//! A debug build of a crate, outside its tests, leaves the derive's generated decoder out: a read goes
//! through serde and gives the same value. A release build has the decoder.

use odm_core::prelude::*;

#[derive(Debug, PartialEq, Serialize, Deserialize, Embedded)]
struct Address {
    city: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Model)]
struct Person {
    #[serde(rename = "_id")]
    id: ObjectId,
    name: String,
    #[field(nested)]
    address: Address,
}

fn main() {
    let id = ObjectId::new();
    let stored = odm_core::bson::rawdoc! { "_id": id, "name": "Ada", "address": { "city": "Paris" } };
    assert_eq!(
        Person::decode_generated(&stored).is_some(),
        !cfg!(debug_assertions),
        "the generated decoder is compiled in release builds only (outside tests)"
    );
    assert_eq!(
        Person::from_document(&stored).unwrap(),
        Person {
            id,
            name: "Ada".to_owned(),
            address: Address {
                city: "Paris".to_owned(),
            },
        }
    );
}
