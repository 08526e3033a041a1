#[path = "support/model.rs"]
mod model;

use model::{Post, User};
use odm_core::{Model, ModelHandle, UpdateBuilder};

fn retitle(users: &ModelHandle<User>) {
    let _ = users.update_many((), UpdateBuilder::new().set(&Post::fields().title, "x"));
}

fn main() {}
