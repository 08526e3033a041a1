//! `create`, `insert_many` and `save`.

use mongodb::bson::{self, doc, Bson};

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::hooks;
use crate::model::Model;
use crate::ops::pipeline::Pipeline;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::{into_future, session_method};
use crate::session::Session;

/// The `create` operation; await it for the value as stored (`_id`, timestamps and version set).
#[must_use = "an operation does nothing until it is awaited"]
pub struct Create<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) value: T,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
}

impl<'a, T: Model> Create<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern);

    async fn run(self) -> Result<T> {
        let Create {
            handle,
            mut value,
            session,
            settings,
        } = self;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        value.apply_defaults();
        let hooks = handle.hooks();
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_validate", h.before_validate(&mut value, ctx)).await?;
        }
        handle.prepare_insert(&mut value, bson::DateTime::now())?;
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_save", h.before_save(&mut value, ctx)).await?;
        }
        pipeline.insert_one(handle.encode(&mut value)?).await?;
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("after_save", h.after_save(&value, ctx)).await?;
        }
        Ok(value)
    }
}
into_future!(Create, T, "create", "insert");

/// Replaces the document `id` stored at version `expected` with `value` (already at the next version);
/// a value never stored (version 0, no document) is inserted. Anything else is a version conflict.
async fn replace_versioned<T: Model>(
    handle: &ModelHandle<T>,
    pipeline: &mut Pipeline<'_>,
    value: &mut T,
    id: Bson,
    version_field: &str,
    expected: i64,
    now: bson::DateTime,
) -> Result<()> {
    let mut filter = doc! { "_id": id.clone(), version_field: expected };
    let raw = handle.encode(value)?;
    let immutable = ModelHandle::<T>::immutable_filter(&raw)?;
    if let Some(held) = &immutable {
        filter.extend(held.clone());
    }
    let replaced = match &immutable {
        Some(_) => {
            ModelHandle::<T>::replace_keeping_hidden(pipeline, filter, raw.clone(), false).await?
        }
        None => ModelHandle::<T>::replace_keeping_hidden(pipeline, filter, raw, false).await?,
    };
    if replaced.matched_count > 0 {
        return Ok(());
    }
    if immutable.is_some() {
        let at_version = doc! { "_id": id.clone(), version_field: expected };
        let raw = handle.encode(value)?;
        if let Some(e) = handle
            .immutable_changed(pipeline, at_version, &raw, "save")
            .await?
        {
            return Err(e);
        }
    }
    if expected != 0 {
        return Err(handle.conflict(pipeline, id, expected).await);
    }
    // Never stored: insert it, unless someone else stored this `_id` meanwhile.
    value.set_version(0);
    value.touch(now, true);
    match pipeline.insert_one(handle.encode(value)?).await {
        Ok(()) => Ok(()),
        Err(Error::DuplicateKey { .. }) => Err(handle.conflict(pipeline, id, expected).await),
        Err(e) => Err(e),
    }
}

/// The `save` operation; await it. The value is updated in place (`_id`, timestamps, version).
#[must_use = "an operation does nothing until it is awaited"]
pub struct Save<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) value: &'a mut T,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
}

impl<'a, T: Model> Save<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern);

    async fn run(self) -> Result<()> {
        let Save {
            handle,
            value,
            session,
            settings,
        } = self;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        // A value without an `_id` is new: it takes its defaults, as `create` does.
        if matches!(value.id()?, Bson::Null) {
            value.apply_defaults();
        }
        let hooks = handle.hooks();
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_validate", h.before_validate(value, ctx)).await?;
        }
        let now = bson::DateTime::now();
        let id = value.id()?;
        let inserting = matches!(id, Bson::Null);
        if inserting {
            handle.prepare_insert(value, now)?;
        } else {
            value.touch(now, false);
            value.validate()?;
        }
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_save", h.before_save(value, ctx)).await?;
        }
        match (inserting, T::SCHEMA.version) {
            (true, _) => {
                pipeline.insert_one(handle.encode(value)?).await?;
            }
            (false, None) => {
                let mut filter = doc! { "_id": id.clone() };
                let raw = handle.encode(value)?;
                let Some(held) = ModelHandle::<T>::immutable_filter(&raw)? else {
                    ModelHandle::<T>::replace_keeping_hidden(&mut pipeline, filter, raw, true)
                        .await?;
                    return after_save(&hooks, value).await;
                };
                // Held to the stored immutable values: a changed one matches nothing, and the upsert
                // then collides with the stored `_id`.
                filter.extend(held);
                match ModelHandle::<T>::replace_keeping_hidden(
                    &mut pipeline,
                    filter,
                    raw.clone(),
                    true,
                )
                .await
                {
                    Ok(_) => {}
                    Err(e @ Error::DuplicateKey { .. }) => {
                        let by_id = doc! { "_id": id };
                        return Err(handle
                            .immutable_changed(&mut pipeline, by_id, &raw, "save")
                            .await?
                            .unwrap_or(e));
                    }
                    Err(e) => return Err(e),
                }
            }
            (false, Some(version_field)) => {
                let expected = value.version().unwrap_or(0);
                value.set_version(expected + 1);
                if let Err(e) = replace_versioned(
                    handle,
                    &mut pipeline,
                    value,
                    id,
                    version_field,
                    expected,
                    now,
                )
                .await
                {
                    value.set_version(expected);
                    return Err(e);
                }
            }
        }
        after_save(&hooks, value).await
    }
}
into_future!(Save, (), "save", "update");

/// Runs the `after_save` hook of a saved value.
async fn after_save<T: Model>(hooks: &hooks::Bound<T>, value: &T) -> Result<()> {
    if let Some((h, ctx)) = hooks {
        hooks::call::<T>("after_save", h.after_save(value, ctx)).await?;
    }
    Ok(())
}

/// The `insert_many` operation; await it for the values as stored.
#[must_use = "an operation does nothing until it is awaited"]
pub struct InsertMany<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) values: Vec<T>,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
}

impl<'a, T: Model> InsertMany<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern);

    async fn run(self) -> Result<Vec<T>> {
        let InsertMany {
            handle,
            mut values,
            session,
            settings,
        } = self;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        if values.is_empty() {
            return Ok(values);
        }
        let now = bson::DateTime::now();
        let hooks = handle.hooks();
        let mut docs = Vec::with_capacity(values.len());
        for (i, value) in values.iter_mut().enumerate() {
            value.apply_defaults();
            if let Some((h, ctx)) = &hooks {
                hooks::call::<T>("before_validate", h.before_validate(value, ctx)).await?;
            }
            match handle.prepare_insert(value, now) {
                Ok(()) => {}
                Err(Error::Validation(mut errors)) => {
                    errors.index = Some(i);
                    return Err(Error::Validation(errors));
                }
                Err(e) => return Err(e),
            }
            if let Some((h, ctx)) = &hooks {
                hooks::call::<T>("before_save", h.before_save(value, ctx)).await?;
            }
            docs.push(handle.encode(value)?);
        }
        // Sent in chunks so that a failure part way can say how much of the batch is known stored; each
        // chunk has the whole operation timeout.
        let total = docs.len();
        let mut written = 0;
        let mut docs = docs.into_iter();
        while written < total {
            let chunk: Vec<_> = docs.by_ref().take(INSERT_CHUNK).collect();
            let len = chunk.len();
            pipeline.restart_deadline();
            match pipeline
                .insert_many(chunk, |e| partial_write(e, written, len, total))
                .await
            {
                Ok(()) => written += len,
                Err(e @ Error::Timeout { .. }) => {
                    return Err(Error::PartialWrite {
                        written,
                        unknown: len,
                        total,
                        source: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        if let Some((h, ctx)) = &hooks {
            for value in &values {
                hooks::call::<T>("after_save", h.after_save(value, ctx)).await?;
            }
        }
        Ok(values)
    }
}
into_future!(InsertMany, Vec<T>, "insert_many", "insert", deadline_inside);

/// How many documents one `insert` command of an `insert_many` carries.
const INSERT_CHUNK: usize = 1000;

/// Turns the error of one ordered chunk of an `insert_many` into [`Error::PartialWrite`]: `before`
/// documents were stored by earlier chunks, and the failing chunk held `len`.
fn partial_write(e: mongodb::error::Error, before: usize, len: usize, total: usize) -> Error {
    // With a write error the server says where the ordered chunk stopped; after a network error nobody
    // knows how much of the chunk the server applied.
    let in_chunk = match &*e.kind {
        mongodb::error::ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|w| w.iter().map(|w| w.index).min()),
        _ => None,
    };
    let (written, unknown) = match in_chunk {
        Some(i) => (before + i, 0),
        None => (before, len),
    };
    let source = Error::from(e);
    if written == 0 && unknown == 0 {
        return source;
    }
    Error::PartialWrite {
        written,
        unknown,
        total,
        source: Box::new(source),
    }
}
