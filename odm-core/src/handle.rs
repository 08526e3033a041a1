//! [`ModelHandle`]: a model bound to a connection, and the operations on it.
//!
//! Every operation is a `#[must_use]` builder that runs when awaited, so options read in order:
//! `users.find(filter).sort(order).limit(10).await`.

use std::borrow::Cow;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use mongodb::bson::{self, doc, oid::ObjectId, Bson, Document, RawDocumentBuf};
use mongodb::options::{FindOneOptions, FindOptions};
use mongodb::results::{DeleteResult, UpdateResult};
use mongodb::Collection;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::hooks::{self, HookContext};
use crate::model::Model;
use crate::query::{Filter, IntoUpdate, Sort, Update};
use crate::scope::Scope;
use crate::session::Session;

/// MongoDB's largest document, in bytes.
pub const MAX_DOCUMENT_SIZE: usize = 16 * 1024 * 1024;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    scope: Option<Arc<Scope>>,
    _model: PhantomData<fn() -> T>,
}

impl<T> Clone for ModelHandle<T> {
    fn clone(&self) -> Self {
        ModelHandle {
            conn: self.conn.clone(),
            scope: self.scope.clone(),
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
        Self::scoped(conn, None)
    }

    pub(crate) fn scoped(conn: Connection, scope: Option<Arc<Scope>>) -> Self {
        ModelHandle {
            conn,
            scope,
            _model: PhantomData,
        }
    }

    /// The connection the model is bound to.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The name of the collection the handle reads and writes.
    pub fn collection_name(&self) -> Cow<'static, str> {
        self.scope().collection_name(T::SCHEMA.collection)
    }

    /// The driver's typed collection, for anything the library does not wrap.
    ///
    /// It is not confined to a tenant: on a shared-collection tenant handle it sees every tenant's
    /// documents.
    pub fn collection(&self) -> Collection<T> {
        self.conn.database().collection(&self.collection_name())
    }

    /// The scope, shared, to bind another model with the same confinement.
    pub(crate) fn shared_scope(&self) -> Option<Arc<Scope>> {
        self.scope.clone()
    }

    pub(crate) fn scope(&self) -> &Scope {
        static UNSCOPED: Scope = Scope::None;
        self.scope.as_deref().unwrap_or(&UNSCOPED)
    }

    pub(crate) fn typed<U: Send + Sync>(&self) -> Collection<U> {
        self.conn.database().collection(&self.collection_name())
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
        self.encode(value)
    }

    /// Inserts `value` and returns it as stored: `_id` generated when it has none, timestamps and version
    /// set. Validates first; an invalid value writes nothing.
    pub fn create(&self, value: T) -> Create<'_, T> {
        Create {
            handle: self,
            value,
            session: None,
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
        }
    }

    /// Inserts every value, in order, and returns them as stored. Validates all of them first: one invalid
    /// value writes none of the batch, and the error names its position.
    pub fn insert_many(&self, values: impl IntoIterator<Item = T>) -> InsertMany<'_, T> {
        InsertMany {
            handle: self,
            values: values.into_iter().collect(),
            session: None,
        }
    }

    /// The document whose `_id` is `id`, if any.
    pub fn find_by_id(&self, id: impl Into<Bson>) -> FindOne<'_, T> {
        self.find_one(doc! { "_id": id.into() })
    }

    /// The first document that matches `filter`, if any.
    pub fn find_one(&self, filter: impl Into<Filter<T>>) -> FindOne<'_, T> {
        FindOne {
            handle: self,
            filter: filter.into(),
            options: FindOneOptions::default(),
            session: None,
        }
    }

    /// Every document that matches `filter`; add `sort`, `skip` and `limit`, then await for a `Vec`, or
    /// call [`Find::stream`] for large reads.
    pub fn find(&self, filter: impl Into<Filter<T>>) -> Find<'_, T> {
        Find {
            handle: self,
            filter: filter.into(),
            options: FindOptions::default(),
            session: None,
        }
    }

    /// How many documents match `filter`.
    pub fn count(&self, filter: impl Into<Filter<T>>) -> Count<'_, T> {
        Count {
            handle: self,
            filter: filter.into(),
            session: None,
        }
    }

    /// Whether any document matches `filter`.
    pub fn exists(&self, filter: impl Into<Filter<T>>) -> Exists<'_, T> {
        Exists {
            handle: self,
            filter: filter.into(),
            session: None,
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
            session: None,
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
        }
    }

    /// Deletes the first document that matches `filter`.
    pub fn delete_one(&self, filter: impl Into<Filter<T>>) -> Delete<'_, T> {
        Delete {
            handle: self,
            filter: filter.into(),
            many: false,
            session: None,
        }
    }

    /// Deletes every document that matches `filter`.
    pub fn delete_many(&self, filter: impl Into<Filter<T>>) -> Delete<'_, T> {
        Delete {
            handle: self,
            filter: filter.into(),
            many: true,
            session: None,
        }
    }

    /// Runs an aggregation pipeline and returns the resulting documents.
    pub fn aggregate(&self, pipeline: impl IntoIterator<Item = Document>) -> Aggregate<'_, T> {
        Aggregate {
            handle: self,
            pipeline: pipeline.into_iter().collect(),
            session: None,
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
        }
    }

    /// The model's hooks with the context of an operation on this handle; `None` without hooks.
    pub(crate) fn hooks(&self) -> hooks::Bound<T> {
        T::hooks().map(|h| {
            (
                h,
                HookContext::new(self.conn.clone(), self.collection_name()),
            )
        })
    }

    /// Prepares a value for insertion: timestamps, version, validation, `_id`.
    fn prepare_insert(&self, value: &mut T, now: bson::DateTime) -> Result<()> {
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

    /// Encodes a value, checks its size and stamps the tenant field.
    fn encode(&self, value: &mut T) -> Result<RawDocumentBuf> {
        let serialization = |source| Error::Serialization {
            type_name: T::SCHEMA.type_name,
            source: Box::new(source),
        };
        let mut raw = match value.id()? {
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
        self.scope().stamp(&mut raw)?;
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

    fn conflict(&self, id: Bson, expected: i64) -> Error {
        Error::VersionConflict {
            collection: self.collection_name().into_owned(),
            id: Box::new(id),
            expected,
        }
    }

    pub(crate) fn check_session(&self, session: &Option<&mut Session>) -> Result<()> {
        match session {
            Some(s) if s.client_id() != self.conn.client_id() => Err(Error::ForeignSession),
            _ => Ok(()),
        }
    }
}

/// Runs a driver action with the session when there is one.
macro_rules! run {
    ($action:expr, $session:expr) => {
        match $session {
            Some(s) => $action.session(s.inner()).await,
            None => $action.await,
        }
    };
}

/// Adds `.session(&mut s)` to a builder.
macro_rules! session_method {
    () => {
        /// Runs the operation in `session` (and its transaction, if one is open). A session of another
        /// client is refused with [`Error::ForeignSession`].
        pub fn session(mut self, session: &'a mut Session) -> Self {
            self.session = Some(session);
            self
        }
    };
}

/// Implements `IntoFuture` for a builder through its `run` method.
macro_rules! into_future {
    ($builder:ident, $output:ty) => {
        impl<'a, T: Model> IntoFuture for $builder<'a, T> {
            type Output = Result<$output>;
            type IntoFuture = BoxFuture<'a, Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                let deadline = self.handle.conn.operation_timeout();
                Box::pin(with_deadline(deadline, self.run()))
            }
        }
    };
    // For operations that apply the deadline to each of their round trips themselves.
    ($builder:ident, $output:ty, deadline_inside) => {
        impl<'a, T: Model> IntoFuture for $builder<'a, T> {
            type Output = Result<$output>;
            type IntoFuture = BoxFuture<'a, Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.run())
            }
        }
    };
}

/// Runs `op`, failing with [`Error::Timeout`] when it has not finished within `deadline`.
pub(crate) async fn with_deadline<O>(
    deadline: Option<std::time::Duration>,
    op: impl Future<Output = Result<O>>,
) -> Result<O> {
    match deadline {
        None => op.await,
        Some(after) => tokio::time::timeout(after, op)
            .await
            .unwrap_or(Err(Error::Timeout { after })),
    }
}

/// The `create` operation; await it for the value as stored (`_id`, timestamps and version set).
#[must_use = "an operation does nothing until it is awaited"]
pub struct Create<'a, T> {
    handle: &'a ModelHandle<T>,
    value: T,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Create<'a, T> {
    session_method!();

    async fn run(self) -> Result<T> {
        let Create {
            handle,
            mut value,
            session,
        } = self;
        handle.check_session(&session)?;
        let hooks = handle.hooks();
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_validate", h.before_validate(&mut value, ctx)).await?;
        }
        handle.prepare_insert(&mut value, bson::DateTime::now())?;
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_save", h.before_save(&mut value, ctx)).await?;
        }
        let raw = handle.encode(&mut value)?;
        run!(handle.typed::<RawDocumentBuf>().insert_one(raw), session)?;
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("after_save", h.after_save(&value, ctx)).await?;
        }
        Ok(value)
    }
}
into_future!(Create, T);

impl<T: Model> ModelHandle<T> {
    /// Replaces the document `id` stored at version `expected` with `value` (already at the next version);
    /// a value never stored (version 0, no document) is inserted. Anything else is a version conflict.
    async fn replace_versioned(
        &self,
        value: &mut T,
        id: Bson,
        version_field: &str,
        expected: i64,
        now: bson::DateTime,
        mut session: Option<&mut Session>,
    ) -> Result<()> {
        let coll = self.typed::<RawDocumentBuf>();
        let filter = self
            .scope()
            .filter(doc! { "_id": id.clone(), version_field: expected });
        let replaced = run!(
            coll.replace_one(filter, self.encode(value)?),
            session.as_deref_mut()
        )?;
        if replaced.matched_count > 0 {
            return Ok(());
        }
        if expected != 0 {
            return Err(self.conflict(id, expected));
        }
        // Never stored: insert it, unless someone else stored this `_id` meanwhile.
        value.set_version(0);
        value.touch(now, true);
        match run!(coll.insert_one(self.encode(value)?), session) {
            Ok(_) => Ok(()),
            Err(e) => match Error::from(e) {
                Error::DuplicateKey { .. } => Err(self.conflict(id, expected)),
                e => Err(e),
            },
        }
    }
}

/// The `save` operation; await it. The value is updated in place (`_id`, timestamps, version).
#[must_use = "an operation does nothing until it is awaited"]
pub struct Save<'a, T> {
    handle: &'a ModelHandle<T>,
    value: &'a mut T,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Save<'a, T> {
    session_method!();

    async fn run(self) -> Result<()> {
        let Save {
            handle,
            value,
            session,
        } = self;
        handle.check_session(&session)?;
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
        let coll = handle.typed::<RawDocumentBuf>();
        match (inserting, T::SCHEMA.version) {
            (true, _) => {
                run!(coll.insert_one(handle.encode(value)?), session)?;
            }
            (false, None) => {
                let filter = handle.scope().filter(doc! { "_id": id });
                run!(
                    coll.replace_one(filter, handle.encode(value)?).upsert(true),
                    session
                )?;
            }
            (false, Some(version_field)) => {
                let expected = value.version().unwrap_or(0);
                value.set_version(expected + 1);
                if let Err(e) = handle
                    .replace_versioned(value, id, version_field, expected, now, session)
                    .await
                {
                    value.set_version(expected);
                    return Err(e);
                }
            }
        }
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("after_save", h.after_save(value, ctx)).await?;
        }
        Ok(())
    }
}
into_future!(Save, ());

/// The `insert_many` operation; await it for the values as stored.
#[must_use = "an operation does nothing until it is awaited"]
pub struct InsertMany<'a, T> {
    handle: &'a ModelHandle<T>,
    values: Vec<T>,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> InsertMany<'a, T> {
    session_method!();

    async fn run(self) -> Result<Vec<T>> {
        let InsertMany {
            handle,
            mut values,
            session,
        } = self;
        handle.check_session(&session)?;
        if values.is_empty() {
            return Ok(values);
        }
        let now = bson::DateTime::now();
        let hooks = handle.hooks();
        let mut docs = Vec::with_capacity(values.len());
        for (i, value) in values.iter_mut().enumerate() {
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
        // Sent in chunks so that a failure part way can say how much of the batch is known stored.
        let total = docs.len();
        let coll = handle.typed::<RawDocumentBuf>();
        let deadline = handle.conn.operation_timeout();
        let mut written = 0;
        let mut docs = docs.into_iter();
        let mut session = session;
        while written < total {
            let chunk: Vec<_> = docs.by_ref().take(INSERT_CHUNK).collect();
            let len = chunk.len();
            let sent = with_deadline(deadline, async {
                run!(
                    coll.insert_many(chunk).ordered(true),
                    session.as_deref_mut()
                )
                .map_err(|e| partial_write(e, written, len, total))
            });
            match sent.await {
                Ok(_) => written += len,
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
into_future!(InsertMany, Vec<T>, deadline_inside);

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

/// The `find_one` and `find_by_id` operations; await them for an `Option`.
#[must_use = "an operation does nothing until it is awaited"]
pub struct FindOne<'a, T> {
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    options: FindOneOptions,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> FindOne<'a, T> {
    session_method!();

    /// Which document comes first when several match.
    pub fn sort(mut self, sort: impl Into<Sort<T>>) -> Self {
        self.options.sort = Some(sort.into().into_document());
        self
    }

    /// Awaits the document and turns "none" into [`Error::NotFound`].
    pub async fn required(self) -> Result<T> {
        let collection = self.handle.collection_name().into_owned();
        let filter = self.filter.as_document().clone();
        self.run()
            .await?
            .ok_or(Error::NotFound { collection, filter })
    }

    async fn run(self) -> Result<Option<T>> {
        let FindOne {
            handle,
            filter,
            options,
            session,
        } = self;
        handle.check_session(&session)?;
        let filter = handle.scope().filter(filter.into_document()?);
        let raw = run!(
            handle
                .typed::<RawDocumentBuf>()
                .find_one(filter)
                .with_options(options),
            session
        )?;
        raw.map(|doc| T::from_document(&doc)).transpose()
    }
}
into_future!(FindOne, Option<T>);

/// The `find` operation; await it for a `Vec`, or call [`Find::stream`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct Find<'a, T> {
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    options: FindOptions,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Find<'a, T> {
    session_method!();

    /// The order of the results.
    pub fn sort(mut self, sort: impl Into<Sort<T>>) -> Self {
        self.options.sort = Some(sort.into().into_document());
        self
    }

    /// Skips the first `n` results.
    pub fn skip(mut self, n: u64) -> Self {
        self.options.skip = Some(n);
        self
    }

    /// Returns at most `n` results.
    pub fn limit(mut self, n: i64) -> Self {
        self.options.limit = Some(n);
        self
    }

    pub(crate) fn into_parts(self) -> FindParts<'a, T> {
        (self.handle, self.filter, self.options, self.session)
    }

    /// How many documents the server sends per batch.
    pub fn batch_size(mut self, n: u32) -> Self {
        self.options.batch_size = Some(n);
        self
    }

    /// Streams the results, a batch at a time, for reads too large to hold at once. Reads in a session
    /// are awaited as a `Vec` instead.
    pub async fn stream(self) -> Result<BoxStream<'static, Result<T>>> {
        if self.session.is_some() {
            return Err(Error::Unsupported(
                "`stream()` cannot borrow the session for the stream's lifetime; await the find for a `Vec` inside a session",
            ));
        }
        let filter = self.handle.scope().filter(self.filter.into_document()?);
        let cursor = self
            .handle
            .typed::<RawDocumentBuf>()
            .find(filter)
            .with_options(self.options)
            .await?;
        // Each document is decoded in place in the cursor's batch, without a copy.
        let stream = futures_util::stream::try_unfold(cursor, |mut cursor| async move {
            if !cursor.advance().await? {
                return Ok(None);
            }
            let value = T::from_document(cursor.current())?;
            Ok(Some((value, cursor)))
        });
        Ok(stream.boxed())
    }

    async fn run(self) -> Result<Vec<T>> {
        let Find {
            handle,
            filter,
            options,
            session,
        } = self;
        handle.check_session(&session)?;
        let coll = handle.typed::<RawDocumentBuf>();
        let action = coll
            .find(handle.scope().filter(filter.into_document()?))
            .with_options(options);
        // Each document is decoded in place in the cursor's batch, without a copy.
        let mut out = Vec::new();
        match session {
            Some(s) => {
                let mut cursor = action.session(s.inner()).await?;
                while cursor.advance(s.inner()).await? {
                    out.push(T::from_document(cursor.current())?);
                }
            }
            None => {
                let mut cursor = action.await?;
                while cursor.advance().await? {
                    out.push(T::from_document(cursor.current())?);
                }
            }
        }
        Ok(out)
    }
}
into_future!(Find, Vec<T>);

pub(crate) type FindParts<'a, T> = (
    &'a ModelHandle<T>,
    Filter<T>,
    FindOptions,
    Option<&'a mut Session>,
);

/// The `count` operation; await it for the number of matching documents.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Count<'a, T> {
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Count<'a, T> {
    session_method!();

    async fn run(self) -> Result<u64> {
        self.handle.check_session(&self.session)?;
        let filter = self.handle.scope().filter(self.filter.into_document()?);
        Ok(run!(
            self.handle.typed::<Document>().count_documents(filter),
            self.session
        )?)
    }
}
into_future!(Count, u64);

/// The `exists` operation; await it for `true` when a document matches.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Exists<'a, T> {
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Exists<'a, T> {
    session_method!();

    async fn run(self) -> Result<bool> {
        self.handle.check_session(&self.session)?;
        let filter = self.handle.scope().filter(self.filter.into_document()?);
        let found = run!(
            self.handle
                .typed::<Document>()
                .find_one(filter)
                .projection(doc! { "_id": 1 }),
            self.session
        )?;
        Ok(found.is_some())
    }
}
into_future!(Exists, bool);

/// The `update_one` and `update_many` operations; await them for the driver's `UpdateResult` (matched,
/// modified and upserted).
#[must_use = "an operation does nothing until it is awaited"]
pub struct UpdateOp<'a, T> {
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    update: Result<Update>,
    many: bool,
    upsert: bool,
    session: Option<&'a mut Session>,
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
        handle.check_session(&session)?;
        let mut update = update?;
        handle.scope().check_update(&update)?;
        if let Update::Document(doc) = &update {
            crate::update_rules::check(T::SCHEMA, doc)?;
        }
        if let Some(ts) = T::SCHEMA.timestamps {
            touch_updated_at(&mut update, ts.updated_at);
        }
        handle.scope().finish_update(&mut update, upsert);
        let filter = handle.scope().filter(filter.into_document()?);
        let coll = handle.typed::<Document>();
        let update = match update {
            Update::Document(d) => mongodb::options::UpdateModifications::Document(d),
            Update::Pipeline(p) => mongodb::options::UpdateModifications::Pipeline(p),
        };
        let result = if many {
            run!(coll.update_many(filter, update).upsert(upsert), session)
        } else {
            run!(coll.update_one(filter, update).upsert(upsert), session)
        };
        Ok(result?)
    }
}
into_future!(UpdateOp, UpdateResult);

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
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    value: T,
    upsert: bool,
    session: Option<&'a mut Session>,
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
        handle.check_session(&session)?;
        let hooks = handle.hooks();
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_validate", h.before_validate(&mut value, ctx)).await?;
        }
        value.touch(bson::DateTime::now(), false);
        value.validate()?;
        if let Some((h, ctx)) = &hooks {
            hooks::call::<T>("before_save", h.before_save(&mut value, ctx)).await?;
        }
        let raw = handle.encode(&mut value)?;
        let filter = handle.scope().filter(filter.into_document()?);
        let coll = handle.typed::<RawDocumentBuf>();
        let result = run!(coll.replace_one(filter, raw).upsert(upsert), session)?;
        if let Some((h, ctx)) = &hooks {
            if result.matched_count > 0 || result.upserted_id.is_some() {
                hooks::call::<T>("after_save", h.after_save(&value, ctx)).await?;
            }
        }
        Ok(result)
    }
}
into_future!(Replace, UpdateResult);

/// The `delete_one` and `delete_many` operations; await them for the driver's `DeleteResult`.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Delete<'a, T> {
    handle: &'a ModelHandle<T>,
    filter: Filter<T>,
    many: bool,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Delete<'a, T> {
    session_method!();

    async fn run(self) -> Result<DeleteResult> {
        self.handle.check_session(&self.session)?;
        let filter = self.filter.into_document()?;
        let hooks = self.handle.hooks();
        // The caller's filter is kept for `after_delete` only when there are hooks to give it to.
        let kept = hooks.as_ref().map(|_| filter.clone());
        if let (Some((h, ctx)), Some(filter)) = (&hooks, &kept) {
            hooks::call::<T>("before_delete", h.before_delete(filter, ctx)).await?;
        }
        let filter = self.handle.scope().filter(filter);
        let coll = self.handle.typed::<Document>();
        let result = if self.many {
            run!(coll.delete_many(filter), self.session)
        } else {
            run!(coll.delete_one(filter), self.session)
        }?;
        if let (Some((h, ctx)), Some(filter)) = (&hooks, &kept) {
            let deleted = result.deleted_count;
            hooks::call::<T>("after_delete", h.after_delete(filter, deleted, ctx)).await?;
        }
        Ok(result)
    }
}
into_future!(Delete, DeleteResult);

/// The `aggregate` operation; await it for the documents, or call [`Aggregate::stream`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct Aggregate<'a, T> {
    handle: &'a ModelHandle<T>,
    pipeline: Vec<Document>,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Aggregate<'a, T> {
    session_method!();

    /// Streams the resulting documents. (Without a session.)
    pub async fn stream(self) -> Result<BoxStream<'static, Result<Document>>> {
        if self.session.is_some() {
            return Err(Error::Unsupported(
                "`stream()` cannot borrow the session for the stream's lifetime; await the aggregate for a `Vec` inside a session",
            ));
        }
        let pipeline = self.handle.scope().pipeline(self.pipeline)?;
        let cursor = self.handle.typed::<Document>().aggregate(pipeline).await?;
        Ok(cursor.map_err(Error::from).boxed())
    }

    async fn run(self) -> Result<Vec<Document>> {
        self.handle.check_session(&self.session)?;
        let pipeline = self.handle.scope().pipeline(self.pipeline)?;
        let coll = self.handle.typed::<Document>();
        let action = coll.aggregate(pipeline);
        match self.session {
            Some(s) => {
                let mut cursor = action.session(s.inner()).await?;
                Ok(cursor.stream(s.inner()).try_collect().await?)
            }
            None => Ok(action.await?.try_collect().await?),
        }
    }
}
into_future!(Aggregate, Vec<Document>);

/// The `distinct` operation; await it for the distinct values, as BSON.
#[must_use = "an operation does nothing until it is awaited"]
pub struct Distinct<'a, T> {
    handle: &'a ModelHandle<T>,
    field: String,
    filter: Filter<T>,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Distinct<'a, T> {
    session_method!();

    async fn run(self) -> Result<Vec<Bson>> {
        self.handle.check_session(&self.session)?;
        let filter = self.handle.scope().filter(self.filter.into_document()?);
        let coll = self.handle.typed::<Document>();
        Ok(run!(coll.distinct(&self.field, filter), self.session)?)
    }
}
into_future!(Distinct, Vec<Bson>);
