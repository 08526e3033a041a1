//! What a tenant-scoped model handle adds to every operation: a collection prefix, or a tenant field that
//! is stamped on every write and added to every filter, and a check that aggregation stages stay within
//! the tenant's data.

use std::sync::Arc;

use mongodb::bson::{doc, Bson, Document, RawDocumentBuf};

use crate::error::{Error, Result};
use crate::ops::indexes::{default_name, IndexSpec};
use crate::query::Update;

/// How a model handle is confined to a tenant.
#[derive(Debug, Clone, Default)]
pub(crate) enum Confinement {
    /// Not confined: the handle sees its whole collection.
    #[default]
    None,
    /// The handle's database is the tenant's (database per tenant): no stage may name another database.
    Database,
    /// The collection name is prefixed (collection per tenant).
    Prefix(Arc<str>),
    /// One shared collection; every document carries `field: tenant`.
    Field {
        /// The stored name of the tenant field.
        field: Arc<str>,
        /// The tenant id.
        tenant: Arc<str>,
    },
}

impl Confinement {
    /// Whether the tenant shares its collections with other tenants (a tenant field).
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self, Confinement::Field { .. })
    }

    /// Whether the tenant has a database of its own.
    pub(crate) fn is_own_database(&self) -> bool {
        matches!(self, Confinement::Database)
    }

    /// The stored name of the tenant field, in a shared collection.
    pub(crate) fn tenant_field(&self) -> Option<&str> {
        match self {
            Confinement::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The collection name for a model stored in `collection`.
    pub(crate) fn collection_name<'a>(&self, collection: &'a str) -> std::borrow::Cow<'a, str> {
        match self {
            Confinement::Prefix(prefix) => format!("{prefix}{collection}").into(),
            _ => collection.into(),
        }
    }

    /// The filter confined to the tenant. A filter of plain field keys gets the tenant as one more key;
    /// any other (an operator at the top, or the tenant field itself) is `$and`-ed whole, so no operator inside it
    /// (`$or`, `$nor`, `$expr`, ...) can widen the match past the tenant.
    pub(crate) fn filter(&self, filter: Document) -> Document {
        match self {
            Confinement::Field { field, tenant } => {
                let plain = filter
                    .keys()
                    .all(|k| !k.starts_with('$') && k.as_str() != field.as_ref());
                if plain {
                    // A document's keys are and-ed already: the tenant leads them, which lets a
                    // server plan on the tenant-led indexes (and on `_id`) as it would for the
                    // user's own keys.
                    let mut confined = doc! { field.as_ref(): tenant.as_ref() };
                    confined.extend(filter);
                    confined
                } else {
                    doc! { "$and": [ { field.as_ref(): tenant.as_ref() }, filter ] }
                }
            }
            _ => filter,
        }
    }

    /// Stamps the tenant field on a document about to be written, refusing one that names another tenant.
    /// A `null` tenant field (an `Option` left `None`) is stamped like a missing one.
    pub(crate) fn stamp(&self, raw: &mut RawDocumentBuf) -> Result<()> {
        let Confinement::Field { field, tenant } = self else {
            return Ok(());
        };
        match raw.get(field.as_ref()) {
            Ok(None) => raw.append(field.as_ref(), tenant.as_ref()),
            Ok(Some(value)) if value.as_str() == Some(tenant) => {}
            Ok(Some(mongodb::bson::RawBsonRef::Null)) => {
                let mut stamped = RawDocumentBuf::new();
                for element in raw.iter() {
                    let (key, value) = element.map_err(|_| corrupt())?;
                    if key == field.as_ref() {
                        stamped.append(key, tenant.as_ref());
                    } else {
                        stamped.append_ref(key, value);
                    }
                }
                *raw = stamped;
            }
            _ => {
                return Err(Error::TenantViolation(format!(
                    "the document sets the tenant field `{field}` to another value than the handle's tenant `{tenant}`; leave the field out, the library stamps it"
                )))
            }
        }
        Ok(())
    }

    /// Refuses an update that would set, unset or rename the tenant field.
    pub(crate) fn check_update(&self, update: &Update) -> Result<()> {
        let Confinement::Field { field, .. } = self else {
            return Ok(());
        };
        let names = |value: &Bson| match value {
            Bson::String(path) => names_field(path, field),
            Bson::Array(paths) => paths
                .iter()
                .any(|p| p.as_str().is_some_and(|p| names_field(p, field))),
            _ => false,
        };
        let touches = |doc: &Document| {
            doc.iter().any(|(op, args)| match args {
                Bson::Document(args) => args.iter().any(|(path, value)| {
                    names_field(path, field) || (op == "$rename" && names(value))
                }),
                // The pipeline forms `{ $unset: "field" }` and `{ $unset: ["field", ...] }`.
                _ if op == "$unset" => names(args),
                _ => !op.starts_with('$') && names_field(op, field),
            })
        };
        let violates = match update {
            Update::Document(doc) => touches(doc),
            Update::Pipeline(stages) => stages.iter().any(touches),
        };
        if violates {
            return Err(Error::TenantViolation(format!(
                "the update changes the tenant field `{field}`, which the tenant handle owns; a document cannot move to another tenant"
            )));
        }
        Ok(())
    }

    /// Adds what keeps an accepted update inside the tenant: a pipeline update ends by setting the tenant
    /// field again (a `$project`, `$replaceWith` or `$unset` stage cannot drop it), and an upsert stamps
    /// the tenant on the document it inserts.
    pub(crate) fn finish_update(&self, update: &mut Update, upsert: bool) {
        let Confinement::Field { field, tenant } = self else {
            return;
        };
        match update {
            Update::Pipeline(stages) => {
                stages.push(doc! { "$set": { field.as_ref(): { "$literal": tenant.as_ref() } } })
            }
            Update::Document(doc) if upsert => match doc.get_document_mut("$setOnInsert") {
                Ok(on_insert) => {
                    on_insert.insert(field.as_ref(), tenant.as_ref());
                }
                Err(_) => {
                    doc.insert("$setOnInsert", doc! { field.as_ref(): tenant.as_ref() });
                }
            },
            Update::Document(_) => {}
        }
    }

    /// An index spec as a tenant handle keeps it: in a shared collection the keys lead with the tenant
    /// field, so a unique index is unique per tenant and every index serves the tenant's (confined)
    /// queries; a text index gets the tenant field as its equality prefix. A TTL index stays as
    /// declared: MongoDB allows TTL on a single field only, and a document's expiry does not depend on
    /// its tenant. A spec that already leads with the tenant field is kept, so confining is idempotent.
    pub(crate) fn index(&self, mut spec: IndexSpec) -> IndexSpec {
        let Confinement::Field { field, .. } = self else {
            return spec;
        };
        let leads = spec.keys.keys().next().map(String::as_str) == Some(field.as_ref());
        if leads || spec.expire_after_secs.is_some() {
            return spec;
        }
        let default = spec.name == default_name(&spec.keys);
        let mut keys = doc! { field.as_ref(): 1 };
        keys.extend(std::mem::take(&mut spec.keys));
        if default {
            spec.name = default_name(&keys);
        }
        spec.keys = keys;
        spec
    }

    /// A collection's `$jsonSchema` as a tenant handle keeps it: in a shared collection the tenant field
    /// is required and a string.
    pub(crate) fn json_schema(&self, mut schema: Document) -> Document {
        let Confinement::Field { field, .. } = self else {
            return schema;
        };
        match schema.get_array_mut("required") {
            Ok(required) => {
                if !required.iter().any(|r| r.as_str() == Some(field)) {
                    required.push(Bson::from(field.as_ref()));
                }
            }
            Err(_) => {
                schema.insert("required", vec![Bson::from(field.as_ref())]);
            }
        }
        match schema.get_document_mut("properties") {
            Ok(properties) => {
                properties.insert(field.as_ref(), doc! { "bsonType": "string" });
            }
            Err(_) => {
                schema.insert(
                    "properties",
                    doc! { field.as_ref(): { "bsonType": "string" } },
                );
            }
        }
        schema
    }

    /// Confines an aggregation pipeline: for a shared collection, a leading `$match` on the tenant and no
    /// stage that reads or writes another collection; for collection per tenant, the collections that
    /// `$lookup`, `$graphLookup`, `$unionWith`, `$out` and `$merge` name are the tenant's own; and no
    /// stage of a tenant handle may name another database.
    pub(crate) fn pipeline(&self, mut pipeline: Vec<Document>) -> Result<Vec<Document>> {
        match self {
            Confinement::None => {}
            Confinement::Database => {
                for stage in &mut pipeline {
                    confine_stages(stage, None)?;
                }
            }
            Confinement::Prefix(prefix) => {
                for stage in &mut pipeline {
                    confine_stages(stage, Some(prefix))?;
                }
            }
            Confinement::Field { field, tenant } => {
                if let Some(stage) = pipeline.iter().find_map(|s| cross_collection_stage(s)) {
                    return Err(Error::TenantViolation(format!(
                        "the pipeline uses `{stage}`, which reads or writes another collection outside the tenant's documents; run it on the raw collection if you mean to cross tenants"
                    )));
                }
                pipeline.insert(0, doc! { "$match": { field.as_ref(): tenant.as_ref() } });
            }
        }
        Ok(pipeline)
    }
}

fn corrupt() -> Error {
    Error::Unsupported(
        "the encoded document is not valid BSON; this is a bug in a Serialize implementation",
    )
}

fn names_field(path: &str, field: &str) -> bool {
    path == field || (path.starts_with(field) && path[field.len()..].starts_with('.'))
}

const CROSS_COLLECTION: &[&str] = &["$lookup", "$graphLookup", "$unionWith", "$out", "$merge"];

/// The first stage operator, at any depth, that reaches another collection.
fn cross_collection_stage(doc: &Document) -> Option<&'static str> {
    doc.iter().find_map(|(key, value)| {
        if let Some(op) = CROSS_COLLECTION.iter().find(|op| **op == key) {
            return Some(*op);
        }
        match value {
            Bson::Document(d) => cross_collection_stage(d),
            Bson::Array(items) => items.iter().find_map(|item| match item {
                Bson::Document(d) => cross_collection_stage(d),
                _ => None,
            }),
            _ => None,
        }
    })
}

/// Walks a stage (and the pipelines nested in it), prefixing every collection a cross-collection stage
/// names with `prefix` when there is one, and refusing any stage that names a database.
fn confine_stages(doc: &mut Document, prefix: Option<&str>) -> Result<()> {
    for (key, value) in doc.iter_mut() {
        match (key.as_str(), &mut *value) {
            ("$lookup" | "$graphLookup", Bson::Document(args)) => {
                confine_name(key, args, "from", prefix)?;
            }
            ("$unionWith" | "$out", Bson::String(name)) => {
                prefix_name(name, prefix);
                continue;
            }
            ("$unionWith", Bson::Document(args)) => confine_name(key, args, "coll", prefix)?,
            ("$out", Bson::Document(args)) => {
                refuse_database(key, args)?;
                confine_name(key, args, "coll", prefix)?;
            }
            ("$merge", Bson::String(name)) => {
                prefix_name(name, prefix);
                continue;
            }
            ("$merge", Bson::Document(args)) => match args.get_mut("into") {
                Some(Bson::String(name)) => prefix_name(name, prefix),
                Some(Bson::Document(into)) => {
                    refuse_database(key, into)?;
                    confine_name(key, into, "coll", prefix)?;
                }
                _ => {}
            },
            _ => {}
        }
        match value {
            Bson::Document(d) => confine_stages(d, prefix)?,
            Bson::Array(items) => {
                for item in items {
                    if let Bson::Document(d) = item {
                        confine_stages(d, prefix)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn confine_name(stage: &str, args: &mut Document, key: &str, prefix: Option<&str>) -> Result<()> {
    match args.get_mut(key) {
        Some(Bson::String(name)) => prefix_name(name, prefix),
        Some(Bson::Document(ns)) => {
            refuse_database(stage, ns)?;
            if let Some(Bson::String(name)) = ns.get_mut("coll") {
                prefix_name(name, prefix);
            }
        }
        _ => {}
    }
    Ok(())
}

fn prefix_name(name: &mut String, prefix: Option<&str>) {
    if let Some(prefix) = prefix {
        name.insert_str(0, prefix);
    }
}

fn refuse_database(stage: &str, args: &Document) -> Result<()> {
    if args.contains_key("db") {
        return Err(Error::TenantViolation(format!(
            "the pipeline's `{stage}` names a database, which would reach outside the tenant's data; name only a collection (it is resolved within the tenant), or run it on the raw collection"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field() -> Confinement {
        Confinement::Field {
            field: "tenant_id".into(),
            tenant: "acme".into(),
        }
    }

    #[test]
    fn updates_that_touch_the_tenant_field_are_refused() {
        let refused = [
            Update::Document(doc! { "$set": { "tenant_id": "globex" } }),
            Update::Document(doc! { "$set": { "tenant_id.x": 1 } }),
            Update::Document(doc! { "$unset": { "tenant_id": "" } }),
            Update::Document(doc! { "$rename": { "tenant_id": "t" } }),
            Update::Document(doc! { "$rename": { "name": "tenant_id" } }),
            Update::Pipeline(vec![doc! { "$set": { "tenant_id": "globex" } }]),
            Update::Pipeline(vec![doc! { "$unset": "tenant_id" }]),
            Update::Pipeline(vec![doc! { "$unset": ["name", "tenant_id"] }]),
        ];
        for update in refused {
            assert!(
                matches!(
                    field().check_update(&update),
                    Err(Error::TenantViolation(_))
                ),
                "{update:?}"
            );
        }
        let allowed = Update::Document(doc! { "$set": { "tenant_idx": 1, "name": "a" } });
        assert!(field().check_update(&allowed).is_ok());
    }

    #[test]
    fn pipeline_updates_and_upserts_restamp_the_tenant() {
        let mut update = Update::Pipeline(vec![doc! { "$replaceWith": { "name": "x" } }]);
        field().finish_update(&mut update, false);
        let Update::Pipeline(stages) = update else {
            unreachable!()
        };
        assert_eq!(
            stages.last(),
            Some(&doc! { "$set": { "tenant_id": { "$literal": "acme" } } })
        );

        let mut update = Update::Document(doc! { "$set": { "n": 1 }, "$setOnInsert": { "a": 1 } });
        field().finish_update(&mut update, true);
        let Update::Document(doc) = update else {
            unreachable!()
        };
        assert_eq!(
            doc.get_document("$setOnInsert").unwrap(),
            &doc! { "a": 1, "tenant_id": "acme" }
        );
    }

    #[test]
    fn null_tenant_field_is_stamped_and_another_tenant_refused() {
        let mut raw = mongodb::bson::rawdoc! { "a": 1, "tenant_id": null, "b": 2 };
        field().stamp(&mut raw).unwrap();
        assert_eq!(
            raw.to_document().unwrap(),
            doc! { "a": 1, "tenant_id": "acme", "b": 2 }
        );
        let mut raw = mongodb::bson::rawdoc! { "tenant_id": "globex" };
        assert!(field().stamp(&mut raw).is_err());
    }

    #[test]
    fn prefixed_pipelines_stay_in_the_tenant() {
        let scope = Confinement::Prefix("acme.".into());
        let pipeline = scope
            .pipeline(vec![
                doc! { "$lookup": { "from": "orders", "as": "o", "pipeline": [ { "$unionWith": "refunds" } ] } },
                doc! { "$merge": { "into": "totals" } },
            ])
            .unwrap();
        assert_eq!(
            pipeline,
            vec![
                doc! { "$lookup": { "from": "acme.orders", "as": "o", "pipeline": [ { "$unionWith": "acme.refunds" } ] } },
                doc! { "$merge": { "into": "acme.totals" } },
            ]
        );
        for stage in [
            doc! { "$out": { "db": "other", "coll": "x" } },
            doc! { "$merge": { "into": { "db": "other", "coll": "x" } } },
            doc! { "$lookup": { "from": { "db": "other", "coll": "x" }, "as": "o" } },
        ] {
            assert!(scope.pipeline(vec![stage.clone()]).is_err(), "{stage}");
            assert!(
                Confinement::Database.pipeline(vec![stage.clone()]).is_err(),
                "{stage}"
            );
        }
        assert_eq!(
            Confinement::Database
                .pipeline(vec![doc! { "$lookup": { "from": "orders", "as": "o" } }])
                .unwrap(),
            vec![doc! { "$lookup": { "from": "orders", "as": "o" } }]
        );
    }

    #[test]
    fn shared_indexes_lead_with_the_tenant_field_except_ttl() {
        let spec = |keys: Document, name: &str, ttl: Option<u64>| IndexSpec {
            name: name.into(),
            keys,
            unique: true,
            sparse: false,
            expire_after_secs: ttl,
            partial_filter: None,
        };
        let unique = field().index(spec(doc! { "email": 1 }, "email_1", None));
        assert_eq!(unique.keys, doc! { "tenant_id": 1, "email": 1 });
        assert_eq!(unique.name, "tenant_id_1_email_1");
        // Idempotent, and a name the user chose is kept.
        assert_eq!(field().index(unique.clone()), unique);
        let named = field().index(spec(doc! { "email": 1 }, "by_email", None));
        assert_eq!(named.name, "by_email");
        let text = field().index(spec(doc! { "bio": "text" }, "bio_text", None));
        assert_eq!(text.keys, doc! { "tenant_id": 1, "bio": "text" });
        let ttl = spec(doc! { "expires": 1 }, "expires_1", Some(60));
        assert_eq!(field().index(ttl.clone()), ttl);
        let plain = spec(doc! { "email": 1 }, "email_1", None);
        assert_eq!(
            Confinement::Prefix("acme.".into()).index(plain.clone()),
            plain
        );
    }

    #[test]
    fn shared_validators_require_the_tenant_field() {
        let schema = field().json_schema(
            doc! { "bsonType": "object", "required": ["_id"], "properties": { "_id": {} } },
        );
        assert_eq!(
            schema,
            doc! { "bsonType": "object", "required": ["_id", "tenant_id"], "properties": { "_id": {}, "tenant_id": { "bsonType": "string" } } }
        );
        let unchanged = doc! { "bsonType": "object" };
        assert_eq!(
            Confinement::Database.json_schema(unchanged.clone()),
            unchanged
        );
    }
}
