//! Hostile input: what end users can type reaches the library as tenant ids, database names, filters and
//! field values. Fuzzed with proptest (bounded case counts, so the file runs in seconds) against the real
//! server: nothing panics, nothing reaches a namespace other than the one named, nothing invalid or too
//! large is written, and a user's value never turns into a query operator.

#[path = "reliability/models.rs"]
mod models;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use models::{looks_like_email, Item, Profile, AGE_MAX, NAME_MAX};
use odm_core::bson::{doc, Bson, Document};
use odm_core::mongodb::event::command::CommandEvent;
use odm_core::mongodb::event::EventHandler;
use odm_core::mongodb::options::ClientOptions;
use odm_core::mongodb::Client;
use odm_core::{Connection, Error, NameKind, MAX_DOCUMENT_SIZE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The tests here compare the server's list of databases before and after each case, so they run one at
/// a time.
static SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs a future from inside a proptest case (a plain closure) on the test's runtime.
fn block_on<F: Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    })
}

async fn databases(conn: &Connection) -> BTreeSet<String> {
    odm_tests::database_names(conn).await.into_iter().collect()
}

/// MongoDB's rules for a database name, written out independently of the library: 1 to 63 bytes, none of
/// `/\. "$*<>:|?` or NUL.
fn valid_database_name(name: &str) -> bool {
    (1..=63).contains(&name.len()) && !name.chars().any(|c| "/\\. \"$*<>:|?\0".contains(c))
}

/// MongoDB refuses a database whose name differs from an existing one's only in case
/// (`DatabaseDifferCase`, code 13297).
fn differs_only_in_case(name: &str, existing: &BTreeSet<String>) -> bool {
    existing
        .iter()
        .any(|d| d != name && d.eq_ignore_ascii_case(name))
}

/// Names as users send them: plain ones, any printable unicode, names with one forbidden character, and
/// long ones; tenant ids too, as a database-per-tenant app turns them into `tenant_{id}`.
fn hostile_name() -> impl Strategy<Value = String> {
    let forbidden = prop::sample::select(vec![
        '.', '$', '\0', '/', '\\', ' ', '"', '*', '<', '>', ':', '|', '?',
    ]);
    prop_oneof![
        // The server's own databases are valid names too, but not ones to write fuzz into.
        "[a-z][a-z0-9_-]{0,30}".prop_filter("a system database", |n| {
            !["admin", "local", "config"].contains(&n.as_str())
        }),
        "\\PC{1,40}",
        "[\\u{0}-\\u{7f}]{0,12}",
        ("[a-z]{0,10}", forbidden, "[a-z]{0,10}").prop_map(|(a, c, b)| format!("{a}{c}{b}")),
        "[a-z]{60,66}",
        "\\PC{1000,1024}",
        "\\PC{0,30}".prop_map(|id| format!("tenant_{id}")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_db_takes_only_valid_names_and_creates_only_the_database_named() {
    let _one_at_a_time = SERVER.lock().await;
    let conn = odm_tests::connect("hostile_use_db").await;
    let cases = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let case_refused = Arc::new(AtomicUsize::new(0));
    let result = runner(96).run(&hostile_name(), |name| {
        cases.fetch_add(1, Ordering::Relaxed);
        block_on(async {
            let before = databases(&conn).await;
            match conn.use_db(&name) {
                Ok(db) => {
                    assert!(valid_database_name(&name), "use_db accepted {name:?}");
                    assert_eq!(db.name(), name);
                    accepted.fetch_add(1, Ordering::Relaxed);
                    let written = db.model::<Item>().create(Item::new(&name, 0, "x")).await;
                    if let Err(e) = written {
                        // MongoDB takes every name the library accepts, except one that differs from an
                        // existing database's only in case (SecantusDB accepts that one too). A refusal
                        // must still create nothing.
                        assert!(
                            differs_only_in_case(&name, &before) && e.code() == Some(13297),
                            "write into {name:?} failed: {e}"
                        );
                        case_refused.fetch_add(1, Ordering::Relaxed);
                        assert_eq!(
                            databases(&conn).await,
                            before,
                            "a refused write created a database"
                        );
                        return;
                    }
                    let after = databases(&conn).await;
                    let new: Vec<_> = after.difference(&before).collect();
                    assert!(
                        new.is_empty() || new == [&name],
                        "writing to {name:?} created {new:?}"
                    );
                    assert!(after.contains(&name), "{name:?} is listed after a write");
                    if before.contains(&name) {
                        db.model::<Item>().delete_many(()).await.unwrap();
                    } else {
                        db.database().drop().await.unwrap();
                    }
                }
                Err(Error::InvalidName {
                    kind: NameKind::Database,
                    name: reported,
                    ..
                }) => {
                    assert!(!valid_database_name(&name), "use_db refused {name:?}");
                    assert_eq!(reported, name);
                    assert_eq!(
                        databases(&conn).await,
                        before,
                        "a refused name reached the server"
                    );
                }
                Err(e) => panic!("use_db({name:?}) gave an unexpected error: {e}"),
            }
        });
        Ok(())
    });
    result.unwrap();
    println!(
        "use_db: {} names fuzzed, {} valid by MongoDB's rules ({} of them refused by the server for \
         differing from an existing name only in case), the others refused with InvalidName; each write \
         created only the database named",
        cases.load(Ordering::Relaxed),
        accepted.load(Ordering::Relaxed),
        case_refused.load(Ordering::Relaxed)
    );
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "$where",
            "$gt",
            "$gte",
            "$lt",
            "$eq",
            "$ne",
            "$in",
            "$nin",
            "$regex",
            "$options",
            "$expr",
            "$function",
            "$exists",
            "$type",
            "$not",
            "$and",
            "$or",
            "$nor",
            "$elemMatch",
            "$size",
            "$all",
            "$mod",
            "$text",
            "$search",
            "$jsonSchema",
            "$comment",
            "$lookup",
            "$out",
            "$merge",
            "$set",
            "$unset",
            "$inc",
            "$rename",
            "$push",
            "$",
            "",
            "..",
            "name",
            "age",
            "email",
            "_id",
            "a.b",
            "name.$",
        ])
        .prop_map(String::from),
        "\\PC{0,12}",
        "[a-z$.\\u{0}]{0,8}",
    ]
}

fn value() -> impl Strategy<Value = Bson> {
    let leaf = prop_oneof![
        Just(Bson::Null),
        any::<bool>().prop_map(Bson::Boolean),
        any::<i32>().prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        any::<f64>().prop_map(Bson::Double),
        "\\PC{0,20}".prop_map(Bson::String),
        "[$a-z.]{0,6}".prop_map(Bson::String),
        Just(Bson::String("this.age > 0".into())),
        Just(Bson::String("function() { return true; }".into())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Bson::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Bson::Document(kv.into_iter().collect())),
        ]
    })
}

fn raw_document() -> impl Strategy<Value = Document> {
    prop::collection::vec((key(), value()), 0..4).prop_map(|kv| kv.into_iter().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_filters_and_updates_never_panic_nor_leave_their_collection() {
    let _one_at_a_time = SERVER.lock().await;
    let conn = odm_tests::connect("hostile_filters").await;
    // The same collection name in another database, and a sibling collection in the same one: where a
    // leak would land.
    let sentinel_db = odm_tests::connect("hostile_filters_sentinel").await;
    let sentinel = sentinel_db.model::<Profile>();
    let sibling = conn.database().collection::<Document>("profiles_sibling");
    let seed = || {
        (0..3).map(|i| Profile {
            id: None,
            name: format!("p{i}"),
            age: 20 + i,
            email: format!("p{i}@acme.io"),
        })
    };
    sentinel.insert_many(seed()).await.unwrap();
    sibling
        .insert_one(doc! { "name": "sibling" })
        .await
        .unwrap();
    let profiles = conn.model::<Profile>();
    profiles.insert_many(seed()).await.unwrap();
    let sentinel_docs = sentinel_db.database().collection::<Document>("profiles");
    let snapshot = |c: odm_core::mongodb::Collection<Document>| async move {
        let mut docs: Vec<String> =
            futures_util::TryStreamExt::try_collect::<Vec<_>>(c.find(doc! {}).await.unwrap())
                .await
                .unwrap()
                .iter()
                .map(|d| d.to_string())
                .collect();
        docs.sort();
        docs
    };
    let sentinel_before = snapshot(sentinel_docs.clone()).await;
    let sibling_before = snapshot(sibling.clone()).await;
    let dbs_before = databases(&conn).await;

    let cases = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let result = runner(128).run(&(raw_document(), raw_document()), |(filter, update)| {
        cases.fetch_add(1, Ordering::Relaxed);
        block_on(async {
            let outcomes = [
                profiles.find(filter.clone()).limit(5).await.map(drop),
                profiles.find_one(filter.clone()).await.map(drop),
                profiles.count(filter.clone()).await.map(drop),
                profiles.exists(filter.clone()).await.map(drop),
                profiles.distinct("name", filter.clone()).await.map(drop),
                profiles
                    .update_many(filter.clone(), update.clone())
                    .await
                    .map(drop),
                profiles.delete_one(filter.clone()).await.map(drop),
            ];
            errors.fetch_add(
                outcomes.iter().filter(|o| o.is_err()).count(),
                Ordering::Relaxed,
            );
            conn.ping().await.expect("the server still answers");
            assert_eq!(
                databases(&conn).await,
                dbs_before,
                "filter {filter} / update {update} changed the list of databases"
            );
            assert_eq!(
                snapshot(sentinel_docs.clone()).await,
                sentinel_before,
                "filter {filter} / update {update} touched another database"
            );
            assert_eq!(
                snapshot(sibling.clone()).await,
                sibling_before,
                "filter {filter} / update {update} touched another collection"
            );
            if profiles.count(()).await.unwrap() < 3 {
                profiles.delete_many(()).await.unwrap();
                profiles.insert_many(seed()).await.unwrap();
            }
        });
        Ok(())
    });
    result.unwrap();
    println!(
        "raw filters: {} filter/update pairs through 7 operations each, {} operations refused with an \
         error, none panicked or left the collection",
        cases.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed)
    );
}

/// The field paths of `p` that break a rule of `Profile`, worked out independently of the model.
fn broken_fields(p: &Profile) -> BTreeSet<&'static str> {
    let mut broken = BTreeSet::new();
    if !(1..=NAME_MAX).contains(&p.name.chars().count()) {
        broken.insert("name");
    }
    if !(0..=AGE_MAX).contains(&p.age) {
        broken.insert("age");
    }
    if !looks_like_email(&p.email) {
        broken.insert("email");
    }
    broken
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        prop_oneof!["[a-z]{1,64}", "\\PC{0,80}"],
        prop_oneof![0..=AGE_MAX, any::<i32>()],
        prop_oneof![
            "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}",
            "\\PC{0,20}",
            "[a-z@. ]{0,12}"
        ],
    )
        .prop_map(|(name, age, email)| Profile {
            id: None,
            name,
            age,
            email,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_break_validation_are_never_written() {
    let _one_at_a_time = SERVER.lock().await;
    let conn = odm_tests::connect("hostile_validation").await;
    let profiles = conn.model::<Profile>();
    let stored = profiles
        .create(Profile {
            id: None,
            name: "ann".into(),
            age: 30,
            email: "ann@acme.io".into(),
        })
        .await
        .unwrap();
    let good = stored.clone();
    let cases = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let result = runner(128).run(&profile(), |value| {
        cases.fetch_add(1, Ordering::Relaxed);
        let broken = broken_fields(&value);
        block_on(async {
            let before = profiles.count(()).await.unwrap();
            let created = profiles.create(value.clone()).await;
            match (&created, broken.is_empty()) {
                (Ok(_), true) => {}
                (Err(Error::Validation(e)), false) => {
                    refused.fetch_add(1, Ordering::Relaxed);
                    let paths: BTreeSet<&str> = e.errors.iter().map(|f| f.path.as_str()).collect();
                    assert_eq!(paths, broken, "every broken field is reported, by path");
                }
                (other, _) => panic!("create({value:?}) gave {other:?}; broken fields: {broken:?}"),
            }
            let expected = before + u64::from(broken.is_empty());
            assert_eq!(profiles.count(()).await.unwrap(), expected, "{value:?}");
            if broken.is_empty() {
                profiles
                    .delete_one(doc! { "_id": created.unwrap().id })
                    .await
                    .unwrap();
                return;
            }
            // The other writes that take a whole value refuse it too, and leave the stored one alone.
            let mut replacement = Profile {
                id: good.id,
                ..value.clone()
            };
            assert!(matches!(
                profiles
                    .replace_one(doc! { "_id": good.id }, value.clone())
                    .await,
                Err(Error::Validation(_))
            ));
            assert!(matches!(
                profiles.save(&mut replacement).await,
                Err(Error::Validation(_))
            ));
            let batch =
                [good.clone(), value.clone(), good.clone()].map(|p| Profile { id: None, ..p });
            match profiles.insert_many(batch).await {
                Err(Error::Validation(e)) => assert_eq!(e.index, Some(1)),
                other => panic!("insert_many with {value:?} in the middle gave {other:?}"),
            }
            assert_eq!(profiles.count(()).await.unwrap(), before, "{value:?}");
            assert_eq!(
                profiles
                    .find_by_id(good.id.unwrap())
                    .await
                    .unwrap()
                    .as_ref(),
                Some(&good)
            );
        });
        Ok(())
    });
    result.unwrap();
    println!(
        "validation: {} profiles fuzzed, {} invalid ones refused by create, replace_one, save and \
         insert_many, none written",
        cases.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_over_16_mib_are_refused_before_they_are_sent() {
    let _one_at_a_time = SERVER.lock().await;
    // Count the insert and update commands the driver starts: a refused document must start none.
    let writes = Arc::new(AtomicUsize::new(0));
    let mut options = ClientOptions::parse(odm_tests::uri()).await.unwrap();
    options.command_event_handler = Some({
        let writes = writes.clone();
        EventHandler::callback(move |e| {
            if let CommandEvent::Started(s) = e {
                if ["insert", "update"].contains(&s.command_name.as_str()) {
                    writes.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    });
    let client = Client::with_options(options).unwrap();
    let conn = Connection::from_client(client, "hostile_too_large").unwrap();
    conn.database().drop().await.unwrap();
    let items = conn.model::<Item>();

    let huge = || Item::new("acme", 0, "x".repeat(MAX_DOCUMENT_SIZE));
    let is_too_large = |r: &odm_core::Result<_>| match r {
        Err(Error::DocumentTooLarge { size, limit, .. }) => {
            *size > *limit && *limit == MAX_DOCUMENT_SIZE
        }
        _ => false,
    };
    let r = items.create(huge()).await.map(drop);
    assert!(is_too_large(&r), "create: {r:?}");
    let message = r.unwrap_err().to_string();
    assert!(
        message.contains("16777216") && message.contains("GridFS"),
        "{message}"
    );
    let r = items
        .insert_many([
            Item::new("acme", 1, "small"),
            huge(),
            Item::new("acme", 2, "small"),
        ])
        .await
        .map(drop);
    assert!(is_too_large(&r), "insert_many: {r:?}");
    let r = items.replace_one(doc! { "seq": 0 }, huge()).await.map(drop);
    assert!(is_too_large(&r), "replace_one: {r:?}");
    let mut value = huge();
    let r = items.save(&mut value).await;
    assert!(is_too_large(&r), "save: {r:?}");
    assert_eq!(writes.load(Ordering::SeqCst), 0, "a write command was sent");
    assert_eq!(items.count(()).await.unwrap(), 0);

    // Just under the limit is the server's to take: the library sends it.
    let envelope = odm_core::bson::to_vec(&Item::new("acme", 3, ""))
        .unwrap()
        .len()
        + 12;
    let largest = Item::new("acme", 3, "y".repeat(MAX_DOCUMENT_SIZE - envelope - 64));
    items.create(largest).await.unwrap();
    assert_eq!(writes.load(Ordering::SeqCst), 1);
    assert_eq!(items.count(doc! { "seq": 3 }).await.unwrap(), 1);
    conn.database().drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_values_in_filters_stay_values() {
    let _one_at_a_time = SERVER.lock().await;
    let conn = odm_tests::connect("hostile_injection").await;
    let items = conn.model::<Item>();
    for name in ["alice", "bob", "$where", "{\"$gt\": \"\"}"] {
        items.create(Item::new(name, 0, "")).await.unwrap();
    }
    // Stored with `tenant` holding the document `{"$gt": ""}` itself, through the raw collection.
    conn.database()
        .collection::<Document>("items")
        .insert_one(doc! { "tenant": { "$gt": "" }, "seq": 1, "payload": "literal document" })
        .await
        .unwrap();

    // What a user typed: a string that looks like an operator, and a JSON object parsed from a request.
    let user_string = Bson::String("$where".into());
    let user_document = Bson::Document(doc! { "$gt": "" });

    // The unsafe way, for contrast: splicing the user's document in as the field's value makes it the
    // operator `$gt`, which matches every string.
    let spliced = items
        .count(doc! { "tenant": user_document.clone() })
        .await
        .unwrap();
    assert!(
        spliced >= 4,
        "`{{tenant: {{$gt: \"\"}}}}` is an operator query ({spliced} matched)"
    );

    // The safe way: `$eq` takes its argument as a value, whatever it holds.
    let safe = |v: &Bson| doc! { "tenant": { "$eq": v.clone() } };
    let found = items.find(safe(&user_string)).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].tenant, "$where");
    let raw = conn.database().collection::<Document>("items");
    // MongoDB compares a field with a document value as a value: only the literal document matches.
    let cursor = raw.find(safe(&user_document)).await.unwrap();
    let found: Vec<Document> = futures_util::TryStreamExt::try_collect(cursor)
        .await
        .unwrap();
    assert_eq!(
        found.len(),
        1,
        "only the literal document matches: {found:?}"
    );
    assert_eq!(found[0].get_str("payload").unwrap(), "literal document");
    // A string that spells out JSON is a string.
    let json = Bson::String("{\"$gt\": \"\"}".into());
    assert_eq!(items.count(safe(&json)).await.unwrap(), 1);

    // In an update, a value under `$set` is stored as given, never run.
    items
        .update_one(
            doc! { "tenant": { "$eq": "alice" } },
            doc! { "$set": { "payload": user_string.clone() } },
        )
        .await
        .unwrap();
    let alice = items
        .find_one(doc! { "tenant": "alice" })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.payload, "$where");
    assert_eq!(
        items
            .count(doc! { "payload": { "$eq": "$where" } })
            .await
            .unwrap(),
        1
    );
}

/// Tenant ids by the rules the tenancy layer documents, written out independently of it: 1 to `max` bytes
/// of `[a-z0-9_-]` (capitals refused: MongoDB refuses database names that differ only in case), not a
/// server database's name, and (with a separator) neither holding the separator nor ending with its first
/// character, so a collection name always tells its tenant.
fn valid_tenant_id(id: &str, max: usize, separator: Option<&str>) -> bool {
    (1..=max).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !["admin", "local", "config"].contains(&id)
        && separator.is_none_or(|sep| {
            !id.contains(sep) && !sep.chars().next().is_some_and(|c| id.ends_with(c))
        })
}

async fn collections(db: &Connection) -> BTreeSet<String> {
    db.database()
        .list_collection_names()
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_ids_reach_only_their_own_namespace_under_every_strategy() {
    use odm_core::{Strategy as Tenancy, Tenants};
    let _one_at_a_time = SERVER.lock().await;
    let base = odm_tests::connect("hostile_tenants").await;
    let shared_db = base.use_db("hostile_tenants_shared").unwrap();
    let cpt_db = base.use_db("hostile_tenants_cpt").unwrap();
    for db in [&shared_db, &cpt_db] {
        db.database().drop().await.unwrap();
    }
    let strategies = [
        (
            "database per tenant",
            Tenants::new(base.clone(), Tenancy::database_per_tenant("fz_")).unwrap(),
            None,
        ),
        (
            "collection per tenant",
            Tenants::new(cpt_db.clone(), Tenancy::collection_per_tenant()).unwrap(),
            Some("."),
        ),
        (
            "collection per tenant, `__` separator",
            Tenants::new(
                cpt_db.clone(),
                Tenancy::CollectionPerTenant {
                    prefix: String::new(),
                    separator: "__".into(),
                },
            )
            .unwrap(),
            Some("__"),
        ),
        (
            "shared collection",
            Tenants::new(shared_db.clone(), Tenancy::shared_collection()).unwrap(),
            None,
        ),
    ];
    let mut summary = Vec::new();
    for (name, tenants, separator) in &strategies {
        let accepted = AtomicUsize::new(0);
        let cases = AtomicUsize::new(0);
        let ids = prop_oneof![2 => "[A-Za-z0-9_-]{1,24}".boxed(), 3 => hostile_name().boxed()];
        runner(64)
            .run(&ids, |id| {
                cases.fetch_add(1, Ordering::Relaxed);
                block_on(async {
                    let colls_before = collections(tenants.connection()).await;
                    let dbs_before = databases(&base).await;
                    let valid = valid_tenant_id(&id, tenants.max_id_len(), *separator);
                    match tenants.get(&id) {
                        Ok(tenant) => {
                            assert!(valid, "{name}: get accepted {id:?}");
                            accepted.fetch_add(1, Ordering::Relaxed);
                            let items = tenant.model::<Item>();
                            // MongoDB takes every name the library makes.
                            if let Err(e) = items.create(Item::new(&id, 0, "x")).await {
                                panic!("{name}: a write through {id:?} failed: {e}");
                            }
                            let new_dbs: Vec<String> = databases(&base)
                                .await
                                .difference(&dbs_before)
                                .cloned()
                                .collect();
                            let new_colls: Vec<String> = collections(tenants.connection())
                                .await
                                .difference(&colls_before)
                                .cloned()
                                .collect();
                            // The strategy's own database appears with its first collection, as
                            // MongoDB creates a database on its first write (and lists no database
                            // left without collections); no other does.
                            let own_db = tenants.connection().name().to_owned();
                            let created_own: Vec<String> = if dbs_before.contains(&own_db) {
                                Vec::new()
                            } else {
                                vec![own_db]
                            };
                            match (*name, *separator) {
                                ("database per tenant", _) => {
                                    assert_eq!(new_dbs, [format!("fz_{id}")], "{id:?}");
                                    tenant.connection().database().drop().await.unwrap();
                                }
                                (_, Some(sep)) => {
                                    assert_eq!(new_dbs, created_own, "{id:?}");
                                    assert_eq!(new_colls, [format!("{id}{sep}items")], "{id:?}");
                                    items.unconfined_collection().drop().await.unwrap();
                                }
                                _ => {
                                    assert_eq!(new_dbs, created_own, "{id:?}");
                                    let raw = tenants
                                        .connection()
                                        .database()
                                        .collection::<Document>("items");
                                    let stamped = raw
                                        .count_documents(doc! { "tenant_id": &id })
                                        .await
                                        .unwrap();
                                    assert_eq!(stamped, 1, "{id:?}");
                                    assert_eq!(items.count(()).await.unwrap(), 1, "{id:?}");
                                    items.delete_many(()).await.unwrap();
                                }
                            }
                        }
                        Err(Error::InvalidTenant { id: reported, .. }) => {
                            assert!(!valid, "{name}: get refused {id:?}");
                            assert_eq!(reported, id);
                            assert_eq!(databases(&base).await, dbs_before);
                            assert_eq!(collections(tenants.connection()).await, colls_before);
                        }
                        Err(e) => panic!("{name}: get({id:?}) gave an unexpected error: {e}"),
                    }
                });
                Ok(())
            })
            .unwrap();
        summary.push(format!(
            "{name}: {} ids, {} accepted",
            cases.load(Ordering::Relaxed),
            accepted.load(Ordering::Relaxed)
        ));
    }
    println!("tenant ids fuzzed: {}", summary.join("; "));
}
