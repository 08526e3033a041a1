//! Shared helpers of the integration tests: where the server is, and a fresh database per test.

use odm_core::Connection;

pub mod failpoint;
pub mod hook_log;
pub mod server;
pub mod surface;

pub use failpoint::{connect_failpoint, failpoint_uri, FailPoint};
pub use server::TestServer;

/// The server the tests use: `MONGODB_URI`, else a local one on the default port.
pub fn uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned())
}

/// A connection to a fresh database named `db` (dropped first), so each test sees only its own data and
/// tests run in parallel.
pub async fn connect(db: &str) -> Connection {
    let conn = Connection::connect(&uri())
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test server at {}: {e}", uri()));
    let conn = conn.use_db(db).expect("test database name");
    conn.database()
        .drop()
        .await
        .expect("drop the test database");
    conn
}

/// The names of the databases on the server.
pub async fn database_names(conn: &Connection) -> Vec<String> {
    conn.client()
        .list_database_names()
        .await
        .expect("list databases")
}
