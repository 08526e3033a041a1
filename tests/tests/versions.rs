//! Version-checked writes: `update_one(..).if_version(v)` in one round trip, and a
//! `VersionConflict` that says whether the caller's copy is stale, ahead of the stored document, or of a
//! document now gone.

use odm_core::prelude::*;
use odm_core::UpdateBuilder;
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "docs", version)]
struct Page {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
    #[serde(rename = "__v", default)]
    version: Option<i64>,
}

/// A page stored at version 0.
async fn stored_page(pages: &ModelHandle<Page>) -> Page {
    pages
        .create(Page {
            id: None,
            title: "a".into(),
            version: None,
        })
        .await
        .unwrap()
}

fn stored_of(e: &Error) -> Option<i64> {
    match e {
        Error::VersionConflict { stored, .. } => *stored,
        other => panic!("expected VersionConflict, got {other:?}"),
    }
}

#[tokio::test]
async fn if_version_writes_only_at_that_version_and_moves_it_on() {
    let conn = connect("versions_if_version").await;
    let pages = conn.model::<Page>();
    let f = Page::fields();
    let page = stored_page(&pages).await;
    let id = page.id.unwrap();
    assert_eq!(page.version, Some(0));

    let done = pages
        .update_one(f.id.eq(id), UpdateBuilder::new().set(&f.title, "b"))
        .if_version(0)
        .await
        .unwrap();
    assert_eq!(done.modified_count, 1);
    let now = pages.find_by_id(id).await.unwrap().unwrap();
    assert_eq!((now.title.as_str(), now.version), ("b", Some(1)));

    // A stale copy (read at 0, stored at 1): refused, nothing written, and the error says so.
    let stale = pages
        .update_one(f.id.eq(id), UpdateBuilder::new().set(&f.title, "stale"))
        .if_version(0)
        .await
        .unwrap_err();
    assert_eq!(stored_of(&stale), Some(1));
    assert!(stale.to_string().contains("another writer"), "{stale}");

    // A copy ahead of the stored document.
    let ahead = pages
        .update_one(f.id.eq(id), UpdateBuilder::new().set(&f.title, "ahead"))
        .if_version(7)
        .await
        .unwrap_err();
    assert_eq!(stored_of(&ahead), Some(1));
    assert!(ahead.to_string().contains("ahead"), "{ahead}");
    assert_eq!(pages.find_by_id(id).await.unwrap().unwrap(), now);

    // A document gone.
    pages.delete_one(f.id.eq(id)).await.unwrap();
    let gone = pages
        .update_one(f.id.eq(id), UpdateBuilder::new().set(&f.title, "gone"))
        .if_version(1)
        .await
        .unwrap_err();
    assert_eq!(stored_of(&gone), None);
    assert!(gone.to_string().contains("gone"), "{gone}");
    assert_eq!(pages.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_stale_save_says_which_version_won() {
    let conn = connect("versions_stale_save").await;
    let pages = conn.model::<Page>();
    let mut first = stored_page(&pages).await;
    let mut second = first.clone();
    first.title = "first".into();
    pages.save(&mut first).await.unwrap();
    second.title = "second".into();
    let e = pages.save(&mut second).await.unwrap_err();
    assert_eq!(stored_of(&e), Some(1));
    assert_eq!(
        second.version,
        Some(0),
        "a refused save leaves the value's version"
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "plain")]
struct Plain {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    n: i32,
}

#[tokio::test]
async fn if_version_needs_a_versioned_model() {
    let conn = connect("versions_unversioned").await;
    let e = conn
        .model::<Plain>()
        .update_one(doc! {}, doc! { "$set": { "n": 1 } })
        .if_version(0)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
}

#[tokio::test]
async fn find_one_and_update_if_version_returns_the_new_version_in_one_round_trip() {
    let conn = connect("versions_find_one_and_update").await;
    let pages = conn.model::<Page>();
    let f = Page::fields();
    let page = stored_page(&pages).await;
    let id = page.id.unwrap();
    let after = pages
        .find_one_and_update(f.id.eq(id), UpdateBuilder::new().set(&f.title, "b"))
        .if_version(0)
        .return_after()
        .await
        .unwrap()
        .unwrap();
    assert_eq!((after.title.as_str(), after.version), ("b", Some(1)));
    let stale = pages
        .find_one_and_update(f.id.eq(id), UpdateBuilder::new().set(&f.title, "stale"))
        .if_version(0)
        .await
        .unwrap_err();
    assert_eq!(stored_of(&stale), Some(1));
    assert_eq!(pages.find_by_id(id).await.unwrap().unwrap(), after);
}

/// Through another tenant, a version-checked write of a tenant's document finds nothing: the conflict
/// says the document is gone for the caller, never the other tenant's stored version, and writes nothing.
#[tokio::test]
async fn if_version_through_another_tenant_reveals_and_changes_nothing() {
    use odm_core::{Strategy, Tenants};
    for (db, strategy) in [
        (
            "versions_iso_db",
            Strategy::database_per_tenant("versions_iso_db_"),
        ),
        ("versions_iso_coll", Strategy::collection_per_tenant()),
        ("versions_iso_shared", Strategy::shared_collection()),
    ] {
        let conn = connect(db).await;
        let tenants = Tenants::new(conn, strategy).unwrap();
        let acme = tenants.get("acme").unwrap().model::<Page>();
        let globex = tenants.get("globex").unwrap().model::<Page>();
        acme.unconfined_collection().drop().await.unwrap();
        globex.unconfined_collection().drop().await.unwrap();
        let f = Page::fields();
        let page = stored_page(&acme).await;
        let id = page.id.unwrap();
        // acme's document moves on to version 1, so a leak would show `stored: Some(1)`.
        acme.update_one(f.id.eq(id), UpdateBuilder::new().set(&f.title, "b"))
            .if_version(0)
            .await
            .unwrap();
        for version in [0, 1] {
            let e = globex
                .update_one(f.id.eq(id), UpdateBuilder::new().set(&f.title, "x"))
                .if_version(version)
                .await
                .unwrap_err();
            assert_eq!(stored_of(&e), None, "{db}: {e}");
            let e = globex
                .find_one_and_update(f.id.eq(id), UpdateBuilder::new().set(&f.title, "x"))
                .if_version(version)
                .await
                .unwrap_err();
            assert_eq!(stored_of(&e), None, "{db}: {e}");
        }
        let stored = acme.find_by_id(id).await.unwrap().unwrap();
        assert_eq!(
            (stored.title.as_str(), stored.version),
            ("b", Some(1)),
            "{db}"
        );
    }
}
