//! A [`Strategy`] compiled once, when a [`Tenants`](super::Tenants) is made: the bound on tenant ids,
//! how a tenant's names are built, how [`discover`](super::Tenants::discover) reads them back, and the
//! [`Confinement`] its handles carry. A new strategy touches this file and `confine.rs` only.

use std::sync::Arc;

use super::confine::Confinement;
use super::{check_id, Strategy, COLLECTION_NAME_BUDGET, MAX_TENANT_ID_LEN};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::name::{check_database_name, MAX_DATABASE_NAME_LEN, MAX_NAMESPACE_LEN};

/// Where tenants live, compiled from a [`Strategy`] on one database.
#[derive(Debug)]
pub(crate) struct Placement {
    kind: Kind,
    max_id_len: usize,
    /// Why the bound is what it is, for the error that names it.
    why_max: String,
}

#[derive(Debug)]
enum Kind {
    Database { prefix: String },
    Collection { prefix: String, separator: String },
    Shared { field: Arc<str> },
}

/// Where a tenant's data is: its connection, and the confinement of its handles.
pub(crate) struct Place {
    pub(crate) conn: Connection,
    pub(crate) confinement: Confinement,
}

impl Placement {
    /// Checks that `strategy` can make valid names on database `database`, and compiles it.
    pub(crate) fn compile(strategy: &Strategy, database: &str) -> Result<Placement> {
        let bad = |msg: String| Err(Error::InvalidStrategy(msg));
        let (kind, max_id_len, why_max) = match strategy {
            Strategy::DatabasePerTenant { prefix } => {
                if !prefix.is_empty() {
                    check_database_name(prefix).map_err(|e| {
                        Error::InvalidStrategy(format!(
                            "the database prefix {prefix:?} cannot start a database name: {e}"
                        ))
                    })?;
                }
                if prefix.len() >= MAX_DATABASE_NAME_LEN {
                    return bad(format!(
                        "the database prefix {prefix:?} is {} bytes long and leaves no room for a tenant id in MongoDB's {MAX_DATABASE_NAME_LEN} bytes per database name; use a shorter prefix",
                        prefix.len()
                    ));
                }
                (
                    Kind::Database {
                        prefix: prefix.clone(),
                    },
                    MAX_DATABASE_NAME_LEN - prefix.len(),
                    format!(
                        " so that the database name {prefix:?} + id fits MongoDB's {MAX_DATABASE_NAME_LEN} bytes"
                    ),
                )
            }
            Strategy::CollectionPerTenant { prefix, separator } => {
                if separator.is_empty() {
                    return bad(
                        "the collection separator is empty, so a collection name cannot tell its tenant; use `.` (or `__` where collection names must be identifiers)".into(),
                    );
                }
                if let Some(c) = prefix
                    .chars()
                    .chain(separator.chars())
                    .find(|c| matches!(c, '$' | '\0'))
                {
                    return bad(format!(
                        "the collection prefix and separator may not hold {c:?}, which MongoDB forbids in collection names"
                    ));
                }
                if prefix.starts_with("system.") {
                    return bad(format!(
                        "the collection prefix {prefix:?} starts with `system.`, which MongoDB reserves; choose another prefix"
                    ));
                }
                let budget = collection_id_budget(database, prefix, separator);
                if budget == 0 {
                    return bad(format!(
                        "database {database:?} with collection prefix {prefix:?} and separator {separator:?} leaves no room for a tenant id in MongoDB's {MAX_NAMESPACE_LEN}-byte namespace; shorten them"
                    ));
                }
                (
                    Kind::Collection {
                        prefix: prefix.clone(),
                        separator: separator.clone(),
                    },
                    budget,
                    format!(
                        " so that `{database}.{prefix}<id>{separator}<collection>` fits MongoDB's {MAX_NAMESPACE_LEN}-byte namespace with {COLLECTION_NAME_BUDGET} bytes for the collection"
                    ),
                )
            }
            Strategy::SharedCollection { field } => {
                if field.is_empty()
                    || field.starts_with('$')
                    || field.contains(['.', '\0'])
                    || field == "_id"
                {
                    return bad(format!(
                        "the tenant field {field:?} must be a top-level field name: not empty, not `_id`, no `.`, no leading `$`; use e.g. `{}`",
                        super::DEFAULT_TENANT_FIELD
                    ));
                }
                (
                    Kind::Shared {
                        field: Arc::from(field.as_str()),
                    },
                    MAX_TENANT_ID_LEN,
                    String::new(),
                )
            }
        };
        Ok(Placement {
            kind,
            max_id_len: max_id_len.min(MAX_TENANT_ID_LEN),
            why_max,
        })
    }

    /// The longest tenant id accepted, in bytes.
    pub(crate) fn max_id_len(&self) -> usize {
        self.max_id_len
    }

    /// Checks `id` against every rule of the strategy.
    pub(crate) fn check(&self, id: &str) -> Result<()> {
        check_id(id, self.max_id_len, &self.why_max)?;
        if let Kind::Collection { separator, .. } = &self.kind {
            // `{id}{separator}` must hold the separator first right after the id.
            let overlaps = id.contains(separator.as_str())
                || (1..separator.len())
                    .filter(|k| separator.is_char_boundary(*k))
                    .any(|k| id.ends_with(&separator[..k]));
            if overlaps {
                return Err(Error::InvalidTenant {
                    id: id.to_owned(),
                    rule: format!(
                        "it holds (or ends with the start of) the collection separator {separator:?}, so its collection names would not tell its tenant; use an id without it, or another separator"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Where the (checked) tenant `id` lives on `conn`.
    pub(crate) fn place(&self, conn: &Connection, id: &Arc<str>) -> Result<Place> {
        Ok(match &self.kind {
            Kind::Database { prefix } => Place {
                conn: conn.use_db(&format!("{prefix}{id}"))?,
                confinement: Confinement::Database,
            },
            Kind::Collection { prefix, separator } => Place {
                conn: conn.clone(),
                confinement: Confinement::Prefix(Arc::from(format!("{prefix}{id}{separator}"))),
            },
            Kind::Shared { field } => Place {
                conn: conn.clone(),
                confinement: Confinement::Field {
                    field: field.clone(),
                    tenant: id.clone(),
                },
            },
        })
    }

    /// The tenant a database name belongs to, with a database per tenant.
    pub(crate) fn tenant_of_database<'n>(&self, name: &'n str) -> Option<&'n str> {
        match &self.kind {
            Kind::Database { prefix } => name.strip_prefix(prefix.as_str()),
            _ => None,
        }
    }

    /// The tenant a collection name belongs to, with a collection per tenant.
    pub(crate) fn tenant_of_collection<'n>(&self, name: &'n str) -> Option<&'n str> {
        match &self.kind {
            Kind::Collection { prefix, separator } => name
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.split_once(separator.as_str()))
                .map(|(id, _)| id),
            _ => None,
        }
    }

    /// The tenant field, with a shared collection.
    pub(crate) fn tenant_field(&self) -> Option<&str> {
        match &self.kind {
            Kind::Shared { field } => Some(field),
            _ => None,
        }
    }

    /// `true` with a database per tenant.
    pub(crate) fn is_database_per_tenant(&self) -> bool {
        matches!(self.kind, Kind::Database { .. })
    }
}

fn collection_id_budget(database: &str, prefix: &str, separator: &str) -> usize {
    MAX_NAMESPACE_LEN.saturating_sub(
        database.len() + 1 + prefix.len() + separator.len() + COLLECTION_NAME_BUDGET,
    )
}
