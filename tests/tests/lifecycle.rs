//! Tenant lifecycle against the real server: the catalogue's resolution and leases, provisioning,
//! erasure, export and import, and live moves between placements with writers running, interrupted
//! moves resumed or rolled back. Checks of what is left on the server use the raw driver.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::bson::{self, doc, oid::ObjectId, Bson, Document, RawDocumentBuf};
use odm_core::prelude::*;
use odm_core::{model_set, Fleet, ModelSet, Strategy, TenantState, Tenants};
use odm_tests::{connect, database_names};

#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "notes", timestamps)]
struct Note {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[field(unique)]
    key: String,
    #[field(range(min = 0))]
    n: i64,
    #[serde(default)]
    extra: Option<Document>,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
}

/// Labels compare without case: its indexes carry the collation, and so does an export's metadata.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "tags", collation(locale = "en", strength = 2))]
struct Tag {
    #[serde(rename = "_id")]
    id: String,
    #[field(index)]
    label: String,
}

static MODELS: ModelSet = model_set![Note, Tag];

const PLACEMENTS: [&str; 3] = ["shared", "collections", "databases"];

/// A fleet builder with the three placements on `conn`'s database, tenant databases named `{db}_{id}`,
/// the shared collection by default.
fn placements(conn: &Connection, db: &str) -> odm_core::FleetBuilder {
    Fleet::builder(conn, MODELS)
        .placement(
            "shared",
            Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap(),
        )
        .placement(
            "collections",
            Tenants::new(conn.clone(), Strategy::collection_per_tenant()).unwrap(),
        )
        .placement(
            "databases",
            Tenants::new(
                conn.clone(),
                Strategy::database_per_tenant(format!("{db}_")),
            )
            .unwrap(),
        )
        .default_placement("shared")
}

/// A fleet with the three placements on one test database (`db`), tenant databases named `{db}_{id}`.
async fn fleet(db: &str, lease: Duration) -> (Connection, Fleet) {
    let conn = connect(db).await;
    for name in database_names(&conn).await {
        if name.starts_with(&format!("{db}_")) {
            conn.client().database(&name).drop().await.unwrap();
        }
    }
    let fleet = placements(&conn, db).lease(lease).build().unwrap();
    (conn, fleet)
}

fn note(key: &str, n: i64) -> Note {
    Note {
        id: None,
        key: key.into(),
        n,
        extra: None,
        created_at: None,
        updated_at: None,
    }
}

/// The tenant's documents of `collection` at `placement`, read with the raw driver, without the tenant
/// field, sorted by `_id`.
async fn stored(
    conn: &Connection,
    db: &str,
    placement: &str,
    id: &str,
    collection: &str,
) -> Vec<RawDocumentBuf> {
    use futures_util::TryStreamExt;
    let (database, name, filter) = match placement {
        "shared" => (
            db.to_owned(),
            collection.to_owned(),
            doc! { "tenant_id": id },
        ),
        "collections" => (db.to_owned(), format!("{id}.{collection}"), doc! {}),
        _ => (format!("{db}_{id}"), collection.to_owned(), doc! {}),
    };
    let coll = conn
        .client()
        .database(&database)
        .collection::<RawDocumentBuf>(&name);
    let docs: Vec<RawDocumentBuf> = coll
        .find(filter)
        .sort(doc! { "_id": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    docs.into_iter()
        .map(|raw| {
            let mut out = RawDocumentBuf::new();
            for element in raw.iter() {
                let (k, v) = element.unwrap();
                if k != "tenant_id" {
                    out.append_ref(k, v);
                }
            }
            out
        })
        .collect()
}

/// Whether anything of tenant `id` exists at `placement`: documents, its collections, its database.
async fn traces(conn: &Connection, db: &str, placement: &str, id: &str) -> Vec<String> {
    let mut found = Vec::new();
    for collection in ["notes", "tags", "_migrations"] {
        let n = stored(conn, db, placement, id, collection).await.len();
        if n > 0 {
            found.push(format!("{n} documents in {collection}"));
        }
    }
    match placement {
        "collections" => {
            let names = conn.database().list_collection_names().await.unwrap();
            found.extend(
                names
                    .into_iter()
                    .filter(|n| n.starts_with(&format!("{id}.")))
                    .map(|n| format!("collection {n}")),
            );
        }
        "databases" if database_names(conn).await.contains(&format!("{db}_{id}")) => {
            found.push(format!("database {db}_{id}"));
        }
        _ => {}
    }
    found
}

#[tokio::test]
async fn provisioning_twice_changes_nothing_and_makes_exactly_the_declared_namespaces() {
    let db = "lifecycle_provision";
    let (conn, fleet) = fleet(db, Duration::from_secs(2)).await;
    for (i, placement) in PLACEMENTS.iter().enumerate() {
        let id = format!("t{i}");
        let first = fleet.provision(&id, Some(placement)).await.unwrap();
        assert_eq!(first.state, TenantState::Active);
        assert_eq!(first.placement, *placement);
        let tenant = fleet.tenant(&id).await.unwrap();
        let notes = tenant.model::<Note>();
        let indexes_before = notes.list_indexes().await.unwrap();
        for diff in [
            notes.diff_indexes().await.unwrap(),
            tenant.model::<Tag>().diff_indexes().await.unwrap(),
        ] {
            assert!(diff.is_empty(), "{placement}: {diff:?}");
            assert_eq!(diff.unchanged.len(), 1, "{placement}: {diff:?}");
        }
        // The validator is the model's, so a write around the library is checked by the server too.
        let coll = notes.unconfined_collection();
        let options = conn
            .client()
            .database(&coll.namespace().db)
            .list_collections()
            .filter(doc! { "name": coll.name() })
            .await
            .unwrap()
            .next()
            .await
            .unwrap()
            .unwrap()
            .options;
        let validator = options.validator.expect("a validator");
        assert!(validator.contains_key("$jsonSchema"), "{validator}");

        let second = fleet.provision(&id, Some(placement)).await.unwrap();
        assert_eq!(
            second.version, first.version,
            "a second provision records nothing"
        );
        assert_eq!(second.history.len(), first.history.len());
        // A fresh handle: the first may have outlived its lease on a loaded machine.
        let notes = fleet.tenant(&id).await.unwrap().model::<Note>();
        assert_eq!(notes.list_indexes().await.unwrap(), indexes_before);

        let moved = fleet.provision(&id, Some("elsewhere")).await.unwrap_err();
        assert!(
            moved.to_string().contains("no placement `elsewhere`"),
            "{moved}"
        );
    }
}

#[tokio::test]
async fn the_catalogue_decides_who_is_served() {
    let db = "lifecycle_resolve";
    let (conn, fleet) = fleet(db, Duration::from_millis(300)).await;
    match fleet.tenant("nobody").await {
        Err(Error::UnknownTenant { id }) => assert_eq!(id, "nobody"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        fleet.tenant("Bad.Id").await,
        Err(Error::InvalidTenant { .. })
    ));

    fleet.provision("acme", None).await.unwrap();
    let notes = fleet.tenant("acme").await.unwrap().model::<Note>();
    notes.create(note("a", 1)).await.unwrap();

    // A handle outlives its lease: it refuses, and a new one serves.
    tokio::time::sleep(Duration::from_millis(400)).await;
    match notes.count(doc! {}).await {
        Err(Error::LeaseExpired { id, .. }) => assert_eq!(id, "acme"),
        other => panic!("{other:?}"),
    }
    let notes = fleet.tenant("acme").await.unwrap().model::<Note>();
    assert_eq!(notes.count(doc! {}).await.unwrap(), 1);

    fleet.suspend("acme", "unpaid invoice").await.unwrap();
    match fleet.tenant("acme").await {
        Err(Error::TenantUnavailable { state, why, .. }) => {
            assert_eq!(state, "suspended");
            assert!(why.contains("resume"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // Another process (another fleet on the catalogue) refuses it too.
    let (_, other) = fleet_on(&conn, db).await;
    assert!(matches!(
        other.tenant("acme").await,
        Err(Error::TenantUnavailable { .. })
    ));
    fleet.resume("acme").await.unwrap();
    assert_eq!(
        fleet
            .tenant("acme")
            .await
            .unwrap()
            .model::<Note>()
            .count(doc! {})
            .await
            .unwrap(),
        1
    );
    let record = fleet.catalogue().get("acme").await.unwrap().unwrap();
    let notes: Vec<_> = record.history.iter().map(|e| e.note.as_str()).collect();
    assert_eq!(
        notes,
        ["recorded", "provisioned", "unpaid invoice", "resumed"]
    );

    let open = Fleet::builder(&conn, MODELS)
        .placement(
            "shared",
            Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap(),
        )
        .open_to_unknown(true)
        .build()
        .unwrap();
    open.tenant("walk-in")
        .await
        .unwrap()
        .model::<Note>()
        .create(note("w", 1))
        .await
        .unwrap();
}

/// Another process's fleet on the catalogue in `db`, with the default lease.
async fn fleet_on(conn: &Connection, db: &str) -> (Connection, Fleet) {
    (conn.clone(), placements(conn, db).build().unwrap())
}

/// Another process's fleet on the catalogue in `db`, with lease `lease`.
async fn fleet_on_with(conn: &Connection, db: &str, lease: Duration) -> (Connection, Fleet) {
    (
        conn.clone(),
        placements(conn, db).lease(lease).build().unwrap(),
    )
}

async fn fill(fleet: &Fleet, id: &str, n: i64) {
    let tenant = fleet.tenant(id).await.unwrap();
    let notes = tenant.model::<Note>();
    notes
        .insert_many((0..n).map(|i| note(&format!("{id}-{i}"), i)))
        .await
        .unwrap();
    // A new handle: the insert may have outlived the fleet's short test lease.
    let tenant = fleet.tenant(id).await.unwrap();
    tenant
        .model::<Tag>()
        .create(Tag {
            id: format!("{id}-tag"),
            label: "x".into(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn erasure_leaves_nothing_of_the_tenant_and_everything_of_the_others() {
    let db = "lifecycle_erase";
    let (conn, fleet) = fleet(db, Duration::from_millis(100)).await;
    for placement in PLACEMENTS {
        let ids = ["a", "b", "c"].map(|t| format!("{t}{}", &placement[..1]));
        for id in &ids {
            fleet.provision(id, Some(placement)).await.unwrap();
            fill(&fleet, id, 25).await;
        }
        let report = fleet.erase(&ids[1]).await.unwrap();
        assert_eq!(
            report.deleted,
            [("notes", 25), ("tags", 1), ("_migrations", 0)],
            "{placement}"
        );
        assert_eq!(
            report.remaining,
            [("notes", 0), ("tags", 0), ("_migrations", 0)],
            "{placement}"
        );
        assert_eq!(
            traces(&conn, db, placement, &ids[1]).await,
            Vec::<String>::new()
        );
        for kept in [&ids[0], &ids[2]] {
            assert_eq!(stored(&conn, db, placement, kept, "notes").await.len(), 25);
            assert_eq!(stored(&conn, db, placement, kept, "tags").await.len(), 1);
        }
        let record = fleet.catalogue().get(&ids[1]).await.unwrap().unwrap();
        assert_eq!(record.state, TenantState::Erased);
        assert!(matches!(
            fleet.tenant(&ids[1]).await,
            Err(Error::TenantUnavailable { .. })
        ));
        // The id can serve a new tenant, which starts empty; the record keeps the old history.
        let again = fleet.provision(&ids[1], Some(placement)).await.unwrap();
        assert_eq!(again.state, TenantState::Active);
        assert!(again.history.iter().any(|e| e.note == "erased"));
        let notes = fleet.tenant(&ids[1]).await.unwrap().model::<Note>();
        assert_eq!(notes.count(doc! {}).await.unwrap(), 0);
    }
}

/// One value of every BSON type a document can hold.
fn every_type() -> Document {
    use bson::spec::BinarySubtype;
    doc! {
        "double": 1.5, "nan": f64::NAN, "string": "é", "doc": { "a": [1, { "b": Bson::Null }] },
        "array": [1, "two", 3.0], "binary": bson::Binary { subtype: BinarySubtype::Generic, bytes: vec![0, 1, 255] },
        "uuid": bson::Binary { subtype: BinarySubtype::Uuid, bytes: vec![7; 16] },
        "oid": ObjectId::new(), "bool": true, "date": DateTime::from_millis(-1),
        "null": Bson::Null, "regex": bson::Regex { pattern: "^a.*".into(), options: "i".into() },
        "code": Bson::JavaScriptCode("x => x".into()),
        "scoped": Bson::JavaScriptCodeWithScope(bson::JavaScriptCodeWithScope { code: "y".into(), scope: doc! { "y": 1 } }),
        "int32": i32::MIN, "int64": i64::MAX, "timestamp": bson::Timestamp { time: 7, increment: 9 },
        "decimal": "1.10".parse::<bson::Decimal128>().unwrap(),
        "min": Bson::MinKey, "max": Bson::MaxKey,
    }
}

#[tokio::test]
async fn export_then_import_elsewhere_keeps_every_document_byte_for_byte() {
    let db = "lifecycle_dump";
    let (conn, fleet) = fleet(db, Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    for (i, (from, to)) in [
        ("shared", "databases"),
        ("databases", "collections"),
        ("collections", "shared"),
    ]
    .into_iter()
    .enumerate()
    {
        let (source, copy) = (format!("src{i}"), format!("dst{i}"));
        fleet.provision(&source, Some(from)).await.unwrap();
        fill(&fleet, &source, 50).await;
        let notes = fleet.tenant(&source).await.unwrap().model::<Note>();
        let mut odd = note("every-type", 7);
        odd.extra = Some(every_type());
        notes.create(odd).await.unwrap();

        let out = dir.path().join(&source);
        let exported = fleet.export(&source, &out).await.unwrap();
        assert_eq!(exported.documents(), 52);
        for file in [
            "notes.bson",
            "notes.metadata.json",
            "tags.bson",
            "tags.metadata.json",
            "odm-tenant.json",
        ] {
            assert!(out.join(file).is_file(), "{file}");
        }
        let meta: serde_json_like::Value =
            serde_json_like::from_file(&out.join("notes.metadata.json"));
        assert!(
            meta.contains("\"key_1\"")
                && meta.contains("$jsonSchema")
                && meta.contains("\"unique\": true"),
            "{}",
            meta.0
        );
        let tags_meta: serde_json_like::Value =
            serde_json_like::from_file(&out.join("tags.metadata.json"));
        assert!(
            tags_meta.contains("\"label_1\"") && tags_meta.contains("\"collation\""),
            "the index keeps the model's collation: {}",
            tags_meta.0
        );

        let imported = fleet.import(&copy, Some(to), &out).await.unwrap();
        assert_eq!(imported.collections, exported.collections);
        for collection in ["notes", "tags"] {
            let before = stored(&conn, db, from, &source, collection).await;
            let after = stored(&conn, db, to, &copy, collection).await;
            assert_eq!(before.len(), after.len());
            for (b, a) in before.iter().zip(&after) {
                assert_eq!(
                    b.as_bytes(),
                    a.as_bytes(),
                    "{collection}: {b:?} became {a:?}"
                );
            }
        }
        // An import never lands on a tenant with data.
        let again = fleet.import(&copy, Some(to), &out).await.unwrap_err();
        assert!(matches!(again, Error::TenantUnavailable { .. }), "{again}");
    }
    // A damaged export is refused with the file named, and no raw bytes.
    let out = dir.path().join("src0");
    let bson = out.join("notes.bson");
    let len = std::fs::metadata(&bson).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&bson)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let err = fleet
        .import("damaged", Some("shared"), &out)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("notes.bson") && err.to_string().contains("truncated"),
        "{err}"
    );
}

/// Reads a file as text, for checks of what a JSON file mentions.
mod serde_json_like {
    pub struct Value(pub String);
    impl Value {
        pub fn contains(&self, s: &str) -> bool {
            self.0.contains(s)
        }
    }
    pub fn from_file(path: &std::path::Path) -> Value {
        Value(std::fs::read_to_string(path).unwrap())
    }
}

/// Moves tenant `id` from `from` to `to` while four writers create notes through the fleet the whole
/// time; afterwards the destination holds exactly the notes whose creation was acknowledged, and nothing
/// of the tenant is left at the source.
async fn move_under_writes(db: &str, from: &str, to: &str) {
    let (conn, fleet) = fleet(db, Duration::from_millis(300)).await;
    let id = "mover";
    fleet.provision(id, Some(from)).await.unwrap();
    fill(&fleet, id, 2000).await;
    fleet.provision("bystander", Some(from)).await.unwrap();
    fill(&fleet, "bystander", 10).await;

    let writers = Writers::start(&[&fleet], id, "w", 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = fleet.move_tenant(id, to).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let acked = writers.stop().await;
    assert!(report.copied >= 2000, "{report:?}");
    let record = fleet.catalogue().get(id).await.unwrap().unwrap();
    assert_eq!(
        (record.state, record.placement.as_str()),
        (TenantState::Active, to)
    );
    assert_eq!(record.cleanup, None);

    exactly_what_was_acknowledged(&conn, db, to, id, 2000, acked).await;
    assert_eq!(stored(&conn, db, to, id, "tags").await.len(), 1);
    if from != to {
        assert_eq!(traces(&conn, db, from, id).await, Vec::<String>::new());
    }
    assert_eq!(
        stored(&conn, db, from, "bystander", "notes").await.len(),
        10
    );
    eprintln!(
        "{from} -> {to}: copied {} in {:?} ({:.0}/s), caught up {}, paused {:?}",
        report.copied,
        report.copy_time,
        report.copied as f64 / report.copy_time.as_secs_f64(),
        report.caught_up,
        report.pause
    );
}

#[tokio::test]
async fn move_shared_to_databases_under_writes() {
    move_under_writes("lifecycle_move_sd", "shared", "databases").await;
}

#[tokio::test]
async fn move_databases_to_shared_under_writes() {
    move_under_writes("lifecycle_move_ds", "databases", "shared").await;
}

#[tokio::test]
async fn move_shared_to_collections_under_writes() {
    move_under_writes("lifecycle_move_sc", "shared", "collections").await;
}

#[tokio::test]
async fn move_collections_to_shared_under_writes() {
    move_under_writes("lifecycle_move_cs", "collections", "shared").await;
}

#[tokio::test]
async fn move_collections_to_databases_under_writes() {
    move_under_writes("lifecycle_move_cd", "collections", "databases").await;
}

#[tokio::test]
async fn move_databases_to_collections_under_writes() {
    move_under_writes("lifecycle_move_dc", "databases", "collections").await;
}

/// Kills the server when a move reaches `step`, restarts it, and then, as a new process would, either
/// resumes the move or rolls it back: afterwards the tenant is served from one placement holding each
/// of its documents exactly once, and nothing of it is left at the other.
async fn move_killed_at(step: &'static str) {
    let server = Arc::new(Mutex::new(Some(odm_tests::TestServer::start().await)));
    let uri = server.lock().unwrap().as_ref().unwrap().uri();
    let db = "lifecycle_faults";
    let open = |with_kill: bool| {
        let (uri, server) = (uri.clone(), server.clone());
        async move {
            let conn = Connection::options(&format!("{uri}/{db}"))
                .timeout(Duration::from_secs(2))
                .connect()
                .await
                .unwrap();
            let killed = AtomicBool::new(false);
            let mut builder = Fleet::builder(&conn, MODELS)
                .placement(
                    "shared",
                    Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap(),
                )
                .placement(
                    "databases",
                    Tenants::new(
                        conn.clone(),
                        Strategy::database_per_tenant(format!("{db}_")),
                    )
                    .unwrap(),
                )
                .default_placement("shared")
                .lease(Duration::from_millis(200));
            if with_kill {
                builder = builder.progress(move |p| {
                    if p.step == step && !killed.swap(true, Ordering::SeqCst) {
                        if let Some(s) = server.lock().unwrap().as_mut() {
                            s.kill();
                        }
                    }
                });
            }
            (conn, builder.build().unwrap())
        }
    };
    let (conn, fleet) = open(false).await;
    for id in ["resumed", "rolled"] {
        fleet.provision(id, Some("shared")).await.unwrap();
        fill(&fleet, id, 3000).await;
    }
    let expected: BTreeSet<String> = (0..3000).map(|i| format!("resumed-{i}")).collect();

    for (id, resume) in [("resumed", true), ("rolled", false)] {
        let (_, crashing) = open(true).await;
        let failed = crashing.move_tenant(id, "databases").await;
        assert!(
            failed.is_err(),
            "{step}: the move went on without its server"
        );
        drop(crashing);
        let mut s = server.lock().unwrap().take().unwrap();
        assert!(s.pid().is_none(), "{step}: the server was killed");
        s.restart().await;
        *server.lock().unwrap() = Some(s);
        let (_, fleet) = open(false).await;
        let record = fleet.catalogue().get(id).await.unwrap().unwrap();
        let (serving, other) = if step == "cleanup" {
            // Switched over before the kill: the destination serves; the move finishes its cleanup.
            assert_eq!(
                (record.state, record.placement.as_str()),
                (TenantState::Active, "databases")
            );
            assert_eq!(record.cleanup.as_deref(), Some("shared"));
            fleet.move_tenant(id, "databases").await.unwrap();
            ("databases", "shared")
        } else {
            assert_eq!(record.state, TenantState::Moving, "{step}");
            if resume {
                fleet.move_tenant(id, "databases").await.unwrap();
                ("databases", "shared")
            } else {
                fleet.abort_move(id).await.unwrap();
                ("shared", "databases")
            }
        };
        let record = fleet.catalogue().get(id).await.unwrap().unwrap();
        assert_eq!(
            (record.state, record.placement.as_str()),
            (TenantState::Active, serving)
        );
        assert_eq!(record.cleanup, None);
        let keys: Vec<String> = stored(&conn, db, serving, id, "notes")
            .await
            .iter()
            .map(|raw| raw.get_str("key").unwrap().replace(id, "resumed"))
            .collect();
        let unique: BTreeSet<String> = keys.iter().cloned().collect();
        assert_eq!(
            keys.len(),
            unique.len(),
            "{step}: a document is stored twice"
        );
        assert_eq!(unique, expected, "{step}: {id} lost or gained documents");
        assert_eq!(
            traces(&conn, db, other, id).await,
            Vec::<String>::new(),
            "{step}"
        );
        let served = fleet
            .tenant(id)
            .await
            .unwrap()
            .model::<Note>()
            .count(doc! {})
            .await
            .unwrap();
        assert_eq!(served, 3000);
        if step == "cleanup" {
            break;
        }
    }
}

#[tokio::test]
async fn a_move_killed_while_copying_resumes_or_rolls_back() {
    move_killed_at("copy").await;
}

#[tokio::test]
async fn a_move_killed_while_catching_up_resumes_or_rolls_back() {
    move_killed_at("catch-up").await;
}

#[tokio::test]
async fn a_move_killed_during_the_cut_over_resumes_or_rolls_back() {
    move_killed_at("verify").await;
}

#[tokio::test]
async fn a_move_killed_while_cleaning_up_finishes_its_cleanup() {
    move_killed_at("cleanup").await;
}

/// Writers creating notes for tenant `id` until stopped, `n` through each of the fleets (one per service
/// process); each key they were told is written is recorded.
struct Writers {
    done: Arc<AtomicBool>,
    acked: Arc<Mutex<BTreeSet<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    fn start(fleets: &[&Fleet], id: &'static str, prefix: &'static str, n: usize) -> Writers {
        let done = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(BTreeSet::new()));
        let seq = Arc::new(AtomicU64::new(0));
        let tasks = fleets
            .iter()
            .flat_map(|fleet| std::iter::repeat_n(*fleet, n))
            .map(|fleet| {
                let (fleet, done, acked, seq) =
                    (fleet.clone(), done.clone(), acked.clone(), seq.clone());
                tokio::spawn(async move {
                    while !done.load(Ordering::Relaxed) {
                        let key = format!("{prefix}-{}", seq.fetch_add(1, Ordering::Relaxed));
                        let tenant = match fleet.tenant(id).await {
                            Ok(t) => t,
                            Err(Error::TenantUnavailable { .. }) => continue,
                            Err(e) => panic!("{e}"),
                        };
                        match tenant.model::<Note>().create(note(&key, 1)).await {
                            Ok(_) => {
                                acked.lock().unwrap().insert(key);
                            }
                            Err(Error::LeaseExpired { .. }) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                })
            })
            .collect();
        Writers { done, acked, tasks }
    }

    async fn stop(self) -> BTreeSet<String> {
        self.done.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        let acked = self.acked.lock().unwrap().clone();
        acked
    }
}

/// Checks that the tenant's notes at `placement` are exactly the `filled` ones [`fill`] made and the
/// `acked` ones the writers were told were written, none twice, and that the writers did write.
async fn exactly_what_was_acknowledged(
    conn: &Connection,
    db: &str,
    placement: &str,
    id: &str,
    filled: i64,
    acked: BTreeSet<String>,
) {
    assert!(acked.len() > 10, "the writers wrote: {}", acked.len());
    let written: BTreeSet<String> = (0..filled)
        .map(|i| format!("{id}-{i}"))
        .chain(acked)
        .collect();
    assert_eq!(
        keys_at(conn, db, placement, id).await,
        written,
        "the destination holds exactly what was acknowledged"
    );
}

/// The keys of the tenant's notes at `placement` on `conn`'s cluster; a key stored twice fails.
async fn keys_at(conn: &Connection, db: &str, placement: &str, id: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for raw in stored(conn, db, placement, id, "notes").await {
        let key = raw.get_str("key").unwrap().to_owned();
        assert!(keys.insert(key.clone()), "{key} is stored twice");
    }
    keys
}

/// A tenant moved to a database on another cluster and back, with writers running the whole time: each
/// placement is a `Tenants` on its own cluster's connection. After each move the destination cluster
/// holds exactly what the writers were told was written, and nothing of the tenant is left on the other.
#[tokio::test]
async fn a_tenant_moves_to_another_cluster_and_back_under_writes() {
    let db = "lifecycle_clusters";
    let west_server = odm_tests::TestServer::start().await;
    let east = connect(db).await;
    let west = Connection::connect(&format!("{}/{db}", west_server.uri()))
        .await
        .unwrap();
    for name in database_names(&east).await {
        if name.starts_with(&format!("{db}_")) {
            east.client().database(&name).drop().await.unwrap();
        }
    }
    let on = |conn: &Connection| {
        Tenants::new(
            conn.clone(),
            Strategy::database_per_tenant(format!("{db}_")),
        )
        .unwrap()
    };
    let fleet = Fleet::builder(&east, MODELS)
        .placement("east", on(&east))
        .placement("west", on(&west))
        .default_placement("east")
        .lease(Duration::from_millis(300))
        .build()
        .unwrap();
    let id = "traveller";
    fleet.provision(id, None).await.unwrap();
    fill(&fleet, id, 500).await;
    let mut written: BTreeSet<String> = (0..500).map(|i| format!("{id}-{i}")).collect();

    for (round, (from, from_conn, to, to_conn)) in [
        ("east", &east, "west", &west),
        ("west", &west, "east", &east),
    ]
    .into_iter()
    .enumerate()
    {
        let writers = Writers::start(&[&fleet], id, ["out", "back"][round], 3);
        tokio::time::sleep(Duration::from_millis(150)).await;
        let report = fleet.move_tenant(id, to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let acked = writers.stop().await;
        assert!(!acked.is_empty(), "the writers wrote during the move");
        written.extend(acked);

        let record = fleet.catalogue().get(id).await.unwrap().unwrap();
        assert_eq!(
            (record.state, record.placement.as_str(), record.cleanup),
            (TenantState::Active, to, None)
        );
        assert_eq!(
            keys_at(to_conn, db, "databases", id).await,
            written,
            "{from} -> {to}: the destination holds exactly what was acknowledged ({report:?})"
        );
        assert_eq!(stored(to_conn, db, "databases", id, "tags").await.len(), 1);
        assert_eq!(
            traces(from_conn, db, "databases", id).await,
            Vec::<String>::new(),
            "{from} -> {to}: the source cluster keeps nothing"
        );
    }
}

/// The registration of a process that stopped heartbeating, written as the process left it: last
/// heartbeat `ago` before the server's now, no acknowledgement.
async fn registration_left_by_a_dead_process(conn: &Connection, name: &str, ago: Duration) {
    let heartbeat =
        DateTime::from_millis(DateTime::now().timestamp_millis() - ago.as_millis() as i64);
    conn.database()
        .collection::<Document>(odm_core::PROCESSES_COLLECTION)
        .insert_one(doc! { "_id": name, "heartbeat": heartbeat, "lease_ms": 2000i64, "serves": true, "acks": {} })
        .await
        .unwrap();
}

/// Two service processes (two fleets on one catalogue, at the default lease, following it) write
/// through their own handles while one of them moves the tenant: the other revokes and acknowledges at
/// the cut-over, so the cut-over waits well under a lease, and the destination holds exactly the
/// acknowledged writes, none twice. A registration long dead is not waited for.
#[tokio::test]
async fn two_following_processes_cut_over_well_under_the_lease() {
    let db = "lifecycle_follow_two";
    let (conn, mover) = fleet(db, odm_core::DEFAULT_LEASE).await;
    let (_, other) = fleet_on(&conn, db).await;
    let id = "mover";
    mover.provision(id, Some("shared")).await.unwrap();
    fill(&mover, id, 1000).await;
    registration_left_by_a_dead_process(&conn, "gone-yesterday", Duration::from_secs(86_400)).await;

    let writers = Writers::start(&[&mover, &other], id, "w", 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = mover.move_tenant(id, "databases").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let acked = writers.stop().await;
    eprintln!(
        "following: paused {:?}, of which released {:?}, caught up {}",
        report.pause, report.release, report.caught_up
    );
    // Without acknowledgements the wait is the lease and a grace: a wait under the lease means the
    // other process acknowledged.
    assert!(
        report.release < odm_core::DEFAULT_LEASE,
        "the cut-over waited out the lease: {report:?}"
    );
    let registered = conn
        .database()
        .collection::<Document>(odm_core::PROCESSES_COLLECTION)
        .find_one(doc! { "_id": other.process_id().unwrap() })
        .await
        .unwrap();
    assert!(registered.is_some(), "the other process is registered");

    exactly_what_was_acknowledged(&conn, db, "databases", id, 1000, acked).await;
    assert_eq!(traces(&conn, db, "shared", id).await, Vec::<String>::new());
}

/// A following process revokes the handles it handed out as soon as the catalogue says the tenant
/// stopped serving, long before their lease ends.
#[tokio::test]
async fn a_following_process_revokes_its_handles_at_once() {
    let db = "lifecycle_follow_revoke";
    let (conn, fleet) = fleet(db, Duration::from_secs(60)).await;
    let (_, other) = fleet_on_with(&conn, db, Duration::from_secs(60)).await;
    fleet.provision("acme", None).await.unwrap();
    let notes = other.tenant("acme").await.unwrap().model::<Note>();
    notes.create(note("a", 1)).await.unwrap();
    fleet.suspend("acme", "unpaid invoice").await.unwrap();
    let started = std::time::Instant::now();
    loop {
        match notes.count(doc! {}).await {
            Err(Error::LeaseExpired { id, .. }) => {
                assert_eq!(id, "acme");
                break;
            }
            Ok(_) => assert!(
                started.elapsed() < Duration::from_secs(30),
                "the handle still served half a minute after the suspension"
            ),
            Err(e) => panic!("{e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(matches!(
        other.tenant("acme").await,
        Err(Error::TenantUnavailable { .. })
    ));
}

/// A registered process that stopped heartbeating (crashed) does not acknowledge: the cut-over waits
/// until its leases have certainly ended, one lease and a grace, and no longer.
#[tokio::test]
async fn a_cut_over_waits_at_most_a_lease_for_a_silent_process() {
    let db = "lifecycle_follow_silent";
    let (conn, fleet) = fleet(db, odm_core::DEFAULT_LEASE).await;
    fleet.provision("acme", Some("shared")).await.unwrap();
    fill(&fleet, "acme", 100).await;
    registration_left_by_a_dead_process(&conn, "crashed", Duration::ZERO).await;
    let report = fleet.move_tenant("acme", "databases").await.unwrap();
    eprintln!(
        "silent process: paused {:?}, released {:?}",
        report.pause, report.release
    );
    assert!(
        report.release >= odm_core::DEFAULT_LEASE,
        "the cut-over did not wait for the silent process: {report:?}"
    );
    assert!(
        report.release < 3 * odm_core::DEFAULT_LEASE,
        "the cut-over waited far past the lease: {report:?}"
    );
    let served = fleet.tenant("acme").await.unwrap().model::<Note>();
    assert_eq!(served.count(doc! {}).await.unwrap(), 100);
}

/// Without following, a cut-over waits the whole lease, as every process may hold one.
#[tokio::test]
async fn without_following_a_cut_over_waits_the_lease() {
    let db = "lifecycle_follow_off";
    let conn = connect(db).await;
    let fleet = placements(&conn, db)
        .lease(Duration::from_millis(500))
        .follow(false)
        .build()
        .unwrap();
    assert_eq!(fleet.process_id(), None);
    fleet.provision("acme", None).await.unwrap();
    fill(&fleet, "acme", 10).await;
    let report = fleet.move_tenant("acme", "collections").await.unwrap();
    assert!(report.release >= Duration::from_millis(500), "{report:?}");
    let registered = conn
        .database()
        .collection::<Document>(odm_core::PROCESSES_COLLECTION)
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(registered, 0);
}

/// A process that only runs lifecycle steps (a `tenant-admin` command) registers without serving: it
/// hands out no lease, so another process's cut-over does not wait for it.
#[tokio::test]
async fn a_process_that_serves_no_request_is_not_waited_for() {
    let db = "lifecycle_follow_admin";
    let (conn, first) = fleet(db, odm_core::DEFAULT_LEASE).await;
    for id in ["one", "two"] {
        first.provision(id, Some("shared")).await.unwrap();
        fill(&first, id, 10).await;
    }
    // `first` serves (and acknowledges); `admin` only moves a tenant and follows nothing.
    let (_, admin) = fleet_on(&conn, db).await;
    admin.move_tenant("one", "collections").await.unwrap();
    assert!(admin.process_id().is_some());
    let (_, other_admin) = fleet_on(&conn, db).await;
    let report = other_admin.move_tenant("two", "collections").await.unwrap();
    assert!(
        report.release < odm_core::DEFAULT_LEASE,
        "the cut-over waited for a process that serves nothing: {report:?}"
    );
    drop((admin, first));
}

/// A transaction's commit is an operation of the tenant handles it used: once their lease is over, or
/// revoked because another process suspended (or is moving) the tenant, the commit is refused with
/// `LeaseExpired` and nothing the transaction wrote lands.
#[tokio::test]
async fn a_commit_is_refused_once_the_handles_lease_is_over_or_revoked() {
    let db = "lifecycle_commit_lease";
    let (conn, fleet) = fleet(db, Duration::from_millis(300)).await;
    let (_, other) = fleet_on(&conn, db).await;
    fleet.provision("acme", None).await.unwrap();

    for case in ["lease over", "revoked"] {
        let tenant = fleet.tenant("acme").await.unwrap();
        let notes = tenant.model::<Note>();
        let outcome = tenant
            .connection()
            .transaction(|tx| {
                let (notes, other) = (notes.clone(), other.clone());
                async move {
                    let mut s = tx.session().await;
                    notes
                        .create(note(&format!("in {case}"), 1))
                        .session(&mut s)
                        .await?;
                    drop(s);
                    if case == "lease over" {
                        tokio::time::sleep(Duration::from_millis(400)).await;
                    } else {
                        other.suspend("acme", "test").await?;
                        // Wait until this process has followed the suspension.
                        for _ in 0..200 {
                            if let Err(Error::LeaseExpired { .. }) = notes.count(doc! {}).await {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    Ok(())
                }
            })
            .await;
        match outcome {
            Err(Error::LeaseExpired { id, .. }) => assert_eq!(id, "acme", "{case}"),
            other => panic!("{case}: the commit went through: {other:?}"),
        }
        assert!(
            stored(&conn, db, "shared", "acme", "notes")
                .await
                .is_empty(),
            "{case}: nothing of the transaction is stored"
        );
    }
}
