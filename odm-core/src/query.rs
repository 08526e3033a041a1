//! Filters, updates, sorts and projections: typed ones built from [`Field`] paths, and raw documents,
//! accepted side by side everywhere.

use std::borrow::Cow;
use std::marker::PhantomData;

use mongodb::bson::Document;

/// A typed path to a stored field of model `M` whose value is a `V`.
///
/// Made by the derive: `User::fields().age` is a `Field<User, i32>` whose path is the stored name of `age`
/// (serde renames honoured); nested documents give dotted paths (`address.city`).
pub struct Field<M, V> {
    path: Cow<'static, str>,
    _types: PhantomData<fn() -> (M, V)>,
}

impl<M, V> Field<M, V> {
    /// A path known at compile time.
    pub const fn new(path: &'static str) -> Self {
        Field {
            path: Cow::Borrowed(path),
            _types: PhantomData,
        }
    }

    /// A path below an embedded document: `prefix.name`.
    pub fn nested(prefix: &str, name: &str) -> Self {
        Field {
            path: Cow::Owned(format!("{prefix}.{name}")),
            _types: PhantomData,
        }
    }

    /// The stored path, dotted.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl<M, V> Clone for Field<M, V> {
    fn clone(&self) -> Self {
        Field {
            path: self.path.clone(),
            _types: PhantomData,
        }
    }
}

impl<M, V> std::fmt::Debug for Field<M, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Field").field(&self.path).finish()
    }
}

/// A query filter: a raw document, or one built from typed paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter(pub Document);

impl Filter {
    /// The filter that matches every document.
    pub fn all() -> Self {
        Filter(Document::new())
    }

    /// The filter as a document.
    pub fn into_document(self) -> Document {
        self.0
    }

    /// The filter as a document, borrowed.
    pub fn as_document(&self) -> &Document {
        &self.0
    }
}

impl From<Document> for Filter {
    fn from(doc: Document) -> Self {
        Filter(doc)
    }
}

impl From<()> for Filter {
    fn from((): ()) -> Self {
        Filter::all()
    }
}

/// An update: an update document (`{"$set": ..}`), or an aggregation pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// An update document with operators.
    Document(Document),
    /// An update pipeline.
    Pipeline(Vec<Document>),
}

impl From<Document> for Update {
    fn from(doc: Document) -> Self {
        Update::Document(doc)
    }
}

impl From<Vec<Document>> for Update {
    fn from(pipeline: Vec<Document>) -> Self {
        Update::Pipeline(pipeline)
    }
}

/// A sort order: a raw document (`{"age": -1}`), or one built from typed paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sort(pub Document);

impl From<Document> for Sort {
    fn from(doc: Document) -> Self {
        Sort(doc)
    }
}

/// A projection: which fields a query returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection(pub Document);

impl From<Document> for Projection {
    fn from(doc: Document) -> Self {
        Projection(doc)
    }
}
