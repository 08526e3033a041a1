//! CRUD end to end against the server at `MONGODB_URI`: the ODM's `ModelHandle<User>` against the raw
//! driver's `mongodb::Collection<User>`, same server, same run, each operation's two sides measured one
//! after the other. Both sides store the same documents (the raw side sets the timestamps the ODM sets,
//! and its update writes the same `$currentDate`), so the difference is the library's own cost.
//!
//! With `BENCH_JSON=1` it runs the two sides interleaved instead (round after round, alternating which
//! side goes first) and prints JSON: on a shared machine and a test server whose speed drifts, pairing
//! the rounds is what makes a few per cent measurable. `bench/compare` uses that mode, with 61 rounds
//! (`BENCH_ROUNDS`): at 21 the median ratio of two identical raw-driver sides still moved by up to 3%.
//!
//! Skipped, with a message, when `MONGODB_URI` is not set: `scripts/test-server run -- cargo bench
//! --bench crud` starts a local server.
// The raw driver is the baseline measured against, so the pipeline-only rule does not apply here.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::{user, User};
use criterion::{BenchmarkGroup, Criterion};
use futures_util::TryStreamExt;
use odm_core::bson::{doc, oid::ObjectId, DateTime, Document};
use odm_core::{Connection, ModelHandle, Write};

/// Documents in each side's collection before the reads run.
const SEED: usize = 1_000;
/// Documents of one `insert_many`.
const BATCH: usize = 1_000;
/// Inserts in one `bulk_write`; half of them are then updated and the other half deleted, by `_id`, in
/// the same bulk: 100 writes.
const BULK_INSERTS: usize = 50;

/// A user as the raw side stores it: the timestamps the ODM would set.
fn stamped(mut u: User) -> User {
    let now = DateTime::now();
    u.created_at = Some(now);
    u.updated_at = Some(now);
    u
}

/// The databases: reads and updates run on a seeded collection that keeps its size; inserts and deletes
/// run on another, emptied before each operation's pair, so neither side reads a collection the other
/// side's inserts grew.
const DATABASES: [&str; 4] = [
    "bench_crud_odm",
    "bench_crud_raw",
    "bench_crud_odm_writes",
    "bench_crud_raw_writes",
];

struct Sides {
    odm: ModelHandle<User>,
    raw: mongodb::Collection<User>,
    odm_writes: ModelHandle<User>,
    raw_writes: mongodb::Collection<User>,
    /// The database of `raw_writes`, for the raw side's write commands.
    raw_writes_db: mongodb::Database,
}

impl Sides {
    /// Empties the write collections.
    async fn reset_writes(&self) {
        self.odm_writes
            .unconfined_collection()
            .drop()
            .await
            .expect("drop");
        self.raw_writes.drop().await.expect("drop");
    }
}

async fn setup(uri: &str) -> Sides {
    let conn = Connection::connect(uri).await.expect("the server answers");
    let client = conn.client();
    for db in DATABASES {
        client.database(db).drop().await.expect("drop");
    }
    let sides = Sides {
        odm: conn.use_db(DATABASES[0]).expect("name").model::<User>(),
        raw: client.database(DATABASES[1]).collection::<User>("users"),
        odm_writes: conn.use_db(DATABASES[2]).expect("name").model::<User>(),
        raw_writes: client.database(DATABASES[3]).collection::<User>("users"),
        raw_writes_db: client.database(DATABASES[3]),
    };
    let seed: Vec<User> = (0..SEED).map(|i| stamped(user(i))).collect();
    sides
        .odm
        .unconfined_collection()
        .insert_many(&seed)
        .await
        .expect("seed odm side");
    sides.raw.insert_many(&seed).await.expect("seed raw side");
    sides
}

/// An id of a seeded user on each side.
async fn some_ids(sides: &Sides) -> (ObjectId, ObjectId) {
    let odm = sides
        .odm
        .find_one(doc! { "age": 42 })
        .await
        .expect("find")
        .and_then(|u| u.id)
        .expect("a seeded user");
    let raw = sides
        .raw
        .find_one(doc! { "age": 42 })
        .await
        .expect("find")
        .and_then(|u| u.id)
        .expect("a seeded user");
    (odm, raw)
}

fn crud(c: &mut Criterion, rt: &tokio::runtime::Runtime, sides: &Sides) {
    let (odm_id, raw_id) = rt.block_on(some_ids(sides));
    let (odm, raw) = (&sides.odm, &sides.raw);
    let (odm_w, raw_w) = (&sides.odm_writes, &sides.raw_writes);
    let filter = || doc! { "age": { "$gte": 18 } };
    let sort = || doc! { "age": -1, "_id": 1 };

    rt.block_on(sides.reset_writes());
    let mut group = c.benchmark_group("crud/insert_one");
    quick(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt)
            .iter(|| async { odm_w.create(user(1)).await.expect("insert") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_w.insert_one(stamped(user(1))).await.expect("insert") })
    });
    group.finish();

    rt.block_on(sides.reset_writes());
    let batch: Vec<User> = (0..BATCH).map(user).collect();
    let mut group = c.benchmark_group("crud/insert_many_1000");
    slow(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt)
            .iter(|| async { odm_w.insert_many(batch.clone()).await.expect("insert many") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter(|| async {
            let stamped: Vec<User> = batch.iter().cloned().map(stamped).collect();
            raw_w.insert_many(stamped).await.expect("insert many")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("crud/find_by_id");
    quick(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt)
            .iter(|| async { odm.find_by_id(odm_id).await.expect("find").expect("found") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter(|| async {
            raw.find_one(doc! { "_id": raw_id })
                .await
                .expect("find")
                .expect("found")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("crud/find_100_filter_sort");
    slow(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt).iter(|| async {
            let found = odm.find(filter()).sort(sort()).limit(100).await;
            assert_eq!(found.expect("find").len(), 100);
        })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter(|| async {
            let cursor = raw.find(filter()).sort(sort()).limit(100).await;
            let found: Vec<User> = cursor.expect("find").try_collect().await.expect("read");
            assert_eq!(found.len(), 100);
        })
    });
    group.finish();

    let mut group = c.benchmark_group("crud/update_one");
    quick(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt).iter(|| async {
            odm.update_one(
                doc! { "_id": odm_id },
                doc! { "$set": { "name": "Renamed" } },
            )
            .await
            .expect("update")
        })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter(|| async {
            raw.update_one(
                doc! { "_id": raw_id },
                doc! { "$set": { "name": "Renamed" }, "$currentDate": { "updated_at": true } },
            )
            .await
            .expect("update")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("crud/find_one_and_update");
    quick(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt).iter(|| async {
            odm.find_one_and_update(
                doc! { "_id": odm_id },
                doc! { "$set": { "name": "Renamed" } },
            )
            .return_after()
            .await
            .expect("update")
            .expect("found")
        })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter(|| async {
            raw.find_one_and_update(
                doc! { "_id": raw_id },
                doc! { "$set": { "name": "Renamed" }, "$currentDate": { "updated_at": true } },
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .expect("update")
            .expect("found")
        })
    });
    group.finish();

    rt.block_on(sides.reset_writes());
    let raw_db = &sides.raw_writes_db;
    let mut group = c.benchmark_group("crud/bulk_write_100");
    slow(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt).iter_batched(
            bulk_users,
            |users| async move { odm_bulk(odm_w, &users).await },
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter_batched(
            bulk_users,
            |users| async move { raw_bulk(raw_w, raw_db, &users).await },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();

    // Each measured delete removes a document inserted, untimed, just before the batch.
    rt.block_on(sides.reset_writes());
    let mut group = c.benchmark_group("crud/delete_one");
    quick(&mut group);
    group.bench_function("odm", |b| {
        b.to_async(rt).iter_custom(|iters| async move {
            let ids = victims(&odm_w.unconfined_collection(), iters).await;
            let start = Instant::now();
            for id in ids {
                let done = odm_w.delete_one(doc! { "_id": id }).await.expect("delete");
                assert_eq!(done.deleted_count, 1);
            }
            start.elapsed()
        })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter_custom(|iters| async move {
            let ids = victims(raw_w, iters).await;
            let start = Instant::now();
            for id in ids {
                let done = raw_w.delete_one(doc! { "_id": id }).await.expect("delete");
                assert_eq!(done.deleted_count, 1);
            }
            start.elapsed()
        })
    });
    group.finish();
}

/// Inserts `n` users to delete and returns their ids.
async fn victims(coll: &mongodb::Collection<User>, n: u64) -> Vec<ObjectId> {
    let users: Vec<User> = (0..n as usize)
        .map(|i| {
            let mut u = stamped(user(i));
            u.id = Some(ObjectId::new());
            u
        })
        .collect();
    let ids = users.iter().filter_map(|u| u.id).collect();
    coll.insert_many(users).await.expect("insert victims");
    ids
}

/// The users one bulk inserts, with their `_id`s set so the bulk's updates and deletes can name them.
fn bulk_users() -> Vec<User> {
    (0..BULK_INSERTS)
        .map(|i| {
            let mut u = user(i);
            u.id = Some(ObjectId::new());
            u
        })
        .collect()
}

/// The ODM's bulk: 50 inserts, then 25 updates and 25 deletes of them by `_id`, in one `bulk_write`
/// (three commands: the writes of one kind in a row go together).
async fn odm_bulk(odm: &ModelHandle<User>, users: &[User]) {
    let (updated, deleted) = users.split_at(BULK_INSERTS / 2);
    let mut writes = Vec::with_capacity(2 * BULK_INSERTS);
    writes.extend(users.iter().cloned().map(Write::insert_one));
    writes.extend(
        updated.iter().map(|u| {
            Write::update_one(doc! { "_id": u.id }, doc! { "$set": { "name": "Renamed" } })
        }),
    );
    writes.extend(
        deleted
            .iter()
            .map(|u| Write::delete_one(doc! { "_id": u.id })),
    );
    let done = odm.bulk_write(writes).await.expect("bulk write");
    assert_eq!(
        (done.inserted_count, done.modified_count, done.deleted_count),
        (50, 25, 25)
    );
}

/// The same 100 writes with the raw driver, in the same three round trips: `insert_many` (the users
/// stamped as the ODM stamps them), then one `update` and one `delete` command (the driver's own
/// `Client::bulk_write` needs MongoDB 8.0).
async fn raw_bulk(coll: &mongodb::Collection<User>, db: &mongodb::Database, users: &[User]) {
    let (updated, deleted) = users.split_at(BULK_INSERTS / 2);
    let stamped: Vec<User> = users.iter().cloned().map(stamped).collect();
    coll.insert_many(stamped).await.expect("insert many");
    let updates: Vec<Document> = updated
        .iter()
        .map(|u| {
            doc! {
                "q": { "_id": u.id },
                "u": { "$set": { "name": "Renamed" }, "$currentDate": { "updated_at": true } },
                "multi": false,
                "upsert": false,
            }
        })
        .collect();
    let reply = db
        .run_command(doc! { "update": coll.name(), "updates": updates, "ordered": true })
        .await
        .expect("update command");
    assert_eq!(reply.get_i32("nModified"), Ok(25), "{reply}");
    let deletes: Vec<Document> = deleted
        .iter()
        .map(|u| doc! { "q": { "_id": u.id }, "limit": 1 })
        .collect();
    let reply = db
        .run_command(doc! { "delete": coll.name(), "deletes": deletes, "ordered": true })
        .await
        .expect("delete command");
    assert_eq!(reply.get_i32("n"), Ok(25), "{reply}");
}

/// Fewer samples for sub-millisecond operations on a test server, to keep the run short.
fn quick(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(30);
}

/// Fewer samples for the operations that take milliseconds on a test server.
fn slow(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
}

/// The operations of the interleaved run, with how many of each one timed batch holds.
const OPS: [(&str, usize); 9] = [
    ("insert_one", 50),
    // The raw driver on both sides (the ODM side's database, the raw side's): how far apart two equal
    // sides land on this machine and server, the noise floor of every ratio.
    ("insert_one_raw_vs_raw", 50),
    ("insert_many_1000", 1),
    ("find_by_id", 50),
    ("find_100_filter_sort", 5),
    ("update_one", 50),
    ("find_one_and_update", 50),
    ("bulk_write_100", 5),
    ("delete_one", 50),
];

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Odm,
    Raw,
}

/// Runs `k` of operation `op` on one side and returns the time they took.
async fn run_batch(
    sides: &Sides,
    ids: (ObjectId, ObjectId),
    op: &str,
    side: Side,
    k: usize,
) -> Duration {
    let (odm, raw, odm_w, raw_w) = (&sides.odm, &sides.raw, &sides.odm_writes, &sides.raw_writes);
    let filter = || doc! { "age": { "$gte": 18 } };
    let sort = || doc! { "age": -1, "_id": 1 };
    // Prepared untimed: the batch for `insert_many` (cloned by both sides, as a caller would hand it
    // over), and the documents `delete_one` removes.
    let batch: Vec<User> = if op == "insert_many_1000" {
        (0..BATCH).map(user).collect()
    } else {
        Vec::new()
    };
    let mut bulks = if op == "bulk_write_100" {
        (0..k).map(|_| bulk_users()).collect()
    } else {
        Vec::new()
    }
    .into_iter();
    let mut victims = if op == "delete_one" {
        let coll = match side {
            Side::Odm => odm_w.unconfined_collection(),
            Side::Raw => raw_w.clone(),
        };
        victims(&coll, k as u64).await
    } else {
        Vec::new()
    }
    .into_iter();
    let start = Instant::now();
    for i in 0..k {
        match (op, side) {
            ("insert_one", Side::Odm) => drop(odm_w.create(user(i)).await.expect("insert")),
            ("insert_one_raw_vs_raw", Side::Odm) => drop(
                odm_w
                    .unconfined_collection()
                    .insert_one(stamped(user(i)))
                    .await
                    .expect("insert"),
            ),
            ("insert_one" | "insert_one_raw_vs_raw", Side::Raw) => {
                drop(raw_w.insert_one(stamped(user(i))).await.expect("insert"))
            }
            ("insert_many_1000", Side::Odm) => {
                drop(odm_w.insert_many(batch.clone()).await.expect("insert many"))
            }
            ("insert_many_1000", Side::Raw) => {
                let stamped: Vec<User> = batch.iter().cloned().map(stamped).collect();
                drop(raw_w.insert_many(stamped).await.expect("insert many"))
            }
            ("find_by_id", Side::Odm) => {
                odm.find_by_id(ids.0).await.expect("find").expect("found");
            }
            ("find_by_id", Side::Raw) => {
                raw.find_one(doc! { "_id": ids.1 })
                    .await
                    .expect("find")
                    .expect("found");
            }
            ("find_100_filter_sort", Side::Odm) => {
                let found = odm
                    .find(filter())
                    .sort(sort())
                    .limit(100)
                    .await
                    .expect("find");
                assert_eq!(found.len(), 100);
            }
            ("find_100_filter_sort", Side::Raw) => {
                let cursor = raw
                    .find(filter())
                    .sort(sort())
                    .limit(100)
                    .await
                    .expect("find");
                let found: Vec<User> = cursor.try_collect().await.expect("read");
                assert_eq!(found.len(), 100);
            }
            ("update_one", Side::Odm) => drop(
                odm.update_one(
                    doc! { "_id": ids.0 },
                    doc! { "$set": { "name": "Renamed" } },
                )
                .await
                .expect("update"),
            ),
            ("update_one", Side::Raw) => drop(
                raw.update_one(
                    doc! { "_id": ids.1 },
                    doc! { "$set": { "name": "Renamed" }, "$currentDate": { "updated_at": true } },
                )
                .await
                .expect("update"),
            ),
            ("find_one_and_update", Side::Odm) => drop(
                odm.find_one_and_update(
                    doc! { "_id": ids.0 },
                    doc! { "$set": { "name": "Renamed" } },
                )
                .return_after()
                .await
                .expect("update")
                .expect("found"),
            ),
            ("find_one_and_update", Side::Raw) => drop(
                raw.find_one_and_update(
                    doc! { "_id": ids.1 },
                    doc! { "$set": { "name": "Renamed" }, "$currentDate": { "updated_at": true } },
                )
                .return_document(mongodb::options::ReturnDocument::After)
                .await
                .expect("update")
                .expect("found"),
            ),
            ("bulk_write_100", Side::Odm) => {
                odm_bulk(odm_w, &bulks.next().expect("a bulk per round")).await
            }
            ("bulk_write_100", Side::Raw) => {
                let users = bulks.next().expect("a bulk per round");
                raw_bulk(raw_w, &sides.raw_writes_db, &users).await
            }
            ("delete_one", Side::Odm) => {
                let done = odm_w
                    .delete_one(doc! { "_id": victims.next().expect("a victim per delete") })
                    .await
                    .expect("delete");
                assert_eq!(done.deleted_count, 1);
            }
            ("delete_one", Side::Raw) => {
                let done = raw_w
                    .delete_one(doc! { "_id": victims.next().expect("a victim per delete") })
                    .await
                    .expect("delete");
                assert_eq!(done.deleted_count, 1);
            }
            _ => unreachable!("unknown operation {op}"),
        }
    }
    start.elapsed()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The interleaved run: per operation, `rounds` rounds of one batch per side, the side that goes first
/// alternating. Prints one JSON object per operation, times in microseconds per operation.
async fn interleaved(sides: &Sides, rounds: usize) {
    let ids = some_ids(sides).await;
    for (op, k) in OPS {
        sides.reset_writes().await;
        // Warm-up: connections in the pool, server caches.
        for side in [Side::Odm, Side::Raw] {
            run_batch(sides, ids, op, side, k).await;
        }
        let (mut odm, mut raw, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                [Side::Odm, Side::Raw]
            } else {
                [Side::Raw, Side::Odm]
            };
            let mut pair = [0.0; 2];
            for side in order {
                let took = run_batch(sides, ids, op, side, k).await;
                pair[(side == Side::Raw) as usize] = took.as_secs_f64() * 1e6 / k as f64;
            }
            odm.push(pair[0]);
            raw.push(pair[1]);
            ratio.push(pair[0] / pair[1]);
        }
        println!(
            "{{\"op\": \"{op}\", \"rounds\": {rounds}, \"per_round\": {k}, \"odm_us\": {:.1}, \"raw_us\": {:.1}, \"odm_over_raw\": {:.4}}}",
            median(&mut odm),
            median(&mut raw),
            median(&mut ratio),
        );
    }
}

fn main() {
    let Ok(uri) = std::env::var("MONGODB_URI") else {
        eprintln!(
            "crud benchmarks skipped: MONGODB_URI is not set. Run them against a server with \
             `scripts/test-server run -- cargo bench -p odm-core --bench crud`, or set MONGODB_URI."
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sides = rt.block_on(setup(&uri));
    if std::env::var_os("BENCH_JSON").is_some() {
        let rounds = std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(61);
        rt.block_on(interleaved(&sides, rounds));
        rt.block_on(drop_all(&sides));
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    crud(&mut c, &rt, &sides);
    c.final_summary();
    rt.block_on(drop_all(&sides));
}

/// Leaves nothing behind on the server.
async fn drop_all(sides: &Sides) {
    let client = sides.odm.connection().client();
    for db in DATABASES {
        let _ = client.database(db).drop().await;
    }
}
