//! Query hooks (`Hooks::before_query`, `Hooks::after_query`): they run around every find, count, update
//! and delete of the public surface, with the tenant in their context; a before-hook narrows a query or
//! refuses it (nothing is sent), an after-hook sees how many documents the query returned or changed.
//!
//! The table of operations is checked against the library's source: a method of `ModelHandle` that is
//! neither in the table nor listed with why it sends no query fails `every_query_operation_has_a_row`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use futures_util::TryStreamExt;
use odm_core::hooks::{BoxError, HookContext, Hooks, QueryKind};
use odm_core::prelude::*;
use odm_core::{Error, Strategy, Tenants};
use odm_tests::connect;

/// Every query hook call: (database, tenant, event).
static CALLS: Mutex<Vec<(String, Option<String>, String)>> = Mutex::new(Vec::new());

fn calls(db: &str) -> Vec<(Option<String>, String)> {
    CALLS
        .lock()
        .unwrap()
        .iter()
        .filter(|(d, _, _)| d == db)
        .map(|(_, t, e)| (t.clone(), e.clone()))
        .collect()
}

fn events(db: &str) -> Vec<String> {
    calls(db).into_iter().map(|(_, e)| e).collect()
}

fn clear(db: &str) {
    CALLS.lock().unwrap().retain(|(d, _, _)| d != db);
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the policy refuses queries on `locked` documents")
    }
}

impl std::error::Error for Refused {}

/// An audited model: its hooks log every query, hide `secret` documents from finds (a policy that
/// narrows), and refuse any query whose filter names `locked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "entries", hooks, soft_delete)]
struct Entry {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    n: i32,
    secret: bool,
    deleted_at: Option<DateTime>,
}

impl Hooks for Entry {
    async fn before_query(
        kind: QueryKind,
        filter: &mut Document,
        ctx: &HookContext,
    ) -> Result<(), BoxError> {
        log(ctx, format!("before {kind:?}"));
        if filter.contains_key("locked") {
            return Err(Box::new(Refused));
        }
        if kind == QueryKind::Find {
            filter.insert("secret", false);
        }
        Ok(())
    }

    async fn after_query(
        kind: QueryKind,
        _filter: &Document,
        count: u64,
        ctx: &HookContext,
    ) -> Result<(), BoxError> {
        log(ctx, format!("after {kind:?} {count}"));
        Ok(())
    }
}

fn log(ctx: &HookContext, event: String) {
    CALLS.lock().unwrap().push((
        ctx.database().to_owned(),
        ctx.tenant().map(str::to_owned),
        event,
    ));
}

fn entry(n: i32) -> Entry {
    Entry {
        id: None,
        n,
        secret: false,
        deleted_at: None,
    }
}

type Run<'a> = Pin<Box<dyn Future<Output = odm_core::Result<()>> + Send + 'a>>;

/// One row: the method it covers, the operation, and the query hooks it must run, in order.
struct Row<'a> {
    covers: &'static str,
    run: Run<'a>,
    expect: &'static [&'static str],
}

fn done<T>(r: odm_core::Result<T>) -> odm_core::Result<()> {
    r.map(|_| ())
}

/// The rows, against entries `n = 1, 2, 3` (all live, none secret) whose first `_id` is `id`.
fn rows<'a>(entries: &'a ModelHandle<Entry>, id: ObjectId) -> Vec<Row<'a>> {
    let f = || Entry::fields();
    let row = |covers: &'static str, expect: &'static [&'static str], run: Run<'a>| Row {
        covers,
        run,
        expect,
    };
    vec![
        row(
            "find",
            &["before Find", "after Find 3"],
            Box::pin(async move { done(entries.find(doc! {}).await) }),
        ),
        row(
            "find",
            &["before Find"],
            Box::pin(async move {
                let s = entries.find(doc! {}).stream().await?;
                done(s.try_collect::<Vec<_>>().await)
            }),
        ),
        row(
            "find_one",
            &["before Find", "after Find 1"],
            Box::pin(async move { done(entries.find_one(f().n.eq(2)).await) }),
        ),
        row(
            "find_by_id",
            &["before Find", "after Find 1"],
            Box::pin(async move { done(entries.find_by_id(id).await) }),
        ),
        row(
            "exists",
            &["before Find", "after Find 0"],
            Box::pin(async move { done(entries.exists(f().n.eq(9)).await) }),
        ),
        row(
            "count",
            &["before Count", "after Count 2"],
            Box::pin(async move { done(entries.count(f().n.gte(2)).await) }),
        ),
        row(
            "distinct",
            &["before Find", "after Find 3"],
            Box::pin(async move { done(entries.distinct("n", doc! {}).await) }),
        ),
        row(
            "find_and_count",
            &[
                "before Find",
                "after Find 3",
                "before Count",
                "after Count 3",
            ],
            Box::pin(async move { done(entries.find_and_count(entries.find(doc! {})).await) }),
        ),
        row(
            "update_one",
            &["before Update", "after Update 1"],
            Box::pin(async move {
                done(
                    entries
                        .update_one(f().n.eq(1), doc! { "$set": { "n": 11 } })
                        .await,
                )
            }),
        ),
        row(
            "update_many",
            &["before Update", "after Update 0"],
            Box::pin(async move {
                done(
                    entries
                        .update_many(f().n.gte(1), doc! { "$set": { "secret": false } })
                        .await,
                )
            }),
        ),
        row(
            "replace_one",
            &["before Update", "after Update 1"],
            Box::pin(async move { done(entries.replace_one(f().n.eq(3), entry(30)).await) }),
        ),
        row(
            "save",
            &["before Update", "after Update 1"],
            Box::pin(async move {
                let mut e = Entry {
                    id: Some(id),
                    ..entry(10)
                };
                done(entries.save(&mut e).await)
            }),
        ),
        row(
            "find_one_and_update",
            &["before Update", "after Update 1"],
            Box::pin(async move {
                done(
                    entries
                        .find_one_and_update(f().n.eq(2), doc! { "$set": { "n": 2 } })
                        .await,
                )
            }),
        ),
        row(
            "find_one_and_replace",
            &["before Update", "after Update 1"],
            Box::pin(
                async move { done(entries.find_one_and_replace(f().n.eq(2), entry(2)).await) },
            ),
        ),
        row(
            "delete_one",
            &["before Delete", "after Delete 1"],
            Box::pin(async move { done(entries.delete_one(f().n.eq(2)).await) }),
        ),
        row(
            "restore",
            &[
                "before Delete",
                "after Delete 1",
                "before Update",
                "after Update 1",
            ],
            Box::pin(async move {
                entries.delete_one(f().n.eq(2)).await?;
                done(entries.restore(f().n.eq(2)).await)
            }),
        ),
        row(
            "find_one_and_delete",
            &["before Delete", "after Delete 1"],
            Box::pin(async move { done(entries.find_one_and_delete(f().n.eq(2)).hard().await) }),
        ),
        row(
            "delete_many",
            &["before Delete", "after Delete 3"],
            Box::pin(async move { done(entries.delete_many(doc! {}).await) }),
        ),
    ]
}

/// The methods of `ModelHandle` that send no find, count, update or delete, and why.
const NO_QUERY: &[(&str, &str)] = &[
    ("create", "an insert"),
    ("insert_many", "inserts"),
    (
        "bulk_write",
        "sent as write commands; like Mongoose's bulkWrite, no query middleware",
    ),
    (
        "aggregate",
        "an aggregation, not a query (Mongoose has aggregate middleware apart)",
    ),
    ("watch", "a change stream"),
    ("sync_indexes", "indexes"),
    ("diff_indexes", "indexes"),
    ("list_indexes", "indexes"),
    ("sync_schema", "the collection's validator"),
    ("shard_collection", "an admin command on the collection"),
];

#[tokio::test]
async fn every_query_operation_has_a_row() {
    let conn = Connection::options("mongodb://127.0.0.1:9")
        .verify(false)
        .connect()
        .await
        .unwrap();
    let entries = conn.model::<Entry>();
    let covered: Vec<&str> = rows(&entries, ObjectId::new())
        .iter()
        .map(|r| r.covers)
        .chain(NO_QUERY.iter().map(|(m, _)| *m))
        .chain(odm_tests::surface::NO_IO.iter().copied())
        .collect();
    let missing: Vec<String> = odm_tests::surface::model_handle_methods()
        .into_iter()
        .filter(|m| !covered.contains(&m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "methods of ModelHandle with no row in the query hooks' table (add one, or list it in NO_QUERY with why): {missing:?}"
    );
}

#[tokio::test]
async fn hooks_run_around_every_find_update_and_delete() {
    let db = "query_hooks_every";
    let conn = connect(db).await;
    let entries = conn.model::<Entry>();
    let mut failures = Vec::new();
    for row in rows(&entries, ObjectId::new()) {
        // Each row starts from entries 1, 2, 3.
        entries
            .delete_many(doc! {})
            .hard()
            .with_deleted()
            .await
            .unwrap();
        let created = entries
            .insert_many([entry(1), entry(2), entry(3)])
            .await
            .unwrap();
        clear(db);
        // `save` and `find_by_id` rows name the first entry.
        let run = match row.covers {
            "save" | "find_by_id" => {
                rows(&entries, created[0].id.unwrap())
                    .into_iter()
                    .find(|r| r.covers == row.covers)
                    .unwrap()
                    .run
            }
            _ => row.run,
        };
        if let Err(e) = run.await {
            failures.push(format!("{}: {e}", row.covers));
            continue;
        }
        let seen = events(db);
        if seen != row.expect {
            failures.push(format!(
                "{}: ran {seen:?}, not {:?}",
                row.covers, row.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn a_before_hook_narrows_a_query() {
    let db = "query_hooks_narrow";
    let conn = connect(db).await;
    let entries = conn.model::<Entry>();
    entries
        .insert_many([
            entry(1),
            Entry {
                secret: true,
                ..entry(2)
            },
        ])
        .await
        .unwrap();
    let found = entries.find(doc! {}).await.unwrap();
    assert_eq!(found.iter().map(|e| e.n).collect::<Vec<_>>(), [1]);
    // Counts are not narrowed by this policy: the hook adds its condition to finds only.
    assert_eq!(entries.count(doc! {}).await.unwrap(), 2);
}

#[tokio::test]
async fn a_refusing_before_hook_sends_nothing() {
    let db = "query_hooks_refuse";
    let conn = connect(db).await;
    let entries = conn.model::<Entry>();
    entries.insert_many([entry(1), entry(2)]).await.unwrap();
    clear(db);
    let refused = entries
        .delete_many(doc! { "locked": { "$ne": true } })
        .hard()
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            Error::Hook {
                hook: "before_query",
                type_name: "Entry",
                ..
            }
        ),
        "{refused:?}"
    );
    let refused = entries
        .update_many(
            doc! { "locked": { "$ne": true } },
            doc! { "$set": { "n": 0 } },
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Hook { .. }), "{refused:?}");
    // Neither reached the server: both documents are there, unchanged, and no after-hook ran.
    assert_eq!(events(db), ["before Delete", "before Update"]);
    let raw: Vec<Document> = entries
        .unconfined_collection()
        .clone_with_type::<Document>()
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        raw.iter()
            .map(|d| d.get_i32("n").unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
}

#[tokio::test]
async fn the_tenant_is_in_the_context() {
    let db = "query_hooks_tenant";
    let conn = connect(db).await;
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let acme = tenants.get("acme").unwrap().model::<Entry>();
    acme.create(entry(1)).await.unwrap();
    clear(db);
    assert_eq!(acme.count(doc! {}).await.unwrap(), 1);
    conn.model::<Entry>().count(doc! {}).await.unwrap();
    assert_eq!(
        calls(db),
        [
            (Some("acme".to_owned()), "before Count".to_owned()),
            (Some("acme".to_owned()), "after Count 1".to_owned()),
            (None, "before Count".to_owned()),
            (None, "after Count 1".to_owned()),
        ]
    );
}
