//! Tenant activity across the processes of a service: each process publishes its counts of each
//! tenant's operations into a collection, one document per process and window, and any process (or
//! `tenant-admin top`) adds them up to name the busiest tenants of the whole service.

use std::time::{Duration, Instant};

use mongodb::bson::{doc, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};
use tokio::task::AbortHandle;

use super::TenantActivity;
use crate::connection::Connection;
use crate::error::Result;

/// The collection [`Connection::publish_tenant_activity`] writes into, in the database it is given.
pub const ACTIVITY_COLLECTION: &str = "tenant_activity";

/// One process's counts of one window, as stored. Expired by the server a day after it was written.
#[derive(Debug, Clone, Serialize, Deserialize, crate::Model)]
#[model(collection = "tenant_activity")]
pub(crate) struct ActivityWindow {
    #[serde(rename = "_id")]
    id: mongodb::bson::oid::ObjectId,
    /// The process that counted, `host:pid` (for a reader who wants to see them apart).
    process: String,
    /// When the window ended.
    #[field(ttl = "1d")]
    at: DateTime,
    /// How long the window was, in milliseconds.
    window_ms: i64,
    /// Each tenant's counts in the window; the tenants past the connection's bound in one entry with
    /// no tenant.
    tenants: Vec<ActivityEntry>,
}

/// One tenant's counts in a published window.
#[derive(Debug, Clone, Serialize, Deserialize, crate::Embedded)]
pub(crate) struct ActivityEntry {
    #[serde(default)]
    tenant: Option<String>,
    operations: i64,
    errors: i64,
    time_ms: f64,
}

/// Publishes a client's tenant activity in the background, from
/// [`Connection::publish_tenant_activity`]. Dropping it stops the publishing (what was counted since the
/// last window is kept in the client's counts; [`publish_now`](Self::publish_now) first to keep it).
#[derive(Debug)]
pub struct ActivityPublisher {
    from: Connection,
    to: Connection,
    process: String,
    started: std::sync::Arc<std::sync::Mutex<Instant>>,
    task: AbortHandle,
}

impl Drop for ActivityPublisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ActivityPublisher {
    /// Publishes what was counted since the last window now, and starts a new window: before a
    /// process stops, and in tests.
    pub async fn publish_now(&self) -> Result<()> {
        publish(&self.from, &self.to, &self.process, &self.started).await
    }

    /// The name this process publishes under, `host:pid`.
    pub fn process(&self) -> &str {
        &self.process
    }
}

impl Connection {
    /// Publishes this client's [`busiest_tenants`](Self::busiest_tenants) counts into the
    /// [`ACTIVITY_COLLECTION`] of `to` (a control database shared by the service's processes) every
    /// `every`, then starts the counts over: one document per process and window, expired by the
    /// server after a day. [`busiest_tenants_published`] adds every process's windows up, so a service
    /// of many processes can name its noisy neighbour, and `tenant-admin top` shows it.
    ///
    /// Needs counting on ([`ConnectOptions::tenant_activity`](crate::ConnectOptions::tenant_activity));
    /// without it the windows are empty. Publishing is one insert per window through the library; a
    /// failed insert is logged (target `odm`) and its counts are lost, never retried into the next
    /// window. The task (which first creates the index that expires the windows) stops when the
    /// publisher is dropped. A window is at least 100 ms.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, which runs the task.
    pub fn publish_tenant_activity(&self, to: &Connection, every: Duration) -> ActivityPublisher {
        let every = every.max(Duration::from_millis(100));
        let process = format!(
            "{}:{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into()),
            std::process::id()
        );
        let started = std::sync::Arc::new(std::sync::Mutex::new(Instant::now()));
        let (from_task, to_task, process_task, started_task) =
            (self.clone(), to.clone(), process.clone(), started.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = to_task.model::<ActivityWindow>().sync_indexes().await {
                tracing::warn!(target: super::TARGET, error = %e, "creating the index that expires published tenant activity failed");
            }
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = publish(&from_task, &to_task, &process_task, &started_task).await {
                    tracing::warn!(target: super::TARGET, error = %e, "publishing tenant activity failed");
                }
            }
        })
        .abort_handle();
        ActivityPublisher {
            from: self.clone(),
            to: to.clone(),
            process,
            started,
            task,
        }
    }
}

async fn publish(
    from: &Connection,
    to: &Connection,
    process: &str,
    started: &std::sync::Mutex<Instant>,
) -> Result<()> {
    let (counts, window) = {
        let mut started = started.lock().expect("activity window lock");
        let window = started.elapsed();
        *started = Instant::now();
        (from.take_tenant_activity(), window)
    };
    if counts.is_empty() {
        return Ok(());
    }
    let tenants = counts
        .into_iter()
        .map(|a| ActivityEntry {
            tenant: a.tenant,
            operations: i64::try_from(a.operations).unwrap_or(i64::MAX),
            errors: i64::try_from(a.errors).unwrap_or(i64::MAX),
            time_ms: a.time.as_secs_f64() * 1e3,
        })
        .collect();
    to.model::<ActivityWindow>()
        .create(ActivityWindow {
            id: mongodb::bson::oid::ObjectId::new(),
            process: process.to_owned(),
            at: DateTime::now(),
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            tenants,
        })
        .await?;
    Ok(())
}

/// The `n` busiest tenants over every process that published into `control` with
/// [`Connection::publish_tenant_activity`], counting the windows that ended in the last `since`: most
/// operations first, then most time. The tenants each process counted past its bound come together in
/// one entry whose `tenant` is `None`. Windows are kept a day.
pub async fn busiest_tenants_published(
    control: &Connection,
    since: Duration,
    n: usize,
) -> Result<Vec<TenantActivity>> {
    let from = DateTime::from_millis(
        DateTime::now()
            .timestamp_millis()
            .saturating_sub(i64::try_from(since.as_millis()).unwrap_or(i64::MAX)),
    );
    let rows = control
        .model::<ActivityWindow>()
        .aggregate([
            doc! { "$match": { "at": { "$gte": from } } },
            doc! { "$unwind": "$tenants" },
            doc! { "$group": {
                "_id": "$tenants.tenant",
                "operations": { "$sum": "$tenants.operations" },
                "errors": { "$sum": "$tenants.errors" },
                "time_ms": { "$sum": "$tenants.time_ms" },
            } },
            doc! { "$sort": { "operations": -1, "time_ms": -1, "_id": 1 } },
            doc! { "$limit": i64::try_from(n).unwrap_or(i64::MAX) },
        ])
        .await?;
    Ok(rows.iter().map(activity).collect())
}

fn activity(row: &Document) -> TenantActivity {
    let count = |key: &str| crate::ops::count_in(row, key);
    let millis = match row.get("time_ms") {
        Some(Bson::Double(n)) => *n,
        Some(Bson::Int32(n)) => f64::from(*n),
        Some(Bson::Int64(n)) => *n as f64,
        _ => 0.0,
    };
    TenantActivity {
        tenant: row.get_str("_id").ok().map(str::to_owned),
        operations: count("operations"),
        errors: count("errors"),
        time: Duration::from_secs_f64(millis.max(0.0) / 1e3),
    }
}
