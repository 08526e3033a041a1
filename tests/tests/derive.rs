#![deny(warnings)]
//! What `#[derive(Model)]` and `#[derive(Embedded)]` generate: collection names, stored names, schema
//! contents and typed field paths. No server needed.

use odm_core::prelude::*;
use odm_core::schema::{IndexKey, Rule};

#[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
struct Geo {
    #[field(range(min = -90, max = 90))]
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
struct Address {
    #[field(length(min = 1))]
    pub city: String,
    #[field(regex = r"^\d{5}$")]
    pub zip: String,
    #[field(nested)]
    pub geo: Option<Geo>,
}

fn no_spaces(v: &String) -> Result<(), String> {
    if v.contains(' ') {
        Err("must not contain spaces".into())
    } else {
        Ok(())
    }
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    timestamps,
    version,
    index(fields("org", "-created_at"), unique, name = "org_recent")
)]
struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    #[field(email, unique)]
    pub email: String,
    #[field(range(min = 0, max = 150), index = "desc")]
    pub age: i32,
    #[field(one_of("admin", "user"))]
    pub role: String,
    #[field(validate = no_spaces)]
    pub org: String,
    #[field(nested)]
    pub address: Address,
    #[field(nested, length(max = 3))]
    pub past: Vec<Address>,
    #[serde(skip)]
    pub scratch: u8,
    pub created_at: Option<DateTime>,
    pub updated_at: Option<DateTime>,
    #[serde(rename = "__v", default)]
    pub version: i64,
}

#[test]
fn smoke() {
    assert_eq!(User::SCHEMA.collection, "users");
    let f = User::fields();
    assert_eq!(f.address.geo.lat.path(), "address.geo.lat");
    assert_eq!(f.past.city.path(), "past.city");
    println!("{:#?}", User::SCHEMA);
    println!("{}", User::json_schema());
    let _ = (IndexKey::Asc, Rule::Email, |u: &User| u.scratch);
}
