// Mirrors what `#[derive(Model)]` generates for these structs (typed paths in `UserFields` and
// `PostFields`), so the cases below fail for the reason they name and no other.
#![allow(dead_code)]

use odm_core::bson::{oid::ObjectId, Bson};
use odm_core::schema::Schema;
use odm_core::{Field, Model, Result};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: Option<ObjectId>,
    pub email: String,
    pub age: i32,
    pub tags: Vec<String>,
}

pub struct UserFields {
    pub email: Field<User, String>,
    pub age: Field<User, i32>,
    pub tags: Field<User, Vec<String>>,
}

impl Model for User {
    const SCHEMA: &'static Schema = &Schema::new("User", "users", &[]);
    type Fields = UserFields;
    fn fields() -> UserFields {
        UserFields {
            email: Field::new("email"),
            age: Field::new("age"),
            tags: Field::new("tags"),
        }
    }
    fn id(&self) -> Result<Bson> {
        Ok(self.id.map(Bson::ObjectId).unwrap_or(Bson::Null))
    }
    fn set_id(&mut self, id: Bson) -> Result<()> {
        self.id = id.as_object_id();
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
pub struct Post {
    #[serde(rename = "_id")]
    pub id: Option<ObjectId>,
    pub title: String,
}

pub struct PostFields {
    pub title: Field<Post, String>,
}

impl Model for Post {
    const SCHEMA: &'static Schema = &Schema::new("Post", "posts", &[]);
    type Fields = PostFields;
    fn fields() -> PostFields {
        PostFields {
            title: Field::new("title"),
        }
    }
    fn id(&self) -> Result<Bson> {
        Ok(self.id.map(Bson::ObjectId).unwrap_or(Bson::Null))
    }
    fn set_id(&mut self, id: Bson) -> Result<()> {
        self.id = id.as_object_id();
        Ok(())
    }
}
