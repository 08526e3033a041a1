//! The one way to the server. Every operation of a bound model builds a [`Pipeline`] and sends its
//! commands through it; the pipeline applies what every command must carry, so an operation cannot
//! forget it:
//!
//! - the tenant's confinement: filters and pipelines confined, written documents stamped, updates kept
//!   inside the tenant, index specs and validators led by the tenant field;
//! - the caller's session, refused when it belongs to another client;
//! - the deadline of [`ConnectOptions::operation_timeout`](crate::ConnectOptions::operation_timeout),
//!   fixed when the operation starts and applied to every round trip, cursor batches included;
//! - the [`Settings`]: the model's defaults merged with the operation's, each put on every command that
//!   takes it (read preference and read concern on reads, write concern on writes, collation, `maxTimeMS`
//!   and hint where the command has them), concerns and read preference left out in a session;
//! - the operation's span (opened around the whole operation by [`crate::observe`]): the documents
//!   returned and written, and at debug level the shape of each filter.
//!
//! It is the only module allowed to call the driver's collection and database methods (`clippy.toml`
//! forbids them everywhere else), like the driver's own `execute_operation`.
#![allow(clippy::disallowed_methods)]

use std::borrow::Cow;
use std::future::Future;
use std::time::Duration;

use futures_util::stream::{BoxStream, StreamExt};
use mongodb::bson::{doc, Bson, Document, RawArrayBuf, RawDocument, RawDocumentBuf};
use mongodb::change_stream::event::{ChangeStreamEvent, ResumeToken};
use mongodb::options::{
    AggregateOptions, CountOptions, DeleteOptions, DistinctOptions, FindOneAndDeleteOptions,
    FindOneAndReplaceOptions, FindOneAndUpdateOptions, FindOneOptions, FindOptions,
    FullDocumentType, InsertManyOptions, InsertOneOptions, ReplaceOptions, UpdateModifications,
    UpdateOptions,
};
use mongodb::results::{DeleteResult, UpdateResult};
use mongodb::{Collection, Cursor, IndexModel};
use tokio::time::Instant;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::hooks::{DynQueryHooks, HookContext, QueryKind};
use crate::ops::indexes::IndexSpec;
use crate::ops::settings::Settings;
use crate::query::Update;
use crate::session::Session;
use crate::tenancy::confine::Confinement;

/// When an operation must be done by, and the timeout it came from (for [`Error::Timeout`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    after: Duration,
}

impl Deadline {
    fn starting_now(after: Option<Duration>) -> Option<Deadline> {
        after.map(|after| Deadline {
            at: Instant::now() + after,
            after,
        })
    }
}

/// Awaits `op` until `deadline`, failing with [`Error::Timeout`] past it.
pub(crate) async fn within<O>(
    deadline: Option<Deadline>,
    op: impl Future<Output = Result<O>>,
) -> Result<O> {
    match deadline {
        None => op.await,
        Some(d) => tokio::time::timeout_at(d.at, op)
            .await
            .unwrap_or(Err(Error::Timeout { after: d.after })),
    }
}

/// One operation's passage to one collection: the connection, the confinement, the session and the
/// deadline.
pub(crate) struct Pipeline<'a> {
    conn: &'a Connection,
    confine: &'a Confinement,
    collection: Cow<'static, str>,
    session: Option<&'a mut Session>,
    deadline: Option<Deadline>,
    settings: Settings,
    affected: u64,
    /// The deletion stamp of a soft-delete model while the operation sees live documents only.
    live: Option<&'static str>,
    /// The model's query hooks and their context; `None` for a model without hooks.
    queries: Option<(&'static dyn DynQueryHooks, HookContext)>,
    /// Updates sent as soft deletes, which query hooks see as deletes.
    stamping: bool,
    /// For a fleet's tenant handle: the operation, counted in flight under its lease until it ends.
    in_flight: Option<crate::tenancy::InFlight>,
}

/// Sends a driver action with the pipeline's session, within its deadline.
macro_rules! send {
    ($p:expr, |$s:ident| $action:expr) => {{
        let deadline = $p.deadline;
        match $p.session.as_deref_mut() {
            Some($s) => within(deadline, async { Ok($action.session($s.inner()).await?) }).await,
            None => within(deadline, async { Ok($action.await?) }).await,
        }
    }};
}

/// Runs a cursor action with the pipeline's session, within its deadline, handing each document to
/// `each` through [`drain`].
macro_rules! collect {
    ($p:expr, $action:expr, $each:expr) => {{
        let deadline = $p.deadline;
        match $p.session.as_deref_mut() {
            Some(s) => {
                within(deadline, async {
                    drain(
                        Batches::Session($action.session(s.inner()).await?, s),
                        $each,
                    )
                    .await
                })
                .await
            }
            None => {
                within(deadline, async {
                    drain(Batches::Plain($action.await?), $each).await
                })
                .await
            }
        }
    }};
}

impl<'a> Pipeline<'a> {
    /// A pipeline to `collection` (the model's own name; the confinement makes the stored one). Refuses
    /// a session started on another client. The deadline starts now.
    pub(crate) fn new(
        conn: &'a Connection,
        confine: &'a Confinement,
        collection: &'static str,
        session: Option<&'a mut Session>,
        settings: Settings,
    ) -> Result<Pipeline<'a>> {
        if let Some(s) = &session {
            if s.client_id() != conn.client_id() {
                return Err(Error::ForeignSession);
            }
        }
        Ok(Pipeline {
            conn,
            confine,
            collection: confine.collection_name(collection),
            session,
            deadline: Deadline::starting_now(conn.operation_timeout()),
            settings,
            affected: 0,
            live: None,
            queries: None,
            stamping: false,
            in_flight: None,
        })
    }

    /// Counts the operation in flight under its handle's lease until the pipeline drops.
    pub(crate) fn in_flight(&mut self, guard: Option<crate::tenancy::InFlight>) {
        self.in_flight = guard;
    }

    /// The operation's own settings over the model's: each one set wins.
    pub(crate) fn overriding(mut self, op: Settings) -> Pipeline<'a> {
        self.settings = op.or(&self.settings);
        self
    }

    /// The settings every command of this pipeline carries: in a session, without the read preference
    /// and concerns (a transaction's apply, and the server refuses them per command inside one).
    fn settings(&self) -> Settings {
        if self.session.is_some() {
            self.settings.clone().in_session()
        } else {
            self.settings.clone()
        }
    }

    fn find_options(&self, mut o: FindOptions) -> FindOptions {
        let s = self.settings();
        o.selection_criteria = self
            .in_session(o.selection_criteria)
            .or(s.selection_criteria());
        o.read_concern = self.in_session(o.read_concern).or(s.read_concern);
        o.collation = o.collation.or(s.collation);
        o.max_time = o.max_time.or(s.max_time);
        o.hint = o.hint.or(s.hint);
        o
    }

    /// An operation's own read preference or concern, left out in a session like the model's.
    fn in_session<V>(&self, value: Option<V>) -> Option<V> {
        value.filter(|_| self.session.is_none())
    }

    /// Runs `hooks` around every find, count, update and delete the operation sends.
    pub(crate) fn hook_queries(&mut self, hooks: &'static dyn DynQueryHooks, ctx: HookContext) {
        self.queries = Some((hooks, ctx));
    }

    /// Marks the operation's updates as soft deletes, for the query hooks.
    pub(crate) fn stamping(&mut self) {
        self.stamping = true;
    }

    /// The kind of an update the operation sends: a delete when it stamps.
    fn update_kind(&self) -> QueryKind {
        if self.stamping {
            QueryKind::Delete
        } else {
            QueryKind::Update
        }
    }

    /// Runs `before_query` on the caller's filter, then confines it. Returns the filter to send and,
    /// when there are hooks, the filter as the hook left it, for `after_query`.
    async fn before(
        &self,
        kind: QueryKind,
        mut filter: Document,
    ) -> Result<(Document, Option<Document>)> {
        let Some((hooks, ctx)) = &self.queries else {
            return Ok((self.filter(filter), None));
        };
        let before = hooks.before_query(kind, &mut filter, ctx);
        crate::hooks::call_named(hooks.type_name(), "before_query", before).await?;
        let kept = filter.clone();
        Ok((self.filter(filter), Some(kept)))
    }

    /// Runs `after_query` with what [`before`](Self::before) kept, and how many documents the query
    /// returned, changed or deleted.
    async fn after(&self, kind: QueryKind, kept: Option<Document>, count: u64) -> Result<()> {
        let (Some((hooks, ctx)), Some(filter)) = (&self.queries, kept) else {
            return Ok(());
        };
        let after = hooks.after_query(kind, &filter, count, ctx);
        crate::hooks::call_named(hooks.type_name(), "after_query", after).await
    }

    /// Confines every filter and aggregation of the operation to the live documents of a soft-delete
    /// model (those whose `stamp` is `null` or missing), or to every document with `None`.
    pub(crate) fn live_only(&mut self, stamp: Option<&'static str>) {
        self.live = stamp;
    }

    /// Lifts [`live_only`](Self::live_only) when `with_deleted`: the operation sees every document.
    pub(crate) fn include_deleted(&mut self, with_deleted: bool) {
        if with_deleted {
            self.live = None;
        }
    }

    /// Starts the deadline again, for an operation that bounds each of its round trips on its own
    /// (`insert_many`'s chunks).
    pub(crate) fn restart_deadline(&mut self) {
        self.deadline = Deadline::starting_now(self.conn.operation_timeout());
    }

    /// Awaits work of the operation's own (hooks, encoding) within the operation's deadline, for an
    /// operation that reports what its round trips did when the deadline passes (`bulk_write`), and so is
    /// not bounded as a whole from outside.
    pub(crate) async fn within_deadline<O>(
        &self,
        op: impl Future<Output = Result<O>>,
    ) -> Result<O> {
        within(self.deadline, op).await
    }

    /// The session, for a nested operation (`populate`'s loads) run in the same session.
    pub(crate) fn session(&mut self) -> Option<&mut Session> {
        self.session.as_deref_mut()
    }

    /// The confined filter; its shape (keys and operators, no values) goes on the operation's span at
    /// debug level.
    fn filter(&self, filter: Document) -> Document {
        let filter = self.live(self.confine.filter(filter));
        crate::observe::filter_shape(&filter);
        filter
    }

    /// `filter` restricted to the live documents, for a soft-delete model that skips the deleted ones.
    fn live(&self, filter: Document) -> Document {
        match self.live {
            None => filter,
            Some(stamp) if filter.is_empty() => doc! { stamp: Bson::Null },
            Some(stamp) => doc! { "$and": [ filter, { stamp: Bson::Null } ] },
        }
    }

    /// An aggregation pipeline restricted to the live documents: a first `$match` on the stamp.
    fn live_pipeline(&self, mut pipeline: Vec<Document>) -> Vec<Document> {
        if let Some(stamp) = self.live {
            pipeline.insert(0, doc! { "$match": { stamp: Bson::Null } });
        }
        pipeline
    }

    /// Counts documents written or deleted, on the operation's span (an operation may write more than
    /// once: `save`'s replace-or-insert, `insert_many`'s chunks).
    fn wrote(&mut self, n: u64) {
        self.affected += n;
        crate::observe::affected(self.affected);
    }

    fn coll<U: Send + Sync>(&self) -> Collection<U> {
        self.conn.database().collection(&self.collection)
    }

    // ---- reads

    /// Runs a find and hands each document to `each`, decoded in place in the cursor's batch.
    pub(crate) async fn find(
        &mut self,
        filter: Document,
        options: FindOptions,
        mut each: impl FnMut(&RawDocument) -> Result<()> + Send,
    ) -> Result<()> {
        let (filter, kept) = self.before(QueryKind::Find, filter).await?;
        let mut returned = 0u64;
        let counted = |raw: &RawDocument| {
            returned += 1;
            each(raw)
        };
        let options = self.find_options(options);
        let coll = self.coll::<RawDocumentBuf>();
        let action = coll.find(filter).with_options(options);
        collect!(self, action, counted)?;
        crate::observe::returned(returned);
        self.after(QueryKind::Find, kept, returned).await
    }

    /// A find as a stream: the first batch within the deadline, every later batch within the operation
    /// timeout of its own. Refused in a session (the stream would outlive the borrow).
    pub(crate) async fn find_stream<U: Send + 'static>(
        &mut self,
        filter: Document,
        options: FindOptions,
        decode: fn(&RawDocument) -> Result<U>,
    ) -> Result<BoxStream<'static, Result<U>>> {
        if self.session.is_some() {
            return Err(Error::Unsupported(
                "`stream()` cannot borrow the session for the stream's lifetime; await the find for a `Vec` inside a session",
            ));
        }
        let (filter, _) = self.before(QueryKind::Find, filter).await?;
        let options = self.find_options(options);
        let coll = self.coll::<RawDocumentBuf>();
        let cursor = within(self.deadline, async {
            Ok(coll.find(filter).with_options(options).await?)
        })
        .await?;
        Ok(stream(cursor, self.conn.operation_timeout(), decode))
    }

    /// The first document that matches `filter`.
    pub(crate) async fn find_one(
        &mut self,
        filter: Document,
        mut options: FindOneOptions,
    ) -> Result<Option<RawDocumentBuf>> {
        let (filter, kept) = self.before(QueryKind::Find, filter).await?;
        let s = self.settings();
        options.selection_criteria = self
            .in_session(options.selection_criteria)
            .or(s.selection_criteria());
        options.read_concern = self.in_session(options.read_concern).or(s.read_concern);
        options.collation = options.collation.or(s.collation);
        options.max_time = options.max_time.or(s.max_time);
        options.hint = options.hint.or(s.hint);
        let coll = self.coll::<RawDocumentBuf>();
        let found = send!(self, |s| coll.find_one(filter).with_options(options))?;
        crate::observe::returned(u64::from(found.is_some()));
        self.after(QueryKind::Find, kept, u64::from(found.is_some()))
            .await?;
        Ok(found)
    }

    /// How many documents match `filter`.
    pub(crate) async fn count(&mut self, filter: Document) -> Result<u64> {
        let (filter, kept) = self.before(QueryKind::Count, filter).await?;
        let s = self.settings();
        let mut options = CountOptions::default();
        options.selection_criteria = s.selection_criteria();
        options.read_concern = s.read_concern;
        options.collation = s.collation;
        options.max_time = s.max_time;
        options.hint = s.hint;
        let coll = self.coll::<Document>();
        let n = send!(self, |s| coll.count_documents(filter).with_options(options))?;
        self.after(QueryKind::Count, kept, n).await?;
        Ok(n)
    }

    /// The distinct values of `field` among the documents that match `filter`.
    pub(crate) async fn distinct(&mut self, field: &str, filter: Document) -> Result<Vec<Bson>> {
        let (filter, kept) = self.before(QueryKind::Find, filter).await?;
        let s = self.settings();
        let mut options = DistinctOptions::default();
        options.selection_criteria = s.selection_criteria();
        options.read_concern = s.read_concern;
        options.collation = s.collation;
        options.max_time = s.max_time;
        let coll = self.coll::<Document>();
        let values: Vec<Bson> =
            send!(self, |s| coll.distinct(field, filter).with_options(options))?;
        crate::observe::returned(values.len() as u64);
        self.after(QueryKind::Find, kept, values.len() as u64)
            .await?;
        Ok(values)
    }

    /// Runs an aggregation pipeline and collects its documents.
    pub(crate) async fn aggregate(&mut self, pipeline: Vec<Document>) -> Result<Vec<Document>> {
        let pipeline = self.confine.pipeline(self.live_pipeline(pipeline))?;
        let options = self.aggregate_options();
        let coll = self.coll::<RawDocumentBuf>();
        let action = coll
            .aggregate(pipeline)
            .with_options(options)
            .with_type::<RawDocumentBuf>();
        let mut out = Vec::new();
        let each = |raw: &RawDocument| {
            out.push(crate::ops::to_document("Document", raw)?);
            Ok(())
        };
        collect!(self, action, each)?;
        crate::observe::returned(out.len() as u64);
        Ok(out)
    }

    /// An aggregation as a stream, like [`find_stream`](Self::find_stream).
    pub(crate) async fn aggregate_stream(
        &mut self,
        pipeline: Vec<Document>,
    ) -> Result<BoxStream<'static, Result<Document>>> {
        if self.session.is_some() {
            return Err(Error::Unsupported(
                "`stream()` cannot borrow the session for the stream's lifetime; await the aggregate for a `Vec` inside a session",
            ));
        }
        let pipeline = self.confine.pipeline(self.live_pipeline(pipeline))?;
        let options = self.aggregate_options();
        let coll = self.coll::<RawDocumentBuf>();
        let cursor = within(self.deadline, async {
            Ok(coll
                .aggregate(pipeline)
                .with_options(options)
                .with_type::<RawDocumentBuf>()
                .await?)
        })
        .await?;
        Ok(stream(cursor, self.conn.operation_timeout(), |raw| {
            crate::ops::to_document("Document", raw)
        }))
    }

    fn aggregate_options(&self) -> AggregateOptions {
        let s = self.settings();
        let mut options = AggregateOptions::default();
        options.selection_criteria = s.selection_criteria();
        options.read_concern = s.read_concern;
        options.write_concern = s.write_concern;
        options.collation = s.collation;
        options.max_time = s.max_time;
        options.hint = s.hint;
        options
    }

    // ---- writes

    /// Inserts one encoded document, stamped with the tenant.
    pub(crate) async fn insert_one(&mut self, mut raw: RawDocumentBuf) -> Result<()> {
        self.confine.stamp(&mut raw)?;
        let mut options = InsertOneOptions::default();
        options.write_concern = self.settings().write_concern;
        let coll = self.coll::<RawDocumentBuf>();
        send!(self, |s| coll.insert_one(raw).with_options(options))?;
        self.wrote(1);
        Ok(())
    }

    /// Inserts encoded documents in order, each stamped with the tenant. `on_error` turns the driver's
    /// error (which says where an ordered insert stopped) into the operation's.
    pub(crate) async fn insert_many(
        &mut self,
        mut raws: Vec<RawDocumentBuf>,
        on_error: impl FnOnce(mongodb::error::Error) -> Error,
    ) -> Result<()> {
        for raw in &mut raws {
            self.confine.stamp(raw)?;
        }
        let coll = self.coll::<RawDocumentBuf>();
        let len = raws.len() as u64;
        let mut options = InsertManyOptions::default();
        options.ordered = Some(true);
        options.write_concern = self.settings().write_concern;
        let action = coll.insert_many(raws).with_options(options);
        let sent = match self.session.as_deref_mut() {
            Some(s) => within(self.deadline, async { Ok(action.session(s.inner()).await) }).await,
            None => within(self.deadline, async { Ok(action.await) }).await,
        }?;
        sent.map_err(on_error)?;
        self.wrote(len);
        Ok(())
    }

    /// Updates the documents that match `filter` (the first, unless `many`). The update may not touch the
    /// tenant field; a pipeline update ends by restoring it and an upsert stamps it.
    pub(crate) async fn update(
        &mut self,
        filter: Document,
        mut update: Update,
        many: bool,
        upsert: bool,
    ) -> Result<UpdateResult> {
        self.confine.check_update(&update)?;
        self.confine.finish_update(&mut update, upsert);
        let kind = self.update_kind();
        let (filter, kept) = self.before(kind, filter).await?;
        let update = modifications(update);
        let s = self.settings();
        let mut options = UpdateOptions::default();
        options.upsert = Some(upsert);
        options.write_concern = s.write_concern;
        options.collation = s.collation;
        options.hint = s.hint;
        let coll = self.coll::<Document>();
        let result = if many {
            send!(self, |s| coll
                .update_many(filter, update)
                .with_options(options))
        } else {
            send!(self, |s| coll
                .update_one(filter, update)
                .with_options(options))
        };
        let result = self.not_found_elsewhere(result)?;
        self.wrote(updated(&result));
        self.after(kind, kept, result.modified_count).await?;
        Ok(result)
    }

    /// Replaces the first document that matches `filter` with an encoded document, stamped with the
    /// tenant.
    pub(crate) async fn replace_one(
        &mut self,
        filter: Document,
        mut raw: RawDocumentBuf,
        upsert: bool,
    ) -> Result<UpdateResult> {
        self.confine.stamp(&mut raw)?;
        let (filter, kept) = self.before(QueryKind::Update, filter).await?;
        let s = self.settings();
        let mut options = ReplaceOptions::default();
        options.upsert = Some(upsert);
        options.write_concern = s.write_concern;
        options.collation = s.collation;
        options.hint = s.hint;
        let coll = self.coll::<RawDocumentBuf>();
        let result = send!(self, |s| coll
            .replace_one(filter, raw)
            .with_options(options));
        let result = self.not_found_elsewhere(result)?;
        self.wrote(updated(&result));
        self.after(QueryKind::Update, kept, result.modified_count)
            .await?;
        Ok(result)
    }

    /// Deletes the documents that match `filter` (the first, unless `many`).
    pub(crate) async fn delete(&mut self, filter: Document, many: bool) -> Result<DeleteResult> {
        let (filter, kept) = self.before(QueryKind::Delete, filter).await?;
        let s = self.settings();
        let mut options = DeleteOptions::default();
        options.write_concern = s.write_concern;
        options.collation = s.collation;
        options.hint = s.hint;
        let coll = self.coll::<Document>();
        let result: DeleteResult = if many {
            send!(self, |s| coll.delete_many(filter).with_options(options))
        } else {
            send!(self, |s| coll.delete_one(filter).with_options(options))
        }?;
        self.wrote(result.deleted_count);
        self.after(QueryKind::Delete, kept, result.deleted_count)
            .await?;
        Ok(result)
    }

    /// Finds one document and updates it, returning it as `options` says (before or after).
    pub(crate) async fn find_one_and_update(
        &mut self,
        filter: Document,
        mut update: Update,
        mut options: FindOneAndUpdateOptions,
    ) -> Result<Option<RawDocumentBuf>> {
        let s = self.settings();
        options.write_concern = self.in_session(options.write_concern).or(s.write_concern);
        options.collation = options.collation.or(s.collation);
        options.max_time = options.max_time.or(s.max_time);
        options.hint = options.hint.or(s.hint);
        self.confine.check_update(&update)?;
        self.confine
            .finish_update(&mut update, options.upsert.unwrap_or(false));
        let kind = self.update_kind();
        let (filter, kept) = self.before(kind, filter).await?;
        let update = modifications(update);
        let coll = self.coll::<RawDocumentBuf>();
        let result = send!(self, |s| coll
            .find_one_and_update(filter, update)
            .with_options(options));
        let found = self.found_and_modified(result)?;
        self.after(kind, kept, u64::from(found.is_some())).await?;
        Ok(found)
    }

    /// Finds one document and replaces it with an encoded document, stamped with the tenant.
    pub(crate) async fn find_one_and_replace(
        &mut self,
        filter: Document,
        mut raw: RawDocumentBuf,
        mut options: FindOneAndReplaceOptions,
    ) -> Result<Option<RawDocumentBuf>> {
        let s = self.settings();
        options.write_concern = self.in_session(options.write_concern).or(s.write_concern);
        options.collation = options.collation.or(s.collation);
        options.max_time = options.max_time.or(s.max_time);
        options.hint = options.hint.or(s.hint);
        self.confine.stamp(&mut raw)?;
        let (filter, kept) = self.before(QueryKind::Update, filter).await?;
        let coll = self.coll::<RawDocumentBuf>();
        let result = send!(self, |s| coll
            .find_one_and_replace(filter, raw)
            .with_options(options));
        let found = self.found_and_modified(result)?;
        self.after(QueryKind::Update, kept, u64::from(found.is_some()))
            .await?;
        Ok(found)
    }

    /// Finds one document and deletes it, returning it.
    pub(crate) async fn find_one_and_delete(
        &mut self,
        filter: Document,
        mut options: FindOneAndDeleteOptions,
    ) -> Result<Option<RawDocumentBuf>> {
        let s = self.settings();
        options.write_concern = self.in_session(options.write_concern).or(s.write_concern);
        options.collation = options.collation.or(s.collation);
        options.max_time = options.max_time.or(s.max_time);
        options.hint = options.hint.or(s.hint);
        let (filter, kept) = self.before(QueryKind::Delete, filter).await?;
        let coll = self.coll::<RawDocumentBuf>();
        let result = send!(self, |s| coll
            .find_one_and_delete(filter)
            .with_options(options));
        let found = self.found_and_modified(result)?;
        self.after(QueryKind::Delete, kept, u64::from(found.is_some()))
            .await?;
        Ok(found)
    }

    /// A find-and-modify's answer, confined like the other writes' and counted on the span.
    fn found_and_modified(
        &mut self,
        result: Result<Option<RawDocumentBuf>>,
    ) -> Result<Option<RawDocumentBuf>> {
        let found = self.not_found_elsewhere(result)?;
        let n = u64::from(found.is_some());
        crate::observe::returned(n);
        self.wrote(n);
        Ok(found)
    }

    /// Confines the statements of a write command (`insert`, `update` or `delete`): filters confined,
    /// written documents stamped, updates kept inside the tenant. Nothing is sent, so an operation can
    /// refuse a whole bulk before any of it reaches the server; [`write_command`](Self::write_command)
    /// takes only what this returns.
    pub(crate) fn confine_writes(
        &self,
        command: &'static str,
        statements: Vec<Document>,
    ) -> Result<ConfinedWrites> {
        let key = match command {
            "insert" => "documents",
            "update" => "updates",
            "delete" => "deletes",
            _ => return Err(Error::Unsupported("unknown write command")),
        };
        let statements = statements
            .into_iter()
            .map(|statement| self.confine_statement(command, statement))
            .collect::<Result<Vec<_>>>()?;
        Ok(ConfinedWrites {
            command,
            key,
            statements,
        })
    }

    /// Confines the documents of an `insert` command, already encoded: each is stamped with the tenant.
    pub(crate) fn confine_inserts(
        &self,
        mut documents: Vec<RawDocumentBuf>,
    ) -> Result<ConfinedWrites> {
        for document in &mut documents {
            self.confine.stamp(document)?;
        }
        Ok(ConfinedWrites {
            command: "insert",
            key: "documents",
            statements: documents,
        })
    }

    /// Runs a write command on the collection, for the operations the driver has no collection method
    /// for (a bulk write on servers before 8.0), with statements confined by
    /// [`confine_writes`](Self::confine_writes).
    pub(crate) async fn write_command(
        &mut self,
        writes: ConfinedWrites,
        ordered: bool,
    ) -> Result<Document> {
        let ConfinedWrites {
            command,
            key,
            statements,
        } = writes;
        let mut array = RawArrayBuf::new();
        for statement in statements {
            array.push(statement);
        }
        let mut cmd = RawDocumentBuf::new();
        cmd.append(command, self.collection.as_ref());
        cmd.append(key, array);
        cmd.append("ordered", ordered);
        let db = self.conn.database();
        // The operation's write concern, else the connection's, as the driver sends it with its own
        // writes. Not with a session: in a transaction the server refuses one per command (the
        // transaction's own applies), and whether the session is in one is the driver's to know.
        let concern = self.settings().write_concern;
        if let (None, Some(concern)) = (&self.session, concern.as_ref().or(db.write_concern())) {
            let concern =
                mongodb::bson::to_raw_document_buf(concern).map_err(|_| corrupt_reply())?;
            cmd.append("writeConcern", concern);
        }
        let reply: Document = send!(self, |s| db.run_raw_command(cmd))?;
        self.wrote(crate::ops::count_in(&reply, "n"));
        Ok(reply)
    }

    fn confine_statement(&self, command: &str, mut statement: Document) -> Result<RawDocumentBuf> {
        let encode = |d: &Document| RawDocumentBuf::from_document(d).map_err(|_| corrupt_reply());
        match command {
            "insert" => {
                let mut raw = encode(&statement)?;
                self.confine.stamp(&mut raw)?;
                Ok(raw)
            }
            "update" => {
                let filter = match statement.remove("q") {
                    Some(Bson::Document(filter)) => filter,
                    _ => Document::new(),
                };
                statement.insert("q", self.live(self.confine.filter(filter)));
                let upsert = statement.get_bool("upsert").unwrap_or(false);
                match statement.remove("u") {
                    Some(Bson::Document(u)) if u.keys().any(|k| k.starts_with('$')) => {
                        let mut update = Update::Document(u);
                        self.confine.check_update(&update)?;
                        self.confine.finish_update(&mut update, upsert);
                        statement.insert("u", modifications_bson(update));
                    }
                    Some(Bson::Document(replacement)) => {
                        let mut raw = RawDocumentBuf::from_document(&replacement)
                            .map_err(|_| corrupt_reply())?;
                        self.confine.stamp(&mut raw)?;
                        statement.insert("u", raw.to_document().map_err(|_| corrupt_reply())?);
                    }
                    Some(Bson::Array(stages)) => {
                        let stages = stages
                            .into_iter()
                            .map(|s| match s {
                                Bson::Document(d) => Ok(d),
                                _ => Err(Error::Unsupported(
                                    "an update pipeline holds only documents",
                                )),
                            })
                            .collect::<Result<Vec<_>>>()?;
                        let mut update = Update::Pipeline(stages);
                        self.confine.check_update(&update)?;
                        self.confine.finish_update(&mut update, upsert);
                        statement.insert("u", modifications_bson(update));
                    }
                    _ => {
                        return Err(Error::Unsupported(
                            "an update statement needs `u`: an update document, a replacement or a pipeline",
                        ))
                    }
                }
                encode(&statement)
            }
            "delete" => {
                let filter = match statement.remove("q") {
                    Some(Bson::Document(filter)) => filter,
                    _ => Document::new(),
                };
                statement.insert("q", self.live(self.confine.filter(filter)));
                encode(&statement)
            }
            _ => Err(Error::Unsupported("unknown write command")),
        }
    }

    /// The error of one statement of a write command, confined like the single operations' errors: an
    /// insert's duplicate key is the caller's own key, as with `insert_one`; an upsert's or
    /// replacement's is answered as for an `_id` the tenant does not have.
    pub(crate) fn statement_error(
        &self,
        command: &str,
        code: i32,
        message: &str,
        details: &Document,
    ) -> Error {
        let error = crate::error::write_error(code, message, details);
        if command == "insert" {
            return error;
        }
        match self.not_found_elsewhere::<()>(Err(error)) {
            Err(e) => e,
            Ok(()) => unreachable!("an error stays an error"),
        }
    }

    /// In a shared collection, an upsert or replacement with an `_id` another tenant holds collides on
    /// the `_id_` index. The answer is the one for an `_id` the tenant does not have, so the error says
    /// nothing about another tenant's documents.
    fn not_found_elsewhere<O>(&self, result: Result<O>) -> Result<O> {
        match result {
            Err(Error::DuplicateKey {
                index: Some(index),
                key,
                ..
            }) if index == "_id_" && matches!(self.confine, Confinement::Field { .. }) => {
                let filter = key.map(|k| *k).unwrap_or_default();
                Err(Error::NotFound {
                    collection: self.collection.to_string(),
                    filter,
                })
            }
            other => other,
        }
    }

    // ---- indexes and validators

    /// The indexes on the server (none when the collection does not exist yet).
    pub(crate) async fn list_indexes(&mut self) -> Result<Vec<IndexModel>> {
        let coll = self.coll::<Document>();
        let listed = within(self.deadline, async {
            use futures_util::TryStreamExt;
            match coll.list_indexes().await {
                Ok(cursor) => Ok(Some(cursor.try_collect::<Vec<_>>().await?)),
                Err(e) if is_namespace_not_found(&e) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        Ok(listed.unwrap_or_default())
    }

    /// The index specs as this pipeline's confinement keeps them: in a shared collection, led by the
    /// tenant field.
    pub(crate) fn confine_index(&self, spec: IndexSpec) -> IndexSpec {
        self.confine.index(spec)
    }

    /// Creates indexes (confined like [`confine_index`](Self::confine_index)), with the model's
    /// collation.
    pub(crate) async fn create_indexes(&mut self, specs: Vec<IndexSpec>) -> Result<()> {
        let collation = self.settings.collation.clone();
        let models: Vec<IndexModel> = specs
            .into_iter()
            .map(|spec| {
                let mut model = self.confine.index(spec).model();
                // The model's collation, so a unique index compares as the model's queries do.
                if let Some(collation) = &collation {
                    model
                        .options
                        .get_or_insert_with(Default::default)
                        .collation
                        .get_or_insert_with(|| collation.clone());
                }
                model
            })
            .collect();
        let coll = self.coll::<Document>();
        send!(self, |s| coll.create_indexes(models)).map(drop)
    }

    /// Drops the index `name`.
    pub(crate) async fn drop_index(&mut self, name: &str) -> Result<()> {
        let coll = self.coll::<Document>();
        send!(self, |s| coll.drop_index(name))
    }

    /// Sets the collection's validator to `json_schema` (confined: in a shared collection the tenant
    /// field is required), creating the collection when it does not exist.
    pub(crate) async fn set_validator(&mut self, json_schema: Document) -> Result<()> {
        let validator = doc! { "$jsonSchema": self.confine.json_schema(json_schema) };
        let db = self.conn.database();
        let name = self.collection.to_string();
        let listed = send!(self, |s| db
            .list_collection_names()
            .filter(doc! { "name": name.as_str() }))?;
        if listed.is_empty() {
            let create = db
                .create_collection(name.as_str())
                .validator(validator)
                .validation_level(mongodb::options::ValidationLevel::Strict)
                .validation_action(mongodb::options::ValidationAction::Error);
            send!(self, |s| create)
        } else {
            let coll_mod = doc! {
                "collMod": name.as_str(),
                "validator": validator,
                "validationLevel": "strict",
                "validationAction": "error",
            };
            send!(self, |s| db.run_command(coll_mod)).map(drop)
        }
    }

    // ---- sharding

    /// Whether the server is a `mongos`, a sharded cluster's router (`hello` answers `msg: "isdbgrid"`).
    pub(crate) async fn is_mongos(&mut self) -> Result<bool> {
        let db = self.conn.database();
        let reply: Document = within(self.deadline, async {
            Ok(db.run_command(doc! { "hello": 1 }).await?)
        })
        .await?;
        Ok(reply.get_str("msg") == Ok("isdbgrid"))
    }

    /// Shards the collection on `key` (`shardCollection`, an admin command of the cluster).
    pub(crate) async fn shard_collection(&mut self, key: Document) -> Result<()> {
        let namespace = format!("{}.{}", self.conn.database().name(), self.collection);
        let admin = self.conn.client().database("admin");
        let command = doc! { "shardCollection": namespace, "key": key };
        within(self.deadline, async {
            Ok(admin.run_command(command).await?)
        })
        .await
        .map(drop)
    }

    // ---- a tenant's namespaces, for the fleet's lifecycle work

    /// Whether the collection exists.
    pub(crate) async fn collection_exists(&mut self) -> Result<bool> {
        Ok(self.collection_options().await?.is_some())
    }

    /// The collection's options as `listCollections` gives them (`None` when it does not exist).
    pub(crate) async fn collection_options(&mut self) -> Result<Option<Document>> {
        let db = self.conn.database();
        let name = self.collection.to_string();
        let specs = within(self.deadline, async {
            use futures_util::TryStreamExt;
            let cursor = db
                .list_collections()
                .filter(doc! { "name": name.as_str() })
                .await?;
            Ok(cursor.try_collect::<Vec<_>>().await?)
        })
        .await?;
        Ok(specs
            .into_iter()
            .next()
            .map(|spec| mongodb::bson::to_document(&spec.options).unwrap_or_default()))
    }

    /// Drops the collection. Refused in a shared collection, where it holds every tenant's documents:
    /// there a tenant's data goes with [`delete`](Self::delete).
    pub(crate) async fn drop_collection(&mut self) -> Result<()> {
        if let Confinement::Field { .. } = self.confine {
            return Err(Error::TenantViolation(
                "a shared collection holds every tenant's documents and is never dropped for one of them".into(),
            ));
        }
        let coll = self.coll::<Document>();
        send!(self, |s| coll.drop())
    }

    /// Drops the tenant's own database. Refused unless the pipeline is confined to a database of its
    /// own (database per tenant).
    pub(crate) async fn drop_database(&mut self) -> Result<()> {
        if !matches!(self.confine, Confinement::Database) {
            return Err(Error::TenantViolation(
                "only a tenant with a database of its own has its database dropped".into(),
            ));
        }
        let db = self.conn.database();
        send!(self, |s| db.drop())
    }

    /// Opens a change stream of every change to the collection, all tenants' in a shared one, for a
    /// move that re-reads each changed `_id` through its confined pipeline (so another tenant's change
    /// finds nothing and moves nothing). Only the document keys are read.
    pub(crate) async fn watch_keys(
        &mut self,
    ) -> Result<mongodb::change_stream::ChangeStream<ChangeStreamEvent<Document>>> {
        let coll = self.coll::<Document>();
        let action = coll
            .watch()
            .pipeline([doc! { "$project": { "documentKey": 1, "operationType": 1 } }])
            .max_await_time(Duration::from_millis(50));
        within(self.deadline, async { Ok(action.await?) }).await
    }

    // ---- change streams

    /// Opens a change stream on the collection, within the deadline.
    pub(crate) async fn watch(
        &mut self,
        resume_after: Option<ResumeToken>,
        full_document: bool,
    ) -> Result<mongodb::change_stream::ChangeStream<ChangeStreamEvent<Document>>> {
        if let Confinement::Field { .. } = self.confine {
            return Err(Error::Unsupported(
                "`watch` on a tenant handle of a shared collection cannot attribute delete events to the tenant; watch the collection of an unconfined handle and filter yourself",
            ));
        }
        let coll = self.coll::<Document>();
        let mut action = coll.watch().resume_after(resume_after);
        if full_document {
            action = action.full_document(FullDocumentType::UpdateLookup);
        }
        within(self.deadline, async { Ok(action.await?) }).await
    }
}

/// A cursor, with the session it runs in when it has one.
enum Batches<'s> {
    Plain(Cursor<RawDocumentBuf>),
    Session(mongodb::SessionCursor<RawDocumentBuf>, &'s mut Session),
}

/// The one cursor loop: hands each document of every batch to `each`, in place in the batch.
async fn drain(
    mut batches: Batches<'_>,
    mut each: impl FnMut(&RawDocument) -> Result<()>,
) -> Result<()> {
    loop {
        let current = match &mut batches {
            Batches::Plain(cursor) => {
                if !cursor.advance().await? {
                    return Ok(());
                }
                cursor.current()
            }
            Batches::Session(cursor, session) => {
                if !cursor.advance(session.inner()).await? {
                    return Ok(());
                }
                cursor.current()
            }
        };
        each(current)?;
    }
}

/// The statements of one write command, confined by [`Pipeline::confine_writes`], the only maker.
pub(crate) struct ConfinedWrites {
    command: &'static str,
    key: &'static str,
    statements: Vec<RawDocumentBuf>,
}

impl ConfinedWrites {
    /// The command: `insert`, `update` or `delete`.
    pub(crate) fn command(&self) -> &'static str {
        self.command
    }

    /// The confined statements, in order, as they are sent.
    pub(crate) fn statements(&self) -> &[RawDocumentBuf] {
        &self.statements
    }

    /// Splits off the statements from `at` on, confined likewise.
    pub(crate) fn split_off(&mut self, at: usize) -> ConfinedWrites {
        ConfinedWrites {
            command: self.command,
            key: self.key,
            statements: self.statements.split_off(at),
        }
    }
}

/// A cursor as a stream, each batch awaited within `timeout`.
fn stream<U: Send + 'static>(
    cursor: Cursor<RawDocumentBuf>,
    timeout: Option<Duration>,
    decode: fn(&RawDocument) -> Result<U>,
) -> BoxStream<'static, Result<U>> {
    futures_util::stream::try_unfold(cursor, move |mut cursor| async move {
        let more = within(Deadline::starting_now(timeout), async {
            Ok(cursor.advance().await?)
        })
        .await?;
        if !more {
            return Ok(None);
        }
        let value = decode(cursor.current())?;
        Ok(Some((value, cursor)))
    })
    .boxed()
}

/// The documents an update or replacement changed or inserted.
fn updated(result: &UpdateResult) -> u64 {
    result.modified_count + u64::from(result.upserted_id.is_some())
}

fn modifications(update: Update) -> UpdateModifications {
    match update {
        Update::Document(d) => UpdateModifications::Document(d),
        Update::Pipeline(p) => UpdateModifications::Pipeline(p),
    }
}

fn modifications_bson(update: Update) -> Bson {
    match update {
        Update::Document(d) => Bson::Document(d),
        Update::Pipeline(p) => Bson::Array(p.into_iter().map(Bson::Document).collect()),
    }
}

fn corrupt_reply() -> Error {
    Error::Unsupported("a document is not valid BSON; this is a bug in a Serialize implementation")
}

fn is_namespace_not_found(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, mongodb::error::ErrorKind::Command(c) if c.code == 26)
}
