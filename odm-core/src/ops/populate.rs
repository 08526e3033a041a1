//! References between models ([`Ref`]) and `populate`: resolving them for all results of a find with one
//! `$in` query per path, through the same connection and tenant confinement as the find.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::sync::Arc;

use mongodb::bson::{self, doc, oid::ObjectId, Bson, Document};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::handle::ModelHandle;
use crate::model::Model;
use crate::ops::find::Find;
use crate::ops::BoxFuture;
use crate::query::{Field, Operand};
use crate::session::Session;

/// A reference to a document of model `T`: stores the referenced `_id` (as its BSON value; serde sees
/// the id itself), like a Mongoose `ObjectId` with `ref`.
///
/// Resolve references with [`Find::populate`]; the guide's [populate](crate::guide::populate) chapter
/// shows both at work.
pub struct Ref<T> {
    id: Bson,
    _target: PhantomData<fn() -> T>,
}

impl<T> Ref<T> {
    /// A reference to the document whose `_id` is `id`.
    pub fn new(id: impl Into<Bson>) -> Self {
        Ref {
            id: id.into(),
            _target: PhantomData,
        }
    }

    /// The referenced `_id`.
    pub fn id(&self) -> &Bson {
        &self.id
    }

    /// The referenced `_id`, owned.
    pub fn into_id(self) -> Bson {
        self.id
    }
}

impl<T: Model> Ref<T> {
    /// A reference to `value`, which must have an `_id` (create it first).
    pub fn to(value: &T) -> Result<Self> {
        match value.id()? {
            Bson::Null => Err(Error::Unsupported(
                "cannot reference a value without an `_id`: create it first, or give it an id",
            )),
            id => Ok(Ref::new(id)),
        }
    }
}

impl<T> From<ObjectId> for Ref<T> {
    fn from(id: ObjectId) -> Self {
        Ref::new(id)
    }
}

/// A bare `ObjectId` is accepted where a typed filter or update expects a reference.
impl<T> Operand<Ref<T>> for ObjectId {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        Ok(Bson::ObjectId(*self))
    }
}

impl<T> Operand<Option<Ref<T>>> for ObjectId {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        Ok(Bson::ObjectId(*self))
    }
}

impl<T> Clone for Ref<T> {
    fn clone(&self) -> Self {
        Ref::new(self.id.clone())
    }
}

impl<T> PartialEq for Ref<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T> std::fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Ref").field(&self.id).finish()
    }
}

impl<T> Serialize for Ref<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.id.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Ref<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Bson::deserialize(deserializer).map(Ref::new)
    }
}

/// A field type that holds references: `Ref<R>`, `Option<Ref<R>>` or `Vec<Ref<R>>`. Gives
/// [`Find::populate`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a reference field",
    note = "`populate` takes the path of a `Ref<T>`, `Option<Ref<T>>` or `Vec<Ref<T>>` field"
)]
pub trait RefField {
    /// The referenced model.
    type Target: Model;
}
impl<R: Model> RefField for Ref<R> {
    type Target = R;
}
impl<R: Model> RefField for Option<Ref<R>> {
    type Target = R;
}
impl<R: Model> RefField for Vec<Ref<R>> {
    type Target = R;
}

/// A reference that `populate` found no document for (deleted, or never there). Not an error: the
/// result lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct Unresolved {
    /// The stored path of the reference.
    pub path: String,
    /// The referenced `_id`.
    pub id: Bson,
}

type Loaded = HashMap<Vec<u8>, Box<dyn Any + Send + Sync>>;

/// The results of a populated find: the documents, and the documents their references point to.
pub struct Populated<T> {
    items: Vec<T>,
    loaded: HashMap<TypeId, Loaded>,
    unresolved: Vec<Unresolved>,
}

impl<T> Populated<T> {
    /// The documents found, in order.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The documents found, owned.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// Iterates over the documents found.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// How many documents were found.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// `true` when no document was found.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The document `reference` points to, if a populated path loaded it.
    pub fn get<R: Model>(&self, reference: &Ref<R>) -> Option<&R> {
        self.loaded
            .get(&TypeId::of::<R>())?
            .get(&key(&reference.id))?
            .downcast_ref::<R>()
    }

    /// The references of the populated paths that point to no document.
    pub fn unresolved(&self) -> &[Unresolved] {
        &self.unresolved
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Populated<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Populated")
            .field("items", &self.items)
            .field(
                "loaded",
                &self.loaded.values().map(HashMap::len).sum::<usize>(),
            )
            .field("unresolved", &self.unresolved)
            .finish()
    }
}

impl<'p, T> IntoIterator for &'p Populated<T> {
    type Item = &'p T;
    type IntoIter = std::slice::Iter<'p, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// A comparable form of an id: numbers that MongoDB's `$in` finds equal (an Int32 `1` and an Int64 `1`)
/// get one key.
fn key(id: &Bson) -> Vec<u8> {
    let id = match id {
        Bson::Int32(i) => Bson::Int64((*i).into()),
        Bson::Double(d) if d.fract() == 0.0 && d.abs() < 9.0e15 => Bson::Int64(*d as i64),
        other => other.clone(),
    };
    bson::to_vec(&doc! { "": id }).unwrap_or_default()
}

/// Collects the values at a dotted path, through arrays on the way, skipping nulls.
fn collect(value: &Bson, parts: &[&str], out: &mut Vec<Bson>) {
    match (value, parts.split_first()) {
        (Bson::Array(items), _) => items.iter().for_each(|i| collect(i, parts, out)),
        (Bson::Null, None) => {}
        (v, None) => out.push(v.clone()),
        (Bson::Document(d), Some((head, rest))) => {
            if let Some(v) = d.get(*head) {
                collect(v, rest, out)
            }
        }
        _ => {}
    }
}

/// Collects the values at a dotted path of a document.
fn collect_in(doc: &Document, parts: &[&str], out: &mut Vec<Bson>) {
    if let Some((head, rest)) = parts.split_first() {
        if let Some(v) = doc.get(*head) {
            collect(v, rest, out);
        }
    }
}

/// Loads the targets of one path: the object-safe part that knows the target model.
trait Loader: Send + Sync {
    fn path(&self) -> &str;
    fn target(&self) -> TypeId;
    fn load<'s>(
        &'s self,
        conn: &'s Connection,
        confinement: Option<Arc<crate::tenancy::Scope>>,
        ids: Vec<Bson>,
        session: Option<&'s mut Session>,
    ) -> BoxFuture<'s, Result<Loaded>>;
}

struct LoaderOf<R> {
    path: String,
    _target: PhantomData<fn() -> R>,
}

impl<R: Model> Loader for LoaderOf<R> {
    fn path(&self) -> &str {
        &self.path
    }

    fn target(&self) -> TypeId {
        TypeId::of::<R>()
    }

    fn load<'s>(
        &'s self,
        conn: &'s Connection,
        confinement: Option<Arc<crate::tenancy::Scope>>,
        ids: Vec<Bson>,
        session: Option<&'s mut Session>,
    ) -> BoxFuture<'s, Result<Loaded>> {
        Box::pin(async move {
            // The same connection (database) and the same tenant confinement as the find: a reference can
            // only resolve to a document the caller's handle could read itself.
            let handle = ModelHandle::<R>::confined(conn.clone(), confinement);
            let find = handle.find(doc! { "_id": { "$in": ids } });
            let found = match session {
                Some(s) => find.session(s).await?,
                None => find.await?,
            };
            let mut loaded = Loaded::with_capacity(found.len());
            for value in found {
                let id = value.id()?;
                loaded.insert(key(&id), Box::new(value) as Box<dyn Any + Send + Sync>);
            }
            Ok(loaded)
        })
    }
}

impl<'a, T: Model> Find<'a, T> {
    /// Resolves the references at `path` for every result, with one `$in` query on the referenced
    /// model's collection, through this handle's connection and tenant confinement. Await for a
    /// [`Populated`]; chain `.populate(..)` for more paths.
    pub fn populate<P: RefField>(self, path: Field<T, P>) -> Populate<'a, T> {
        Populate {
            find: self,
            loaders: Vec::new(),
            session: None,
        }
        .populate(path)
    }
}

/// A find with populated paths; await it for a [`Populated`].
#[must_use = "an operation does nothing until it is awaited"]
pub struct Populate<'a, T> {
    find: Find<'a, T>,
    loaders: Vec<Box<dyn Loader>>,
    session: Option<&'a mut Session>,
}

impl<'a, T: Model> Populate<'a, T> {
    /// Runs the find and every populate query in `session` (and its transaction, if one is open). A
    /// session of another client is refused with [`Error::ForeignSession`].
    pub fn session(mut self, session: &'a mut Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Resolves the references at one more path.
    pub fn populate<P: RefField>(mut self, path: Field<T, P>) -> Self {
        self.loaders.push(Box::new(LoaderOf::<P::Target> {
            path: path.path().to_owned(),
            _target: PhantomData,
        }));
        self
    }

    async fn run(self) -> Result<Populated<T>> {
        let Find {
            handle,
            filter,
            options,
            session,
            with_deleted,
        } = self.find;
        let mut pipeline = handle.pipeline(self.session.or(session))?;
        pipeline.include_deleted(with_deleted);
        let mut docs = Vec::new();
        pipeline
            .find(filter.into_document()?, options, |raw| {
                docs.push(crate::ops::to_document(T::SCHEMA.type_name, raw)?);
                Ok(())
            })
            .await?;

        let mut ids_per_path = vec![Vec::new(); self.loaders.len()];
        let mut items = Vec::with_capacity(docs.len());
        for doc in docs {
            for (loader, ids) in self.loaders.iter().zip(&mut ids_per_path) {
                let parts: Vec<&str> = loader.path().split('.').collect();
                collect_in(&doc, &parts, ids);
            }
            let value: T = bson::from_document(doc).map_err(|source| Error::Deserialization {
                type_name: T::SCHEMA.type_name,
                source,
            })?;
            items.push(value);
        }

        let mut loaded: HashMap<TypeId, Loaded> = HashMap::new();
        let mut unresolved = Vec::new();
        for (loader, ids) in self.loaders.iter().zip(ids_per_path) {
            let mut seen = HashSet::new();
            let ids: Vec<Bson> = ids.into_iter().filter(|id| seen.insert(key(id))).collect();
            if ids.is_empty() {
                continue;
            }
            let found = loader
                .load(
                    handle.connection(),
                    handle.shared_confinement(),
                    ids.clone(),
                    pipeline.session(),
                )
                .await?;
            for id in ids {
                if !found.contains_key(&key(&id)) {
                    unresolved.push(Unresolved {
                        path: loader.path().to_owned(),
                        id,
                    });
                }
            }
            loaded.entry(loader.target()).or_default().extend(found);
        }
        Ok(Populated {
            items,
            loaded,
            unresolved,
        })
    }
}

impl<'a, T: Model> IntoFuture for Populate<'a, T> {
    type Output = Result<Populated<T>>;
    type IntoFuture = BoxFuture<'a, Result<Populated<T>>>;

    fn into_future(self) -> Self::IntoFuture {
        // The find and every load, as one operation within the timeout.
        let handle = self.find.handle;
        let timeout = handle.connection().operation_timeout();
        Box::pin(crate::observe::observed!(
            handle,
            "populate",
            "find",
            crate::ops::with_timeout(timeout, self.run())
        ))
    }
}
