#[path = "support/model.rs"]
mod model;

use model::{Post, User};
use odm_core::{Model, ModelHandle};

fn titled(users: &ModelHandle<User>) {
    let _ = users.find(Post::fields().title.eq("x"));
}

fn main() {}
