//! A log of hook calls for the tests of hooks: every call as `(database, event)`, read back per database,
//! since tests run in parallel, each in its own database.

use std::sync::Mutex;

use odm_core::hooks::HookContext;

static CALLS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Records `event` for the database of `ctx`.
pub fn log(ctx: &HookContext, event: impl Into<String>) {
    CALLS
        .lock()
        .unwrap()
        .push((ctx.database().to_owned(), event.into()));
}

/// The events recorded for database `db`, in order.
pub fn calls(db: &str) -> Vec<String> {
    CALLS
        .lock()
        .unwrap()
        .iter()
        .filter(|(d, _)| d == db)
        .map(|(_, e)| e.clone())
        .collect()
}

/// The error a test hook refuses with; its text says why.
#[derive(Debug)]
pub struct Refused(pub &'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}
