//! Fleet migrations against the server at `MONGODB_URI`, one shot per figure: the time to migrate
//! 1,000 tenants through one small step (a `set_default` over a few documents each), and the documents
//! per second of a field rename over one large tenant, beside the same `update_many` written by hand
//! with the raw driver on a copy of the same documents. Rounds alternate which side runs first; the
//! medians are printed.
//!
//! `scripts/test-server run -- cargo bench --bench migrate` starts a local server. Skipped, with a
//! message, when `MONGODB_URI` is not set. `BENCH_TENANTS` (1,000), `BENCH_DOCS` (100,000) and
//! `BENCH_ROUNDS` (3) size it.
// The raw driver is the baseline measured against, so the pipeline-only rule does not apply here.
#![allow(clippy::disallowed_methods)]

mod oneshot;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use odm_core::bson::{doc, oid::ObjectId, Document};
use odm_core::prelude::*;
use odm_core::{MigrateOptions, Migrations, Strategy, Tenants};
use oneshot::{env, median};

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "items")]
struct Item {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[serde(alias = "title")]
    name: String,
    #[serde(default)]
    plan: Option<String>,
    n: i64,
}

fn old_docs(n: usize) -> Vec<Document> {
    (0..n as i64)
        .map(|i| doc! { "title": format!("item {i}"), "n": i })
        .collect()
}

#[tokio::main]
async fn main() {
    let Ok(uri) = std::env::var("MONGODB_URI") else {
        eprintln!("migrate bench skipped: set MONGODB_URI, or run it through `scripts/test-server run --`");
        return;
    };
    let (tenants_n, docs, rounds) = (
        env("BENCH_TENANTS", 1000),
        env("BENCH_DOCS", 100_000),
        env("BENCH_ROUNDS", 3),
    );
    let conn = Connection::connect(&uri)
        .await
        .unwrap()
        .use_db("bench_migrate")
        .unwrap();
    conn.database().drop().await.unwrap();

    // 1,000 tenants of a shared collection, 5 documents each, one small step.
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let ids: Vec<String> = (0..tenants_n).map(|i| format!("t{i:04}")).collect();
    let coll = conn.database().collection::<Document>("items");
    let mut seed = Vec::new();
    for id in &ids {
        for d in old_docs(5) {
            let mut d = d;
            d.insert("tenant_id", id.as_str());
            seed.push(d);
        }
    }
    for chunk in seed.chunks(10_000) {
        coll.insert_many(chunk.to_vec()).await.unwrap();
    }
    let step = Migrations::new().set_default::<Item>("plan", 1, "plan", "free");
    let started = Instant::now();
    let report = step
        .run(
            &tenants,
            ids.clone(),
            &MigrateOptions {
                concurrency: 16,
                ..MigrateOptions::default()
            },
        )
        .await;
    let fleet_time = started.elapsed();
    assert!(report.is_ok());
    // The same step by hand: one `update_many` per tenant, 16 at a time, no ledger.
    coll.update_many(doc! {}, doc! { "$unset": { "plan": "" } })
        .await
        .unwrap();
    let started = Instant::now();
    futures_util::stream::iter(&ids)
        .map(|id| {
            let coll = coll.clone();
            async move {
                coll.update_many(
                    doc! { "tenant_id": id.as_str(), "plan": { "$exists": false } },
                    doc! { "$set": { "plan": "free" } },
                )
                .await
                .unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let raw_time = started.elapsed();
    println!(
        "{tenants_n} tenants, one small step, concurrency 16: {:.2} s ({:.1} ms per tenant); by hand with the raw driver {:.2} s (step / raw {:.2})",
        fleet_time.as_secs_f64(),
        fleet_time.as_secs_f64() * 1000.0 / tenants_n as f64,
        raw_time.as_secs_f64(),
        fleet_time.as_secs_f64() / raw_time.as_secs_f64()
    );

    // One large tenant: a rename through the library's step, beside the raw driver's update_many.
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let big = format!("big{round}");
        let db = conn.client().database(&format!("bench_migrate_{big}"));
        let raw_db = conn.client().database(&format!("bench_migrate_raw{round}"));
        for d in [&db, &raw_db] {
            d.drop().await.unwrap();
            let items = d.collection::<Document>("items");
            for chunk in old_docs(docs).chunks(10_000) {
                items.insert_many(chunk.to_vec()).await.unwrap();
            }
        }
        let by_db = Tenants::new(
            conn.clone(),
            Strategy::database_per_tenant("bench_migrate_"),
        )
        .unwrap();
        let library = async {
            let rename = Migrations::new().rename_field::<Item>("rename", 1, "title", "name");
            let started = Instant::now();
            let report = rename
                .run(&by_db, vec![big.clone()], &MigrateOptions::default())
                .await;
            assert!(report.is_ok());
            started.elapsed()
        };
        let by_hand = async {
            let started = Instant::now();
            raw_db
                .collection::<Document>("items")
                .update_many(
                    doc! { "title": { "$exists": true } },
                    doc! { "$rename": { "title": "name" } },
                )
                .await
                .unwrap();
            started.elapsed()
        };
        let (a, b): (Duration, Duration) = if round % 2 == 0 {
            let a = library.await;
            (a, by_hand.await)
        } else {
            let b = by_hand.await;
            (library.await, b)
        };
        ours.push(docs as f64 / a.as_secs_f64());
        raw.push(docs as f64 / b.as_secs_f64());
        db.drop().await.unwrap();
        raw_db.drop().await.unwrap();
    }
    let (ours, raw) = (median(ours), median(raw));
    println!("rename over {docs} documents, migration step: {ours:>9.0} docs/s");
    println!(
        "rename over {docs} documents, raw update_many: {raw:>9.0} docs/s  (step / raw {:.2})",
        ours / raw
    );
    conn.database().drop().await.unwrap();
}
