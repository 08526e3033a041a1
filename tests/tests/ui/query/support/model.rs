// The models the typed-query UI cases use.

use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: Option<ObjectId>,
    pub email: String,
    pub age: i32,
    pub tags: Vec<String>,
}

#[derive(Serialize, Deserialize, Model)]
pub struct Post {
    #[serde(rename = "_id")]
    pub id: Option<ObjectId>,
    pub title: String,
}
