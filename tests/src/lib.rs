//! Helpers shared by the integration tests.

/// The server the tests talk to: `MONGODB_URI`, else a local mongod.
pub fn uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned())
}

/// A connection to a fresh database named `db` (dropped first), on the server of `MONGODB_URI`.
pub async fn connect(db: &str) -> odm_core::Connection {
    let conn = odm_core::Connection::connect(&uri())
        .await
        .expect("connect to MONGODB_URI");
    let conn = conn.use_db(db).expect("a valid test database name");
    conn.database()
        .drop()
        .await
        .expect("drop the test database");
    conn
}
