//! A MongoDB ODM for multi-tenant Rust services.
//!
//! `#[derive(Model)]` computes a model's schema once, at compile time; [`Connection::model`] binds it to
//! any connection at run time with no I/O, and [`Connection::use_db`] reaches another database over the
//! same connection pool, so a million tenants cost one pool and one compiled schema.
//!
//! ```no_run
//! use odm_core::prelude::*;
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Model)]
//! #[model(collection = "users")]
//! struct User {
//!     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
//!     id: Option<ObjectId>,
//!     email: String,
//!     age: i32,
//! }
//!
//! # async fn run() -> odm_core::Result<()> {
//! let conn = Connection::connect("mongodb://127.0.0.1:27017/app").await?;
//! let users = conn.use_db("tenant_acme")?.model::<User>();
//! let ann = users.create(User { id: None, email: "ann@acme.io".into(), age: 30 }).await?;
//! assert!(users.find_by_id(ann.id.unwrap()).await?.is_some());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod connection;
mod error;
mod handle;
pub mod hooks;
mod model;
mod name;
mod populate;
mod query;
pub mod schema;
mod scope;
mod session;
mod transaction;
pub mod validate;
mod watch;

pub use connection::{ConnectOptions, Connection, DEFAULT_TIMEOUT, DEFAULT_USE_DB_CACHE};
pub use error::{Error, NameKind, NameRule, Result};
pub use handle::{
    Aggregate, Count, Create, Delete, Distinct, Exists, Find, FindOne, InsertMany, ModelHandle,
    Replace, UpdateOp, MAX_DOCUMENT_SIZE,
};
pub use model::{Embedded, Model};
pub use name::{check_collection_name, check_database_name, MAX_DATABASE_NAME_LEN};
pub use populate::{Populate, Populated, Ref, RefField, Unresolved};
pub use query::{
    ArrayField, DateField, Field, Filter, IntoUpdate, NumberField, Operand, Projected, Projection,
    Sort, TextField, Update, UpdateBuilder,
};
pub use session::Session;
pub use transaction::{SessionGuard, Transaction, TRANSACTION_RETRY_LIMIT};
pub use watch::{ChangeEvent, ChangeStream, ResumeToken, Watch};

/// The derive macros: `#[derive(Model)]` and `#[derive(Embedded)]`.
#[cfg(feature = "derive")]
pub use odm_derive::{Embedded, Model};

pub use mongodb;
pub use mongodb::bson;

/// What most programs need, in one import: `use odm_core::prelude::*;`.
pub mod prelude {
    pub use crate::{Connection, Embedded, Error, Model, ModelHandle, Result};
    pub use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
    pub use serde::{Deserialize, Serialize};
}

/// Items the derive's generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::hooks::{hooks_of, DynHooks};
    pub use crate::schema::{FieldSchema, IndexKey, IndexSchema, Rule, Schema};
    pub use crate::validate::{FieldError, ValidationErrors};
    pub use mongodb::bson;
    pub use serde;
}
