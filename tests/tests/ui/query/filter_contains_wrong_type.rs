#[path = "support/model.rs"]
mod model;

use model::User;
use odm_core::Model;

fn main() {
    let _ = User::fields().tags.contains(3);
}
