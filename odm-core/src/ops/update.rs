//! `update_one`, `update_many` and `replace_one`.

use mongodb::bson::{self, doc, Bson, Document};
use mongodb::results::UpdateResult;

use crate::error::Result;
use crate::handle::ModelHandle;
use crate::hooks;
use crate::model::Model;
use crate::ops::pipeline::Pipeline;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::{into_future, session_method, with_deleted_method};
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
    pub(crate) if_version: Option<i64>,
    pub(crate) touch: bool,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
    pub(crate) with_deleted: bool,
}

impl<'a, T: Model> UpdateOp<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern, collation, hint);
    with_deleted_method!();

    /// Applies the update only to the document at version `version` (of `#[model(version)]`), and moves
    /// its version on by one, in one round trip. When the filter's document is at another version, or
    /// gone, nothing is written and the error is [`Error::VersionConflict`](crate::Error::VersionConflict),
    /// saying which. For `update_one` of a model with a version field.
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
            if_version,
            touch,
            session,
            settings,
            with_deleted,
        } = self;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        pipeline.include_deleted(with_deleted);
        let filter = filter.into_document()?;
        let mut update = update?;
        if upsert {
            insert_defaults::<T>(&mut update, &filter)?;
        }
        let mut update = checked_update(handle, update, touch)?;
        let Some(expected) = if_version else {
            return pipeline.update(filter, update, many, upsert).await;
        };
        let field = version_field::<T>()?;
        if many || upsert {
            return Err(crate::Error::Unsupported(
                "`if_version` checks one document's version: use it with `update_one`, without `upsert`",
            ));
        }
        bump_version(&mut update, field);
        let versioned = doc! { "$and": [ filter.clone(), { field: expected } ] };
        let result = pipeline.update(versioned, update, false, false).await?;
        if result.matched_count > 0 {
            return Ok(result);
        }
        Err(missed_version(handle, &mut pipeline, filter, expected).await)
    }
}
into_future!(UpdateOp, UpdateResult, "update", "update");

/// The error of a version-checked write that matched nothing at version `expected`: says whether the
/// document `filter` names moved on, is behind, or is gone.
pub(crate) async fn missed_version<T: Model>(
    handle: &ModelHandle<T>,
    pipeline: &mut Pipeline<'_>,
    filter: mongodb::bson::Document,
    expected: i64,
) -> crate::Error {
    let mut options = mongodb::options::FindOneOptions::default();
    options.projection = Some(doc! { "_id": 1 });
    let id = match pipeline.find_one(filter.clone(), options).await {
        Ok(Some(raw)) => raw
            .get("_id")
            .ok()
            .flatten()
            .and_then(|id| id.to_raw_bson().try_into().ok())
            .unwrap_or(Bson::Null),
        Ok(None) => filter.get("_id").cloned().unwrap_or(Bson::Null),
        Err(e) => return e,
    };
    handle.conflict(pipeline, id, expected).await
}

/// The version field of `T` for a version-checked write, or why there is none.
pub(crate) fn version_field<T: Model>() -> Result<&'static str> {
    T::SCHEMA.version.ok_or(crate::Error::Unsupported(
        "`if_version` needs a model with `#[model(version)]`",
    ))
}

/// Adds "move the version on by one" to an update.
pub(crate) fn bump_version(update: &mut Update, field: &str) {
    match update {
        Update::Document(doc) => match doc.get_document_mut("$inc") {
            Ok(inc) => {
                inc.insert(field, 1i64);
            }
            Err(_) => {
                doc.insert("$inc", doc! { field: 1i64 });
            }
        },
        Update::Pipeline(stages) => stages.push(doc! {
            "$set": { field: { "$add": [ { "$ifNull": [ format!("${field}"), 0 ] }, 1 ] } }
        }),
    }
}

/// Adds the defaults (`#[field(default = ..)]`) to the `$setOnInsert` of an upsert, as Mongoose's
/// `setDefaultsOnInsert` does: every field with a default that neither the update writes (under any
/// operator, at the field, below it or above it) nor the filter names, since an upsert stores the
/// filter's equalities. A pipeline update has no `$setOnInsert`: it is left as it is.
pub(crate) fn insert_defaults<T: Model>(update: &mut Update, filter: &Document) -> Result<()> {
    let Update::Document(doc) = update else {
        return Ok(());
    };
    let mut defaults = Document::new();
    for field in T::SCHEMA.fields {
        let Some(default) = &field.default else {
            continue;
        };
        let written = doc.values().any(|args| match args {
            Bson::Document(args) => args
                .keys()
                .any(|path| crate::update_rules::overlaps(path, field.stored)),
            _ => false,
        });
        if written || filter_names(filter, field.stored) {
            continue;
        }
        defaults.insert(field.stored, (default.value)()?);
    }
    if defaults.is_empty() {
        return Ok(());
    }
    match doc.get_document_mut("$setOnInsert") {
        Ok(on_insert) => on_insert.extend(defaults),
        Err(_) => {
            doc.insert("$setOnInsert", defaults);
        }
    }
    Ok(())
}

/// `true` when the filter names the field `stored` (or a path below or above it), at its top or in the
/// branches of an `$and`.
fn filter_names(filter: &Document, stored: &str) -> bool {
    filter
        .iter()
        .any(|(key, value)| match (key.as_str(), value) {
            ("$and", Bson::Array(branches)) => branches.iter().any(|b| match b {
                Bson::Document(b) => filter_names(b, stored),
                _ => false,
            }),
            _ => crate::update_rules::overlaps(key, stored),
        })
}

/// An update checked against the model's field rules, with `updated_at` moved forward (when `touch`). An update that
/// would move a document out of its tenant is refused first, whatever else it breaks (the pipeline
/// refuses it again when it is sent), then one that would change an immutable field. Every update path
/// (`update_one`, `update_many`, `find_one_and_update`, bulk updates) goes through here.
pub(crate) fn checked_update<T: Model>(
    handle: &ModelHandle<T>,
    mut update: Update,
    touch: bool,
) -> Result<Update> {
    handle.confinement().check_update(&update)?;
    if let Some(field) = crate::update_rules::immutable_path(T::SCHEMA, &update) {
        return Err(crate::Error::Immutable {
            type_name: T::SCHEMA.type_name,
            field,
            operation: "update",
            fix: "leave it out of the update (an upsert may set it in `$setOnInsert`)",
        });
    }
    if let Update::Document(doc) = &update {
        crate::update_rules::check(T::SCHEMA, doc)?;
    }
    if let Some(ts) = T::SCHEMA.timestamps.filter(|_| touch) {
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
    pub(crate) settings: Settings,
}

impl<'a, T: Model> Replace<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern, collation, hint);

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
            settings,
        } = self;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        let hooks = handle.hooks();
        let raw = handle
            .prepare_replacement(&mut value, &hooks, bson::DateTime::now())
            .await?;
        let filter = filter.into_document()?;
        let result = match ModelHandle::<T>::immutable_filter(&raw)? {
            None => {
                ModelHandle::<T>::replace_keeping_hidden(&mut pipeline, filter, raw, upsert).await?
            }
            Some(held) => replace_held(handle, &mut pipeline, filter, held, raw, upsert).await?,
        };
        if let Some((h, ctx)) = &hooks {
            if result.matched_count > 0 || result.upserted_id.is_some() {
                hooks::call::<T>("after_save", h.after_save(&value, ctx)).await?;
            }
        }
        Ok(result)
    }
}
into_future!(Replace, UpdateResult, "replace_one", "update");

/// A replacement of a model with immutable fields: held to their stored values, so a change matches
/// nothing; then, when nothing matched, a read of the filter's document tells whether an immutable field
/// is why. An upsert inserts only when no document matches the filter at all.
async fn replace_held<T: Model>(
    handle: &ModelHandle<T>,
    pipeline: &mut Pipeline<'_>,
    filter: Document,
    held: Document,
    raw: bson::RawDocumentBuf,
    upsert: bool,
) -> Result<UpdateResult> {
    let guarded = doc! { "$and": [ filter.clone(), held ] };
    let result =
        ModelHandle::<T>::replace_keeping_hidden(pipeline, guarded, raw.clone(), false).await?;
    if result.matched_count > 0 {
        return Ok(result);
    }
    if let Some(e) = handle
        .immutable_changed(pipeline, filter.clone(), &raw, "replacement")
        .await?
    {
        return Err(e);
    }
    if !upsert {
        return Ok(result);
    }
    ModelHandle::<T>::replace_keeping_hidden(pipeline, filter, raw, true).await
}
