//! `update_one`, `update_many` and `replace_one`.

use mongodb::bson::{self, doc, Bson};
use mongodb::results::UpdateResult;

use crate::error::Result;
use crate::handle::ModelHandle;
use crate::hooks;
use crate::model::Model;
use crate::ops::{into_future, session_method};
use crate::query::{Filter, Update};
use crate::session::Session;

/// The `update_one` and `update_many` operations; await them for the driver's `UpdateResult` (matched,
/// modified and upserted).
#[must_use = "an operation does nothing until it is awaited"]
pub struct UpdateOp<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) update: Result<Update>,
    pub(crate) many: bool,
    pub(crate) upsert: bool,
    pub(crate) session: Option<&'a mut Session>,
}

impl<'a, T: Model> UpdateOp<'a, T> {
    session_method!();

    /// Inserts a document built from the filter and the update when none matches.
    pub fn upsert(mut self, upsert: bool) -> Self {
        self.upsert = upsert;
        self
    }

    async fn run(self) -> Result<UpdateResult> {
        let UpdateOp {
            handle,
            filter,
            update,
            many,
            upsert,
            session,
        } = self;
        let mut pipeline = handle.pipeline(session)?;
        let update = checked_update::<T>(update?)?;
        pipeline
            .update(filter.into_document()?, update, many, upsert)
            .await
    }
}
into_future!(UpdateOp, UpdateResult, "update", "update");

/// An update checked against the model's field rules, with `updated_at` moved forward.
pub(crate) fn checked_update<T: Model>(mut update: Update) -> Result<Update> {
    if let Update::Document(doc) = &update {
        crate::update_rules::check(T::SCHEMA, doc)?;
    }
    if let Some(ts) = T::SCHEMA.timestamps {
        touch_updated_at(&mut update, ts.updated_at);
    }
    Ok(update)
}

/// Adds "set `updated_at` to now" to an update, unless the update sets it itself.
fn touch_updated_at(update: &mut Update, field: &str) {
    match update {
        Update::Document(doc) => {
            let mentioned = doc.values().any(|args| match args {
                Bson::Document(args) => args.contains_key(field),
                _ => false,
            });
            if mentioned {
                return;
            }
            // `$currentDate` takes the server's clock, like a `$$NOW` in a pipeline.
            match doc.get_document_mut("$currentDate") {
                Ok(current) => {
                    current.insert(field, true);
                }
                Err(_) => {
                    doc.insert("$currentDate", doc! { field: true });
                }
            }
        }
        Update::Pipeline(stages) => stages.push(doc! { "$set": { field: "$$NOW" } }),
    }
}

/// The `replace_one` operation; await it for the driver's `UpdateResult`.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Replace<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) value: T,
    pub(crate) upsert: bool,
    pub(crate) session: Option<&'a mut Session>,
}

impl<'a, T: Model> Replace<'a, T> {
    session_method!();

    /// Inserts `value` when no document matches.
    pub fn upsert(mut self, upsert: bool) -> Self {
        self.upsert = upsert;
        self
    }

    async fn run(self) -> Result<UpdateResult> {
        let Replace {
            handle,
            filter,
            mut value,
            upsert,
            session,
        } = self;
        let mut pipeline = handle.pipeline(session)?;
        let hooks = handle.hooks();
        let raw = handle
            .prepare_replacement(&mut value, &hooks, bson::DateTime::now())
            .await?;
        let result = pipeline
            .replace_one(filter.into_document()?, raw, upsert)
            .await?;
        if let Some((h, ctx)) = &hooks {
            if result.matched_count > 0 || result.upserted_id.is_some() {
                hooks::call::<T>("after_save", h.after_save(&value, ctx)).await?;
            }
        }
        Ok(result)
    }
}
into_future!(Replace, UpdateResult, "replace_one", "update");
