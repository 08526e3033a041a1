//! `bulk_write` against the real server: order, counts and ids, upserts, ordered and unordered failures,
//! validation before anything is sent, timestamps, hooks, sessions, and tenant confinement under each
//! strategy.

use std::collections::BTreeMap;
use std::time::Duration;

use odm_core::prelude::*;
use odm_core::{BulkWriteFailure, BulkWriteResult, Connection, Strategy, Tenants, Write};
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "accounts", timestamps)]
struct Account {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    email: String,
    #[field(range(min = 0, max = 150))]
    age: i32,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
}

fn account(email: &str, age: i32) -> Account {
    Account {
        id: None,
        email: email.into(),
        age,
        created_at: None,
        updated_at: None,
    }
}

fn email(e: &str) -> Document {
    doc! { "email": e }
}

/// Every stored account as `(email, age)`, sorted, read without the library.
async fn stored(accounts: &ModelHandle<Account>) -> Vec<(String, i32)> {
    let mut all: Vec<(String, i32)> = accounts
        .unconfined_collection()
        .find(doc! {})
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.email, a.age))
        .collect();
    all.sort();
    all
}

fn pairs(list: &[(&str, i32)]) -> Vec<(String, i32)> {
    list.iter().map(|(e, a)| (e.to_string(), *a)).collect()
}

/// The `_id` of the stored account `e`.
async fn id_of(accounts: &ModelHandle<Account>, e: &str) -> Bson {
    let found = accounts.find_one(email(e)).await.unwrap().unwrap();
    Bson::ObjectId(found.id.unwrap())
}

fn failure(err: Error) -> Box<BulkWriteFailure> {
    match err {
        Error::BulkWrite(f) => f,
        other => panic!("expected Error::BulkWrite, got {other:?}"),
    }
}

#[tokio::test]
async fn mixed_writes_apply_in_order_and_are_counted() {
    let accounts = connect("bulk_mixed").await.model::<Account>();
    let f = Account::fields();
    let result = accounts
        .bulk_write(vec![
            Write::insert_one(account("a", 1)),
            Write::insert_one(account("b", 2)),
            Write::insert_one(account("c", 3)),
            Write::update_one(email("a"), doc! { "$set": { "age": 10 } }),
            // Sees the insert and the update before it: `a` is no longer under 5.
            Write::update_many(f.age.lt(5), doc! { "$inc": { "age": 100 } }),
            Write::replace_one(email("c"), account("c2", 30)),
            Write::delete_one(email("b")),
            Write::insert_one(account("d", 4)),
            Write::delete_many(f.age.lt(5)),
        ])
        .await
        .unwrap();
    assert_eq!(stored(&accounts).await, pairs(&[("a", 10), ("c2", 30)]));

    let a = id_of(&accounts, "a").await;
    let c = id_of(&accounts, "c2").await;
    assert_eq!(result.inserted_count, 4);
    assert_eq!(result.inserted_ids.len(), 4);
    assert_eq!(result.inserted_ids[&0], a);
    assert_eq!(result.inserted_ids[&2], c, "a replacement keeps the _id");
    assert!(result.inserted_ids.contains_key(&1) && result.inserted_ids.contains_key(&7));
    assert_eq!(result.matched_count, 4, "1 + 2 + 1");
    assert_eq!(result.modified_count, 4);
    assert_eq!(result.deleted_count, 2);
    assert!(result.upserted_ids.is_empty());
}

#[tokio::test]
async fn update_one_and_delete_one_touch_one_document_the_many_forms_all() {
    let accounts = connect("bulk_one_many").await.model::<Account>();
    accounts
        .insert_many([account("a", 1), account("b", 1), account("c", 1)])
        .await
        .unwrap();
    let result = accounts
        .bulk_write(vec![
            Write::update_one((), doc! { "$set": { "age": 2 } }),
            Write::update_many(doc! { "age": 1 }, doc! { "$set": { "age": 3 } }),
        ])
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (3, 3));
    let mut ages: Vec<i32> = stored(&accounts).await.iter().map(|a| a.1).collect();
    ages.sort();
    assert_eq!(ages, [2, 3, 3]);

    let result = accounts
        .bulk_write(vec![
            Write::delete_one(doc! { "age": 3 }),
            Write::delete_many(doc! { "age": { "$gte": 2 } }),
        ])
        .await
        .unwrap();
    assert_eq!(result.deleted_count, 3);
    assert_eq!(accounts.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn upserts_are_counted_apart_from_matches() {
    let accounts = connect("bulk_upserts").await.model::<Account>();
    accounts.create(account("x", 1)).await.unwrap();
    let result = accounts
        .bulk_write(vec![
            Write::update_one(email("y"), doc! { "$set": { "age": 2 } }).upsert(),
            Write::delete_one(email("nobody")),
            Write::update_one(email("x"), doc! { "$set": { "age": 3 } }),
            Write::replace_one(email("z"), account("z", 4)).upsert(),
            Write::update_one(email("nobody"), doc! { "$set": { "age": 3 } }),
            // An upsert that matches updates.
            Write::update_one(email("y"), doc! { "$set": { "age": 5 } }).upsert(),
        ])
        .await
        .unwrap();
    assert_eq!(
        stored(&accounts).await,
        pairs(&[("x", 3), ("y", 5), ("z", 4)])
    );
    let expected_upserts: BTreeMap<usize, Bson> = [
        (0, id_of(&accounts, "y").await),
        (3, id_of(&accounts, "z").await),
    ]
    .into();
    assert_eq!(
        result,
        BulkWriteResult {
            inserted_count: 0,
            matched_count: 2,
            modified_count: 2,
            deleted_count: 0,
            inserted_ids: BTreeMap::new(),
            upserted_ids: expected_upserts,
        }
    );
}

#[tokio::test]
async fn ordered_stops_at_the_first_failure() {
    let accounts = connect("bulk_ordered").await.model::<Account>();
    accounts.sync_indexes().await.unwrap();
    accounts.create(account("taken", 1)).await.unwrap();

    let err = accounts
        .bulk_write(vec![
            Write::insert_one(account("a", 1)),
            Write::update_one(email("a"), doc! { "$set": { "age": 5 } }),
            Write::insert_one(account("taken", 2)),
            Write::insert_one(account("b", 1)),
            Write::delete_one(email("a")),
        ])
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(f.total, 5);
    assert_eq!(f.applied, [0, 1]);
    assert_eq!(f.failed.len(), 1);
    assert_eq!(f.failed[0].0, 2);
    assert!(
        matches!(&f.failed[0].1, Error::DuplicateKey { .. }),
        "{:?}",
        f.failed[0].1
    );
    assert!(f.unknown.is_empty());
    assert!(f.interrupted.is_none(), "{:?}", f.interrupted);
    assert_eq!(f.result.inserted_count, 1);
    assert_eq!(f.result.inserted_ids.len(), 1);
    assert_eq!(f.result.inserted_ids[&0], id_of(&accounts, "a").await);
    assert_eq!((f.result.matched_count, f.result.modified_count), (1, 1));
    assert_eq!(f.result.deleted_count, 0);
    assert_eq!(stored(&accounts).await, pairs(&[("a", 5), ("taken", 1)]));

    // Within one command too: the server stops at the duplicate.
    let err = accounts
        .bulk_write(vec![
            Write::insert_one(account("c", 1)),
            Write::insert_one(account("taken", 1)),
            Write::insert_one(account("d", 1)),
        ])
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(f.applied, [0]);
    assert_eq!(f.failed.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1]);
    assert_eq!(f.result.inserted_count, 1);
    assert_eq!(
        f.result.inserted_ids.keys().copied().collect::<Vec<_>>(),
        [0]
    );
    assert!(
        f.to_string().contains("applied 1 of 3"),
        "the message says what happened: {f}"
    );
    assert_eq!(
        stored(&accounts).await,
        pairs(&[("a", 5), ("c", 1), ("taken", 1)])
    );
}

#[tokio::test]
async fn unordered_applies_every_write_it_can() {
    let accounts = connect("bulk_unordered").await.model::<Account>();
    accounts.sync_indexes().await.unwrap();
    accounts.create(account("taken", 1)).await.unwrap();

    let err = accounts
        .bulk_write(vec![
            Write::insert_one(account("a", 1)),
            Write::update_one(email("a"), doc! { "$set": { "age": 5 } }),
            Write::insert_one(account("taken", 2)),
            Write::insert_one(account("b", 1)),
            Write::insert_one(account("taken", 3)),
            Write::insert_one(account("c", 1)),
            Write::delete_one(email("a")),
        ])
        .ordered(false)
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(f.total, 7);
    assert_eq!(f.applied, [0, 1, 3, 5, 6]);
    assert_eq!(f.failed.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [2, 4]);
    for (_, e) in &f.failed {
        assert!(matches!(e, Error::DuplicateKey { .. }), "{e:?}");
    }
    assert_eq!(f.result.inserted_count, 3);
    assert_eq!(
        f.result.inserted_ids.keys().copied().collect::<Vec<_>>(),
        [0, 3, 5]
    );
    assert_eq!(f.result.deleted_count, 1);
    assert_eq!(
        stored(&accounts).await,
        pairs(&[("b", 1), ("c", 1), ("taken", 1)])
    );
}

#[tokio::test]
async fn an_invalid_write_sends_nothing() {
    let accounts = connect("bulk_invalid").await.model::<Account>();
    accounts.create(account("x", 1)).await.unwrap();
    let before = stored(&accounts).await;

    let err = accounts
        .bulk_write(vec![
            Write::insert_one(account("a", 1)),
            Write::update_one(email("x"), doc! { "$set": { "age": 200 } }),
            Write::insert_one(account("b", 1)),
        ])
        .await
        .unwrap_err();
    match &err {
        Error::Validation(e) => {
            assert_eq!(e.index, Some(1));
            assert_eq!(e.at("age").count(), 1, "{e}");
        }
        other => panic!("expected Error::Validation, got {other:?}"),
    }

    let err = accounts
        .bulk_write(vec![
            Write::delete_many(()),
            Write::insert_one(account("a", 1)),
            Write::replace_one(email("x"), account("x", -1)),
        ])
        .ordered(false)
        .await
        .unwrap_err();
    match &err {
        Error::Validation(e) => assert_eq!(e.index, Some(2)),
        other => panic!("expected Error::Validation, got {other:?}"),
    }

    let err = accounts
        .bulk_write(vec![
            Write::delete_many(()),
            Write::insert_one(account("a", 151)),
        ])
        .await
        .unwrap_err();
    match &err {
        Error::Validation(e) => assert_eq!(e.index, Some(1)),
        other => panic!("expected Error::Validation, got {other:?}"),
    }
    assert_eq!(stored(&accounts).await, before);
}

#[tokio::test]
async fn an_update_without_operators_is_refused_before_anything_is_sent() {
    let accounts = connect("bulk_no_operators").await.model::<Account>();
    accounts.create(account("x", 1)).await.unwrap();
    let before = stored(&accounts).await;
    // Sent as is, `{ email: "y" }` would replace the whole document, past the rules; `{}` would empty it.
    for update in [doc! { "email": "y" }, doc! {}] {
        let err = accounts
            .bulk_write(vec![
                Write::delete_many(()),
                Write::update_one(email("x"), update.clone()),
            ])
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("replace_one"),
            "{update}: the error points to the replacement: {err}"
        );
    }
    assert_eq!(stored(&accounts).await, before);
}

#[tokio::test]
async fn a_bulk_larger_than_one_command_is_split() {
    let accounts = connect("bulk_large").await.model::<Account>();
    // 24 documents of 1 MiB: more than the 16 MiB one command may carry.
    let big = "x".repeat(1 << 20);
    let writes: Vec<Write<Account>> = (0..24)
        .map(|i| Write::insert_one(account(&format!("{i}{big}"), 1)))
        .collect();
    let result = accounts.bulk_write(writes).await.unwrap();
    assert_eq!(result.inserted_count, 24);
    assert_eq!(result.inserted_ids.len(), 24);
    assert_eq!(accounts.count(()).await.unwrap(), 24);
    let result = accounts
        .bulk_write((0..24).map(|i| {
            Write::replace_one(
                email(&format!("{i}{big}")),
                account(&format!("{i}{big}"), 2),
            )
        }))
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (24, 24));
}

#[tokio::test]
async fn a_bulk_stopped_by_the_operation_timeout_says_what_is_applied() {
    let conn = connect("bulk_timeout").await;
    let seed: Vec<Account> = (0..5000).map(|i| account(&format!("s{i}"), 1)).collect();
    conn.model::<Account>().insert_many(seed).await.unwrap();
    let timed = Connection::options(&odm_tests::uri())
        .operation_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap()
        .use_db("bulk_timeout")
        .unwrap();
    let accounts = timed.model::<Account>();
    // A connection in the pool before the clock matters.
    accounts.find_by_id(ObjectId::new()).await.unwrap();
    // An insert and an update of every document in turn: each write is a command of its own, and the
    // 200 updates of 5000 documents take far longer than 300 ms.
    let writes = (0..200).flat_map(|i| {
        [
            Write::insert_one(account(&format!("a{i}"), 1)),
            Write::update_many((), doc! { "$set": { "age": 2 } }),
        ]
    });
    let err = accounts.bulk_write(writes).await.unwrap_err();
    let f = failure(err);
    assert!(
        matches!(f.interrupted, Some(Error::Timeout { .. })),
        "{:?}",
        f.interrupted
    );
    assert!(f.failed.is_empty());
    assert!(!f.applied.is_empty(), "the first commands finish in 300 ms");
    assert_eq!(f.applied, (0..f.applied.len()).collect::<Vec<_>>());
    assert_eq!(f.unknown, [f.applied.len()], "the command in flight");
    let inserted = f.applied.iter().filter(|i| i.is_multiple_of(2)).count() as u64;
    assert_eq!(f.result.inserted_count, inserted);
    assert_eq!(
        f.result.inserted_ids.keys().copied().collect::<Vec<_>>(),
        f.applied
            .iter()
            .copied()
            .filter(|i| i.is_multiple_of(2))
            .collect::<Vec<_>>()
    );
    // What is stored: the applied inserts, and perhaps the one in flight.
    let stored = conn
        .model::<Account>()
        .count(doc! { "email": { "$regex": "^a" } })
        .await
        .unwrap();
    let in_flight = u64::from(f.unknown[0].is_multiple_of(2));
    assert!(
        stored == inserted || stored == inserted + in_flight,
        "{stored} stored, {inserted} known"
    );
}

#[tokio::test]
async fn a_write_concern_the_server_cannot_meet_is_reported() {
    let conn = connect("bulk_write_concern").await;
    // The connection's write concern (`w=2` in the URI) is sent with the bulk's commands, as the driver
    // sends it with its own writes. On a single server, or a one-node replica set like SecantusDB, it
    // cannot be met: the writes are applied, and the reply says the concern failed.
    let uri = odm_tests::uri();
    let uri = if uri.contains('?') {
        format!("{uri}&w=2&wTimeoutMS=200")
    } else {
        format!("{}/?w=2&wTimeoutMS=200", uri.trim_end_matches('/'))
    };
    let accounts = Connection::connect(&uri)
        .await
        .unwrap()
        .use_db("bulk_write_concern")
        .unwrap()
        .model::<Account>();
    let single = accounts.create(account("single", 1)).await.unwrap_err();
    assert!(matches!(single, Error::Driver(_)), "{single:?}");

    let err = accounts
        .bulk_write(vec![
            Write::insert_one(account("a", 1)),
            Write::update_one(email("a"), doc! { "$set": { "age": 2 } }),
        ])
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(
        f.applied,
        [0, 1],
        "a write concern error does not stop the bulk"
    );
    assert!(f.failed.is_empty() && f.unknown.is_empty());
    assert!(
        matches!(f.write_concern, Some(Error::WriteRefused { .. })),
        "{:?}",
        f.write_concern
    );
    assert!(f.to_string().contains("write concern"), "{f}");
    assert_eq!((f.result.inserted_count, f.result.modified_count), (1, 1));
    let stored = conn.model::<Account>().find(()).await.unwrap();
    let mut stored: Vec<(&str, i32)> = stored.iter().map(|a| (a.email.as_str(), a.age)).collect();
    stored.sort();
    assert_eq!(stored, [("a", 2), ("single", 1)]);
}

#[tokio::test]
async fn timestamps_are_set_on_insert_and_move_on_update_and_replace() {
    let accounts = connect("bulk_timestamps").await.model::<Account>();
    accounts
        .bulk_write(vec![
            Write::insert_one(account("a", 1)),
            Write::insert_one(account("b", 1)),
        ])
        .await
        .unwrap();
    let a0 = accounts.find_one(email("a")).await.unwrap().unwrap();
    let b0 = accounts.find_one(email("b")).await.unwrap().unwrap();
    assert!(a0.created_at.is_some());
    assert_eq!(a0.created_at, a0.updated_at);

    tokio::time::sleep(Duration::from_millis(20)).await;
    accounts
        .bulk_write(vec![
            Write::update_one(email("a"), doc! { "$set": { "age": 2 } }),
            Write::replace_one(
                email("b"),
                Account {
                    age: 2,
                    ..b0.clone()
                },
            ),
        ])
        .await
        .unwrap();
    let a1 = accounts.find_one(email("a")).await.unwrap().unwrap();
    let b1 = accounts.find_one(email("b")).await.unwrap().unwrap();
    assert_eq!(a1.created_at, a0.created_at);
    assert!(a1.updated_at.unwrap() > a0.updated_at.unwrap(), "{a1:?}");
    assert_eq!(b1.created_at, b0.created_at);
    assert!(b1.updated_at.unwrap() > b0.updated_at.unwrap(), "{b1:?}");
}

// ---------------------------------------------------------------------------------------------------------
// Hooks.

use odm_tests::hook_log::{calls, note, Note};

#[tokio::test]
async fn inserts_and_replacements_run_the_save_hooks() {
    let db = "bulk_hooks";
    let notes = connect(db).await.model::<Note>();
    notes
        .bulk_write(vec![
            Write::insert_one(note(" a ")),
            Write::update_one(doc! { "text": "a" }, doc! { "$set": { "text": "a2" } }),
            Write::replace_one(doc! { "text": "a2" }, note(" b ")),
            Write::delete_many(doc! { "text": "nobody" }),
        ])
        .await
        .unwrap();
    assert_eq!(
        calls(db),
        [
            "before_validate  a ",
            "before_save  a ",
            "before_validate  b ",
            "before_save  b ",
            "after_save a",
            "after_save b",
        ],
        "updates and deletes run no hooks"
    );
    let texts: Vec<String> = notes
        .find(())
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.text)
        .collect();
    assert_eq!(texts, ["b"], "before_save's change is what is stored");

    // A replacement that matched nothing saved nothing: no after_save, as with `replace_one`.
    let start = calls(db).len();
    notes
        .bulk_write(vec![
            Write::replace_one(doc! { "text": "nobody" }, note("x")),
            Write::replace_one(doc! { "text": "b" }, note("y")),
            Write::replace_one(doc! { "text": "nobody" }, note("z")).upsert(),
        ])
        .await
        .unwrap();
    assert_eq!(
        calls(db)[start..],
        [
            "before_validate x",
            "before_save x",
            "before_validate y",
            "before_save y",
            "before_validate z",
            "before_save z",
            "after_save y",
            "after_save z",
        ]
    );
    notes.delete_many(doc! { "text": "z" }).await.unwrap();

    // A refusing before_save, even on the last write, sends nothing.
    let start = calls(db).len();
    let err = notes
        .bulk_write(vec![
            Write::delete_many(()),
            Write::insert_one(note("c")),
            Write::insert_one(note("forbidden")),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Hook {
                hook: "before_save",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        !calls(db)[start..]
            .iter()
            .any(|c| c.starts_with("after_save")),
        "{:?}",
        calls(db)
    );
    assert_eq!(notes.count(()).await.unwrap(), 1);
}

// ---------------------------------------------------------------------------------------------------------
// Sessions and transactions.

#[tokio::test]
async fn a_bulk_write_joins_a_transaction() {
    let conn = connect("bulk_transaction").await;
    let accounts = conn.model::<Account>();
    accounts.create(account("x", 1)).await.unwrap();
    let writes = || {
        vec![
            Write::insert_one(account("a", 1)),
            Write::update_one(email("x"), doc! { "$set": { "age": 2 } }),
            Write::delete_one(email("a")),
            Write::insert_one(account("b", 1)),
        ]
    };

    let err = conn
        .transaction(|tx| {
            let (accounts, writes) = (&accounts, writes());
            async move {
                let mut s = tx.session().await;
                let result = accounts.bulk_write(writes).session(&mut s).await?;
                assert_eq!(result.inserted_count, 2);
                assert_eq!(accounts.count(()).session(&mut s).await?, 2);
                Err::<(), _>(Error::abort("undo"))
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Aborted(_)), "{err:?}");
    assert_eq!(stored(&accounts).await, pairs(&[("x", 1)]));

    // Uncommitted, the writes are invisible outside the transaction; committed, they are there.
    let mut session = conn.start_session().await.unwrap();
    session.inner().start_transaction().await.unwrap();
    accounts
        .bulk_write(writes())
        .session(&mut session)
        .await
        .unwrap();
    assert_eq!(stored(&accounts).await, pairs(&[("x", 1)]));
    session.inner().commit_transaction().await.unwrap();
    assert_eq!(stored(&accounts).await, pairs(&[("b", 1), ("x", 2)]));

    let other = Connection::connect(&odm_tests::uri()).await.unwrap();
    let mut foreign = other.start_session().await.unwrap();
    let err = accounts
        .bulk_write(writes())
        .session(&mut foreign)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignSession), "{err:?}");
    assert_eq!(stored(&accounts).await, pairs(&[("b", 1), ("x", 2)]));
}

// ---------------------------------------------------------------------------------------------------------
// Confinement: tenant B's bulk writes never change or delete tenant A's documents.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "items")]
struct Item {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    owner: String,
    n: i32,
}

fn item(owner: &str, n: i32) -> Item {
    Item {
        id: None,
        owner: owner.into(),
        n,
    }
}

/// The documents of `owner` as the server holds them, read without the confinement.
async fn raw_of(handle: &ModelHandle<Item>, owner: &str) -> Vec<Document> {
    let mut docs: Vec<Document> = handle
        .unconfined_collection()
        .clone_with_type::<Document>()
        .find(doc! { "owner": owner })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    docs.sort_by_key(|d| d.get_object_id("_id").unwrap());
    docs
}

async fn check_confinement(conn: Connection, strategy: Strategy) {
    let tenants = Tenants::new(conn, strategy).unwrap();
    let a = tenants.get("acme").unwrap().model::<Item>();
    let b = tenants.get("globex").unwrap().model::<Item>();
    // Left over from an earlier run (tenant databases are not the test's own).
    a.unconfined_collection().drop().await.unwrap();
    b.unconfined_collection().drop().await.unwrap();
    a.insert_many([item("acme", 1), item("acme", 2)])
        .await
        .unwrap();
    b.insert_many([item("globex", 1), item("globex", 2)])
        .await
        .unwrap();
    let a_before = raw_of(&a, "acme").await;
    let a_id = a_before[0].get_object_id("_id").unwrap();
    let by_a_id = doc! { "_id": a_id };

    let result = b
        .bulk_write(vec![
            Write::update_many((), doc! { "$inc": { "n": 10 } }),
            Write::update_one(by_a_id.clone(), doc! { "$set": { "n": 100 } }),
            Write::update_many(doc! { "owner": "acme" }, doc! { "$set": { "n": 100 } }),
            Write::replace_one(by_a_id.clone(), item("globex", 100)),
            Write::delete_one(by_a_id.clone()),
            Write::delete_many(doc! { "owner": "acme" }),
            Write::insert_one(item("globex", 3)),
        ])
        .await
        .unwrap();
    assert_eq!(result.matched_count, 2, "B's own two documents");
    assert_eq!(result.deleted_count, 0);
    assert_eq!(result.inserted_count, 1);
    let mut b_ns: Vec<i32> = b.find(()).await.unwrap().iter().map(|i| i.n).collect();
    b_ns.sort();
    assert_eq!(b_ns, [3, 11, 12]);
    assert_eq!(
        raw_of(&a, "acme").await,
        a_before,
        "A's documents unchanged"
    );

    let result = b
        .bulk_write(vec![Write::delete_many(())])
        .ordered(false)
        .await
        .unwrap();
    assert_eq!(result.deleted_count, 3);
    assert_eq!(
        raw_of(&a, "acme").await,
        a_before,
        "A's documents unchanged"
    );
    assert_eq!(a.count(()).await.unwrap(), 2);
}

#[tokio::test]
async fn database_per_tenant_confines_bulk_writes() {
    let conn = connect("bulk_iso_db").await;
    check_confinement(conn, Strategy::database_per_tenant("bulk_iso_db_")).await;
}

#[tokio::test]
async fn collection_per_tenant_confines_bulk_writes() {
    // The default separator makes dotted collection names (`acme.items`), which MongoDB takes.
    let conn = connect("bulk_iso_coll").await;
    check_confinement(conn, Strategy::collection_per_tenant()).await;
}

#[tokio::test]
async fn shared_collection_confines_bulk_writes() {
    let conn = connect("bulk_iso_shared").await;
    check_confinement(conn.clone(), Strategy::shared_collection()).await;

    // Inserts are stamped with the tenant; a write that would move a document to another tenant is
    // refused before anything of the bulk is sent.
    let tenants = Tenants::new(conn, Strategy::shared_collection()).unwrap();
    let b = tenants.get("globex").unwrap().model::<Item>();
    b.bulk_write(vec![Write::insert_one(item("globex", 9))])
        .await
        .unwrap();
    let stamped = raw_of(&b, "globex").await;
    assert_eq!(stamped.len(), 1);
    assert_eq!(stamped[0].get_str("tenant_id").unwrap(), "globex");
    let err = b
        .bulk_write(vec![
            Write::insert_one(item("globex", 10)),
            Write::update_many((), doc! { "$set": { "tenant_id": "acme" } }),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err:?}");
    assert_eq!(raw_of(&b, "globex").await, stamped, "nothing was sent");

    // An insert of an `_id` already stored is a duplicate key, as with `create`, whichever tenant holds
    // it: the key is the caller's own.
    let own = stamped[0].get_object_id("_id").unwrap();
    let a = tenants.get("acme").unwrap().model::<Item>();
    let theirs = a.create(item("acme", 1)).await.unwrap().id.unwrap();
    for id in [own, theirs] {
        let err = b
            .bulk_write(vec![Write::insert_one(Item {
                id: Some(id),
                ..item("globex", 11)
            })])
            .await
            .unwrap_err();
        let f = failure(err);
        assert!(
            matches!(&f.failed[..], [(0, Error::DuplicateKey { .. })]),
            "{:?}",
            f.failed
        );
        let single = b
            .create(Item {
                id: Some(id),
                ..item("globex", 11)
            })
            .await
            .unwrap_err();
        assert!(matches!(single, Error::DuplicateKey { .. }), "{single:?}");
    }
    assert_eq!(raw_of(&b, "globex").await, stamped);
    assert_eq!(
        a.count(()).await.unwrap(),
        3,
        "A's two and the one created here"
    );
}
