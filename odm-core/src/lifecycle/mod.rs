//! Tenant lifecycle: a [`Catalogue`] of tenants in a control database, and a [`Fleet`] that resolves
//! each request's tenant through it and provisions, suspends, erases, exports, imports and moves
//! tenants across placements, for every model of a [`ModelSet`].
//!
//! `models.rs` is the model set, `catalogue.rs` the catalogue, `dump.rs` export and import in
//! `mongodump`'s format, `moving.rs` the live move. Every read and write of a tenant's data goes through
//! the same pipeline as the models' operations, confined to the tenant.

mod catalogue;
mod dump;
mod follow;
mod migrate;
mod models;
mod moving;
mod top;

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;
use mongodb::bson::{doc, DateTime};
use tracing::Instrument;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::ops::pipeline::Pipeline;
use crate::schema::Schema;
use crate::tenancy::{Grant, Lease, Tenant, Tenants};

pub use catalogue::{Catalogue, MovePhase, MoveRecord, TenantEvent, TenantRecord, TenantState};
pub use dump::{DumpReport, DUMP_MANIFEST};
pub use follow::PROCESSES_COLLECTION;
pub use migrate::{
    LedgerEntry, MigrateOptions, MigrateProgress, MigrationReport, Migrations, TenantMigration,
    LEDGER_COLLECTION,
};
pub use models::{ModelSet, SetModel};
pub use moving::MoveReport;
pub use top::TenantTop;

/// How long a tenant handle from [`Fleet::tenant`] trusts its placement unless told otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(2);

/// How long [`Fleet::tenant`] holds a request for a tenant in a move's cut-over, unless told otherwise.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(10);

/// What a lifecycle step reports as it goes, for a progress bar: see [`FleetBuilder::progress`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Progress {
    /// The tenant.
    pub tenant: String,
    /// The step: `provision`, `erase`, `export`, `import`, `copy`, `catch-up`, `verify`, `cleanup`.
    pub step: &'static str,
    /// The collection (the model's own name), when the step works on one.
    pub collection: Option<&'static str>,
    /// Documents done so far in this step and collection.
    pub done: u64,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The tenants of an application, across one or more placements (a [`Tenants`] each: a strategy on a
/// cluster), resolved through a [`Catalogue`].
///
/// ```no_run
/// use odm_core::prelude::*;
/// use odm_core::{model_set, Fleet, ModelSet, Strategy, Tenants};
/// # #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// # #[model(collection = "users")]
/// # struct User { #[serde(rename = "_id", skip_serializing_if = "Option::is_none")] id: Option<ObjectId>, email: String }
///
/// static MODELS: ModelSet = model_set![User];
///
/// # async fn run() -> odm_core::Result<()> {
/// let conn = Connection::connect("mongodb://127.0.0.1:27017/app").await?;
/// let fleet = Fleet::builder(&conn.use_db("app_control")?, MODELS)
///     .placement("shared", Tenants::new(conn.clone(), Strategy::shared_collection())?)
///     .placement("dedicated", Tenants::new(conn.clone(), Strategy::database_per_tenant("t_"))?)
///     .default_placement("shared")
///     .build()?;
/// fleet.provision("acme", None).await?;                 // collections, validators, indexes; recorded
/// let users = fleet.tenant("acme").await?.model::<User>(); // resolved through the catalogue
/// users.create(User { id: None, email: "ann@acme.io".into() }).await?;
/// fleet.move_tenant("acme", "dedicated").await?;       // live: writers keep going
/// # Ok(()) }
/// ```
///
/// # Leases
///
/// [`Fleet::tenant`] reads the tenant's record (at most once per lease, [`DEFAULT_LEASE`], per process)
/// and hands out a handle that refuses every operation with [`Error::LeaseExpired`] once the lease is
/// over, or once the fleet revokes it. A handle that cannot confirm its placement refuses rather than
/// guesses. Take a tenant handle per request.
///
/// # Following
///
/// A fleet [follows](FleetBuilder::follow) the catalogue (the default): on its first use it registers
/// its process in the control database ([`PROCESSES_COLLECTION`]), writes a heartbeat there every
/// quarter lease, and follows the catalogue with a change stream. It hands out leases only while its
/// heartbeat is fresh, and its registration says so from its first lease on, so every process that may
/// hold a lease is registered as serving (one that only runs lifecycle steps is not). When a tenant stops
/// serving where it was (a move's cut-over, a suspension, an erasure), each following process revokes
/// the handles it handed out on it (they refuse their next operation with [`Error::LeaseExpired`]),
/// waits for its operations in flight on it to end, and (for a cut-over or an erasure) acknowledges in
/// its registration. A move's cut-over waits for every serving process's acknowledgement, and for a
/// process that does not give it (dead, or its stream down), until its leases have certainly ended: at
/// most a lease and a 250 ms grace. With following, a cut-over takes a fraction of a second at the
/// default lease, instead of the lease.
///
/// The shorter wait counts on every process of the service following: a process whose fleet does
/// not follow is not registered, and a following mover does not wait for it. Turn following on (or
/// off) in every process together, and move no tenant while a deployment mixes the two. The fleet's
/// background tasks stop, and its registration is deleted, when its last clone drops; the handles it
/// handed out refuse from then on.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Inner>,
}

struct Inner {
    catalogue: Catalogue,
    models: ModelSet,
    placements: BTreeMap<String, Tenants>,
    default_placement: Option<String>,
    open: bool,
    lease: Duration,
    hold: Duration,
    leases: Mutex<Leases>,
    progress: Option<ProgressFn>,
    /// The process's registration and tasks, when the fleet follows the catalogue.
    follower: Option<follow::Follower>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(follower) = &self.follower {
            let grants = match self.leases.get_mut() {
                Ok(leases) => leases.grants.drain().map(|(_, (g, _))| g).collect(),
                Err(_) => Vec::new(),
            };
            follow::retire(follower, grants, self.lease);
        }
    }
}

/// The fleet's resolutions and what it handed out.
struct Leases {
    cache: LruCache<String, (Tenant, Instant)>,
    /// Per tenant with a lease that may not have ended: the grant its handles check, and when its last
    /// lease ends.
    grants: HashMap<String, (Arc<Grant>, Instant)>,
    /// How many grants may be kept before the ended ones are dropped.
    prune_at: usize,
    /// Bumped by every revocation, so a resolution that read the catalogue before one reads it again.
    revocations: u64,
}

impl Leases {
    /// The tenant's grant, lasting at least `until`.
    fn grant(&mut self, id: &str, until: Instant) -> Arc<Grant> {
        if self.grants.len() >= self.prune_at {
            let now = Instant::now();
            self.grants.retain(|_, (_, ends)| *ends > now);
            self.prune_at = (self.grants.len() * 2).max(1024);
        }
        let (grant, ends) = self
            .grants
            .entry(id.to_owned())
            .or_insert_with(|| (Arc::default(), until));
        *ends = (*ends).max(until);
        grant.clone()
    }
}

/// Builds a [`Fleet`]: see [`Fleet::builder`].
#[must_use]
pub struct FleetBuilder {
    catalogue: Catalogue,
    models: ModelSet,
    placements: BTreeMap<String, Tenants>,
    default_placement: Option<String>,
    open: bool,
    lease: Duration,
    hold: Duration,
    cache: usize,
    progress: Option<ProgressFn>,
    follow: bool,
    control: Connection,
}

impl FleetBuilder {
    /// Adds a placement: where tenants placed under `name` live (a strategy on a connection, maybe on
    /// another cluster). The name is what the catalogue stores; keep it stable.
    pub fn placement(mut self, name: impl Into<String>, tenants: Tenants) -> Self {
        self.placements.insert(name.into(), tenants);
        self
    }

    /// The placement of a tenant provisioned without one named (default: the only placement, when
    /// there is one).
    pub fn default_placement(mut self, name: impl Into<String>) -> Self {
        self.default_placement = Some(name.into());
        self
    }

    /// Serves a tenant the catalogue does not know from the default placement, as [`Tenants::get`]
    /// does, instead of refusing it with [`Error::UnknownTenant`]: for a service moving onto the
    /// catalogue. A known tenant is still resolved through its record.
    pub fn open_to_unknown(mut self, open: bool) -> Self {
        self.open = open;
        self
    }

    /// Whether the fleet follows the catalogue (default `true`): registers its process, heartbeats,
    /// and revokes and acknowledges a tenant's handles as soon as the tenant stops serving where it was,
    /// so a move's cut-over waits for acknowledgements rather than a lease (see [`Fleet`]'s
    /// *Following*). Off, the fleet runs no background task and a cut-over waits a whole lease; every
    /// process of a service must choose the same.
    pub fn follow(mut self, follow: bool) -> Self {
        self.follow = follow;
        self
    }

    /// How long a resolved tenant handle trusts its placement ([`DEFAULT_LEASE`]). A move's cut-over
    /// waits at most this long for the processes that do not acknowledge it (without
    /// [following](Self::follow), it waits this long).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long [`Fleet::tenant`] holds a request while the tenant is in a move's cut-over before it
    /// gives up with [`Error::TenantUnavailable`] ([`DEFAULT_HOLD`]).
    pub fn hold(mut self, hold: Duration) -> Self {
        self.hold = hold;
        self
    }

    /// How many tenants' resolutions are kept (default 10,000).
    pub fn cache(mut self, tenants: usize) -> Self {
        self.cache = tenants;
        self
    }

    /// Calls `f` as lifecycle steps make progress (a terminal's progress bar).
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The fleet. Refuses a fleet with no placement, a default placement it does not have, or a model
    /// set that names one collection twice.
    pub fn build(self) -> Result<Fleet> {
        if self.placements.is_empty() {
            return Err(Error::InvalidStrategy(
                "a fleet needs at least one placement: add one with `FleetBuilder::placement`"
                    .into(),
            ));
        }
        if let Some(repeated) = self.models.repeated_collection() {
            return Err(Error::InvalidStrategy(format!(
                "the model set names collection `{repeated}` twice; list each model once (an enum model covers every kind of its collection)"
            )));
        }
        let default_placement = match self.default_placement {
            Some(name) if !self.placements.contains_key(&name) => {
                return Err(Error::InvalidStrategy(format!(
                    "the default placement `{name}` is not one of the fleet's: {}",
                    names(&self.placements)
                )))
            }
            Some(name) => Some(name),
            None if self.placements.len() == 1 => self.placements.keys().next().cloned(),
            None => None,
        };
        let cache = NonZeroUsize::new(self.cache.max(1)).expect("at least one");
        Ok(Fleet {
            inner: Arc::new(Inner {
                catalogue: self.catalogue,
                models: self.models,
                placements: self.placements,
                default_placement,
                open: self.open,
                lease: self.lease,
                hold: self.hold,
                leases: Mutex::new(Leases {
                    cache: LruCache::new(cache),
                    grants: HashMap::new(),
                    prune_at: 1024,
                    revocations: 0,
                }),
                progress: self.progress,
                follower: self.follow.then(|| follow::Follower::new(&self.control)),
            }),
        })
    }
}

fn names(placements: &BTreeMap<String, Tenants>) -> String {
    placements
        .keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What [`Fleet::erase`] removed and what it found left, per collection.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ErasureReport {
    /// The tenant.
    pub tenant: String,
    /// Per collection of the model set: the documents deleted.
    pub deleted: Vec<(&'static str, u64)>,
    /// Per collection: the tenant's documents found after the erasure (all zero, or the erasure failed).
    pub remaining: Vec<(&'static str, u64)>,
    /// Whether the tenant's namespaces were dropped too (its database, or its collections).
    pub dropped_namespaces: bool,
}

impl Fleet {
    /// A fleet whose catalogue lives in `control`'s database, storing the models of `models`.
    pub fn builder(control: &Connection, models: ModelSet) -> FleetBuilder {
        FleetBuilder {
            catalogue: Catalogue::new(control),
            models,
            placements: BTreeMap::new(),
            default_placement: None,
            open: false,
            lease: DEFAULT_LEASE,
            hold: DEFAULT_HOLD,
            cache: 10_000,
            progress: None,
            follow: true,
            control: control.clone(),
        }
    }

    /// This process's registration id in [`PROCESSES_COLLECTION`], when the fleet follows the catalogue.
    pub fn process_id(&self) -> Option<&str> {
        self.inner.follower.as_ref().map(|f| f.process.as_str())
    }

    /// The catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    /// The model set.
    pub fn models(&self) -> ModelSet {
        self.inner.models
    }

    /// Every model a tenant stores: the set's, and the migration ledger.
    pub(crate) fn stored(&self) -> impl Iterator<Item = &'static SetModel> + '_ {
        self.inner
            .models
            .models()
            .iter()
            .chain(migrate::LEDGER_MODEL.iter())
    }

    /// The placement `name`.
    pub fn placement(&self, name: &str) -> Result<&Tenants> {
        self.inner.placements.get(name).ok_or_else(|| {
            Error::InvalidStrategy(format!(
                "no placement `{name}` in this fleet; it has {}",
                names(&self.inner.placements)
            ))
        })
    }

    /// The names of the placements.
    pub fn placements(&self) -> impl Iterator<Item = &str> {
        self.inner.placements.keys().map(String::as_str)
    }

    /// The tenant `id`, where the catalogue places it, for one request.
    ///
    /// The handle refuses every operation once its lease is over ([`Error::LeaseExpired`]). An
    /// unknown tenant is [`Error::UnknownTenant`] (unless the fleet is
    /// [`open_to_unknown`](FleetBuilder::open_to_unknown)); a suspended, erased or provisioning one is
    /// [`Error::TenantUnavailable`]. While a move cuts the tenant over, the call waits (at most the
    /// fleet's hold) and then resolves to the new placement.
    pub async fn tenant(&self, id: &str) -> Result<Tenant> {
        crate::tenancy::check_tenant_id(id)?;
        self.start_following();
        if let Some(tenant) = self.leased(id) {
            return Ok(tenant);
        }
        let held_until = Instant::now() + self.inner.hold;
        loop {
            self.registered().await?;
            let revocations = self.leases().revocations;
            let read_at = Instant::now();
            let record = self.inner.catalogue.get(id).await?;
            let Some(record) = record else {
                if self.inner.open {
                    return self.placement(self.default_placement()?)?.get(id);
                }
                return Err(Error::UnknownTenant { id: id.to_owned() });
            };
            if serves(&record) {
                let tenant = self.placement(&record.placement)?.get(id)?;
                match self.hand_out(id, &tenant, read_at, revocations) {
                    Some(tenant) => return Ok(tenant),
                    // Revoked while the record was read: read it again.
                    None => continue,
                }
            }
            if record.state != TenantState::Moving {
                return Err(unavailable(&record));
            }
            if Instant::now() >= held_until {
                return Err(Error::TenantUnavailable {
                    id: id.to_owned(),
                    state: "moving".into(),
                    why: format!(
                        "its move's cut-over held the request for {:?}, the fleet's hold, without finishing; retry, or see the move with `tenant-admin list`",
                        self.inner.hold
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn leases(&self) -> std::sync::MutexGuard<'_, Leases> {
        self.inner.leases.lock().expect("lease cache lock")
    }

    /// A leased handle on `tenant` from a read of the catalogue started at `read_at`, unless a
    /// revocation came since the read started.
    fn hand_out(
        &self,
        id: &str,
        tenant: &Tenant,
        read_at: Instant,
        revocations: u64,
    ) -> Option<Tenant> {
        let mut leases = self.leases();
        if leases.revocations != revocations {
            return None;
        }
        let until = read_at + self.inner.lease;
        let lease = Lease {
            until,
            length: self.inner.lease,
            grant: leases.grant(id, until),
        };
        let tenant = tenant.leased(lease);
        leases.cache.put(id.to_owned(), (tenant.clone(), until));
        Some(tenant)
    }

    /// The cached handle, while at least a quarter of its lease is left: a request that takes it
    /// then has that long before the handle refuses.
    fn leased(&self, id: &str) -> Option<Tenant> {
        let mut leases = self.leases();
        match leases.cache.get(id) {
            Some((tenant, until)) if Instant::now() + self.inner.lease / 4 < *until => {
                Some(tenant.clone())
            }
            Some(_) => {
                leases.cache.pop(id);
                None
            }
            None => None,
        }
    }

    /// Drops the tenant's cached handle: its next request reads the catalogue.
    fn forget(&self, id: &str) {
        self.leases().cache.pop(id);
    }

    /// Drops the tenant's cached handle and revokes every lease this fleet handed out on it: its
    /// handles refuse their next operation. Returns the revoked grant, to wait for the operations in
    /// flight under it.
    fn revoke(&self, id: &str) -> Option<Arc<Grant>> {
        let mut leases = self.leases();
        leases.revocations += 1;
        leases.cache.pop(id);
        let (grant, _) = leases.grants.remove(id)?;
        grant.revoke();
        Some(grant)
    }

    fn default_placement(&self) -> Result<&str> {
        self.inner.default_placement.as_deref().ok_or_else(|| {
            Error::InvalidStrategy(format!(
                "the fleet has several placements and no default; name one ({}) or set `default_placement`",
                names(&self.inner.placements)
            ))
        })
    }

    /// The tenant at a placement, without the catalogue and without a lease: for lifecycle steps.
    pub(crate) fn at(&self, placement: &str, id: &str) -> Result<Tenant> {
        self.placement(placement)?.build(id)
    }

    fn report(
        &self,
        tenant: &str,
        step: &'static str,
        collection: Option<&'static str>,
        done: u64,
    ) {
        if let Some(progress) = &self.inner.progress {
            progress(&Progress {
                tenant: tenant.to_owned(),
                step,
                collection,
                done,
            });
        }
    }

    /// Records the tenant in the catalogue and creates its collections at `placement` (the default one
    /// when `None`), each with its model's validator and indexes (and, on a `mongos`, sharded: see
    /// [`ModelHandle::shard_collection`](crate::ModelHandle::shard_collection)), then marks it active. Idempotent: for
    /// an active tenant it checks the collections again and changes nothing that is right.
    pub async fn provision(&self, id: &str, placement: Option<&str>) -> Result<TenantRecord> {
        let span = tracing::info_span!(target: "odm", "odm.fleet.provision", tenant = id);
        async {
            crate::tenancy::check_tenant_id(id)?;
            let wanted = match placement {
                Some(p) => p,
                None => self.default_placement()?,
            };
            let tenants = self.placement(wanted)?;
            tenants.check(id)?;
            let record = self.inner.catalogue.record(id, wanted).await?;
            match record.state {
                TenantState::Provisioning | TenantState::Active => {}
                _ => return Err(unavailable(&record)),
            }
            if record.placement != wanted && record.state == TenantState::Active {
                return Err(Error::TenantUnavailable {
                    id: id.to_owned(),
                    state: record.state.to_string(),
                    why: format!(
                        "it is placed at `{}`, not `{wanted}`; move it there with `Fleet::move_tenant`",
                        record.placement
                    ),
                });
            }
            let tenant = self.at(&record.placement, id)?;
            self.provision_models(&tenant).await?;
            if record.state == TenantState::Active {
                return Ok(record);
            }
            self.inner
                .catalogue
                .transition(
                    id,
                    &[TenantState::Provisioning],
                    TenantState::Active,
                    doc! {},
                    "provisioned",
                )
                .await
        }
        .instrument(span)
        .await
    }

    async fn provision_models(&self, tenant: &Tenant) -> Result<()> {
        for model in self.stored() {
            (model.provision)(tenant).await?;
            self.report(tenant.id(), "provision", Some(model.schema.collection), 0);
        }
        Ok(())
    }

    /// Suspends an active tenant: [`Fleet::tenant`] refuses it (in every process, within a lease;
    /// at once in this process and, when they follow the catalogue, in the others) until
    /// [`resume`](Self::resume). Its data stays.
    pub async fn suspend(&self, id: &str, reason: &str) -> Result<TenantRecord> {
        let record = self
            .inner
            .catalogue
            .transition(
                id,
                &[TenantState::Active],
                TenantState::Suspended,
                doc! {},
                reason,
            )
            .await?;
        self.revoke(id);
        Ok(record)
    }

    /// Serves a suspended tenant again.
    pub async fn resume(&self, id: &str) -> Result<TenantRecord> {
        self.inner
            .catalogue
            .transition(
                id,
                &[TenantState::Suspended],
                TenantState::Active,
                doc! {},
                "resumed",
            )
            .await
    }

    /// Erases the tenant: every document of every model of the set, then its namespaces (its database,
    /// or its collections; a shared collection stays, holding the other tenants), then counts what is
    /// left of it, and marks it erased in the catalogue (its history stays). Refuses a tenant in a move.
    ///
    /// The tenant stops serving first (state `erasing`): the erasure waits until every process let go
    /// of it (acknowledged, when they follow the catalogue; at most a lease), and an erasure that fails
    /// half-way can be run again.
    pub async fn erase(&self, id: &str) -> Result<ErasureReport> {
        let span = tracing::info_span!(target: "odm", "odm.fleet.erase", tenant = id);
        async {
            let since = self.stamp().await?;
            let record = self
                .inner
                .catalogue
                .transition(
                    id,
                    &[
                        TenantState::Active,
                        TenantState::Suspended,
                        TenantState::Provisioning,
                        TenantState::Erasing,
                    ],
                    TenantState::Erasing,
                    doc! {},
                    "erasing",
                )
                .await?;
            // Once every process let go of its leases, nothing writes to the tenant.
            self.release(id, record.version, since, Instant::now())
                .await?;
            let tenant = self.at(&record.placement, id)?;
            let report = self.erase_at(&tenant).await?;
            if report.remaining.iter().any(|(_, n)| *n > 0) {
                return Err(Error::TenantUnavailable {
                    id: id.to_owned(),
                    state: "erasing".into(),
                    why: format!(
                        "documents remained after the erasure ({:?}); run the erasure again",
                        report.remaining
                    ),
                });
            }
            self.inner
                .catalogue
                .transition(
                    id,
                    &[TenantState::Erasing],
                    TenantState::Erased,
                    doc! {},
                    "erased",
                )
                .await?;
            Ok(report)
        }
        .instrument(span)
        .await
    }

    /// Deletes everything of `tenant` where it is, drops what namespaces are its own, and counts what
    /// is left.
    async fn erase_at(&self, tenant: &Tenant) -> Result<ErasureReport> {
        let mut report = ErasureReport {
            tenant: tenant.id().to_owned(),
            ..ErasureReport::default()
        };
        let shared = tenant.confine().is_shared();
        let own_database = tenant.confine().is_own_database();
        for schema in self.stored().map(|m| m.schema) {
            let mut p = pipeline(tenant, schema)?;
            let deleted = p.delete(doc! {}, true).await?.deleted_count;
            if !shared && !own_database {
                p.drop_collection().await?;
            }
            report.deleted.push((schema.collection, deleted));
            self.report(tenant.id(), "erase", Some(schema.collection), deleted);
        }
        if own_database {
            let first = self.stored().map(|m| m.schema).next();
            if let Some(schema) = first {
                pipeline(tenant, schema)?.drop_database().await?;
            }
        }
        report.dropped_namespaces = !shared;
        for schema in self.stored().map(|m| m.schema) {
            let mut p = pipeline(tenant, schema)?;
            let left = p.count(doc! {}).await?;
            let exists = !shared && p.collection_exists().await?;
            report
                .remaining
                .push((schema.collection, left + u64::from(exists && left == 0)));
        }
        Ok(report)
    }

    /// Every tenant of the catalogue with, for those that hold data, the documents and bytes they
    /// store across the model set: "who is big".
    pub async fn list(&self) -> Result<Vec<(TenantRecord, crate::tenancy::Usage)>> {
        let mut out = Vec::new();
        for record in self.inner.catalogue.list().await? {
            let usage = match record.state {
                TenantState::Erased => crate::tenancy::Usage::default(),
                _ => self.usage(&record).await?,
            };
            out.push((record, usage));
        }
        Ok(out)
    }

    async fn usage(&self, record: &TenantRecord) -> Result<crate::tenancy::Usage> {
        let tenant = self.at(&record.placement, &record.id)?;
        let mut total = crate::tenancy::Usage::default();
        for schema in self.stored().map(|m| m.schema) {
            let totals = pipeline(&tenant, schema)?
                .aggregate(vec![crate::tenancy::Usage::group()])
                .await?;
            if let Some(usage) = totals.first().map(crate::tenancy::Usage::of_row) {
                total.documents += usage.documents;
                total.bytes += usage.bytes;
            }
        }
        Ok(total)
    }
}

/// Whether a tenant in this record serves requests where its placement says.
fn serves(record: &TenantRecord) -> bool {
    match record.state {
        TenantState::Active => true,
        TenantState::Moving => record
            .moving
            .as_ref()
            .is_some_and(|m| m.phase == MovePhase::Copy),
        _ => false,
    }
}

/// A pipeline to the tenant's collection of `schema`: lifecycle steps reach a tenant's data only
/// through it, confined like every model operation.
fn pipeline<'a>(tenant: &'a Tenant, schema: &'static Schema) -> Result<Pipeline<'a>> {
    Pipeline::new(
        tenant.connection(),
        tenant.confine(),
        schema.collection,
        None,
        crate::Settings::of(schema),
    )
}

fn unavailable(record: &TenantRecord) -> Error {
    let why = match record.state {
        TenantState::Suspended => "it is refused until resumed (`Fleet::resume`)",
        TenantState::Provisioning => {
            "its provisioning has not finished; run `Fleet::provision` again"
        }
        TenantState::Erasing | TenantState::Erased => "its data is erased",
        TenantState::Moving => "it is being moved",
        TenantState::Active => "it is active",
    };
    Error::TenantUnavailable {
        id: record.id.clone(),
        state: record.state.to_string(),
        why: why.into(),
    }
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("models", &self.inner.models)
            .field("placements", &self.inner.placements.keys())
            .field("lease", &self.inner.lease)
            .field("process", &self.process_id())
            .finish()
    }
}

/// The current time, for records.
fn now() -> DateTime {
    DateTime::now()
}
