//! `delete_one` and `delete_many`, soft deletes and `restore` for `#[model(soft_delete)]` models.

use mongodb::bson::{self, doc, Bson};
use mongodb::results::DeleteResult;

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::hooks;
use crate::model::Model;
use crate::ops::pipeline::Pipeline;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::{into_future, session_method, with_deleted_method};
use crate::query::{Filter, Update};
use crate::session::Session;

/// The `delete_one` and `delete_many` operations; await them for the driver's `DeleteResult`.
///
/// On a `#[model(soft_delete)]` model they stamp `deleted_at` with the current time instead of removing
/// the documents (the result counts the documents stamped), unless [`hard`](Self::hard) is called.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Delete<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) many: bool,
    pub(crate) hard: bool,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> Delete<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern, collation, hint);
    with_deleted_method!();

    /// Removes the documents for good, on a `#[model(soft_delete)]` model too (where a delete only
    /// stamps them otherwise). Add [`with_deleted`](Self::with_deleted) to remove soft-deleted
    /// documents as well (a purge).
    pub fn hard(mut self) -> Self {
        self.hard = true;
        self
    }

    async fn run(self) -> Result<DeleteResult> {
        let mut pipeline = self
            .handle
            .pipeline(self.session)?
            .overriding(self.settings);
        pipeline.include_deleted(self.with_deleted);
        let filter = self.filter.into_document()?;
        let hooks = self.handle.hooks();
        // The caller's filter is kept for `after_delete` only when there are hooks to give it to.
        let kept = hooks.as_ref().map(|_| filter.clone());
        if let (Some((h, ctx)), Some(filter)) = (&hooks, &kept) {
            hooks::call::<T>("before_delete", h.before_delete(filter, ctx)).await?;
        }
        let result = match T::SCHEMA.soft_delete {
            Some(stamp) if !self.hard => {
                soft_delete(&mut pipeline, stamp, filter, self.many).await?
            }
            _ => pipeline.delete(filter, self.many).await?,
        };
        if let (Some((h, ctx)), Some(filter)) = (&hooks, &kept) {
            let deleted = result.deleted_count;
            hooks::call::<T>("after_delete", h.after_delete(filter, deleted, ctx)).await?;
        }
        Ok(result)
    }
}
into_future!(Delete, DeleteResult, "delete", "delete");

/// The update that soft-deletes a document: its stamp set to now.
pub(crate) fn stamp_update(stamp: &'static str) -> Update {
    Update::Document(doc! { "$set": { stamp: bson::DateTime::now() } })
}

/// Stamps the documents `filter` matches (the first, unless `many`), counting them as deleted.
async fn soft_delete(
    pipeline: &mut Pipeline<'_>,
    stamp: &'static str,
    filter: mongodb::bson::Document,
    many: bool,
) -> Result<DeleteResult> {
    pipeline.stamping();
    let updated = pipeline
        .update(filter, stamp_update(stamp), many, false)
        .await?;
    let mut result = DeleteResult::default();
    result.deleted_count = updated.modified_count;
    Ok(result)
}

/// The `restore` operation of a `#[model(soft_delete)]` model; await it for the number of documents
/// brought back.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Restore<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
}

impl<'a, T: Model> Restore<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern, collation, hint);

    async fn run(self) -> Result<u64> {
        let Some(stamp) = T::SCHEMA.soft_delete else {
            return Err(Error::Unsupported(
                "`restore` brings back soft-deleted documents: mark the model `#[model(soft_delete)]` (with a `deleted_at: Option<DateTime>` field)",
            ));
        };
        let mut pipeline = self
            .handle
            .pipeline(self.session)?
            .overriding(self.settings);
        pipeline.include_deleted(true);
        let filter = self.filter.into_document()?;
        let deleted = doc! { stamp: { "$ne": Bson::Null } };
        let filter = if filter.is_empty() {
            deleted
        } else {
            doc! { "$and": [ filter, deleted ] }
        };
        // `null` rather than `$unset`: a restored document is back in the unique indexes that are
        // partial on `{deleted_at: {$type: "null"}}`.
        let update = Update::Document(doc! { "$set": { stamp: Bson::Null } });
        let result = pipeline.update(filter, update, true, false).await?;
        Ok(result.modified_count)
    }
}
into_future!(Restore, u64, "restore", "update");
