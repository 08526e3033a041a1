//! Tenancy against the real server: isolation under each strategy (property tests of random interleaved
//! operations across tenants), the shared collection's guards, tenant id rules, the bounded client
//! registry, the bounded tenant cache, and a fleet-wide index sync over 200 tenant databases.

#[path = "tenancy/models.rs"]
mod models;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use models::{Account, Doc, Stamped};
use odm_core::prelude::*;
use odm_core::{Connections, Strategy, Tenant, Tenants};
use odm_tests::{connect, database_names, uri};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];

/// Collection per tenant, the default way: `{id}.{collection}`, a dotted collection name.
fn by_collection() -> Strategy {
    Strategy::collection_per_tenant()
}

/// Collection per tenant with `__` between tenant and collection, a separator made of id characters.
fn by_collection_underscored() -> Strategy {
    Strategy::CollectionPerTenant {
        prefix: String::new(),
        separator: "__".into(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------------------------
// Isolation: random interleaved operations across random tenants, for each strategy.

#[derive(Debug, Clone)]
enum Op {
    Create {
        tenant: usize,
        n: i32,
    },
    FindAll {
        tenant: usize,
    },
    Count {
        tenant: usize,
    },
    UpdateAll {
        tenant: usize,
        n: i32,
    },
    /// Through `tenant`, update the `pick`-th live document of any tenant, by `_id`.
    UpdateById {
        tenant: usize,
        pick: usize,
        n: i32,
    },
    DeleteById {
        tenant: usize,
        pick: usize,
    },
    FindById {
        tenant: usize,
        pick: usize,
    },
    /// Through `tenant`, delete every document whose `n` is below `n`.
    DeleteBelow {
        tenant: usize,
        n: i32,
    },
    /// Through `tenant`, `find_one_and_update` the `pick`-th live document of any tenant, by `_id`.
    FindAndUpdateById {
        tenant: usize,
        pick: usize,
        n: i32,
    },
    FindAndDeleteById {
        tenant: usize,
        pick: usize,
    },
    /// Through `tenant`, one `bulk_write`: set `n` on the `pick`-th live document of any tenant by `_id`,
    /// then delete every document whose `n` is below `n`.
    Bulk {
        tenant: usize,
        pick: usize,
        n: i32,
    },
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    let t = 0..TENANTS.len();
    prop_oneof![
        3 => (t.clone(), 0..100i32).prop_map(|(tenant, n)| Op::Create { tenant, n }),
        1 => (t.clone()).prop_map(|tenant| Op::FindAll { tenant }),
        1 => (t.clone()).prop_map(|tenant| Op::Count { tenant }),
        1 => (t.clone(), 0..100i32).prop_map(|(tenant, n)| Op::UpdateAll { tenant, n }),
        2 => (t.clone(), any::<usize>(), 0..100i32)
            .prop_map(|(tenant, pick, n)| Op::UpdateById { tenant, pick, n }),
        2 => (t.clone(), any::<usize>()).prop_map(|(tenant, pick)| Op::DeleteById { tenant, pick }),
        2 => (t.clone(), any::<usize>()).prop_map(|(tenant, pick)| Op::FindById { tenant, pick }),
        1 => (t.clone(), 0..100i32).prop_map(|(tenant, n)| Op::DeleteBelow { tenant, n }),
        2 => (t.clone(), any::<usize>(), 0..100i32)
            .prop_map(|(tenant, pick, n)| Op::FindAndUpdateById { tenant, pick, n }),
        1 => (t.clone(), any::<usize>())
            .prop_map(|(tenant, pick)| Op::FindAndDeleteById { tenant, pick }),
        1 => (t, any::<usize>(), 0..100i32).prop_map(|(tenant, pick, n)| Op::Bulk { tenant, pick, n }),
    ]
}

/// What the server must hold: every live document, with the tenant that wrote it.
#[derive(Default)]
struct Expected {
    docs: Vec<(ObjectId, usize, i32)>,
}

impl Expected {
    fn of(&self, tenant: usize) -> Vec<(ObjectId, String, i32)> {
        let mut docs: Vec<_> = self
            .docs
            .iter()
            .filter(|d| d.1 == tenant)
            .map(|d| (d.0, TENANTS[d.1].to_owned(), d.2))
            .collect();
        docs.sort();
        docs
    }

    fn pick(&self, pick: usize) -> Option<(ObjectId, usize)> {
        (!self.docs.is_empty()).then(|| {
            let d = self.docs[pick % self.docs.len()];
            (d.0, d.1)
        })
    }
}

async fn seen(tenant: &Tenant) -> Vec<(ObjectId, String, i32)> {
    let mut docs: Vec<_> = tenant
        .model::<Doc>()
        .find(doc! {})
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.id.unwrap(), d.owner, d.n))
        .collect();
    docs.sort();
    docs
}

/// Drops a test collection.
async fn drop_collection(handle: &odm_core::ModelHandle<Doc>) {
    if let Err(e) = handle.unconfined_collection().drop().await {
        panic!("dropping {} failed: {e}", handle.collection_name());
    }
}

async fn run_ops(tenants: &Tenants, ops: &[Op]) -> Result<(), TestCaseError> {
    let handles: Vec<Tenant> = TENANTS.iter().map(|t| tenants.get(t).unwrap()).collect();
    for t in &handles {
        drop_collection(&t.model::<Doc>()).await;
    }
    let mut expected = Expected::default();
    for op in ops {
        match *op {
            Op::Create { tenant, n } => {
                let doc = handles[tenant]
                    .model::<Doc>()
                    .create(Doc {
                        id: None,
                        owner: TENANTS[tenant].into(),
                        n,
                    })
                    .await
                    .unwrap();
                expected.docs.push((doc.id.unwrap(), tenant, n));
            }
            Op::FindAll { tenant } => {
                prop_assert_eq!(seen(&handles[tenant]).await, expected.of(tenant));
            }
            Op::Count { tenant } => {
                let count = handles[tenant].model::<Doc>().count(doc! {}).await.unwrap();
                prop_assert_eq!(count as usize, expected.of(tenant).len());
            }
            Op::UpdateAll { tenant, n } => {
                let result = handles[tenant]
                    .model::<Doc>()
                    .update_many(doc! {}, doc! { "$set": { "n": n } })
                    .await
                    .unwrap();
                prop_assert_eq!(result.matched_count as usize, expected.of(tenant).len());
                for d in expected.docs.iter_mut().filter(|d| d.1 == tenant) {
                    d.2 = n;
                }
            }
            Op::UpdateById { tenant, pick, n } => {
                let Some((id, owner)) = expected.pick(pick) else {
                    continue;
                };
                let result = handles[tenant]
                    .model::<Doc>()
                    .update_one(doc! { "_id": id }, doc! { "$set": { "n": n } })
                    .await
                    .unwrap();
                prop_assert_eq!(result.matched_count, u64::from(owner == tenant));
                if owner == tenant {
                    expected.docs.iter_mut().find(|d| d.0 == id).unwrap().2 = n;
                }
            }
            Op::DeleteById { tenant, pick } => {
                let Some((id, owner)) = expected.pick(pick) else {
                    continue;
                };
                let result = handles[tenant]
                    .model::<Doc>()
                    .delete_one(doc! { "_id": id })
                    .await
                    .unwrap();
                prop_assert_eq!(result.deleted_count, u64::from(owner == tenant));
                if owner == tenant {
                    expected.docs.retain(|d| d.0 != id);
                }
            }
            Op::FindById { tenant, pick } => {
                let Some((id, owner)) = expected.pick(pick) else {
                    continue;
                };
                let found = handles[tenant].model::<Doc>().find_by_id(id).await.unwrap();
                prop_assert_eq!(found.is_some(), owner == tenant);
                if let Some(doc) = found {
                    prop_assert_eq!(doc.owner, TENANTS[tenant]);
                }
            }
            Op::DeleteBelow { tenant, n } => {
                let result = handles[tenant]
                    .model::<Doc>()
                    .delete_many(doc! { "n": { "$lt": n } })
                    .await
                    .unwrap();
                let before = expected.docs.len();
                expected.docs.retain(|d| !(d.1 == tenant && d.2 < n));
                prop_assert_eq!(result.deleted_count as usize, before - expected.docs.len());
            }
            Op::FindAndUpdateById { tenant, pick, n } => {
                let Some((id, owner)) = expected.pick(pick) else {
                    continue;
                };
                let found = handles[tenant]
                    .model::<Doc>()
                    .find_one_and_update(doc! { "_id": id }, doc! { "$set": { "n": n } })
                    .return_after()
                    .await
                    .unwrap();
                prop_assert_eq!(found.is_some(), owner == tenant);
                if let Some(doc) = found {
                    prop_assert_eq!((doc.owner.as_str(), doc.n), (TENANTS[tenant], n));
                    expected.docs.iter_mut().find(|d| d.0 == id).unwrap().2 = n;
                }
            }
            Op::FindAndDeleteById { tenant, pick } => {
                let Some((id, owner)) = expected.pick(pick) else {
                    continue;
                };
                let found = handles[tenant]
                    .model::<Doc>()
                    .find_one_and_delete(doc! { "_id": id })
                    .await
                    .unwrap();
                prop_assert_eq!(found.is_some(), owner == tenant);
                if found.is_some() {
                    expected.docs.retain(|d| d.0 != id);
                }
            }
            Op::Bulk { tenant, pick, n } => {
                let picked = expected.pick(pick);
                let by_id = match picked {
                    Some((id, _)) => doc! { "_id": id },
                    None => doc! { "_id": 0 },
                };
                let result = handles[tenant]
                    .model::<Doc>()
                    .bulk_write(vec![
                        odm_core::Write::update_one(by_id, doc! { "$set": { "n": n } }),
                        odm_core::Write::delete_many(doc! { "n": { "$lt": n } }),
                    ])
                    .await
                    .unwrap();
                let mine = matches!(picked, Some((_, owner)) if owner == tenant);
                prop_assert_eq!(result.matched_count, u64::from(mine));
                if let (true, Some((id, _))) = (mine, picked) {
                    expected.docs.iter_mut().find(|d| d.0 == id).unwrap().2 = n;
                }
                let before = expected.docs.len();
                expected.docs.retain(|d| !(d.1 == tenant && d.2 < n));
                prop_assert_eq!(result.deleted_count as usize, before - expected.docs.len());
            }
        }
    }
    // No write through one tenant changed another's documents: every tenant sees exactly its own.
    for (i, t) in handles.iter().enumerate() {
        prop_assert_eq!(seen(t).await, expected.of(i));
    }
    Ok(())
}

fn check_isolation(db: &str, strategy: Strategy) {
    let rt = runtime();
    let tenants = rt.block_on(async { Tenants::new(connect(db).await, strategy).unwrap() });
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..30), |ops| {
            rt.block_on(run_ops(&tenants, &ops))
        })
        .unwrap();
}

#[test]
fn database_per_tenant_isolates_tenants() {
    check_isolation(
        "tenancy_iso_db",
        Strategy::database_per_tenant("tenancy_iso_db_"),
    );
}

#[test]
fn collection_per_tenant_isolates_tenants() {
    check_isolation("tenancy_iso_coll", by_collection());
}

#[test]
fn collection_per_tenant_with_another_separator_isolates_tenants() {
    check_isolation("tenancy_iso_coll_sep", by_collection_underscored());
}

#[test]
fn shared_collection_isolates_tenants() {
    check_isolation("tenancy_iso_shared", Strategy::shared_collection());
}

// ---------------------------------------------------------------------------------------------------------
// The shared collection's guards.

async fn shared_pair(db: &str) -> (Connection, Tenant, Tenant) {
    let conn = connect(db).await;
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let acme = tenants.get("acme").unwrap();
    let globex = tenants.get("globex").unwrap();
    for (t, owner) in [(&acme, "acme"), (&globex, "globex")] {
        for n in 0..3 {
            t.model::<Doc>()
                .create(Doc {
                    id: None,
                    owner: owner.into(),
                    n,
                })
                .await
                .unwrap();
        }
    }
    (conn, acme, globex)
}

/// Every stored document of the shared `docs` collection, as the server has it.
async fn raw_docs(conn: &Connection) -> Vec<Document> {
    use futures_util::TryStreamExt;
    let mut docs: Vec<Document> = conn
        .database()
        .collection::<Document>("docs")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    docs.sort_by_key(|d| d.get_object_id("_id").unwrap());
    docs
}

#[tokio::test]
async fn shared_collection_stamps_the_tenant_field() {
    let (conn, _, _) = shared_pair("tenancy_shared_stamp").await;
    for d in raw_docs(&conn).await {
        assert_eq!(d.get_str("tenant_id").unwrap(), d.get_str("owner").unwrap());
    }
}

#[tokio::test]
async fn shared_collection_refuses_updates_of_the_tenant_field() {
    let (conn, acme, _) = shared_pair("tenancy_shared_update").await;
    let before = raw_docs(&conn).await;
    let docs = acme.model::<Doc>();
    let attempts = [
        doc! { "$set": { "tenant_id": "globex" } },
        doc! { "$set": { "n": 9, "tenant_id": "globex" } },
        doc! { "$unset": { "tenant_id": "" } },
        doc! { "$rename": { "tenant_id": "was" } },
        doc! { "$rename": { "owner": "tenant_id" } },
    ];
    for update in attempts {
        let err = docs.update_many(doc! {}, update.clone()).await.unwrap_err();
        assert!(matches!(err, Error::TenantViolation(_)), "{update}: {err}");
        assert!(
            err.to_string().contains("tenant field `tenant_id`"),
            "{err}"
        );
        let err = docs
            .update_one(doc! {}, update.clone())
            .upsert(true)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::TenantViolation(_)), "{update}: {err}");
    }
    let pipeline = vec![doc! { "$set": { "tenant_id": "globex" } }];
    let err = docs.update_many(doc! {}, pipeline).await.unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");
    let pipeline = vec![doc! { "$unset": "tenant_id" }];
    let err = docs.update_many(doc! {}, pipeline).await.unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");
    assert_eq!(
        raw_docs(&conn).await,
        before,
        "a refused update changed nothing"
    );
}

#[tokio::test]
async fn shared_collection_upserts_stamp_the_tenant() {
    let (conn, acme, globex) = shared_pair("tenancy_shared_upsert").await;
    let docs = acme.model::<Doc>();
    let result = docs
        .update_one(
            doc! { "owner": "acme", "n": 100 },
            doc! { "$set": { "n": 100 } },
        )
        .upsert(true)
        .await
        .unwrap();
    let id = result.upserted_id.expect("upserted");
    let stored = raw_docs(&conn)
        .await
        .into_iter()
        .find(|d| d.get("_id") == Some(&id))
        .unwrap();
    assert_eq!(stored.get_str("tenant_id").unwrap(), "acme");
    assert!(docs.find_by_id(id.clone()).await.unwrap().is_some());
    assert!(globex
        .model::<Doc>()
        .find_by_id(id)
        .await
        .unwrap()
        .is_none());

    // A pipeline update (which the handle ends with a stage that sets the tenant field again) changes
    // only the tenant's documents, and an upsert through one is stamped too.
    let before_globex = seen(&globex).await;
    let result = docs
        .update_many(
            doc! {},
            vec![doc! { "$set": { "n": { "$add": ["$n", 1000] } } }],
        )
        .await
        .unwrap();
    assert_eq!(result.matched_count, 4);
    assert_eq!(seen(&globex).await, before_globex);
    let ns: BTreeSet<i32> = seen(&acme).await.into_iter().map(|d| d.2).collect();
    assert_eq!(ns, BTreeSet::from([1000, 1001, 1002, 1100]));
    let result = docs
        .update_one(
            doc! { "owner": "acme", "n": 7 },
            vec![doc! { "$set": { "n": 7 } }],
        )
        .upsert(true)
        .await
        .unwrap();
    let id = result.upserted_id.expect("upserted");
    let stored = raw_docs(&conn)
        .await
        .into_iter()
        .find(|d| d.get("_id") == Some(&id))
        .unwrap();
    assert_eq!(stored.get_str("tenant_id").unwrap(), "acme");
    assert_eq!(raw_docs(&conn).await.len(), 8);
}

#[tokio::test]
async fn shared_collection_refuses_values_of_another_tenant() {
    let conn = connect("tenancy_shared_replace").await;
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let acme = tenants.get("acme").unwrap().model::<Stamped>();
    let globex = tenants.get("globex").unwrap().model::<Stamped>();

    // `None` is stamped like a missing field; the tenant's own id is accepted.
    let mine = acme
        .create(Stamped {
            id: None,
            tenant_id: None,
            name: "a".into(),
        })
        .await
        .unwrap();
    let stored = acme.find_by_id(mine.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.tenant_id.as_deref(), Some("acme"));
    let theirs = globex
        .create(Stamped {
            id: None,
            tenant_id: Some("globex".into()),
            name: "g".into(),
        })
        .await
        .unwrap();

    let intruder = Stamped {
        id: mine.id,
        tenant_id: Some("globex".into()),
        name: "moved".into(),
    };
    let err = acme.create(intruder.clone()).await.unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");
    let err = acme
        .replace_one(doc! { "_id": mine.id.unwrap() }, intruder.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");
    let err = acme
        .replace_one(doc! { "_id": mine.id.unwrap() }, intruder)
        .upsert(true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");

    // Replacing another tenant's document by its _id matches nothing.
    let result = acme
        .replace_one(
            doc! { "_id": theirs.id.unwrap() },
            Stamped {
                id: theirs.id,
                tenant_id: None,
                name: "taken".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(result.matched_count, 0);

    let raw = conn.database().collection::<Document>("stamped");
    assert_eq!(raw.count_documents(doc! {}).await.unwrap(), 2);
    let g = raw
        .find_one(doc! { "_id": theirs.id.unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.get_str("name").unwrap(), "g");
    assert_eq!(g.get_str("tenant_id").unwrap(), "globex");
    let a = raw
        .find_one(doc! { "_id": mine.id.unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.get_str("name").unwrap(), "a");
}

#[tokio::test]
async fn shared_collection_scopes_aggregate_and_distinct() {
    let (_conn, acme, _) = shared_pair("tenancy_shared_aggregate").await;
    let docs = acme.model::<Doc>();
    let groups = docs
        .aggregate([doc! { "$group": { "_id": "$owner", "c": { "$sum": 1 } } }])
        .await
        .unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].get_str("_id").unwrap(), "acme");
    assert_eq!(groups[0].get_i32("c").unwrap(), 3);

    // A raw `$or` in a filter cannot widen the match past the tenant.
    let found = docs
        .find(doc! { "$or": [ { "owner": "globex" }, { "tenant_id": "globex" } ] })
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
    let owners = docs.distinct("owner", doc! {}).await.unwrap();
    assert_eq!(owners, vec![Bson::String("acme".into())]);

    let err = docs
        .aggregate([doc! { "$lookup": { "from": "docs", "localField": "n", "foreignField": "n", "as": "all" } }])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");
    let err = docs
        .aggregate([doc! { "$unionWith": "docs" }])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");
}

#[tokio::test]
async fn collection_per_tenant_lookups_stay_in_the_tenant() {
    let conn = connect("tenancy_coll_lookup").await;
    let tenants = Tenants::new(conn.clone(), by_collection()).unwrap();
    for owner in ["acme", "globex"] {
        let t = tenants.get(owner).unwrap();
        t.model::<Doc>()
            .create(Doc {
                id: None,
                owner: owner.into(),
                n: 1,
            })
            .await
            .unwrap();
        assert_eq!(t.model::<Doc>().collection_name(), format!("{owner}.docs"));
    }
    let acme = tenants.get("acme").unwrap().model::<Doc>();
    // `docs` in a stage names the tenant's own collection.
    let joined = acme
        .aggregate([
            doc! { "$lookup": { "from": "docs", "localField": "n", "foreignField": "n", "as": "same" } },
            doc! { "$unionWith": { "coll": "docs" } },
        ])
        .await
        .unwrap();
    assert_eq!(joined.len(), 2);
    // The short form names a collection too.
    let unioned = acme
        .aggregate([doc! { "$unionWith": "docs" }])
        .await
        .unwrap();
    assert_eq!(unioned.len(), 2);
    assert!(unioned
        .iter()
        .all(|d| d.get_str("owner").unwrap() == "acme"));
    for d in &joined {
        assert_eq!(d.get_str("owner").unwrap(), "acme");
        if let Ok(same) = d.get_array("same") {
            assert_eq!(same.len(), 1);
        }
    }
    let err = acme
        .aggregate([doc! { "$out": { "db": "elsewhere", "coll": "docs" } }])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");

    let dbs = Tenants::new(conn, Strategy::database_per_tenant("tenancy_coll_lookup_")).unwrap();
    let err = dbs
        .get("acme")
        .unwrap()
        .model::<Doc>()
        .aggregate([
            doc! { "$merge": { "into": { "db": "tenancy_coll_lookup_globex", "coll": "docs" } } },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TenantViolation(_)), "{err}");
}

// ---------------------------------------------------------------------------------------------------------
// Tenant ids.

fn invalid_rule(result: odm_core::Result<impl std::fmt::Debug>, id: &str) -> String {
    match result {
        Err(Error::InvalidTenant { id: got, rule }) => {
            assert_eq!(got, id);
            rule
        }
        other => panic!("{id:?}: expected InvalidTenant, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_tenant_ids_are_refused_and_create_nothing() {
    let conn = connect("tenancy_bad_ids").await;
    let prefix = "tenancy_bad_";
    let by_db = Tenants::new(conn.clone(), Strategy::database_per_tenant(prefix)).unwrap();
    let by_coll = Tenants::new(conn.clone(), Strategy::collection_per_tenant()).unwrap();
    let by_coll_sep = Tenants::new(conn.clone(), by_collection_underscored()).unwrap();
    let shared = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let resolved = Arc::new(AtomicUsize::new(0));
    let counter = resolved.clone();
    let base = uri();
    let registry = Connections::builder(Strategy::database_per_tenant(prefix))
        .resolver(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(base.clone())
        })
        .build()
        .unwrap();
    // Something in the test database, so its collections can be listed before and after.
    conn.model::<Doc>()
        .create(Doc {
            id: None,
            owner: "none".into(),
            n: 0,
        })
        .await
        .unwrap();
    // Other tests of this file create databases meanwhile: compare the ones this test could create.
    let ours = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .collect()
    };
    let dbs_before = ours(database_names(&conn).await);
    let colls_before = conn.database().list_collection_names().await.unwrap();

    let max_db = 63 - prefix.len();
    assert_eq!(by_db.max_id_len(), max_db);
    let too_long = "x".repeat(max_db + 1);
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("a.b", "'.'"),
        ("a b", "' '"),
        ("a/b", "'/'"),
        ("a$b", "'$'"),
        ("a\0b", "'\\0'"),
        ("ünï", "ASCII letters"),
        ("admin", "reserve"),
        ("local", "reserve"),
        ("config", "reserve"),
        // MongoDB refuses a database whose name differs from another only in case (code 13297), so ids
        // are lower case under every strategy, and a capital is refused with the id to use instead.
        ("Local", "\"local\""),
        ("CONFIG", "lower case"),
        ("Acme", "\"acme\""),
        (&too_long, ""),
    ];
    for (id, fragment) in cases {
        let rule = invalid_rule(by_db.get(id), id);
        assert!(rule.contains(fragment), "{id:?}: {rule}");
        if *id != too_long {
            let rule = invalid_rule(by_coll.get(id), id);
            assert!(rule.contains(fragment), "{id:?}: {rule}");
            let rule = invalid_rule(shared.get(id), id);
            assert!(rule.contains(fragment), "{id:?}: {rule}");
            invalid_rule(registry.tenant(id).await, id);
        }
    }
    // With a separator made of id characters, an id holding it (or ending with its start) is refused.
    for id in ["a__b", "a_", "__"] {
        let rule = invalid_rule(by_coll_sep.get(id), id);
        assert!(rule.contains("separator \"__\""), "{id:?}: {rule}");
    }
    assert!(by_coll_sep.get("a_b").is_ok());
    assert!(by_coll.get("a_").is_ok());
    let rule = invalid_rule(by_db.get(&too_long), &too_long);
    assert!(
        rule.contains(&format!("at most {max_db} are allowed")),
        "{rule}"
    );

    // The message names the rule and the fix.
    let message = by_db.get(&too_long).unwrap_err().to_string();
    assert!(
        message.contains("63 bytes") && message.contains("shorter id"),
        "{message}"
    );
    let message = by_db.get("a.b").unwrap_err().to_string();
    assert!(message.contains("may only hold"), "{message}");
    let rule = invalid_rule(by_coll.get(&"x".repeat(65)), &"x".repeat(65));
    assert!(rule.contains("at most 64"), "{rule}");

    let report = by_db
        .for_each_in(
            ["a.b", "admin"],
            2,
            |t| async move { Ok(t.id().to_owned()) },
        )
        .await;
    assert_eq!(report.failed.len(), 2);
    assert!(report.succeeded.is_empty());

    assert_eq!(
        resolved.load(Ordering::SeqCst),
        0,
        "a bad id never reaches the resolver"
    );
    assert_eq!(ours(database_names(&conn).await), dbs_before);
    assert_eq!(
        conn.database().list_collection_names().await.unwrap(),
        colls_before
    );

    // The longest id the prefix allows makes a database name of exactly 63 bytes, which the server takes.
    let longest = "y".repeat(max_db);
    let t = by_db.get(&longest).unwrap();
    assert_eq!(t.connection().name().len(), 63);
    t.model::<Doc>()
        .create(Doc {
            id: None,
            owner: longest.clone(),
            n: 1,
        })
        .await
        .unwrap();
    assert!(database_names(&conn)
        .await
        .contains(&format!("{prefix}{longest}")));
    t.connection().database().drop().await.unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// The tenant cache.

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[tokio::test]
async fn tenant_cache_stays_at_its_bound() {
    let conn = Connection::options(&uri())
        .verify(false)
        .connect()
        .await
        .unwrap();
    let tenants =
        Tenants::with_cache(conn, Strategy::database_per_tenant("tenancy_lru_"), 10_000).unwrap();
    assert_eq!(tenants.cache_capacity(), 10_000);

    let touch = |range: std::ops::Range<u32>| {
        for i in range {
            let t = tenants.get(&format!("t{i}")).unwrap();
            assert_eq!(t.id().len(), format!("t{i}").len());
        }
    };
    touch(0..200_000);
    assert_eq!(tenants.cached(), 10_000);
    let rss = rss_bytes();
    let start = Instant::now();
    touch(200_000..1_000_000);
    let miss = start.elapsed() / 800_000;
    assert_eq!(tenants.cached(), 10_000);
    if let (Some(before), Some(after)) = (rss, rss_bytes()) {
        // 800,000 more tenants kept as handles would take well over 100 MB.
        let grown = after.saturating_sub(before);
        assert!(grown < 48 << 20, "memory grew by {grown} bytes");
        eprintln!(
            "tenant cache: memory grew by {} KiB over 800,000 new tenants",
            grown / 1024
        );
    }

    // The most recently used stay cached: a hit returns the same handle.
    let hot = tenants.get("t999999").unwrap();
    let start = Instant::now();
    for _ in 0..100_000 {
        let t = tenants.get("t999999").unwrap();
        assert!(t.connection().same_client(hot.connection()));
    }
    let hit = start.elapsed() / 100_000;
    eprintln!("tenant cache: {hit:?} per hit, {miss:?} per miss (build and evict)");
}

// ---------------------------------------------------------------------------------------------------------
// The client registry.

/// The server's URI with database `db` and an `appName` that makes each `cluster` a distinct URI, so the
/// registry opens a client per cluster against the one test server.
fn cluster_uri(db: &str, cluster: usize) -> String {
    let base = uri();
    let (hosts, query) = base.split_once('?').unwrap_or((&base, ""));
    let scheme_end = hosts.find("://").map_or(0, |i| i + 3);
    let hosts = match hosts[scheme_end..].find('/') {
        Some(i) => &hosts[..scheme_end + i],
        None => hosts,
    };
    let sep = if query.is_empty() { "" } else { "&" };
    format!("{hosts}/{db}?{query}{sep}appName=cluster{cluster}")
}

fn registry(db: &'static str, max_clients: usize) -> Connections {
    Connections::builder(Strategy::shared_collection())
        .resolver(move |tenant: &str| {
            // Tenants `c<k>-<name>` live on cluster k.
            let cluster = tenant[1..tenant.find('-').unwrap()].parse().unwrap();
            Ok(cluster_uri(db, cluster))
        })
        .max_clients(max_clients)
        .max_pool_size(2)
        .idle_wait(Duration::from_millis(300))
        .build()
        .unwrap()
}

async fn write_and_read(registry: &Connections, tenant: &str) {
    let t = registry.tenant(tenant).await.unwrap();
    let docs = t.model::<Doc>();
    let doc = docs
        .create(Doc {
            id: None,
            owner: tenant.into(),
            n: 1,
        })
        .await
        .unwrap();
    assert_eq!(
        docs.find_by_id(doc.id.unwrap())
            .await
            .unwrap()
            .unwrap()
            .owner,
        tenant
    );
}

#[tokio::test]
async fn registry_evicts_the_least_recently_used_idle_client() {
    connect("tenancy_registry").await;
    let registry = registry("tenancy_registry", 2);
    write_and_read(&registry, "c0-acme").await;
    write_and_read(&registry, "c1-globex").await;
    assert_eq!(registry.stats().clients, 2);
    // Cluster 0 is used again, so cluster 1 is the least recently used.
    write_and_read(&registry, "c0-acme").await;
    write_and_read(&registry, "c2-initech").await;
    let stats = registry.stats();
    assert_eq!((stats.clients, stats.opened, stats.evictions), (2, 3, 1));
    assert_eq!(
        registry.open_uris(),
        vec![
            cluster_uri("tenancy_registry", 2),
            cluster_uri("tenancy_registry", 0)
        ]
    );
    // The evicted cluster's tenant works again on its next use, on a new client.
    write_and_read(&registry, "c1-globex").await;
    let stats = registry.stats();
    assert_eq!((stats.clients, stats.opened, stats.evictions), (2, 4, 2));
    let globex = registry.tenant("c1-globex").await.unwrap();
    assert_eq!(globex.model::<Doc>().count(doc! {}).await.unwrap(), 2);
    drop(globex);

    // Pools of closed clients are closed: at most one pool per open client (one server).
    let deadline = Instant::now() + Duration::from_secs(5);
    while registry.stats().pools > 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = registry.stats();
    assert!(stats.pools <= 2, "{stats:?}");
    assert!(stats.sockets <= 2 * 2, "{stats:?}");
    registry.close().await;
    assert_eq!(registry.stats().clients, 0);
}

#[tokio::test]
async fn registry_never_closes_a_client_in_use() {
    connect("tenancy_registry_busy").await;
    let registry = registry("tenancy_registry_busy", 1);
    let held = registry.tenant("c0-acme").await.unwrap().model::<Doc>();
    let err = registry.tenant("c1-globex").await.unwrap_err();
    assert!(
        matches!(err, Error::RegistryFull { max_clients: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("raise `max_clients`"), "{err}");
    // The held handle still works.
    assert_eq!(held.count(doc! {}).await.unwrap(), 0);
    drop(held);
    write_and_read(&registry, "c1-globex").await;
    assert_eq!(registry.stats().evictions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_stays_within_max_clients_under_load() {
    connect("tenancy_registry_load").await;
    let registry = registry("tenancy_registry_load", 3);
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..48 {
        let registry = registry.clone();
        let peak = peak.clone();
        tasks.push(tokio::spawn(async move {
            let tenant = format!("c{}-t{}", i % 7, i % 5);
            write_and_read(&registry, &tenant).await;
            peak.fetch_max(registry.stats().clients, Ordering::SeqCst);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stats = registry.stats();
    assert!(peak.load(Ordering::SeqCst) <= 3, "{stats:?}");
    assert!(stats.clients <= 3);
    assert_eq!(
        stats.opened - stats.evictions,
        stats.clients as u64,
        "{stats:?}"
    );
    // Every tenant's documents are all there, whichever client wrote them.
    let mut total = 0;
    for c in 0..7 {
        for t in 0..5 {
            let tenant = format!("c{c}-t{t}");
            let docs = registry.tenant(&tenant).await.unwrap().model::<Doc>();
            let found = docs.find(doc! {}).await.unwrap();
            assert!(found.iter().all(|d| d.owner == tenant));
            total += found.len();
        }
    }
    assert_eq!(total, 48);
}

// ---------------------------------------------------------------------------------------------------------
// Fleet-wide index sync.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_index_sync_over_200_tenant_databases() {
    let conn = connect("tenancy_fleet").await;
    let prefix = "tenancy_fleet_";
    for name in database_names(&conn).await {
        if name.starts_with(prefix) {
            conn.use_db(&name).unwrap().database().drop().await.unwrap();
        }
    }
    let tenants = Tenants::new(conn.clone(), Strategy::database_per_tenant(prefix)).unwrap();
    let ids: Vec<String> = (0..200).map(|i| format!("t{i:03}")).collect();
    // One account per tenant; `t007` holds a duplicate e-mail, so its unique index cannot be built.
    let seeded = tenants
        .for_each_in(&ids, 16, |t| async move {
            let accounts = t.model::<Account>();
            let copies = if t.id() == "t007" { 2 } else { 1 };
            for _ in 0..copies {
                accounts
                    .create(Account {
                        id: None,
                        email: format!("admin@{}.io", t.id()),
                    })
                    .await?;
            }
            Ok(())
        })
        .await;
    assert!(seeded.is_ok(), "{:?}", seeded.failed);
    // A database that does not carry the prefix is not a tenant.
    conn.use_db("tenancy_fleetx")
        .unwrap()
        .model::<Account>()
        .create(Account {
            id: None,
            email: "x".into(),
        })
        .await
        .unwrap();

    assert_eq!(tenants.discover().await.unwrap(), ids);

    // Dry run: every tenant lacks the declared index; nothing changes.
    let diff = tenants
        .for_each(
            8,
            |t| async move { t.model::<Account>().diff_indexes().await },
        )
        .await
        .unwrap();
    assert!(diff.is_ok());
    assert_eq!(diff.succeeded.len(), 200);
    for (_, d) in &diff.succeeded {
        let names: Vec<_> = d.to_create.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["email_1"]);
    }

    let synced = tenants
        .for_each(
            8,
            |t| async move { t.model::<Account>().sync_indexes().await },
        )
        .await
        .unwrap();
    assert_eq!(synced.len(), 200);
    assert_eq!(synced.succeeded.len(), 199);
    for (id, s) in &synced.succeeded {
        assert_eq!(s.created, ["email_1"], "{id}");
        assert!(s.dropped.is_empty(), "{id}");
    }
    assert_eq!(synced.failed.len(), 1);
    assert_eq!(synced.failed[0].0, "t007");
    // MongoDB answers the failed `createIndexes` with code 11000 (`DuplicateKey`).
    let err = &synced.failed[0].1;
    assert!(matches!(err, Error::DuplicateKey { .. }), "{err}");

    // Each synced tenant's database has the index; a second run has nothing to do.
    let t150 = tenants.get("t150").unwrap().model::<Account>();
    assert!(t150.diff_indexes().await.unwrap().is_empty());
    let again = tenants
        .for_each(
            8,
            |t| async move { t.model::<Account>().sync_indexes().await },
        )
        .await
        .unwrap();
    assert_eq!(again.succeeded.len(), 199);
    assert!(again.succeeded.iter().all(|(_, s)| s.is_noop()));
    assert_eq!(
        again
            .failed
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["t007"])
    );
}

#[tokio::test]
async fn discovery_finds_tenants_under_every_strategy() {
    let conn = connect("tenancy_discover").await;
    let by_coll = Tenants::new(conn.clone(), by_collection()).unwrap();
    let shared = Tenants::new(conn.clone(), Strategy::shared_collection_field("org")).unwrap();
    for id in ["acme", "globex"] {
        for tenants in [&by_coll, &shared] {
            tenants
                .get(id)
                .unwrap()
                .model::<Doc>()
                .create(Doc {
                    id: None,
                    owner: id.into(),
                    n: 1,
                })
                .await
                .unwrap();
        }
    }
    // Neither a tenant collection nor a tenant field value.
    conn.database()
        .collection::<Document>("settings")
        .insert_one(doc! { "org": "bad.id" })
        .await
        .unwrap();

    assert_eq!(by_coll.discover().await.unwrap(), ["acme", "globex"]);
    assert_eq!(shared.discover().await.unwrap(), ["acme", "globex"]);
    let counts = shared
        .for_each(2, |t| async move { t.model::<Doc>().count(doc! {}).await })
        .await
        .unwrap();
    assert!(counts.is_ok());
    assert_eq!(
        counts.succeeded,
        vec![("acme".to_owned(), 1), ("globex".to_owned(), 1)]
    );
}
