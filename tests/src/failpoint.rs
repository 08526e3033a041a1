//! [`FailPoint`]: MongoDB's `failCommand` fail point, for the tests that make the server fail on purpose
//! (an error label, a closed connection) without killing it.
//!
//! Fail points need a server started with test commands: `ODM_FAILPOINT_URI`, which `scripts/test-server
//! run` points at SecantusDB's Python server (`secantusd-rs` has no `configureFailPoint`); else
//! `MONGODB_URI`, for a mongod run with `--setParameter enableTestCommands=1`. Each fail point is confined
//! to one client by its `appName`, and the tests of a process arm one at a time (there is one `failCommand`
//! per server).

use std::time::Duration;

use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ClientOptions;
use mongodb::Client;
use odm_core::Connection;

/// The server the fail-point tests use: `ODM_FAILPOINT_URI`, else [`uri`](crate::uri).
pub fn failpoint_uri() -> String {
    std::env::var("ODM_FAILPOINT_URI").unwrap_or_else(|_| crate::uri())
}

/// The options of a client of the fail-point server that names itself `app`, so that only its commands
/// meet a fail point armed for `app`.
pub async fn failpoint_client_options(app: &str) -> ClientOptions {
    let mut options = ClientOptions::parse(failpoint_uri())
        .await
        .expect("parse ODM_FAILPOINT_URI");
    options.app_name = Some(app.to_owned());
    options.server_selection_timeout = Some(Duration::from_secs(10));
    options
}

/// A connection to a fresh database `db` (dropped first) on the fail-point server, as client `db`: arm
/// fail points for it with [`FailPoint::arm`]`(db, ...)`.
pub async fn connect_failpoint(db: &str) -> Connection {
    let client = Client::with_options(failpoint_client_options(db).await).expect("a client");
    let conn = Connection::from_client(client, db).expect("test database name");
    conn.database().drop().await.unwrap_or_else(|e| {
        panic!(
            "cannot reach the fail-point server at {}: {e}",
            failpoint_uri()
        )
    });
    conn
}

/// One fail point at a time per process: the server has one `failCommand`.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An armed `failCommand` fail point; dropping it turns the fail point off, also when the test fails.
#[derive(Debug)]
pub struct FailPoint {
    _alone: tokio::sync::MutexGuard<'static, ()>,
}

impl FailPoint {
    /// Arms `failCommand` with `mode` (`{ "times": n }`, `{ "skip": n, "times": m }`) and `data` (what to
    /// fail and how: `failCommands`, `errorCode`, `errorLabels`, `closeConnection`) for the commands of
    /// the client named `app` only.
    ///
    /// # Panics
    /// When the server refuses `configureFailPoint`: it was not started with test commands.
    pub async fn arm(app: &str, mode: Document, mut data: Document) -> FailPoint {
        let alone = ONE_AT_A_TIME.lock().await;
        data.insert("appName", app);
        let admin = admin_client().await;
        // MongoDB answers `{ count: n, ok: 1 }`; SecantusDB's Python server leaves `count` out, so only
        // `ok` is relied on.
        admin
            .database("admin")
            .run_command(doc! {
                "configureFailPoint": "failCommand",
                "mode": Bson::Document(mode),
                "data": data,
            })
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the server at {} has no fail points (start it with test commands enabled, or set \
                     ODM_FAILPOINT_URI to one that has them): {e}",
                    failpoint_uri()
                )
            });
        admin.shutdown().await;
        FailPoint { _alone: alone }
    }
}

impl Drop for FailPoint {
    fn drop(&mut self) {
        // Off from a thread of its own: `drop` cannot await, and may run on the test's runtime.
        let off = std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async {
                    let admin = admin_client().await;
                    let result = admin
                        .database("admin")
                        .run_command(doc! { "configureFailPoint": "failCommand", "mode": "off" })
                        .await;
                    admin.shutdown().await;
                    result
                })
        })
        .join();
        match off {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if !std::thread::panicking() => {
                panic!("cannot turn the fail point off: {e}")
            }
            other => eprintln!("cannot turn the fail point off: {other:?}"),
        }
    }
}

async fn admin_client() -> Client {
    Client::with_options(failpoint_client_options("odm-tests-failpoint-admin").await)
        .expect("a client")
}
