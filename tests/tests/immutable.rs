//! `#[field(immutable)]`: every update path refuses a write that names the field, and `save` and the
//! replacements refuse a value that changes it, without writing anything.

use odm_core::prelude::*;
use odm_core::{UpdateBuilder, Write};
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "tickets")]
struct Ticket {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
    #[field(immutable)]
    created_by: String,
    #[field(immutable)]
    origin: Option<Document>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "versioned", version, timestamps)]
struct Versioned {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
    #[field(immutable)]
    owner: String,
    #[serde(rename = "__v", default)]
    version: i64,
    #[field(immutable)]
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
}

fn ticket(title: &str, by: &str) -> Ticket {
    Ticket {
        id: None,
        title: title.into(),
        created_by: by.into(),
        origin: Some(doc! { "channel": "mail" }),
    }
}

fn assert_immutable(result: Result<impl std::fmt::Debug>, field: &str, operation: &str) {
    match result {
        Err(Error::Immutable {
            field: f,
            operation: op,
            ..
        }) => {
            assert_eq!((f.as_str(), op), (field, operation));
        }
        other => panic!("expected Error::Immutable on `{field}`, got {other:?}"),
    }
}

#[tokio::test]
async fn every_update_path_refuses_an_immutable_field_and_writes_nothing() {
    let tickets = connect("immutable_updates").await.model::<Ticket>();
    let t = tickets.create(ticket("a", "ann")).await.unwrap();
    let f = Ticket::fields();
    let by_title = || f.title.eq("a");

    assert_immutable(
        tickets
            .update_one(
                by_title(),
                UpdateBuilder::new()
                    .set(&f.title, "b".to_owned())
                    .set(&f.created_by, "bob".to_owned()),
            )
            .await,
        "created_by",
        "update",
    );
    assert_immutable(
        tickets
            .update_many((), doc! { "$unset": { "created_by": "" } })
            .await,
        "created_by",
        "update",
    );
    // A path below an immutable field, and a path above it.
    assert_immutable(
        tickets
            .update_one(by_title(), doc! { "$set": { "origin.channel": "web" } })
            .await,
        "origin.channel",
        "update",
    );
    // `$rename` writes its target.
    assert_immutable(
        tickets
            .update_one(by_title(), doc! { "$rename": { "title": "created_by" } })
            .await,
        "created_by",
        "update",
    );
    assert_immutable(
        tickets
            .find_one_and_update(by_title(), doc! { "$set": { "created_by": "bob" } })
            .await,
        "created_by",
        "update",
    );
    assert_immutable(
        tickets
            .update_one(
                by_title(),
                vec![doc! { "$set": { "created_by": { "$concat": ["$created_by", "!"] } } }],
            )
            .await,
        "created_by",
        "update",
    );
    assert_immutable(
        tickets
            .update_one(by_title(), vec![doc! { "$replaceWith": { "title": "x" } }])
            .await,
        "created_by",
        "update",
    );
    let bulk = tickets
        .bulk_write([Write::update_one(
            by_title(),
            doc! { "$set": { "created_by": "bob" } },
        )])
        .await;
    assert_immutable(bulk, "created_by", "update");

    let stored = tickets.find_by_id(t.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored, t, "nothing was written");

    // Other fields update as usual.
    tickets
        .update_one(
            by_title(),
            UpdateBuilder::new().set(&f.title, "b".to_owned()),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_upsert_sets_an_immutable_field_on_insert() {
    let tickets = connect("immutable_upsert").await.model::<Ticket>();
    tickets
        .update_one(
            doc! { "title": "new" },
            doc! { "$setOnInsert": { "created_by": "ann", "origin": null } },
        )
        .upsert(true)
        .await
        .unwrap();
    let stored = tickets.find_one(doc! { "title": "new" }).await.unwrap();
    assert_eq!(stored.unwrap().created_by, "ann");
}

#[tokio::test]
async fn save_refuses_a_changed_immutable_field_and_keeps_the_stored_document() {
    let tickets = connect("immutable_save").await.model::<Ticket>();
    let mut t = tickets.create(ticket("a", "ann")).await.unwrap();
    let original = t.clone();

    t.created_by = "bob".into();
    assert_immutable(tickets.save(&mut t).await, "created_by", "save");
    t.created_by = "ann".into();
    t.origin = None;
    assert_immutable(tickets.save(&mut t).await, "origin", "save");
    let stored = tickets.find_by_id(t.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored, original);
    assert_eq!(tickets.count(()).await.unwrap(), 1);

    // An unchanged immutable field saves as usual.
    let mut t = original.clone();
    t.title = "renamed".into();
    tickets.save(&mut t).await.unwrap();
    let stored = tickets.find_by_id(t.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.title, "renamed");
}

#[tokio::test]
async fn a_versioned_save_reports_the_immutable_field_not_a_version_conflict() {
    let docs = connect("immutable_versioned").await.model::<Versioned>();
    let mut d = Versioned {
        id: None,
        title: "a".into(),
        owner: "ann".into(),
        version: 0,
        created_at: None,
        updated_at: None,
    };
    docs.save(&mut d).await.unwrap();
    let mut changed = d.clone();
    changed.owner = "bob".into();
    assert_immutable(docs.save(&mut changed).await, "owner", "save");
    assert_eq!(changed.version, d.version, "the version is left as it was");

    // `created_at`, stamped once by `timestamps`, may be immutable: later saves keep it.
    d.title = "b".into();
    docs.save(&mut d).await.unwrap();
    assert_eq!(d.version, 1);
    let mut stale = d.clone();
    stale.version = 0;
    match docs.save(&mut stale).await {
        Err(Error::VersionConflict { .. }) => {}
        other => panic!("expected a version conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn replacements_refuse_a_changed_immutable_field() {
    let tickets = connect("immutable_replace").await.model::<Ticket>();
    let t = tickets.create(ticket("a", "ann")).await.unwrap();
    let f = Ticket::fields();

    let mut changed = t.clone();
    changed.created_by = "bob".into();
    assert_immutable(
        tickets.replace_one(f.title.eq("a"), changed.clone()).await,
        "created_by",
        "replacement",
    );
    // With `upsert`, no second document is stored beside the matching one.
    let mut no_id = changed.clone();
    no_id.id = None;
    assert_immutable(
        tickets
            .replace_one(f.title.eq("a"), no_id)
            .upsert(true)
            .await,
        "created_by",
        "replacement",
    );
    assert_immutable(
        tickets
            .find_one_and_replace(f.title.eq("a"), changed.clone())
            .await,
        "created_by",
        "replacement",
    );
    // A bulk write reads nothing back: the replacement matches nothing.
    let result = tickets
        .bulk_write([Write::replace_one(f.title.eq("a"), changed.clone())])
        .await
        .unwrap();
    assert_eq!(result.matched_count, 0);
    assert_eq!(tickets.count(()).await.unwrap(), 1);
    assert_eq!(tickets.find_by_id(t.id.unwrap()).await.unwrap().unwrap(), t);

    // A replacement that keeps the value goes through; an upsert that matches nothing inserts.
    let mut same = t.clone();
    same.title = "b".into();
    let result = tickets.replace_one(f.title.eq("a"), same).await.unwrap();
    assert_eq!(result.matched_count, 1);
    let result = tickets
        .replace_one(f.title.eq("zzz"), ticket("zzz", "cy"))
        .upsert(true)
        .await
        .unwrap();
    assert!(result.upserted_id.is_some());
    assert_eq!(tickets.count(()).await.unwrap(), 2);
}

#[test]
fn the_schema_and_the_error_say_it() {
    assert!(Ticket::SCHEMA.field("created_by").unwrap().immutable);
    assert!(!Ticket::SCHEMA.field("title").unwrap().immutable);
    let e = Error::Immutable {
        type_name: "Ticket",
        field: "created_by".into(),
        operation: "update",
        fix: "leave it out of the update (an upsert may set it in `$setOnInsert`)",
    };
    assert_eq!(
        e.to_string(),
        "`created_by` of a `Ticket` is immutable: it keeps the value the document was created with, and this update would change it; leave it out of the update (an upsert may set it in `$setOnInsert`)"
    );
}
