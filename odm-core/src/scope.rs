//! What a tenant-scoped model handle adds to every operation: a collection prefix, or a tenant field that
//! is stamped on every write and added to every filter.

use std::sync::Arc;

use mongodb::bson::{doc, Bson, Document, RawDocumentBuf};

use crate::error::{Error, Result};

/// How a model handle is confined to a tenant.
#[derive(Debug, Clone, Default)]
pub(crate) enum Scope {
    /// Not confined: the handle sees its whole collection.
    #[default]
    None,
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

impl Scope {
    /// The collection name for a model stored in `collection`.
    pub(crate) fn collection_name<'a>(&self, collection: &'a str) -> std::borrow::Cow<'a, str> {
        match self {
            Scope::Prefix(prefix) => format!("{prefix}{collection}").into(),
            _ => collection.into(),
        }
    }

    /// The filter confined to the tenant.
    pub(crate) fn filter(&self, filter: Document) -> Document {
        match self {
            Scope::Field { field, tenant } => {
                if filter.is_empty() {
                    doc! { field.as_ref(): tenant.as_ref() }
                } else {
                    doc! { "$and": [ { field.as_ref(): tenant.as_ref() }, filter ] }
                }
            }
            _ => filter,
        }
    }

    /// Stamps the tenant field on a document about to be written, refusing one that names another tenant.
    pub(crate) fn stamp(&self, doc: &mut RawDocumentBuf) -> Result<()> {
        if let Scope::Field { field, tenant } = self {
            match doc.get(field.as_ref()) {
                Ok(None) => doc.append(field.as_ref(), tenant.as_ref()),
                Ok(Some(value)) if value.as_str() == Some(tenant) => {}
                _ => {
                    return Err(Error::TenantViolation(format!(
                        "the document sets the tenant field `{field}` to another value than the handle's tenant `{tenant}`; leave the field out, the library stamps it"
                    )))
                }
            }
        }
        Ok(())
    }

    /// Refuses an update that would set, unset or rename the tenant field.
    pub(crate) fn check_update(&self, update: &crate::query::Update) -> Result<()> {
        let Scope::Field { field, .. } = self else {
            return Ok(());
        };
        let touches = |doc: &Document| {
            doc.iter().any(|(op, args)| match args {
                Bson::Document(args) => args.iter().any(|(path, value)| {
                    names_field(path, field)
                        || (op == "$rename"
                            && value.as_str().is_some_and(|to| names_field(to, field)))
                }),
                _ => !op.starts_with('$') && names_field(op, field),
            })
        };
        let violates = match update {
            crate::query::Update::Document(doc) => touches(doc),
            crate::query::Update::Pipeline(stages) => stages.iter().any(touches),
        };
        if violates {
            return Err(Error::TenantViolation(format!(
                "the update changes the tenant field `{field}`, which the tenant handle owns; a document cannot move to another tenant"
            )));
        }
        Ok(())
    }

    /// Confines an aggregation pipeline: a leading `$match` on the tenant, and no stage that reads or
    /// writes another collection.
    pub(crate) fn pipeline(&self, mut pipeline: Vec<Document>) -> Result<Vec<Document>> {
        if let Scope::Field { field, tenant } = self {
            if let Some(stage) = pipeline.iter().find_map(|s| cross_collection_stage(s)) {
                return Err(Error::TenantViolation(format!(
                    "the pipeline uses `{stage}`, which reads or writes another collection outside the tenant's documents; run it on the raw collection if you mean to cross tenants"
                )));
            }
            pipeline.insert(0, doc! { "$match": { field.as_ref(): tenant.as_ref() } });
        }
        Ok(pipeline)
    }
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
