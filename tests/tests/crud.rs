//! Round trips of every model operation against the real server, and isolation between databases.

use futures_util::TryStreamExt;
use odm_core::bson::RawDocumentBuf;
use odm_core::prelude::*;
use odm_tests::connect;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "people")]
struct Person {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    name: String,
    age: i32,
    #[serde(default)]
    tags: Vec<String>,
}

fn person(name: &str, age: i32) -> Person {
    Person {
        id: None,
        name: name.into(),
        age,
        tags: vec![],
    }
}

#[tokio::test]
async fn create_fills_id_and_find_by_id_reads_it_back() {
    let conn = connect("crud_create").await;
    let people = conn.model::<Person>();
    let ann = people.create(person("ann", 30)).await.unwrap();
    let id = ann.id.expect("create fills in _id");
    let found = people.find_by_id(id).await.unwrap().expect("stored");
    assert_eq!(found, ann);
    assert_eq!(people.find_by_id(ObjectId::new()).await.unwrap(), None);
    // An ObjectId `_id` is matched by the ObjectId only: its hex string is a string, another BSON type,
    // and never equal to it (MongoDB compares values by type first).
    assert_eq!(people.find_by_id(id.to_hex()).await.unwrap(), None);
    assert_eq!(people.count(doc! { "_id": id.to_hex() }).await.unwrap(), 0);
    // The raw document has exactly the stored fields.
    let raw = conn
        .database()
        .collection::<Document>("people")
        .find_one(doc! { "_id": id })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.get_str("name").unwrap(), "ann");
}

/// An id field without `skip_serializing_if`: serde writes `_id: null` when it is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "notes")]
struct Note {
    #[serde(rename = "_id")]
    id: Option<ObjectId>,
    #[field(length(min = 1))]
    text: String,
}

#[tokio::test]
async fn prepare_gives_the_document_create_sends() {
    let conn = connect("crud_prepare").await;
    let notes = conn.model::<Note>();
    let mut note = Note {
        id: None,
        text: "hello".into(),
    };
    let prepared = notes.prepare(&mut note).unwrap();
    let id = note.id.expect("an _id is generated");
    let keys: Vec<&str> = prepared.iter().map(|e| e.unwrap().0).collect();
    assert_eq!(keys, ["_id", "text"], "one `_id`, first, never null");
    assert_eq!(prepared.get_object_id("_id").unwrap(), id);
    // A bulk write by hand stores exactly what `create` would.
    notes
        .collection()
        .expect("the collection of an unconfined handle")
        .clone_with_type::<RawDocumentBuf>()
        .insert_one(prepared)
        .await
        .unwrap();
    assert_eq!(notes.find_by_id(id).await.unwrap(), Some(note));

    let created = notes
        .create(Note {
            id: None,
            text: "again".into(),
        })
        .await
        .unwrap();
    let stored = notes.find_by_id(created.id.unwrap()).await.unwrap();
    assert_eq!(stored, Some(created));

    let mut empty = Note {
        id: None,
        text: String::new(),
    };
    assert!(matches!(
        notes.prepare(&mut empty),
        Err(Error::Validation(_))
    ));
    assert_eq!(notes.count(doc! {}).await.unwrap(), 2);
}

#[tokio::test]
async fn a_given_id_is_kept() {
    let conn = connect("crud_given_id").await;
    let people = conn.model::<Person>();
    let id = ObjectId::new();
    let stored = people
        .create(Person {
            id: Some(id),
            ..person("bob", 40)
        })
        .await
        .unwrap();
    assert_eq!(stored.id, Some(id));
    assert_eq!(people.find_by_id(id).await.unwrap().unwrap().name, "bob");
}

#[tokio::test]
async fn find_sorts_skips_and_limits() {
    let conn = connect("crud_find").await;
    let people = conn.model::<Person>();
    people
        .insert_many((0..20).map(|i| person(&format!("p{i:02}"), i)))
        .await
        .unwrap();
    let page = people
        .find(doc! { "age": { "$gte": 5 } })
        .sort(doc! { "age": -1 })
        .skip(2)
        .limit(3)
        .await
        .unwrap();
    let ages: Vec<i32> = page.iter().map(|p| p.age).collect();
    assert_eq!(ages, [17, 16, 15]);
    let first = people
        .find_one(doc! { "age": { "$lt": 3 } })
        .sort(doc! { "age": -1 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.age, 2);
    assert_eq!(
        people.count(doc! { "age": { "$lt": 10 } }).await.unwrap(),
        10
    );
    assert_eq!(people.count(()).await.unwrap(), 20);
    assert!(people.exists(doc! { "name": "p07" }).await.unwrap());
    assert!(!people.exists(doc! { "name": "nobody" }).await.unwrap());
}

#[tokio::test]
async fn insert_many_returns_stored_values_in_order() {
    let conn = connect("crud_insert_many").await;
    let people = conn.model::<Person>();
    let stored = people
        .insert_many([person("a", 1), person("b", 2), person("c", 3)])
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    for p in &stored {
        let found = people.find_by_id(p.id.unwrap()).await.unwrap().unwrap();
        assert_eq!(&found, p);
    }
    assert!(people.insert_many([]).await.unwrap().is_empty());
}

#[tokio::test]
async fn stream_reads_more_documents_than_one_batch() {
    let conn = connect("crud_stream").await;
    let people = conn.model::<Person>();
    let n = 2_500;
    people
        .insert_many((0..n).map(|i| person(&format!("p{i}"), i)))
        .await
        .unwrap();
    let stream = people.find(()).batch_size(100).stream().await.unwrap();
    let all: Vec<Person> = stream.try_collect().await.unwrap();
    assert_eq!(all.len(), n as usize);
    let mut ages: Vec<i32> = all.iter().map(|p| p.age).collect();
    ages.sort_unstable();
    assert_eq!(ages, (0..n).collect::<Vec<_>>());
}

#[tokio::test]
async fn updates_replace_and_deletes() {
    let conn = connect("crud_update").await;
    let people = conn.model::<Person>();
    people
        .insert_many([person("a", 1), person("b", 2), person("c", 3)])
        .await
        .unwrap();

    let r = people
        .update_one(doc! { "name": "a" }, doc! { "$inc": { "age": 10 } })
        .await
        .unwrap();
    assert_eq!((r.matched_count, r.modified_count), (1, 1));
    assert_eq!(
        people
            .find_one(doc! { "name": "a" })
            .await
            .unwrap()
            .unwrap()
            .age,
        11
    );

    let r = people
        .update_many(
            doc! { "age": { "$lt": 5 } },
            doc! { "$push": { "tags": "young" } },
        )
        .await
        .unwrap();
    assert_eq!(r.modified_count, 2);
    assert_eq!(people.count(doc! { "tags": "young" }).await.unwrap(), 2);

    let b = people
        .find_one(doc! { "name": "b" })
        .await
        .unwrap()
        .unwrap();
    let r = people
        .replace_one(
            doc! { "_id": b.id },
            Person {
                age: 99,
                ..b.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.modified_count, 1);
    assert_eq!(
        people.find_by_id(b.id.unwrap()).await.unwrap().unwrap().age,
        99
    );

    let r = people.delete_one(doc! { "name": "a" }).await.unwrap();
    assert_eq!(r.deleted_count, 1);
    assert_eq!(people.count(()).await.unwrap(), 2);
    let r = people.delete_many(()).await.unwrap();
    assert_eq!(r.deleted_count, 2);
    assert_eq!(people.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn upsert_inserts_when_nothing_matches() {
    let conn = connect("crud_upsert").await;
    let people = conn.model::<Person>();
    let r = people
        .update_one(doc! { "name": "zed" }, doc! { "$set": { "age": 5 } })
        .upsert(true)
        .await
        .unwrap();
    assert!(r.upserted_id.is_some());
    assert_eq!(
        people
            .find_one(doc! { "name": "zed" })
            .await
            .unwrap()
            .unwrap()
            .age,
        5
    );
}

#[tokio::test]
async fn aggregate_and_distinct() {
    let conn = connect("crud_aggregate").await;
    let people = conn.model::<Person>();
    people
        .insert_many([person("a", 1), person("b", 1), person("c", 2)])
        .await
        .unwrap();
    let groups = people
        .aggregate([
            doc! { "$group": { "_id": "$age", "n": { "$sum": 1 } } },
            doc! { "$sort": { "_id": 1 } },
        ])
        .await
        .unwrap();
    let counts: Vec<(i32, i32)> = groups
        .iter()
        .map(|g| (g.get_i32("_id").unwrap(), g.get_i32("n").unwrap()))
        .collect();
    assert_eq!(counts, [(1, 2), (2, 1)]);
    let mut ages: Vec<i32> = people
        .distinct("age", ())
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.as_i32().unwrap())
        .collect();
    ages.sort_unstable();
    assert_eq!(ages, [1, 2]);
}

#[tokio::test]
async fn required_turns_none_into_not_found() {
    let conn = connect("crud_required").await;
    let people = conn.model::<Person>();
    let err = people
        .find_by_id(ObjectId::new())
        .required()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { ref collection, .. } if collection == "people"),
        "{err}"
    );
}

#[tokio::test]
async fn a_document_that_does_not_fit_the_struct_is_a_decoding_error() {
    let conn = connect("crud_decode").await;
    conn.database()
        .collection::<Document>("people")
        .insert_one(doc! { "name": "x", "age": "not a number" })
        .await
        .unwrap();
    let err = conn.model::<Person>().find(()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Deserialization {
                type_name: "Person",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_raw_collection_is_one_call_away() {
    let conn = connect("crud_raw").await;
    let people = conn.model::<Person>();
    people.create(person("ann", 30)).await.unwrap();
    let raw = people
        .collection()
        .expect("the collection of an unconfined handle");
    assert_eq!(raw.name(), "people");
    assert_eq!(raw.count_documents(doc! {}).await.unwrap(), 1);
}

#[tokio::test]
async fn a_document_over_16_mib_is_refused_before_it_is_sent() {
    let conn = connect("crud_too_large").await;
    let people = conn.model::<Person>();
    let big = Person {
        tags: vec!["x".repeat(1024 * 1024); 17],
        ..person("big", 1)
    };
    let err = people.create(big).await.unwrap_err();
    assert!(matches!(err, Error::DocumentTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("16777216"), "{err}");
    assert_eq!(people.count(()).await.unwrap(), 0);
}

#[tokio::test]
async fn tenant_databases_do_not_see_each_other() {
    let base = connect("crud_iso_base").await;
    let a = base.use_db("crud_iso_a").unwrap();
    let b = base.use_db("crud_iso_b").unwrap();
    for db in [&a, &b] {
        db.database().drop().await.unwrap();
    }
    let in_a = a
        .model::<Person>()
        .create(person("only-in-a", 1))
        .await
        .unwrap();
    let id = in_a.id.unwrap();
    let pb = b.model::<Person>();
    assert_eq!(pb.find_by_id(id).await.unwrap(), None);
    assert_eq!(
        pb.find_one(doc! { "name": "only-in-a" }).await.unwrap(),
        None
    );
    assert!(pb.find(()).await.unwrap().is_empty());
    assert!(pb
        .find(())
        .stream()
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .is_empty());
    assert_eq!(pb.count(()).await.unwrap(), 0);
    assert!(!pb.exists(()).await.unwrap());
    assert!(pb.distinct("name", ()).await.unwrap().is_empty());
    assert!(pb
        .aggregate([doc! { "$match": {} }])
        .await
        .unwrap()
        .is_empty());
    // Writes through B do not reach A's document.
    assert_eq!(
        pb.update_many((), doc! { "$set": { "age": 9 } })
            .await
            .unwrap()
            .matched_count,
        0
    );
    assert_eq!(pb.delete_many(()).await.unwrap().deleted_count, 0);
    assert_eq!(
        a.model::<Person>().find_by_id(id).await.unwrap().unwrap(),
        in_a
    );
}

#[tokio::test]
async fn one_model_bound_to_two_connections_writes_where_each_points() {
    let first = connect("crud_two_conn_1").await;
    let second = connect("crud_two_conn_2").await;
    assert!(!first.same_client(&second));
    let p1 = first.model::<Person>();
    let p2 = second.model::<Person>();
    p1.create(person("one", 1)).await.unwrap();
    p2.create(person("two", 2)).await.unwrap();
    p2.create(person("two-b", 2)).await.unwrap();
    assert_eq!(p1.count(()).await.unwrap(), 1);
    assert_eq!(p2.count(()).await.unwrap(), 2);
    assert_eq!(p1.find(()).await.unwrap()[0].name, "one");
}
