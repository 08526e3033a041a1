//! Every operation is bounded by the operation timeout. A server of the test's own is frozen with SIGSTOP
//! (it keeps its sockets open and answers nothing, like a stuck primary or a partition that drops
//! packets), then every operation builder is awaited: each must fail within the timeout plus a margin.
//!
//! The table is checked against the library's source: an operation builder, or a method of
//! `ModelHandle`, with no row here fails `every_operation_has_a_row`.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use odm_core::prelude::*;
use odm_core::{Error, Projection, Ref, Write};
use odm_tests::TestServer;

const TIMEOUT: Duration = Duration::from_millis(400);
/// Scheduling and the driver's own bookkeeping, on a loaded machine.
const MARGIN: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "tags")]
struct Tag {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "notes", timestamps, version)]
struct Note {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    title: String,
    n: i32,
    tag: Option<Ref<Tag>>,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
    #[serde(rename = "__v", default)]
    version: Option<i64>,
}

/// A soft-delete model, for `restore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "memos", soft_delete)]
struct Memo {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    deleted_at: Option<DateTime>,
}

fn note(title: &str) -> Note {
    Note {
        id: None,
        title: title.into(),
        n: 1,
        tag: None,
        created_at: None,
        updated_at: None,
        version: None,
    }
}

type Run<'a> = Pin<Box<dyn Future<Output = Result<String, Error>> + Send + 'a>>;

/// One row: the builder (or method) it covers, and the operation awaited.
struct Row<'a> {
    covers: &'static [&'static str],
    run: Run<'a>,
}

fn ok<T: std::fmt::Debug>(r: odm_core::Result<T>) -> Result<String, Error> {
    r.map(|v| format!("{v:?}"))
}

/// The rows. Kept as one function so `every_operation_has_a_row` can read the names it covers.
fn rows<'a>(
    conn: &'a Connection,
    notes: &'a ModelHandle<Note>,
    existing: &'a Note,
    server: Option<&'a TestServer>,
) -> Vec<Row<'a>> {
    let id = existing.id.unwrap();
    let row = |covers: &'static [&'static str], run: Run<'a>| Row { covers, run };
    vec![
        row(
            &["create", "Create"],
            Box::pin(async move { ok(notes.create(note("c")).await) }),
        ),
        row(
            &["insert_many", "InsertMany"],
            Box::pin(async move { ok(notes.insert_many([note("m1"), note("m2")]).await) }),
        ),
        row(
            &["save", "Save"],
            Box::pin(async move {
                let mut value = existing.clone();
                ok(notes.save(&mut value).await)
            }),
        ),
        row(
            &["find", "Find"],
            Box::pin(async move { ok(notes.find(doc! {}).await) }),
        ),
        row(
            &["Projected"],
            Box::pin(async move {
                ok(notes
                    .find(doc! {})
                    .project(Projection::new().include(&Note::fields().title))
                    .await)
            }),
        ),
        row(
            &["stream"],
            Box::pin(async move {
                match notes.find(doc! {}).stream().await {
                    Ok(s) => ok(s.try_collect::<Vec<_>>().await),
                    Err(e) => Err(e),
                }
            }),
        ),
        row(
            &["Populate"],
            Box::pin(async move {
                ok(notes
                    .find(doc! {})
                    .populate(Note::fields().tag)
                    .await
                    .map(|p| p.len()))
            }),
        ),
        row(
            &["PageFind"],
            Box::pin(async move { ok(notes.find(doc! {}).page_after(None, 10).await) }),
        ),
        row(
            &["find_and_count"],
            Box::pin(async move { ok(notes.find_and_count(notes.find(doc! {})).await) }),
        ),
        row(
            &["find_one", "FindOne"],
            Box::pin(async move { ok(notes.find_one(doc! {}).await) }),
        ),
        row(
            &["find_by_id"],
            Box::pin(async move { ok(notes.find_by_id(id).await) }),
        ),
        row(
            &["Required"],
            Box::pin(async move { ok(notes.find_by_id(id).required().await) }),
        ),
        row(
            &["count", "Count"],
            Box::pin(async move { ok(notes.count(doc! {}).await) }),
        ),
        row(
            &["exists", "Exists"],
            Box::pin(async move { ok(notes.exists(doc! {}).await) }),
        ),
        row(
            &["distinct", "Distinct"],
            Box::pin(async move { ok(notes.distinct("title", doc! {}).await) }),
        ),
        row(
            &["aggregate", "Aggregate"],
            Box::pin(async move { ok(notes.aggregate([doc! { "$match": {} }]).await) }),
        ),
        row(
            &["aggregate stream"],
            Box::pin(async move {
                match notes.aggregate([doc! { "$match": {} }]).stream().await {
                    Ok(s) => ok(s.try_collect::<Vec<_>>().await),
                    Err(e) => Err(e),
                }
            }),
        ),
        row(
            &["update_one", "UpdateOp"],
            Box::pin(async move {
                ok(notes
                    .update_one(doc! { "_id": id }, doc! { "$set": { "n": 2 } })
                    .await)
            }),
        ),
        row(
            &["update_many"],
            Box::pin(async move {
                ok(notes
                    .update_many(doc! {}, doc! { "$set": { "n": 3 } })
                    .await)
            }),
        ),
        row(
            &["replace_one", "Replace"],
            Box::pin(async move {
                ok(notes
                    .replace_one(doc! { "_id": id }, existing.clone())
                    .await)
            }),
        ),
        row(
            &["delete_one", "Delete"],
            Box::pin(async move { ok(notes.delete_one(doc! { "_id": id }).await) }),
        ),
        row(
            &["delete_many"],
            Box::pin(async move { ok(notes.delete_many(doc! { "n": 99 }).await) }),
        ),
        row(
            &["find_one_and_update", "FindOneAndUpdate"],
            Box::pin(async move {
                ok(notes
                    .find_one_and_update(doc! { "_id": id }, doc! { "$set": { "n": 4 } })
                    .await)
            }),
        ),
        row(
            &["find_one_and_replace", "FindOneAndReplace"],
            Box::pin(async move {
                ok(notes
                    .find_one_and_replace(doc! { "_id": id }, existing.clone())
                    .await)
            }),
        ),
        row(
            &["find_one_and_delete", "FindOneAndDelete"],
            Box::pin(async move { ok(notes.find_one_and_delete(doc! { "_id": id }).await) }),
        ),
        row(
            &["restore", "Restore"],
            Box::pin(async move {
                let memos = conn.model::<Memo>();
                ok(memos.restore(doc! { "_id": id }).await)
            }),
        ),
        row(
            &["ProjectedModify"],
            Box::pin(async move {
                ok(notes
                    .find_one_and_delete(doc! { "_id": id })
                    .project(Projection::new().include(&Note::fields().title))
                    .await)
            }),
        ),
        row(
            &["bulk_write", "BulkWrite"],
            Box::pin(async move {
                ok(notes
                    .bulk_write([
                        Write::insert_one(note("b")),
                        Write::delete_one(doc! { "_id": id }),
                    ])
                    .await)
            }),
        ),
        row(
            &["sync_indexes"],
            Box::pin(async move { ok(notes.sync_indexes().await) }),
        ),
        row(
            &["diff_indexes"],
            Box::pin(async move { ok(notes.diff_indexes().await) }),
        ),
        row(
            &["shard_collection"],
            Box::pin(async move { ok(notes.shard_collection().await) }),
        ),
        row(
            &["list_indexes"],
            Box::pin(async move { ok(notes.list_indexes().await) }),
        ),
        row(
            &["sync_schema"],
            Box::pin(async move { ok(notes.sync_schema().await) }),
        ),
        row(
            &["watch", "Watch"],
            Box::pin(async move { ok(notes.watch().await.map(|_| ())) }),
        ),
        row(
            &["transaction commit"],
            Box::pin(async move {
                // The transaction writes while the server answers, and the server freezes before the
                // commit, so the commit is what meets the frozen server.
                let server = server.expect("a server to freeze");
                ok(conn
                    .transaction(|tx| async move {
                        server.cont();
                        let written = notes
                            .create(note("in a transaction"))
                            .session(&mut *tx.session().await)
                            .await;
                        server.stop();
                        written.map(drop)
                    })
                    .await)
            }),
        ),
    ]
}

#[tokio::test]
async fn every_operation_has_a_row() {
    // Rows are built without a server: building a builder does no I/O.
    let conn = Connection::options("mongodb://127.0.0.1:9")
        .verify(false)
        .connect()
        .await
        .unwrap();
    let notes = conn.model::<Note>();
    let existing = Note {
        id: Some(ObjectId::new()),
        ..note("x")
    };
    let rows = rows(&conn, &notes, &existing, None);
    let missing = odm_tests::surface::operations_without_a_row(
        rows.iter().flat_map(|r| r.covers.iter().copied()),
    );
    assert!(
        missing.is_empty(),
        "operations with no row in the deadline table: {missing:?}; add one to `rows`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_fails_within_the_timeout_on_a_frozen_server() {
    let server = TestServer::start().await;
    let conn = Connection::options(&format!("{}/deadlines", server.uri()))
        .operation_timeout(TIMEOUT)
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let notes = conn.model::<Note>();
    notes.sync_indexes().await.unwrap();
    let existing = notes.create(note("existing")).await.unwrap();
    // Every row's command goes to a frozen server.
    server.stop();
    let mut slow = Vec::new();
    let mut not_timeouts = Vec::new();
    for row in rows(&conn, &notes, &existing, Some(&server)) {
        let started = Instant::now();
        let outcome = row.run.await;
        let took = started.elapsed();
        if took > TIMEOUT + MARGIN {
            slow.push(format!("{:?} took {took:?}", row.covers));
        }
        match outcome {
            Err(e) if is_timeout(&e) => {}
            other => not_timeouts.push(format!("{:?}: {other:?}", row.covers)),
        }
    }
    server.cont();
    assert!(slow.is_empty(), "operations past the deadline: {slow:#?}");
    assert!(
        not_timeouts.is_empty(),
        "operations that did not end in Error::Timeout on a frozen server: {not_timeouts:#?}"
    );
    // Woken, the server works through what was sent to it meanwhile; the connection then answers again.
    let woken = Instant::now();
    loop {
        match notes.count(doc! { "_id": existing.id }).await {
            Ok(n) => {
                assert!(n <= 1, "{n}");
                break;
            }
            Err(e) if is_timeout(&e) && woken.elapsed() < Duration::from_secs(30) => {}
            Err(e) => panic!("the connection did not recover after the server woke: {e}"),
        }
    }
}

fn is_timeout(e: &Error) -> bool {
    match e {
        Error::Timeout { .. } => true,
        Error::PartialWrite { source, .. } => is_timeout(source),
        Error::BulkWrite(failure) => failure.interrupted.as_ref().is_some_and(is_timeout),
        _ => false,
    }
}
