//! Index management: the indexes a model declares, compared with what the server has, and
//! [`ModelHandle::sync_indexes`] to make them match.

use std::fmt;
use std::time::Duration;

use mongodb::bson::{doc, Bson, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::observe::observed;
use crate::schema::{IndexKey, IndexSchema};

/// One index: its key pattern and the options that make two indexes differ.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    /// The index's name (as declared, as the server lists it, or MongoDB's default for the keys).
    pub name: String,
    /// The key pattern: `{ "org": 1, "created_at": -1 }`; a text index lists its fields with `"text"`.
    pub keys: Document,
    /// A unique index.
    pub unique: bool,
    /// A sparse index.
    pub sparse: bool,
    /// A TTL index's expiry.
    pub expire_after_secs: Option<u64>,
    /// A partial index's filter.
    pub partial_filter: Option<Document>,
}

impl IndexSpec {
    /// The spec of a declared index.
    pub fn declared(index: &IndexSchema) -> Result<IndexSpec> {
        let mut keys = Document::new();
        for (field, key) in index.keys {
            let value = match key {
                IndexKey::Asc => Bson::Int32(1),
                IndexKey::Desc => Bson::Int32(-1),
                IndexKey::Text => Bson::String("text".into()),
            };
            keys.insert(*field, value);
        }
        let partial_filter = index
            .partial_filter
            .map(|json| {
                let invalid = |reason: String| Error::InvalidIndex {
                    keys: format!("{:?}", index.keys),
                    reason,
                };
                let value: serde_json::Value = serde_json::from_str(json)
                    .map_err(|e| invalid(format!("its partial filter {json} is not JSON: {e}")))?;
                match Bson::try_from(value) {
                    Ok(Bson::Document(doc)) => Ok(doc),
                    _ => Err(invalid(format!(
                        "its partial filter {json} is not a JSON object"
                    ))),
                }
            })
            .transpose()?;
        Ok(IndexSpec {
            name: index
                .name
                .map(str::to_owned)
                .unwrap_or_else(|| default_name(&keys)),
            keys,
            unique: index.unique,
            sparse: index.sparse,
            expire_after_secs: index.expire_after_secs,
            partial_filter,
        })
    }

    /// The spec of a unique index of a `#[model(soft_delete)]` model, partial on the live documents
    /// (`{deleted_at: {$type: "null"}}`), so a soft-deleted document does not hold its key. Left as it is
    /// when the index declares a partial filter of its own, or is sparse (MongoDB does not combine the
    /// two). `$type` is used because partial filters accept neither `$exists: false` nor, on every
    /// MongoDB version, an equality to `null`; live documents store the stamp as `null` (`None`).
    pub(crate) fn of_model(mut self, schema: &crate::schema::Schema) -> IndexSpec {
        if let Some(stamp) = schema.soft_delete {
            if self.unique && !self.sparse && self.partial_filter.is_none() {
                self.partial_filter = Some(doc! { stamp: { "$type": "null" } });
            }
        }
        self
    }

    /// The spec of an index the server lists.
    pub(crate) fn listed(model: &IndexModel) -> IndexSpec {
        let options = model.options.as_ref();
        // MongoDB lists a text index as `{_fts: "text", _ftsx: 1}` in place of its text fields, which it
        // gives in `weights`; the keys before them (a compound text index's prefix) stay in order.
        let mut keys = Document::new();
        for (key, value) in &model.keys {
            match key.as_str() {
                "_fts" => {
                    if let Some(weights) = options.and_then(|o| o.weights.as_ref()) {
                        for field in weights.keys() {
                            keys.insert(field.clone(), "text");
                        }
                    }
                }
                "_ftsx" => {}
                _ => {
                    keys.insert(key.clone(), value.clone());
                }
            }
        }
        IndexSpec {
            name: options
                .and_then(|o| o.name.clone())
                .unwrap_or_else(|| default_name(&keys)),
            keys,
            unique: options.and_then(|o| o.unique).unwrap_or(false),
            sparse: options.and_then(|o| o.sparse).unwrap_or(false),
            expire_after_secs: options.and_then(|o| o.expire_after).map(|d| d.as_secs()),
            partial_filter: options.and_then(|o| o.partial_filter_expression.clone()),
        }
    }

    /// Whether two specs describe the same index: key pattern (order and direction) and options; names are
    /// not compared, so an index renamed by hand is not rebuilt.
    pub fn same_index(&self, other: &IndexSpec) -> bool {
        same_keys(&self.keys, &other.keys)
            && self.unique == other.unique
            && self.sparse == other.sparse
            && self.expire_after_secs == other.expire_after_secs
            && self.partial_filter == other.partial_filter
    }

    pub(crate) fn model(&self) -> IndexModel {
        let mut options = IndexOptions::default();
        options.name = Some(self.name.clone());
        options.unique = self.unique.then_some(true);
        options.sparse = self.sparse.then_some(true);
        options.expire_after = self.expire_after_secs.map(Duration::from_secs);
        options.partial_filter_expression = self.partial_filter.clone();
        IndexModel::builder()
            .keys(self.keys.clone())
            .options(options)
            .build()
    }

    pub(crate) fn is_id(&self) -> bool {
        self.name == "_id_" || (self.keys.len() == 1 && self.keys.contains_key("_id"))
    }
}

impl fmt::Display for IndexSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.name, self.keys)?;
        if self.unique {
            f.write_str(" unique")?;
        }
        if self.sparse {
            f.write_str(" sparse")?;
        }
        if let Some(secs) = self.expire_after_secs {
            write!(f, " ttl={secs}s")?;
        }
        if let Some(partial) = &self.partial_filter {
            write!(f, " partial={partial}")?;
        }
        Ok(())
    }
}

/// Key patterns are equal when they list the same fields in the same order with equal directions
/// (`1` and `1.0` and `1i64` are one direction). The fields of a text index are compared as a set: MongoDB
/// lists them from the index's `weights`, in its own order.
fn same_keys(a: &Document, b: &Document) -> bool {
    let is_text = |v: &Bson| v.as_str() == Some("text");
    let text_fields = |d: &Document| {
        let mut fields: Vec<String> = d
            .iter()
            .filter(|(_, v)| is_text(v))
            .map(|(k, _)| k.clone())
            .collect();
        fields.sort();
        fields
    };
    let ordered = |d: &Document| -> Vec<(String, Bson)> {
        d.iter()
            .filter(|(_, v)| !is_text(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (oa, ob) = (ordered(a), ordered(b));
    text_fields(a) == text_fields(b)
        && oa.len() == ob.len()
        && oa.iter().zip(&ob).all(|((ka, va), (kb, vb))| {
            ka == kb
                && match (direction(va), direction(vb)) {
                    (Some(x), Some(y)) => x == y,
                    _ => va == vb,
                }
        })
}

fn direction(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Int64(v) => Some(*v),
        Bson::Double(v) => Some(*v as i64),
        _ => None,
    }
}

/// MongoDB's default index name: `field_1_other_-1`.
pub(crate) fn default_name(keys: &Document) -> String {
    keys.iter()
        .map(|(k, v)| match v {
            Bson::String(s) => format!("{k}_{s}"),
            v => format!("{k}_{}", direction(v).unwrap_or(1)),
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// What [`ModelHandle::diff_indexes`] found: the indexes to create and to drop so that the server matches
/// the model's declaration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexDiff {
    /// Declared and missing (or present with other options).
    pub to_create: Vec<IndexSpec>,
    /// Present and not declared (or declared with other options). Never `_id_`.
    pub to_drop: Vec<IndexSpec>,
    /// Declared and present as declared.
    pub unchanged: Vec<IndexSpec>,
}

impl IndexDiff {
    /// `true` when the server already matches the declaration.
    pub fn is_empty(&self) -> bool {
        self.to_create.is_empty() && self.to_drop.is_empty()
    }
}

/// What [`ModelHandle::shard_collection`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sharding {
    /// The server is a `mongos`, and the collection is now sharded on the model's shard key.
    Sharded,
    /// The server is not a `mongos` (a replica set or a standalone): there is nothing to shard, and
    /// nothing was done.
    NotShardedCluster,
}

/// What [`ModelHandle::sync_indexes`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexSync {
    /// The names of the indexes created.
    pub created: Vec<String>,
    /// The names of the indexes dropped.
    pub dropped: Vec<String>,
    /// How many declared indexes were already there.
    pub unchanged: usize,
}

impl IndexSync {
    /// `true` when nothing had to change.
    pub fn is_noop(&self) -> bool {
        self.created.is_empty() && self.dropped.is_empty()
    }
}

impl<T: Model> ModelHandle<T> {
    /// The indexes on the server, as specs (none when the collection does not exist yet).
    pub async fn list_indexes(&self) -> Result<Vec<IndexSpec>> {
        observed!(self, "list_indexes", "listIndexes", self.listed_indexes()).await
    }

    async fn listed_indexes(&self) -> Result<Vec<IndexSpec>> {
        let mut pipeline = self.pipeline(None)?;
        let models = pipeline.list_indexes().await?;
        Ok(models.iter().map(IndexSpec::listed).collect())
    }

    /// The indexes the model declares, as this handle keeps them: in a shared collection every index
    /// leads with the tenant field (so a unique field is unique per tenant), except a TTL index, which
    /// MongoDB allows on one field only (a document's expiry does not depend on its tenant).
    pub fn declared_indexes(&self) -> Result<Vec<IndexSpec>> {
        let pipeline = self.pipeline(None)?;
        T::SCHEMA
            .indexes
            .iter()
            .map(|index| {
                IndexSpec::declared(index)
                    .map(|spec| pipeline.confine_index(spec.of_model(T::SCHEMA)))
            })
            .collect()
    }

    /// Compares the declared indexes ([`declared_indexes`](Self::declared_indexes)) with the server's,
    /// by key pattern and options, without changing anything.
    pub async fn diff_indexes(&self) -> Result<IndexDiff> {
        observed!(self, "diff_indexes", "listIndexes", self.diff()).await
    }

    async fn diff(&self) -> Result<IndexDiff> {
        let declared = self.declared_indexes()?;
        let existing = self.listed_indexes().await?;
        let mut diff = IndexDiff::default();
        for spec in declared {
            if let Some(found) = existing.iter().find(|e| e.same_index(&spec)) {
                diff.unchanged.push(found.clone());
            } else {
                diff.to_create.push(spec);
            }
        }
        for index in existing {
            if !index.is_id() && !diff.unchanged.iter().any(|u| u.same_index(&index)) {
                diff.to_drop.push(index);
            }
        }
        Ok(diff)
    }

    /// Makes the server's indexes match the declaration: drops what exists and is not declared (never
    /// `_id_`), then creates what is declared and missing. A second run does nothing. Bounded, as one
    /// operation, by the operation timeout.
    pub async fn sync_indexes(&self) -> Result<IndexSync> {
        let timeout = self.connection().operation_timeout();
        let sync = crate::ops::with_timeout(timeout, async {
            let diff = self.diff().await?;
            let mut pipeline = self.pipeline(None)?;
            let mut report = IndexSync {
                unchanged: diff.unchanged.len(),
                ..IndexSync::default()
            };
            for index in diff.to_drop {
                pipeline.drop_index(&index.name).await?;
                report.dropped.push(index.name);
            }
            if !diff.to_create.is_empty() {
                let names = diff
                    .to_create
                    .iter()
                    .map(|i| i.name.clone())
                    .collect::<Vec<_>>();
                pipeline.create_indexes(diff.to_create).await?;
                report.created.extend(names);
            }
            Ok(report)
        });
        observed!(self, "sync_indexes", "createIndexes", sync).await
    }

    /// Shards the collection on the model's `#[model(shard_key(..))]` (`shardCollection`, each field
    /// ascending) when the server is a `mongos`. Elsewhere (a replica set, a standalone) there is
    /// nothing to shard: the answer is [`Sharding::NotShardedCluster`], not an error, so a deployment
    /// can run it everywhere. Bounded, as one operation, by the operation timeout.
    ///
    /// On a tenant handle of a shared collection the key leads with the tenant field, as the indexes
    /// do: `shard_key("_id")` shards on `{tenant_id: 1, _id: 1}`, and a model that declares no key is
    /// sharded on exactly that. Each tenant's documents then stay together, and every confined
    /// operation, whose filter holds the tenant, is routed to one shard. Elsewhere, on a `mongos`, a
    /// model without a shard key is [`Error::Unsupported`].
    pub async fn shard_collection(&self) -> Result<Sharding> {
        let timeout = self.connection().operation_timeout();
        let run = crate::ops::with_timeout(timeout, async {
            let mut pipeline = self.pipeline(None)?;
            if !pipeline.is_mongos().await? {
                return Ok(Sharding::NotShardedCluster);
            }
            let key = shard_key(T::SCHEMA.shard_key, self.confinement().tenant_field())
                .ok_or(Error::Unsupported(
                    "the model declares no shard key to shard its collection on; add `#[model(shard_key(\"org\", \"_id\"))]` naming its stored fields",
                ))?;
            pipeline.shard_collection(key).await?;
            Ok(Sharding::Sharded)
        });
        observed!(self, "shard_collection", "shardCollection", run).await
    }

    /// Applies the model's `$jsonSchema` ([`Model::json_schema`]) to the collection as its validator, so
    /// writes that bypass the library are checked by the server too: `collMod` on an existing collection,
    /// else `create` with the validator. In a shared collection the validator also requires the tenant
    /// field.
    pub async fn sync_schema(&self) -> Result<()> {
        observed!(self, "sync_schema", "collMod", async {
            let mut pipeline = self.pipeline(None)?;
            pipeline.set_validator(T::json_schema()).await
        })
        .await
    }
}

/// The key to shard a collection on: the declared fields, ascending, led by the tenant field of a shared
/// collection (`_id` alone when the model declares none there); `None` when there is nothing to shard on.
fn shard_key(declared: &[&str], tenant_field: Option<&str>) -> Option<Document> {
    let mut key = Document::new();
    if let Some(tenant) = tenant_field {
        key.insert(tenant, 1);
        if declared.is_empty() {
            key.insert("_id", 1);
        }
    }
    for field in declared {
        key.insert(*field, 1);
    }
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn a_shared_collection_is_sharded_on_its_tenant_field_first() {
        let cases: &[(&[&str], Option<&str>, Option<Document>)] = &[
            (&[], None, None),
            (&["org", "_id"], None, Some(doc! { "org": 1, "_id": 1 })),
            (
                &[],
                Some("tenant_id"),
                Some(doc! { "tenant_id": 1, "_id": 1 }),
            ),
            (
                &["_id"],
                Some("tenant_id"),
                Some(doc! { "tenant_id": 1, "_id": 1 }),
            ),
            (
                &["region", "_id"],
                Some("org"),
                Some(doc! { "org": 1, "region": 1, "_id": 1 }),
            ),
            // Declared with the tenant field first already: kept as declared.
            (
                &["org", "_id"],
                Some("org"),
                Some(doc! { "org": 1, "_id": 1 }),
            ),
        ];
        for (declared, tenant, expected) in cases {
            let key = shard_key(declared, *tenant);
            assert_eq!(&key, expected, "{declared:?} with tenant field {tenant:?}");
            // The order is the key's order.
            if let (Some(key), Some(expected)) = (key, expected) {
                assert!(key.keys().eq(expected.keys()), "{key:?}");
            }
        }
    }

    #[test]
    fn default_names_follow_mongodb() {
        assert_eq!(
            default_name(&doc! { "org": 1, "rank": -1 }),
            "org_1_rank_-1"
        );
        assert_eq!(default_name(&doc! { "bio": "text" }), "bio_text");
    }

    #[test]
    fn keys_compare_by_order_and_direction() {
        assert!(same_keys(
            &doc! { "a": 1, "b": -1 },
            &doc! { "a": 1i64, "b": -1.0 }
        ));
        assert!(!same_keys(
            &doc! { "a": 1, "b": -1 },
            &doc! { "a": 1, "b": 1 }
        ));
        assert!(!same_keys(
            &doc! { "a": 1, "b": 1 },
            &doc! { "b": 1, "a": 1 }
        ));
    }

    #[test]
    fn declared_spec_reads_options() {
        static KEYS: &[(&str, IndexKey)] =
            &[("org", IndexKey::Asc), ("created_at", IndexKey::Desc)];
        let index = IndexSchema::new(KEYS)
            .unique()
            .partial_filter(r#"{"age": {"$gt": 18}}"#);
        let spec = IndexSpec::declared(&index).unwrap();
        assert_eq!(spec.name, "org_1_created_at_-1");
        assert_eq!(spec.keys, doc! { "org": 1, "created_at": -1 });
        assert!(spec.unique);
        assert_eq!(spec.partial_filter, Some(doc! { "age": { "$gt": 18 } }));
    }
}
