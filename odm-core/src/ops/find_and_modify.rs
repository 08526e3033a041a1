//! `find_one_and_update`, `find_one_and_replace` and `find_one_and_delete`: one document found and
//! changed atomically, returned as it was before or as it is after.

use mongodb::bson::{self, doc, Document, RawDocumentBuf};
use mongodb::options::{
    FindOneAndDeleteOptions, FindOneAndReplaceOptions, FindOneAndUpdateOptions, ReturnDocument,
};

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::hooks;
use crate::model::Model;
use crate::ops::into_future;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::update::{
    bump_version, checked_update, insert_defaults, missed_version, version_field,
};
use crate::query::{Filter, Projection, Sort, Update};
use crate::session::Session;

/// The options every find-and-modify shares.
struct Common<'a, T> {
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    sort: Option<Document>,
    projection: Option<Document>,
    session: Option<&'a mut Session>,
    settings: Settings,
    with_deleted: bool,
}

impl<'a, T: Model> Common<'a, T> {
    fn new(handle: &'a ModelHandle<T>, filter: Filter<T>) -> Self {
        Common {
            handle,
            filter,
            sort: None,
            projection: T::SCHEMA.hidden_projection(),
            session: None,
            settings: Settings::default(),
            with_deleted: false,
        }
    }
}

/// The builder methods every find-and-modify has.
macro_rules! common_methods {
    () => {
        /// Runs the operation in `session` (and its transaction, if one is open). A session of another
        /// client is refused with [`Error::ForeignSession`](crate::Error::ForeignSession).
        pub fn session(mut self, session: &'a mut Session) -> Self {
            self.common.session = Some(session);
            self
        }

        /// Includes the soft-deleted documents of a `#[model(soft_delete)]` model, which the operation
        /// skips otherwise. No effect on other models.
        pub fn with_deleted(mut self) -> Self {
            self.common.with_deleted = true;
            self
        }

        /// Which document is changed when several match.
        pub fn sort(mut self, sort: impl Into<Sort<T>>) -> Self {
            self.common.sort = Some(sort.into().into_document());
            self
        }

        /// Returns the hidden fields (`#[field(hidden)]`) too, which the returned document leaves out
        /// otherwise. Call it before `project` for a projection that leaves fields out to keep them.
        pub fn with_hidden(mut self) -> Self {
            self.common.projection = None;
            self
        }

        settings_methods!(common.settings: write_concern, collation, max_time, hint);
    };
}

/// `return_after`, `project` and `handle` of an operation that is `Modify::$variant` once projected.
macro_rules! returning_methods {
    ($variant:ident, $after:literal) => {
        #[doc = $after]
        pub fn return_after(mut self) -> Self {
            self.after = true;
            self
        }

        project_method!($variant);
    };
}

/// `project` and `handle` of an operation that is `Modify::$variant` once projected.
macro_rules! project_method {
    ($variant:ident) => {
        /// Returns only the fields of `projection`, as a `Document`.
        pub fn project(mut self, projection: impl Into<Projection<T>>) -> ProjectedModify<'a, T> {
            let projection = projection.into().into_document();
            self.common.projection = Some(match self.common.projection {
                Some(_) => T::SCHEMA.hide_in(projection),
                None => projection,
            });
            ProjectedModify {
                op: Modify::$variant(self),
            }
        }

        fn handle(&self) -> &'a ModelHandle<T> {
            self.common.handle
        }
    };
}

/// The `ReturnDocument` option of a find-and-modify.
fn returning(after: bool) -> Option<ReturnDocument> {
    Some(if after {
        ReturnDocument::After
    } else {
        ReturnDocument::Before
    })
}

/// Decodes a returned document as `T`, or as the projected `Document` when there is a projection.
fn decode<T: Model>(raw: Option<RawDocumentBuf>) -> Result<Option<T>> {
    raw.map(|raw| T::from_document(&raw)).transpose()
}

/// The `find_one_and_update` operation; await it for the document before the update (or after, with
/// [`return_after`](Self::return_after)), `None` when nothing matched.
#[must_use = "an operation does nothing until it is awaited"]
pub struct FindOneAndUpdate<'a, T> {
    common: Common<'a, T>,
    update: Result<Update>,
    after: bool,
    upsert: bool,
    if_version: Option<i64>,
    touch: bool,
}

impl<'a, T: Model> FindOneAndUpdate<'a, T> {
    common_methods!();

    returning_methods!(
        Update,
        "Returns the document as the update left it, rather than as it was."
    );

    /// Applies the update only to the document at version `version` (of `#[model(version)]`) and moves
    /// its version on by one: a version-checked read-modify-write in one round trip. When the filter's
    /// document is at another version, or gone, nothing is written and the error is
    /// [`Error::VersionConflict`](crate::Error::VersionConflict), saying which.
    pub fn if_version(mut self, version: i64) -> Self {
        self.if_version = Some(version);
        self
    }

    /// Leaves `updated_at` as it is (Mongoose's per-query `timestamps: false`): for counters and
    /// bookkeeping that do not change what the document says. `#[model(timestamps)]` models only move
    /// it otherwise.
    pub fn timestamps(mut self, touch: bool) -> Self {
        self.touch = touch;
        self
    }

    /// Inserts a document built from the filter and the update when none matches (with
    /// [`return_after`](Self::return_after), the inserted document is returned).
    pub fn upsert(mut self, upsert: bool) -> Self {
        self.upsert = upsert;
        self
    }

    async fn raw(self) -> Result<Option<RawDocumentBuf>> {
        let Common {
            handle,
            filter,
            sort,
            projection,
            session,
            settings,
            with_deleted,
        } = self.common;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        pipeline.include_deleted(with_deleted);
        let filter = filter.into_document()?;
        let mut update = self.update?;
        if self.upsert {
            insert_defaults::<T>(&mut update, &filter)?;
        }
        let mut update = checked_update(handle, update, self.touch)?;
        let mut options = FindOneAndUpdateOptions::default();
        options.sort = sort;
        options.projection = projection;
        options.upsert = Some(self.upsert);
        options.return_document = returning(self.after);
        let Some(expected) = self.if_version else {
            return pipeline.find_one_and_update(filter, update, options).await;
        };
        let field = version_field::<T>()?;
        if self.upsert {
            return Err(Error::Unsupported(
                "`if_version` checks a stored document's version: use it without `upsert`",
            ));
        }
        bump_version(&mut update, field);
        let versioned = doc! { "$and": [ filter.clone(), { field: expected } ] };
        match pipeline
            .find_one_and_update(versioned, update, options)
            .await?
        {
            Some(found) => Ok(Some(found)),
            None => Err(missed_version(handle, &mut pipeline, filter, expected).await),
        }
    }

    async fn run(self) -> Result<Option<T>> {
        decode(self.raw().await?)
    }
}

/// The `find_one_and_replace` operation; await it for the document before the replacement (or the
/// replacement, with [`return_after`](Self::return_after)), `None` when nothing matched.
///
/// The replacement is validated and timestamped like [`save`](ModelHandle::save), with the same hooks.
/// With `#[model(version)]` a value that carries a version replaces only the document at that version,
/// and is stored at the next one; a match at another version is [`Error::VersionConflict`](crate::Error::VersionConflict).
#[must_use = "an operation does nothing until it is awaited"]
pub struct FindOneAndReplace<'a, T> {
    common: Common<'a, T>,
    value: T,
    after: bool,
    upsert: bool,
}

impl<'a, T: Model> FindOneAndReplace<'a, T> {
    common_methods!();

    returning_methods!(
        Replace,
        "Returns the replacement as stored, rather than the document it replaced."
    );

    /// Inserts the replacement when no document matches. With `#[model(version)]`, only when no
    /// document matches at any version: a stale value is [`Error::VersionConflict`], never a second
    /// document (a round trip more: the replacement is tried first without the upsert).
    pub fn upsert(mut self, upsert: bool) -> Self {
        self.upsert = upsert;
        self
    }

    async fn raw(self) -> Result<Option<RawDocumentBuf>> {
        let Common {
            handle,
            filter,
            sort,
            projection,
            session,
            settings,
            with_deleted,
        } = self.common;
        let mut value = self.value;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        pipeline.include_deleted(with_deleted);
        let hooks = handle.hooks();
        let user_filter = filter.into_document()?;
        let version = match T::SCHEMA.version {
            Some(field) => value.version().map(|v| (field, v)),
            None => None,
        };
        let filter = match version {
            Some((field, expected)) => {
                value.set_version(expected + 1);
                doc! { "$and": [ user_filter.clone(), { field: expected } ] }
            }
            None => user_filter.clone(),
        };
        let raw = handle
            .prepare_replacement(&mut value, &hooks, bson::DateTime::now())
            .await?;
        let mut options = FindOneAndReplaceOptions::default();
        options.sort = sort;
        options.projection = projection;
        options.return_document = returning(self.after);
        let held = ModelHandle::<T>::immutable_filter(&raw)?;
        let guarded = match &held {
            Some(held) => doc! { "$and": [ filter.clone(), held.clone() ] },
            None => filter.clone(),
        };
        let Some((field, expected)) = version else {
            let found = match &held {
                None => {
                    options.upsert = Some(self.upsert);
                    ModelHandle::<T>::find_and_replace_keeping_hidden(
                        &mut pipeline,
                        filter,
                        raw,
                        options,
                    )
                    .await?
                }
                // Held to the stored immutable values; when nothing matches, a read tells whether an
                // immutable field is why, and only then may an upsert insert.
                Some(_) => {
                    options.upsert = Some(false);
                    let found = ModelHandle::<T>::find_and_replace_keeping_hidden(
                        &mut pipeline,
                        guarded,
                        raw.clone(),
                        options.clone(),
                    )
                    .await?;
                    if found.is_some() {
                        found
                    } else if let Some(e) = handle
                        .immutable_changed(&mut pipeline, user_filter, &raw, "replacement")
                        .await?
                    {
                        return Err(e);
                    } else if self.upsert {
                        options.upsert = Some(true);
                        ModelHandle::<T>::find_and_replace_keeping_hidden(
                            &mut pipeline,
                            filter,
                            raw,
                            options,
                        )
                        .await?
                    } else {
                        None
                    }
                }
            };
            if found.is_some() || self.upsert {
                if let Some((h, ctx)) = &hooks {
                    hooks::call::<T>("after_save", h.after_save(&value, ctx)).await?;
                }
            }
            return Ok(found);
        };
        // Versioned: replace the document at the expected version. Only when none matches at any
        // version does an upsert insert, so a stale value never stands beside the newer document.
        options.upsert = Some(false);
        let mut found = ModelHandle::<T>::find_and_replace_keeping_hidden(
            &mut pipeline,
            guarded,
            raw.clone(),
            options.clone(),
        )
        .await?;
        let mut saved = found.is_some();
        if !saved && held.is_some() {
            let at_version = doc! { "$and": [ user_filter.clone(), { field: expected } ] };
            if let Some(e) = handle
                .immutable_changed(&mut pipeline, at_version, &raw, "replacement")
                .await?
            {
                return Err(e);
            }
        }
        if !saved {
            let stale = doc! { "$and": [ user_filter, { field: { "$ne": expected } } ] };
            if pipeline.count(stale).await? > 0 {
                return Err(handle.conflict(&mut pipeline, value.id()?, expected).await);
            }
            if self.upsert {
                options.upsert = Some(true);
                found = match ModelHandle::<T>::find_and_replace_keeping_hidden(
                    &mut pipeline,
                    filter,
                    raw,
                    options,
                )
                .await
                {
                    // Stored meanwhile, at another version.
                    Err(Error::DuplicateKey { .. }) => {
                        let id = value.id()?;
                        return Err(handle.conflict(&mut pipeline, id, expected).await);
                    }
                    other => other?,
                };
                saved = true;
            }
        }
        if saved {
            if let Some((h, ctx)) = &hooks {
                hooks::call::<T>("after_save", h.after_save(&value, ctx)).await?;
            }
        }
        Ok(found)
    }

    async fn run(self) -> Result<Option<T>> {
        decode(self.raw().await?)
    }
}

/// The `find_one_and_delete` operation; await it for the deleted document, `None` when nothing
/// matched. Runs the model's delete hooks like [`delete_one`](ModelHandle::delete_one). On a
/// `#[model(soft_delete)]` model it stamps `deleted_at` instead, unless [`hard`](Self::hard) is called.
#[must_use = "an operation does nothing until it is awaited"]
pub struct FindOneAndDelete<'a, T> {
    common: Common<'a, T>,
    hard: bool,
}

impl<'a, T: Model> FindOneAndDelete<'a, T> {
    common_methods!();

    /// Removes the document for good, on a `#[model(soft_delete)]` model too (where it is only stamped
    /// otherwise).
    pub fn hard(mut self) -> Self {
        self.hard = true;
        self
    }

    project_method!(Delete);

    async fn raw(self) -> Result<Option<RawDocumentBuf>> {
        let Common {
            handle,
            filter,
            sort,
            projection,
            session,
            settings,
            with_deleted,
        } = self.common;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        pipeline.include_deleted(with_deleted);
        let filter = filter.into_document()?;
        let hooks = handle.hooks();
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_delete", h.before_delete(&filter, ctx)).await?;
        }
        let found = match T::SCHEMA.soft_delete {
            Some(stamp) if !self.hard => {
                let mut options = FindOneAndUpdateOptions::default();
                options.sort = sort;
                options.projection = projection;
                let update = crate::ops::delete::stamp_update(stamp);
                pipeline.stamping();
                pipeline
                    .find_one_and_update(filter.clone(), update, options)
                    .await?
            }
            _ => {
                let mut options = FindOneAndDeleteOptions::default();
                options.sort = sort;
                options.projection = projection;
                pipeline
                    .find_one_and_delete(filter.clone(), options)
                    .await?
            }
        };
        if let Some((h, ctx)) = &hooks {
            let deleted = u64::from(found.is_some());
            hooks::call::<T>("after_delete", h.after_delete(&filter, deleted, ctx)).await?;
        }
        Ok(found)
    }

    async fn run(self) -> Result<Option<T>> {
        decode(self.raw().await?)
    }
}

/// A find-and-modify with a projection; await it for the projected `Document`, `None` when nothing
/// matched.
#[must_use = "an operation does nothing until it is awaited"]
pub struct ProjectedModify<'a, T> {
    op: Modify<'a, T>,
}

enum Modify<'a, T> {
    Update(FindOneAndUpdate<'a, T>),
    Replace(FindOneAndReplace<'a, T>),
    Delete(FindOneAndDelete<'a, T>),
}

impl<'a, T: Model> ProjectedModify<'a, T> {
    fn handle(&self) -> &'a ModelHandle<T> {
        match &self.op {
            Modify::Update(op) => op.handle(),
            Modify::Replace(op) => op.handle(),
            Modify::Delete(op) => op.handle(),
        }
    }

    async fn run(self) -> Result<Option<Document>> {
        let raw = match self.op {
            Modify::Update(op) => op.raw().await?,
            Modify::Replace(op) => op.raw().await?,
            Modify::Delete(op) => op.raw().await?,
        };
        raw.map(|raw| crate::ops::to_document(T::SCHEMA.type_name, &raw))
            .transpose()
    }
}

into_future!(
    FindOneAndUpdate,
    Option<T>,
    "find_one_and_update",
    "findAndModify",
    via_handle
);
into_future!(
    FindOneAndReplace,
    Option<T>,
    "find_one_and_replace",
    "findAndModify",
    via_handle
);
into_future!(
    FindOneAndDelete,
    Option<T>,
    "find_one_and_delete",
    "findAndModify",
    via_handle
);
into_future!(
    ProjectedModify,
    Option<Document>,
    "find_one_and_modify",
    "findAndModify",
    via_handle
);

impl<T: Model> ModelHandle<T> {
    /// Finds the first document that matches `filter` and applies `update` to it atomically; await for
    /// the document as it was (or, with `.return_after()`, as it is now). The update is checked against
    /// the field rules and moves `updated_at` forward, like [`update_one`](Self::update_one).
    pub fn find_one_and_update(
        &self,
        filter: impl Into<Filter<T>>,
        update: impl crate::query::IntoUpdate<T>,
    ) -> FindOneAndUpdate<'_, T> {
        FindOneAndUpdate {
            common: Common::new(self, filter.into()),
            update: update.into_update(),
            after: false,
            upsert: false,
            if_version: None,
            touch: true,
        }
    }

    /// Finds the first document that matches `filter` and replaces it with `value` atomically; await for
    /// the document as it was (or, with `.return_after()`, the replacement). `value` is validated and
    /// timestamped like [`save`](Self::save).
    pub fn find_one_and_replace(
        &self,
        filter: impl Into<Filter<T>>,
        value: T,
    ) -> FindOneAndReplace<'_, T> {
        FindOneAndReplace {
            common: Common::new(self, filter.into()),
            value,
            after: false,
            upsert: false,
        }
    }

    /// Finds the first document that matches `filter` and deletes it atomically; await for it.
    pub fn find_one_and_delete(&self, filter: impl Into<Filter<T>>) -> FindOneAndDelete<'_, T> {
        FindOneAndDelete {
            common: Common::new(self, filter.into()),
            hard: false,
        }
    }
}
