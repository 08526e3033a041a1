//! A log of hook calls for the tests of hooks (every call as `(database, event)`, read back per database,
//! since tests run in parallel, each in its own database), and `Note`, a model whose hooks write to it.

use std::sync::Mutex;

use odm_core::hooks::{BoxError, HookContext, Hooks};
use odm_core::prelude::*;

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

/// A note whose hooks log every call; `before_save` refuses a text holding "forbidden" and trims it,
/// `before_delete` refuses the filter `{text: "keep"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "notes", hooks)]
pub struct Note {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    /// The `_id`.
    pub id: Option<ObjectId>,
    #[field(length(min = 1))]
    /// The text; `before_save` trims it.
    pub text: String,
}

/// A new note holding `text`.
pub fn note(text: &str) -> Note {
    Note {
        id: None,
        text: text.into(),
    }
}

impl Hooks for Note {
    async fn before_validate(&mut self, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, format!("before_validate {}", self.text));
        Ok(())
    }

    async fn before_save(&mut self, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, format!("before_save {}", self.text));
        if self.text.contains("forbidden") {
            return Err(Box::new(Refused("refused")));
        }
        self.text = self.text.trim().to_owned();
        Ok(())
    }

    async fn after_save(&self, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, format!("after_save {}", self.text));
        Ok(())
    }

    async fn before_delete(filter: &Document, ctx: &HookContext) -> Result<(), BoxError> {
        log(ctx, format!("before_delete {filter}"));
        if filter.get_str("text") == Ok("keep") {
            return Err(Box::new(Refused("refused")));
        }
        Ok(())
    }

    async fn after_delete(
        _filter: &Document,
        deleted: u64,
        ctx: &HookContext,
    ) -> Result<(), BoxError> {
        log(ctx, format!("after_delete {deleted}"));
        Ok(())
    }
}
