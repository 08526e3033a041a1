//! A MongoDB ODM for multi-tenant Rust services.
//!
//! `#[derive(Model)]` computes a model's schema once, at compile time; [`Connection::model`] binds it to
//! any connection at run time with no I/O, and [`Connection::use_db`] reaches another database over the
//! same connection pool, so a million tenants cost one pool and one compiled schema.
//!
//! ```
//! use odm_core::prelude::*;
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Model)]
//! #[model(collection = "users", timestamps)]
//! struct User {
//!     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
//!     id: Option<ObjectId>,
//!     #[field(unique)]
//!     email: String,
//!     #[field(range(min = 0, max = 150))]
//!     age: i32,
//!     created_at: Option<DateTime>,
//!     updated_at: Option<DateTime>,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> odm_core::Result<()> {
//! # let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
//! let conn = Connection::connect(&uri).await?;         // like createConnection: one pool
//! let acme = conn.use_db("guide_tour_acme")?;          // like useDb(name, { useCache: true })
//! # acme.database().drop().await?;
//! let users = acme.model::<User>();                    // bind the schema: no I/O
//! users.sync_indexes().await?;                         // create what is declared, drop what is not
//!
//! let ann = users
//!     .create(User { id: None, email: "ann@acme.io".into(), age: 30, created_at: None, updated_at: None })
//!     .await?;
//! assert!(ann.created_at.is_some());
//!
//! let f = User::fields();                              // typed paths: a typo does not compile
//! let adults = users.find(f.age.gte(18)).sort(f.age.desc()).limit(10).await?;
//! assert_eq!(adults.len(), 1);
//!
//! let bad = User { id: None, email: "bob@acme.io".into(), age: -1, created_at: None, updated_at: None };
//! match users.create(bad).await {
//!     Err(Error::Validation(e)) => assert_eq!(e.errors[0].path, "age"), // every failing field, by path
//!     other => panic!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # The guide
//!
//! The [`guide`] walks through the library, one chapter per topic, every example a doctest:
//!
//! - [Getting started](guide::getting_started): the two commands, then a first model.
//! - [Defining models](guide::defining_models): every `#[model]` and `#[field]` attribute,
//!   `#[derive(Embedded)]`, and the schema docs the derive writes on `<Model>Fields`.
//! - [Connections and `use_db`](guide::connections): one client, one pool, many databases.
//! - [Tenancy](guide::tenancy): [`Tenants`] and the three [`Strategy`]s, when to pick each, fleet-wide
//!   chores with [`Tenants::for_each`], and the [`Connections`] registry for tenants on several clusters.
//! - [Tenant lifecycle](guide::lifecycle): a [`Fleet`] over a [`Catalogue`]: provisioning,
//!   suspension, erasure, export and import in `mongodump`'s format, and live moves between placements.
//! - [Migrations](guide::migrations): [`Migrations`] across the fleet, once per tenant, with a ledger
//!   per tenant; reading old shapes while a migration is half-way.
//! - [Queries](guide::queries): typed filters, updates, sorts and projections from `User::fields()`,
//!   and raw documents beside them.
//! - [Validation](guide::validation): rules, [`Error::Validation`], and the server's `$jsonSchema`.
//! - [Indexes](guide::indexes): [`ModelHandle::diff_indexes`] and [`ModelHandle::sync_indexes`].
//! - [Saving and versions](guide::saving): [`ModelHandle::save`], [`Error::VersionConflict`],
//!   timestamps.
//! - [Hooks](guide::hooks): [`hooks::Hooks`] around a model's writes.
//! - [References and populate](guide::populate): [`Ref`] and [`Find::populate`].
//! - [Transactions](guide::transactions): [`Connection::transaction`].
//! - [Change streams](guide::change_streams): [`ModelHandle::watch`].
//! - [Errors](guide::errors): every [`Error`] variant and what to do about it.
//! - [Deploying](guide::deploying): replica sets, sharded clusters, Atlas and the connection budget.
//! - [Observability](guide::observability): a `tracing` span per operation labelled by tenant,
//!   slow-operation warnings, and [`observe`]'s metrics.
//! - [Coming from Mongoose](guide::coming_from_mongoose): a side-by-side table and a migration path.
//!
//! # Crate layout
//!
//! Most programs need only [`prelude`]. [`ModelHandle`] holds every operation on a bound model; each is a
//! builder that runs when awaited, and every one reaches the server through one private pipeline that
//! applies the tenant's confinement, the session and the operation timeout, so no operation can forget
//! them. [`schema`] is the compile-time schema the derive writes, [`validate`] what a failed rule
//! reports, [`hooks`] the lifecycle hooks, and [`observe`] the names of the library's spans and metrics.
//! The driver is re-exported as
//! [`mongodb`] (and [`bson`]): the library never traps you.
#![warn(missing_docs)]

// The derive's generated code names `::odm_core`; this lets the library derive its own models.
extern crate self as odm_core;

mod connection;
mod decode;
mod error;
pub mod guide;
mod handle;
pub mod hooks;
mod lifecycle;
mod model;
mod name;
pub mod observe;
mod ops;
mod query;
pub mod schema;
mod session;
mod tenancy;
mod transaction;
mod update_rules;
pub mod validate;

pub use connection::{
    ConnectOptions, Connection, DEFAULT_TIMEOUT, DEFAULT_USE_DB_CACHE, INLINE_NAME_LEN,
};
pub use error::{Error, NameKind, NameRule, Result};
pub use handle::{ModelHandle, MAX_DOCUMENT_SIZE};
pub use lifecycle::{
    Catalogue, DumpReport, ErasureReport, Fleet, FleetBuilder, LedgerEntry, MigrateOptions,
    MigrateProgress, MigrationReport, Migrations, ModelSet, MovePhase, MoveRecord, MoveReport,
    Progress, SetModel, TenantEvent, TenantMigration, TenantRecord, TenantState, TenantTop,
    DEFAULT_HOLD, DEFAULT_LEASE, DUMP_MANIFEST, LEDGER_COLLECTION, PROCESSES_COLLECTION,
};
pub use model::{Embedded, Model};
pub use name::{check_collection_name, check_database_name, MAX_DATABASE_NAME_LEN};
pub use ops::aggregate::Aggregate;
pub use ops::bulk::{BulkWrite, BulkWriteFailure, BulkWriteResult, Write};
pub use ops::count::{Count, Distinct, Exists};
pub use ops::delete::{Delete, Restore};
pub use ops::find::{Find, FindOne, Projected, Required};
pub use ops::find_and_modify::{
    FindOneAndDelete, FindOneAndReplace, FindOneAndUpdate, ProjectedModify,
};
pub use ops::indexes::{IndexDiff, IndexSpec, IndexSync, Sharding};
pub use ops::insert::{Create, InsertMany, Save};
pub use ops::page::{Page, PageFind};
pub use ops::populate::{Populate, Populated, Ref, RefField, Unresolved};
pub use ops::settings::{
    Acknowledgment, Collation, CollationStrength, Hint, ReadConcern, ReadPreference, Settings,
    WriteConcern,
};
pub use ops::update::{Replace, UpdateOp};
pub use ops::watch::{ChangeEvent, ChangeStream, ResumeToken, Watch};
pub use query::{
    ArrayField, DateField, Field, Filter, IntoUpdate, NumberField, Operand, Projection, Sort,
    TextField, Update, UpdateBuilder,
};
pub use session::Session;
pub use tenancy::registry::{
    redact_uri, Connections, ConnectionsBuilder, RegistryStats, DEFAULT_IDLE_WAIT,
    DEFAULT_MAX_CLIENTS, DEFAULT_POOL_SIZE,
};
pub use tenancy::{
    check_tenant_id, FleetReport, Strategy, Tenant, Tenants, Usage, COLLECTION_NAME_BUDGET,
    DEFAULT_TENANT_CACHE, DEFAULT_TENANT_FIELD, MAX_TENANT_ID_LEN,
};
pub use transaction::{SessionGuard, Transaction, TRANSACTION_RETRY_LIMIT};

/// The derive macros: `#[derive(Model)]` and `#[derive(Embedded)]`.
#[cfg(feature = "derive")]
pub use odm_derive::{Embedded, Model};

pub use mongodb;
pub use mongodb::bson;

/// What most programs need, in one import: `use odm_core::prelude::*;`.
pub mod prelude {
    pub use crate::{Connection, Embedded, Error, Model, ModelHandle, Result};
    pub use futures_util::stream::{StreamExt as _, TryStreamExt as _};
    pub use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
    pub use serde::{Deserialize, Serialize};
}

/// Items the derive's generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::decode::{
        decode_slots, skip_element, Decode, DecodeDocument, Defaulted, Elements, Probe, SerdeSlot,
        Slot, Slots, Value, ViaDecode, ViaSerde, WithDefault,
    };
    pub use crate::hooks::{hooks_of, DynHooks};
    pub use crate::ops::settings::{
        Acknowledgment, Collation, CollationStrength, ReadConcern, ReadPreference, Settings,
        WriteConcern,
    };
    pub use crate::query::Field;
    pub use crate::schema::{
        compile, BsonType, FieldDefault, FieldSchema, IndexKey, IndexSchema, Literal, Number,
        Pattern, Rule, Schema,
    };
    pub use crate::validate::{
        check_custom, check_email, check_length, check_one_of, check_range, check_regex,
        check_required, join_path, validate_embedded, validate_embedded_list, Describe,
        DescribeAny, DescribeDebug, FieldError, ValidationErrors,
    };
    pub use crate::{Embedded, Error, Model, Result};
    pub use mongodb::bson;
    pub use regex::Regex;
    pub use serde;
    pub use std::sync::LazyLock;

    use mongodb::bson::{Bson, DateTime};

    /// The `_id` field's value as BSON.
    pub fn id_to_bson<V: serde::Serialize + 'static>(
        type_name: &'static str,
        id: &V,
    ) -> Result<Bson> {
        use bson::oid::ObjectId;
        // The common `_id` types skip serde: bson encodes an `ObjectId` through its extended JSON form.
        let any: &dyn std::any::Any = id;
        if let Some(id) = any.downcast_ref::<Option<ObjectId>>() {
            return Ok(id.map_or(Bson::Null, Bson::ObjectId));
        }
        if let Some(id) = any.downcast_ref::<ObjectId>() {
            return Ok(Bson::ObjectId(*id));
        }
        bson::to_bson(id).map_err(|source| Error::Serialization {
            type_name,
            source: Box::new(source),
        })
    }

    /// The value of a field's `#[field(default = ..)]` as BSON, for the `$setOnInsert` of an upsert.
    pub fn default_to_bson<V: serde::Serialize>(
        type_name: &'static str,
        value: &V,
    ) -> Result<Bson> {
        bson::to_bson(value).map_err(|source| Error::Serialization {
            type_name,
            source: Box::new(source),
        })
    }

    /// A generated `_id` as the field's type.
    pub fn id_from_bson<V: serde::de::DeserializeOwned + 'static>(
        type_name: &'static str,
        id: Bson,
    ) -> Result<V> {
        use bson::oid::ObjectId;
        if let Bson::ObjectId(oid) = id {
            let mut out: Option<V> = None;
            let any: &mut dyn std::any::Any = &mut out;
            if let Some(slot) = any.downcast_mut::<Option<Option<ObjectId>>>() {
                *slot = Some(Some(oid));
            }
            let any: &mut dyn std::any::Any = &mut out;
            if let Some(slot) = any.downcast_mut::<Option<ObjectId>>() {
                *slot = Some(oid);
            }
            if let Some(value) = out {
                return Ok(value);
            }
        }
        bson::from_bson(id).map_err(|source| Error::Deserialization { type_name, source })
    }

    /// A field `#[model(timestamps)]` can set: `DateTime` or `Option<DateTime>`.
    pub trait TimestampField {
        /// Stores `now`.
        fn set_timestamp(&mut self, now: DateTime);
    }

    impl TimestampField for DateTime {
        fn set_timestamp(&mut self, now: DateTime) {
            *self = now;
        }
    }

    impl TimestampField for Option<DateTime> {
        fn set_timestamp(&mut self, now: DateTime) {
            *self = Some(now);
        }
    }

    /// A field `#[model(version)]` can hold: an integer or an `Option` of one.
    pub trait VersionField {
        /// The version, if set.
        fn get_version(&self) -> Option<i64>;
        /// Stores the version (saturating at the type's bounds).
        fn put_version(&mut self, version: i64);
    }

    macro_rules! version_field {
        ($($t:ty),*) => {$(
            impl VersionField for $t {
                fn get_version(&self) -> Option<i64> {
                    i64::try_from(*self).ok()
                }
                fn put_version(&mut self, version: i64) {
                    *self = <$t>::try_from(version)
                        .unwrap_or(if version < 0 { <$t>::MIN } else { <$t>::MAX });
                }
            }
            impl VersionField for Option<$t> {
                fn get_version(&self) -> Option<i64> {
                    self.as_ref().and_then(VersionField::get_version)
                }
                fn put_version(&mut self, version: i64) {
                    let mut v: $t = 0;
                    v.put_version(version);
                    *self = Some(v);
                }
            }
        )*};
    }
    version_field!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
}

/// The README's examples, compiled (and, where they need no server, run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod id_tests {
    use super::__private::{id_from_bson, id_to_bson};
    use mongodb::bson::{oid::ObjectId, Bson};

    #[test]
    fn ids_of_every_type_round_trip() {
        let oid = ObjectId::new();
        assert_eq!(id_to_bson("T", &Some(oid)).unwrap(), Bson::ObjectId(oid));
        assert_eq!(id_to_bson("T", &None::<ObjectId>).unwrap(), Bson::Null);
        assert_eq!(id_to_bson("T", &oid).unwrap(), Bson::ObjectId(oid));
        assert_eq!(
            id_to_bson("T", &"a".to_string()).unwrap(),
            Bson::String("a".into())
        );
        assert_eq!(id_to_bson("T", &7i64).unwrap(), Bson::Int64(7));

        assert_eq!(
            id_from_bson::<Option<ObjectId>>("T", Bson::ObjectId(oid)).unwrap(),
            Some(oid)
        );
        assert_eq!(
            id_from_bson::<ObjectId>("T", Bson::ObjectId(oid)).unwrap(),
            oid
        );
        assert_eq!(
            id_from_bson::<Option<ObjectId>>("T", Bson::Null).unwrap(),
            None
        );
        assert_eq!(
            id_from_bson::<String>("T", Bson::String("a".into())).unwrap(),
            "a"
        );
        assert!(id_from_bson::<i64>("T", Bson::ObjectId(oid)).is_err());
    }
}
