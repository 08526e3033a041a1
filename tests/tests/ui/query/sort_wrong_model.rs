#[path = "support/model.rs"]
mod model;

use model::{Post, User};
use odm_core::{Model, ModelHandle};

fn newest(users: &ModelHandle<User>) {
    let _ = users.find(()).sort(Post::fields().title.desc());
}

fn main() {}
