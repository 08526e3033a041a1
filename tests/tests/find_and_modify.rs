//! `find_one_and_update`, `find_one_and_replace` and `find_one_and_delete` against the real server:
//! before and after, sort, projection, upsert, rules, timestamps, hooks, versions, sessions, and tenant
//! confinement under each strategy.

use std::time::Duration;

use odm_core::prelude::*;
use odm_core::{Connection, Projection, Strategy, Tenants, UpdateBuilder};
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "tasks", timestamps)]
struct Task {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
    #[field(range(min = 0, max = 10))]
    priority: i32,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
}

fn task(title: &str, priority: i32) -> Task {
    Task {
        id: None,
        title: title.into(),
        priority,
        created_at: None,
        updated_at: None,
    }
}

/// Every stored task, by `_id`, read without the library.
async fn stored_tasks(tasks: &ModelHandle<Task>) -> Vec<Task> {
    let mut all: Vec<Task> = tasks
        .unconfined_collection()
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    all.sort_by_key(|t| t.id);
    all
}

#[tokio::test]
async fn update_returns_the_document_before_or_after() {
    let tasks = connect("fam_update_before_after").await.model::<Task>();
    let ann = tasks.create(task("ann", 1)).await.unwrap();
    let f = Task::fields();

    let before = tasks
        .find_one_and_update(f.title.eq("ann"), doc! { "$set": { "priority": 2 } })
        .await
        .unwrap()
        .expect("a document matched");
    assert_eq!(before.id, ann.id);
    assert_eq!(before.priority, 1, "the document as it was");

    let after = tasks
        .find_one_and_update(f.title.eq("ann"), UpdateBuilder::new().set(&f.priority, 3))
        .return_after()
        .await
        .unwrap()
        .expect("a document matched");
    assert_eq!(after.priority, 3, "the document as the update left it");
    assert_eq!(stored_tasks(&tasks).await, vec![after]);
}

#[tokio::test]
async fn sort_picks_the_document_that_changes() {
    let tasks = connect("fam_sort").await.model::<Task>();
    for p in [5, 1, 9] {
        tasks.create(task("same", p)).await.unwrap();
    }
    let f = Task::fields();

    let changed = tasks
        .find_one_and_update(f.title.eq("same"), doc! { "$set": { "title": "top" } })
        .sort(f.priority.desc())
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!((changed.title.as_str(), changed.priority), ("top", 9));

    let replaced = tasks
        .find_one_and_replace(f.title.eq("same"), task("lowest", 0))
        .sort(f.priority.asc())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.priority, 1, "the lowest `same` was replaced");

    let deleted = tasks
        .find_one_and_delete(())
        .sort(f.priority.desc())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.title, "top");

    let mut left: Vec<(String, i32)> = stored_tasks(&tasks)
        .await
        .into_iter()
        .map(|t| (t.title, t.priority))
        .collect();
    left.sort();
    assert_eq!(left, [("lowest".to_owned(), 0), ("same".to_owned(), 5)]);
}

#[tokio::test]
async fn nothing_matched_is_none_and_writes_nothing() {
    let tasks = connect("fam_none").await.model::<Task>();
    tasks.create(task("kept", 1)).await.unwrap();
    let before = stored_tasks(&tasks).await;
    let nobody = Task::fields().title.eq("nobody");

    let updated = tasks
        .find_one_and_update(nobody.clone(), doc! { "$set": { "priority": 2 } })
        .return_after()
        .await
        .unwrap();
    assert_eq!(updated, None);
    let replaced = tasks
        .find_one_and_replace(nobody.clone(), task("new", 2))
        .return_after()
        .await
        .unwrap();
    assert_eq!(replaced, None);
    let deleted = tasks.find_one_and_delete(nobody).await.unwrap();
    assert_eq!(deleted, None);
    assert_eq!(stored_tasks(&tasks).await, before);
}

#[tokio::test]
async fn upsert_inserts_when_nothing_matches() {
    let tasks = connect("fam_upsert").await.model::<Task>();
    let f = Task::fields();

    let before = tasks
        .find_one_and_update(f.title.eq("a"), doc! { "$set": { "priority": 4 } })
        .upsert(true)
        .await
        .unwrap();
    assert_eq!(before, None, "there was no document before the upsert");
    let inserted = tasks.find_one(f.title.eq("a")).await.unwrap().unwrap();
    assert_eq!(inserted.priority, 4);
    assert!(inserted.updated_at.is_some(), "the upsert is timestamped");

    let after = tasks
        .find_one_and_update(f.title.eq("b"), doc! { "$set": { "priority": 5 } })
        .upsert(true)
        .return_after()
        .await
        .unwrap()
        .expect("the inserted document");
    assert_eq!((after.title.as_str(), after.priority), ("b", 5));
    assert!(after.id.is_some());

    let replacement = tasks
        .find_one_and_replace(f.title.eq("c"), task("c", 6))
        .upsert(true)
        .return_after()
        .await
        .unwrap()
        .expect("the inserted replacement");
    assert_eq!((replacement.title.as_str(), replacement.priority), ("c", 6));

    // An upsert that matches updates instead of inserting.
    let matched = tasks
        .find_one_and_update(f.title.eq("a"), doc! { "$set": { "priority": 7 } })
        .upsert(true)
        .await
        .unwrap()
        .expect("the existing document");
    assert_eq!(matched.priority, 4);
    assert_eq!(tasks.count(()).await.unwrap(), 3);
}

#[tokio::test]
async fn a_projection_returns_only_the_projected_fields() {
    let tasks = connect("fam_projection").await.model::<Task>();
    let a = tasks.create(task("a", 1)).await.unwrap();
    tasks.create(task("b", 2)).await.unwrap();
    let f = Task::fields();
    let title = || Projection::new().include(&f.title);
    let keys = |d: &Document| {
        let mut keys = d.keys().cloned().collect::<Vec<_>>();
        keys.sort();
        keys
    };

    let updated = tasks
        .find_one_and_update(f.title.eq("a"), doc! { "$set": { "priority": 3 } })
        .return_after()
        .project(title())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(keys(&updated), ["_id", "title"]);
    assert_eq!(updated.get_object_id("_id").unwrap(), a.id.unwrap());

    let replaced = tasks
        .find_one_and_replace(f.title.eq("a"), task("a2", 4))
        .return_after()
        .project(title())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced, doc! { "_id": a.id.unwrap(), "title": "a2" });

    let deleted = tasks
        .find_one_and_delete(f.title.eq("b"))
        .project(doc! { "priority": 1, "_id": 0 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted, doc! { "priority": 2 });

    let none = tasks
        .find_one_and_delete(f.title.eq("b"))
        .project(title())
        .await
        .unwrap();
    assert_eq!(none, None);
    assert_eq!(tasks.count(()).await.unwrap(), 1);
}

#[tokio::test]
async fn an_update_that_breaks_a_rule_writes_nothing() {
    let tasks = connect("fam_update_rules").await.model::<Task>();
    tasks.create(task("a", 1)).await.unwrap();
    let before = stored_tasks(&tasks).await;
    let f = Task::fields();

    let err = tasks
        .find_one_and_update(f.title.eq("a"), doc! { "$set": { "priority": 11 } })
        .await
        .unwrap_err();
    match &err {
        Error::Validation(e) => {
            assert_eq!(e.at("priority").count(), 1, "{e}");
            assert_eq!(e.index, None);
        }
        other => panic!("expected Error::Validation, got {other:?}"),
    }
    // Through the typed builder and with an upsert: nothing inserted either.
    let err = tasks
        .find_one_and_update(f.title.eq("new"), UpdateBuilder::new().set(&f.priority, -1))
        .upsert(true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(stored_tasks(&tasks).await, before);
}

#[tokio::test]
async fn a_replacement_that_breaks_a_rule_writes_nothing() {
    let tasks = connect("fam_replace_rules").await.model::<Task>();
    tasks.create(task("a", 1)).await.unwrap();
    let before = stored_tasks(&tasks).await;

    let err = tasks
        .find_one_and_replace(Task::fields().title.eq("a"), task("a", 42))
        .await
        .unwrap_err();
    match &err {
        Error::Validation(e) => assert_eq!(e.at("priority").count(), 1, "{e}"),
        other => panic!("expected Error::Validation, got {other:?}"),
    }
    let err = tasks
        .find_one_and_replace(Task::fields().title.eq("new"), task("new", -3))
        .upsert(true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(stored_tasks(&tasks).await, before);
}

#[tokio::test]
async fn updated_at_moves_forward_and_created_at_stays() {
    let tasks = connect("fam_timestamps").await.model::<Task>();
    let created = tasks.create(task("a", 1)).await.unwrap();
    let (c0, u0) = (created.created_at.unwrap(), created.updated_at.unwrap());
    let by_id = doc! { "_id": created.id.unwrap() };

    tokio::time::sleep(Duration::from_millis(20)).await;
    let updated = tasks
        .find_one_and_update(by_id.clone(), doc! { "$set": { "priority": 2 } })
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.created_at, Some(c0));
    assert!(updated.updated_at.unwrap() > u0, "{updated:?}");

    tokio::time::sleep(Duration::from_millis(20)).await;
    let replacement = Task {
        priority: 3,
        ..updated.clone()
    };
    let replaced = tasks
        .find_one_and_replace(by_id, replacement)
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.created_at, Some(c0));
    assert!(replaced.updated_at.unwrap() > updated.updated_at.unwrap());
    assert_eq!(stored_tasks(&tasks).await, vec![replaced]);
}

/// `timestamps(false)` on an update (Mongoose's per-query `timestamps: false`): the change is stored and
/// `updated_at` stays, for `update_one`, `update_many` and `find_one_and_update`; without it, it moves.
#[tokio::test]
async fn an_update_without_timestamps_leaves_updated_at() {
    let tasks = connect("fam_no_timestamps").await.model::<Task>();
    let created = tasks.create(task("a", 1)).await.unwrap();
    let u0 = created.updated_at.unwrap();
    let by_id = doc! { "_id": created.id.unwrap() };
    let stored = || async {
        tasks
            .find_by_id(created.id.unwrap())
            .await
            .unwrap()
            .unwrap()
    };

    for priority in [2, 3, 4] {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let set = doc! { "$set": { "priority": priority } };
        match priority {
            2 => drop(
                tasks
                    .update_one(by_id.clone(), set)
                    .timestamps(false)
                    .await
                    .unwrap(),
            ),
            3 => drop(
                tasks
                    .update_many(by_id.clone(), set)
                    .timestamps(false)
                    .await
                    .unwrap(),
            ),
            _ => {
                let after = tasks
                    .find_one_and_update(by_id.clone(), set)
                    .timestamps(false)
                    .return_after()
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(after.updated_at, Some(u0));
            }
        }
        let now = stored().await;
        assert_eq!((now.priority, now.updated_at), (priority, Some(u0)));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    tasks
        .update_one(by_id, doc! { "$set": { "priority": 5 } })
        .await
        .unwrap();
    assert!(stored().await.updated_at.unwrap() > u0);
}

// ---------------------------------------------------------------------------------------------------------
// Hooks.

use odm_tests::hook_log::{calls, note, Note};

#[tokio::test]
async fn replace_runs_the_save_hooks() {
    let db = "fam_hooks_replace";
    let notes = connect(db).await.model::<Note>();
    let old = notes.create(note("old")).await.unwrap();
    let start = calls(db).len();

    let replaced = notes
        .find_one_and_replace(doc! { "text": "old" }, note("  new "))
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        replaced.text, "new",
        "before_save's change is what is stored"
    );
    assert_eq!(replaced.id, old.id);
    assert_eq!(
        calls(db)[start..],
        [
            "before_validate   new ",
            "before_save   new ",
            "after_save new"
        ]
    );

    // A refusing before_save writes nothing and after_save does not run.
    let start = calls(db).len();
    let err = notes
        .find_one_and_replace(doc! { "text": "new" }, note("forbidden"))
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
    assert_eq!(
        calls(db)[start..],
        ["before_validate forbidden", "before_save forbidden"]
    );
    let stored = notes.find_by_id(old.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.text, "new");

    // Nothing matched, nothing saved: no after_save.
    let start = calls(db).len();
    let none = notes
        .find_one_and_replace(doc! { "text": "nobody" }, note("x"))
        .await
        .unwrap();
    assert_eq!(none, None);
    assert_eq!(calls(db)[start..], ["before_validate x", "before_save x"]);
}

#[tokio::test]
async fn delete_runs_the_delete_hooks() {
    let db = "fam_hooks_delete";
    let notes = connect(db).await.model::<Note>();
    notes
        .insert_many([note("keep"), note("drop")])
        .await
        .unwrap();
    let start = calls(db).len();

    let deleted = notes
        .find_one_and_delete(doc! { "text": "drop" })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.text, "drop");
    let none = notes
        .find_one_and_delete(doc! { "text": "drop" })
        .await
        .unwrap();
    assert_eq!(none, None);
    assert_eq!(
        calls(db)[start..],
        [
            r#"before_delete { "text": "drop" }"#,
            "after_delete 1",
            r#"before_delete { "text": "drop" }"#,
            "after_delete 0"
        ]
    );

    // A refusing before_delete deletes nothing.
    let err = notes
        .find_one_and_delete(doc! { "text": "keep" })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Hook {
                hook: "before_delete",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(notes.count(()).await.unwrap(), 1);
}

// ---------------------------------------------------------------------------------------------------------
// Versions.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "docs", version)]
struct Versioned {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
    #[serde(rename = "__v", default)]
    version: i64,
}

#[tokio::test]
async fn a_replacement_of_the_current_version_stores_the_next() {
    let docs = connect("fam_version_next").await.model::<Versioned>();
    let v0 = docs
        .create(Versioned {
            id: None,
            title: "v0".into(),
            version: 0,
        })
        .await
        .unwrap();
    let by_id = doc! { "_id": v0.id.unwrap() };

    let before = docs
        .find_one_and_replace(
            by_id.clone(),
            Versioned {
                title: "v1".into(),
                ..v0.clone()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, v0);
    let v1 = docs.find_by_id(v0.id.unwrap()).await.unwrap().unwrap();
    assert_eq!((v1.title.as_str(), v1.version), ("v1", 1));

    let v2 = docs
        .find_one_and_replace(
            by_id,
            Versioned {
                title: "v2".into(),
                ..v1
            },
        )
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v2.title.as_str(), v2.version), ("v2", 2));
}

// The two tests below tell a stale value from a missing document by a count on the ObjectId `_id`, which
// MongoDB matches: the answer is the conflict, never `None`.

#[tokio::test]
async fn a_stale_replacement_is_a_version_conflict_and_changes_nothing() {
    let docs = connect("fam_version_stale").await.model::<Versioned>();
    let v0 = docs
        .create(Versioned {
            id: None,
            title: "v0".into(),
            version: 0,
        })
        .await
        .unwrap();
    let id = v0.id.unwrap();
    let mut fresh = v0.clone();
    fresh.title = "fresh".into();
    docs.save(&mut fresh).await.unwrap();
    assert_eq!(fresh.version, 1);

    let stale = Versioned {
        title: "stale".into(),
        ..v0
    };
    let err = docs
        .find_one_and_replace(doc! { "_id": id }, stale.clone())
        .return_after()
        .await
        .unwrap_err();
    match &err {
        Error::VersionConflict {
            expected,
            id: conflicting,
            ..
        } => {
            assert_eq!(*expected, 0);
            assert_eq!(**conflicting, Bson::ObjectId(id));
        }
        other => panic!("expected Error::VersionConflict, got {other:?}"),
    }
    let stored = docs.find_by_id(id).await.unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.version), ("fresh", 1));

    // A filter that matches no document at any version is not a conflict.
    let none = docs
        .find_one_and_replace(doc! { "_id": ObjectId::new() }, stale)
        .await
        .unwrap();
    assert_eq!(none, None);
}

#[tokio::test]
async fn a_stale_upsert_is_a_version_conflict_and_inserts_nothing() {
    let docs = connect("fam_version_upsert").await.model::<Versioned>();
    let mut fresh = docs
        .create(Versioned {
            id: None,
            title: "v0".into(),
            version: 0,
        })
        .await
        .unwrap();
    let id = fresh.id.unwrap();
    let stale = fresh.clone();
    fresh.title = "fresh".into();
    docs.save(&mut fresh).await.unwrap();

    // By `_id`, and by another field with a value that carries no `_id`: neither inserts a second
    // document beside the newer one.
    let by_title = Versioned {
        id: None,
        ..stale.clone()
    };
    for (filter, value) in [
        (doc! { "_id": id }, stale.clone()),
        (doc! { "title": "fresh" }, by_title),
    ] {
        let err = docs
            .find_one_and_replace(filter.clone(), value)
            .upsert(true)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::VersionConflict { expected: 0, .. }),
            "{filter}: {err:?}"
        );
    }
    let all = docs.find(()).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!((all[0].title.as_str(), all[0].version), ("fresh", 1));

    // A value never stored is inserted.
    let inserted = docs
        .find_one_and_replace(
            doc! { "title": "new" },
            Versioned {
                id: None,
                title: "new".into(),
                version: 0,
            },
        )
        .upsert(true)
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inserted.title, "new");
    assert_eq!(docs.count(()).await.unwrap(), 2);
}

// ---------------------------------------------------------------------------------------------------------
// Sessions and transactions.

#[tokio::test]
async fn the_operations_join_a_transaction() {
    let conn = connect("fam_transaction").await;
    let tasks = conn.model::<Task>();
    let a = tasks.create(task("a", 1)).await.unwrap();
    tasks.create(task("b", 2)).await.unwrap();

    // Aborted: nothing the three operations did stays.
    let err = conn
        .transaction(|tx| {
            let tasks = &tasks;
            async move {
                let f = Task::fields();
                let mut s = tx.session().await;
                let seen = tasks
                    .find_one_and_update(f.title.eq("a"), doc! { "$set": { "priority": 9 } })
                    .session(&mut s)
                    .return_after()
                    .await?
                    .expect("a matched");
                assert_eq!(seen.priority, 9, "the session sees its own write");
                tasks
                    .find_one_and_replace(f.title.eq("b"), task("b2", 3))
                    .session(&mut s)
                    .await?;
                tasks
                    .find_one_and_delete(f.title.eq("a"))
                    .session(&mut s)
                    .await?;
                assert_eq!(tasks.count(()).session(&mut s).await?, 1);
                Err::<(), _>(Error::abort("undo"))
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Aborted(_)), "{err:?}");
    let mut titles: Vec<(String, i32)> = stored_tasks(&tasks)
        .await
        .into_iter()
        .map(|t| (t.title, t.priority))
        .collect();
    titles.sort();
    assert_eq!(titles, [("a".to_owned(), 1), ("b".to_owned(), 2)]);

    // Uncommitted, the change is invisible outside the transaction; committed, it is there.
    let mut session = conn.start_session().await.unwrap();
    session.inner().start_transaction().await.unwrap();
    tasks
        .find_one_and_update(
            doc! { "_id": a.id.unwrap() },
            doc! { "$set": { "priority": 5 } },
        )
        .session(&mut session)
        .await
        .unwrap();
    let outside = tasks.find_by_id(a.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(outside.priority, 1, "not visible before the commit");
    session.inner().commit_transaction().await.unwrap();
    let committed = tasks.find_by_id(a.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(committed.priority, 5);
}

#[tokio::test]
async fn a_session_of_another_client_is_refused() {
    let conn = connect("fam_foreign_session").await;
    let tasks = conn.model::<Task>();
    tasks.create(task("a", 1)).await.unwrap();
    let other = Connection::connect(&odm_tests::uri()).await.unwrap();
    let mut foreign = other.start_session().await.unwrap();
    let err = tasks
        .find_one_and_update((), doc! { "$set": { "priority": 2 } })
        .session(&mut foreign)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignSession), "{err:?}");
    let err = tasks
        .find_one_and_replace((), task("b", 2))
        .session(&mut foreign)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignSession), "{err:?}");
    let err = tasks
        .find_one_and_delete(())
        .session(&mut foreign)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignSession), "{err:?}");
    let stored = stored_tasks(&tasks).await;
    assert_eq!(
        (stored.len(), stored[0].title.as_str(), stored[0].priority),
        (1, "a", 1)
    );
}

// ---------------------------------------------------------------------------------------------------------
// Confinement: tenant B never reads, changes or deletes tenant A's documents.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "items")]
struct Item {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    owner: String,
    n: i32,
}

/// Tenant A's documents as the server holds them, read without the confinement.
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
    for (handle, owner) in [(&a, "acme"), (&b, "globex")] {
        for n in [1, 2] {
            handle
                .create(Item {
                    id: None,
                    owner: owner.into(),
                    n,
                })
                .await
                .unwrap();
        }
    }
    let a_before = raw_of(&a, "acme").await;
    assert_eq!(a_before.len(), 2);
    let a_id = a_before[0].get_object_id("_id").unwrap();
    let by_a_id = doc! { "_id": a_id };
    let a_item = Item {
        id: Some(a_id),
        owner: "globex".into(),
        n: 100,
    };

    // By A's `_id`: nothing matches through B.
    let got = b
        .find_one_and_update(by_a_id.clone(), doc! { "$set": { "n": 100 } })
        .return_after()
        .await
        .unwrap();
    assert_eq!(got, None);
    let got = b
        .find_one_and_replace(by_a_id.clone(), a_item.clone())
        .await
        .unwrap();
    assert_eq!(got, None);
    let got = b.find_one_and_delete(by_a_id.clone()).await.unwrap();
    assert_eq!(got, None);
    let got = b
        .find_one_and_delete(doc! { "owner": "acme" })
        .project(doc! { "owner": 1 })
        .await
        .unwrap();
    assert_eq!(got, None);

    // Filters that match everything reach only B's own documents, whatever the sort.
    for _ in 0..2 {
        let got = b
            .find_one_and_update((), doc! { "$inc": { "n": 10 } })
            .sort(doc! { "n": 1 })
            .await
            .unwrap()
            .expect("one of B's documents");
        assert_eq!(got.owner, "globex");
    }
    let got = b
        .find_one_and_replace(
            (),
            Item {
                id: None,
                owner: "globex".into(),
                n: 50,
            },
        )
        .sort(doc! { "n": -1 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.owner, "globex");
    let got = b.find_one_and_delete(()).await.unwrap().unwrap();
    assert_eq!(got.owner, "globex");

    // An upsert by A's `_id` never reaches A's document: it inserts into B's own space, or, in a shared
    // collection where the `_id` is taken, is refused as if nothing were there.
    match b
        .find_one_and_update(
            by_a_id.clone(),
            doc! { "$set": { "owner": "globex", "n": 7 } },
        )
        .upsert(true)
        .await
    {
        Ok(before) => assert_eq!(before, None),
        Err(Error::NotFound { .. }) => {}
        Err(other) => panic!("unexpected error {other:?}"),
    }
    if let Some(own) = b.find_one_and_delete(by_a_id.clone()).await.unwrap() {
        assert_eq!(own.owner, "globex", "B's own upserted copy");
    }
    match b
        .find_one_and_replace(by_a_id.clone(), a_item)
        .upsert(true)
        .await
    {
        Ok(before) => assert_eq!(before, None),
        Err(Error::NotFound { .. }) => {}
        Err(other) => panic!("unexpected error {other:?}"),
    }

    assert_eq!(
        raw_of(&a, "acme").await,
        a_before,
        "A's documents unchanged"
    );
    for item in a.find(()).await.unwrap() {
        assert_eq!(item.owner, "acme");
    }
    for item in b.find(()).await.unwrap() {
        assert_eq!(item.owner, "globex", "B sees only its own");
    }
}

#[tokio::test]
async fn database_per_tenant_confines_find_and_modify() {
    let conn = connect("fam_iso_db").await;
    check_confinement(conn, Strategy::database_per_tenant("fam_iso_db_")).await;
}

#[tokio::test]
async fn collection_per_tenant_confines_find_and_modify() {
    // The default separator makes dotted collection names (`acme.items`), which MongoDB takes.
    let conn = connect("fam_iso_coll").await;
    check_confinement(conn, Strategy::collection_per_tenant()).await;
}

#[tokio::test]
async fn shared_collection_confines_find_and_modify() {
    let conn = connect("fam_iso_shared").await;
    check_confinement(conn, Strategy::shared_collection()).await;

    // The tenant field cannot be moved by an update.
    let tenants = Tenants::new(
        odm_tests::connect("fam_iso_shared_field").await,
        Strategy::shared_collection(),
    )
    .unwrap();
    let a = tenants.get("acme").unwrap().model::<Item>();
    a.create(Item {
        id: None,
        owner: "acme".into(),
        n: 1,
    })
    .await
    .unwrap();
    let err = a
        .find_one_and_update((), doc! { "$set": { "tenant_id": "globex" } })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err:?}");
    let stored = raw_of(&a, "acme").await;
    assert_eq!(stored[0].get_str("tenant_id").unwrap(), "acme");
}
