//! What an operation tells the world: a `tracing` span per operation with OpenTelemetry's database
//! fields, `metrics` counters and a latency histogram labelled by operation, model and tenant, and a
//! warning past the connection's slow-operation threshold.
//!
//! Nothing here runs when nobody listens: with no subscriber interested in the span, no metrics recorder
//! installed, no slow threshold set and no tenant counting asked for
//! ([`ConnectOptions::tenant_activity`](crate::ConnectOptions::tenant_activity)), an operation is
//! awaited as it is, after four cheap checks.
//! Spans and events hold names (database, collection, model, tenant, field paths), counts and kinds of
//! error, never a document's or a filter's values.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use metrics::{Label, SharedString};
use mongodb::bson::{Bson, Document};
use tracing::Span;

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;

mod published;
pub use published::{busiest_tenants_published, ActivityPublisher, ACTIVITY_COLLECTION};

/// The `tracing` target of every span and event of the library (`RUST_LOG=odm=debug`).
pub const TARGET: &str = "odm";

/// How many tenants get a label of their own in the metrics by default; the rest share
/// [`OTHER_TENANTS`]. Set with [`ConnectOptions::tenant_metric_labels`](crate::ConnectOptions::tenant_metric_labels).
pub const DEFAULT_TENANT_METRIC_LABELS: usize = 100;

/// The `tenant` label of the operations of tenants past the bound on tenant labels.
pub const OTHER_TENANTS: &str = "other";

/// The `tenant` label of operations on a handle bound straight to a connection (no tenant).
pub const NO_TENANT: &str = "none";

/// The number of operations, labelled `operation`, `model` and `tenant`.
pub const METRIC_OPERATIONS: &str = "odm.operations";
/// The number of failed operations, labelled like [`METRIC_OPERATIONS`] and by `error.type`.
pub const METRIC_ERRORS: &str = "odm.operation.errors";
/// How long operations take, in seconds, labelled like [`METRIC_OPERATIONS`].
pub const METRIC_DURATION: &str = "odm.operation.duration";
/// How many times [`Connection::transaction`](crate::Connection::transaction) retried, labelled by
/// `reason`.
pub const METRIC_TRANSACTION_RETRIES: &str = "odm.transaction.retries";
/// How many tenant handles a [`Tenants`](crate::Tenants) cache holds, labelled by `database`.
pub const METRIC_TENANTS_CACHED: &str = "odm.tenants.cached";
/// How many clients (clusters) a [`Connections`](crate::Connections) registry holds open, set when it
/// opens one.
pub const METRIC_REGISTRY_CLUSTERS: &str = "odm.registry.clients";
/// How many connection pools a registry's clients hold open.
pub const METRIC_REGISTRY_POOLS: &str = "odm.registry.pools";
/// How many pooled sockets a registry's clients hold open.
pub const METRIC_REGISTRY_SOCKETS: &str = "odm.registry.sockets";
/// How many clients a registry has closed to make room for another.
pub const METRIC_REGISTRY_EVICTIONS: &str = "odm.registry.evictions";

/// The tenant of a tenant handle, for its spans and metric labels. Shared by every handle of the tenant.
#[derive(Debug, Clone)]
pub(crate) struct TenantLabel {
    pub(crate) id: Arc<str>,
    pub(crate) strategy: &'static str,
}

/// A collection's stored name, the tenant's prefix (collection per tenant) and the model's collection,
/// written where it is recorded rather than built per operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CollectionName<'a> {
    pub(crate) prefix: &'a str,
    pub(crate) collection: &'static str,
}

impl std::fmt::Display for CollectionName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.prefix)?;
        f.write_str(self.collection)
    }
}

/// The tenants that have a metric label of their own on one client: the first `capacity` seen.
#[derive(Debug)]
pub(crate) struct TenantLabels {
    capacity: usize,
    seen: RwLock<HashSet<Arc<str>, foldhash::fast::RandomState>>,
}

impl TenantLabels {
    pub(crate) fn new(capacity: usize) -> Self {
        TenantLabels {
            capacity,
            seen: RwLock::new(HashSet::default()),
        }
    }

    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    /// The label of `tenant`: its id while fewer than `capacity` tenants have one, else "other".
    pub(crate) fn label(&self, tenant: &Arc<str>) -> SharedString {
        if self
            .seen
            .read()
            .expect("tenant labels lock")
            .contains(tenant)
        {
            return SharedString::from(tenant.clone());
        }
        let mut seen = self.seen.write().expect("tenant labels lock");
        if seen.contains(tenant) || seen.len() < self.capacity {
            seen.insert(tenant.clone());
            SharedString::from(tenant.clone())
        } else {
            SharedString::const_str(OTHER_TENANTS)
        }
    }
}

/// What one tenant's operations took on one client, since the connection was made or since
/// [`Connection::reset_tenant_activity`](crate::Connection::reset_tenant_activity). Made by
/// [`Connection::busiest_tenants`](crate::Connection::busiest_tenants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantActivity {
    /// The tenant's id; `None` for the tenants past the bound of
    /// [`ConnectOptions::tenant_activity`](crate::ConnectOptions::tenant_activity), counted together.
    pub tenant: Option<String>,
    /// How many operations ran, failed ones included.
    pub operations: u64,
    /// How many of them failed.
    pub errors: u64,
    /// Their time added up, each from the call to the answer.
    pub time: Duration,
}

/// One tenant's counters.
#[derive(Debug, Default)]
struct Counters {
    operations: AtomicU64,
    errors: AtomicU64,
    nanos: AtomicU64,
}

impl Counters {
    fn add(&self, elapsed: Duration, failed: bool) {
        self.operations.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn read(&self, tenant: Option<String>) -> TenantActivity {
        TenantActivity {
            tenant,
            operations: self.operations.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            time: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
        }
    }
}

/// Each tenant's operations on one client, for [`Connection::busiest_tenants`](crate::Connection::busiest_tenants):
/// the first `capacity` tenants seen have counters of their own, the others share one set, so memory
/// stays bounded whatever the number of tenants.
#[derive(Debug)]
pub(crate) struct TenantActivityTable {
    capacity: usize,
    tenants: RwLock<HashMap<Arc<str>, Counters, foldhash::fast::RandomState>>,
    others: Counters,
}

impl TenantActivityTable {
    pub(crate) fn new(capacity: usize) -> Self {
        TenantActivityTable {
            capacity,
            tenants: RwLock::new(HashMap::default()),
            others: Counters::default(),
        }
    }

    /// Counts one operation of `tenant`. A tenant already counted, or one past the bound, costs a
    /// shared read of the table and three atomic additions.
    pub(crate) fn record(&self, tenant: &Arc<str>, elapsed: Duration, failed: bool) {
        {
            let tenants = self.tenants.read().expect("tenant activity lock");
            if let Some(counters) = tenants.get(tenant) {
                return counters.add(elapsed, failed);
            }
            if tenants.len() >= self.capacity {
                return self.others.add(elapsed, failed);
            }
        }
        let mut tenants = self.tenants.write().expect("tenant activity lock");
        if tenants.contains_key(tenant) || tenants.len() < self.capacity {
            tenants
                .entry(tenant.clone())
                .or_default()
                .add(elapsed, failed);
        } else {
            self.others.add(elapsed, failed);
        }
    }

    /// Every tenant's counts, and the counts started over, in one step: an operation counted while this
    /// runs lands in this window or the next, never in neither.
    pub(crate) fn take(&self) -> Vec<TenantActivity> {
        let mut tenants = self.tenants.write().expect("tenant activity lock");
        let mut all: Vec<TenantActivity> = tenants
            .drain()
            .map(|(id, counters)| counters.read(Some(id.to_string())))
            .collect();
        let others = TenantActivity {
            tenant: None,
            operations: self.others.operations.swap(0, Ordering::Relaxed),
            errors: self.others.errors.swap(0, Ordering::Relaxed),
            time: Duration::from_nanos(self.others.nanos.swap(0, Ordering::Relaxed)),
        };
        drop(tenants);
        all.push(others);
        all.retain(|a| a.operations > 0);
        all
    }

    /// The `n` busiest, most operations first (then most time).
    pub(crate) fn busiest(&self, n: usize) -> Vec<TenantActivity> {
        let mut all: Vec<TenantActivity> = self
            .tenants
            .read()
            .expect("tenant activity lock")
            .iter()
            .map(|(id, counters)| counters.read(Some(id.to_string())))
            .collect();
        let others = self.others.read(None);
        if others.operations > 0 {
            all.push(others);
        }
        all.retain(|a| a.operations > 0);
        all.sort_by(|a, b| {
            (b.operations, b.time)
                .cmp(&(a.operations, a.time))
                .then_with(|| a.tenant.cmp(&b.tenant))
        });
        all.truncate(n);
        all
    }

    /// Forgets every count and every tenant, so the next window's tenants get counters of their own.
    pub(crate) fn reset(&self) {
        self.take();
    }
}

/// Whether a `metrics` recorder is installed. The facade's no-op recorder has no size; a recorder that
/// records holds its storage, so a zero-sized recorder is taken for none.
pub(crate) fn metrics_on() -> bool {
    metrics::with_recorder(|r| std::mem::size_of_val(r) != 0)
}

/// Sets the tenant-cache gauge of the tenants on database `database`, when a recorder listens.
pub(crate) fn tenant_cache_gauge(database: &str, cached: usize) {
    if metrics_on() {
        metrics::gauge!(METRIC_TENANTS_CACHED, "database" => database.to_owned())
            .set(cached as f64);
    }
}

/// Sets the registry's gauges from its stats.
pub(crate) fn registry_gauges(stats: &crate::RegistryStats) {
    metrics::gauge!(METRIC_REGISTRY_CLUSTERS).set(stats.clients as f64);
    metrics::gauge!(METRIC_REGISTRY_POOLS).set(stats.pools as f64);
    metrics::gauge!(METRIC_REGISTRY_SOCKETS).set(stats.sockets as f64);
    metrics::gauge!(METRIC_REGISTRY_EVICTIONS).set(stats.evictions as f64);
}

/// The span of one operation on `handle`, named `odm.{name}`; disabled (and nothing computed) when no
/// subscriber wants it. Every field known before the operation runs is given here, at creation; what is
/// known only after it (documents returned or affected, the kind of failure) is recorded once, by
/// [`run`], when it ends.
macro_rules! op_span {
    ($handle:expr, $name:literal, $command:literal) => {{
        let handle = $handle;
        let conn = handle.connection();
        let tenant = handle.tenant_label();
        let server = conn.server_address();
        tracing::info_span!(
            target: "odm",
            concat!("odm.", $name),
            "db.system.name" = "mongodb",
            "db.namespace" = conn.name(),
            "db.collection.name" = tracing::field::display(handle.stored_collection()),
            "db.operation.name" = $command,
            "server.address" = server.map(|(host, _)| host),
            "server.port" = server.map(|(_, port)| port),
            "odm.operation" = $name,
            "odm.model" = <_ as crate::observe::ModelName>::model_name(handle),
            "odm.tenant" = tenant.map(|t| &*t.id),
            "odm.strategy" = tenant.map(|t| t.strategy),
            "db.response.returned_rows" = tracing::field::Empty,
            "odm.documents_affected" = tracing::field::Empty,
            "odm.filter" = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
        )
    }};
}
pub(crate) use op_span;

/// Runs `$future`, the operation `$name` on `$handle`, in its span, and reports it. `$command` is the
/// MongoDB command it mainly sends (OpenTelemetry's `db.operation.name`).
macro_rules! observed {
    ($handle:expr, $name:literal, $command:literal, $future:expr) => {{
        let handle = $handle;
        crate::observe::run(
            handle,
            crate::observe::op_span!(handle, $name, $command),
            $name,
            $future,
        )
    }};
}
pub(crate) use observed;

/// The model's name of a handle, for the span macro (which does not name the model type).
pub(crate) trait ModelName {
    fn model_name(&self) -> &'static str;
}

impl<T: Model> ModelName for ModelHandle<T> {
    fn model_name(&self) -> &'static str {
        T::SCHEMA.type_name
    }
}

/// What an operation's pipeline found out while it ran, for its span: kept per operation while the
/// operation is polled (see [`run`]), and recorded on the span once, when it ends.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    returned: Option<u64>,
    affected: Option<u64>,
}

thread_local! {
    /// The outcome of the operation being polled on this thread, if its span is recorded.
    static OUTCOME: std::cell::Cell<Outcome> = const {
        std::cell::Cell::new(Outcome { returned: None, affected: None })
    };
}

/// Awaits `op` in `span`; then records on the span what the operation found out and the error (if any),
/// the metrics, and the slow warning. When nobody listens, awaits `op` and nothing else.
pub(crate) async fn run<T: Model, O>(
    handle: &ModelHandle<T>,
    span: Span,
    name: &'static str,
    op: impl std::future::Future<Output = Result<O>>,
) -> Result<O> {
    let metrics = metrics_on();
    let slow = handle.connection().slow_operation();
    let counted = handle.tenant_label().is_some() && handle.connection().counts_tenants();
    if span.is_disabled() {
        if !metrics && slow.is_none() && !counted {
            return op.await;
        }
        let started = Instant::now();
        let result = op.await;
        report(
            handle,
            &span,
            name,
            started.elapsed(),
            &result,
            metrics,
            slow,
        );
        return result;
    }
    let started = Instant::now();
    // Like `Instrumented`, the span is entered on every poll; the operation's outcome rides in a
    // thread-local slot swapped in and out with it, so the pipeline notes counts without a lookup of
    // the current span and a call into the subscriber for each.
    let mut op = std::pin::pin!(op);
    let mut outcome = Outcome::default();
    let result = std::future::poll_fn(|cx| {
        let _entered = span.enter();
        let outer = OUTCOME.replace(outcome);
        let poll = op.as_mut().poll(cx);
        outcome = OUTCOME.replace(outer);
        poll
    })
    .await;
    let elapsed = started.elapsed();
    let error = result.as_ref().err().map(error_type);
    if outcome.returned.is_some() || outcome.affected.is_some() || error.is_some() {
        // One call into the subscriber for everything learnt while the operation ran.
        let returned = outcome.returned.as_ref().map(|n| n as &dyn tracing::Value);
        let affected = outcome.affected.as_ref().map(|n| n as &dyn tracing::Value);
        let error = error.as_ref().map(|e| e as &dyn tracing::Value);
        if let (Some(meta), Some(r), Some(a), Some(e)) = (
            span.metadata(),
            span.field("db.response.returned_rows"),
            span.field("odm.documents_affected"),
            span.field("error.type"),
        ) {
            span.record_all(&meta.fields().value_set(&[
                (&r, returned),
                (&a, affected),
                (&e, error),
            ]));
        }
    }
    report(handle, &span, name, elapsed, &result, metrics, slow);
    result
}

/// The events, metrics, tenant counts and slow warning of an operation that ended.
fn report<T: Model, O>(
    handle: &ModelHandle<T>,
    span: &Span,
    name: &'static str,
    elapsed: Duration,
    result: &Result<O>,
    metrics: bool,
    slow: Option<Duration>,
) {
    let error = result.as_ref().err().map(|e| {
        if !span.is_disabled() {
            error_event(span, e);
        }
        error_type(e)
    });
    if metrics {
        record_metrics(handle, name, elapsed, error);
    }
    if let Some(tenant) = handle.tenant_label() {
        handle
            .connection()
            .count_tenant(&tenant.id, elapsed, error.is_some());
    }
    if let Some(threshold) = slow {
        if elapsed >= threshold {
            slow_warning(handle, span, name, elapsed, error);
        }
    }
}

fn record_metrics<T: Model>(
    handle: &ModelHandle<T>,
    name: &'static str,
    elapsed: Duration,
    error: Option<&'static str>,
) {
    let tenant = match handle.tenant_label() {
        Some(t) => handle.connection().tenant_metric_label(&t.id),
        None => SharedString::const_str(NO_TENANT),
    };
    let mut labels = vec![
        Label::from_static_parts("operation", name),
        Label::from_static_parts("model", T::SCHEMA.type_name),
        Label::new("tenant", tenant),
    ];
    metrics::counter!(METRIC_OPERATIONS, labels.iter()).increment(1);
    metrics::histogram!(METRIC_DURATION, labels.iter()).record(elapsed.as_secs_f64());
    if let Some(kind) = error {
        labels.push(Label::from_static_parts("error.type", kind));
        metrics::counter!(METRIC_ERRORS, labels.iter()).increment(1);
    }
}

/// The warning of an operation slower than the threshold. It carries the span's fields itself, so a
/// subscriber that keeps warnings but not the operations' spans still says what was slow.
fn slow_warning<T: Model>(
    handle: &ModelHandle<T>,
    span: &Span,
    name: &'static str,
    elapsed: Duration,
    error: Option<&'static str>,
) {
    let conn = handle.connection();
    let tenant = handle.tenant_label();
    tracing::event!(
        target: "odm",
        parent: span,
        tracing::Level::WARN,
        db.system.name = "mongodb",
        db.namespace = conn.name(),
        db.collection.name = %handle.stored_collection(),
        odm.operation = name,
        odm.model = T::SCHEMA.type_name,
        odm.tenant = tenant.map(|t| &*t.id),
        odm.strategy = tenant.map(|t| t.strategy),
        error.type = error,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        threshold_ms = conn.slow_operation().unwrap_or_default().as_secs_f64() * 1000.0,
        "slow operation",
    );
}

/// The events of the failures a team watches for: validation failures (the paths and rules that
/// failed, never the values), version conflicts and hook aborts.
fn error_event(span: &Span, error: &Error) {
    match error {
        Error::Validation(e) => {
            let fields = e
                .errors
                .iter()
                .map(|f| format!("{}:{}", f.path, f.rule))
                .collect::<Vec<_>>()
                .join(",");
            tracing::event!(target: "odm", parent: span, tracing::Level::INFO, odm.event = "validation_failed", odm.model = e.type_name, fields, "validation failed");
        }
        Error::VersionConflict { expected, .. } => {
            tracing::event!(target: "odm", parent: span, tracing::Level::INFO, odm.event = "version_conflict", expected_version = expected, "version conflict");
        }
        Error::Hook {
            hook, type_name, ..
        } => {
            tracing::event!(target: "odm", parent: span, tracing::Level::INFO, odm.event = "hook_aborted", hook, odm.model = type_name, "hook aborted the operation");
        }
        _ => {}
    }
}

/// The event of a transaction retried (the whole closure on a transient error, or the commit on an
/// unknown commit result), in the caller's current span.
pub(crate) fn transaction_retry(reason: &'static str) {
    tracing::event!(target: "odm", tracing::Level::INFO, odm.event = "transaction_retry", reason, "transaction retried");
    if metrics_on() {
        metrics::counter!(METRIC_TRANSACTION_RETRIES, "reason" => reason).increment(1);
    }
}

/// OpenTelemetry's `error.type` of an error: the kind, never its message (which may quote values).
pub(crate) fn error_type(error: &Error) -> &'static str {
    match error {
        Error::InvalidName { .. } => "invalid_name",
        Error::InvalidTenant { .. } => "invalid_tenant",
        Error::InvalidStrategy(_) => "invalid_strategy",
        Error::RegistryFull { .. } => "registry_full",
        Error::DuplicateKey { .. } => "duplicate_key",
        Error::NotFound { .. } => "not_found",
        Error::Validation(_) => "validation",
        Error::VersionConflict { .. } => "version_conflict",
        Error::Immutable { .. } => "immutable",
        Error::Serialization { .. } => "serialization",
        Error::Deserialization { .. } => "deserialization",
        Error::DocumentTooLarge { .. } => "document_too_large",
        Error::TenantViolation(_) => "tenant_violation",
        Error::ForeignSession => "foreign_session",
        Error::Hook { .. } => "hook",
        Error::PartialWrite { .. } => "partial_write",
        Error::InvalidIndex { .. } => "invalid_index",
        Error::WriteRefused { .. } => "write_refused",
        Error::BulkWrite(_) => "bulk_write",
        Error::Timeout { .. } => "timeout",
        Error::Aborted(_) => "aborted",
        Error::Unsupported(_) => "unsupported",
        Error::Driver(_) => "driver",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

/// Notes how many documents the current operation returned, for its span.
pub(crate) fn returned(n: u64) {
    if tracing::level_enabled!(tracing::Level::INFO) {
        OUTCOME.with(|o| {
            o.set(Outcome {
                returned: Some(n),
                ..o.get()
            })
        });
    }
}

/// Notes how many documents the current operation wrote or deleted, for its span.
pub(crate) fn affected(n: u64) {
    if tracing::level_enabled!(tracing::Level::INFO) {
        OUTCOME.with(|o| {
            o.set(Outcome {
                affected: Some(n),
                ..o.get()
            })
        });
    }
}

/// Records the shape of a filter (its keys and operators, every value replaced by `?`) on the current
/// span, when debug level is on for the library.
pub(crate) fn filter_shape(filter: &Document) {
    if tracing::enabled!(target: "odm", tracing::Level::DEBUG) {
        let span = Span::current();
        if !span.is_disabled() {
            let mut out = String::new();
            shape_of_document(filter, &mut out);
            span.record("odm.filter", out.as_str());
        }
    }
}

/// Writes `{"a": ?, "b": {"$gt": ?}}` for `{"a": 1, "b": {"$gt": 2}}`: keys and operators only.
fn shape_of_document(doc: &Document, out: &mut String) {
    out.push('{');
    for (i, (key, value)) in doc.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!("{key:?}: "));
        shape_of(value, out);
    }
    out.push('}');
}

fn shape_of(value: &Bson, out: &mut String) {
    match value {
        Bson::Document(d) => shape_of_document(d, out),
        // An array of conditions (`$and`, `$or`) has shapes; an array of values is one value.
        Bson::Array(items)
            if items.iter().all(|i| matches!(i, Bson::Document(_))) && !items.is_empty() =>
        {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                shape_of(item, out);
            }
            out.push(']');
        }
        _ => out.push('?'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn a_filter_shape_has_keys_and_operators_only() {
        let mut out = String::new();
        shape_of_document(
            &doc! { "email": "ann@x.io", "age": { "$gte": 18, "$in": [1, 2] }, "$or": [{ "a": 1 }, { "b": { "$exists": true } }] },
            &mut out,
        );
        assert_eq!(
            out,
            r#"{"email": ?, "age": {"$gte": ?, "$in": ?}, "$or": [{"a": ?}, {"b": {"$exists": ?}}]}"#
        );
    }

    #[test]
    fn tenant_activity_ranks_and_folds_past_the_bound() {
        let table = TenantActivityTable::new(2);
        let (a, b, c, d): (Arc<str>, Arc<str>, Arc<str>, Arc<str>) =
            ("a".into(), "b".into(), "c".into(), "d".into());
        let ms = Duration::from_millis(1);
        for (tenant, times) in [(&a, 1), (&b, 4), (&c, 2), (&d, 1)] {
            for _ in 0..times {
                table.record(tenant, ms, tenant == &d);
            }
        }
        let ranked: Vec<_> = table
            .busiest(10)
            .into_iter()
            .map(|t| (t.tenant, t.operations, t.errors, t.time))
            .collect();
        assert_eq!(
            ranked,
            [
                (Some("b".to_owned()), 4, 0, ms * 4),
                (None, 3, 1, ms * 3),
                (Some("a".to_owned()), 1, 0, ms),
            ]
        );
        assert_eq!(table.busiest(1).len(), 1);
        table.reset();
        assert!(table.busiest(10).is_empty());
        table.record(&d, ms, false);
        assert_eq!(table.busiest(10)[0].tenant.as_deref(), Some("d"));
    }

    #[test]
    fn tenants_past_the_bound_share_one_label() {
        let labels = TenantLabels::new(2);
        let a: Arc<str> = "a".into();
        let b: Arc<str> = "b".into();
        let c: Arc<str> = "c".into();
        assert_eq!(&*labels.label(&a), "a");
        assert_eq!(&*labels.label(&b), "b");
        assert_eq!(&*labels.label(&c), OTHER_TENANTS);
        assert_eq!(&*labels.label(&a), "a");
    }
}
