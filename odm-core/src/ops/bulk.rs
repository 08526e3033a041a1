//! `bulk_write`: inserts, updates, replacements and deletes of one model, sent in as few round trips as
//! their order allows, each confined like the single operations.

use std::collections::BTreeMap;
use std::fmt;

use mongodb::bson::{self, doc, Bson, Document};

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::hooks;
use crate::model::Model;
use crate::ops::pipeline::ConfinedWrites;
use crate::ops::settings::{settings_methods, Settings};
use crate::ops::update::{checked_update, insert_defaults};
use crate::ops::{into_future, session_method};
use crate::query::{Filter, IntoUpdate, Update};
use crate::session::Session;

/// One write of a [`bulk_write`](ModelHandle::bulk_write).
///
/// ```
/// # use odm_core::prelude::*;
/// # use odm_core::Write;
/// # #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// # struct User { #[serde(rename = "_id", skip_serializing_if = "Option::is_none")] id: Option<ObjectId>, email: String }
/// let f = User::fields();
/// let writes = vec![
///     Write::insert_one(User { id: None, email: "ann@acme.io".into() }),
///     Write::update_one(f.email.eq("bob@acme.io"), doc! { "$set": { "email": "rob@acme.io" } }),
///     Write::delete_many(f.email.eq("old@acme.io")),
/// ];
/// ```
pub struct Write<T> {
    kind: Kind<T>,
}

enum Kind<T> {
    Insert(T),
    Update {
        filter: Filter<T>,
        update: Result<Update>,
        many: bool,
        upsert: bool,
    },
    Replace {
        filter: Filter<T>,
        value: T,
        upsert: bool,
    },
    Delete {
        filter: Filter<T>,
        many: bool,
    },
}

impl<T: Model> Write<T> {
    /// Inserts `value`, validated and stamped like [`create`](ModelHandle::create).
    pub fn insert_one(value: T) -> Self {
        Write {
            kind: Kind::Insert(value),
        }
    }

    /// Updates the first document that matches `filter`, checked like
    /// [`update_one`](ModelHandle::update_one).
    pub fn update_one(filter: impl Into<Filter<T>>, update: impl IntoUpdate<T>) -> Self {
        Self::update(filter.into(), update.into_update(), false)
    }

    /// Updates every document that matches `filter`, checked like
    /// [`update_many`](ModelHandle::update_many).
    pub fn update_many(filter: impl Into<Filter<T>>, update: impl IntoUpdate<T>) -> Self {
        Self::update(filter.into(), update.into_update(), true)
    }

    fn update(filter: Filter<T>, update: Result<Update>, many: bool) -> Self {
        Write {
            kind: Kind::Update {
                filter,
                update,
                many,
                upsert: false,
            },
        }
    }

    /// Replaces the first document that matches `filter` with `value`, validated and timestamped like
    /// [`replace_one`](ModelHandle::replace_one).
    pub fn replace_one(filter: impl Into<Filter<T>>, value: T) -> Self {
        Write {
            kind: Kind::Replace {
                filter: filter.into(),
                value,
                upsert: false,
            },
        }
    }

    /// Deletes the first document that matches `filter`.
    pub fn delete_one(filter: impl Into<Filter<T>>) -> Self {
        Write {
            kind: Kind::Delete {
                filter: filter.into(),
                many: false,
            },
        }
    }

    /// Deletes every document that matches `filter`.
    pub fn delete_many(filter: impl Into<Filter<T>>) -> Self {
        Write {
            kind: Kind::Delete {
                filter: filter.into(),
                many: true,
            },
        }
    }

    /// Makes an update or a replacement insert when nothing matches (no effect on inserts and deletes).
    pub fn upsert(mut self) -> Self {
        if let Kind::Update { upsert, .. } | Kind::Replace { upsert, .. } = &mut self.kind {
            *upsert = true;
        }
        self
    }
}

impl<T> fmt::Debug for Write<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Insert(_) => "Write::InsertOne",
            Kind::Update { many: false, .. } => "Write::UpdateOne",
            Kind::Update { many: true, .. } => "Write::UpdateMany",
            Kind::Replace { .. } => "Write::ReplaceOne",
            Kind::Delete { many: false, .. } => "Write::DeleteOne",
            Kind::Delete { many: true, .. } => "Write::DeleteMany",
        })
    }
}

/// What a [`bulk_write`](ModelHandle::bulk_write) did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkWriteResult {
    /// How many documents were inserted.
    pub inserted_count: u64,
    /// How many documents the updates and replacements matched.
    pub matched_count: u64,
    /// How many documents the updates and replacements changed.
    pub modified_count: u64,
    /// How many documents were deleted.
    pub deleted_count: u64,
    /// The `_id` of each inserted document, by the position of its write.
    pub inserted_ids: BTreeMap<usize, Bson>,
    /// The `_id` of each document an upsert inserted, by the position of its write.
    pub upserted_ids: BTreeMap<usize, Bson>,
}

/// Why a [`bulk_write`](ModelHandle::bulk_write) did not apply every write, in
/// [`Error::BulkWrite`]. Positions are those of the writes as given.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkWriteFailure {
    /// How many writes the bulk held.
    pub total: usize,
    /// The writes known to be applied.
    pub applied: Vec<usize>,
    /// The writes the server refused, with why.
    pub failed: Vec<(usize, Error)>,
    /// The writes that may or may not be applied: sent when the connection broke or the deadline
    /// passed.
    pub unknown: Vec<usize>,
    /// What stopped the bulk part way (a network error, the deadline, a refused command), if anything
    /// did besides the failed writes.
    pub interrupted: Option<Error>,
    /// The write concern the server could not satisfy, if any: the applied writes are applied, but not
    /// acknowledged as the write concern asks (replicated to fewer nodes, or not yet journaled). It
    /// does not stop the bulk.
    pub write_concern: Option<Error>,
    /// What the applied writes did.
    pub result: BulkWriteResult,
}

impl fmt::Display for BulkWriteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not_sent = self.total - self.applied.len() - self.failed.len() - self.unknown.len();
        write!(
            f,
            "bulk write applied {} of {} writes; {} failed",
            self.applied.len(),
            self.total,
            self.failed.len()
        )?;
        if let Some((i, e)) = self.failed.first() {
            write!(f, " (the first, write {i}: {e})")?;
        }
        if !self.unknown.is_empty() {
            write!(
                f,
                "; writes {:?} may or may not be applied (check them before retrying)",
                self.unknown
            )?;
        }
        if not_sent > 0 {
            write!(f, "; {not_sent} were not sent")?;
        }
        if let Some(e) = &self.interrupted {
            write!(f, "; stopped by: {e}")?;
        }
        if let Some(e) = &self.write_concern {
            write!(
                f,
                "; the applied writes are not acknowledged as the write concern asks: {e}"
            )?;
        }
        Ok(())
    }
}

/// The `bulk_write` operation; await it for a [`BulkWriteResult`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct BulkWrite<'a, T> {
    pub(crate) handle: &'a ModelHandle<T>,
    pub(crate) writes: Vec<Write<T>>,
    pub(crate) ordered: bool,
    pub(crate) session: Option<&'a mut Session>,
    pub(crate) settings: Settings,
}

/// Consecutive writes of one command, before confinement.
struct Run {
    command: &'static str,
    /// Soft deletes of a `#[model(soft_delete)]` model: updates that stamp `deleted_at`, counted as
    /// deletes.
    soft: bool,
    /// A write sent alone.
    alone: bool,
    /// The documents of an `insert`, as encoded.
    documents: Vec<bson::RawDocumentBuf>,
    /// The statements of an `update` or a `delete`.
    statements: Vec<Document>,
    /// The position of each statement among the writes.
    positions: Vec<usize>,
    /// The `_id` of each insert (`Null` for the other writes).
    ids: Vec<Bson>,
}

/// One write, encoded.
enum Statement {
    /// The document an `insert` stores.
    Insert(bson::RawDocumentBuf),
    /// An `update` or `delete` statement.
    Other(Document),
}

/// Confined writes sent as one command: a run, or a part of one that fits a command.
struct Batch {
    writes: ConfinedWrites,
    soft: bool,
    positions: Vec<usize>,
    ids: Vec<Bson>,
}

impl Batch {
    /// Splits a confined run into commands of at most [`BATCH_LIMIT`] statements and
    /// [`BATCH_BYTES`] bytes of statements (a statement larger than that goes alone).
    fn split(
        mut writes: ConfinedWrites,
        mut positions: Vec<usize>,
        mut ids: Vec<Bson>,
    ) -> Vec<Batch> {
        let mut batches = Vec::new();
        loop {
            let mut bytes = 0;
            let mut len = 0;
            for statement in writes.statements() {
                // The statement, and its array key and type byte in the command.
                let size = statement.as_bytes().len() + 8;
                if len > 0 && (len == BATCH_LIMIT || bytes + size > BATCH_BYTES) {
                    break;
                }
                bytes += size;
                len += 1;
            }
            if len == writes.statements().len() {
                batches.push(Batch {
                    soft: false,
                    writes,
                    positions,
                    ids,
                });
                return batches;
            }
            let rest = writes.split_off(len);
            let rest_positions = positions.split_off(len);
            let rest_ids = ids.split_off(len);
            batches.push(Batch {
                soft: false,
                writes: std::mem::replace(&mut writes, rest),
                positions: std::mem::replace(&mut positions, rest_positions),
                ids: std::mem::replace(&mut ids, rest_ids),
            });
        }
    }
}

impl<'a, T: Model> BulkWrite<'a, T> {
    session_method!();
    settings_methods!(settings: write_concern);

    /// Whether the writes run in order, stopping at the first failure (the default), or in any order,
    /// each attempted whatever the others do.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Checks and encodes every write, running the hooks of inserts and replacements. One invalid write
    /// sends nothing, and the error names its position.
    async fn prepare(handle: &ModelHandle<T>, writes: &mut [Write<T>]) -> Result<Vec<Run>> {
        let hooks = handle.hooks();
        let now = bson::DateTime::now();
        let mut runs: Vec<Run> = Vec::new();
        for (i, write) in writes.iter_mut().enumerate() {
            let at = |e: Error| match e {
                Error::Validation(mut errors) => {
                    errors.index = Some(i);
                    Error::Validation(errors)
                }
                e => e,
            };
            let (command, statement, id) = match &mut write.kind {
                Kind::Insert(value) => {
                    value.apply_defaults();
                    if let Some((h, ctx)) = &hooks {
                        hooks::call::<T>("before_validate", h.before_validate(value, ctx)).await?;
                    }
                    handle.prepare_insert(value, now).map_err(at)?;
                    if let Some((h, ctx)) = &hooks {
                        hooks::call::<T>("before_save", h.before_save(value, ctx)).await?;
                    }
                    (
                        "insert",
                        Statement::Insert(handle.encode(value)?),
                        value.id()?,
                    )
                }
                Kind::Update {
                    filter,
                    update,
                    many,
                    upsert,
                } => {
                    let update = std::mem::replace(update, Ok(Update::Document(Document::new())))?;
                    if let Update::Document(d) = &update {
                        // The server reads a document without operators as a replacement: it would
                        // replace whole documents, past the rules and the hooks (`{}` would empty them).
                        if d.is_empty() || !d.keys().all(|k| k.starts_with('$')) {
                            return Err(Error::Unsupported(
                                "an update of a bulk write is made of update operators (`$set`, `$inc`, ...); use `Write::replace_one` to replace a document",
                            ));
                        }
                    }
                    let q = std::mem::take(filter).into_document()?;
                    let mut update = update;
                    if *upsert {
                        insert_defaults::<T>(&mut update, &q).map_err(at)?;
                    }
                    let update = match checked_update(handle, update, true).map_err(at)? {
                        Update::Document(d) => Bson::Document(d),
                        Update::Pipeline(p) => {
                            Bson::Array(p.into_iter().map(Bson::Document).collect())
                        }
                    };
                    let statement = doc! { "q": q, "u": update, "multi": *many, "upsert": *upsert };
                    ("update", Statement::Other(statement), Bson::Null)
                }
                Kind::Replace {
                    filter,
                    value,
                    upsert,
                } => {
                    let raw = handle
                        .prepare_replacement(value, &hooks, now)
                        .await
                        .map_err(at)?;
                    let held = ModelHandle::<T>::immutable_filter(&raw)?;
                    let replacement = to_document::<T>(&raw)?;
                    let mut q = std::mem::take(filter).into_document()?;
                    // Held to the stored immutable values: a replacement that would change one
                    // matches nothing (a bulk write reads nothing back to say why).
                    if let Some(held) = held {
                        q = doc! { "$and": [ q, held ] };
                    }
                    let statement =
                        doc! { "q": q, "u": replacement, "multi": false, "upsert": *upsert };
                    ("update", Statement::Other(statement), Bson::Null)
                }
                Kind::Delete { filter, many } => {
                    let q = std::mem::take(filter).into_document()?;
                    match T::SCHEMA.soft_delete {
                        Some(stamp) => {
                            let u = match crate::ops::delete::stamp_update(stamp) {
                                Update::Document(u) => u,
                                Update::Pipeline(_) => unreachable!("a stamp is a `$set`"),
                            };
                            let statement =
                                doc! { "q": q, "u": u, "multi": *many, "upsert": false };
                            ("update", Statement::Other(statement), Bson::Null)
                        }
                        None => {
                            let statement = doc! { "q": q, "limit": if *many { 0 } else { 1 } };
                            ("delete", Statement::Other(statement), Bson::Null)
                        }
                    }
                }
            };
            let soft = T::SCHEMA.soft_delete.is_some() && matches!(write.kind, Kind::Delete { .. });
            // With hooks, a replacement is a command of its own, so that its reply says whether it
            // saved anything (`after_save` runs only then, as with `replace_one`).
            let alone = hooks.is_some() && matches!(write.kind, Kind::Replace { .. });
            let run = match runs.last_mut() {
                Some(run) if run.command == command && run.soft == soft && !run.alone && !alone => {
                    run
                }
                _ => {
                    runs.push(Run {
                        command,
                        soft,
                        alone,
                        documents: Vec::new(),
                        statements: Vec::new(),
                        positions: Vec::new(),
                        ids: Vec::new(),
                    });
                    runs.last_mut().expect("just pushed")
                }
            };
            match statement {
                Statement::Insert(document) => run.documents.push(document),
                Statement::Other(statement) => run.statements.push(statement),
            }
            run.positions.push(i);
            run.ids.push(id);
        }
        Ok(runs)
    }

    async fn run(self) -> Result<BulkWriteResult> {
        let BulkWrite {
            handle,
            mut writes,
            ordered,
            session,
            settings,
        } = self;
        let mut pipeline = handle.pipeline(session)?.overriding(settings);
        let total = writes.len();
        // Every write checked, encoded and confined before the first is sent.
        let mut batches = Vec::new();
        let runs = pipeline
            .within_deadline(Self::prepare(handle, &mut writes))
            .await?;
        for run in runs {
            let confined = if run.command == "insert" {
                pipeline.confine_inserts(run.documents)?
            } else {
                pipeline.confine_writes(run.command, run.statements)?
            };
            let split = Batch::split(confined, run.positions, run.ids);
            batches.extend(split.into_iter().map(|mut batch| {
                batch.soft = run.soft;
                batch
            }));
        }
        let mut result = BulkWriteResult::default();
        let mut applied = Vec::new();
        let mut failed = Vec::new();
        let mut write_concern = None;
        // The writes `after_save` runs for: applied inserts, and replacements that matched or upserted.
        let mut saved = vec![false; total];
        for batch in batches {
            let command = batch.writes.command();
            let reply = pipeline.write_command(batch.writes, ordered).await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) if applied.is_empty() && failed.is_empty() && !e.is_network() => {
                    // Refused before anything was applied: the cause alone says it.
                    return Err(e);
                }
                Err(e) => {
                    // After a network error or the deadline the batch may or may not be applied;
                    // nothing after it was sent.
                    let unknown = if e.is_network() {
                        batch.positions
                    } else {
                        Vec::new()
                    };
                    return Err(Error::BulkWrite(Box::new(BulkWriteFailure {
                        total,
                        applied,
                        failed,
                        unknown,
                        interrupted: Some(e),
                        write_concern,
                        result,
                    })));
                }
            };
            let errors = write_errors(&reply, |code, message, details| {
                pipeline.statement_error(command, code, message, details)
            });
            let refused: Vec<usize> = errors.iter().map(|(i, _)| *i).collect();
            // Ordered, the server stops at the first refused statement; unordered, it tries each.
            let stop = if ordered {
                refused.first().copied()
            } else {
                None
            };
            for (k, position) in batch.positions.iter().enumerate() {
                if refused.contains(&k) || stop.is_some_and(|s| k > s) {
                    continue;
                }
                applied.push(*position);
                if command == "insert" {
                    result.inserted_ids.insert(*position, batch.ids[k].clone());
                    saved[*position] = true;
                }
            }
            let n = crate::ops::count_in(&reply, "n");
            if let [position] = batch.positions[..] {
                if matches!(writes[position].kind, Kind::Replace { .. }) {
                    saved[position] = n > 0;
                }
            }
            match command {
                _ if batch.soft => {
                    result.deleted_count += crate::ops::count_in(&reply, "nModified")
                }
                "insert" => result.inserted_count += n,
                "delete" => result.deleted_count += n,
                _ => {
                    // `n` counts the documents matched and the documents upserted, by this command.
                    let mut upserted = 0;
                    if let Ok(ups) = reply.get_array("upserted") {
                        for up in ups {
                            let Bson::Document(up) = up else { continue };
                            let position = reply_index(up).and_then(|k| batch.positions.get(k));
                            if let (Some(position), Some(id)) = (position, up.get("_id")) {
                                result.upserted_ids.insert(*position, id.clone());
                                upserted += 1;
                            }
                        }
                    }
                    result.matched_count += n.saturating_sub(upserted);
                    result.modified_count += crate::ops::count_in(&reply, "nModified");
                }
            }
            if let (Ok(wc), None) = (reply.get_document("writeConcernError"), &write_concern) {
                write_concern = Some(Error::WriteRefused {
                    code: wc.get_i32("code").unwrap_or(0),
                    message: wc
                        .get_str("errmsg")
                        .unwrap_or("the write concern was not satisfied")
                        .to_owned(),
                });
            }
            failed.extend(errors.into_iter().map(|(k, e)| (batch.positions[k], e)));
            if ordered && !failed.is_empty() {
                break;
            }
        }
        if !failed.is_empty() || write_concern.is_some() {
            return Err(Error::BulkWrite(Box::new(BulkWriteFailure {
                total,
                applied,
                failed,
                unknown: Vec::new(),
                interrupted: None,
                write_concern,
                result,
            })));
        }
        if let Some((h, ctx)) = handle.hooks() {
            pipeline
                .within_deadline(async {
                    for (write, saved) in writes.iter().zip(saved) {
                        if let (Kind::Insert(value) | Kind::Replace { value, .. }, true) =
                            (&write.kind, saved)
                        {
                            hooks::call::<T>("after_save", h.after_save(value, &ctx)).await?;
                        }
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(result)
    }
}
// Bounded by the pipeline's deadline, every round trip and hook within it, so that a bulk stopped by it
// says which writes are applied rather than only that time ran out.
into_future!(
    BulkWrite,
    BulkWriteResult,
    "bulk_write",
    "bulkWrite",
    deadline_inside
);

/// An encoded value as the `Document` a statement holds.
fn to_document<T: Model>(raw: &bson::RawDocumentBuf) -> Result<Document> {
    Document::try_from(raw.as_ref()).map_err(|e| Error::Deserialization {
        type_name: T::SCHEMA.type_name,
        source: <bson::de::Error as serde::de::Error>::custom(e),
    })
}

/// The most statements one command carries (MongoDB's `maxWriteBatchSize`).
const BATCH_LIMIT: usize = 100_000;

/// The most bytes of statements one command carries: a command is one BSON document, which MongoDB
/// takes up to 16 MiB and 16 KiB, the 16 KiB left for the command's other fields.
const BATCH_BYTES: usize = crate::handle::MAX_DOCUMENT_SIZE;

fn reply_index(doc: &Document) -> Option<usize> {
    match doc.get("index") {
        Some(Bson::Int32(i)) => usize::try_from(*i).ok(),
        Some(Bson::Int64(i)) => usize::try_from(*i).ok(),
        _ => None,
    }
}

/// The write errors of a write command's reply, by the statement's index in its batch.
fn write_errors(
    reply: &Document,
    to_error: impl Fn(i32, &str, &Document) -> Error,
) -> Vec<(usize, Error)> {
    let mut out = Vec::new();
    if let Ok(errors) = reply.get_array("writeErrors") {
        for e in errors {
            let Bson::Document(e) = e else { continue };
            let Some(k) = reply_index(e) else { continue };
            let code = e.get_i32("code").unwrap_or(0);
            let message = e
                .get_str("errmsg")
                .unwrap_or("the server refused the write");
            out.push((k, to_error(code, message, e)));
        }
    }
    out.sort_by_key(|(k, _)| *k);
    out
}

impl<T: Model> ModelHandle<T> {
    /// Runs `writes` (inserts, updates, replacements, deletes) in as few round trips as their order
    /// allows; await for a [`BulkWriteResult`]. Every write is checked before anything is sent (one
    /// invalid write sends nothing) and confined like the single operations. Ordered by default: the
    /// first refused write stops the rest. A failure is [`Error::BulkWrite`], which says which writes are
    /// known applied. The write concern (the operation's, else the model's, else the connection's) goes with the commands, except in a session (where
    /// the transaction's, or the server's default, applies); one the server cannot satisfy is reported in
    /// the failure's `write_concern`.
    ///
    /// Inserts and replacements run the `before_validate`, `before_save` and `after_save` hooks; updates
    /// and deletes run none (like Mongoose's `bulkWrite`). `after_save` runs once the whole bulk is
    /// applied, for each insert and each replacement that matched or upserted (so with hooks each
    /// replacement is a round trip of its own).
    pub fn bulk_write(&self, writes: impl IntoIterator<Item = Write<T>>) -> BulkWrite<'_, T> {
        BulkWrite {
            handle: self,
            writes: writes.into_iter().collect(),
            ordered: true,
            session: None,
            settings: Settings::default(),
        }
    }
}
