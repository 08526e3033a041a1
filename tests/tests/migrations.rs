//! Fleet migrations against the real server: three steps over 500 tenant databases and over 500
//! tenants of a shared collection, runs interrupted (the process, the server) and resumed with every
//! document migrated exactly once, a failure threshold, changed steps, dry runs, the ledger moving with
//! its tenant, and models reading the old shape while a migration is half-way.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::bson::{doc, Document};
use odm_core::prelude::*;
use odm_core::{
    model_set, Fleet, LedgerEntry, MigrateOptions, MigrationReport, Migrations, ModelSet, Strategy,
    Tenant, Tenants,
};
use odm_tests::{connect, database_names};

/// The model as it was: a `title`, no `plan`, no `count`.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "docs")]
struct OldDoc {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    title: String,
}

/// The model as it is: it still reads the old shape (`title` through serde's alias, `plan` and `count`
/// through defaults), so a service serves every tenant while the migration is half-way through the fleet.
#[derive(Debug, Clone, Serialize, Deserialize, Model)]
#[model(collection = "docs")]
struct NewDoc {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[serde(alias = "title")]
    name: String,
    #[serde(default = "free")]
    plan: String,
    #[serde(default)]
    count: i32,
}

fn free() -> String {
    "free".into()
}

static MODELS: ModelSet = model_set![NewDoc];

/// The fleet's models before the change: tenants were provisioned with `OldDoc`'s validator.
static OLD_MODELS: ModelSet = model_set![OldDoc];

/// Three steps: a rename, a default, and a counter every document gets exactly once (atomic, so an
/// interrupted run leaves nothing half-done).
fn migrations(runs: Arc<AtomicUsize>) -> Migrations {
    Migrations::new()
        .sync_schema::<NewDoc>("validator-v2", 1)
        .rename_field::<NewDoc>("rename-title", 1, "title", "name")
        .set_default::<NewDoc>("default-plan", 1, "plan", "free")
        .step("count-once", 1, move |tenant, tx| {
            let runs = runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let mut s = tx.session().await;
                tenant
                    .model::<NewDoc>()
                    .update_many(doc! {}, doc! { "$inc": { "count": 1 } })
                    .session(&mut s)
                    .await?;
                Ok(())
            }
        })
}

async fn seed(tenant: &Tenant, docs: usize) {
    tenant
        .model::<OldDoc>()
        .insert_many((0..docs).map(|i| OldDoc {
            id: None,
            title: format!("{}-{i}", tenant.id()),
        }))
        .await
        .unwrap();
}

/// Every document of the tenant in the new shape, counted once, and its ledger listing the steps once
/// each.
async fn assert_migrated(tenant: &Tenant, docs: usize) {
    let raw = tenant.model::<NewDoc>();
    let stored: Vec<Document> = raw
        .aggregate([doc! { "$project": { "_id": 0, "tenant_id": 0 } }])
        .await
        .unwrap();
    assert_eq!(stored.len(), docs, "{}", tenant.id());
    for d in &stored {
        assert!(!d.contains_key("title"), "{}: {d}", tenant.id());
        assert!(d.get_str("name").is_ok(), "{}: {d}", tenant.id());
        assert_eq!(d.get_str("plan").unwrap(), "free");
        assert_eq!(
            d.get_i32("count").unwrap(),
            1,
            "{}: counted once: {d}",
            tenant.id()
        );
    }
    let ledger = tenant.model::<LedgerEntry>().find(doc! {}).await.unwrap();
    let steps: Vec<&str> = ledger.iter().map(|e| e.step.as_str()).collect();
    let once: BTreeSet<&str> = steps.iter().copied().collect();
    assert_eq!(steps.len(), 4, "{}: {steps:?}", tenant.id());
    assert_eq!(
        once,
        BTreeSet::from(["validator-v2", "rename-title", "default-plan", "count-once"])
    );
}

/// The failed tenants, their step and the error's message (its `Display`, as a user sees it).
fn failures(report: &MigrationReport) -> Vec<String> {
    report
        .failed()
        .map(|t| {
            let (step, e) = t.error.as_ref().unwrap();
            format!("{} at {step:?}: {e}", t.tenant)
        })
        .collect()
}

/// Runs `f` for each id, 16 at a time.
async fn each<F, Fut>(ids: &[String], f: F)
where
    F: Fn(&str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use futures_util::StreamExt;
    futures_util::stream::iter(ids)
        .map(|id| f(id))
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i:03}")).collect()
}

#[tokio::test]
async fn five_hundred_tenant_databases_through_three_steps() {
    let conn = connect("migrate_dbs").await;
    for name in database_names(&conn).await {
        if name.starts_with("migrate_dbs_") {
            conn.client().database(&name).drop().await.unwrap();
        }
    }
    let tenants =
        Tenants::new(conn.clone(), Strategy::database_per_tenant("migrate_dbs_")).unwrap();
    let ids = ids(500);
    each(&ids, |id| {
        let tenant = tenants.get(id).unwrap();
        async move { seed(&tenant, 3).await }
    })
    .await;
    let runs = Arc::new(AtomicUsize::new(0));
    let discovered = tenants.discover().await.unwrap();
    assert_eq!(discovered, ids);

    let options = MigrateOptions {
        concurrency: 16,
        dry_run: true,
        ..MigrateOptions::default()
    };
    let dry = migrations(runs.clone())
        .run(&tenants, discovered.clone(), &options)
        .await;
    assert_eq!(dry.tenants.len(), 500);
    assert!(dry
        .tenants
        .iter()
        .all(|t| t.pending == ["validator-v2", "rename-title", "default-plan", "count-once"]));
    assert_eq!(runs.load(Ordering::SeqCst), 0, "a dry run runs nothing");

    let options = MigrateOptions {
        concurrency: 16,
        ..MigrateOptions::default()
    };
    let report = migrations(runs.clone())
        .run(&tenants, discovered.clone(), &options)
        .await;
    assert!(report.is_ok(), "{:?}", failures(&report));
    assert_eq!(runs.load(Ordering::SeqCst), 500);
    each(&ids, |id| {
        let tenant = tenants.get(id).unwrap();
        async move { assert_migrated(&tenant, 3).await }
    })
    .await;
    // A second run finds nothing to do.
    let again = migrations(runs.clone())
        .run(&tenants, discovered, &options)
        .await;
    assert!(again
        .tenants
        .iter()
        .all(|t| t.applied.is_empty() && t.already.len() == 4));
    assert_eq!(runs.load(Ordering::SeqCst), 500);
}

/// The fleet of `models` over a shared collection and a database per tenant, its catalogue in `db`.
fn fleet_of(conn: &Connection, db: &str, models: ModelSet) -> Fleet {
    Fleet::builder(conn, models)
        .placement(
            "shared",
            Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap(),
        )
        .placement(
            "own",
            Tenants::new(
                conn.clone(),
                Strategy::database_per_tenant(format!("{db}_")),
            )
            .unwrap(),
        )
        .default_placement("shared")
        .lease(Duration::from_secs(1))
        .build()
        .unwrap()
}

/// Tenants provisioned and seeded by the fleet of the old models; returns the fleet of the new ones,
/// on the same catalogue.
async fn old_fleet(db: &str, ids: &[String], docs: usize) -> Fleet {
    let conn = connect(db).await;
    for name in database_names(&conn).await {
        if name.starts_with(&format!("{db}_")) {
            conn.client().database(&name).drop().await.unwrap();
        }
    }
    let old = fleet_of(&conn, db, OLD_MODELS);
    each(ids, |id| {
        let (old, id) = (old.clone(), id.to_owned());
        async move {
            old.provision(&id, None).await.unwrap();
            seed(&old.tenant(&id).await.unwrap(), docs).await;
        }
    })
    .await;
    fleet_of(&conn, db, MODELS)
}

#[tokio::test]
async fn five_hundred_tenants_of_a_shared_collection_interrupted_and_resumed() {
    let ids = ids(500);
    let fleet = old_fleet("migrate_shared", &ids, 3).await;
    let runs = Arc::new(AtomicUsize::new(0));
    // The process dies half-way through the fleet: the run is dropped after 250 tenants finished.
    let half = Arc::new(tokio::sync::Notify::new());
    let signal = half.clone();
    let options = MigrateOptions {
        concurrency: 8,
        progress: Some(Arc::new(move |done, _| {
            if done == 250 {
                signal.notify_one();
            }
        })),
        ..MigrateOptions::default()
    };
    let steps = migrations(runs.clone());
    tokio::select! {
        _ = steps.run_fleet(&fleet, &options) => panic!("the run finished before it was interrupted"),
        _ = half.notified() => {}
    }
    let interrupted = runs.load(Ordering::SeqCst);
    assert!((250..500).contains(&interrupted), "{interrupted}");

    let report = migrations(runs.clone())
        .run_fleet(&fleet, &MigrateOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", failures(&report));
    assert_eq!(report.tenants.len(), 500);
    each(&ids, |id| {
        let fleet = fleet.clone();
        let id = id.to_owned();
        async move { assert_migrated(&fleet.tenant(&id).await.unwrap(), 3).await }
    })
    .await;
    // The interruption split the fleet: some tenants had counted, the rest counted in the rerun, and
    // those cut off inside their counting step's transaction left nothing and ran it again whole (a
    // transaction retried on a transient error also runs its step again: the count shows it never
    // applied twice). Every document above is counted once, and the ledgers list each step once.
    let done_before = report
        .tenants
        .iter()
        .filter(|t| t.already.contains(&"count-once"))
        .count();
    let rerun = report
        .tenants
        .iter()
        .filter(|t| t.applied.contains(&"count-once"))
        .count();
    assert_eq!(done_before + rerun, 500);
    assert!(
        done_before >= 250 && rerun > 0,
        "{done_before} before, {rerun} after"
    );
    assert!(runs.load(Ordering::SeqCst) >= interrupted + rerun);
}

#[tokio::test]
async fn the_server_killed_mid_step_leaves_nothing_half_done() {
    let server = Arc::new(Mutex::new(Some(odm_tests::TestServer::start().await)));
    let uri = server.lock().unwrap().as_ref().unwrap().uri();
    let conn = Connection::options(&format!("{uri}/migrate_kill"))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let ids = ids(20);
    for id in &ids {
        seed(&tenants.get(id).unwrap(), 50).await;
    }
    // The step of the eleventh tenant kills the server after its update, before the commit, and has it
    // restarted a moment later, as a crashed mongod is by its supervisor.
    let attempts = Arc::new(AtomicUsize::new(0));
    let (a, s) = (attempts.clone(), server.clone());
    let killing = migrations(Arc::new(AtomicUsize::new(0))).step("kill", 1, move |tenant, tx| {
        let (a, s) = (a.clone(), s.clone());
        async move {
            let mut session = tx.session().await;
            tenant
                .model::<NewDoc>()
                .update_many(doc! {}, doc! { "$inc": { "count": 100 } })
                .session(&mut session)
                .await?;
            if tenant.id() == "t010" && a.fetch_add(1, Ordering::SeqCst) == 0 {
                let mut down = s.lock().unwrap().take().unwrap();
                down.kill();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    down.restart().await;
                    *s.lock().unwrap() = Some(down);
                });
            }
            Ok(())
        }
    });
    let options = MigrateOptions {
        concurrency: 1,
        ..MigrateOptions::default()
    };
    let report = killing.run(&tenants, ids.clone(), &options).await;
    assert!(report.is_ok(), "{:?}", failures(&report));
    // The transaction lost with the server ran again whole once the server was back.
    assert!(attempts.load(Ordering::SeqCst) >= 2);
    for id in &ids {
        let tenant = tenants.get(id).unwrap();
        let counts: Vec<Document> = tenant
            .model::<NewDoc>()
            .aggregate([doc! { "$group": { "_id": "$count", "n": { "$sum": 1 } } }])
            .await
            .unwrap();
        // Every tenant counted once and ran the kill step's +100 once: t010's first +100 died with
        // the server, uncommitted.
        assert_eq!(counts, [doc! { "_id": 101, "n": 50 }], "{id}");
        let ledger = tenant.model::<LedgerEntry>().count(doc! {}).await.unwrap();
        assert_eq!(ledger, 5, "{id}");
    }
}

#[tokio::test]
async fn a_failing_step_stops_at_the_threshold_and_names_exactly_the_failed_tenants() {
    let conn = connect("migrate_failing").await;
    let tenants = Tenants::new(conn.clone(), Strategy::collection_per_tenant()).unwrap();
    let ids = ids(40);
    for id in &ids {
        seed(&tenants.get(id).unwrap(), 2).await;
    }
    let broken: BTreeSet<&str> = BTreeSet::from(["t003", "t007", "t011", "t019", "t023"]);
    let failing = |broken: BTreeSet<&'static str>| {
        Migrations::new().step("sometimes", 1, move |tenant, _tx| {
            let fails = broken.contains(tenant.id());
            async move {
                if fails {
                    return Err(Error::abort(std::io::Error::other(
                        "the backfill found a bad row",
                    )));
                }
                Ok(())
            }
        })
    };
    // No threshold: every tenant runs, and exactly the broken ones are reported.
    let report = failing(broken.clone())
        .run(
            &tenants,
            ids.clone(),
            &MigrateOptions {
                concurrency: 4,
                ..MigrateOptions::default()
            },
        )
        .await;
    let failed: BTreeSet<&str> = report.failed().map(|t| t.tenant.as_str()).collect();
    assert_eq!(failed, broken);
    assert!(!report.stopped);
    for t in report.failed() {
        assert_eq!(t.error.as_ref().unwrap().0, Some("sometimes"));
    }

    // A threshold of 3, one tenant at a time: the run stops at the third failure.
    let conn = connect("migrate_failing_2").await;
    let tenants = Tenants::new(conn.clone(), Strategy::collection_per_tenant()).unwrap();
    let options = MigrateOptions {
        concurrency: 1,
        max_failures: Some(3),
        ..MigrateOptions::default()
    };
    let report = failing(broken.clone())
        .run(&tenants, ids.clone(), &options)
        .await;
    let failed: Vec<&str> = report.failed().map(|t| t.tenant.as_str()).collect();
    assert_eq!(failed, ["t003", "t007", "t011"]);
    assert!(report.stopped);
    assert_eq!(report.not_run, ids[12..].to_vec());
    assert_eq!(report.tenants.len(), 12);

    // A failing canary: nobody else is touched.
    let conn = connect("migrate_failing_3").await;
    let tenants = Tenants::new(conn.clone(), Strategy::collection_per_tenant()).unwrap();
    let options = MigrateOptions {
        canary: vec!["t003".into(), "t004".into()],
        ..MigrateOptions::default()
    };
    let report = failing(broken).run(&tenants, ids.clone(), &options).await;
    assert_eq!(report.tenants.len(), 2);
    assert_eq!(report.not_run.len(), 38);
    let ledger = tenants
        .get("t005")
        .unwrap()
        .model::<LedgerEntry>()
        .count(doc! {})
        .await
        .unwrap();
    assert_eq!(ledger, 0);
}

#[tokio::test]
async fn a_changed_step_is_reported_and_never_rerun() {
    let conn = connect("migrate_changed").await;
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    seed(&tenants.get("acme").unwrap(), 4).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let options = MigrateOptions::default();
    let report = migrations(runs.clone())
        .run(&tenants, vec!["acme".into()], &options)
        .await;
    assert!(report.is_ok());
    let changed = Migrations::new()
        .rename_field::<NewDoc>("rename-title", 2, "title", "name")
        .set_default::<NewDoc>("default-plan", 1, "plan", "free");
    let report = changed.run(&tenants, vec!["acme".into()], &options).await;
    let acme = &report.tenants[0];
    assert_eq!(acme.changed, [("rename-title", 1, 2)]);
    let message = acme.error.as_ref().unwrap().1.to_string();
    assert!(
        message.contains("version 1") && message.contains("add a new step"),
        "{message}"
    );
    assert!(acme.applied.is_empty());
    assert_migrated(&tenants.get("acme").unwrap(), 4).await;
}

#[tokio::test]
async fn the_ledger_moves_with_its_tenant_and_old_shapes_read_half_way() {
    let fleet = old_fleet("migrate_moves", &["acme".into(), "globex".into()], 5).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let options = MigrateOptions {
        tenants: Some(vec!["acme".into()]),
        ..MigrateOptions::default()
    };
    migrations(runs.clone())
        .run_fleet(&fleet, &options)
        .await
        .unwrap();
    // Half-way: acme is migrated, globex is not; the new model reads both.
    for id in ["acme", "globex"] {
        let docs = fleet
            .tenant(id)
            .await
            .unwrap()
            .model::<NewDoc>()
            .find(doc! {})
            .await
            .unwrap();
        assert_eq!(docs.len(), 5);
        assert!(
            docs.iter()
                .all(|d| d.name.starts_with(id) && d.plan == "free"),
            "{docs:?}"
        );
    }
    fleet.move_tenant("acme", "own").await.unwrap();
    let report = migrations(runs.clone())
        .run_fleet(&fleet, &MigrateOptions::default())
        .await
        .unwrap();
    let acme = report.tenants.iter().find(|t| t.tenant == "acme").unwrap();
    assert!(
        acme.applied.is_empty() && acme.already.len() == 4,
        "{acme:?}"
    );
    let globex = report
        .tenants
        .iter()
        .find(|t| t.tenant == "globex")
        .unwrap();
    assert_eq!(globex.applied.len(), 4);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    for id in ["acme", "globex"] {
        assert_migrated(&fleet.tenant(id).await.unwrap(), 5).await;
    }
}
