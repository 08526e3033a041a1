//! `delete_one` and `delete_many`.

use mongodb::results::DeleteResult;

use crate::error::Result;
use crate::handle::ModelHandle;
use crate::hooks;
use crate::model::Model;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::{into_future, session_method};
use crate::query::Filter;
use crate::session::Session;

/// The `delete_one` and `delete_many` operations; await them for the driver's `DeleteResult`.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Delete<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) filter: Filter<T>,
    pub(crate) many: bool,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
}

impl<'a, T: Model> Delete<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern, collation, hint);

    async fn run(self) -> Result<DeleteResult> {
        let mut pipeline = self
            .handle
            .pipeline(self.session)?
            .overriding(self.settings);
        let filter = self.filter.into_document()?;
        let hooks = self.handle.hooks();
        // The caller's filter is kept for `after_delete` only when there are hooks to give it to.
        let kept = hooks.as_ref().map(|_| filter.clone());
        if let (Some((h, ctx)), Some(filter)) = (&hooks, &kept) {
            hooks::call::<T>("before_delete", h.before_delete(filter, ctx)).await?;
        }
        let result = pipeline.delete(filter, self.many).await?;
        if let (Some((h, ctx)), Some(filter)) = (&hooks, &kept) {
            let deleted = result.deleted_count;
            hooks::call::<T>("after_delete", h.after_delete(filter, deleted, ctx)).await?;
        }
        Ok(result)
    }
}
into_future!(Delete, DeleteResult, "delete", "delete");
