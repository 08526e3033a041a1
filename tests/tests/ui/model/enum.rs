use odm_core::prelude::*;

#[derive(Serialize, Deserialize, Model)]
enum Role {
    Admin,
    User,
}

fn main() {}
