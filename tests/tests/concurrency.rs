//! Concurrency: a thousand tasks of a hundred tenants share one connection pool, and every document still
//! lands in its own tenant, every count adds up, nothing deadlocks, and the pool never opens more sockets
//! than it is allowed.
//!
//! The workload is written once and run per tenancy strategy: each strategy is a [`Strategy`] case that
//! says how a tenant's handle is bound: database per tenant (`use_db`), collection per tenant, and one
//! shared collection with a tenant field.

#[path = "reliability/models.rs"]
mod models;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use models::Item;
use odm_core::bson::doc;
use odm_core::mongodb::event::cmap::CmapEvent;
use odm_core::mongodb::event::EventHandler;
use odm_core::mongodb::options::{ClientOptions, ServerAddress};
use odm_core::mongodb::Client;
use odm_core::{Connection, ModelHandle, Tenants};

const TENANTS: usize = 100;
const TASKS: usize = 1_000;
const POOL: u32 = 8;
/// Documents each task writes; it deletes one of them again, so `WRITES - 1` stay.
const WRITES: i64 = 4;
/// Each task's documents have `seq` in `task * SEQ_SPAN ..`, so a task finds exactly its own.
const SEQ_SPAN: i64 = 100;

/// One tenancy strategy: how the workload reaches a tenant's `Item`s over the shared connection, and how
/// the check afterwards reads them back.
struct Strategy {
    name: &'static str,
    /// The handle of tenant `tenant` (`t000` to `t099`), bound per call as a request handler would.
    bind: fn(&Connection, &str) -> ModelHandle<Item>,
    /// Removes what an earlier run of this case left.
    reset: fn(&Connection) -> futures_util::future::BoxFuture<'_, ()>,
}

fn tenant_db(tenant: &str) -> String {
    format!("concurrency_db_{tenant}")
}

const DATABASE_PER_TENANT: Strategy = Strategy {
    name: "database per tenant (use_db)",
    bind: |conn, tenant| {
        conn.use_db(&tenant_db(tenant))
            .expect("a valid tenant database name")
            .model::<Item>()
    },
    reset: |conn| {
        Box::pin(async move {
            for t in 0..TENANTS {
                let db = conn.use_db(&tenant_db(&tenant(t))).unwrap();
                db.database().drop().await.unwrap();
            }
        })
    },
};

/// The cases share the process's sockets, which [`sockets_to`] counts, so they run one at a time.
static ONE_CASE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many TCP connections this process has open to `port`, as the kernel sees them (Linux `/proc`):
/// a count that does not trust the driver's own events.
fn sockets_to(port: u16) -> usize {
    let ours: BTreeSet<String> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().into_owned();
                    Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let port = format!(":{port:04X}");
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter(|line| {
                    let cols: Vec<&str> = line.split_whitespace().collect();
                    // remote address, state (01 = established), inode
                    cols.len() > 9
                        && cols[2].ends_with(&port)
                        && cols[3] == "01"
                        && ours.contains(cols[9])
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .count()
}

fn tenant(i: usize) -> String {
    format!("t{i:03}")
}

/// Socket counts of one client, from the driver's connection pool events.
#[derive(Default)]
struct PoolGauge {
    open: AtomicI64,
    max_open: AtomicI64,
    created: AtomicU64,
    checked_out: AtomicI64,
    max_checked_out: AtomicI64,
}

impl PoolGauge {
    fn handler(self: &Arc<Self>) -> EventHandler<CmapEvent> {
        let gauge = self.clone();
        EventHandler::callback(move |event| match event {
            CmapEvent::ConnectionCreated(_) => {
                gauge.created.fetch_add(1, Ordering::SeqCst);
                let now = gauge.open.fetch_add(1, Ordering::SeqCst) + 1;
                gauge.max_open.fetch_max(now, Ordering::SeqCst);
            }
            CmapEvent::ConnectionClosed(_) => {
                gauge.open.fetch_sub(1, Ordering::SeqCst);
            }
            CmapEvent::ConnectionCheckedOut(_) => {
                let now = gauge.checked_out.fetch_add(1, Ordering::SeqCst) + 1;
                gauge.max_checked_out.fetch_max(now, Ordering::SeqCst);
            }
            CmapEvent::ConnectionCheckedIn(_) => {
                gauge.checked_out.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        })
    }
}

/// What one task does for its tenant: writes, reads its writes back, updates, deletes, reads again.
/// Returns the number of operations it ran.
async fn task(
    conn: Connection,
    bind: fn(&Connection, &str) -> ModelHandle<Item>,
    task: usize,
) -> usize {
    let tenant = tenant(task % TENANTS);
    let items = bind(&conn, &tenant);
    let base = task as i64 * SEQ_SPAN;
    let mine = doc! { "seq": { "$gte": base, "$lt": base + SEQ_SPAN } };
    let mut ops = 0;

    let first = items
        .create(Item::new(&tenant, base, format!("task {task}")))
        .await
        .unwrap();
    ops += 1;
    items
        .insert_many((1..WRITES).map(|j| Item::new(&tenant, base + j, format!("task {task}"))))
        .await
        .unwrap();
    ops += 1;
    let found = items.find(mine.clone()).await.unwrap();
    ops += 1;
    assert_eq!(
        found.len(),
        WRITES as usize,
        "task {task} reads its own writes"
    );
    assert!(found.iter().all(|i| i.tenant == tenant));
    let updated = items
        .update_one(
            doc! { "_id": first.id.unwrap() },
            doc! { "$set": { "payload": "updated" } },
        )
        .await
        .unwrap();
    ops += 1;
    assert_eq!(updated.modified_count, 1);
    let deleted = items
        .delete_one(doc! { "seq": base + WRITES - 1 })
        .await
        .unwrap();
    ops += 1;
    assert_eq!(deleted.deleted_count, 1);
    let again = items.find_by_id(first.id.unwrap()).await.unwrap().unwrap();
    ops += 1;
    assert_eq!(again.payload, "updated");
    ops
}

async fn run_case(strategy: &Strategy) {
    let _alone = ONE_CASE_AT_A_TIME.lock().await;
    let gauge = Arc::new(PoolGauge::default());
    let mut options = ClientOptions::parse(odm_tests::uri()).await.unwrap();
    let port = match &options.hosts[0] {
        ServerAddress::Tcp { port, .. } => port.unwrap_or(27017),
        other => panic!("the concurrency test needs a TCP server, not {other:?}"),
    };
    options.max_pool_size = Some(POOL);
    options.server_selection_timeout = Some(Duration::from_secs(10));
    options.cmap_event_handler = Some(gauge.handler());
    let conn = Connection::from_client(Client::with_options(options).unwrap(), "admin").unwrap();
    (strategy.reset)(&conn).await;

    let sampling = Arc::new(AtomicBool::new(true));
    // Whatever happens below (a timeout, a failed assertion), the sampler stops: a blocking task still
    // running would keep the runtime, and so the test, from ever ending, and the failure from showing.
    let stop_sampling = StopOnDrop(sampling.clone());
    let sampler = {
        let sampling = sampling.clone();
        tokio::task::spawn_blocking(move || {
            let mut max = 0;
            while sampling.load(Ordering::Relaxed) {
                max = max.max(sockets_to(port));
                std::thread::sleep(Duration::from_millis(20));
            }
            max
        })
    };
    let started = Instant::now();
    let work = futures_util::future::join_all(
        (0..TASKS).map(|t| tokio::spawn(task(conn.clone(), strategy.bind, t))),
    );
    // Generous, for a loaded machine; a deadlock never finishes.
    let results = tokio::time::timeout(Duration::from_secs(300), work)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{}: the tasks did not finish in 300 s (deadlock?)",
                strategy.name
            )
        });
    let elapsed = started.elapsed();
    drop(stop_sampling);
    let max_sockets = sampler.await.unwrap();
    let ops: usize = results.into_iter().map(|r| r.expect("a task failed")).sum();

    // Every tenant holds exactly its tasks' documents, each stamped with its own tenant id.
    let per_task = (WRITES - 1) as u64;
    let mut total = 0;
    for t in 0..TENANTS {
        let tenant = tenant(t);
        let items = (strategy.bind)(&conn, &tenant);
        let docs = items.find(()).await.unwrap();
        let foreign: Vec<_> = docs.iter().filter(|i| i.tenant != tenant).collect();
        assert!(
            foreign.is_empty(),
            "{}: tenant {tenant} holds {foreign:?}",
            strategy.name
        );
        let seqs: BTreeSet<i64> = docs.iter().map(|i| i.seq).collect();
        let expected: BTreeSet<i64> = (t..TASKS)
            .step_by(TENANTS)
            .flat_map(|task| (0..WRITES - 1).map(move |j| task as i64 * SEQ_SPAN + j))
            .collect();
        assert_eq!(
            seqs, expected,
            "{}: tenant {tenant}'s documents",
            strategy.name
        );
        assert_eq!(
            docs.len(),
            expected.len(),
            "{}: no duplicates in {tenant}",
            strategy.name
        );
        assert_eq!(
            items.count(doc! { "payload": "updated" }).await.unwrap(),
            (TASKS / TENANTS) as u64
        );
        total += docs.len() as u64;
    }
    assert_eq!(
        total,
        TASKS as u64 * per_task,
        "{}: documents in all",
        strategy.name
    );

    let max_open = gauge.max_open.load(Ordering::SeqCst);
    let max_checked_out = gauge.max_checked_out.load(Ordering::SeqCst);
    assert!(
        max_open <= i64::from(POOL),
        "{}: {max_open} sockets open at once with a pool of {POOL}",
        strategy.name
    );
    assert!(max_checked_out <= i64::from(POOL));
    // The kernel agrees: the pool's sockets plus the driver's monitoring connection (not pooled; one per
    // server, and a second one for round-trip times when the server streams its state), give or take one
    // socket the pool has already closed (its event counted) that the kernel still lists for a moment on a
    // loaded machine. A leak would grow far past this.
    assert!(
        max_sockets <= POOL as usize + 3,
        "{}: {max_sockets} TCP connections to the server at once with a pool of {POOL}",
        strategy.name
    );
    // The pool was really shared under load, not used one socket at a time.
    assert!(max_checked_out > 1, "max checked out = {max_checked_out}");
    println!(
        "{}: {TASKS} tasks over {TENANTS} tenants ran {ops} operations in {elapsed:.2?} ({:.0} ops/s); \
         {total} documents, all in their own tenant; at most {max_open} sockets open ({} created) and \
         {max_checked_out} in use, pool size {POOL}; at most {max_sockets} TCP connections seen by the kernel",
        strategy.name,
        ops as f64 / elapsed.as_secs_f64(),
        gauge.created.load(Ordering::SeqCst),
    );
    (strategy.reset)(&conn).await;
}

/// Clears its flag when dropped, also while a panic unwinds.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// The `Tenants` of a strategy over the case's connection, made on first use (each case runs once per
/// process, on one connection).
fn tenants_of(
    cell: &'static std::sync::OnceLock<Tenants>,
    conn: &Connection,
    db: &str,
    strategy: fn() -> odm_core::Strategy,
) -> &'static Tenants {
    cell.get_or_init(|| Tenants::new(conn.use_db(db).unwrap(), strategy()).unwrap())
}

static COLLECTION_TENANTS: std::sync::OnceLock<Tenants> = std::sync::OnceLock::new();

const COLLECTION_PER_TENANT: Strategy = Strategy {
    name: "collection per tenant",
    bind: |conn, tenant| {
        tenants_of(
            &COLLECTION_TENANTS,
            conn,
            "concurrency_cpt",
            odm_core::Strategy::collection_per_tenant,
        )
        .get(tenant)
        .expect("a valid tenant id")
        .model::<Item>()
    },
    reset: |conn| {
        Box::pin(async move {
            conn.use_db("concurrency_cpt")
                .unwrap()
                .database()
                .drop()
                .await
                .unwrap();
        })
    },
};

static SHARED_TENANTS: std::sync::OnceLock<Tenants> = std::sync::OnceLock::new();

const SHARED_COLLECTION: Strategy = Strategy {
    name: "shared collection (tenant field)",
    bind: |conn, tenant| {
        tenants_of(
            &SHARED_TENANTS,
            conn,
            "concurrency_shared",
            odm_core::Strategy::shared_collection,
        )
        .get(tenant)
        .expect("a valid tenant id")
        .model::<Item>()
    },
    reset: |conn| {
        Box::pin(async move {
            conn.use_db("concurrency_shared")
                .unwrap()
                .database()
                .drop()
                .await
                .unwrap();
        })
    },
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_over_a_hundred_tenant_collections_share_one_pool() {
    run_case(&COLLECTION_PER_TENANT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_over_a_hundred_tenants_of_one_shared_collection_share_one_pool() {
    run_case(&SHARED_COLLECTION).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_over_a_hundred_tenant_databases_share_one_pool() {
    run_case(&DATABASE_PER_TENANT).await;
}
