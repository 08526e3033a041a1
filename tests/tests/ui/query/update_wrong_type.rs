#[path = "support/model.rs"]
mod model;

use model::User;
use odm_core::{Model, UpdateBuilder};

fn main() {
    let f = User::fields();
    let _ = UpdateBuilder::new().set(&f.age, "thirty");
}
