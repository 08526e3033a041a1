//! `save` with optimistic versions, and timestamps.

use std::time::Duration;

use odm_core::prelude::*;
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "docs", version, timestamps)]
struct Doc {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
    #[serde(rename = "__v", default)]
    version: i64,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
}

fn new_doc(title: &str) -> Doc {
    Doc {
        id: None,
        title: title.into(),
        version: 0,
        created_at: None,
        updated_at: None,
    }
}

#[tokio::test]
async fn save_inserts_then_bumps_the_version() {
    let conn = connect("save_bumps").await;
    let docs = conn.model::<Doc>();
    let mut d = new_doc("first");
    docs.save(&mut d).await.unwrap();
    assert!(d.id.is_some());
    assert_eq!(d.version, 0);
    d.title = "second".into();
    docs.save(&mut d).await.unwrap();
    assert_eq!(d.version, 1);
    let stored = docs.find_by_id(d.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.title, "second");
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn two_concurrent_saves_of_one_version_one_wins() {
    let conn = connect("save_conflict").await;
    let docs = conn.model::<Doc>();
    let mut original = new_doc("v0");
    docs.save(&mut original).await.unwrap();
    let id = original.id.unwrap();

    let mut a = docs.find_by_id(id).await.unwrap().unwrap();
    let mut b = a.clone();
    a.title = "from a".into();
    b.title = "from b".into();
    let (docs_a, docs_b) = (docs.clone(), docs.clone());
    let (ra, rb) = tokio::join!(
        async move { docs_a.save(&mut a).await.map(|()| a) },
        async move { docs_b.save(&mut b).await.map(|()| b) },
    );
    let (winner, loser) = match (ra, rb) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("expected exactly one save to win: {other:?}"),
    };
    assert!(
        matches!(loser, Error::VersionConflict { expected: 0, .. }),
        "{loser:?}"
    );
    let stored = docs.find_by_id(id).await.unwrap().unwrap();
    assert_eq!(stored.title, winner.title);
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn a_stale_copy_never_overwrites_a_newer_one() {
    let conn = connect("save_stale").await;
    let docs = conn.model::<Doc>();
    let mut fresh = new_doc("v0");
    docs.save(&mut fresh).await.unwrap();
    let mut stale = fresh.clone();
    fresh.title = "v1".into();
    docs.save(&mut fresh).await.unwrap();
    stale.title = "stale".into();
    let err = docs.save(&mut stale).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { .. }), "{err:?}");
    assert!(err.to_string().contains("reload"), "{err}");
    assert_eq!(
        stale.version, 0,
        "a refused save leaves the value's version as it was"
    );
    let stored = docs.find_by_id(fresh.id.unwrap()).await.unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.version), ("v1", 1));
}

#[tokio::test]
async fn timestamps_are_set_on_create_and_move_forward_on_update() {
    let conn = connect("save_timestamps").await;
    let docs = conn.model::<Doc>();
    let created = docs.create(new_doc("t")).await.unwrap();
    let (c0, u0) = (created.created_at.unwrap(), created.updated_at.unwrap());
    assert_eq!(c0, u0);
    let stored = docs.find_by_id(created.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.created_at, Some(c0));

    tokio::time::sleep(Duration::from_millis(20)).await;
    docs.update_one(
        doc! { "_id": created.id },
        doc! { "$set": { "title": "u" } },
    )
    .await
    .unwrap();
    let updated = docs.find_by_id(created.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(updated.created_at, Some(c0));
    assert!(updated.updated_at.unwrap() > u0, "{updated:?}");

    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut again = updated.clone();
    again.title = "saved".into();
    docs.save(&mut again).await.unwrap();
    let saved = docs.find_by_id(created.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(saved.created_at, Some(c0));
    assert!(saved.updated_at.unwrap() > updated.updated_at.unwrap());

    tokio::time::sleep(Duration::from_millis(20)).await;
    docs.update_many((), doc! { "$set": { "title": "many" } })
        .await
        .unwrap();
    let many = docs.find_by_id(created.id.unwrap()).await.unwrap().unwrap();
    assert!(many.updated_at.unwrap() > saved.updated_at.unwrap());
}
