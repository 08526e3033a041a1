//! Faults: the server is killed in the middle of a batch, or freezes, and the library keeps its word: it
//! says what is known written, never hangs past its timeouts, and works again on the same connection once
//! the server is back.
//!
//! The kills and freezes each own their server process (`odm_tests::TestServer`, a `secantusd-rs` over
//! WiredTiger), so breaking it never disturbs the other tests, and a restart after a kill goes through
//! WiredTiger's recovery. The closed connections come from a `failCommand` fail point on the fail-point
//! server (`ODM_FAILPOINT_URI`), confined to the test's own client.

#[path = "reliability/models.rs"]
mod models;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use models::Item;
use odm_core::bson::doc;
use odm_core::mongodb::event::command::CommandEvent;
use odm_core::mongodb::event::EventHandler;
use odm_core::mongodb::Client;
use odm_core::{Connection, Error};
use odm_tests::{FailPoint, TestServer};

const BATCH: usize = 10_000;

type BoxFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = odm_core::Result<()>> + Send + 'a>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_after_the_first_chunk_of_insert_many_loses_nothing_it_confirmed() {
    kill_during_insert_many("faults_kill_early", 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_in_the_middle_of_a_chunk_of_insert_many_loses_nothing_it_confirmed() {
    kill_during_insert_many("faults_kill_mid", 5_500).await;
}

/// Inserts a batch of [`BATCH`] items and kills the server once `kill_at` of them are seen stored.
async fn kill_during_insert_many(db: &str, kill_at: u64) {
    let mut server = TestServer::start().await;
    let conn = Connection::options(&server.uri())
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap()
        .use_db(db)
        .unwrap();
    let items = conn.model::<Item>();
    // A second client watches the batch land, so the kill falls after the first chunk and before the last.
    let watcher = Connection::options(&server.uri())
        .timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap()
        .use_db(db)
        .unwrap()
        .model::<Item>();

    let batch: Vec<Item> = (0..BATCH as i64)
        .map(|i| Item::new("acme", i, "x".repeat(256)))
        .collect();
    let inserting = {
        let items = items.clone();
        tokio::spawn(async move { items.insert_many(batch).await })
    };
    let seen = loop {
        let n = watcher.count(()).await.unwrap();
        assert!(
            !inserting.is_finished(),
            "the batch finished before the kill ({n} seen); make the documents larger"
        );
        if n >= kill_at {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    server.kill();
    let outcome = tokio::time::timeout(Duration::from_secs(30), inserting)
        .await
        .expect("insert_many hangs after the server died")
        .expect("the insert task panicked");

    let (written, unknown) = match outcome {
        Ok(stored) => panic!(
            "insert_many returned Ok with {} documents although the server was killed after {seen} of \
             {BATCH} were stored",
            stored.len()
        ),
        Err(
            e @ Error::PartialWrite {
                written,
                unknown,
                total,
                ..
            },
        ) => {
            let Error::PartialWrite { source, .. } = &e else {
                unreachable!()
            };
            let message = e.to_string();
            assert!(
                message.contains(&format!("documents 0..{written} of {BATCH} are stored"))
                    && message.contains(&format!("the next {unknown} may or may not be")),
                "the message says what is known: {message}"
            );
            assert_eq!(total, BATCH);
            assert!(
                source.is_network(),
                "the cause is the dead server: {source}"
            );
            assert!(written < BATCH && written % 1_000 == 0, "written = {written}");
            // The chunk in flight when the connection broke is the unknown part: one chunk at most.
            assert!(unknown <= 1_000, "unknown = {unknown}");
            (written, unknown)
        }
        // Only acceptable when nothing at all was confirmed.
        Err(e) if e.is_network() => (0, BATCH),
        Err(e) => panic!("unexpected error after the kill: {e}"),
    };

    server.restart().await;

    // The same connection and the same bound model, not rebuilt.
    let stored = items
        .count(())
        .await
        .expect("the same handle works after the restart");
    let stored = usize::try_from(stored).unwrap();
    assert!(
        (written..=written + unknown).contains(&stored),
        "the server holds {stored} documents, but the error said {written} known written and {unknown} unknown"
    );
    // Ordered semantics: what is stored is exactly the head of the batch, nothing skipped.
    let mut seqs: Vec<i64> = items
        .distinct("seq", ())
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.as_i64().expect("`seq` is stored as an Int64"))
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..stored as i64).collect::<Vec<_>>());

    // The caller finishes the batch from where the server stopped, and nothing is lost or doubled.
    let rest: Vec<Item> = (stored as i64..BATCH as i64)
        .map(|i| Item::new("acme", i, "x".repeat(256)))
        .collect();
    items.insert_many(rest).await.unwrap();
    assert_eq!(items.count(()).await.unwrap(), BATCH as u64);
    assert_eq!(
        items
            .count(doc! { "tenant": { "$ne": "acme" } })
            .await
            .unwrap(),
        0
    );
    println!(
        "insert_many of {BATCH}: killed after {seen} seen stored; error said written={written} \
         unknown={unknown}; {stored} stored after restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_fails_operations_within_the_operation_timeout_and_recovers() {
    let server = TestServer::start().await;
    let timeout = Duration::from_secs(2);
    // With an operation timeout every operation fails within it, whatever the driver's monitor does;
    // the margin covers the scheduling of the timer on a loaded machine.
    let conn = Connection::options(&server.uri())
        .timeout(timeout)
        .operation_timeout(timeout)
        .connect()
        .await
        .unwrap();
    frozen_server_case(
        &server,
        conn,
        "faults_stop_deadline",
        timeout,
        timeout + Duration::from_millis(750),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_fails_operations_within_the_monitor_bound_without_an_operation_timeout() {
    let server = TestServer::start().await;
    let timeout = Duration::from_secs(2);
    // A monitor check every 500 ms notices the frozen server soon, and the driver then interrupts the
    // operations in flight on it (the Rust driver has no per-socket read timeout).
    let uri = format!("{}/?heartbeatFrequencyMS=500", server.uri());
    let conn = Connection::options(&uri)
        .timeout(timeout)
        .connect()
        .await
        .unwrap();
    // What bounds an operation without an operation timeout: one in flight fails when the monitor's next
    // check (at most one heartbeat away) times out after `timeout`; a read is then retried once
    // (retryable reads), and that retry's server selection gives up after `timeout` again.
    let heartbeat = Duration::from_millis(500);
    let bound = heartbeat + timeout * 2 + Duration::from_millis(1_500);
    frozen_server_case(&server, conn, "faults_stop", timeout, bound).await;
}

/// Freezes the server (SIGSTOP) under four operations, checks each fails with a network error within
/// `bound`, then thaws it (SIGCONT) and checks the same handle works again.
async fn frozen_server_case(
    server: &TestServer,
    conn: Connection,
    db: &str,
    timeout: Duration,
    bound: Duration,
) {
    let conn = conn.use_db(db).unwrap();
    let items = conn.model::<Item>();
    items.create(Item::new("acme", 0, "before")).await.unwrap();

    server.stop();
    let started = Instant::now();
    let timed = |f: BoxFuture<'static>| async move {
        let t = Instant::now();
        (f.await, t.elapsed())
    };
    let ops: [(&str, BoxFuture<'static>); 4] = {
        let (a, b, c, d) = (items.clone(), items.clone(), items.clone(), items.clone());
        [
            (
                "create",
                Box::pin(async move { a.create(Item::new("acme", 1, "during")).await.map(drop) }),
            ),
            (
                "count",
                Box::pin(async move { b.count(()).await.map(drop) }),
            ),
            (
                "find",
                Box::pin(async move { c.find(doc! { "seq": 0 }).await.map(drop) }),
            ),
            (
                "update_one",
                Box::pin(async move {
                    d.update_one(doc! { "seq": 0 }, doc! { "$set": { "payload": "x" } })
                        .await
                        .map(drop)
                }),
            ),
        ]
    };
    let names: Vec<&str> = ops.iter().map(|(n, _)| *n).collect();
    let results = tokio::time::timeout(
        bound + Duration::from_secs(10),
        join_all(ops.into_iter().map(|(_, f)| timed(f))),
    )
    .await
    .expect("operations on a frozen server hang past their timeout");
    let elapsed = started.elapsed();
    let mut report = Vec::new();
    for (name, (r, took)) in names.iter().zip(&results) {
        match r {
            Ok(()) => panic!("{name} succeeded on a frozen server"),
            Err(e) => assert!(
                e.is_network(),
                "{name}: a frozen server gives a network error: {e}"
            ),
        }
        assert!(
            *took <= bound,
            "{name} took {took:?} to fail; the bound is {bound:?}"
        );
        report.push(format!("{name} {:.1}s", took.as_secs_f64()));
    }

    server.cont();
    let recovered = Instant::now();
    let count = tokio::time::timeout(timeout * 3, items.count(()))
        .await
        .expect("the first operation after SIGCONT hangs")
        .expect("the same handle works after SIGCONT");
    // The insert sent before the freeze may still be applied when the server wakes: its outcome was
    // reported as unknown (a network error), never as success.
    assert!((1..=2).contains(&count), "count = {count}");
    items.create(Item::new("acme", 2, "after")).await.unwrap();
    assert_eq!(
        items.count(doc! { "seq": 2 }).await.unwrap(),
        1,
        "a write after SIGCONT is stored"
    );
    println!(
        "SIGSTOP: every operation failed within {elapsed:?} ({}; timeout {timeout:?}, bound {bound:?}); \
         recovered in {:?}",
        report.join(", "),
        recovered.elapsed()
    );
}

/// A connection to a fresh database `db` on the fail-point server, as client `db`, and the number of
/// `insert` commands it has sent so far (counted from the driver's command events).
async fn failpoint_connection(db: &str) -> (Connection, Arc<AtomicUsize>) {
    let inserts = Arc::new(AtomicUsize::new(0));
    let mut options = odm_tests::failpoint::failpoint_client_options(db).await;
    let counter = inserts.clone();
    options.command_event_handler = Some(EventHandler::callback(move |event| {
        if let CommandEvent::Started(started) = event {
            if started.command_name == "insert" {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    }));
    let conn = Connection::from_client(Client::with_options(options).unwrap(), db).unwrap();
    conn.database().drop().await.unwrap();
    (conn, inserts)
}

#[tokio::test]
async fn a_write_whose_connection_closes_is_retried_once_and_stored_once() {
    let db = "faults_retryable_write";
    let (conn, inserts) = failpoint_connection(db).await;
    let items = conn.model::<Item>();
    // The server closes the connection instead of answering the first insert (MongoDB's fail point runs
    // before the command); the driver retries a retryable write once, on a new connection.
    let fail = FailPoint::arm(
        db,
        doc! { "times": 1 },
        doc! { "failCommands": ["insert"], "closeConnection": true },
    )
    .await;
    let created = items.create(Item::new("acme", 1, "once")).await.unwrap();
    drop(fail);
    assert_eq!(
        inserts.load(Ordering::SeqCst),
        2,
        "the first insert met the closed connection and the retry went through"
    );
    assert_eq!(items.count(()).await.unwrap(), 1, "stored exactly once");
    assert_eq!(
        items.find_by_id(created.id.unwrap()).await.unwrap(),
        Some(created)
    );
}

#[tokio::test]
async fn a_network_error_in_the_middle_of_insert_many_says_what_is_stored() {
    let db = "faults_insert_many_network_error";
    let (conn, inserts) = failpoint_connection(db).await;
    let items = conn.model::<Item>();
    const TOTAL: usize = 3_000;
    // The first two chunks of 1,000 go through; the third meets a closed connection, and so does the
    // driver's one retry of it.
    let fail = FailPoint::arm(
        db,
        doc! { "skip": 2, "times": 2 },
        doc! { "failCommands": ["insert"], "closeConnection": true },
    )
    .await;
    let batch: Vec<Item> = (0..TOTAL as i64)
        .map(|i| Item::new("acme", i, "x"))
        .collect();
    let err = items.insert_many(batch).await.unwrap_err();
    drop(fail);
    assert_eq!(
        inserts.load(Ordering::SeqCst),
        4,
        "two chunks, then the third and its retry"
    );
    let Error::PartialWrite {
        written,
        unknown,
        total,
        source,
    } = &err
    else {
        panic!("expected PartialWrite, got {err}");
    };
    assert_eq!((*written, *unknown, *total), (2_000, 1_000, TOTAL), "{err}");
    assert!(
        source.is_network(),
        "the cause is the closed connection: {source}"
    );
    assert!(
        err.to_string()
            .contains("documents 0..2000 of 3000 are stored, the next 1000 may or may not be"),
        "{err}"
    );
    // The fail point closed the connection before the chunk ran, so exactly the head of the batch is
    // stored, within what the error said.
    let mut seqs: Vec<i64> = items
        .distinct("seq", ())
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.as_i64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..2_000).collect::<Vec<_>>());
    assert_eq!(items.count(()).await.unwrap(), 2_000);
}
