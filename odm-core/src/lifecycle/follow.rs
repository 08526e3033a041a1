//! Following the catalogue. A fleet that follows (the default, [`FleetBuilder::follow`]) registers its
//! process in the control database ([`PROCESSES_COLLECTION`]), writes a heartbeat there, and follows the
//! catalogue with a change stream: when a tenant stops serving where it was (a move's cut-over, a
//! suspension, an erasure), the process revokes the leases it handed out on it, waits for its operations
//! in flight on it to end, and (for a cut-over or an erasure, which wait for it) acknowledges. A move's
//! cut-over waits for those acknowledgements instead
//! of a whole lease, and for a process that does not acknowledge (dead, or its stream down), until its
//! leases have certainly ended: never longer than a lease.
//!
//! [`FleetBuilder::follow`]: crate::FleetBuilder::follow

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use super::{serves, Fleet, Inner, TenantRecord, TenantState};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::ops::watch::ChangeEvent;
use crate::tenancy::Grant;

/// The collection of the control database where following processes register: one document per
/// process, `{ _id, heartbeat, lease_ms, serves, acks: { <tenant>: <record version> } }` (`serves` once
/// it may have handed out a lease).
pub const PROCESSES_COLLECTION: &str = "_fleet_processes";

/// How long past a lease a cut-over waits for writes in flight from a process that did not
/// acknowledge (one that did has seen its operations on the tenant end).
pub(crate) const IN_FLIGHT_GRACE: Duration = Duration::from_millis(250);

/// How often a waiting cut-over reads the registrations again.
const POLL: Duration = Duration::from_millis(10);

/// How long a registration may go without a heartbeat before a following process deletes it.
const FORGOTTEN: Duration = Duration::from_secs(600);

/// A process's registration.
#[derive(Debug, Clone, Serialize, Deserialize, crate::Model)]
#[model(collection = "_fleet_processes")]
pub(crate) struct ProcessRecord {
    #[serde(rename = "_id")]
    pub(crate) id: String,
    /// The server's time at its last heartbeat.
    #[serde(default)]
    pub(crate) heartbeat: Option<DateTime>,
    /// Its fleet's lease, in milliseconds.
    #[serde(default)]
    pub(crate) lease_ms: i64,
    /// Whether it may have handed out a lease (a process that only runs lifecycle steps never does).
    #[serde(default)]
    pub(crate) serves: bool,
    /// Per tenant, the latest record version whose revocation it acknowledged.
    #[serde(default)]
    pub(crate) acks: Document,
}

impl ProcessRecord {
    fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms.max(0) as u64)
    }

    fn acknowledged(&self, tenant: &str) -> i64 {
        match self.acks.get(tenant) {
            Some(Bson::Int64(v)) => *v,
            Some(Bson::Int32(v)) => i64::from(*v),
            _ => -1,
        }
    }
}

/// A following fleet's registration and background tasks.
pub(crate) struct Follower {
    pub(crate) process: String,
    registry: ModelHandle<ProcessRecord>,
    /// When the latest heartbeat the server confirmed was sent.
    beat: Mutex<Option<Instant>>,
    /// Held while a heartbeat is written: one at a time (concurrent upserts of one registration race).
    beating: tokio::sync::Mutex<()>,
    /// Whether the registration says the process serves requests: set by the first heartbeat written
    /// before a lease is handed out, and from then on by every heartbeat.
    serves: AtomicBool,
    /// Whether a heartbeat was written: the registration exists.
    registered: AtomicBool,
    /// Whether the tasks were started.
    started: AtomicBool,
    /// The heartbeat and follower tasks, once started (on the fleet's first use in a runtime).
    tasks: Mutex<Option<Vec<tokio::task::AbortHandle>>>,
    /// The tenants acknowledged in the registration, whose acknowledgement goes when they serve again.
    acked: Mutex<HashSet<String>>,
}

impl Follower {
    pub(crate) fn new(control: &Connection) -> Follower {
        Follower {
            process: format!("{}-{}", std::process::id(), ObjectId::new().to_hex()),
            registry: control.model::<ProcessRecord>(),
            beat: Mutex::new(None),
            beating: tokio::sync::Mutex::new(()),
            serves: AtomicBool::new(false),
            registered: AtomicBool::new(false),
            started: AtomicBool::new(false),
            tasks: Mutex::new(None),
            acked: Mutex::new(HashSet::new()),
        }
    }

    /// Writes the process's heartbeat; returns the server's time it wrote.
    async fn beat(&self, lease: Duration) -> Result<DateTime> {
        let _one = self.beating.lock().await;
        self.beat_alone(lease).await
    }

    /// [`beat`](Self::beat), with `beating` held.
    async fn beat_alone(&self, lease: Duration) -> Result<DateTime> {
        let serves = self.serves.load(Ordering::SeqCst);
        let sent = Instant::now();
        let record = self
            .registry
            .find_one_and_update(
                doc! { "_id": &self.process },
                doc! {
                    "$currentDate": { "heartbeat": true },
                    "$set": { "lease_ms": lease.as_millis() as i64, "serves": serves },
                },
            )
            .upsert(true)
            .return_after()
            .await?;
        self.registered.store(true, Ordering::SeqCst);
        if serves {
            let mut beat = self.beat.lock().expect("heartbeat lock");
            if beat.is_none_or(|b| b < sent) {
                *beat = Some(sent);
            }
        }
        record
            .and_then(|r| r.heartbeat)
            .ok_or_else(|| Error::TenantUnavailable {
                id: self.process.clone(),
                state: "unregistered".into(),
                why: "the control database did not keep the process's heartbeat".into(),
            })
    }

    fn last_beat(&self) -> Option<Instant> {
        *self.beat.lock().expect("heartbeat lock")
    }

    async fn acknowledge(&self, tenant: &str, version: i64) -> Result<()> {
        self.acked
            .lock()
            .expect("ack lock")
            .insert(tenant.to_owned());
        self.registry
            .update_one(
                doc! { "_id": &self.process },
                doc! { "$max": { format!("acks.{tenant}"): version } },
            )
            .await
            .map(drop)
    }

    /// Drops the tenant's acknowledgement once it serves again, so the registration holds only those of
    /// tenants stopped now.
    async fn serving_again(&self, tenant: &str) -> Result<()> {
        if !self.acked.lock().expect("ack lock").remove(tenant) {
            return Ok(());
        }
        self.registry
            .update_one(
                doc! { "_id": &self.process },
                doc! { "$unset": { format!("acks.{tenant}"): "" } },
            )
            .await
            .map(drop)
    }

    /// The other registered processes that may still hold a lease on `tenant` from before its record's
    /// `version`: not acknowledged, and heartbeating recently enough before `since` (the server's time,
    /// no later than the change) to have handed one out.
    async fn pending(
        &self,
        tenant: &str,
        version: i64,
        since: DateTime,
    ) -> Result<Vec<ProcessRecord>> {
        let others = self
            .registry
            .find(doc! { "_id": { "$ne": &self.process } })
            .await?;
        Ok(others
            .into_iter()
            .filter(|p| {
                // A process hands out leases only within a lease of its heartbeat, each lasting a
                // lease: past twice its lease since its heartbeat, it holds none.
                let window = (2 * p.lease() + IN_FLIGHT_GRACE).as_millis() as i64;
                p.serves
                    && p.heartbeat
                        .is_some_and(|h| h.timestamp_millis() + window >= since.timestamp_millis())
                    && p.acknowledged(tenant) < version
            })
            .collect())
    }

    /// Deletes the registrations of processes gone for long (a crash leaves one behind).
    async fn prune(&self, now: DateTime) -> Result<()> {
        let before = DateTime::from_millis(now.timestamp_millis() - FORGOTTEN.as_millis() as i64);
        self.registry
            .delete_many(doc! { "heartbeat": { "$lt": before } })
            .await
            .map(drop)
    }

    fn stop(&self) -> bool {
        match self.tasks.lock().expect("task lock").take() {
            Some(tasks) => {
                tasks.iter().for_each(tokio::task::AbortHandle::abort);
                true
            }
            None => self.registered.load(Ordering::SeqCst),
        }
    }
}

impl Fleet {
    /// Starts the heartbeat and the catalogue's follower, once, when the fleet is first used in a
    /// runtime. The tasks hold the fleet weakly and are aborted when its last clone drops.
    pub(super) fn start_following(&self) {
        let Some(follower) = &self.inner.follower else {
            return;
        };
        // Every request passes here: once started, one atomic read.
        if follower.started.load(Ordering::Acquire) {
            return;
        }
        let mut tasks = follower.tasks.lock().expect("task lock");
        if tasks.is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let fleet = Arc::downgrade(&self.inner);
        *tasks = Some(vec![
            runtime.spawn(heartbeats(fleet.clone())).abort_handle(),
            runtime.spawn(follow(fleet)).abort_handle(),
        ]);
        follower.started.store(true, Ordering::Release);
    }

    /// Confirms, before a read of the catalogue, that this process's registration is fresh enough to
    /// hand out a lease from that read (a heartbeat the server confirmed, sent less than half a lease
    /// ago), writing a heartbeat when it is not.
    pub(super) async fn registered(&self) -> Result<()> {
        let Some(follower) = &self.inner.follower else {
            return Ok(());
        };
        let fresh = || {
            follower
                .last_beat()
                .is_some_and(|b| b.elapsed() < self.inner.lease / 2)
        };
        if fresh() {
            return Ok(());
        }
        // Requests arriving together wait for one heartbeat.
        let _one = follower.beating.lock().await;
        if fresh() {
            return Ok(());
        }
        // From this heartbeat on, the registration says the process may hold leases.
        follower.serves.store(true, Ordering::SeqCst);
        follower.beat_alone(self.inner.lease).await.map(drop)
    }

    /// Before a change that stops a tenant serving: the server's time (a heartbeat of this process),
    /// which the release measures the other processes' heartbeats against. `None` without following.
    pub(super) async fn stamp(&self) -> Result<Option<DateTime>> {
        match &self.inner.follower {
            Some(follower) => follower.beat(self.inner.lease).await.map(Some),
            None => Ok(None),
        }
    }

    /// After the catalogue's record of tenant `id` says it stopped serving where it was (record
    /// `version`, written after `since` and confirmed at `marked`): revokes this process's leases on
    /// it and waits for its operations in flight, then waits until no other process can still use a
    /// lease on it: each registered process acknowledged `version`, or its leases have certainly ended
    /// (a lease past `marked`, plus a grace for writes in flight). Without following, waits a lease
    /// and the grace. Returns how long it waited.
    pub(super) async fn release(
        &self,
        id: &str,
        version: i64,
        since: Option<DateTime>,
        marked: Instant,
    ) -> Result<Duration> {
        let lease = self.inner.lease;
        if let Some(grant) = self.revoke(id) {
            grant.settled(lease).await;
        }
        let (Some(follower), Some(since)) = (&self.inner.follower, since) else {
            tokio::time::sleep_until((marked + lease + IN_FLIGHT_GRACE).into()).await;
            return Ok(marked.elapsed());
        };
        loop {
            let pending = follower.pending(id, version, since).await?;
            let now = Instant::now();
            let waiting = pending
                .iter()
                .filter(|p| now < marked + p.lease() + IN_FLIGHT_GRACE)
                .count();
            if waiting == 0 {
                return Ok(marked.elapsed());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Once the catalogue's stream is open: reads again the records of the tenants this fleet holds a
    /// grant on, and handles each as a change, so a change made before the stream opened is not missed.
    async fn reconcile(&self) -> Result<()> {
        let ids: Vec<String> = {
            let mut leases = self.leases();
            // A resolution whose read started before now reads again, after the stream opened.
            leases.revocations += 1;
            leases.cache.clear();
            leases.grants.keys().cloned().collect()
        };
        if ids.is_empty() {
            return Ok(());
        }
        let records = self.inner.catalogue.records(&ids).await?;
        for id in &ids {
            if !records.iter().any(|r| &r.id == id) {
                self.changed(ChangeEvent::Delete {
                    id: Bson::String(id.clone()),
                })
                .await;
            }
        }
        for record in records {
            self.changed(ChangeEvent::Replace(record)).await;
        }
        Ok(())
    }

    /// What the follower does with a change to the catalogue: a tenant that still serves where it was
    /// read again at its next request; one that stopped is revoked, its operations in flight awaited,
    /// and the change acknowledged.
    async fn changed(&self, event: ChangeEvent<TenantRecord>) {
        let (id, record) = match event {
            ChangeEvent::Insert(r) | ChangeEvent::Replace(r) => (r.id.clone(), Some(r)),
            ChangeEvent::Update {
                full_document: Some(r),
                ..
            } => (r.id.clone(), Some(r)),
            ChangeEvent::Update {
                id: Bson::String(id),
                ..
            }
            | ChangeEvent::Delete {
                id: Bson::String(id),
            } => (id, None),
            _ => return,
        };
        if record.as_ref().is_some_and(serves) {
            self.forget(&id);
            if let Some(follower) = &self.inner.follower {
                let _ = follower.serving_again(&id).await;
            }
            return;
        }
        if let Some(grant) = self.revoke(&id) {
            if !grant.settled(self.inner.lease).await {
                // Still running at the lease: no acknowledgement, so a cut-over waits out the lease.
                return;
            }
        }
        // Only a cut-over and an erasure wait for acknowledgements.
        let awaited =
            |r: &TenantRecord| matches!(r.state, TenantState::Moving | TenantState::Erasing);
        if let (Some(record), Some(follower)) = (record.filter(awaited), &self.inner.follower) {
            if let Err(e) = follower.acknowledge(&id, record.version).await {
                tracing::warn!(target: "odm", tenant = id, error = %e, "could not acknowledge a tenant's revocation; its cut-over waits out the lease");
            }
        }
    }
}

/// Writes the heartbeat every quarter lease while the fleet lives.
async fn heartbeats(fleet: Weak<Inner>) {
    let mut beats = 0u64;
    loop {
        let lease = {
            let Some(inner) = fleet.upgrade() else {
                return;
            };
            let Some(follower) = &inner.follower else {
                return;
            };
            match follower.beat(inner.lease).await {
                Ok(now) if beats.is_multiple_of(64) => {
                    let _ = follower.prune(now).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(target: "odm", error = %e, "the fleet's heartbeat failed; it hands out no lease until one succeeds")
                }
            }
            inner.lease
        };
        beats += 1;
        tokio::time::sleep(lease / 4).await;
    }
}

/// Follows the catalogue's changes while the fleet lives, opening the stream again when it fails.
async fn follow(fleet: Weak<Inner>) {
    loop {
        let opened = match fleet.upgrade() {
            Some(inner) => {
                let fleet = Fleet { inner };
                let opened = fleet.inner.catalogue.watch().await;
                if opened.is_ok() {
                    // Changes made before the stream opened are not in it: read them.
                    if let Err(e) = fleet.reconcile().await {
                        tracing::warn!(target: "odm", error = %e, "cannot read the catalogue after following it again; its handles keep their leases");
                    }
                }
                opened
            }
            None => return,
        };
        let mut stream = match opened {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(target: "odm", error = %e, "cannot follow the catalogue; cut-overs wait out the lease for this process");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        while let Some(event) = stream.next().await {
            let Some(inner) = fleet.upgrade() else {
                return;
            };
            match event {
                Ok(event) => Fleet { inner }.changed(event).await,
                Err(e) => {
                    tracing::warn!(target: "odm", error = %e, "the catalogue's change stream failed; opening it again");
                    break;
                }
            }
        }
    }
}

/// When a following fleet's last clone drops: its tasks stop, its handles are revoked, and its
/// registration is deleted once their operations in flight ended, so no cut-over waits for it.
pub(super) fn retire(follower: &Follower, grants: Vec<Arc<Grant>>, lease: Duration) {
    grants.iter().for_each(|g| g.revoke());
    if !follower.stop() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (registry, process) = (follower.registry.clone(), follower.process.clone());
    runtime.spawn(async move {
        for grant in grants {
            grant.settled(lease).await;
        }
        let _ = registry.delete_one(doc! { "_id": process }).await;
    });
}
