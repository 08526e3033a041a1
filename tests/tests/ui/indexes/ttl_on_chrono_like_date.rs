use odm_core::prelude::*;

mod chrono {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct DateTime<Tz>(pub Tz);
}

#[derive(Serialize, Deserialize, Model)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(ttl = "1h")]
    expires: chrono::DateTime<i64>,
}

fn main() {}
