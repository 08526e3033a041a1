//! [`ModelSet`]: the models an application stores, declared once for every fleet-wide operation.

use std::fmt;

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::model::Model;
use crate::schema::Schema;
use crate::tenancy::Tenant;

/// The models an application stores, declared once: provisioning, erasure, export, import and moves
/// reach every collection of a tenant through it, so no chore lists the collections again.
///
/// Make one with [`model_set!`](crate::model_set), in a `static` or a `const` next to the models:
///
/// ```
/// use odm_core::prelude::*;
/// use odm_core::{model_set, ModelSet};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// #[model(collection = "users")]
/// struct User {
///     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
///     id: Option<ObjectId>,
///     #[field(unique)]
///     email: String,
/// }
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// #[model(collection = "posts")]
/// struct Post {
///     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
///     id: Option<ObjectId>,
///     title: String,
/// }
///
/// static MODELS: ModelSet = model_set![User, Post];
/// assert_eq!(MODELS.collections().collect::<Vec<_>>(), ["users", "posts"]);
/// ```
///
/// Two models stored in one collection (an enum model's kinds are one model) are one collection to the
/// set: a chore visits it once, and [`model_set!`](crate::model_set) refuses the second at compile time
/// only when they are the same type; a set that names two models of one collection is refused when a
/// fleet is built ([`FleetBuilder::build`](crate::FleetBuilder::build)).
#[derive(Clone, Copy)]
pub struct ModelSet {
    models: &'static [SetModel],
}

/// One model of a [`ModelSet`]: its schema, and what provisioning does for it (the rest of the
/// lifecycle works on its stored documents as they are, whatever their type).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct SetModel {
    /// The model's schema.
    pub schema: &'static Schema,
    /// Creates the tenant's collection with the model's validator and indexes, and shards it on a
    /// `mongos` ([`ModelHandle::shard_collection`](crate::ModelHandle::shard_collection)).
    pub provision: for<'t> fn(&'t Tenant) -> BoxFuture<'t, Result<()>>,
    /// The model's `$jsonSchema` ([`Model::json_schema`]), for an export's metadata.
    pub json_schema: fn() -> mongodb::bson::Document,
}

impl SetModel {
    /// The entry of model `T`; [`model_set!`](crate::model_set) writes these.
    pub const fn of<T: Model>() -> SetModel {
        SetModel {
            schema: T::SCHEMA,
            provision: provision::<T>,
            json_schema: T::json_schema,
        }
    }
}

fn provision<T: Model>(tenant: &Tenant) -> BoxFuture<'_, Result<()>> {
    Box::pin(async move {
        let handle = tenant.model::<T>();
        handle.sync_schema().await?;
        handle.sync_indexes().await?;
        // On a `mongos`, shards what has a key to shard on (a shared collection always has one: its
        // tenant field, then `_id`); elsewhere there is nothing to shard, and nothing is done.
        if !T::SCHEMA.shard_key.is_empty() || handle.confinement().is_shared() {
            handle.shard_collection().await?;
        }
        Ok(())
    })
}

impl ModelSet {
    /// A set of the given models; [`model_set!`](crate::model_set) is the short way.
    pub const fn new(models: &'static [SetModel]) -> ModelSet {
        ModelSet { models }
    }

    /// The models' schemas, in declaration order.
    pub fn schemas(&self) -> impl Iterator<Item = &'static Schema> + '_ {
        self.models.iter().map(|m| m.schema)
    }

    /// The collections of the set (each model's own name, before any tenant prefix), in declaration
    /// order.
    pub fn collections(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.models.iter().map(|m| m.schema.collection)
    }

    /// How many models the set holds.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// `true` for a set of no models.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    pub(crate) fn models(&self) -> &'static [SetModel] {
        self.models
    }

    /// The first collection named twice, if any.
    pub(crate) fn repeated_collection(&self) -> Option<&'static str> {
        let mut seen = std::collections::BTreeSet::new();
        self.collections().find(|c| !seen.insert(*c))
    }
}

impl fmt::Debug for ModelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.models.iter().map(|m| m.schema.type_name))
            .finish()
    }
}

/// Declares a [`ModelSet`]: `static MODELS: ModelSet = model_set![User, Post, Comment];`.
#[macro_export]
macro_rules! model_set {
    ($($model:ty),* $(,)?) => {
        $crate::ModelSet::new(&[$($crate::SetModel::of::<$model>()),*])
    };
}
