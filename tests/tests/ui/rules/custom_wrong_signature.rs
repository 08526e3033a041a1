use odm_core::prelude::*;

fn check(v: &i32) -> Result<(), String> {
    if *v > 0 { Ok(()) } else { Err("negative".into()) }
}

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(validate = check)]
    name: String,
}

fn main() {}
