//! The model every benchmark uses: a `User` with the rules a real schema has (an e-mail shape and pattern,
//! lengths, a range, a list, an embedded address with a rule of its own, timestamps). The rules mirror
//! `bench/mongoose/bench.js` one for one.

#![allow(dead_code)]

use odm_core::prelude::*;

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "users", timestamps)]
pub struct User {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<ObjectId>,
    #[field(email, regex = r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")]
    pub email: String,
    #[field(length(min = 1, max = 100))]
    pub name: String,
    #[field(range(min = 0, max = 150))]
    pub age: i32,
    #[field(length(max = 10))]
    pub tags: Vec<String>,
    #[field(nested)]
    pub address: Address,
    pub created_at: Option<DateTime>,
    pub updated_at: Option<DateTime>,
}

/// An embedded address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Embedded)]
pub struct Address {
    #[field(length(min = 1, max = 200))]
    pub street: String,
    #[field(length(min = 1, max = 100))]
    pub city: String,
    #[field(regex = r"^[0-9]{5}$")]
    pub zip: String,
}

pub fn user(i: usize) -> User {
    User {
        id: None,
        email: format!("user{i}@acme.io"),
        name: format!("User Number {i}"),
        age: (i % 100) as i32,
        tags: vec!["admin".into(), "beta".into(), "eu-west".into()],
        address: Address {
            street: format!("{i} Main Street"),
            city: "Springfield".into(),
            zip: "12345".into(),
        },
        created_at: None,
        updated_at: None,
    }
}

/// The tenant database name of tenant `i`, written into `buf` (reused, so naming allocates nothing).
pub fn tenant_name(buf: &mut String, i: usize) -> &str {
    use std::fmt::Write;
    buf.clear();
    write!(buf, "tenant_{i:07}").expect("write to a String");
    buf
}

/// A connection that never talks to a server. The current-thread runtime is never driven while the
/// benchmark runs, so the driver's background monitor stays idle and adds no noise.
pub fn offline_connection() -> (tokio::runtime::Runtime, odm_core::Connection) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let conn = rt
        .block_on(
            odm_core::Connection::options("mongodb://127.0.0.1:9/app")
                .verify(false)
                .connect(),
        )
        .expect("a client needs no server until it is used");
    (rt, conn)
}
