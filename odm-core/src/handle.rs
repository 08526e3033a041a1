//! [`ModelHandle`]: a model bound to a connection, and the operations on it.
//!
//! Every operation is a `#[must_use]` builder that runs when awaited, so options read in order:
//! `users.find(filter).sort(order).limit(10).await`.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use mongodb::bson::{self, doc, oid::ObjectId, Bson, Document, RawDocumentBuf};
use mongodb::options::{FindOneOptions, FindOptions};
use mongodb::Collection;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::hooks::{self, HookContext};
use crate::model::Model;
use crate::observe::TenantLabel;
use crate::ops::aggregate::Aggregate;
use crate::ops::count::{Count, Distinct, Exists};
use crate::ops::delete::{Delete, Restore};
use crate::ops::find::{Find, FindOne};
use crate::ops::insert::{Create, InsertMany, Save};
use crate::ops::pipeline::Pipeline;
use crate::ops::settings::Settings;
use crate::ops::update::{Replace, UpdateOp};
use crate::query::{Filter, IntoUpdate, Update};
use crate::session::Session;
use crate::tenancy::confine::Confinement;
use crate::tenancy::Scope;

/// MongoDB's largest document, in bytes.
pub const MAX_DOCUMENT_SIZE: usize = 16 * 1024 * 1024;

/// Model `T` bound to a connection's database (and, for a tenant handle, confined to the tenant).
///
/// Made by [`Connection::model`]; binding does no I/O and allocates nothing, so bind per request. The
/// handle is cheap to clone, `Send + Sync`, and holds no state of its own besides where it points.
///
/// The guide's [queries](crate::guide::queries) chapter shows the operations at work, with typed and raw
/// filters and updates.
pub struct ModelHandle<T> {
    conn: Connection,
    /// `None` for a handle bound straight to a connection; behind a pointer to keep handles small.
    confinement: Option<Arc<Scope>>,
    _model: PhantomData<fn() -> T>,
}

impl<T> Clone for ModelHandle<T> {
    fn clone(&self) -> Self {
        ModelHandle {
            conn: self.conn.clone(),
            confinement: self.confinement.clone(),
            _model: PhantomData,
        }
    }
}

impl<T: Model> std::fmt::Debug for ModelHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelHandle")
            .field("model", &T::SCHEMA.type_name)
            .field("database", &self.conn.name())
            .field("collection", &self.collection_name())
            .finish()
    }
}

impl<T: Model> ModelHandle<T> {
    pub(crate) fn new(conn: Connection) -> Self {
        Self::confined(conn, None)
    }

    pub(crate) fn confined(conn: Connection, confinement: Option<Arc<Scope>>) -> Self {
        ModelHandle {
            conn,
            confinement,
            _model: PhantomData,
        }
    }

    /// The connection the model is bound to.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The name of the collection the handle reads and writes.
    pub fn collection_name(&self) -> Cow<'static, str> {
        self.confinement().collection_name(T::SCHEMA.collection)
    }

    /// The name of the collection the handle reads and writes, as a `Display` that allocates nothing,
    /// for the spans.
    pub(crate) fn stored_collection(&self) -> crate::observe::CollectionName<'_> {
        let prefix = match self.confinement() {
            Confinement::Prefix(prefix) => prefix,
            _ => "",
        };
        crate::observe::CollectionName {
            prefix,
            collection: T::SCHEMA.collection,
        }
    }

    /// The driver's typed collection this handle reads and writes, for anything the library does not
    /// wrap. The driver applies no hooks, rules or timeout.
    ///
    /// On a handle of a database or collection per tenant the collection is the tenant's own. On a
    /// tenant handle of a shared collection it would hold every tenant's documents, so it is refused
    /// with [`Error::TenantViolation`]: use [`unconfined_collection`](Self::unconfined_collection) where
    /// you mean to reach every tenant.
    pub fn collection(&self) -> Result<Collection<T>> {
        if let Confinement::Field { field, .. } = self.confinement() {
            return Err(Error::TenantViolation(format!(
                "the driver's collection of a shared collection holds every tenant's documents, and it does not confine them to the handle's tenant (by `{field}`); use the handle's operations, or `unconfined_collection()` where you mean to reach every tenant"
            )));
        }
        Ok(self.unconfined_collection())
    }

    /// The driver's typed collection, with no tenant confinement: on a tenant handle of a shared
    /// collection it reads and writes every tenant's documents. For platform work across tenants
    /// (migrations, exports); a request path should use the handle's operations or
    /// [`collection`](Self::collection).
    #[allow(clippy::disallowed_methods)] // the escape hatch, named for what it does
    pub fn unconfined_collection(&self) -> Collection<T> {
        self.conn.database().collection(&self.collection_name())
    }

    /// A pipeline for one operation on this handle's collection, in `session` when given, carrying the
    /// model's default [`Settings`] (an operation's own go over them with `Pipeline::overriding`).
    pub(crate) fn pipeline<'p>(
        &'p self,
        mut session: Option<&'p mut Session>,
    ) -> Result<Pipeline<'p>> {
        let in_flight = match &self.confinement {
            Some(scope) => {
                let in_flight = scope.check_lease()?;
                if let (Some(session), Some(_)) = (session.as_deref_mut(), &in_flight) {
                    session.used(scope);
                }
                in_flight
            }
            None => None,
        };
        let mut pipeline = Pipeline::new(
            &self.conn,
            self.confinement(),
            T::SCHEMA.collection,
            session,
            Settings::of(T::SCHEMA),
        )?;
        pipeline.in_flight(in_flight);
        pipeline.live_only(T::SCHEMA.soft_delete);
        // Only a model with hooks builds a context; the others pay this one check.
        if let Some(queries) = T::hooks().and_then(|h| h.queries()) {
            let ctx = HookContext::new(
                self.conn.clone(),
                self.collection_name(),
                self.tenant_label().map(|t| t.id.clone()),
            );
            pipeline.hook_queries(queries, ctx);
        }
        Ok(pipeline)
    }

    /// The confinement, shared, to bind another model with the same confinement.
    pub(crate) fn shared_confinement(&self) -> Option<Arc<Scope>> {
        self.confinement.clone()
    }

    pub(crate) fn confinement(&self) -> &Confinement {
        static UNSCOPED: Confinement = Confinement::None;
        self.confinement
            .as_deref()
            .map_or(&UNSCOPED, |s| &s.confine)
    }

    /// The tenant of a tenant handle, for spans and metrics.
    pub(crate) fn tenant_label(&self) -> Option<&TenantLabel> {
        self.confinement.as_deref().map(|s| &s.tenant)
    }

    /// Checks every rule of the model on `value`, without I/O.
    pub fn validate(&self, value: &T) -> Result<()> {
        value.validate().map_err(Error::Validation)
    }

    /// The document [`create`](Self::create) would send for `value`, without I/O: timestamps and version
    /// set, rules checked, an `_id` generated when it has none, the tenant field stamped, size checked.
    /// For writes the library has no builder for, such as a bulk write through
    /// [`collection`](Self::collection). Hooks do not run (they are async; `create` runs them).
    pub fn prepare(&self, value: &mut T) -> Result<RawDocumentBuf> {
        self.prepare_insert(value, bson::DateTime::now())?;
        let mut raw = self.encode(value)?;
        self.confinement().stamp(&mut raw)?;
        Ok(raw)
    }

    /// Inserts `value` and returns it as stored: `_id` generated when it has none, timestamps and version
    /// set. Validates first; an invalid value writes nothing.
    pub fn create(&self, value: T) -> Create<'_, T> {
        Create {
            handle: self,
            value,
            session: None,
            settings: Default::default(),
        }
    }

    /// Stores `value`: inserts it when it has no `_id`, else replaces the stored document with that `_id`
    /// (inserting it when there is none). Sets timestamps and, with `#[model(version)]`, bumps the version
    /// and refuses with [`Error::VersionConflict`] when the stored document's version moved on since the
    /// value was read, so a stale copy never overwrites a newer one.
    pub fn save<'a>(&'a self, value: &'a mut T) -> Save<'a, T> {
        Save {
            handle: self,
            value,
            session: None,
            settings: Default::default(),
        }
    }

    /// Inserts every value, in order, and returns them as stored. Validates all of them first: one invalid
    /// value writes none of the batch, and the error names its position.
    pub fn insert_many(&self, values: impl IntoIterator<Item = T>) -> InsertMany<'_, T> {
        InsertMany {
            handle: self,
            values: values.into_iter().collect(),
            session: None,
            settings: Default::default(),
        }
    }

    /// The document whose `_id` is `id`, if any.
    pub fn find_by_id(&self, id: impl Into<Bson>) -> FindOne<'_, T> {
        self.find_one(doc! { "_id": id.into() })
    }

    /// The first document that matches `filter`, if any.
    pub fn find_one(&self, filter: impl Into<Filter<T>>) -> FindOne<'_, T> {
        let mut options = FindOneOptions::default();
        options.projection = T::SCHEMA.hidden_projection();
        FindOne {
            handle: self,
            filter: filter.into(),
            options,
            session: None,
            with_deleted: false,
        }
    }

    /// Every document that matches `filter`; add `sort`, `skip` and `limit`, then await for a `Vec`, or
    /// call [`Find::stream`] for large reads.
    pub fn find(&self, filter: impl Into<Filter<T>>) -> Find<'_, T> {
        let mut options = FindOptions::default();
        options.projection = T::SCHEMA.hidden_projection();
        Find {
            handle: self,
            filter: filter.into(),
            options,
            session: None,
            with_deleted: false,
        }
    }

    /// How many documents match `filter`.
    pub fn count(&self, filter: impl Into<Filter<T>>) -> Count<'_, T> {
        Count {
            handle: self,
            filter: filter.into(),
            session: None,
            settings: Default::default(),
            with_deleted: false,
        }
    }

    /// Whether any document matches `filter`.
    pub fn exists(&self, filter: impl Into<Filter<T>>) -> Exists<'_, T> {
        Exists {
            handle: self,
            filter: filter.into(),
            session: None,
            settings: Default::default(),
            with_deleted: false,
        }
    }

    /// Updates the first document that matches `filter`. Moves `updated_at` forward with
    /// `#[model(timestamps)]`.
    ///
    /// The values `$set` and `$setOnInsert` write, and the fields `$unset` removes, are checked against
    /// the model's field rules first; an update that breaks one writes nothing and returns
    /// [`Error::Validation`]. (What only the stored document decides is not checked: the result of `$inc`
    /// or `$push`, custom `validate` functions, update pipelines.)
    pub fn update_one(
        &self,
        filter: impl Into<Filter<T>>,
        update: impl IntoUpdate<T>,
    ) -> UpdateOp<'_, T> {
        self.update(filter.into(), update.into_update(), false)
    }

    /// Updates every document that matches `filter`. Moves `updated_at` forward with
    /// `#[model(timestamps)]`. Checked against the field rules like [`update_one`](Self::update_one).
    pub fn update_many(
        &self,
        filter: impl Into<Filter<T>>,
        update: impl IntoUpdate<T>,
    ) -> UpdateOp<'_, T> {
        self.update(filter.into(), update.into_update(), true)
    }

    fn update(&self, filter: Filter<T>, update: Result<Update>, many: bool) -> UpdateOp<'_, T> {
        UpdateOp {
            handle: self,
            filter,
            update,
            many,
            upsert: false,
            if_version: None,
            touch: true,
            session: None,
            settings: Default::default(),
            with_deleted: false,
        }
    }

    /// Replaces the first document that matches `filter` with `value`. Validates first; an invalid value
    /// writes nothing.
    pub fn replace_one(&self, filter: impl Into<Filter<T>>, value: T) -> Replace<'_, T> {
        Replace {
            handle: self,
            filter: filter.into(),
            value,
            upsert: false,
            session: None,
            settings: Default::default(),
        }
    }

    /// Deletes the first document that matches `filter`.
    pub fn delete_one(&self, filter: impl Into<Filter<T>>) -> Delete<'_, T> {
        Delete {
            handle: self,
            filter: filter.into(),
            many: false,
            hard: false,
            session: None,
            settings: Default::default(),
            with_deleted: false,
        }
    }

    /// Deletes every document that matches `filter`.
    pub fn delete_many(&self, filter: impl Into<Filter<T>>) -> Delete<'_, T> {
        Delete {
            handle: self,
            filter: filter.into(),
            many: true,
            hard: false,
            session: None,
            settings: Default::default(),
            with_deleted: false,
        }
    }

    /// Brings back the soft-deleted documents that match `filter` (their `deleted_at` set back to `null`)
    /// and returns how many; for a `#[model(soft_delete)]` model
    /// ([`Error::Unsupported`] otherwise).
    pub fn restore(&self, filter: impl Into<Filter<T>>) -> Restore<'_, T> {
        Restore {
            handle: self,
            filter: filter.into(),
            session: None,
            settings: Default::default(),
        }
    }

    /// Runs an aggregation pipeline and returns the resulting documents.
    pub fn aggregate(&self, pipeline: impl IntoIterator<Item = Document>) -> Aggregate<'_, T> {
        Aggregate {
            handle: self,
            pipeline: pipeline.into_iter().collect(),
            session: None,
            settings: Default::default(),
            with_deleted: false,
        }
    }

    /// The distinct values of the stored field `field` among the documents that match `filter`.
    pub fn distinct(
        &self,
        field: impl AsRef<str>,
        filter: impl Into<Filter<T>>,
    ) -> Distinct<'_, T> {
        Distinct {
            handle: self,
            field: field.as_ref().to_owned(),
            filter: filter.into(),
            session: None,
            settings: Default::default(),
            with_deleted: false,
        }
    }

    /// The model's hooks with the context of an operation on this handle; `None` without hooks.
    pub(crate) fn hooks(&self) -> hooks::Bound<T> {
        T::hooks().map(|h| {
            (
                h,
                HookContext::new(
                    self.conn.clone(),
                    self.collection_name(),
                    self.tenant_label().map(|t| t.id.clone()),
                ),
            )
        })
    }

    /// Prepares a value for insertion: timestamps, version, validation, `_id`.
    pub(crate) fn prepare_insert(&self, value: &mut T, now: bson::DateTime) -> Result<()> {
        value.touch(now, true);
        if T::SCHEMA.version.is_some() && value.version().is_none() {
            value.set_version(0);
        }
        value.validate()?;
        if matches!(value.id()?, Bson::Null) {
            value.set_id(Bson::ObjectId(ObjectId::new()))?;
        }
        Ok(())
    }

    /// Prepares a replacement: `before_validate`, `updated_at`, rules, `before_save`, then the encoded
    /// document, as [`replace_one`](Self::replace_one) and `find_one_and_replace` send it.
    pub(crate) async fn prepare_replacement(
        &self,
        value: &mut T,
        hooks: &hooks::Bound<T>,
        now: bson::DateTime,
    ) -> Result<RawDocumentBuf> {
        if let Some((h, ctx)) = hooks {
            hooks::call::<T>("before_validate", h.before_validate(value, ctx)).await?;
        }
        value.touch(now, false);
        value.validate()?;
        if let Some((h, ctx)) = hooks {
            hooks::call::<T>("before_save", h.before_save(value, ctx)).await?;
        }
        self.encode(value)
    }

    /// Encodes a value and checks its size. (The pipeline stamps the tenant field.)
    pub(crate) fn encode(&self, value: &mut T) -> Result<RawDocumentBuf> {
        let serialization = |source| Error::Serialization {
            type_name: T::SCHEMA.type_name,
            source: Box::new(source),
        };
        let raw = match value.id()? {
            // bson 2.x encodes an `ObjectId` through its extended-JSON text; an id field that can be left
            // empty is encoded empty and the id written as bytes in front, as the driver does with ids it
            // generates.
            Bson::ObjectId(id) if value.set_id(Bson::Null).is_ok() => {
                let encoded = bson::to_raw_document_buf(value);
                value.set_id(Bson::ObjectId(id))?;
                let bytes =
                    crate::decode::with_id_first(encoded.map_err(serialization)?.as_bytes(), id);
                if bytes.len() > MAX_DOCUMENT_SIZE {
                    return Err(self.too_large(bytes.len()));
                }
                RawDocumentBuf::from_bytes(bytes).expect("a length that fits and a final NUL")
            }
            _ => bson::to_raw_document_buf(value).map_err(serialization)?,
        };
        let mut raw = raw;
        if let Some(stamp) = T::SCHEMA.soft_delete {
            // A live document stores its stamp as `null` (not missing), which is what the unique
            // indexes partial on live documents match.
            if raw.get(stamp).ok().flatten().is_none() {
                raw.append(stamp, bson::RawBson::Null);
            }
        }
        let size = raw.as_bytes().len();
        if size > MAX_DOCUMENT_SIZE {
            return Err(self.too_large(size));
        }
        Ok(raw)
    }

    fn too_large(&self, size: usize) -> Error {
        Error::DocumentTooLarge {
            type_name: T::SCHEMA.type_name,
            size,
            limit: MAX_DOCUMENT_SIZE,
        }
    }

    /// The equalities that hold a replacement to the stored values of the immutable fields
    /// (`#[field(immutable)]`), taken from the encoded replacement (a field it leaves out is `null`, which
    /// matches a missing field too); `None` for a model without any. Added to the filter of a `save` or
    /// a replacement, they make a change of an immutable field match nothing, at no extra round trip.
    pub(crate) fn immutable_filter(raw: &RawDocumentBuf) -> Result<Option<Document>> {
        let mut filter = Document::new();
        for field in T::SCHEMA.fields.iter().filter(|f| f.immutable) {
            filter.insert(field.stored, raw_value::<T>(raw, field.stored)?);
        }
        Ok((!filter.is_empty()).then_some(filter))
    }

    /// After a `save` or replacement held to the immutable fields matched nothing (or, upserting,
    /// collided on `_id`): reads the document `filter` names to tell whether an immutable field is why,
    /// and returns that error. A round trip on the failure path only.
    pub(crate) async fn immutable_changed(
        &self,
        pipeline: &mut Pipeline<'_>,
        filter: Document,
        raw: &RawDocumentBuf,
        operation: &'static str,
    ) -> Result<Option<Error>> {
        let fields: Vec<&'static str> = T::SCHEMA
            .fields
            .iter()
            .filter(|f| f.immutable)
            .map(|f| f.stored)
            .collect();
        if fields.is_empty() {
            return Ok(None);
        }
        let mut options = FindOneOptions::default();
        let mut projection = Document::new();
        for field in &fields {
            projection.insert(*field, 1);
        }
        options.projection = Some(projection);
        let Some(stored) = pipeline.find_one(filter, options).await? else {
            return Ok(None);
        };
        for field in fields {
            let was = raw_value::<T>(&stored, field)?;
            let now = raw_value::<T>(raw, field)?;
            if !same_value(&was, &now) {
                return Ok(Some(Error::Immutable {
                    type_name: T::SCHEMA.type_name,
                    field: field.to_owned(),
                    operation,
                    fix: "keep the stored value in the value you write (read the document, change the other fields, write it back)",
                }));
            }
        }
        Ok(None)
    }

    /// Replaces the document `filter` matches by `raw`, keeping the stored values of the hidden fields
    /// (`#[field(hidden)]`) the value does not hold (`null` or missing: a value read without them), so a
    /// value read, changed and saved does not erase them. A plain replacement otherwise; with hidden
    /// fields to keep, an update pipeline that merges the value over them, in the same round trip.
    pub(crate) async fn replace_keeping_hidden(
        pipeline: &mut Pipeline<'_>,
        filter: Document,
        raw: RawDocumentBuf,
        upsert: bool,
    ) -> Result<mongodb::results::UpdateResult> {
        let filter = Self::with_shard_key(filter, &raw);
        match Self::keeping_hidden(&raw)? {
            None => pipeline.replace_one(filter, raw, upsert).await,
            Some(update) => pipeline.update(filter, update, false, upsert).await,
        }
    }

    /// [`replace_keeping_hidden`](Self::replace_keeping_hidden) for `find_one_and_replace`.
    pub(crate) async fn find_and_replace_keeping_hidden(
        pipeline: &mut Pipeline<'_>,
        filter: Document,
        raw: RawDocumentBuf,
        options: mongodb::options::FindOneAndReplaceOptions,
    ) -> Result<Option<RawDocumentBuf>> {
        let filter = Self::with_shard_key(filter, &raw);
        let Some(update) = Self::keeping_hidden(&raw)? else {
            return pipeline.find_one_and_replace(filter, raw, options).await;
        };
        let mut as_update = mongodb::options::FindOneAndUpdateOptions::default();
        as_update.sort = options.sort;
        as_update.projection = options.projection;
        as_update.upsert = options.upsert;
        as_update.return_document = options.return_document;
        pipeline
            .find_one_and_update(filter, update, as_update)
            .await
    }

    /// `filter` with the values of the shard key (`#[model(shard_key(..))]`) from the document `raw`
    /// written by a `save` or replacement, so a sharded cluster routes the write to one shard. A field
    /// the filter already names at its top level keeps the filter's condition; a field `raw` lacks is
    /// left out.
    pub(crate) fn with_shard_key(mut filter: Document, raw: &RawDocumentBuf) -> Document {
        for field in T::SCHEMA.shard_key {
            if filter.contains_key(*field) {
                continue;
            }
            let mut at = Some(raw.as_ref());
            let mut value = None;
            let mut parts = field.split('.').peekable();
            while let (Some(doc), Some(part)) = (at, parts.next()) {
                let got = doc.get(part).ok().flatten();
                if parts.peek().is_none() {
                    value = got.and_then(|v| Bson::try_from(v).ok());
                    break;
                }
                at = got.and_then(|v| v.as_document());
            }
            if let Some(value) = value {
                filter.insert(*field, value);
            }
        }
        filter
    }

    /// The update pipeline that replaces a document by `raw` but keeps the stored values of the hidden
    /// fields `raw` does not hold; `None` when there are none to keep.
    fn keeping_hidden(raw: &RawDocumentBuf) -> Result<Option<Update>> {
        let kept: Vec<&'static str> = T::SCHEMA
            .fields
            .iter()
            .filter(|f| f.hidden)
            .map(|f| f.stored)
            .filter(|stored| matches!(raw.get(stored), Ok(None | Some(bson::RawBsonRef::Null))))
            .collect();
        if kept.is_empty() {
            return Ok(None);
        }
        let mut value = crate::ops::to_document(T::SCHEMA.type_name, raw)?;
        let mut stored = Document::new();
        for field in kept {
            value.remove(field);
            stored.insert(field, format!("${field}"));
        }
        // `$literal`: the value's strings are data, never field paths or operators.
        Ok(Some(Update::Pipeline(vec![doc! {
            "$replaceWith": { "$mergeObjects": [ stored, { "$literal": value } ] }
        }])))
    }

    /// The version conflict of a version-checked write of document `id` that expected `expected`: reads
    /// the stored version (through the same pipeline, so within the tenant) to say whether the caller's
    /// copy is stale, ahead, or of a document now gone.
    pub(crate) async fn conflict(
        &self,
        pipeline: &mut Pipeline<'_>,
        id: Bson,
        expected: i64,
    ) -> Error {
        let stored = match T::SCHEMA.version {
            Some(field) => {
                let mut options = FindOneOptions::default();
                options.projection = Some(doc! { field: 1 });
                match pipeline.find_one(doc! { "_id": id.clone() }, options).await {
                    Ok(Some(raw)) => raw.get(field).ok().flatten().and_then(|v| match v {
                        bson::RawBsonRef::Int32(v) => Some(i64::from(v)),
                        bson::RawBsonRef::Int64(v) => Some(v),
                        _ => None,
                    }),
                    Ok(None) => None,
                    // The conflict stands whatever the lookup met; the stored version is then unknown.
                    Err(e) => return e,
                }
            }
            None => None,
        };
        Error::VersionConflict {
            collection: self.collection_name().into_owned(),
            id: Box::new(id),
            expected,
            stored,
        }
    }
}

/// The value of `field` in a raw document, `null` when it is missing.
fn raw_value<T: Model>(raw: &RawDocumentBuf, field: &str) -> Result<Bson> {
    let decode = |e: bson::raw::Error| Error::Deserialization {
        type_name: T::SCHEMA.type_name,
        source: <bson::de::Error as serde::de::Error>::custom(e),
    };
    match raw.get(field).map_err(decode)? {
        Some(value) => value.to_raw_bson().try_into().map_err(decode),
        None => Ok(Bson::Null),
    }
}

/// Whether two stored values are equal as a filter's equality sees them: numbers by value, whatever
/// their BSON type.
fn same_value(a: &Bson, b: &Bson) -> bool {
    let number = |v: &Bson| match v {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
