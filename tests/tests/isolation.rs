//! Isolation by construction: random sequences of every public operation of a tenant handle, through all
//! three strategies and several tenants. After each step every tenant's documents, read with the raw
//! driver, are compared with a model of what that tenant should hold, so nothing of one tenant is read,
//! changed, deleted or revealed through another.
//!
//! The table of operations is checked against the library's source: a public method of `ModelHandle`
//! with no row here fails `every_operation_of_a_handle_is_in_the_table`.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use odm_core::prelude::*;
use odm_core::{Error, Projection, Ref, Strategy, Tenant, Tenants, Write};
use odm_tests::connect;
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "items")]
struct Item {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    owner: String,
    #[field(unique)]
    code: String,
    #[field(range(min = 0, max = 1000))]
    n: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<Ref<Label>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "labels")]
struct Label {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    owner: String,
}

/// A soft-delete model, for `restore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[model(collection = "memos", soft_delete)]
struct Memo {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    owner: String,
    deleted_at: Option<DateTime>,
}

/// The operations of the table: one or more rows per public method of `ModelHandle`, and the builder
/// forms (`required`, `project`, `stream`, `populate`) beside them.
#[derive(Debug, Clone)]
enum Op {
    Pages {
        t: usize,
    },
    FindAndCount {
        t: usize,
    },
    Create {
        t: usize,
        code: u8,
        n: i32,
    },
    InsertMany {
        t: usize,
        k: usize,
        n: i32,
    },
    SaveNew {
        t: usize,
        n: i32,
    },
    SaveExisting {
        t: usize,
        pick: usize,
        n: i32,
    },
    Find {
        t: usize,
    },
    FindOne {
        t: usize,
        pick: usize,
    },
    FindById {
        t: usize,
        pick: usize,
    },
    Required {
        t: usize,
        pick: usize,
    },
    Project {
        t: usize,
    },
    Stream {
        t: usize,
    },
    Count {
        t: usize,
    },
    Exists {
        t: usize,
        pick: usize,
    },
    Distinct {
        t: usize,
    },
    Aggregate {
        t: usize,
    },
    UpdateOne {
        t: usize,
        pick: usize,
        n: i32,
    },
    UpdateMany {
        t: usize,
        n: i32,
    },
    Upsert {
        t: usize,
        n: i32,
    },
    ReplaceOne {
        t: usize,
        pick: usize,
        n: i32,
    },
    DeleteOne {
        t: usize,
        pick: usize,
    },
    DeleteMany {
        t: usize,
        below: i32,
    },
    FindOneAndUpdate {
        t: usize,
        pick: usize,
        n: i32,
    },
    FindOneAndReplace {
        t: usize,
        pick: usize,
        n: i32,
    },
    FindOneAndDelete {
        t: usize,
        pick: usize,
    },
    BulkWrite {
        t: usize,
        pick: usize,
        other: usize,
        n: i32,
    },
    CreateLabel {
        t: usize,
    },
    Link {
        t: usize,
        pick: usize,
        label: usize,
    },
    Populate {
        t: usize,
    },
    SyncIndexes {
        t: usize,
    },
    SyncSchema {
        t: usize,
    },
    ShardCollection {
        t: usize,
    },
    Collection {
        t: usize,
    },
    Watch {
        t: usize,
    },
    Restore {
        t: usize,
        other: usize,
    },
}

/// The methods of `ModelHandle` and the rows that drive them; the ones without I/O or that bypass the
/// tenant by name, with why they have no row.
const COVERED: &[(&str, &str)] = &[
    ("create", "Create"),
    ("insert_many", "InsertMany"),
    ("save", "SaveNew, SaveExisting"),
    ("find", "Find, Project, Stream, Populate, Pages"),
    ("find_and_count", "FindAndCount"),
    ("find_one", "FindOne, Required"),
    ("find_by_id", "FindById"),
    ("count", "Count"),
    ("exists", "Exists"),
    ("distinct", "Distinct"),
    ("aggregate", "Aggregate"),
    ("update_one", "UpdateOne, Upsert, Link"),
    ("update_many", "UpdateMany"),
    ("replace_one", "ReplaceOne"),
    ("delete_one", "DeleteOne"),
    ("delete_many", "DeleteMany"),
    ("find_one_and_update", "FindOneAndUpdate"),
    ("find_one_and_replace", "FindOneAndReplace"),
    ("find_one_and_delete", "FindOneAndDelete"),
    ("bulk_write", "BulkWrite"),
    ("sync_indexes", "SyncIndexes"),
    ("diff_indexes", "SyncIndexes"),
    ("list_indexes", "SyncIndexes"),
    ("declared_indexes", "SyncIndexes"),
    ("sync_schema", "SyncSchema"),
    ("shard_collection", "ShardCollection"),
    ("collection", "Collection"),
    ("watch", "Watch"),
    ("restore", "Restore"),
    ("validate", "no I/O: checks a value's rules"),
    (
        "prepare",
        "no I/O: encodes a value, stamped; the tenant field is asserted in tenancy.rs",
    ),
    ("connection", "an accessor"),
    ("collection_name", "an accessor"),
    (
        "unconfined_collection",
        "the named bypass of the confinement, for work across tenants",
    ),
];

#[test]
fn every_operation_of_a_handle_is_in_the_table() {
    let listed: BTreeSet<String> = COVERED.iter().map(|(m, _)| (*m).to_owned()).collect();
    let methods = odm_tests::surface::model_handle_methods();
    let missing: Vec<_> = methods.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "ModelHandle has operations the isolation table does not drive: {missing:?}; add a row for each to `Op` and `COVERED`"
    );
    let stale: Vec<_> = listed.difference(&methods).collect();
    assert!(
        stale.is_empty(),
        "the table lists methods that are gone: {stale:?}"
    );
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    let t = || 0..TENANTS.len();
    let n = || 0..1000i32;
    prop_oneof![
        4 => (t(), 0..6u8, n()).prop_map(|(t, code, n)| Op::Create { t, code, n }),
        1 => (t(), 1..4usize, n()).prop_map(|(t, k, n)| Op::InsertMany { t, k, n }),
        1 => (t(), n()).prop_map(|(t, n)| Op::SaveNew { t, n }),
        2 => (t(), any::<usize>(), n()).prop_map(|(t, pick, n)| Op::SaveExisting { t, pick, n }),
        1 => t().prop_map(|t| Op::Find { t }),
        1 => t().prop_map(|t| Op::Pages { t }),
        1 => t().prop_map(|t| Op::FindAndCount { t }),
        1 => (t(), any::<usize>()).prop_map(|(t, pick)| Op::FindOne { t, pick }),
        1 => (t(), any::<usize>()).prop_map(|(t, pick)| Op::FindById { t, pick }),
        1 => (t(), any::<usize>()).prop_map(|(t, pick)| Op::Required { t, pick }),
        1 => t().prop_map(|t| Op::Project { t }),
        1 => t().prop_map(|t| Op::Stream { t }),
        1 => t().prop_map(|t| Op::Count { t }),
        1 => (t(), any::<usize>()).prop_map(|(t, pick)| Op::Exists { t, pick }),
        1 => t().prop_map(|t| Op::Distinct { t }),
        1 => t().prop_map(|t| Op::Aggregate { t }),
        2 => (t(), any::<usize>(), n()).prop_map(|(t, pick, n)| Op::UpdateOne { t, pick, n }),
        1 => (t(), n()).prop_map(|(t, n)| Op::UpdateMany { t, n }),
        1 => (t(), n()).prop_map(|(t, n)| Op::Upsert { t, n }),
        2 => (t(), any::<usize>(), n()).prop_map(|(t, pick, n)| Op::ReplaceOne { t, pick, n }),
        2 => (t(), any::<usize>()).prop_map(|(t, pick)| Op::DeleteOne { t, pick }),
        1 => (t(), n()).prop_map(|(t, below)| Op::DeleteMany { t, below }),
        2 => (t(), any::<usize>(), n()).prop_map(|(t, pick, n)| Op::FindOneAndUpdate { t, pick, n }),
        2 => (t(), any::<usize>(), n()).prop_map(|(t, pick, n)| Op::FindOneAndReplace { t, pick, n }),
        2 => (t(), any::<usize>()).prop_map(|(t, pick)| Op::FindOneAndDelete { t, pick }),
        2 => (t(), any::<usize>(), any::<usize>(), n())
            .prop_map(|(t, pick, other, n)| Op::BulkWrite { t, pick, other, n }),
        1 => t().prop_map(|t| Op::CreateLabel { t }),
        2 => (t(), any::<usize>(), any::<usize>()).prop_map(|(t, pick, label)| Op::Link { t, pick, label }),
        1 => t().prop_map(|t| Op::Populate { t }),
        1 => t().prop_map(|t| Op::SyncIndexes { t }),
        1 => t().prop_map(|t| Op::SyncSchema { t }),
        1 => t().prop_map(|t| Op::ShardCollection { t }),
        1 => t().prop_map(|t| Op::Collection { t }),
        1 => t().prop_map(|t| Op::Watch { t }),
        1 => (t(), t()).prop_map(|(t, other)| Op::Restore { t, other }),
    ]
}

/// One stored item as the model expects it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    id: ObjectId,
    code: String,
    n: i32,
    label: Option<ObjectId>,
}

/// What each tenant should hold.
#[derive(Debug, Default)]
struct World {
    items: Vec<Vec<Row>>,
    labels: Vec<BTreeSet<ObjectId>>,
}

impl World {
    fn new() -> World {
        World {
            items: vec![Vec::new(); TENANTS.len()],
            labels: vec![BTreeSet::new(); TENANTS.len()],
        }
    }

    /// The `pick`-th item of all tenants (so a tenant often aims at another tenant's document).
    fn pick(&self, pick: usize) -> Option<(usize, Row)> {
        let all: Vec<(usize, &Row)> = self
            .items
            .iter()
            .enumerate()
            .flat_map(|(t, rows)| rows.iter().map(move |r| (t, r)))
            .collect();
        (!all.is_empty()).then(|| {
            let (t, r) = all[pick % all.len()];
            (t, r.clone())
        })
    }

    fn pick_label(&self, pick: usize) -> Option<ObjectId> {
        let all: Vec<ObjectId> = self.labels.iter().flatten().copied().collect();
        (!all.is_empty()).then(|| all[pick % all.len()])
    }

    fn row_mut(&mut self, t: usize, id: ObjectId) -> Option<&mut Row> {
        self.items[t].iter_mut().find(|r| r.id == id)
    }

    /// The tenant's own row with this `_id`, else the picked one (another tenant's).
    fn own_or(&self, t: usize, row: Row) -> Row {
        self.items[t]
            .iter()
            .find(|r| r.id == row.id)
            .cloned()
            .unwrap_or(row)
    }

    fn holds(&self, t: usize, id: ObjectId) -> bool {
        self.items[t].iter().any(|r| r.id == id)
    }

    fn sorted(&self, t: usize) -> Vec<Row> {
        let mut rows = self.items[t].clone();
        rows.sort();
        rows
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Database,
    Collection,
    Shared,
}

struct Setup {
    kind: Kind,
    base: Connection,
    tenants: Vec<Tenant>,
}

impl Setup {
    /// Every tenant's items as the raw driver reads them, unconfined, in the model's form. A document
    /// whose `owner` is not the tenant it is stored under is a leak and fails the check.
    async fn raw_items(&self, t: usize) -> Result<Vec<Row>, TestCaseError> {
        let docs = self.raw("items", t).await;
        let mut rows = Vec::new();
        for d in docs {
            prop_assert_eq!(d.get_str("owner").ok(), Some(TENANTS[t]), "{:?}", d);
            rows.push(Row {
                id: d.get_object_id("_id").unwrap(),
                code: d.get_str("code").unwrap().to_owned(),
                n: d.get_i32("n").unwrap(),
                label: d.get_object_id("label").ok(),
            });
        }
        rows.sort();
        Ok(rows)
    }

    async fn raw_labels(&self, t: usize) -> BTreeSet<ObjectId> {
        self.raw("labels", t)
            .await
            .into_iter()
            .map(|d| d.get_object_id("_id").unwrap())
            .collect()
    }

    async fn raw(&self, collection: &str, t: usize) -> Vec<Document> {
        let client = self.base.client();
        let tenant = TENANTS[t];
        let (coll, filter) = match self.kind {
            Kind::Database => (
                client
                    .database(&format!("{}_{tenant}", self.base.name()))
                    .collection::<Document>(collection),
                doc! {},
            ),
            Kind::Collection => (
                self.base
                    .database()
                    .collection::<Document>(&format!("{tenant}.{collection}")),
                doc! {},
            ),
            Kind::Shared => (
                self.base.database().collection::<Document>(collection),
                doc! { "tenant_id": tenant },
            ),
        };
        coll.find(filter)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    }

    /// In a shared collection, no document lacks the tenant field or holds another value.
    async fn all_stamped(&self) -> Result<(), TestCaseError> {
        if self.kind != Kind::Shared {
            return Ok(());
        }
        for collection in ["items", "labels"] {
            let strays = self
                .base
                .database()
                .collection::<Document>(collection)
                .count_documents(doc! { "tenant_id": { "$nin": TENANTS.to_vec() } })
                .await
                .unwrap();
            prop_assert_eq!(strays, 0, "unstamped documents in {}", collection);
        }
        Ok(())
    }
}

fn item(t: usize, code: String, n: i32) -> Item {
    Item {
        id: None,
        owner: TENANTS[t].to_owned(),
        code,
        n,
        label: None,
    }
}

fn fresh_code() -> String {
    format!("f{}", ObjectId::new().to_hex())
}

/// A duplicate key reported through tenant `t` names only `t`'s key: in a shared collection the key
/// holds `t`'s tenant field, and no other tenant's id appears in the error.
fn own_duplicate(kind: Kind, t: usize, e: &Error) -> Result<(), TestCaseError> {
    let Error::DuplicateKey { key, .. } = e else {
        return Err(TestCaseError::fail(format!(
            "expected DuplicateKey, got {e}"
        )));
    };
    if kind == Kind::Shared {
        let key = key.as_ref().expect("the server reports the key");
        prop_assert_eq!(key.get_str("tenant_id").ok(), Some(TENANTS[t]));
    }
    let text = format!("{e} {e:?}");
    for (other, name) in TENANTS.iter().enumerate() {
        prop_assert!(
            other == t || !text.contains(name),
            "the error of {} names {}: {}",
            TENANTS[t],
            name,
            text
        );
    }
    Ok(())
}

async fn step(setup: &Setup, world: &mut World, op: &Op) -> Result<(), TestCaseError> {
    let kind = setup.kind;
    match *op {
        Op::Create { t, code, n } => {
            let code = format!("c{code}");
            let items = setup.tenants[t].model::<Item>();
            let taken = world.items[t].iter().any(|r| r.code == code);
            match items.create(item(t, code.clone(), n)).await {
                Ok(stored) => {
                    prop_assert!(
                        !taken,
                        "a duplicate code was accepted within {}",
                        TENANTS[t]
                    );
                    world.items[t].push(Row {
                        id: stored.id.unwrap(),
                        code,
                        n,
                        label: None,
                    });
                }
                Err(e) => {
                    // Unique per tenant: the same code in another tenant is never a conflict.
                    prop_assert!(taken, "{} refused {}: {}", TENANTS[t], code, e);
                    own_duplicate(kind, t, &e)?;
                }
            }
        }
        Op::InsertMany { t, k, n } => {
            let values: Vec<Item> = (0..k).map(|_| item(t, fresh_code(), n)).collect();
            let stored = setup.tenants[t]
                .model::<Item>()
                .insert_many(values)
                .await
                .unwrap();
            for s in stored {
                world.items[t].push(Row {
                    id: s.id.unwrap(),
                    code: s.code,
                    n,
                    label: None,
                });
            }
        }
        Op::SaveNew { t, n } => {
            let mut value = item(t, fresh_code(), n);
            setup.tenants[t]
                .model::<Item>()
                .save(&mut value)
                .await
                .unwrap();
            world.items[t].push(Row {
                id: value.id.unwrap(),
                code: value.code,
                n,
                label: None,
            });
        }
        Op::SaveExisting { t, pick, n } => {
            let Some((owner, row)) = world.pick(pick) else {
                return Ok(());
            };
            let row = world.own_or(t, row);
            let mine = world.holds(t, row.id);
            // A fresh code unless the document is the tenant's own, so only the `_id` can collide.
            let code = if mine { row.code.clone() } else { fresh_code() };
            let mut value = Item {
                id: Some(row.id),
                code: code.clone(),
                label: if mine { row.label.map(Ref::new) } else { None },
                ..item(t, String::new(), n)
            };
            let saved = setup.tenants[t].model::<Item>().save(&mut value).await;
            match (mine, kind) {
                (true, _) => {
                    saved.unwrap();
                    world.row_mut(t, row.id).unwrap().n = n;
                }
                (false, Kind::Shared) => {
                    // The `_id` belongs to another tenant's document in the one collection: answered
                    // as for an `_id` the tenant does not have, without a word about the other tenant.
                    let e = saved.unwrap_err();
                    prop_assert!(matches!(e, Error::NotFound { .. }), "{}", e);
                    let text = format!("{e:?}");
                    prop_assert!(!text.contains(TENANTS[owner]), "{}", text);
                }
                (false, _) => {
                    // Another tenant's `_id` is free in this tenant's own collection.
                    saved.unwrap();
                    world.items[t].push(Row {
                        id: row.id,
                        code,
                        n,
                        label: None,
                    });
                }
            }
        }
        Op::Find { t } => {
            let found = setup.tenants[t]
                .model::<Item>()
                .find(doc! {})
                .await
                .unwrap();
            let mut rows: Vec<Row> = found
                .into_iter()
                .map(|i| Row {
                    id: i.id.unwrap(),
                    code: i.code,
                    n: i.n,
                    label: i.label.and_then(|l| l.id().as_object_id()),
                })
                .collect();
            rows.sort();
            prop_assert_eq!(rows, world.sorted(t));
        }
        Op::Pages { t } => {
            let items = setup.tenants[t].model::<Item>();
            let mut ids = BTreeSet::new();
            let mut token: Option<String> = None;
            loop {
                let page = items
                    .find(doc! {})
                    .sort(doc! { "n": 1 })
                    .page_after(token.as_deref(), 2)
                    .await
                    .unwrap();
                for i in &page.items {
                    prop_assert!(ids.insert(i.id.unwrap()), "read twice");
                }
                match page.next {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
            let expected: BTreeSet<ObjectId> = world.items[t].iter().map(|r| r.id).collect();
            prop_assert_eq!(ids, expected);
        }
        Op::FindAndCount { t } => {
            let items = setup.tenants[t].model::<Item>();
            let (found, total) = items
                .find_and_count(items.find(doc! {}).limit(1))
                .await
                .unwrap();
            prop_assert_eq!(total as usize, world.items[t].len());
            prop_assert_eq!(found.len(), world.items[t].len().min(1));
        }
        Op::FindOne { t, pick } | Op::FindById { t, pick } | Op::Exists { t, pick } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let items = setup.tenants[t].model::<Item>();
            let found = match op {
                Op::FindOne { .. } => items
                    .find_one(doc! { "code": &row.code })
                    .await
                    .unwrap()
                    .map(|i| i.code == row.code),
                Op::FindById { .. } => items
                    .find_by_id(row.id)
                    .await
                    .unwrap()
                    .map(|i| i.id == Some(row.id)),
                _ => items
                    .exists(doc! { "_id": row.id })
                    .await
                    .unwrap()
                    .then_some(true),
            };
            let expected = match op {
                Op::FindOne { .. } => world.items[t].iter().any(|r| r.code == row.code),
                _ => world.holds(t, row.id),
            };
            prop_assert_eq!(found, expected.then_some(true));
        }
        Op::Required { t, pick } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let found = setup.tenants[t]
                .model::<Item>()
                .find_by_id(row.id)
                .required()
                .await;
            match found {
                Ok(i) => prop_assert!(world.holds(t, row.id) && i.id == Some(row.id)),
                Err(Error::NotFound { .. }) => prop_assert!(!world.holds(t, row.id)),
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        Op::Project { t } => {
            let f = Item::fields();
            let docs = setup.tenants[t]
                .model::<Item>()
                .find(doc! {})
                .project(Projection::new().include(&f.code))
                .await
                .unwrap();
            let codes: BTreeSet<String> = docs
                .iter()
                .map(|d| d.get_str("code").unwrap().to_owned())
                .collect();
            let expected: BTreeSet<String> =
                world.items[t].iter().map(|r| r.code.clone()).collect();
            prop_assert_eq!(codes, expected);
        }
        Op::Stream { t } => {
            let items = setup.tenants[t].model::<Item>();
            let streamed: Vec<Item> = items
                .find(doc! {})
                .batch_size(2)
                .stream()
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let ids: BTreeSet<ObjectId> = streamed.iter().map(|i| i.id.unwrap()).collect();
            let expected: BTreeSet<ObjectId> = world.items[t].iter().map(|r| r.id).collect();
            prop_assert_eq!(ids, expected);
        }
        Op::Count { t } => {
            let count = setup.tenants[t]
                .model::<Item>()
                .count(doc! {})
                .await
                .unwrap();
            prop_assert_eq!(count as usize, world.items[t].len());
        }
        Op::Distinct { t } => {
            let codes: BTreeSet<String> = setup.tenants[t]
                .model::<Item>()
                .distinct("code", doc! {})
                .await
                .unwrap()
                .into_iter()
                .map(|b| b.as_str().unwrap().to_owned())
                .collect();
            let expected: BTreeSet<String> =
                world.items[t].iter().map(|r| r.code.clone()).collect();
            prop_assert_eq!(codes, expected);
        }
        Op::Aggregate { t } => {
            let out = setup.tenants[t]
                .model::<Item>()
                .aggregate([
                    doc! { "$group": { "_id": null, "total": { "$sum": "$n" }, "count": { "$sum": 1 } } },
                ])
                .await
                .unwrap();
            let rows = &world.items[t];
            if rows.is_empty() {
                prop_assert!(out.is_empty(), "{:?}", out);
            } else {
                let total: i64 = rows.iter().map(|r| i64::from(r.n)).sum();
                let got_total = match out[0].get("total") {
                    Some(Bson::Int32(v)) => i64::from(*v),
                    Some(Bson::Int64(v)) => *v,
                    other => return Err(TestCaseError::fail(format!("total: {other:?}"))),
                };
                prop_assert_eq!(got_total, total);
                prop_assert_eq!(
                    i64::from(out[0].get_i32("count").unwrap_or(-1)),
                    rows.len() as i64
                );
            }
        }
        Op::UpdateOne { t, pick, n } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let result = setup.tenants[t]
                .model::<Item>()
                .update_one(doc! { "_id": row.id }, doc! { "$set": { "n": n } })
                .await
                .unwrap();
            let mine = world.holds(t, row.id);
            prop_assert_eq!(result.matched_count, u64::from(mine));
            if mine {
                world.row_mut(t, row.id).unwrap().n = n;
            }
        }
        Op::UpdateMany { t, n } => {
            let result = setup.tenants[t]
                .model::<Item>()
                .update_many(doc! {}, doc! { "$set": { "n": n } })
                .await
                .unwrap();
            prop_assert_eq!(result.matched_count as usize, world.items[t].len());
            for r in &mut world.items[t] {
                r.n = n;
            }
        }
        Op::Upsert { t, n } => {
            let code = fresh_code();
            let result = setup.tenants[t]
                .model::<Item>()
                .update_one(
                    doc! { "code": &code },
                    doc! { "$set": { "n": n, "owner": TENANTS[t] } },
                )
                .upsert(true)
                .await
                .unwrap();
            let id = result
                .upserted_id
                .and_then(|b| b.as_object_id())
                .expect("an upsert of a fresh code inserts");
            world.items[t].push(Row {
                id,
                code,
                n,
                label: None,
            });
        }
        Op::ReplaceOne { t, pick, n } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let row = world.own_or(t, row);
            let mine = world.holds(t, row.id);
            let value = Item {
                id: Some(row.id),
                code: row.code.clone(),
                label: row.label.map(Ref::new),
                ..item(t, String::new(), n)
            };
            let result = setup.tenants[t]
                .model::<Item>()
                .replace_one(doc! { "_id": row.id }, value)
                .await
                .unwrap();
            prop_assert_eq!(result.matched_count, u64::from(mine));
            if mine {
                world.row_mut(t, row.id).unwrap().n = n;
            }
        }
        Op::DeleteOne { t, pick } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let result = setup.tenants[t]
                .model::<Item>()
                .delete_one(doc! { "_id": row.id })
                .await
                .unwrap();
            let mine = world.holds(t, row.id);
            prop_assert_eq!(result.deleted_count, u64::from(mine));
            world.items[t].retain(|r| r.id != row.id);
        }
        Op::DeleteMany { t, below } => {
            let result = setup.tenants[t]
                .model::<Item>()
                .delete_many(doc! { "n": { "$lt": below } })
                .await
                .unwrap();
            let before = world.items[t].len();
            world.items[t].retain(|r| r.n >= below);
            prop_assert_eq!(result.deleted_count as usize, before - world.items[t].len());
        }
        Op::FindOneAndUpdate { t, pick, n } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let found = setup.tenants[t]
                .model::<Item>()
                .find_one_and_update(doc! { "_id": row.id }, doc! { "$set": { "n": n } })
                .return_after()
                .await
                .unwrap();
            let mine = world.holds(t, row.id);
            prop_assert_eq!(
                found.as_ref().map(|i| (i.id, i.n)),
                mine.then_some((Some(row.id), n))
            );
            if mine {
                world.row_mut(t, row.id).unwrap().n = n;
            }
        }
        Op::FindOneAndReplace { t, pick, n } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let row = world.own_or(t, row);
            let mine = world.holds(t, row.id);
            let value = Item {
                id: Some(row.id),
                code: row.code.clone(),
                label: row.label.map(Ref::new),
                ..item(t, String::new(), n)
            };
            let before = setup.tenants[t]
                .model::<Item>()
                .find_one_and_replace(doc! { "_id": row.id }, value)
                .await
                .unwrap();
            prop_assert_eq!(before.is_some(), mine);
            if let Some(before) = before {
                prop_assert_eq!(before.owner, TENANTS[t]);
                world.row_mut(t, row.id).unwrap().n = n;
            }
        }
        Op::FindOneAndDelete { t, pick } => {
            let Some((_, row)) = world.pick(pick) else {
                return Ok(());
            };
            let mine = world.holds(t, row.id);
            let deleted = setup.tenants[t]
                .model::<Item>()
                .find_one_and_delete(doc! { "_id": row.id })
                .await
                .unwrap();
            prop_assert_eq!(
                deleted.map(|i| (i.id, i.owner)),
                mine.then(|| (Some(row.id), TENANTS[t].to_owned()))
            );
            world.items[t].retain(|r| r.id != row.id);
        }
        Op::BulkWrite { t, pick, other, n } => {
            let (Some((_, a)), Some((_, b))) = (world.pick(pick), world.pick(other)) else {
                return Ok(());
            };
            let code = fresh_code();
            let result = setup.tenants[t]
                .model::<Item>()
                .bulk_write([
                    Write::insert_one(item(t, code.clone(), n)),
                    Write::update_one(doc! { "_id": a.id }, doc! { "$set": { "n": n } }),
                    Write::delete_one(doc! { "_id": b.id }),
                ])
                .ordered(false)
                .await
                .unwrap();
            let id = result.inserted_ids[&0].as_object_id().unwrap();
            prop_assert_eq!(result.inserted_count, 1);
            let a_mine = world.holds(t, a.id);
            prop_assert_eq!(result.matched_count, u64::from(a_mine));
            if a_mine {
                world.row_mut(t, a.id).unwrap().n = n;
            }
            let b_mine = world.holds(t, b.id);
            prop_assert_eq!(result.deleted_count, u64::from(b_mine));
            world.items[t].retain(|r| r.id != b.id);
            world.items[t].push(Row {
                id,
                code,
                n,
                label: None,
            });
        }
        Op::CreateLabel { t } => {
            let label = setup.tenants[t]
                .model::<Label>()
                .create(Label {
                    id: None,
                    owner: TENANTS[t].to_owned(),
                })
                .await
                .unwrap();
            world.labels[t].insert(label.id.unwrap());
        }
        Op::Link { t, pick, label } => {
            let (Some((_, row)), Some(label)) = (world.pick(pick), world.pick_label(label)) else {
                return Ok(());
            };
            let result = setup.tenants[t]
                .model::<Item>()
                .update_one(doc! { "_id": row.id }, doc! { "$set": { "label": label } })
                .await
                .unwrap();
            let mine = world.holds(t, row.id);
            prop_assert_eq!(result.matched_count, u64::from(mine));
            if mine {
                world.row_mut(t, row.id).unwrap().label = Some(label);
            }
        }
        Op::Populate { t } => {
            let populated = setup.tenants[t]
                .model::<Item>()
                .find(doc! {})
                .populate(Item::fields().label)
                .await
                .unwrap();
            for i in populated.iter() {
                let Some(reference) = &i.label else { continue };
                let resolved = populated.get(reference);
                let id = reference.id().as_object_id().unwrap();
                // A reference resolves only to a label the tenant holds itself.
                prop_assert_eq!(resolved.is_some(), world.labels[t].contains(&id));
                if let Some(label) = resolved {
                    prop_assert_eq!(&label.owner, TENANTS[t]);
                }
            }
        }
        Op::ShardCollection { t } => {
            // Against a server that is no `mongos`, the tenant's handle finds nothing to shard and does
            // nothing.
            let items = setup.tenants[t].model::<Item>();
            prop_assert_eq!(
                items.shard_collection().await.unwrap(),
                odm_core::Sharding::NotShardedCluster
            );
        }
        Op::SyncIndexes { t } => {
            let items = setup.tenants[t].model::<Item>();
            items.sync_indexes().await.unwrap();
            prop_assert!(items.diff_indexes().await.unwrap().is_empty());
            let declared = items.declared_indexes().unwrap();
            let listed = items.list_indexes().await.unwrap();
            for spec in &declared {
                prop_assert!(listed.iter().any(|l| l.same_index(spec)), "{}", spec);
                if kind == Kind::Shared {
                    prop_assert_eq!(
                        spec.keys.keys().next().map(String::as_str),
                        Some("tenant_id")
                    );
                }
            }
        }
        Op::SyncSchema { t } => {
            setup.tenants[t]
                .model::<Item>()
                .sync_schema()
                .await
                .unwrap();
        }
        Op::Restore { t, other } => {
            let memos = setup.tenants[t].model::<Memo>();
            let memo = memos
                .create(Memo {
                    id: None,
                    owner: TENANTS[t].to_owned(),
                    deleted_at: None,
                })
                .await
                .unwrap();
            let id = memo.id.unwrap();
            prop_assert_eq!(
                memos
                    .delete_one(doc! { "_id": id })
                    .await
                    .unwrap()
                    .deleted_count,
                1
            );
            if other != t {
                // Another tenant's restore by the same `_id` reaches nothing of this tenant's.
                let theirs = setup.tenants[other].model::<Memo>();
                prop_assert_eq!(theirs.restore(doc! { "_id": id }).await.unwrap(), 0);
            }
            prop_assert_eq!(memos.restore(doc! { "_id": id }).await.unwrap(), 1);
            prop_assert!(memos.find_by_id(id).await.unwrap().is_some());
        }
        Op::Collection { t } => {
            let items = setup.tenants[t].model::<Item>();
            match (kind, items.collection()) {
                (Kind::Shared, Err(Error::TenantViolation(_))) => {}
                (Kind::Shared, other) => {
                    return Err(TestCaseError::fail(format!(
                        "a shared collection's driver collection was handed out: {:?}",
                        other.map(|c| c.name().to_owned())
                    )))
                }
                (_, Ok(coll)) => {
                    let name = items.collection_name();
                    prop_assert_eq!(coll.name(), name.as_ref());
                    prop_assert_eq!(
                        coll.count_documents(doc! {}).await.unwrap() as usize,
                        world.items[t].len()
                    );
                }
                (_, Err(e)) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        Op::Watch { t } => {
            let opened = setup.tenants[t].model::<Item>().watch().await;
            match (kind, opened) {
                (Kind::Shared, Err(Error::Unsupported(_))) => {}
                (Kind::Shared, Ok(_)) => {
                    return Err(TestCaseError::fail(
                        "a change stream of every tenant was opened through a tenant handle",
                    ))
                }
                (_, Ok(_)) => {}
                (_, Err(e)) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
    }
    Ok(())
}

async fn run(setup: &Setup, ops: &[Op]) -> Result<(), TestCaseError> {
    for t in &setup.tenants {
        t.model::<Item>()
            .unconfined_collection()
            .drop()
            .await
            .unwrap();
        t.model::<Label>()
            .unconfined_collection()
            .drop()
            .await
            .unwrap();
    }
    for t in &setup.tenants {
        t.model::<Item>().sync_indexes().await.unwrap();
    }
    let mut world = World::new();
    for op in ops {
        step(setup, &mut world, op).await?;
        for (t, name) in TENANTS.iter().enumerate() {
            let seen = setup.raw_items(t).await?;
            prop_assert_eq!(&seen, &world.sorted(t), "items of {} after {:?}", name, op);
            prop_assert_eq!(
                setup.raw_labels(t).await,
                world.labels[t].clone(),
                "labels of {} after {:?}",
                name,
                op
            );
        }
        setup.all_stamped().await?;
    }
    Ok(())
}

fn check(db: &str, kind: Kind) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let setup = rt.block_on(async {
        let base = connect(db).await;
        let strategy = match kind {
            Kind::Database => Strategy::database_per_tenant(format!("{db}_")),
            Kind::Collection => Strategy::collection_per_tenant(),
            Kind::Shared => Strategy::shared_collection(),
        };
        let registry = Tenants::new(base.clone(), strategy).unwrap();
        let tenants = TENANTS.iter().map(|t| registry.get(t).unwrap()).collect();
        Setup {
            kind,
            base,
            tenants,
        }
    });
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            rt.block_on(run(&setup, &ops))
        })
        .unwrap();
}

#[test]
fn every_operation_stays_in_its_tenant_with_a_database_per_tenant() {
    check("iso_db", Kind::Database);
}

#[test]
fn every_operation_stays_in_its_tenant_with_a_collection_per_tenant() {
    check("iso_coll", Kind::Collection);
}

#[test]
fn every_operation_stays_in_its_tenant_in_a_shared_collection() {
    check("iso_shared", Kind::Shared);
}

#[tokio::test]
async fn a_unique_value_is_unique_per_tenant_in_a_shared_collection() {
    let conn = connect("iso_unique_shared").await;
    let tenants = Tenants::new(conn.clone(), Strategy::shared_collection()).unwrap();
    let (acme, globex) = (
        tenants.get("acme").unwrap().model::<Item>(),
        tenants.get("globex").unwrap().model::<Item>(),
    );
    acme.sync_indexes().await.unwrap();
    acme.create(item(0, "same".into(), 1)).await.unwrap();
    // The same code in another tenant is that tenant's own business.
    globex.create(item(1, "same".into(), 2)).await.unwrap();
    // A duplicate within one tenant is refused, and the error names that tenant's key only.
    let e = globex.create(item(1, "same".into(), 3)).await.unwrap_err();
    match &e {
        Error::DuplicateKey { key, index, .. } => {
            assert_eq!(
                key.as_deref(),
                Some(&doc! { "tenant_id": "globex", "code": "same" })
            );
            assert_eq!(index.as_deref(), Some("tenant_id_1_code_1"));
        }
        other => panic!("expected DuplicateKey, got {other:?}"),
    }
    assert!(!format!("{e} {e:?}").contains("acme"), "{e:?}");
    assert_eq!(globex.count(doc! {}).await.unwrap(), 1);
    assert_eq!(acme.count(doc! {}).await.unwrap(), 1);
}
