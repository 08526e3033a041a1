//! Lifecycle hooks (`#[model(hooks)]`): code of the model's own that runs around its writes.
//!
//! Implement [`Hooks`] for the model and mark it `#[model(hooks)]`; the library then calls, on
//! `create`, `insert_many`, `replace_one` (and `save`): `before_validate`, the model's rules,
//! `before_save`, the write, `after_save`; and on `delete_one`/`delete_many`: `before_delete`, the write,
//! `after_delete`. An error from a `before_` hook aborts the operation before anything is written and
//! reaches the caller as [`Error::Hook`] with the hook's error inside, unchanged. `update_one` and
//! `update_many` change stored documents without reading them, so they run no save hooks (as in Mongoose).
//!
//! Query hooks run around the queries that select documents, with the filter: `before_query` may add
//! conditions to the filter (a policy) or refuse the query (nothing is sent), `after_query` sees how many
//! documents the query returned or changed (an audit log). [`HookContext::tenant`] names the tenant of a
//! tenant handle. They run once per query sent to the server, for the finds, counts, updates and
//! deletes of every operation (see [`QueryKind`]); `aggregate`, `bulk_write`, `watch` and inserts send
//! none of those queries and run none (as Mongoose's query middleware does not run for `aggregate`,
//! `bulkWrite` or `insertMany`). A streamed find runs `before_query` only: its count is not known when
//! the stream is handed over.
//!
//! Models without `#[model(hooks)]` pay one `None` check per write and per query: no hook context is
//! built and no filter is copied.

use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use mongodb::bson::Document;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::model::Model;

/// The error a hook returns: any error, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the operation a hook runs for takes place.
#[derive(Debug, Clone)]
pub struct HookContext {
    conn: Connection,
    collection: Cow<'static, str>,
    tenant: Option<Arc<str>>,
}

impl HookContext {
    pub(crate) fn new(
        conn: Connection,
        collection: Cow<'static, str>,
        tenant: Option<Arc<str>>,
    ) -> Self {
        HookContext {
            conn,
            collection,
            tenant,
        }
    }

    /// The tenant of the handle the operation runs on ([`Tenants::get`](crate::Tenants::get)); `None`
    /// for a model bound to a plain connection.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The name of the database the operation writes to (the tenant's, for a tenant connection).
    pub fn database(&self) -> &str {
        self.conn.name()
    }

    /// The name of the collection the operation writes to.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// The connection the operation runs on: bind other models from it to stay in the same database.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The kind of query a query hook ([`Hooks::before_query`], [`Hooks::after_query`]) runs around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryKind {
    /// A read of documents: `find` (pages and `populate`'s loads too), `find_one`, `find_by_id`,
    /// `exists`, `distinct`.
    Find,
    /// `count` (and the count of `find_and_count`).
    Count,
    /// An update or a replacement: `update_one`, `update_many`, `replace_one`, `save` of a stored
    /// document, `find_one_and_update`, `find_one_and_replace`, `restore`.
    Update,
    /// A delete: `delete_one`, `delete_many`, `find_one_and_delete`, soft deletes included.
    Delete,
}

/// A model's lifecycle hooks. Every method has a default that does nothing; implement the ones you need,
/// and mark the model `#[model(hooks)]`.
///
/// ```
/// use odm_core::hooks::{BoxError, HookContext, Hooks};
/// use odm_core::prelude::*;
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// #[model(collection = "users", hooks)]
/// struct User {
///     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
///     id: Option<ObjectId>,
///     email: String,
/// }
///
/// impl Hooks for User {
///     async fn before_save(&mut self, _ctx: &HookContext) -> Result<(), BoxError> {
///         self.email = self.email.trim().to_lowercase();
///         Ok(())
///     }
/// }
///
/// assert!(User::hooks().is_some());
/// ```
///
/// The [hooks chapter](crate::guide::hooks) of the guide shows them at work.
pub trait Hooks: Model {
    /// Runs before the model's rules are checked; may change the value.
    fn before_validate(
        &mut self,
        ctx: &HookContext,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs after the rules passed and before the value is written; may change the value (the rules are
    /// not checked again). An error aborts the write.
    fn before_save(
        &mut self,
        ctx: &HookContext,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs after the value was written. An error reaches the caller, but the write is done.
    fn after_save(&self, ctx: &HookContext) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs before a delete, with the caller's filter. An error aborts the delete.
    fn before_delete(
        filter: &Document,
        ctx: &HookContext,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (filter, ctx);
        async { Ok(()) }
    }

    /// Runs after a delete, with the caller's filter and how many documents were deleted. An error reaches
    /// the caller, but the delete is done.
    fn after_delete(
        filter: &Document,
        deleted: u64,
        ctx: &HookContext,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (filter, deleted, ctx);
        async { Ok(()) }
    }

    /// Runs before a query of kind `kind` is sent, with its filter as the caller wrote it (the tenant's
    /// confinement and the soft-delete condition are added after): conditions added to `filter` narrow
    /// the query; an error refuses it, and nothing is sent.
    fn before_query(
        kind: QueryKind,
        filter: &mut Document,
        ctx: &HookContext,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (kind, filter, ctx);
        async { Ok(()) }
    }

    /// Runs after a query of kind `kind`, with the filter sent (as `before_query` left it) and how many
    /// documents it returned (a find; for `count`, the count), changed (an update) or deleted. An error
    /// reaches the caller, but the query is done.
    fn after_query(
        kind: QueryKind,
        filter: &Document,
        count: u64,
        ctx: &HookContext,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (kind, filter, count, ctx);
        async { Ok(()) }
    }
}

/// The object-safe form of a model's query hooks, which the library calls from the pipeline every
/// query goes through.
pub trait DynQueryHooks: Send + Sync {
    /// The model's name, for [`Error::Hook`].
    fn type_name(&self) -> &'static str;
    /// Calls [`Hooks::before_query`].
    fn before_query<'a>(
        &'a self,
        kind: QueryKind,
        filter: &'a mut Document,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
    /// Calls [`Hooks::after_query`].
    fn after_query<'a>(
        &'a self,
        kind: QueryKind,
        filter: &'a Document,
        count: u64,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
}

/// The object-safe form of a model's [`Hooks`], which the library calls. Models without
/// `#[model(hooks)]` have none, and pay nothing.
pub trait DynHooks<T>: Send + Sync {
    /// Calls [`Hooks::before_validate`].
    fn before_validate<'a>(
        &'a self,
        value: &'a mut T,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
    /// Calls [`Hooks::before_save`].
    fn before_save<'a>(
        &'a self,
        value: &'a mut T,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
    /// Calls [`Hooks::after_save`].
    fn after_save<'a>(
        &'a self,
        value: &'a T,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
    /// Calls [`Hooks::before_delete`].
    fn before_delete<'a>(
        &'a self,
        filter: &'a Document,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
    /// Calls [`Hooks::after_delete`].
    fn after_delete<'a>(
        &'a self,
        filter: &'a Document,
        deleted: u64,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
    /// The model's query hooks; `None` when it has none.
    fn queries(&self) -> Option<&'static dyn DynQueryHooks> {
        None
    }
}

struct HooksOf<T>(PhantomData<fn() -> T>);

impl<T: Hooks> DynHooks<T> for HooksOf<T> {
    fn before_validate<'a>(
        &'a self,
        value: &'a mut T,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(value.before_validate(ctx))
    }

    fn before_save<'a>(
        &'a self,
        value: &'a mut T,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(value.before_save(ctx))
    }

    fn after_save<'a>(
        &'a self,
        value: &'a T,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(value.after_save(ctx))
    }

    fn before_delete<'a>(
        &'a self,
        filter: &'a Document,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(T::before_delete(filter, ctx))
    }

    fn after_delete<'a>(
        &'a self,
        filter: &'a Document,
        deleted: u64,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(T::after_delete(filter, deleted, ctx))
    }

    fn queries(&self) -> Option<&'static dyn DynQueryHooks> {
        Some(&HooksOf::<T>(PhantomData))
    }
}

impl<T: Hooks> DynQueryHooks for HooksOf<T> {
    fn type_name(&self) -> &'static str {
        T::SCHEMA.type_name
    }

    fn before_query<'a>(
        &'a self,
        kind: QueryKind,
        filter: &'a mut Document,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(T::before_query(kind, filter, ctx))
    }

    fn after_query<'a>(
        &'a self,
        kind: QueryKind,
        filter: &'a Document,
        count: u64,
        ctx: &'a HookContext,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(T::after_query(kind, filter, count, ctx))
    }
}

/// The hooks of a model that implements [`Hooks`]; what `#[model(hooks)]` returns from
/// [`Model::hooks`].
pub fn hooks_of<T: Hooks>() -> &'static dyn DynHooks<T> {
    &HooksOf::<T>(PhantomData)
}

/// A model's hooks with the context of one operation; `None` for models without hooks.
pub(crate) type Bound<T> = Option<(&'static dyn DynHooks<T>, HookContext)>;

/// Awaits a hook of the model named `type_name` and turns its error into [`Error::Hook`].
pub(crate) async fn call_named(
    type_name: &'static str,
    hook: &'static str,
    fut: BoxFuture<'_, Result<(), BoxError>>,
) -> Result<()> {
    fut.await.map_err(|source| Error::Hook {
        type_name,
        hook,
        source,
    })
}

/// Awaits a hook and turns its error into [`Error::Hook`].
pub(crate) async fn call<T: Model>(
    hook: &'static str,
    fut: BoxFuture<'_, Result<(), BoxError>>,
) -> Result<()> {
    fut.await.map_err(|source| Error::Hook {
        type_name: T::SCHEMA.type_name,
        hook,
        source,
    })
}
