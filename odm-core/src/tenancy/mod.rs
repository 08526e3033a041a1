//! Tenants: one model, many customers. A [`Tenants`] handle applies a [`Strategy`] (a database per
//! tenant, a collection per tenant, or one shared collection with a tenant field) and hands out
//! [`Tenant`] handles whose models can only reach that tenant's data.
//!
//! `placement.rs` compiles a strategy once; `confine.rs` is what a tenant handle's pipeline does to
//! every command; `fleet.rs` works across every tenant; `registry.rs` spreads tenants over clusters.

pub(crate) mod confine;
mod fleet;
mod placement;
pub(crate) mod registry;

pub use fleet::FleetReport;

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use lru::LruCache;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;
use confine::Confinement;

use crate::observe::TenantLabel;
use placement::Placement;

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
    /// The strategy's name, as spans report it in `odm.strategy`: `database_per_tenant`,
    /// `collection_per_tenant` or `shared_collection`.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::DatabasePerTenant { .. } => "database_per_tenant",
            Strategy::CollectionPerTenant { .. } => "collection_per_tenant",
            Strategy::SharedCollection { .. } => "shared_collection",
        }
    }

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
}

fn is_tenant_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
}

/// Checks a tenant id against the rules every strategy shares: not empty, at most
/// [`MAX_TENANT_ID_LEN`] bytes, only lower-case ASCII letters, digits, `_` and `-`, and none of the names MongoDB
/// reserves (`admin`, `local`, `config`, in any case). [`Tenants::get`] checks these and the strategy's
/// own length bound.
pub fn check_tenant_id(id: &str) -> Result<()> {
    check_id(id, MAX_TENANT_ID_LEN, "")
}

pub(crate) fn check_id(id: &str, max: usize, why_max: &str) -> Result<()> {
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
        let rule = if c.is_ascii_uppercase() {
            format!(
                "it holds the capital {c:?}, and tenant ids are lower case: MongoDB refuses a second database whose name differs from another only in case, so `Acme` and `acme` cannot both be tenants under every strategy; use {:?}",
                id.to_ascii_lowercase()
            )
        } else {
            format!(
                "it holds {c:?}, and a tenant id may only hold lower-case ASCII letters, digits, `_` and `-`; map your tenant key to such an id (a slug, or a hex digest of the key)"
            )
        };
        return invalid(rule);
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
    confinement: Arc<Scope>,
}

/// What a tenant handle carries besides its connection: the confinement, and the tenant's labels for
/// spans and metrics. One allocation per tenant, shared by every model bound from it.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) confine: Confinement,
    pub(crate) tenant: TenantLabel,
    /// For a handle from a [`Fleet`](crate::Fleet): until when the catalogue's placement holds.
    pub(crate) lease: Option<Lease>,
}

/// How long a fleet's tenant handle may trust the placement it was resolved to.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    /// When the placement stops being confirmed (the catalogue's read, plus the lease).
    pub(crate) until: std::time::Instant,
    /// The fleet's lease, for the error.
    pub(crate) length: std::time::Duration,
    /// Shared by the tenant's handles from one fleet: revoked when the fleet learns that the tenant
    /// stopped serving where it was (a move's cut-over, a suspension, an erasure).
    pub(crate) grant: Arc<Grant>,
}

/// A fleet's grant of a tenant's placement to its handles: revocable, and counting the operations
/// that passed the lease check and have not finished, so a revocation can wait for them.
#[derive(Debug, Default)]
pub(crate) struct Grant {
    revoked: AtomicBool,
    in_flight: AtomicUsize,
}

impl Grant {
    /// Every handle of the grant refuses its next operation.
    pub(crate) fn revoke(&self) {
        self.revoked.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::SeqCst)
    }

    /// Waits until no operation that passed the lease check is still running, for at most `bound`;
    /// `false` when some still ran at the bound.
    pub(crate) async fn settled(&self, bound: std::time::Duration) -> bool {
        let until = std::time::Instant::now() + bound;
        while self.in_flight.load(Ordering::SeqCst) > 0 {
            if std::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        true
    }
}

/// One operation under a grant, from its lease check until it ends (the pipeline holds it).
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Grant>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Scope {
    /// Refuses an operation once the handle's lease is over or revoked; else counts it in flight
    /// until the returned guard drops.
    pub(crate) fn check_lease(&self) -> Result<Option<InFlight>> {
        let Some(lease) = &self.lease else {
            return Ok(None);
        };
        // Counted before the revocation is read: a revocation that comes after sees the operation.
        lease.grant.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(lease.grant.clone());
        if std::time::Instant::now() >= lease.until || lease.grant.is_revoked() {
            return Err(Error::LeaseExpired {
                id: self.tenant.id.to_string(),
                lease: lease.length,
            });
        }
        Ok(Some(guard))
    }
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
        ModelHandle::confined(self.conn.clone(), Some(self.confinement.clone()))
    }

    /// The same tenant, with its handles refusing every operation after `lease.until`.
    pub(crate) fn leased(&self, lease: Lease) -> Tenant {
        Tenant {
            id: self.id.clone(),
            conn: self.conn.clone(),
            confinement: Arc::new(Scope {
                confine: self.confinement.confine.clone(),
                tenant: self.confinement.tenant.clone(),
                lease: Some(lease),
            }),
        }
    }

    /// The confinement of the tenant's handles.
    pub(crate) fn confine(&self) -> &Confinement {
        &self.confinement.confine
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

    /// How many documents of model `T` the tenant stores, and their size: "who is big". Counted by the
    /// server over the tenant's documents only (one confined aggregation, `$bsonSize` of each document,
    /// so it reads every document of the tenant's: run it from an admin task, not per request). The
    /// sizes are of the documents as BSON, before compression and without indexes.
    pub async fn usage<T: Model>(&self) -> Result<Usage> {
        let totals = self.model::<T>().aggregate([Usage::group()]).await?;
        Ok(totals.first().map_or(Usage::default(), Usage::of_row))
    }
}

/// What a tenant stores of one model, from [`Tenant::usage`] or [`Tenants::usage`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// The tenant's documents.
    pub documents: u64,
    /// Their total size as BSON, in bytes.
    pub bytes: u64,
}

impl Usage {
    /// The aggregation stage that sums a collection's documents and their BSON size (over the
    /// tenant's documents alone, once the pipeline confines it).
    pub(crate) fn group() -> mongodb::bson::Document {
        mongodb::bson::doc! { "$group": {
            "_id": mongodb::bson::Bson::Null,
            "documents": { "$sum": 1 },
            "bytes": { "$sum": { "$bsonSize": "$$ROOT" } },
        } }
    }

    /// The usage [`group`](Self::group)'s row gives.
    pub(crate) fn of_row(row: &mongodb::bson::Document) -> Usage {
        Usage {
            documents: crate::ops::count_in(row, "documents"),
            bytes: crate::ops::count_in(row, "bytes"),
        }
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
    placement: Placement,
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
        let placement = Placement::compile(&strategy, conn.name())?;
        Ok(Tenants {
            inner: Arc::new(Inner {
                conn,
                strategy,
                placement,
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
        let mut cached = cache.lock().expect("tenant cache lock");
        cached.put(tenant.id.clone(), tenant.clone());
        let len = cached.len();
        drop(cached);
        crate::observe::tenant_cache_gauge(self.inner.conn.name(), len);
        Ok(tenant)
    }

    /// The usage of model `T` by each of `ids` ([`Tenant::usage`]), largest first: who is big. Runs one
    /// aggregation per tenant, one after the other.
    pub async fn usage<T: Model>(
        &self,
        ids: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<Vec<(String, Usage)>> {
        let mut out = Vec::new();
        for id in ids {
            let id = id.as_ref();
            out.push((id.to_owned(), self.get(id)?.usage::<T>().await?));
        }
        out.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// Checks `id` against every rule of this strategy, without building anything.
    pub fn check(&self, id: &str) -> Result<()> {
        self.inner.placement.check(id)
    }

    /// The longest tenant id this strategy accepts, in bytes.
    pub fn max_id_len(&self) -> usize {
        self.inner.placement.max_id_len()
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

    /// The compiled strategy, for the fleet's work.
    pub(crate) fn placement(&self) -> &Placement {
        &self.inner.placement
    }

    /// The tenant's handle, built without touching the cache.
    pub(crate) fn build(&self, id: &str) -> Result<Tenant> {
        self.check(id)?;
        let id: Arc<str> = Arc::from(id);
        let place = self.inner.placement.place(&self.inner.conn, &id)?;
        Ok(Tenant {
            id: id.clone(),
            conn: place.conn,
            confinement: Arc::new(Scope {
                confine: place.confinement,
                tenant: TenantLabel {
                    id: id.clone(),
                    strategy: self.inner.strategy.name(),
                },
                lease: None,
            }),
        })
    }

    /// Connections held by the cached handles and this `Tenants`, for a registry's idleness check.
    pub(crate) fn client_refs_held(&self) -> usize {
        1 + self.cached()
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
        for ok in ["acme", "acme-42", "a_b", &"x".repeat(64)] {
            assert!(check_tenant_id(ok).is_ok(), "{ok}");
        }
        assert!(rule("").contains("empty"));
        assert!(rule("a.b").contains("'.'"));
        assert!(rule("a/b").contains("'/'"));
        assert!(rule("ünï").contains("ASCII letters"));
        assert!(rule("Acme").contains("\"acme\""), "{}", rule("Acme"));
        assert!(rule(&"x".repeat(65)).contains("at most 64"));
        for reserved in ["admin", "local", "config"] {
            assert!(rule(reserved).contains("reserves"), "{reserved}");
        }
        for shouting in ["Admin", "CONFIG"] {
            assert!(rule(shouting).contains("lower case"), "{shouting}");
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
                matches!(
                    Placement::compile(&strategy, "app"),
                    Err(Error::InvalidStrategy(_))
                ),
                "{strategy:?}"
            );
        }
        for good in [
            Strategy::collection_per_tenant(),
            Strategy::shared_collection(),
            Strategy::database_per_tenant(""),
        ] {
            assert!(Placement::compile(&good, "app").is_ok(), "{good:?}");
        }
    }
}
