//! Tenants: one model, many customers. A [`Tenants`] handle applies a [`Strategy`] (a database per
//! tenant, a collection per tenant, or one shared collection with a tenant field) and hands out
//! [`Tenant`] handles whose models can only reach that tenant's data.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use lru::LruCache;
use mongodb::bson::Bson;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::name::{check_database_name, MAX_DATABASE_NAME_LEN, MAX_NAMESPACE_LEN};
use crate::scope::Scope;

/// The tenant field of [`Strategy::SharedCollection`] unless another is chosen.
pub const DEFAULT_TENANT_FIELD: &str = "tenant_id";

/// How many tenant handles a [`Tenants`] keeps cached unless told otherwise.
pub const DEFAULT_TENANT_CACHE: usize = 10_000;

/// The longest tenant id any strategy accepts, in bytes. Strategies that build names from the id may allow
/// fewer (see [`Tenants::max_id_len`]).
pub const MAX_TENANT_ID_LEN: usize = 64;

/// The bytes a collection-per-tenant strategy keeps free for a model's own collection name when it
/// bounds the tenant id, so that `database.{prefix}{id}{separator}{collection}` fits MongoDB's 255-byte
/// namespace for any collection name up to this long.
pub const COLLECTION_NAME_BUDGET: usize = 64;

/// Database names MongoDB reserves; no tenant may be called so, in any case.
const RESERVED: &[&str] = &["admin", "local", "config"];

/// Where each tenant's documents live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// A database per tenant, named `{prefix}{id}`, all over the connection's one pool.
    DatabasePerTenant {
        /// Put before every tenant id to make its database name (e.g. `tenant_`).
        prefix: String,
    },
    /// One database (the connection's), a collection per tenant and model, named
    /// `{prefix}{id}{separator}{collection}`.
    CollectionPerTenant {
        /// Put before the tenant id (may be empty).
        prefix: String,
        /// Put between the tenant id and the model's collection name (not empty). When it is made of
        /// characters a tenant id can hold (`__`), an id that contains it, or ends with the start of it, is
        /// refused, so that a collection name always tells its tenant.
        separator: String,
    },
    /// One collection per model, shared by every tenant; each document carries the tenant id in `field`.
    SharedCollection {
        /// The stored name of the tenant field (a top-level field, not a path).
        field: String,
    },
}

impl Strategy {
    /// A database per tenant, named `{prefix}{id}`.
    pub fn database_per_tenant(prefix: impl Into<String>) -> Self {
        Strategy::DatabasePerTenant {
            prefix: prefix.into(),
        }
    }

    /// A collection per tenant, named `{id}.{collection}`.
    pub fn collection_per_tenant() -> Self {
        Strategy::CollectionPerTenant {
            prefix: String::new(),
            separator: ".".into(),
        }
    }

    /// One shared collection per model with the tenant id in the field `tenant_id`.
    pub fn shared_collection() -> Self {
        Self::shared_collection_field(DEFAULT_TENANT_FIELD)
    }

    /// One shared collection per model with the tenant id in `field`.
    pub fn shared_collection_field(field: impl Into<String>) -> Self {
        Strategy::SharedCollection {
            field: field.into(),
        }
    }

    /// Checks that the strategy can make valid names on database `database`.
    fn check(&self, database: &str) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidStrategy(msg));
        match self {
            Strategy::DatabasePerTenant { prefix } => {
                if !prefix.is_empty() {
                    check_database_name(prefix).map_err(|e| {
                        Error::InvalidStrategy(format!(
                            "the database prefix {prefix:?} cannot start a database name: {e}"
                        ))
                    })?;
                }
                if prefix.len() >= MAX_DATABASE_NAME_LEN {
                    return bad(format!(
                        "the database prefix {prefix:?} is {} bytes long and leaves no room for a tenant id in MongoDB's {MAX_DATABASE_NAME_LEN} bytes per database name; use a shorter prefix",
                        prefix.len()
                    ));
                }
            }
            Strategy::CollectionPerTenant { prefix, separator } => {
                if separator.is_empty() {
                    return bad(
                        "the collection separator is empty, so a collection name cannot tell its tenant; use `.` (or `__` where collection names must be identifiers)".into(),
                    );
                }
                if let Some(c) = prefix
                    .chars()
                    .chain(separator.chars())
                    .find(|c| matches!(c, '$' | '\0'))
                {
                    return bad(format!(
                        "the collection prefix and separator may not hold {c:?}, which MongoDB forbids in collection names"
                    ));
                }
                if prefix.starts_with("system.") {
                    return bad(format!(
                        "the collection prefix {prefix:?} starts with `system.`, which MongoDB reserves; choose another prefix"
                    ));
                }
                if collection_id_budget(database, prefix, separator) == 0 {
                    return bad(format!(
                        "database {database:?} with collection prefix {prefix:?} and separator {separator:?} leaves no room for a tenant id in MongoDB's {MAX_NAMESPACE_LEN}-byte namespace; shorten them"
                    ));
                }
            }
            Strategy::SharedCollection { field } => {
                if field.is_empty()
                    || field.starts_with('$')
                    || field.contains(['.', '\0'])
                    || field == "_id"
                {
                    return bad(format!(
                        "the tenant field {field:?} must be a top-level field name: not empty, not `_id`, no `.`, no leading `$`; use e.g. `{DEFAULT_TENANT_FIELD}`"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn is_tenant_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn collection_id_budget(database: &str, prefix: &str, separator: &str) -> usize {
    MAX_NAMESPACE_LEN.saturating_sub(
        database.len() + 1 + prefix.len() + separator.len() + COLLECTION_NAME_BUDGET,
    )
}

/// Checks a tenant id against the rules every strategy shares: not empty, at most
/// [`MAX_TENANT_ID_LEN`] bytes, only ASCII letters, digits, `_` and `-`, and none of the names MongoDB
/// reserves (`admin`, `local`, `config`, in any case). [`Tenants::get`] checks these and the strategy's
/// own length bound.
pub fn check_tenant_id(id: &str) -> Result<()> {
    check_id(id, MAX_TENANT_ID_LEN, "")
}

fn check_id(id: &str, max: usize, why_max: &str) -> Result<()> {
    let invalid = |rule: String| {
        Err(Error::InvalidTenant {
            id: id.to_owned(),
            rule,
        })
    };
    if id.is_empty() {
        return invalid("it is empty; every tenant needs a non-empty id".into());
    }
    if let Some(c) = id.chars().find(|c| !is_tenant_char(*c)) {
        return invalid(format!(
            "it holds {c:?}, and a tenant id may only hold ASCII letters, digits, `_` and `-`; map your tenant key to such an id (a slug, or a hex digest of the key)"
        ));
    }
    if id.len() > max {
        return invalid(format!(
            "it is {} bytes long, and at most {max} are allowed{why_max}; use a shorter id",
            id.len()
        ));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(id)) {
        return invalid(format!(
            "{:?} is a database name MongoDB reserves (`admin`, `local` and `config`, in any case); give the tenant another id",
            id.to_ascii_lowercase()
        ));
    }
    Ok(())
}

/// One tenant: binds models confined to the tenant's data.
///
/// Cheap to clone. Made by [`Tenants::get`] or [`Connections::tenant`](crate::Connections::tenant).
#[derive(Clone)]
pub struct Tenant {
    id: Arc<str>,
    conn: Connection,
    scope: Arc<Scope>,
}

impl Tenant {
    /// The tenant's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Binds model `T` to the tenant: every operation of the handle reaches only this tenant's documents.
    /// Does no I/O.
    ///
    /// With a collection per tenant, the tenant id's bound leaves [`COLLECTION_NAME_BUDGET`] bytes for the
    /// model's collection name; a longer one can make a namespace the server refuses.
    pub fn model<T: Model>(&self) -> ModelHandle<T> {
        ModelHandle::scoped(self.conn.clone(), Some(self.scope.clone()))
    }

    /// The connection the tenant's models use: the tenant's own database with a database per tenant, the
    /// shared database otherwise.
    ///
    /// It is not confined to the tenant: models bound from it with [`Connection::model`] see every
    /// tenant's collections (collection per tenant) or documents (shared collection). Use
    /// [`Tenant::model`] for the tenant's data.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &&*self.id)
            .field("database", &self.conn.name())
            .finish()
    }
}

/// The tenants of an application on one connection, under one [`Strategy`].
///
/// ```no_run
/// # use odm_core::prelude::*;
/// # use odm_core::{Strategy, Tenants};
/// # #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// # #[model(collection = "users")]
/// # struct User { #[serde(rename = "_id", skip_serializing_if = "Option::is_none")] id: Option<ObjectId>, email: String }
/// # async fn run() -> odm_core::Result<()> {
/// let conn = Connection::connect("mongodb://127.0.0.1:27017/app").await?;
/// let tenants = Tenants::new(conn, Strategy::database_per_tenant("tenant_"))?;
/// let users = tenants.get("acme")?.model::<User>(); // database `tenant_acme`
/// users.create(User { id: None, email: "ann@acme.io".into() }).await?;
/// # Ok(()) }
/// ```
///
/// Tenant handles are cached in a bounded least-recently-used cache ([`DEFAULT_TENANT_CACHE`] unless
/// [`Tenants::with_cache`] says otherwise), so a process that serves a million tenants keeps at most that
/// many handles; an evicted tenant's handle is rebuilt on its next use, which costs a check of the id and
/// a few small allocations. Cloning a `Tenants` shares the cache.
///
/// The guide's [tenancy](crate::guide::tenancy) chapter compares the strategies and says when to pick
/// each.
#[derive(Clone)]
pub struct Tenants {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Connection,
    strategy: Strategy,
    /// The shared collection's tenant field, interned once.
    field: Option<Arc<str>>,
    max_id_len: usize,
    why_max: String,
    cache: Option<Mutex<LruCache<Arc<str>, Tenant>>>,
}

impl Tenants {
    /// Tenants on `conn` under `strategy`, with a cache of [`DEFAULT_TENANT_CACHE`] handles. Does no I/O.
    ///
    /// A strategy that cannot make valid names (a prefix with a forbidden character, a tenant field that is
    /// a path) gives [`Error::InvalidStrategy`].
    pub fn new(conn: Connection, strategy: Strategy) -> Result<Tenants> {
        Self::with_cache(conn, strategy, DEFAULT_TENANT_CACHE)
    }

    /// Like [`Tenants::new`], keeping at most `capacity` tenant handles cached (`0`: none).
    pub fn with_cache(conn: Connection, strategy: Strategy, capacity: usize) -> Result<Tenants> {
        strategy.check(conn.name())?;
        let (max_id_len, why_max) = match &strategy {
            Strategy::DatabasePerTenant { prefix } => (
                MAX_DATABASE_NAME_LEN - prefix.len(),
                format!(
                    " so that the database name {prefix:?} + id fits MongoDB's {MAX_DATABASE_NAME_LEN} bytes"
                ),
            ),
            Strategy::CollectionPerTenant { prefix, separator } => (
                collection_id_budget(conn.name(), prefix, separator),
                format!(
                    " so that `{}.{prefix}<id>{separator}<collection>` fits MongoDB's {MAX_NAMESPACE_LEN}-byte namespace with {COLLECTION_NAME_BUDGET} bytes for the collection",
                    conn.name()
                ),
            ),
            Strategy::SharedCollection { .. } => (MAX_TENANT_ID_LEN, String::new()),
        };
        let field = match &strategy {
            Strategy::SharedCollection { field } => Some(Arc::from(field.as_str())),
            _ => None,
        };
        Ok(Tenants {
            inner: Arc::new(Inner {
                conn,
                strategy,
                field,
                max_id_len: max_id_len.min(MAX_TENANT_ID_LEN),
                why_max,
                cache: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
            }),
        })
    }

    /// The tenant `id`, from the cache or built (no I/O either way).
    ///
    /// The id is checked first: a bad one gives [`Error::InvalidTenant`] naming the rule it breaks, and no
    /// name is ever built from it.
    pub fn get(&self, id: &str) -> Result<Tenant> {
        let Some(cache) = &self.inner.cache else {
            return self.build(id);
        };
        if let Some(tenant) = cache.lock().expect("tenant cache lock").get(id) {
            return Ok(tenant.clone());
        }
        let tenant = self.build(id)?;
        cache
            .lock()
            .expect("tenant cache lock")
            .put(tenant.id.clone(), tenant.clone());
        Ok(tenant)
    }

    /// Checks `id` against every rule of this strategy, without building anything.
    pub fn check(&self, id: &str) -> Result<()> {
        check_id(id, self.inner.max_id_len, &self.inner.why_max)?;
        if let Strategy::CollectionPerTenant { separator, .. } = &self.inner.strategy {
            // `{id}{separator}` must hold the separator first right after the id.
            let overlaps = id.contains(separator.as_str())
                || (1..separator.len())
                    .filter(|k| separator.is_char_boundary(*k))
                    .any(|k| id.ends_with(&separator[..k]));
            if overlaps {
                return Err(Error::InvalidTenant {
                    id: id.to_owned(),
                    rule: format!(
                        "it holds (or ends with the start of) the collection separator {separator:?}, so its collection names would not tell its tenant; use an id without it, or another separator"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The longest tenant id this strategy accepts, in bytes.
    pub fn max_id_len(&self) -> usize {
        self.inner.max_id_len
    }

    /// The strategy.
    pub fn strategy(&self) -> &Strategy {
        &self.inner.strategy
    }

    /// The connection the tenants live on.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// How many tenant handles are cached now.
    pub fn cached(&self) -> usize {
        self.inner
            .cache
            .as_ref()
            .map_or(0, |c| c.lock().expect("tenant cache lock").len())
    }

    /// The most tenant handles the cache keeps.
    pub fn cache_capacity(&self) -> usize {
        self.inner
            .cache
            .as_ref()
            .map_or(0, |c| c.lock().expect("tenant cache lock").cap().get())
    }

    /// The tenant's handle, built without touching the cache.
    fn build(&self, id: &str) -> Result<Tenant> {
        self.check(id)?;
        let inner = &self.inner;
        let id: Arc<str> = Arc::from(id);
        let (conn, scope) = match &inner.strategy {
            Strategy::DatabasePerTenant { prefix } => (
                inner.conn.use_db(&format!("{prefix}{id}"))?,
                Scope::Database,
            ),
            Strategy::CollectionPerTenant { prefix, separator } => (
                inner.conn.clone(),
                Scope::Prefix(Arc::from(format!("{prefix}{id}{separator}"))),
            ),
            Strategy::SharedCollection { .. } => (
                inner.conn.clone(),
                Scope::Field {
                    field: inner.field.clone().expect("shared strategy has a field"),
                    tenant: id.clone(),
                },
            ),
        };
        Ok(Tenant {
            id,
            conn,
            scope: Arc::new(scope),
        })
    }

    /// Connections held by the cached handles and this `Tenants`, for a registry's idleness check.
    pub(crate) fn client_refs_held(&self) -> usize {
        1 + self.cached()
    }

    /// The ids of the tenants that have data on the server, sorted: the databases named `{prefix}{id}`,
    /// the collections named `{prefix}{id}{separator}...`, or the distinct values of the tenant field in
    /// every collection of the database, by strategy. Names that do not hold a valid tenant id are
    /// skipped.
    #[allow(clippy::disallowed_methods)] // reads names and tenant ids across every tenant, by design
    pub async fn discover(&self) -> Result<Vec<String>> {
        let inner = &self.inner;
        let mut ids = BTreeSet::new();
        match &inner.strategy {
            Strategy::DatabasePerTenant { prefix } => {
                for name in inner.conn.client().list_database_names().await? {
                    if let Some(id) = name.strip_prefix(prefix.as_str()) {
                        ids.insert(id.to_owned());
                    }
                }
            }
            Strategy::CollectionPerTenant { prefix, separator } => {
                for name in inner.conn.database().list_collection_names().await? {
                    if let Some((id, _)) = name
                        .strip_prefix(prefix.as_str())
                        .and_then(|rest| rest.split_once(separator.as_str()))
                    {
                        ids.insert(id.to_owned());
                    }
                }
            }
            Strategy::SharedCollection { field } => {
                let db = inner.conn.database();
                for name in db.list_collection_names().await? {
                    if name.starts_with("system.") {
                        continue;
                    }
                    let coll = db.collection::<mongodb::bson::Document>(&name);
                    for value in coll
                        .distinct(field.as_str(), mongodb::bson::doc! {})
                        .await?
                    {
                        if let Bson::String(id) = value {
                            ids.insert(id);
                        }
                    }
                }
            }
        }
        Ok(ids
            .into_iter()
            .filter(|id| self.check(id).is_ok())
            .collect())
    }

    /// Runs `f` for every tenant [`discover`](Self::discover) finds, at most `concurrency` at a time; see
    /// [`for_each_in`](Self::for_each_in).
    pub async fn for_each<F, Fut, R>(&self, concurrency: usize, f: F) -> Result<FleetReport<R>>
    where
        F: Fn(Tenant) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        let ids = self.discover().await?;
        Ok(self.for_each_in(ids, concurrency, f).await)
    }

    /// Runs `f` for every tenant in `ids`, at most `concurrency` at a time (at least one), and reports
    /// each tenant's outcome. A failure (or an invalid id) is recorded for its tenant and the others go on.
    ///
    /// The handles are built for the run and not cached, so a pass over the whole fleet does not push the
    /// tenants serving requests out of the cache.
    pub async fn for_each_in<I, S, F, Fut, R>(
        &self,
        ids: I,
        concurrency: usize,
        f: F,
    ) -> FleetReport<R>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
        F: Fn(Tenant) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        let f = &f;
        let outcomes: Vec<(String, Result<R>)> = stream::iter(ids)
            .map(|id| {
                let id = id.as_ref().to_owned();
                let tenant = self.build(&id);
                async move {
                    let outcome = match tenant {
                        Ok(tenant) => f(tenant).await,
                        Err(e) => Err(e),
                    };
                    (id, outcome)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut report = FleetReport {
            succeeded: Vec::new(),
            failed: Vec::new(),
        };
        for (id, outcome) in outcomes {
            match outcome {
                Ok(r) => report.succeeded.push((id, r)),
                Err(e) => report.failed.push((id, e)),
            }
        }
        report.succeeded.sort_by(|a, b| a.0.cmp(&b.0));
        report.failed.sort_by(|a, b| a.0.cmp(&b.0));
        report
    }
}

impl fmt::Debug for Tenants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenants")
            .field("strategy", &self.inner.strategy)
            .field("database", &self.inner.conn.name())
            .field("cached", &self.cached())
            .finish()
    }
}

/// What a fleet-wide run did for each tenant, sorted by tenant id.
#[derive(Debug)]
pub struct FleetReport<R> {
    /// The tenants whose step succeeded, with what it returned.
    pub succeeded: Vec<(String, R)>,
    /// The tenants whose step failed (or whose id is invalid), with the error.
    pub failed: Vec<(String, Error)>,
}

impl<R> FleetReport<R> {
    /// `true` when no tenant failed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }

    /// How many tenants the run covered.
    pub fn len(&self) -> usize {
        self.succeeded.len() + self.failed.len()
    }

    /// `true` when the run covered no tenant.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> String {
        match check_tenant_id(id) {
            Err(Error::InvalidTenant { rule, .. }) => rule,
            other => panic!("{id:?}: {other:?}"),
        }
    }

    #[test]
    fn ids_follow_the_rules() {
        for ok in ["acme", "Acme-42", "a_b", &"x".repeat(64)] {
            assert!(check_tenant_id(ok).is_ok(), "{ok}");
        }
        assert!(rule("").contains("empty"));
        assert!(rule("a.b").contains("'.'"));
        assert!(rule("a/b").contains("'/'"));
        assert!(rule("ünï").contains("ASCII letters"));
        assert!(rule(&"x".repeat(65)).contains("at most 64"));
        for reserved in ["admin", "local", "config", "Admin", "CONFIG"] {
            assert!(rule(reserved).contains("reserves"), "{reserved}");
        }
    }

    #[test]
    fn strategies_are_checked() {
        let bad = [
            Strategy::database_per_tenant("a.b"),
            Strategy::database_per_tenant("x".repeat(63)),
            Strategy::CollectionPerTenant {
                prefix: String::new(),
                separator: String::new(),
            },
            Strategy::CollectionPerTenant {
                prefix: "$".into(),
                separator: ".".into(),
            },
            Strategy::shared_collection_field("a.b"),
            Strategy::shared_collection_field("_id"),
            Strategy::shared_collection_field(""),
        ];
        for strategy in bad {
            assert!(
                matches!(strategy.check("app"), Err(Error::InvalidStrategy(_))),
                "{strategy:?}"
            );
        }
        assert!(Strategy::collection_per_tenant().check("app").is_ok());
        assert!(Strategy::shared_collection().check("app").is_ok());
        assert!(Strategy::database_per_tenant("").check("app").is_ok());
    }
}
