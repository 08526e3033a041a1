//! Versioned data migrations across a fleet: [`Migrations`] is an ordered list of named steps, each run
//! once per tenant and recorded in the tenant's ledger (collection [`LEDGER_COLLECTION`], stored where
//! the tenant's data lives, so a moved or exported tenant carries its history).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, StreamExt};
use mongodb::bson::{doc, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::{Fleet, SetModel, TenantState};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::tenancy::{Tenant, Tenants};
use crate::transaction::Transaction;

/// The collection of each tenant's migration ledger (with the tenant's prefix, or its tenant field, like
/// any model).
pub const LEDGER_COLLECTION: &str = "_migrations";

/// One step a tenant ran: an entry of its ledger.
#[derive(Debug, Clone, Serialize, Deserialize, crate::Model)]
#[model(collection = "_migrations")]
#[non_exhaustive]
pub struct LedgerEntry {
    /// `{tenant}/{step}`: unique across a shared collection too, so a step is recorded once.
    #[serde(rename = "_id")]
    pub id: String,
    /// The step's name.
    pub step: String,
    /// The step's version, as declared when it ran.
    pub version: i64,
    /// A checksum of the step's name and version: a step changed since it ran is reported, never
    /// rerun.
    pub checksum: String,
    /// When it started.
    pub started_at: DateTime,
    /// When it finished.
    pub finished_at: DateTime,
    /// How long it ran, in milliseconds.
    pub duration_ms: i64,
}

/// The ledger as a model every fleet stores beside the set's.
pub(crate) static LEDGER_MODEL: [SetModel; 1] = [SetModel::of::<LedgerEntry>()];

type Run = Arc<dyn Fn(Tenant, Option<Transaction>) -> BoxFuture<'static, Result<()>> + Send + Sync>;

struct Step {
    name: &'static str,
    version: i64,
    atomic: bool,
    run: Run,
}

impl Step {
    fn checksum(&self) -> String {
        let text = format!("{}\u{0}{}", self.name, self.version);
        format!("{:016x}", super::dump::document_hash(text.as_bytes()))
    }
}

/// An ordered list of named migration steps, declared next to the models.
///
/// A step is an async function of a tenant. [`step`](Self::step) runs it in a transaction together with
/// its ledger entry, so a step interrupted anywhere (the process killed, the server down) left nothing
/// and runs again whole: every document is migrated exactly once. [`step_idempotent`](Self::step_idempotent)
/// runs without a transaction, for a step too big for one that is safe to run again; the helpers
/// ([`rename_field`](Self::rename_field), [`set_default`](Self::set_default),
/// [`backfill`](Self::backfill), [`change_type`](Self::change_type), [`sync_schema`](Self::sync_schema),
/// [`add_indexes`](Self::add_indexes))
/// are such steps.
///
/// ```no_run
/// use odm_core::prelude::*;
/// use odm_core::Migrations;
/// # #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// # #[model(collection = "users")]
/// # struct User { #[serde(rename = "_id", skip_serializing_if = "Option::is_none")] id: Option<ObjectId>, name: String, plan: String }
/// fn migrations() -> Migrations {
///     Migrations::new()
///         .rename_field::<User>("rename-fullname", 1, "fullname", "name")
///         .set_default::<User>("default-plan", 1, "plan", "free")
///         .step("trim-names", 1, |tenant, tx| async move {
///             let users = tenant.model::<User>();
///             let mut s = tx.session().await;
///             users.update_many((), vec![doc! { "$set": { "name": { "$trim": { "input": "$name" } } } }])
///                 .session(&mut s)
///                 .await?;
///             Ok(())
///         })
/// }
/// ```
#[derive(Default, Clone)]
pub struct Migrations {
    steps: Vec<Arc<Step>>,
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.steps.iter().map(|s| (s.name, s.version)))
            .finish()
    }
}

impl Migrations {
    /// No steps yet.
    pub fn new() -> Migrations {
        Migrations::default()
    }

    /// The steps' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.steps.iter().map(|s| s.name)
    }

    fn push(mut self, name: &'static str, version: i64, atomic: bool, run: Run) -> Self {
        assert!(
            self.steps.iter().all(|s| s.name != name),
            "migration step `{name}` is declared twice; give each step its own name"
        );
        self.steps.push(Arc::new(Step {
            name,
            version,
            atomic,
            run,
        }));
        self
    }

    /// A step run in a transaction with its ledger entry: pass the transaction's session to each of
    /// its operations (`.session(&mut tx.session().await)`). Bump `version` when you change a step
    /// that may have run: tenants that ran the old one are reported, not migrated again.
    pub fn step<F, Fut>(self, name: &'static str, version: i64, f: F) -> Self
    where
        F: Fn(Tenant, Transaction) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let run: Run = Arc::new(move |tenant, tx| {
            let tx = tx.expect("an atomic step runs in a transaction");
            Box::pin(f(tenant, tx))
        });
        self.push(name, version, true, run)
    }

    /// A step run without a transaction, which must be safe to run again: interrupted, it runs again
    /// whole on the next run.
    pub fn step_idempotent<F, Fut>(self, name: &'static str, version: i64, f: F) -> Self
    where
        F: Fn(Tenant) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let run: Run = Arc::new(move |tenant, _| Box::pin(f(tenant)));
        self.push(name, version, false, run)
    }

    /// Renames a field of model `T`'s documents (those that still have it).
    pub fn rename_field<T: Model>(
        self,
        name: &'static str,
        version: i64,
        from: &'static str,
        to: &'static str,
    ) -> Self {
        self.step_idempotent(name, version, move |tenant| async move {
            tenant
                .model::<T>()
                .update_many(
                    doc! { from: { "$exists": true } },
                    doc! { "$rename": { from: to } },
                )
                .await
                .map(drop)
        })
    }

    /// Sets a field of model `T`'s documents that do not have it.
    pub fn set_default<T: Model>(
        self,
        name: &'static str,
        version: i64,
        path: &'static str,
        value: impl Into<Bson> + Clone + Send + Sync + 'static,
    ) -> Self {
        self.step_idempotent(name, version, move |tenant| {
            let value = value.clone().into();
            async move {
                tenant
                    .model::<T>()
                    .update_many(
                        doc! { path: { "$exists": false } },
                        doc! { "$set": { path: value } },
                    )
                    .await
                    .map(drop)
            }
        })
    }

    /// Computes a field of model `T`'s documents that do not have it from their other fields, with an
    /// aggregation expression: `backfill::<User>("full-name", 1, "name", doc! { "$concat": ["$first",
    /// " ", "$last"] })`.
    pub fn backfill<T: Model>(
        self,
        name: &'static str,
        version: i64,
        path: &'static str,
        expression: Document,
    ) -> Self {
        self.step_idempotent(name, version, move |tenant| {
            let expression = expression.clone();
            async move {
                tenant
                    .model::<T>()
                    .update_many(
                        doc! { path: { "$exists": false } },
                        vec![doc! { "$set": { path: expression } }],
                    )
                    .await
                    .map(drop)
            }
        })
    }

    /// Converts a field of model `T`'s documents to the BSON type named `to` (`"int"`, `"long"`,
    /// `"double"`, `"decimal"`, `"string"`, `"date"`, `"objectId"`, `"bool"`), where it has another type.
    pub fn change_type<T: Model>(
        self,
        name: &'static str,
        version: i64,
        path: &'static str,
        to: &'static str,
    ) -> Self {
        self.step_idempotent(name, version, move |tenant| async move {
            tenant
                .model::<T>()
                .update_many(
                    doc! { path: { "$exists": true, "$not": { "$type": to } } },
                    vec![doc! { "$set": { path: { "$convert": { "input": format!("${path}"), "to": to } } } }],
                )
                .await
                .map(drop)
        })
    }

    /// Applies model `T`'s `$jsonSchema` validator (as [`sync_schema`](crate::ModelHandle::sync_schema)):
    /// the first step of an expand/contract change, so the documents the next steps reshape pass the
    /// new validator. Fields with serde's `default` are not required by it, so documents of the old
    /// shape stay valid.
    pub fn sync_schema<T: Model>(self, name: &'static str, version: i64) -> Self {
        self.step_idempotent(name, version, move |tenant| async move {
            tenant.model::<T>().sync_schema().await
        })
    }

    /// Creates the indexes model `T` declares and drops those it does not (as
    /// [`sync_indexes`](crate::ModelHandle::sync_indexes)).
    pub fn add_indexes<T: Model>(self, name: &'static str, version: i64) -> Self {
        self.step_idempotent(name, version, move |tenant| async move {
            tenant.model::<T>().sync_indexes().await.map(drop)
        })
    }

    /// Runs the pending steps on every active tenant of the fleet's catalogue (or on
    /// `options.tenants`), as `options` says.
    pub async fn run_fleet(
        &self,
        fleet: &Fleet,
        options: &MigrateOptions,
    ) -> Result<MigrationReport> {
        let records: BTreeMap<String, super::TenantRecord> = fleet
            .catalogue()
            .list()
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        let ids: Vec<String> = match &options.tenants {
            Some(ids) => ids.clone(),
            None => records
                .values()
                .filter(|r| r.state == TenantState::Active)
                .map(|r| r.id.clone())
                .collect(),
        };
        let resolve = |id: &str| match records.get(id) {
            Some(r) if r.state == TenantState::Active => fleet.at(&r.placement, id),
            Some(r) => Err(super::unavailable(r)),
            None => Err(Error::UnknownTenant { id: id.to_owned() }),
        };
        Ok(self.run_ids(ids, resolve, options).await)
    }

    /// Runs the pending steps on the tenants `ids` of `tenants` (from
    /// [`Tenants::discover`](crate::Tenants::discover), say), as `options` says.
    pub async fn run(
        &self,
        tenants: &Tenants,
        ids: Vec<String>,
        options: &MigrateOptions,
    ) -> MigrationReport {
        self.run_ids(ids, |id| tenants.build(id), options).await
    }

    async fn run_ids(
        &self,
        ids: Vec<String>,
        resolve: impl Fn(&str) -> Result<Tenant>,
        options: &MigrateOptions,
    ) -> MigrationReport {
        let failures = AtomicUsize::new(0);
        let finished = AtomicUsize::new(0);
        let (canaries, rest): (Vec<String>, Vec<String>) =
            ids.into_iter().partition(|id| options.canary.contains(id));
        let mut report = MigrationReport::default();
        for (wave, ids) in [canaries, rest].into_iter().enumerate() {
            if wave == 1 && report.tenants.iter().any(|t| t.error.is_some()) {
                report.stopped = true;
                report.not_run.extend(ids);
                break;
            }
            let outcomes: Vec<(String, Option<TenantMigration>)> = stream::iter(ids)
                .map(|id| {
                    let tenant = resolve(&id);
                    let (failures, finished) = (&failures, &finished);
                    async move {
                        if options
                            .max_failures
                            .is_some_and(|max| failures.load(Ordering::SeqCst) >= max)
                        {
                            return (id, None);
                        }
                        let outcome = match tenant {
                            Ok(tenant) => self.run_tenant(&tenant, options.dry_run).await,
                            Err(e) => TenantMigration {
                                tenant: id.clone(),
                                error: Some((None, e)),
                                ..TenantMigration::default()
                            },
                        };
                        if outcome.error.is_some() {
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                        let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                        if let Some(progress) = &options.progress {
                            progress(done, &outcome);
                        }
                        (id, Some(outcome))
                    }
                })
                .buffer_unordered(options.concurrency.max(1))
                .collect()
                .await;
            for (id, outcome) in outcomes {
                match outcome {
                    Some(outcome) => report.tenants.push(outcome),
                    None => {
                        report.stopped = true;
                        report.not_run.push(id);
                    }
                }
            }
        }
        report.tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        report.not_run.sort();
        report
    }

    /// Runs the pending steps of one tenant, in order, stopping at the first failure or changed step.
    async fn run_tenant(&self, tenant: &Tenant, dry_run: bool) -> TenantMigration {
        let mut out = TenantMigration {
            tenant: tenant.id().to_owned(),
            ..TenantMigration::default()
        };
        let ledger = tenant.model::<LedgerEntry>();
        let ran: BTreeMap<String, LedgerEntry> = match ledger.find(doc! {}).await {
            Ok(entries) => entries.into_iter().map(|e| (e.step.clone(), e)).collect(),
            Err(e) => {
                out.error = Some((None, e));
                return out;
            }
        };
        for step in &self.steps {
            if let Some(entry) = ran.get(step.name) {
                if entry.checksum != step.checksum() {
                    out.changed.push((step.name, entry.version, step.version));
                    out.error = Some((
                        Some(step.name),
                        Error::InvalidStrategy(format!(
                            "step `{}` ran at version {} and is now version {}; a step that ran is never run again: add a new step for the change",
                            step.name, entry.version, step.version
                        )),
                    ));
                    return out;
                }
                out.already.push(step.name);
                continue;
            }
            if dry_run {
                out.pending.push(step.name);
                continue;
            }
            match self.run_step(tenant, step).await {
                Ok(()) => out.applied.push(step.name),
                Err(e) => {
                    out.error = Some((Some(step.name), e));
                    return out;
                }
            }
        }
        out
    }

    async fn run_step(&self, tenant: &Tenant, step: &Arc<Step>) -> Result<()> {
        let span = tracing::info_span!(target: "odm", "odm.migrate.step", tenant = tenant.id(), step = step.name);
        self.run_step_in_span(tenant, step).instrument(span).await
    }

    async fn run_step_in_span(&self, tenant: &Tenant, step: &Arc<Step>) -> Result<()> {
        let started_at = DateTime::now();
        let started = Instant::now();
        let entry = move || LedgerEntry {
            id: format!("{}/{}", tenant.id(), step.name),
            step: step.name.to_owned(),
            version: step.version,
            checksum: step.checksum(),
            started_at,
            finished_at: DateTime::now(),
            duration_ms: started.elapsed().as_millis() as i64,
        };
        let ledger = tenant.model::<LedgerEntry>();
        if step.atomic {
            tenant
                .connection()
                .transaction(|tx| {
                    let (tenant, step, ledger, entry) =
                        (tenant.clone(), step.clone(), &ledger, &entry);
                    async move {
                        (step.run)(tenant, Some(tx.clone())).await?;
                        let mut s = tx.session().await;
                        ledger.create(entry()).session(&mut s).await.map(drop)
                    }
                })
                .await
        } else {
            (step.run)(tenant.clone(), None).await?;
            match ledger.create(entry()).await {
                Ok(_) | Err(Error::DuplicateKey { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        }
    }
}

/// Called as each tenant of a migration run finishes, with how many have.
pub type MigrateProgress = Arc<dyn Fn(usize, &TenantMigration) + Send + Sync>;

/// How [`Migrations::run_fleet`] and [`Migrations::run`] go about it.
#[derive(Clone)]
pub struct MigrateOptions {
    /// How many tenants at once (default 8).
    pub concurrency: usize,
    /// Tenants migrated first; if any of them fails, no other tenant is touched.
    pub canary: Vec<String>,
    /// Stop starting tenants once this many failed (the tenants under way finish).
    pub max_failures: Option<usize>,
    /// Only report what is pending per tenant.
    pub dry_run: bool,
    /// Only these tenants (the catalogue's active ones otherwise).
    pub tenants: Option<Vec<String>>,
    /// Called as each tenant finishes, with how many have.
    pub progress: Option<MigrateProgress>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            concurrency: 8,
            canary: Vec::new(),
            max_failures: None,
            dry_run: false,
            tenants: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for MigrateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrateOptions")
            .field("concurrency", &self.concurrency)
            .field("canary", &self.canary)
            .field("max_failures", &self.max_failures)
            .field("dry_run", &self.dry_run)
            .field("tenants", &self.tenants)
            .finish()
    }
}

/// What a migration run did for one tenant.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct TenantMigration {
    /// The tenant.
    pub tenant: String,
    /// The steps it ran now, in order.
    pub applied: Vec<&'static str>,
    /// The steps its ledger already lists.
    pub already: Vec<&'static str>,
    /// With a dry run: the steps it would run.
    pub pending: Vec<&'static str>,
    /// Steps whose version changed since they ran: (step, version that ran, version now).
    pub changed: Vec<(&'static str, i64, i64)>,
    /// The step that failed (`None`: before any step), and why. The tenant's later steps did not run.
    pub error: Option<(Option<&'static str>, Error)>,
}

/// What a migration run did across the fleet, sorted by tenant.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct MigrationReport {
    /// Every tenant the run started.
    pub tenants: Vec<TenantMigration>,
    /// Tenants not started because the run stopped (a canary failed, or too many tenants failed).
    pub not_run: Vec<String>,
    /// Whether the run stopped before every tenant was started.
    pub stopped: bool,
}

impl MigrationReport {
    /// The tenants whose migration failed.
    pub fn failed(&self) -> impl Iterator<Item = &TenantMigration> {
        self.tenants.iter().filter(|t| t.error.is_some())
    }

    /// `true` when every tenant was started and none failed.
    pub fn is_ok(&self) -> bool {
        !self.stopped && self.failed().next().is_none()
    }
}
