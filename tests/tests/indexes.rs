//! Declared indexes against the real server: sync creates, drops the undeclared, and is idempotent; a
//! unique index rejects duplicates with `Error::DuplicateKey` (a missing field counting as null); text
//! indexes where the server has them.

use mongodb::IndexModel;
use odm_core::prelude::*;
use odm_tests::connect;

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    collection = "accounts",
    index(fields("org", "rank"), unique, name = "org_rank")
)]
struct Account {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    email: String,
    #[field(index)]
    org: String,
    rank: i32,
    age: i32,
}

fn account(email: &str, org: &str, rank: i32) -> Account {
    Account {
        id: None,
        email: email.into(),
        org: org.into(),
        rank,
        age: 30,
    }
}

async fn key_patterns(accounts: &odm_core::ModelHandle<Account>) -> Vec<Document> {
    let mut keys: Vec<Document> = accounts
        .list_indexes()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.keys)
        .collect();
    keys.sort_by_key(|k| k.to_string());
    keys
}

#[tokio::test]
async fn sync_creates_drops_and_is_idempotent() {
    let conn = connect("idx_sync").await;
    let accounts = conn.model::<Account>();

    // An index nobody declared, made by hand.
    accounts
        .collection()
        .expect("the collection of an unconfined handle")
        .create_index(IndexModel::builder().keys(doc! { "legacy": 1 }).build())
        .await
        .unwrap();

    let diff = accounts.diff_indexes().await.unwrap();
    assert_eq!(diff.to_create.len(), 3, "{diff:?}");
    assert_eq!(diff.to_drop.len(), 1, "{diff:?}");
    assert_eq!(diff.to_drop[0].keys, doc! { "legacy": 1 });
    // diff changes nothing.
    assert_eq!(key_patterns(&accounts).await.len(), 2);

    let first = accounts.sync_indexes().await.unwrap();
    assert_eq!(first.created.len(), 3, "{first:?}");
    assert_eq!(first.dropped.len(), 1, "{first:?}");
    assert_eq!(
        key_patterns(&accounts).await,
        vec![
            doc! { "_id": 1 },
            doc! { "email": 1 },
            doc! { "org": 1 },
            doc! { "org": 1, "rank": 1 },
        ]
    );

    let second = accounts.sync_indexes().await.unwrap();
    assert!(second.is_noop(), "{second:?}");
    assert_eq!(second.unchanged, 3);
    assert!(accounts.diff_indexes().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_index_with_changed_options_is_rebuilt() {
    let conn = connect("idx_changed").await;
    let accounts = conn.model::<Account>();
    // `email` indexed, but not unique as declared.
    accounts
        .collection()
        .expect("the collection of an unconfined handle")
        .create_index(IndexModel::builder().keys(doc! { "email": 1 }).build())
        .await
        .unwrap();
    let diff = accounts.diff_indexes().await.unwrap();
    assert!(diff
        .to_drop
        .iter()
        .any(|i| i.keys == doc! { "email": 1 } && !i.unique));
    assert!(diff
        .to_create
        .iter()
        .any(|i| i.keys == doc! { "email": 1 } && i.unique));
    accounts.sync_indexes().await.unwrap();
    let email = accounts
        .list_indexes()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.keys == doc! { "email": 1 })
        .unwrap();
    assert!(email.unique);
}

#[tokio::test]
async fn a_unique_index_rejects_a_duplicate() {
    let conn = connect("idx_unique").await;
    let accounts = conn.model::<Account>();
    accounts.sync_indexes().await.unwrap();
    accounts.create(account("ann@x.io", "x", 1)).await.unwrap();
    let err = accounts
        .create(account("ann@x.io", "x", 2))
        .await
        .unwrap_err();
    match &err {
        Error::DuplicateKey { index, message, .. } => {
            // MongoDB names the index and the duplicated key in its E11000 message. (The driver's
            // inserts drop the reply, and with it its `keyValue`; an update keeps it, below.)
            assert_eq!(index.as_deref(), Some("email_1"), "{message}");
            assert!(
                message.contains(r#"dup key: { email: "ann@x.io" }"#),
                "{message}"
            );
        }
        other => panic!("expected DuplicateKey, got {other:?}"),
    }
    assert!(err.to_string().contains("duplicate key"), "{err}");
    assert_eq!(
        accounts.count(doc! { "email": "ann@x.io" }).await.unwrap(),
        1
    );

    // An update to a key that is taken: the error carries the reply's `keyValue`.
    accounts.create(account("cat@x.io", "y", 1)).await.unwrap();
    let err = accounts
        .update_one(
            doc! { "email": "cat@x.io" },
            doc! { "$set": { "email": "ann@x.io" } },
        )
        .await
        .unwrap_err();
    match &err {
        Error::DuplicateKey { index, key, .. } => {
            assert_eq!(index.as_deref(), Some("email_1"), "{err}");
            assert_eq!(key.as_deref(), Some(&doc! { "email": "ann@x.io" }), "{err}");
        }
        other => panic!("expected DuplicateKey, got {other:?}"),
    }

    // The compound unique index too.
    let err = accounts
        .create(account("bob@x.io", "x", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateKey { .. }), "{err:?}");
}

#[tokio::test]
async fn insert_many_stops_at_a_duplicate_and_says_how_many_are_stored() {
    let conn = connect("idx_insert_many_dup").await;
    let accounts = conn.model::<Account>();
    accounts.sync_indexes().await.unwrap();
    let err = accounts
        .insert_many([
            account("a@x.io", "x", 1),
            account("b@x.io", "x", 2),
            account("a@x.io", "x", 3),
            account("c@x.io", "x", 4),
        ])
        .await
        .unwrap_err();
    match err {
        Error::PartialWrite {
            written,
            unknown,
            total,
            source,
        } => {
            assert_eq!((written, unknown, total), (2, 0, 4));
            match *source {
                Error::DuplicateKey { index, .. } => assert_eq!(index.as_deref(), Some("email_1")),
                other => panic!("expected DuplicateKey, got {other:?}"),
            }
        }
        other => panic!("expected PartialWrite, got {other:?}"),
    }
    // Ordered semantics: the two before the duplicate are stored, the one after is not.
    assert_eq!(accounts.count(()).await.unwrap(), 2);
    assert!(!accounts.exists(doc! { "email": "c@x.io" }).await.unwrap());
}

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    collection = "members",
    index(fields("age"), partial = r#"{"age": {"$gt": 17}}"#)
)]
struct Member {
    #[serde(rename = "_id")]
    id: i32,
    age: i32,
}

#[tokio::test]
async fn a_partial_index_is_created_with_its_filter() {
    let conn = connect("idx_partial").await;
    let members = conn.model::<Member>();
    let diff = members.diff_indexes().await.unwrap();
    assert_eq!(diff.to_create.len(), 1);
    assert_eq!(
        diff.to_create[0].partial_filter,
        Some(doc! { "age": { "$gt": 17 } })
    );
    let report = members.sync_indexes().await.unwrap();
    assert_eq!(report.created, ["age_1"]);
    let listed = members.list_indexes().await.unwrap();
    let age = listed.iter().find(|i| i.keys == doc! { "age": 1 }).unwrap();
    // MongoDB lists the partial filter, so a second sync does nothing.
    assert_eq!(age.partial_filter, Some(doc! { "age": { "$gt": 17 } }));
    assert!(members.sync_indexes().await.unwrap().is_noop());
}

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "badges")]
struct Badge {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "passes")]
struct Pass {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique, sparse)]
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

#[tokio::test]
async fn a_unique_index_counts_a_missing_field_as_null_unless_sparse() {
    let conn = connect("idx_unique_missing").await;
    let badges = conn.model::<Badge>();
    badges.sync_indexes().await.unwrap();
    // MongoDB indexes a document that lacks the field under `null`, so a second one is a duplicate.
    badges
        .create(Badge {
            id: None,
            code: None,
        })
        .await
        .unwrap();
    let err = badges
        .create(Badge {
            id: None,
            code: None,
        })
        .await
        .unwrap_err();
    match &err {
        Error::DuplicateKey { index, message, .. } => {
            assert_eq!(index.as_deref(), Some("code_1"), "{err}");
            assert!(message.contains("dup key: { code: null }"), "{err}");
        }
        other => panic!("expected DuplicateKey, got {other:?}"),
    }
    assert_eq!(badges.count(()).await.unwrap(), 1);

    // A sparse unique index leaves such documents out, so any number of them is stored; a value is still
    // unique.
    let passes = conn.model::<Pass>();
    passes.sync_indexes().await.unwrap();
    for _ in 0..2 {
        passes
            .create(Pass {
                id: None,
                code: None,
            })
            .await
            .unwrap();
    }
    let code = || Pass {
        id: None,
        code: Some("p-1".into()),
    };
    passes.create(code()).await.unwrap();
    let err = passes.create(code()).await.unwrap_err();
    assert!(matches!(err, Error::DuplicateKey { .. }), "{err}");
    assert_eq!(passes.count(()).await.unwrap(), 3);
}

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "articles")]
struct Article {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(text)]
    title: String,
    #[field(text)]
    body: String,
}

#[tokio::test]
#[ignore = "SecantusDB, the local test server, has no text indexes (createIndexes answers code 67, \
            CannotCreateIndex); run it with `--ignored` against a mongod through MONGODB_URI"]
async fn text_fields_make_one_text_index_that_a_text_search_uses() {
    let conn = connect("idx_text").await;
    let articles = conn.model::<Article>();
    let report = articles.sync_indexes().await.unwrap();
    assert_eq!(report.created, ["title_text_body_text"]);
    // MongoDB lists it as `{_fts: "text", _ftsx: 1}` with the fields in `weights`; read back, it is the
    // declared index, so a second sync does nothing.
    assert!(articles.sync_indexes().await.unwrap().is_noop());
    articles
        .insert_many([
            Article {
                id: None,
                title: "Tenancy".into(),
                body: "one pool for every tenant".into(),
            },
            Article {
                id: None,
                title: "Indexes".into(),
                body: "declared once".into(),
            },
        ])
        .await
        .unwrap();
    let found = articles
        .find(doc! { "$text": { "$search": "tenant" } })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].title, "Tenancy");
}
