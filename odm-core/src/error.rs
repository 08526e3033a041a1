//! The one error type of the library, and the `Result` alias that carries it.

use std::fmt;

use mongodb::bson::{Bson, Document};

use crate::validate::ValidationErrors;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
///
/// Each variant's message says what happened and what to do about it. The driver's own error is kept as
/// the source of [`Error::Driver`], so nothing the server said is lost.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database or collection name breaks one of MongoDB's naming rules. Nothing was sent to the server.
    #[error(
        "invalid {kind} name {name:?}: {rule}; choose a name that follows MongoDB's naming rules"
    )]
    InvalidName {
        /// What was being named.
        kind: NameKind,
        /// The name as given (lossily printable; it may hold any character).
        name: String,
        /// The rule it breaks.
        rule: NameRule,
    },

    /// A tenant id breaks one of the rules of the tenant strategy. Nothing was sent to the server.
    #[error("invalid tenant id {id:?}: {rule}")]
    InvalidTenant {
        /// The tenant id as given.
        id: String,
        /// The rule it breaks, in words, with the fix.
        rule: String,
    },

    /// A tenant strategy or registry is configured in a way that cannot work (a prefix that makes invalid
    /// names, a tenant field that is a path). Nothing was sent to the server.
    #[error("invalid tenancy configuration: {0}")]
    InvalidStrategy(String),

    /// The tenant is not in the [`Catalogue`](crate::Catalogue) of a [`Fleet`](crate::Fleet) that
    /// serves only the tenants it knows. Nothing was sent to the tenant's data.
    #[error("tenant {id:?} is not in the catalogue; provision it first (`Fleet::provision`, or `tenant-admin provision {id}`), or build the fleet with `open_to_unknown` to serve any well-formed id")]
    UnknownTenant {
        /// The tenant id.
        id: String,
    },

    /// The tenant is in the catalogue but cannot serve the request in its state (suspended, being
    /// provisioned, erased, or held by a move's cut-over for longer than the fleet's hold bound), or a
    /// lifecycle step found it in another state than the one it needs.
    #[error("tenant {id:?} is {state}: {why}")]
    TenantUnavailable {
        /// The tenant id.
        id: String,
        /// Its state in the catalogue.
        state: String,
        /// Why that refuses the request, and what to do.
        why: String,
    },

    /// A tenant handle from [`Fleet::tenant`](crate::Fleet::tenant) outlived its lease, or its fleet
    /// revoked it (the tenant entered a move's cut-over, was suspended or is being erased, or the
    /// fleet was dropped): the catalogue may have moved the tenant since, so the handle refuses rather
    /// than reach a placement it can no longer confirm. Nothing was sent.
    #[error("the handle of tenant {id:?} is older than its lease of {lease:?}, or its fleet revoked it, so its placement is no longer confirmed; get the tenant again from the fleet (take one handle per request, not one per process)")]
    LeaseExpired {
        /// The tenant id.
        id: String,
        /// The fleet's lease.
        lease: std::time::Duration,
    },

    /// A tenant's export could not be read or written.
    #[error("{path}: {reason}")]
    Dump {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong, with the fix.
        reason: String,
    },

    /// A [`Connections`](crate::Connections) registry needed room for another client, and every open
    /// client stayed in use for the whole wait.
    #[error("all {max_clients} clients of the registry are in use (each has handles alive) and none became idle within {waited:?}; raise `max_clients`, or drop tenant and model handles when a request ends")]
    RegistryFull {
        /// The registry's bound.
        max_clients: usize,
        /// How long it waited for a client to become idle.
        waited: std::time::Duration,
    },

    /// A write would have stored a second document with the same key in a unique index.
    #[error("{}", DuplicateKeyDisplay { index: index.as_deref(), key: key.as_deref(), message })]
    DuplicateKey {
        /// The name of the unique index, when the server reports it.
        index: Option<String>,
        /// The duplicated key, when the server reports it.
        key: Option<Box<Document>>,
        /// The server's own message.
        message: String,
    },

    /// No document matched where one was required.
    #[error("no document in `{collection}` matches {filter}; check the id or filter, or use the `find_one` form that returns `Option`")]
    NotFound {
        /// The collection that was searched.
        collection: String,
        /// The filter that matched nothing.
        filter: Document,
    },

    /// One or more fields of a value break the model's rules. Nothing was written.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),

    /// A version-checked write (`save` with `#[model(version)]`, `if_version`, a versioned
    /// `find_one_and_replace`) found the stored document at another version than the one the caller
    /// read, or found it gone. Nothing was written; read the document again, apply the change, and write
    /// again.
    #[error("{}", VersionConflictDisplay { collection, id, expected: *expected, stored: *stored })]
    VersionConflict {
        /// The collection of the document.
        collection: String,
        /// The `_id` of the document.
        id: Box<Bson>,
        /// The version the caller's value carried.
        expected: i64,
        /// The version stored now; `None` when the document is gone.
        stored: Option<i64>,
    },

    /// A value could not be turned into BSON: a field's `Serialize` implementation failed, or the value is
    /// not a document.
    #[error("cannot encode a `{type_name}` as BSON: {source}")]
    Serialization {
        /// The Rust type being encoded.
        type_name: &'static str,
        /// The encoder's error.
        #[source]
        source: Box<mongodb::bson::ser::Error>,
    },

    /// A stored document could not be read back as the model's type: the stored data does not match the
    /// struct (a missing field, another type).
    #[error("cannot decode a stored document as `{type_name}`: {source}; make the field optional or give it a `#[serde(default)]` if old documents lack it")]
    Deserialization {
        /// The Rust type being decoded.
        type_name: &'static str,
        /// The decoder's error.
        #[source]
        source: mongodb::bson::de::Error,
    },

    /// A document is larger than the 16 MiB MongoDB stores. Nothing was sent to the server.
    #[error("a `{type_name}` encodes to {size} bytes, over MongoDB's limit of {limit} bytes per document; split it or move large data to GridFS")]
    DocumentTooLarge {
        /// The Rust type being encoded.
        type_name: &'static str,
        /// The encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },

    /// A write tried to change what the tenant strategy owns (the tenant field of a shared collection).
    /// Nothing was written.
    #[error("{0}")]
    TenantViolation(String),

    /// A model operation was given a session of another client than the model's connection, so it would run
    /// outside the transaction. Bind the model from the connection that started the transaction.
    #[error("the session belongs to another client than this model's connection: bind the model from the connection that runs the transaction, so the operation does not run outside it")]
    ForeignSession,

    /// A lifecycle hook refused the operation. Nothing was written by the operation it guarded.
    #[error("hook `{hook}` of `{type_name}` aborted the operation: {source}")]
    Hook {
        /// The model's Rust type.
        type_name: &'static str,
        /// The hook that failed (`before_save`, ...).
        hook: &'static str,
        /// What the hook returned.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// An `insert_many` stopped part way (ordered semantics): the first `written` documents of the batch are
    /// stored, the next `unknown` may or may not be (the connection broke while the server had them), and
    /// the rest are not.
    #[error("insert_many stopped part way: documents 0..{written} of {total} are stored, the next {unknown} may or may not be (check them by _id before retrying), the rest are not; {source}")]
    PartialWrite {
        /// How many documents at the head of the batch are known to be stored.
        written: usize,
        /// How many documents after those may or may not be stored.
        unknown: usize,
        /// How many documents the batch held.
        total: usize,
        /// What stopped it.
        #[source]
        source: Box<Error>,
    },

    /// A declared index cannot be built (a hand-written schema with a malformed option; the derive checks
    /// these at compile time).
    #[error("the index on {keys} cannot be built: {reason}; fix its declaration")]
    InvalidIndex {
        /// The index's keys.
        keys: String,
        /// What is wrong.
        reason: String,
    },

    /// An update holds operations that contradict each other (two operators on one path, or on a path and
    /// its parent); nothing was sent.
    #[error("invalid update: {0}")]
    InvalidUpdate(String),

    /// A page token given to [`page_after`](crate::Find::page_after) is not one the library made for this
    /// find; nothing was sent.
    #[error("invalid page token: {0}; start again from the first page (`page_after(None, n)`)")]
    InvalidPageToken(String),

    /// A write would change a field declared `#[field(immutable)]` (Mongoose's `immutable`) of a stored
    /// document; nothing was written. An update that names the field (under any operator but
    /// `$setOnInsert`) is refused before it is sent; a `save` or replacement whose value differs from the
    /// stored one matches nothing and is reported so.
    #[error("`{field}` of a `{type_name}` is immutable: it keeps the value the document was created with, and this {operation} would change it; {fix}")]
    Immutable {
        /// The model.
        type_name: &'static str,
        /// The stored name of the immutable field (or, for an update, the path that reaches it).
        field: String,
        /// What was refused: `update`, `save` or `replacement`.
        operation: &'static str,
        /// What to do instead.
        fix: &'static str,
    },

    /// The server refused one write of a bulk (a failed server-side validation, code 121, among others).
    #[error("the server refused the write (code {code}): {message}")]
    WriteRefused {
        /// The server's error code.
        code: i32,
        /// The server's message.
        message: String,
    },

    /// A [`bulk_write`](crate::ModelHandle::bulk_write) did not apply every write: the failure says which
    /// writes are known applied, which failed and why, and which may or may not have been applied.
    #[error("{0}")]
    BulkWrite(Box<crate::ops::bulk::BulkWriteFailure>),

    /// The operation did not finish within the connection's operation timeout
    /// ([`ConnectOptions::operation_timeout`](crate::ConnectOptions::operation_timeout)). A write may or may
    /// not have been applied.
    #[error("no answer within {after:?}, the operation timeout: the server is unreachable or overloaded; a write may or may not have been applied, so check before retrying it")]
    Timeout {
        /// The operation timeout that elapsed.
        after: std::time::Duration,
    },

    /// Your own code gave up: an error of the application's, carried through the library unchanged, for
    /// example to abort a [`transaction`](crate::Connection::transaction). Make one with [`Error::abort`].
    #[error("aborted: {0}")]
    Aborted(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// The operation cannot be done in the form asked; the message says which form works.
    #[error("{0}")]
    Unsupported(&'static str),

    /// The driver or the server reported an error (network, timeout, server error). The driver's error is
    /// the source; its labels say whether a retry can help, and [`Error::code`] gives the server's code.
    ///
    /// The message says what the server said (its `errmsg`, code and code name), also when its reply was
    /// one the driver could not read (an error reply without a `code`), never the reply's bytes.
    #[error("{}", DriverDisplay(.0))]
    Driver(#[source] mongodb::error::Error),
}

impl Error {
    /// Wraps an application's own error, to abort a transaction or a hook with it:
    /// `return Err(Error::abort(InsufficientFunds))`. Get it back with `source()` or by matching
    /// [`Error::Aborted`] and downcasting.
    pub fn abort(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Aborted(error.into())
    }

    /// The server's error code, when the server refused the operation with one: 11000 for a duplicate
    /// key, 121 for a document the collection's validator refuses, 112 for a write conflict, ... (see
    /// MongoDB's list of error codes). `None` for errors of the library's own and for network errors.
    pub fn code(&self) -> Option<i32> {
        use mongodb::error::{ErrorKind, WriteFailure};
        match self {
            Error::DuplicateKey { .. } => Some(11000),
            Error::PartialWrite { source, .. } => source.code(),
            Error::Driver(e) => match &*e.kind {
                ErrorKind::Command(c) => Some(c.code),
                ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
                ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
                ErrorKind::InsertMany(m) => m
                    .write_errors
                    .as_ref()
                    .and_then(|w| w.first())
                    .map(|w| w.code)
                    .or(m.write_concern_error.as_ref().map(|w| w.code)),
                _ => None,
            },
            _ => None,
        }
    }

    /// `true` when the server could not be reached or answered too late: a retry after the server is back
    /// may succeed.
    pub fn is_network(&self) -> bool {
        match self {
            Error::Driver(e) => matches!(
                *e.kind,
                mongodb::error::ErrorKind::Io(_)
                    | mongodb::error::ErrorKind::ServerSelection { .. }
                    | mongodb::error::ErrorKind::ConnectionPoolCleared { .. }
            ),
            Error::Timeout { .. } => true,
            Error::PartialWrite { source, .. } => source.is_network(),
            _ => false,
        }
    }
}

impl From<mongodb::error::Error> for Error {
    fn from(e: mongodb::error::Error) -> Self {
        duplicate_key(&e).unwrap_or(Error::Driver(e))
    }
}

/// The error of one statement of a write command's reply: a duplicate key, or a refusal.
pub(crate) fn write_error(code: i32, message: &str, details: &Document) -> Error {
    if code == 11000 {
        return Error::DuplicateKey {
            index: index_name_from_message(message),
            key: details
                .get_document("keyValue")
                .ok()
                .map(|key| Box::new(key.clone())),
            message: message.to_owned(),
        };
    }
    Error::WriteRefused {
        code,
        message: message.to_owned(),
    }
}

/// Maps a server's duplicate key error (code 11000) to [`Error::DuplicateKey`], keeping the index and key
/// when the server reports them.
fn duplicate_key(e: &mongodb::error::Error) -> Option<Error> {
    use mongodb::error::{ErrorKind, WriteFailure};
    let (code, message, details) = match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => (w.code, &w.message, w.details.as_ref()),
        ErrorKind::InsertMany(m) => {
            let w = m.write_errors.as_ref()?.first()?;
            (w.code, &w.message, w.details.as_ref())
        }
        ErrorKind::Command(c) => (c.code, &c.message, None),
        _ => return None,
    };
    if code != 11000 {
        return None;
    }
    // The driver keeps a write error's `errInfo`, not its `keyValue`; the message names the key too.
    let key = details
        .and_then(|d| d.get_document("keyValue").ok())
        .cloned()
        .or_else(|| e.server_response().and_then(|r| key_value_in_reply(r)))
        .or_else(|| key_from_message(message))
        .map(Box::new);
    Some(Error::DuplicateKey {
        index: index_name_from_message(message),
        key,
        message: message.clone(),
    })
}

/// The key of MongoDB's `... dup key: { email: "a@b.c", n: 5 }`, read back as a document: strings,
/// numbers, booleans, `null` and `ObjectId('..')` as themselves, anything else as its text.
fn key_from_message(message: &str) -> Option<Document> {
    let start = message.find("dup key:")? + "dup key:".len();
    let body = message[start..].trim_start().strip_prefix('{')?;
    let mut key = Document::new();
    let mut chars = body.char_indices().peekable();
    loop {
        while chars
            .next_if(|(_, c)| c.is_whitespace() || *c == ',')
            .is_some()
        {}
        let (at, c) = chars.next()?;
        if c == '}' {
            return Some(key);
        }
        let name_end = body[at..].find(':')? + at;
        let name = body[at..name_end].trim().to_owned();
        while chars.next_if(|(i, _)| *i <= name_end).is_some() {}
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let (from, first) = *chars.peek()?;
        let value = if first == '"' {
            chars.next();
            let mut text = String::new();
            let mut escaped = false;
            for (_, c) in chars.by_ref() {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    _ => {
                        text.push(c);
                        escaped = false;
                    }
                }
            }
            Bson::String(text)
        } else {
            let mut depth = 0i32;
            let mut to = body.len();
            while let Some(&(i, c)) = chars.peek() {
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' => depth -= 1,
                    '}' if depth > 0 => depth -= 1,
                    ',' | '}' if depth == 0 => {
                        to = i;
                        break;
                    }
                    _ => {}
                }
                chars.next();
            }
            let text = body[from..to].trim();
            if let Some(hex) = text
                .strip_prefix("ObjectId('")
                .and_then(|t| t.strip_suffix("')"))
            {
                match mongodb::bson::oid::ObjectId::parse_str(hex) {
                    Ok(oid) => Bson::ObjectId(oid),
                    Err(_) => Bson::String(text.to_owned()),
                }
            } else if let Ok(n) = text.parse::<i32>() {
                Bson::Int32(n)
            } else if let Ok(n) = text.parse::<i64>() {
                Bson::Int64(n)
            } else if let Ok(n) = text.parse::<f64>() {
                Bson::Double(n)
            } else {
                match text {
                    "null" => Bson::Null,
                    "true" => Bson::Boolean(true),
                    "false" => Bson::Boolean(false),
                    _ => Bson::String(text.to_owned()),
                }
            }
        };
        key.insert(name, value);
    }
}

/// The duplicated key of an E11000 in the server's reply: MongoDB sends it as `keyValue` beside the code,
/// in the reply of a failed command (`createIndexes`) or in the first duplicate of its `writeErrors`. The
/// driver keeps only a write error's `errInfo` as its `details`, so the key is read from the reply.
fn key_value_in_reply(reply: &mongodb::bson::RawDocument) -> Option<Document> {
    let duplicate = |d: &mongodb::bson::RawDocument| d.get_i32("code").ok() == Some(11000);
    let holder = if duplicate(reply) {
        reply
    } else {
        reply
            .get_array("writeErrors")
            .ok()?
            .into_iter()
            .filter_map(|e| e.ok()?.as_document())
            .find(|e| duplicate(e))?
    };
    Document::try_from(holder.get_document("keyValue").ok()?).ok()
}

/// MongoDB says `... index: email_1 dup key: { ... }`; some servers say `index 'email_1'`.
fn index_name_from_message(message: &str) -> Option<String> {
    let rest = &message[message.find("index")? + "index".len()..];
    let rest = rest.trim_start_matches([':', ' ']);
    let rest = rest.trim_start_matches(['\'', '"']);
    let name: String = rest
        .chars()
        .take_while(|c| !matches!(c, ' ' | '\'' | '"' | ','))
        .collect();
    (!name.is_empty()).then_some(name)
}

struct VersionConflictDisplay<'a> {
    collection: &'a str,
    id: &'a Bson,
    expected: i64,
    stored: Option<i64>,
}

impl fmt::Display for VersionConflictDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let VersionConflictDisplay {
            collection,
            id,
            expected,
            stored,
        } = self;
        write!(f, "version conflict in `{collection}` for _id {id}: ")?;
        match stored {
            Some(stored) if stored >= expected => write!(
                f,
                "the value was read at version {expected} and another writer has since stored version {stored}; reload the document, apply the change again and write it"
            ),
            Some(stored) => write!(
                f,
                "the value says version {expected}, ahead of the stored version {stored}: it was not read from this document (or its version was set by hand); reload it and write again"
            ),
            None => write!(
                f,
                "the value was read at version {expected}, and the document is gone (deleted, or never stored here); create it anew if it should exist"
            ),
        }
    }
}

struct DuplicateKeyDisplay<'a> {
    index: Option<&'a str>,
    key: Option<&'a Document>,
    message: &'a String,
}

impl fmt::Display for DuplicateKeyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("duplicate key")?;
        if let Some(index) = self.index {
            write!(f, " in unique index `{index}`")?;
        }
        if let Some(key) = self.key {
            write!(f, " for {key}")?;
        }
        write!(
            f,
            ": a document with this key is already stored; use another value, or update the existing document ({})",
            self.message
        )
    }
}

struct DriverDisplay<'a>(&'a mongodb::error::Error);

impl fmt::Display for DriverDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe_driver_error(f, self.0, self.0.server_response().map(|r| &**r))
    }
}

/// Says what a driver error means in words: the kind of failure and what the server said. The driver's
/// own `Display` ends with the server's whole reply as hex bytes, which is of no use to a reader, so it is
/// never printed here; the reply's `errmsg`, `code` and `codeName` are.
fn describe_driver_error(
    f: &mut fmt::Formatter<'_>,
    e: &mongodb::error::Error,
    reply: Option<&mongodb::bson::RawDocument>,
) -> fmt::Result {
    use mongodb::error::ErrorKind;
    match &*e.kind {
        ErrorKind::ServerSelection { message, .. } => write!(
            f,
            "no server answered within the server selection timeout: check that the server is up and the URI is right, or raise the timeout ({message})"
        )?,
        ErrorKind::Io(io) => write!(f, "network error talking to the server: {io}")?,
        ErrorKind::Command(c) => {
            write!(f, "the server refused the command: {}", c.message)?;
            write_code(f, Some(c.code), Some(c.code_name.as_str()))?;
        }
        ErrorKind::InvalidResponse { message, .. } => {
            let said = reply.and_then(|r| r.get_str("errmsg").ok());
            let code = reply.and_then(|r| r.get("code").ok().flatten()).and_then(|c| {
                c.as_i32()
                    .or_else(|| c.as_i64().and_then(|c| i32::try_from(c).ok()))
                    .or_else(|| c.as_f64().map(|c| c as i32))
            });
            let code_name = reply.and_then(|r| r.get_str("codeName").ok());
            match said {
                Some(said) => {
                    write!(f, "the server refused the operation: {said}")?;
                    write_code(f, code, code_name)?;
                    write!(
                        f,
                        "; its error reply lacks what MongoDB always sends (the driver could not read it: {message}), so the kind of failure is unknown: check the server's log"
                    )?;
                }
                None => write!(
                    f,
                    "the server's reply could not be read ({message}): is the server a MongoDB, at a version the driver supports?"
                )?,
            }
        }
        kind => write!(f, "the server or driver reported an error: {kind}")?,
    }
    let mut labels: Vec<&String> = e.labels().iter().collect();
    if !labels.is_empty() {
        labels.sort();
        write!(f, " (labels: ")?;
        for (i, label) in labels.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(label)?;
        }
        f.write_str(")")?;
    }
    Ok(())
}

fn write_code(f: &mut fmt::Formatter<'_>, code: Option<i32>, name: Option<&str>) -> fmt::Result {
    match (code, name.filter(|n| !n.is_empty())) {
        (Some(code), Some(name)) => write!(f, " ({name}, code {code})"),
        (Some(code), None) => write!(f, " (code {code})"),
        (None, Some(name)) => write!(f, " ({name})"),
        (None, None) => Ok(()),
    }
}

/// What a name names, in [`Error::InvalidName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameKind {
    /// A database name.
    Database,
    /// A collection name.
    Collection,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Database => "database",
            NameKind::Collection => "collection",
        })
    }
}

/// The naming rule a name breaks, in [`Error::InvalidName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameRule {
    /// The name is empty.
    Empty,
    /// The name is too long; `max` is the largest allowed length in bytes.
    TooLong {
        /// The largest allowed length in bytes.
        max: usize,
        /// The name's length in bytes.
        len: usize,
    },
    /// The name holds a character MongoDB forbids there.
    ForbiddenChar(char),
    /// The name starts with `system.`, which MongoDB reserves.
    ReservedPrefix,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::Empty => f.write_str("it is empty"),
            NameRule::TooLong { max, len } => {
                write!(
                    f,
                    "it is {len} bytes long, and at most {max} bytes are allowed"
                )
            }
            NameRule::ForbiddenChar('\0') => f.write_str("it holds a NUL character"),
            NameRule::ForbiddenChar(c) => write!(f, "it holds the forbidden character {c:?}"),
            NameRule::ReservedPrefix => f.write_str("names starting with `system.` are reserved"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_name_is_read_from_both_message_forms() {
        assert_eq!(
            index_name_from_message(
                "E11000 duplicate key error collection: db.users index: email_1 dup key: { email: \"a\" }"
            )
            .as_deref(),
            Some("email_1")
        );
        assert_eq!(
            index_name_from_message("UNIQUE constraint failed: index 'idx_users_email'").as_deref(),
            Some("idx_users_email")
        );
        assert_eq!(index_name_from_message("E11000 duplicate key error"), None);
    }

    #[test]
    fn the_key_is_read_from_the_message() {
        let oid = mongodb::bson::oid::ObjectId::new();
        let message = format!(
            "E11000 duplicate key error collection: app.items index: tenant_id_1_code_1 dup key: {{ tenant_id: \"globex\", code: \"a, \\\"b\\\" }}\", n: 5, big: 5000000000, x: 1.5, none: null, _id: ObjectId('{oid}') }}"
        );
        assert_eq!(
            key_from_message(&message),
            Some(mongodb::bson::doc! {
                "tenant_id": "globex", "code": "a, \"b\" }", "n": 5, "big": 5_000_000_000i64,
                "x": 1.5, "none": null, "_id": oid,
            })
        );
        assert_eq!(key_from_message("E11000 duplicate key error"), None);
    }

    #[test]
    fn the_duplicated_key_is_read_from_the_reply() {
        use mongodb::bson::{doc, rawdoc};
        let write = rawdoc! {
            "n": 1,
            "writeErrors": [
                { "index": 1, "code": 11000, "errmsg": "E11000 ...", "keyPattern": { "email": 1 },
                  "keyValue": { "email": "ann@x.io" } },
            ],
            "ok": 1.0,
        };
        assert_eq!(
            key_value_in_reply(&write),
            Some(doc! { "email": "ann@x.io" })
        );
        let command = rawdoc! {
            "ok": 0.0, "code": 11000, "errmsg": "E11000 ...", "keyValue": { "email": null },
        };
        assert_eq!(key_value_in_reply(&command), Some(doc! { "email": null }));
        let other = rawdoc! { "ok": 0.0, "code": 2, "errmsg": "bad", "keyValue": { "a": 1 } };
        assert_eq!(key_value_in_reply(&other), None);
    }

    /// Prints a driver error as the library does, with `reply` as the server's reply.
    struct Described<'a>(
        &'a mongodb::error::Error,
        Option<&'a mongodb::bson::RawDocument>,
    );

    impl fmt::Display for Described<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            describe_driver_error(f, self.0, self.1)
        }
    }

    /// The error the driver gives for a reply it cannot read (an error reply without `code`, a damaged
    /// document): `ErrorKind::InvalidResponse`, with the reply kept beside it.
    fn unreadable_reply() -> mongodb::error::Error {
        let damaged = mongodb::bson::RawDocument::from_bytes(&[5, 0, 0, 0, 1]).unwrap_err();
        let kind = mongodb::error::ErrorKind::from(damaged);
        assert!(matches!(
            kind,
            mongodb::error::ErrorKind::InvalidResponse { .. }
        ));
        mongodb::error::Error::from(kind)
    }

    #[test]
    fn an_error_reply_without_a_code_is_told_by_its_errmsg_never_as_bytes() {
        let e = unreadable_reply();
        let reply = mongodb::bson::rawdoc! {
            "ok": 0.0,
            "errmsg": "database is locked",
            "codeName": "InternalError",
        };
        let said = Described(&e, Some(&reply)).to_string();
        assert!(
            said.starts_with(
                "the server refused the operation: database is locked (InternalError)"
            ),
            "{said}"
        );
        assert!(said.contains("check the server's log"), "{said}");
        // The driver's own message ends with the reply as hex; none of it is printed.
        let hex: String = reply.as_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!said.contains(&hex), "{said}");
        assert!(!said.contains("RawDocumentBuf"), "{said}");

        // With a code, the code is named too.
        let reply = mongodb::bson::rawdoc! { "ok": 0, "errmsg": "no such command", "code": 59 };
        let said = Described(&e, Some(&reply)).to_string();
        assert!(
            said.starts_with("the server refused the operation: no such command (code 59)"),
            "{said}"
        );

        // Without a reply (or without `errmsg` in it), the message says the reply was unreadable.
        let said = Described(&e, None).to_string();
        assert!(
            said.starts_with("the server's reply could not be read ("),
            "{said}"
        );
        let said = Error::Driver(e).to_string();
        assert!(
            said.starts_with("the server's reply could not be read ("),
            "{said}"
        );
    }

    #[test]
    fn a_command_error_is_told_with_its_code_and_code_name() {
        let refused: mongodb::error::CommandError =
            mongodb::bson::from_document(mongodb::bson::doc! {
                "code": 121,
                "codeName": "DocumentValidationFailure",
                "errmsg": "Document failed validation",
            })
            .unwrap();
        let e = Error::Driver(mongodb::error::ErrorKind::Command(refused).into());
        assert_eq!(
            e.to_string(),
            "the server refused the command: Document failed validation (DocumentValidationFailure, code 121)"
        );
        assert_eq!(e.code(), Some(121));
        let other = Error::Driver(mongodb::error::Error::custom("not from the server"));
        assert!(
            other
                .to_string()
                .starts_with("the server or driver reported an error: "),
            "{other}"
        );
        assert_eq!(other.code(), None);
    }
}

#[cfg(test)]
mod size {
    #[test]
    fn the_error_stays_small_enough_to_return_by_value() {
        assert!(std::mem::size_of::<super::Error>() <= 128);
    }
}
