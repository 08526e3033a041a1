//! Per-model and per-operation settings on the real server: collation, hint, `max_time`, write and read
//! concerns, read preference. What the server does with a setting is asserted where it can be seen; that
//! a command carries it is asserted through the driver's command monitoring.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use odm_core::bson::{doc, oid::ObjectId, Document};
use odm_core::mongodb::event::command::CommandEvent;
use odm_core::mongodb::event::EventHandler;
use odm_core::mongodb::options::ClientOptions;
use odm_core::mongodb::Client;
use odm_core::prelude::*;
use odm_core::{
    Acknowledgment, Collation, CollationStrength, Hint, ReadConcern, ReadPreference, WriteConcern,
};

/// Names compare without case; writes wait for a majority and the journal; reads prefer secondaries.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(
    collection = "people",
    read = "primaryPreferred",
    read_concern = "majority",
    write_concern(w = "majority", journal, timeout = "5s"),
    collation(locale = "en", strength = 2),
    max_time = "30s"
)]
struct Person {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    name: String,
    age: i32,
}

/// The same documents with no settings.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "people", index(fields("age"), name = "by_age"))]
struct Plain {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    name: String,
    age: i32,
}

fn person(name: &str, age: i32) -> Person {
    Person {
        id: None,
        name: name.into(),
        age,
    }
}

fn unset(name: &str, age: i32) -> Plain {
    Plain {
        id: None,
        name: name.into(),
        age,
    }
}

/// The commands the client sent: `(command name, command)`.
type Sent = Arc<Mutex<Vec<(String, Document)>>>;

/// A connection on a client whose every command is recorded, on a fresh database `db`.
async fn monitored(db: &str) -> (Connection, Sent) {
    let sent: Sent = Arc::default();
    let mut options = ClientOptions::parse(odm_tests::uri()).await.unwrap();
    let log = sent.clone();
    options.command_event_handler = Some(EventHandler::callback(move |event| {
        if let CommandEvent::Started(e) = event {
            log.lock().unwrap().push((e.command_name, e.command));
        }
    }));
    let conn = Connection::from_client(Client::with_options(options).unwrap(), db).unwrap();
    conn.database().drop().await.unwrap();
    (conn, sent)
}

/// The last command named `name` that was sent.
fn last(sent: &Sent, name: &str) -> Document {
    sent.lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c.clone())
        .unwrap_or_else(|| panic!("no `{name}` command was sent"))
}

/// An integer of a command, whichever width the driver chose.
fn int(command: &Document, key: &str) -> i64 {
    match command.get(key) {
        Some(odm_core::bson::Bson::Int32(n)) => i64::from(*n),
        Some(odm_core::bson::Bson::Int64(n)) => *n,
        other => panic!("`{key}` is not an integer in {command}: {other:?}"),
    }
}

fn case_insensitive() -> Collation {
    Collation::builder()
        .locale("en")
        .strength(CollationStrength::Secondary)
        .build()
}

#[tokio::test]
async fn the_models_collation_makes_finds_counts_and_unique_ignore_case() {
    let conn = odm_tests::connect("settings_model_collation").await;
    let people = conn.model::<Person>();
    people.sync_indexes().await.unwrap();
    people.create(person("Ann", 30)).await.unwrap();

    let f = Person::fields();
    let found = people.find(f.name.eq("ann")).await.unwrap();
    assert_eq!(found.len(), 1, "strength 2 compares without case");
    assert_eq!(people.count(f.name.eq("ANN")).await.unwrap(), 1);
    assert!(people.exists(f.name.eq("aNN")).await.unwrap());
    assert!(people.find_one(f.name.eq("ann")).await.unwrap().is_some());

    // The unique index was created with the model's collation: "ANN" collides with "Ann".
    match people.create(person("ANN", 31)).await {
        Err(Error::DuplicateKey { .. }) => {}
        other => panic!("expected a duplicate key, got {other:?}"),
    }

    // Without a collation the same query is case-sensitive.
    let plain = conn.model::<Plain>();
    assert_eq!(plain.count(doc! { "name": "ann" }).await.unwrap(), 0);
    // An operation's own collation applies where the model has none.
    assert_eq!(
        plain
            .count(doc! { "name": "ann" })
            .collation(case_insensitive())
            .await
            .unwrap(),
        1
    );
    let found = plain
        .find(doc! { "name": "ANN" })
        .collation(case_insensitive())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let updated = plain
        .update_many(doc! { "name": "ann" }, doc! { "$set": { "age": 32 } })
        .collation(case_insensitive())
        .await
        .unwrap();
    assert_eq!(updated.modified_count, 1);
    let deleted = plain
        .delete_one(doc! { "name": "ANN" })
        .collation(case_insensitive())
        .await
        .unwrap();
    assert_eq!(deleted.deleted_count, 1);
}

#[tokio::test]
async fn a_hint_naming_a_missing_index_fails_and_an_existing_one_works() {
    let conn = odm_tests::connect("settings_hint").await;
    let plain = conn.model::<Plain>();
    plain.sync_indexes().await.unwrap();
    plain
        .insert_many([unset("ann", 30), unset("bob", 40)])
        .await
        .unwrap();
    let f = Plain::fields();

    let found = plain
        .find(f.age.gte(35))
        .hint(Hint::Name("by_age".into()))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        plain
            .count(f.age.gte(0))
            .hint(Hint::Keys(doc! { "age": 1 }))
            .await
            .unwrap(),
        2
    );

    let missing = plain
        .find(f.age.gte(35))
        .hint(Hint::Name("no_such_index".into()))
        .await;
    assert!(
        missing.is_err(),
        "a hint naming no index must fail: {missing:?}"
    );
    let missing = plain
        .update_one(f.age.gte(35), doc! { "$set": { "age": 41 } })
        .hint(Hint::Name("no_such_index".into()))
        .await;
    assert!(
        missing.is_err(),
        "a hint naming no index must fail: {missing:?}"
    );
    let missing = plain
        .delete_many(f.age.gte(35))
        .hint(Hint::Name("no_such_index".into()))
        .await;
    assert!(
        missing.is_err(),
        "a hint naming no index must fail: {missing:?}"
    );
    assert_eq!(
        plain.count(f.age.gte(0)).await.unwrap(),
        2,
        "nothing was deleted"
    );
}

#[tokio::test]
async fn commands_carry_the_models_settings_and_an_operation_overrides_them() {
    let (conn, sent) = monitored("settings_sent").await;
    let people = conn.model::<Person>();
    people.create(person("Ann", 30)).await.unwrap();
    let insert = last(&sent, "insert");
    let concern = insert.get_document("writeConcern").unwrap();
    assert_eq!(concern.get_str("w").unwrap(), "majority");
    assert!(concern.get_bool("j").unwrap());
    assert_eq!(int(concern, "wtimeout"), 5000);

    let f = Person::fields();
    people.find(f.age.gte(0)).await.unwrap();
    let find = last(&sent, "find");
    assert_eq!(
        find.get_document("collation")
            .unwrap()
            .get_str("locale")
            .unwrap(),
        "en"
    );
    assert_eq!(
        find.get_document("collation")
            .unwrap()
            .get_i32("strength")
            .unwrap(),
        2
    );
    assert_eq!(
        find.get_document("readConcern")
            .unwrap()
            .get_str("level")
            .unwrap(),
        "majority"
    );
    assert_eq!(int(&find, "maxTimeMS"), 30_000);
    // A single server takes no read preference on the wire: the driver sends `$readPreference` only to
    // a mongos or a replica set member other than a standalone; what was chosen is asserted when sent.
    if let Ok(read) = find.get_document("$readPreference") {
        assert_eq!(read.get_str("mode").unwrap(), "primaryPreferred");
    }

    // An operation's own settings win over the model's.
    people
        .find(f.age.gte(0))
        .max_time(Duration::from_millis(1500))
        .read_concern(ReadConcern::local())
        .read_preference(ReadPreference::Primary)
        .await
        .unwrap();
    let find = last(&sent, "find");
    assert_eq!(int(&find, "maxTimeMS"), 1500);
    assert_eq!(
        find.get_document("readConcern")
            .unwrap()
            .get_str("level")
            .unwrap(),
        "local"
    );

    let mut one = WriteConcern::default();
    one.w = Some(Acknowledgment::Nodes(1));
    people
        .update_one(f.name.eq("ann"), doc! { "$set": { "age": 31 } })
        .write_concern(one)
        .await
        .unwrap();
    let update = last(&sent, "update");
    assert_eq!(
        update
            .get_document("writeConcern")
            .unwrap()
            .get_i32("w")
            .unwrap(),
        1
    );
    let statement = update.get_array("updates").unwrap()[0]
        .as_document()
        .unwrap()
        .clone();
    assert_eq!(
        statement
            .get_document("collation")
            .unwrap()
            .get_i32("strength")
            .unwrap(),
        2,
        "the model's collation goes on each statement"
    );

    people.count(f.age.gte(0)).await.unwrap();
    let count = last(&sent, "aggregate");
    assert_eq!(int(&count, "maxTimeMS"), 30_000);
    assert!(count.get_document("collation").is_ok());

    people
        .aggregate([doc! { "$match": {} }])
        .max_time(Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(int(&last(&sent, "aggregate"), "maxTimeMS"), 2000);

    people
        .find_one_and_update(f.name.eq("ann"), doc! { "$set": { "age": 32 } })
        .max_time(Duration::from_secs(3))
        .await
        .unwrap();
    let fam = last(&sent, "findAndModify");
    assert_eq!(int(&fam, "maxTimeMS"), 3000);
    assert_eq!(
        fam.get_document("writeConcern")
            .unwrap()
            .get_str("w")
            .unwrap(),
        "majority"
    );

    people.delete_many(f.name.eq("nobody")).await.unwrap();
    let delete = last(&sent, "delete");
    assert_eq!(
        delete
            .get_document("writeConcern")
            .unwrap()
            .get_str("w")
            .unwrap(),
        "majority"
    );
}

#[tokio::test]
async fn concerns_are_left_to_the_transaction_inside_one() {
    let (conn, sent) = monitored("settings_transaction").await;
    let people = conn.model::<Person>();
    // Create the collection outside the transaction.
    people.create(person("Ann", 30)).await.unwrap();
    let mut session = conn.start_session().await.unwrap();
    session.inner().start_transaction().await.unwrap();
    let f = Person::fields();
    people
        .create(person("Bob", 40))
        .session(&mut session)
        .await
        .unwrap();
    let found = people
        .find(f.name.eq("bob"))
        .read_concern(ReadConcern::majority())
        .session(&mut session)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "the collation still applies in a session");
    session.inner().commit_transaction().await.unwrap();
    let insert = last(&sent, "insert");
    assert!(
        insert.get("writeConcern").is_none(),
        "a command inside a transaction carries no write concern of its own: {insert}"
    );
    let find = last(&sent, "find");
    assert!(
        find.get("readConcern").is_none(),
        "a command inside a transaction carries no read concern of its own: {find}"
    );
    assert_eq!(people.count(f.name.eq("BOB")).await.unwrap(), 1);
}

#[tokio::test]
async fn a_tiny_max_time_on_a_large_aggregate_is_sent_and_the_server_may_stop_it() {
    let (conn, sent) = monitored("settings_max_time").await;
    let plain = conn.model::<Plain>();
    let many: Vec<Plain> = (0..400).map(|i| unset(&format!("p{i}"), i)).collect();
    plain.insert_many(many).await.unwrap();
    // A self-join of every document with every other: millions of comparisons.
    let heavy = vec![
        doc! { "$lookup": { "from": "people", "pipeline": [ { "$match": {} } ], "as": "all" } },
        doc! { "$unwind": "$all" },
        doc! { "$group": { "_id": null, "n": { "$sum": 1 } } },
    ];
    let result = plain
        .aggregate(heavy)
        .max_time(Duration::from_millis(1))
        .await;
    let aggregate = last(&sent, "aggregate");
    assert_eq!(int(&aggregate, "maxTimeMS"), 1);
    // mongod stops the aggregate with MaxTimeMSExpired (code 50). A server that does not enforce
    // maxTimeMS completes it; then the count is the full product.
    match result {
        Err(e) => assert!(
            e.to_string().contains("50") || e.to_string().to_lowercase().contains("time"),
            "{e}"
        ),
        Ok(docs) => {
            eprintln!("the server did not enforce maxTimeMS");
            assert_eq!(docs[0].get_i32("n").unwrap(), 400 * 400)
        }
    }
}

/// Documents of one organisation live together on a shard.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "orders", shard_key("org", "_id"), version)]
struct Order {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    org: String,
    total: i32,
    #[serde(rename = "__v", default)]
    version: i64,
}

/// The filter of the last `update` or `findAndModify` statement sent.
fn last_write_filter(sent: &Sent) -> Document {
    let log = sent.lock().unwrap();
    let (name, command) = log
        .iter()
        .rev()
        .find(|(n, _)| n == "update" || n == "findAndModify")
        .expect("a write was sent");
    if name == "update" {
        let statement = command.get_array("updates").unwrap()[0]
            .as_document()
            .unwrap();
        statement.get_document("q").unwrap().clone()
    } else {
        command.get_document("query").unwrap().clone()
    }
}

#[tokio::test]
async fn save_and_replace_put_the_shard_key_in_their_filter() {
    let (conn, sent) = monitored("settings_shard_key").await;
    let orders = conn.model::<Order>();
    let mut order = orders
        .create(Order {
            id: None,
            org: "acme".into(),
            total: 10,
            version: 0,
        })
        .await
        .unwrap();
    let id = order.id.unwrap();

    order.total = 20;
    orders.save(&mut order).await.unwrap();
    let filter = last_write_filter(&sent);
    assert_eq!(filter.get_str("org").unwrap(), "acme", "{filter}");
    assert_eq!(filter.get_object_id("_id").unwrap(), id, "{filter}");
    assert!(
        filter.contains_key("__v"),
        "save stays version-checked: {filter}"
    );

    let replacement = Order {
        id: Some(id),
        org: "acme".into(),
        total: 30,
        version: order.version,
    };
    let replaced = orders
        .replace_one(doc! { "_id": id }, replacement.clone())
        .await
        .unwrap();
    assert_eq!(replaced.matched_count, 1);
    assert_eq!(last_write_filter(&sent).get_str("org").unwrap(), "acme");

    orders
        .find_one_and_replace(doc! { "_id": id }, replacement)
        .await
        .unwrap()
        .expect("the order is there");
    assert_eq!(last_write_filter(&sent).get_str("org").unwrap(), "acme");

    // A filter that names a shard key field keeps its own condition.
    let other = Order {
        id: Some(id),
        org: "acme".into(),
        total: 40,
        version: 0,
    };
    orders
        .replace_one(
            doc! { "_id": id, "org": { "$in": ["acme", "globex"] } },
            other,
        )
        .await
        .unwrap();
    let filter = last_write_filter(&sent);
    assert!(filter.get_document("org").is_ok(), "{filter}");
    assert_eq!(orders.find_by_id(id).await.unwrap().unwrap().total, 40);
}

#[tokio::test]
async fn shard_collection_on_a_server_that_is_not_a_mongos_reports_it() {
    // The test servers answer `hello` as a replica set member, not as a `mongos` (`msg: "isdbgrid"`);
    // against a sharded cluster this test's expectation is `Sharding::Sharded`.
    let conn = odm_tests::connect("settings_shard_collection").await;
    let hello = conn
        .database()
        .run_command(doc! { "hello": 1 })
        .await
        .unwrap();
    let expected = if hello.get_str("msg") == Ok("isdbgrid") {
        odm_core::Sharding::Sharded
    } else {
        odm_core::Sharding::NotShardedCluster
    };
    let orders = conn.model::<Order>();
    assert_eq!(orders.shard_collection().await.unwrap(), expected);
    // Nothing was created on a server with nothing to shard.
    if expected == odm_core::Sharding::NotShardedCluster {
        let names = conn.database().list_collection_names().await.unwrap();
        assert!(names.is_empty(), "{names:?}");
    }
}
