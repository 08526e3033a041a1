//! The tenant lifecycle against the server at `MONGODB_URI`, one shot per figure (these are bulk
//! operations of seconds, not microseconds): a live move's throughput beside a plain copy of the same
//! documents with the raw driver (a cursor over the source, `insert_many` of raw documents in batches of
//! 1,000), export and import throughput, and the cut-over pause of a move with writers running: at the
//! default lease with the fleets following the catalogue and without (two fleets on one catalogue, for
//! two processes of a service, writing through both), and at a short lease without following. Rounds
//! alternate the two sides; the medians are printed.
//!
//! `scripts/test-server run -- cargo bench --bench lifecycle` starts a local server. Skipped, with a
//! message, when `MONGODB_URI` is not set. `BENCH_DOCS` (default 20,000) and `BENCH_ROUNDS` (default 3)
//! size it; `BENCH_ONLY=cutover` runs the cut-over figures alone.
// The raw driver is the baseline measured against, so the pipeline-only rule does not apply here.
#![allow(clippy::disallowed_methods)]

mod oneshot;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use odm_core::bson::{doc, oid::ObjectId, DateTime, RawDocumentBuf};
use odm_core::prelude::*;
use odm_core::{model_set, Fleet, ModelSet, Strategy, Tenants};
use oneshot::{env, median};

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "events", timestamps)]
struct Event {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(index)]
    kind: String,
    n: i64,
    payload: String,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
}

static MODELS: ModelSet = model_set![Event];

fn event(n: i64) -> Event {
    Event {
        id: None,
        kind: format!("kind-{}", n % 7),
        n,
        payload: "x".repeat(200),
        created_at: None,
        updated_at: None,
    }
}

async fn fleet(conn: &Connection, lease: Duration) -> Fleet {
    fleet_following(conn, lease, true).await
}

async fn fleet_following(conn: &Connection, lease: Duration, follow: bool) -> Fleet {
    Fleet::builder(conn, MODELS)
        .placement(
            "shared",
            Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap(),
        )
        .placement(
            "dedicated",
            Tenants::new(conn.clone(), Strategy::database_per_tenant("bench_lc_")).unwrap(),
        )
        .default_placement("shared")
        .lease(lease)
        .follow(follow)
        .build()
        .unwrap()
}

/// A fresh tenant at `shared` holding `docs` events.
async fn seeded(fleet: &Fleet, id: &str, docs: usize) {
    fleet.provision(id, Some("shared")).await.unwrap();
    let events = fleet.tenant(id).await.unwrap().model::<Event>();
    for chunk in (0..docs as i64).collect::<Vec<_>>().chunks(1000) {
        events
            .insert_many(chunk.iter().map(|n| event(*n)))
            .await
            .unwrap();
    }
}

/// The raw driver's copy: every document of the tenant out of the shared collection, into a database
/// of its own, in batches of 1,000.
async fn raw_copy(conn: &Connection, id: &str) -> Duration {
    let target = conn.client().database(&format!("bench_lc_raw_{id}"));
    target.drop().await.unwrap();
    let to = target.collection::<RawDocumentBuf>("events");
    let from = conn.database().collection::<RawDocumentBuf>("events");
    let started = Instant::now();
    let mut cursor = from.find(doc! { "tenant_id": id }).await.unwrap();
    let mut batch = Vec::with_capacity(1000);
    while let Some(raw) = cursor.try_next().await.unwrap() {
        batch.push(raw);
        if batch.len() == 1000 {
            to.insert_many(std::mem::take(&mut batch)).await.unwrap();
        }
    }
    if !batch.is_empty() {
        to.insert_many(batch).await.unwrap();
    }
    let took = started.elapsed();
    target.drop().await.unwrap();
    took
}

#[tokio::main]
async fn main() {
    let Ok(uri) = std::env::var("MONGODB_URI") else {
        eprintln!("lifecycle bench skipped: set MONGODB_URI, or run it through `scripts/test-server run --`");
        return;
    };
    let docs = env("BENCH_DOCS", 20_000);
    let rounds = env("BENCH_ROUNDS", 3);
    let conn = Connection::connect(&uri)
        .await
        .unwrap()
        .use_db("bench_lifecycle")
        .unwrap();
    conn.database().drop().await.unwrap();
    for name in conn.client().list_database_names().await.unwrap() {
        if name.starts_with("bench_lc_") {
            conn.client().database(&name).drop().await.unwrap();
        }
    }
    if std::env::var("BENCH_ONLY").as_deref() != Ok("cutover") {
        throughput(&conn, docs, rounds).await;
    }
    let cases = [
        (Duration::from_secs(2), false),
        (Duration::from_secs(2), true),
        (Duration::from_millis(300), false),
    ];
    let mut pauses = vec![(vec![], vec![]); cases.len()];
    for round in 0..rounds {
        // Alternate the order of the cases from round to round.
        let order: Vec<usize> = match round % 2 {
            0 => (0..cases.len()).collect(),
            _ => (0..cases.len()).rev().collect(),
        };
        for case in order {
            let (lease, follow) = cases[case];
            let id = format!(
                "busy{}{}r{round}",
                lease.as_millis(),
                if follow { "f" } else { "" }
            );
            let (pause, release) = cut_over(&conn, &id, lease, follow).await;
            pauses[case].0.push(pause.as_secs_f64());
            pauses[case].1.push(release.as_secs_f64());
        }
    }
    for (case, (pause, release)) in cases.iter().zip(pauses) {
        let (lease, follow) = case;
        println!(
            "cut-over pause, 2 processes x 2 writers, lease {lease:?}, {}: {:.3} s (waiting for the processes {:.3} s)",
            if *follow { "following" } else { "not following" },
            median(pause),
            median(release),
        );
    }
    conn.database().drop().await.unwrap();
    for name in conn.client().list_database_names().await.unwrap() {
        if name.starts_with("bench_lc_") {
            conn.client().database(&name).drop().await.unwrap();
        }
    }
}

/// Moves a fresh tenant from `shared` to `dedicated` while two fleets on the catalogue (two processes)
/// write through it, two writers each; returns the cut-over's pause and its wait for the processes.
async fn cut_over(
    conn: &Connection,
    id: &str,
    lease: Duration,
    follow: bool,
) -> (Duration, Duration) {
    let mover = fleet_following(conn, lease, follow).await;
    let other = fleet_following(conn, lease, follow).await;
    seeded(&mover, id, 2000).await;
    let done = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let fleet = if w % 2 == 0 {
            mover.clone()
        } else {
            other.clone()
        };
        let (done, id) = (done.clone(), id.to_owned());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                if let Ok(t) = fleet.tenant(&id).await {
                    let _ = t.model::<Event>().create(event(w * 1_000_000 + n)).await;
                    n += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = mover.move_tenant(id, "dedicated").await.unwrap();
    done.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    (report.pause, report.release)
}

/// The copy, export and import throughput figures.
async fn throughput(conn: &Connection, docs: usize, rounds: usize) {
    let fleet = fleet(conn, Duration::from_secs(2)).await;
    let (mut raw, mut moved, mut export, mut import) = (vec![], vec![], vec![], vec![]);
    let dir = std::env::temp_dir().join("odm-bench-lifecycle");
    for round in 0..rounds {
        let id = format!("big{round}");
        seeded(&fleet, &id, docs).await;
        let raw_first = round % 2 == 0;
        if raw_first {
            raw.push(docs as f64 / raw_copy(conn, &id).await.as_secs_f64());
        }
        let report = fleet.move_tenant(&id, "dedicated").await.unwrap();
        moved.push(report.copied as f64 / report.copy_time.as_secs_f64());
        if !raw_first {
            // Moved back to shared first, so both sides copy out of the same collection.
            fleet.move_tenant(&id, "shared").await.unwrap();
            raw.push(docs as f64 / raw_copy(conn, &id).await.as_secs_f64());
        }
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        fleet.export(&id, &dir).await.unwrap();
        export.push(docs as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        fleet
            .import(&format!("copy{round}"), Some("dedicated"), &dir)
            .await
            .unwrap();
        import.push(docs as f64 / started.elapsed().as_secs_f64());
    }
    let (raw, moved) = (median(raw), median(moved));
    println!("documents per tenant: {docs}, rounds: {rounds}");
    println!("raw driver copy (find + insert_many):  {raw:>9.0} docs/s");
    println!(
        "move, snapshot copy:                   {moved:>9.0} docs/s  ({:.2} of the raw copy)",
        moved / raw
    );
    println!(
        "export:                                {:>9.0} docs/s",
        median(export)
    );
    println!(
        "import:                                {:>9.0} docs/s",
        median(import)
    );
}
