//! The [`Model`] trait: what `#[derive(Model)]` implements, and what a connection binds.

use mongodb::bson::{Bson, DateTime, RawDocument};
use serde::{de::DeserializeOwned, Serialize};

use crate::error::{Error, Result};
use crate::schema::{FieldSchema, Schema};
use crate::validate::ValidationErrors;

/// A struct stored as a document in a collection.
///
/// Derive it; do not implement it by hand unless you must:
///
/// ```
/// use odm_core::prelude::*;
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Model)]
/// #[model(collection = "users")]
/// struct User {
///     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
///     id: Option<ObjectId>,
///     email: String,
///     age: i32,
/// }
///
/// assert_eq!(User::SCHEMA.collection, "users");
/// ```
///
/// The derive computes the [`Schema`] once, at compile time: binding the model to a connection with
/// [`Connection::model`](crate::Connection::model) reads it and does no I/O. The struct must have a field
/// stored as `_id` (any serde type: `Option<ObjectId>` lets the library generate it on insert).
///
/// The guide's [defining models](crate::guide::defining_models) chapter describes every `#[model]` and
/// `#[field]` attribute.
pub trait Model: Serialize + DeserializeOwned + Send + Sync + Unpin + Sized + 'static {
    /// The model's schema: collection, fields, rules and indexes.
    const SCHEMA: &'static Schema;

    /// The typed field paths of the model (see [`Model::fields`]).
    type Fields;

    /// Typed paths to the stored fields, for filters, updates, sorts and projections:
    /// `User::fields().age.gte(18)`.
    fn fields() -> Self::Fields;

    /// The value's `_id` as BSON (`Bson::Null` when it has none yet).
    fn id(&self) -> Result<Bson>;

    /// Sets the value's `_id`, after the library generated one on insert.
    fn set_id(&mut self, id: Bson) -> Result<()>;

    /// Checks the field rules of the value (and of embedded documents, recursively), adding every failure
    /// to `errors` with its path below `path` (empty at the top level).
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        let _ = (path, errors);
    }

    /// Sets the timestamp fields: `updated_at` always, `created_at` too when `created` is true. Does
    /// nothing unless the model declares `#[model(timestamps)]`.
    fn touch(&mut self, now: DateTime, created: bool) {
        let _ = (now, created);
    }

    /// Gives every `None` field that declares `#[field(default = ..)]` its default. The library calls it
    /// before a document is inserted (`create`, `insert_many`, the `save` of a new value), before the
    /// hooks and the rules run; upserts get the defaults through `$setOnInsert` instead.
    fn apply_defaults(&mut self) {}

    /// The value's version (`__v`), with `#[model(version)]`.
    fn version(&self) -> Option<i64> {
        None
    }

    /// Sets the value's version, with `#[model(version)]`.
    fn set_version(&mut self, version: i64) {
        let _ = version;
    }

    /// The model's lifecycle hooks, with `#[model(hooks)]`.
    fn hooks() -> Option<&'static dyn crate::hooks::DynHooks<Self>> {
        None
    }

    /// The model's `$jsonSchema` document, built from [`Model::SCHEMA`], for a collection validator:
    /// `{"$jsonSchema": User::json_schema()}` (see [`crate::schema::json_schema`]).
    fn json_schema() -> mongodb::bson::Document {
        crate::schema::json_schema(Self::SCHEMA)
    }

    /// Decodes a stored document, as every read of the model does.
    ///
    /// The derive generates a decoder that reads the BSON directly when every field's type allows it
    /// (strings, numbers, booleans, `ObjectId`, `DateTime`, `Ref`, embedded documents, `Document`, `Bson`,
    /// and `Option`s and `Vec`s of them, with serde's `rename`, `rename_all`, `default` and `skip`); any
    /// other model, or a document the decoder does not take as is, goes through serde
    /// (`bson::from_slice`). Both give the same value. A document that does not fit the struct is
    /// [`Error::Deserialization`]. The generated decoder is compiled in release builds and in tests (in
    /// debug builds too with the feature `debug-decoder`); a debug build reads through serde.
    fn from_document(doc: &RawDocument) -> Result<Self> {
        match Self::decode_generated(doc) {
            Some(value) => Ok(value),
            None => {
                mongodb::bson::from_slice(doc.as_bytes()).map_err(|source| Error::Deserialization {
                    type_name: Self::SCHEMA.type_name,
                    source,
                })
            }
        }
    }

    /// The generated decoder of [`Model::from_document`]; `None` sends the document to serde.
    #[doc(hidden)]
    fn decode_generated(doc: &RawDocument) -> Option<Self> {
        let _ = doc;
        None
    }

    /// Checks every rule of the model and returns every failure, without I/O.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new(Self::SCHEMA.type_name);
        self.validate_into("", &mut errors);
        errors.into_result()
    }
}

/// A struct stored inside another document (an embedded document, a Mongoose sub-schema), with rules of
/// its own that are checked wherever it is embedded. Derive it with `#[derive(Embedded)]`, and mark the
/// model's field that holds it `#[field(nested)]` (see
/// [defining models](crate::guide::defining_models#embedded-documents-deriveembedded)).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an embedded document: `#[field(nested)]` needs a type that derives `Embedded`",
    label = "`{Self}` does not implement `Embedded`",
    note = "add `#[derive(Embedded)]` to `{Self}`, or remove `nested` from the field"
)]
pub trait Embedded: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stored fields of the embedded document.
    const FIELDS: &'static [FieldSchema];

    /// The typed paths of the embedded fields, rooted at model `M`.
    type Fields<M>;

    /// Typed paths to the embedded fields below `prefix` (the stored path of the field that holds it).
    fn fields_at<M>(prefix: &str) -> Self::Fields<M>;

    /// Checks the rules of the embedded fields, with paths below `path`.
    fn validate_into(&self, path: &str, errors: &mut ValidationErrors) {
        let _ = (path, errors);
    }
}
