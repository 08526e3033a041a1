//! Filters, updates, sorts and projections: typed ones built from [`Field`] paths, and raw documents,
//! accepted side by side everywhere.
//!
//! A typed form is tied to its model: `User::fields().age.gte(18)` is a `Filter<User>`, which a
//! `ModelHandle<Post>` does not accept. Values given to a typed form are always encoded as values (with
//! `bson::to_bson`, behind `$eq` and friends), so a user's string such as `"$where"`, or a document such
//! as `{"$gt": ""}`, is compared as data and never read as an operator.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use mongodb::bson::{self, doc, Bson, DateTime, Document};
use serde::Serialize;

use crate::error::{Error, Result};

/// A typed path to a stored field of model `M` whose value is a `V`.
///
/// Made by the derive: `User::fields().age` is a `Field<User, i32>` whose path is the stored name of `age`
/// (serde renames honoured); nested documents give dotted paths (`address.city`). A misspelt field does
/// not compile, because paths are members of the generated `UserFields` struct.
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

/// A value that a typed filter or update accepts for a field holding a `V`.
///
/// Implemented for `V` itself, for `T` where the field is an `Option<T>`, for references to both, and for
/// `&str` where the field is a `String`. A value of another type does not compile: `User::fields().age.gt("x")` is an error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of the field's type `{V}`",
    label = "expected a value of type `{V}` for this field",
    note = "a typed filter or update takes a value of the field's own type (for an `Option<T>` field, a `T`)"
)]
pub trait Operand<V> {
    /// The value as BSON.
    fn to_bson(&self) -> Result<Bson, bson::ser::Error>;
}

impl<T: Serialize> Operand<T> for T {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        bson::to_bson(self)
    }
}

impl<T: Serialize> Operand<Option<T>> for T {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        bson::to_bson(self)
    }
}

impl<T: Serialize> Operand<T> for &T {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        bson::to_bson(*self)
    }
}

impl<T: Serialize> Operand<Option<T>> for &T {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        bson::to_bson(*self)
    }
}

impl Operand<String> for &str {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        Ok(Bson::String((*self).to_owned()))
    }
}

impl Operand<Option<String>> for &str {
    fn to_bson(&self) -> Result<Bson, bson::ser::Error> {
        Ok(Bson::String((*self).to_owned()))
    }
}

/// A field type that holds a string: `String` or `Option<String>`. Gives [`Field::regex`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a string field",
    note = "`regex` applies to `String` and `Option<String>` fields"
)]
pub trait TextField {}
impl TextField for String {}
impl TextField for Option<String> {}

/// A field type that holds an array: `Vec<T>` or `Option<Vec<T>>`. Gives [`Field::contains`],
/// [`Field::size`], and the array updates.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an array field",
    note = "`contains`, `size`, `push`, `pull` and `add_to_set` apply to `Vec<T>` and `Option<Vec<T>>` fields"
)]
pub trait ArrayField {
    /// The type of the array's elements.
    type Item;
}
impl<T> ArrayField for Vec<T> {
    type Item = T;
}
impl<T> ArrayField for Option<Vec<T>> {
    type Item = T;
}

/// A field type that holds a number. Gives [`UpdateBuilder::inc`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number field",
    note = "`inc` applies to integer and floating point fields (and `Option`s of them)"
)]
pub trait NumberField {}
macro_rules! number_fields {
    ($($t:ty),*) => { $( impl NumberField for $t {} impl NumberField for Option<$t> {} )* };
}
number_fields!(i8, i16, i32, i64, u8, u16, u32, f32, f64, bson::Decimal128);

/// A field type that holds a date: `bson::DateTime` or `Option<bson::DateTime>`. Gives
/// [`UpdateBuilder::current_date`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a date field",
    note = "`current_date` applies to `bson::DateTime` and `Option<bson::DateTime>` fields"
)]
pub trait DateField {}
impl DateField for DateTime {}
impl DateField for Option<DateTime> {}

/// An encoding error kept inside a typed form until the operation runs, where it becomes
/// [`Error::Serialization`].
#[derive(Debug, Clone)]
struct Deferred {
    type_name: &'static str,
    source: bson::ser::Error,
}

impl Deferred {
    fn into_error(self) -> Error {
        Error::Serialization {
            type_name: self.type_name,
            source: Box::new(self.source),
        }
    }
}

fn encode<V, A: Operand<V>>(value: &A, error: &mut Option<Deferred>) -> Bson {
    match value.to_bson() {
        Ok(b) => b,
        Err(source) => {
            error.get_or_insert(Deferred {
                type_name: std::any::type_name::<A>(),
                source,
            });
            Bson::Null
        }
    }
}

impl<M, V> Field<M, V> {
    fn op(&self, op: &str, value: Bson, error: Option<Deferred>) -> Filter<M> {
        Filter {
            doc: doc! { self.path(): { op: value } },
            error,
            _model: PhantomData,
        }
    }

    fn cmp<A: Operand<V>>(&self, op: &str, value: A) -> Filter<M> {
        let mut error = None;
        let value = encode::<V, A>(&value, &mut error);
        self.op(op, value, error)
    }

    fn list<A: Operand<V>>(&self, op: &str, values: impl IntoIterator<Item = A>) -> Filter<M> {
        let mut error = None;
        let values: Vec<Bson> = values
            .into_iter()
            .map(|v| encode::<V, A>(&v, &mut error))
            .collect();
        self.op(op, Bson::Array(values), error)
    }

    /// Matches documents whose field equals `value` (`{path: {$eq: value}}`).
    pub fn eq<A: Operand<V>>(&self, value: A) -> Filter<M> {
        self.cmp("$eq", value)
    }

    /// Matches documents whose field does not equal `value` (or lacks the field).
    pub fn ne<A: Operand<V>>(&self, value: A) -> Filter<M> {
        self.cmp("$ne", value)
    }

    /// Matches documents whose field is greater than `value`.
    pub fn gt<A: Operand<V>>(&self, value: A) -> Filter<M> {
        self.cmp("$gt", value)
    }

    /// Matches documents whose field is greater than or equal to `value`.
    pub fn gte<A: Operand<V>>(&self, value: A) -> Filter<M> {
        self.cmp("$gte", value)
    }

    /// Matches documents whose field is less than `value`.
    pub fn lt<A: Operand<V>>(&self, value: A) -> Filter<M> {
        self.cmp("$lt", value)
    }

    /// Matches documents whose field is less than or equal to `value`.
    pub fn lte<A: Operand<V>>(&self, value: A) -> Filter<M> {
        self.cmp("$lte", value)
    }

    /// Matches documents whose field equals one of `values`.
    pub fn in_<A: Operand<V>>(&self, values: impl IntoIterator<Item = A>) -> Filter<M> {
        self.list("$in", values)
    }

    /// Matches documents whose field equals none of `values` (or lacks the field).
    pub fn nin<A: Operand<V>>(&self, values: impl IntoIterator<Item = A>) -> Filter<M> {
        self.list("$nin", values)
    }

    /// Matches documents that have the field (`true`) or lack it (`false`).
    pub fn exists(&self, exists: bool) -> Filter<M> {
        self.op("$exists", Bson::Boolean(exists), None)
    }

    /// Sorts by this field, ascending.
    pub fn asc(&self) -> Sort<M> {
        Sort::by(self.path(), 1)
    }

    /// Sorts by this field, descending.
    pub fn desc(&self) -> Sort<M> {
        Sort::by(self.path(), -1)
    }
}

impl<M, V: TextField> Field<M, V> {
    /// Matches documents whose string field matches the regular expression `pattern`, with MongoDB's
    /// `options` (`"i"` for case-insensitive, `""` for none). The pattern is a pattern: escape user input
    /// that must match literally (`regex::escape`).
    pub fn regex(&self, pattern: &str, options: &str) -> Filter<M> {
        let mut args = doc! { "$regex": pattern };
        if !options.is_empty() {
            args.insert("$options", options);
        }
        Filter {
            doc: doc! { self.path(): args },
            error: None,
            _model: PhantomData,
        }
    }
}

impl<M, V: ArrayField> Field<M, V> {
    /// Matches documents whose array holds an element equal to `value`.
    pub fn contains<A: Operand<V::Item>>(&self, value: A) -> Filter<M> {
        let mut error = None;
        let value = encode::<V::Item, A>(&value, &mut error);
        self.op("$elemMatch", Bson::Document(doc! { "$eq": value }), error)
    }

    /// Matches documents whose array has exactly `len` elements.
    pub fn size(&self, len: u32) -> Filter<M> {
        self.op("$size", Bson::Int64(len.into()), None)
    }
}

/// A query filter on model `M`: a raw document, or one built from typed paths and combined with
/// [`and`](Filter::and), [`or`](Filter::or), [`not`](Filter::not) or the operators `&`, `|` and `!`.
///
/// ```
/// # use odm_core::{Field, Filter};
/// # struct User;
/// let age: Field<User, i32> = Field::new("age");
/// let f: Filter<User> = age.gte(18) & !age.gt(65);
/// ```
pub struct Filter<M> {
    doc: Document,
    error: Option<Deferred>,
    _model: PhantomData<fn() -> M>,
}

impl<M> Filter<M> {
    /// The filter that matches every document.
    pub fn all() -> Self {
        Filter::raw(Document::new())
    }

    /// A filter from a raw document, used as given.
    pub fn raw(doc: Document) -> Self {
        Filter {
            doc,
            error: None,
            _model: PhantomData,
        }
    }

    /// The filter as a document, or the error met while encoding one of its values.
    pub fn into_document(self) -> Result<Document> {
        match self.error {
            Some(e) => Err(e.into_error()),
            None => Ok(self.doc),
        }
    }

    /// The filter as a document, borrowed (a value that failed to encode shows as `null`).
    pub fn as_document(&self) -> &Document {
        &self.doc
    }

    fn join(self, op: &str, other: Filter<M>) -> Filter<M> {
        if op == "$and" {
            if self.doc.is_empty() {
                return other.with_error(self.error);
            }
            if other.doc.is_empty() {
                return self.with_error(other.error);
            }
        }
        let error = self.error.or(other.error);
        let mut parts = Vec::new();
        for part in [self.doc, other.doc] {
            // `a & b & c` gives one `$and` of three, not nested pairs.
            match part.get_array(op) {
                Ok(items) if part.len() == 1 => parts.extend(items.iter().cloned()),
                _ => parts.push(Bson::Document(part)),
            }
        }
        Filter {
            doc: doc! { op: parts },
            error,
            _model: PhantomData,
        }
    }

    fn with_error(mut self, error: Option<Deferred>) -> Self {
        if self.error.is_none() {
            self.error = error;
        }
        self
    }

    /// Matches documents that match both filters (`$and`).
    pub fn and(self, other: Filter<M>) -> Filter<M> {
        self.join("$and", other)
    }

    /// Matches documents that match either filter (`$or`).
    pub fn or(self, other: Filter<M>) -> Filter<M> {
        self.join("$or", other)
    }

    /// Matches documents that do not match the filter (`$nor` of one).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter<M> {
        Filter {
            doc: doc! { "$nor": [self.doc] },
            error: self.error,
            _model: PhantomData,
        }
    }
}

impl<M> Clone for Filter<M> {
    fn clone(&self) -> Self {
        Filter {
            doc: self.doc.clone(),
            error: self.error.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> Default for Filter<M> {
    fn default() -> Self {
        Filter::all()
    }
}

impl<M> PartialEq for Filter<M> {
    fn eq(&self, other: &Self) -> bool {
        self.doc == other.doc && self.error.is_none() && other.error.is_none()
    }
}

impl<M> std::fmt::Debug for Filter<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_tuple("Filter");
        d.field(&self.doc);
        if let Some(e) = &self.error {
            d.field(&e.source);
        }
        d.finish()
    }
}

impl<M> BitAnd for Filter<M> {
    type Output = Filter<M>;
    fn bitand(self, rhs: Filter<M>) -> Filter<M> {
        self.and(rhs)
    }
}

impl<M> BitOr for Filter<M> {
    type Output = Filter<M>;
    fn bitor(self, rhs: Filter<M>) -> Filter<M> {
        self.or(rhs)
    }
}

impl<M> Not for Filter<M> {
    type Output = Filter<M>;
    fn not(self) -> Filter<M> {
        Filter::not(self)
    }
}

impl<M> From<Document> for Filter<M> {
    fn from(doc: Document) -> Self {
        Filter::raw(doc)
    }
}

impl<M> From<()> for Filter<M> {
    fn from((): ()) -> Self {
        Filter::all()
    }
}

/// An update: an update document (`{"$set": ..}`), or an aggregation pipeline. Typed updates are built
/// with [`UpdateBuilder`], which converts into this.
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

/// What `update_one` and `update_many` of model `M` accept: a raw [`Update`] (a document or a pipeline),
/// or a typed [`UpdateBuilder<M>`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an update of model `{M}`",
    note = "pass a `Document`, a pipeline (`Vec<Document>`), or an `UpdateBuilder` built from the same model's fields"
)]
pub trait IntoUpdate<M> {
    /// The update, or the error met while encoding one of its values.
    fn into_update(self) -> Result<Update>;
}

impl<M> IntoUpdate<M> for Update {
    fn into_update(self) -> Result<Update> {
        Ok(self)
    }
}

impl<M> IntoUpdate<M> for Document {
    fn into_update(self) -> Result<Update> {
        Ok(Update::Document(self))
    }
}

impl<M> IntoUpdate<M> for Vec<Document> {
    fn into_update(self) -> Result<Update> {
        Ok(Update::Pipeline(self))
    }
}

impl<M> IntoUpdate<M> for UpdateBuilder<M> {
    fn into_update(self) -> Result<Update> {
        self.build()
    }
}

/// A typed update of model `M`:
/// `UpdateBuilder::new().set(&f.email, "a@b.c").inc(&f.logins, 1).push(&f.tags, "new")`.
///
/// Values are encoded as values: `push` and `add_to_set` use `$each`, and `pull` uses `$pullAll`, so a
/// document value is stored or compared as data, never read as a modifier or a condition.
///
/// No operation is lost: `push` (or `add_to_set`, `pull`, `inc`) twice on one field does both, and two
/// operations that cannot both hold on one path (`set` and `unset`, two `set`s, a path and its parent)
/// make [`build`](Self::build) fail with [`Error::InvalidUpdate`] before anything is sent.
///
/// MongoDB stores what `set` gives with its type: a bool as a bool, a date as a date.
pub struct UpdateBuilder<M> {
    doc: Document,
    error: Option<Deferred>,
    /// The first pair of operations that contradict each other, in words.
    conflict: Option<String>,
    _model: PhantomData<fn() -> M>,
}

impl<M> Default for UpdateBuilder<M> {
    fn default() -> Self {
        UpdateBuilder {
            doc: Document::new(),
            error: None,
            conflict: None,
            _model: PhantomData,
        }
    }
}

impl<M> Clone for UpdateBuilder<M> {
    fn clone(&self) -> Self {
        UpdateBuilder {
            doc: self.doc.clone(),
            error: self.error.clone(),
            conflict: self.conflict.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for UpdateBuilder<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("UpdateBuilder").field(&self.doc).finish()
    }
}

impl<M> UpdateBuilder<M> {
    /// An empty update; add operations to it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `op` on `path`. A second operation on the same path combines with the first where both
    /// can hold (`push`, `add_to_set` and `pull` gather their values, `inc` adds up, `current_date` is
    /// one); any other pair on one path, or on a path and its parent, contradicts and is kept as the
    /// error [`build`](Self::build) returns, since MongoDB would refuse the update (or, for two `set`s,
    /// silently keep one).
    fn put(mut self, op: &str, path: &str, value: Bson) -> Self {
        if self.conflict.is_some() {
            return self;
        }
        for (other_op, args) in &self.doc {
            let Bson::Document(args) = args else { continue };
            for other in args.keys() {
                let overlap = other == path
                    || other.starts_with(&format!("{path}."))
                    || path.starts_with(&format!("{other}."));
                if overlap && !(other == path && other_op == op && combines(op)) {
                    self.conflict = Some(format!(
                        "`{op}` of `{path}` contradicts `{other_op}` of `{other}` in the same update; MongoDB applies one operator per path, so split it into two updates"
                    ));
                    return self;
                }
            }
        }
        let Ok(args) = self.doc.get_document_mut(op) else {
            self.doc.insert(op, doc! { path: value });
            return self;
        };
        match (args.get_mut(path), value) {
            (None, value) => {
                args.insert(path, value);
            }
            // `{ $each: [..] }` of `$push` and `$addToSet`: the values of both, in order.
            (Some(Bson::Document(each)), Bson::Document(mut more)) => {
                if let (Ok(items), Ok(more)) =
                    (each.get_array_mut("$each"), more.get_array_mut("$each"))
                {
                    items.append(more);
                }
            }
            // `$pullAll`: every value of both.
            (Some(Bson::Array(items)), Bson::Array(mut more)) => items.append(&mut more),
            (Some(sum), by) if op == "$inc" => *sum = add(sum, &by),
            (Some(_), _) => {} // `$currentDate` twice is one date
        }
        self
    }

    fn value<V, A: Operand<V>>(&mut self, value: &A) -> Bson {
        encode::<V, A>(value, &mut self.error)
    }

    /// Sets the field to `value` (`$set`).
    pub fn set<V, A: Operand<V>>(mut self, field: &Field<M, V>, value: A) -> Self {
        let value = self.value::<V, A>(&value);
        self.put("$set", field.path(), value)
    }

    /// Removes the field (`$unset`).
    pub fn unset<V>(self, field: &Field<M, V>) -> Self {
        self.put("$unset", field.path(), Bson::String(String::new()))
    }

    /// Adds `by` to a number field (`$inc`); a negative `by` subtracts.
    pub fn inc<V: NumberField, A: Operand<V>>(mut self, field: &Field<M, V>, by: A) -> Self {
        let by = self.value::<V, A>(&by);
        self.put("$inc", field.path(), by)
    }

    /// Appends every value of `values` to an array field, in order (`$push` with `$each`).
    pub fn push_all<V: ArrayField, A: Operand<V::Item>>(
        self,
        field: &Field<M, V>,
        values: impl IntoIterator<Item = A>,
    ) -> Self {
        self.each::<V, A>("$push", field, values)
    }

    /// Appends each value of `values` that the array does not hold yet (`$addToSet` with `$each`).
    pub fn add_to_set_all<V: ArrayField, A: Operand<V::Item>>(
        self,
        field: &Field<M, V>,
        values: impl IntoIterator<Item = A>,
    ) -> Self {
        self.each::<V, A>("$addToSet", field, values)
    }

    /// Appends `value` to an array field (`$push`). Calling it again on the same field appends both.
    pub fn push<V: ArrayField, A: Operand<V::Item>>(self, field: &Field<M, V>, value: A) -> Self {
        self.each::<V, A>("$push", field, [value])
    }

    /// `op` (`$push` or `$addToSet`) of `values` with `$each`, so a document value is stored as data.
    fn each<V: ArrayField, A: Operand<V::Item>>(
        mut self,
        op: &str,
        field: &Field<M, V>,
        values: impl IntoIterator<Item = A>,
    ) -> Self {
        let values: Vec<Bson> = values
            .into_iter()
            .map(|v| self.value::<V::Item, A>(&v))
            .collect();
        self.put(op, field.path(), Bson::Document(doc! { "$each": values }))
    }

    /// Removes every element equal to `value` from an array field (`$pullAll`).
    pub fn pull<V: ArrayField, A: Operand<V::Item>>(
        mut self,
        field: &Field<M, V>,
        value: A,
    ) -> Self {
        let value = self.value::<V::Item, A>(&value);
        self.put("$pullAll", field.path(), Bson::Array(vec![value]))
    }

    /// Appends `value` to an array field unless an equal element is there (`$addToSet`).
    pub fn add_to_set<V: ArrayField, A: Operand<V::Item>>(
        self,
        field: &Field<M, V>,
        value: A,
    ) -> Self {
        self.each::<V, A>("$addToSet", field, [value])
    }

    /// Sets a date field to the server's current time (`$currentDate`).
    pub fn current_date<V: DateField>(self, field: &Field<M, V>) -> Self {
        self.put("$currentDate", field.path(), Bson::Boolean(true))
    }

    /// The update document, borrowed (a value that failed to encode shows as `null`).
    pub fn as_document(&self) -> &Document {
        &self.doc
    }

    /// The update, or the error met while building it: a value that did not encode, or two operations
    /// that contradict each other ([`Error::InvalidUpdate`]).
    pub fn build(self) -> Result<Update> {
        if let Some(conflict) = self.conflict {
            return Err(Error::InvalidUpdate(conflict));
        }
        match self.error {
            Some(e) => Err(e.into_error()),
            None => Ok(Update::Document(self.doc)),
        }
    }
}

/// Whether two `op`s on one path combine into one (rather than contradict).
fn combines(op: &str) -> bool {
    matches!(
        op,
        "$push" | "$addToSet" | "$pullAll" | "$inc" | "$currentDate"
    )
}

/// The sum of two `$inc` amounts, in the wider of their types.
fn add(a: &Bson, b: &Bson) -> Bson {
    match (a, b) {
        (Bson::Int32(x), Bson::Int32(y)) => x
            .checked_add(*y)
            .map_or(Bson::Int64(i64::from(*x) + i64::from(*y)), Bson::Int32),
        (Bson::Int32(x), Bson::Int64(y)) | (Bson::Int64(y), Bson::Int32(x)) => {
            Bson::Int64(i64::from(*x).saturating_add(*y))
        }
        (Bson::Int64(x), Bson::Int64(y)) => Bson::Int64(x.saturating_add(*y)),
        (x, y) => match (number(x), number(y)) {
            (Some(x), Some(y)) => Bson::Double(x + y),
            // A value that is no number is left for the server to refuse.
            _ => y.clone(),
        },
    }
}

fn number(b: &Bson) -> Option<f64> {
    match b {
        Bson::Int32(v) => Some(f64::from(*v)),
        Bson::Int64(v) => Some(*v as f64),
        Bson::Double(v) => Some(*v),
        _ => None,
    }
}

/// A sort order of model `M`: a raw document (`{"age": -1}`), or typed paths:
/// `f.age.desc()`, `f.age.desc().then(f.email.asc())` or `(f.age.desc(), f.email.asc())`.
pub struct Sort<M> {
    doc: Document,
    _model: PhantomData<fn() -> M>,
}

impl<M> Sort<M> {
    fn by(path: &str, direction: i32) -> Self {
        Sort {
            doc: doc! { path: direction },
            _model: PhantomData,
        }
    }

    /// Sorts by `next` where this order ties.
    pub fn then(mut self, next: Sort<M>) -> Sort<M> {
        for (k, v) in next.doc {
            self.doc.insert(k, v);
        }
        self
    }

    /// The sort as a document.
    pub fn into_document(self) -> Document {
        self.doc
    }
}

impl<M> Clone for Sort<M> {
    fn clone(&self) -> Self {
        Sort {
            doc: self.doc.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> PartialEq for Sort<M> {
    fn eq(&self, other: &Self) -> bool {
        self.doc == other.doc
    }
}

impl<M> std::fmt::Debug for Sort<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Sort").field(&self.doc).finish()
    }
}

impl<M> From<Document> for Sort<M> {
    fn from(doc: Document) -> Self {
        Sort {
            doc,
            _model: PhantomData,
        }
    }
}

macro_rules! sort_tuples {
    ($($name:ident)+) => {
        impl<M> From<($(sort_tuples!(@sort $name),)+)> for Sort<M> {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($(sort_tuples!(@sort $name),)+)) -> Self {
                let mut doc = Document::new();
                $( doc.extend($name.doc); )+
                Sort { doc, _model: PhantomData }
            }
        }
    };
    (@sort $name:ident) => { Sort<M> };
}

sort_tuples!(A B);
sort_tuples!(A B C);
sort_tuples!(A B C D);

/// A projection of model `M`: which fields a query returns.
/// `Projection::new().include(&f.email).include(&f.age)`, or a raw document.
///
/// A projected document no longer has the model's shape, so a projected find returns `Document`s
/// (see [`Find::project`](crate::Find::project)).
pub struct Projection<M> {
    doc: Document,
    _model: PhantomData<fn() -> M>,
}

impl<M> Default for Projection<M> {
    fn default() -> Self {
        Projection {
            doc: Document::new(),
            _model: PhantomData,
        }
    }
}

impl<M> Projection<M> {
    /// An empty projection (every field).
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns this field.
    pub fn include<V>(mut self, field: &Field<M, V>) -> Self {
        self.doc.insert(field.path(), 1);
        self
    }

    /// Leaves this field out.
    pub fn exclude<V>(mut self, field: &Field<M, V>) -> Self {
        self.doc.insert(field.path(), 0);
        self
    }

    /// The projection as a document.
    pub fn into_document(self) -> Document {
        self.doc
    }
}

impl<M> Clone for Projection<M> {
    fn clone(&self) -> Self {
        Projection {
            doc: self.doc.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Projection<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Projection").field(&self.doc).finish()
    }
}

impl<M> From<Document> for Projection<M> {
    fn from(doc: Document) -> Self {
        Projection {
            doc,
            _model: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct User;

    #[test]
    fn borrowed_values_are_accepted() {
        let name: Field<User, String> = Field::new("name");
        let nick: Field<User, Option<String>> = Field::new("nick");
        let owned = String::from("ann");
        assert_eq!(name.eq(&owned), name.eq("ann"));
        assert_eq!(nick.eq(&owned), nick.eq("ann"));
        assert_eq!(name.in_(&["a".to_owned()]), name.in_(["a"]));
    }

    #[test]
    fn values_stay_values() {
        let name: Field<User, String> = Field::new("name");
        let f = name.eq("$where");
        assert_eq!(f.as_document(), &doc! { "name": { "$eq": "$where" } });
        let meta: Field<User, Document> = Field::new("meta");
        let f = meta.eq(doc! { "$gt": "" });
        assert_eq!(f.as_document(), &doc! { "meta": { "$eq": { "$gt": "" } } });
    }

    #[test]
    fn and_flattens_and_skips_empty() {
        let age: Field<User, i32> = Field::new("age");
        let f = Filter::all() & age.gt(1) & age.lt(5) & age.ne(3);
        assert_eq!(
            f.as_document(),
            &doc! { "$and": [ { "age": { "$gt": 1 } }, { "age": { "$lt": 5 } }, { "age": { "$ne": 3 } } ] }
        );
        let g = !(age.eq(1) | age.eq(2));
        assert_eq!(
            g.as_document(),
            &doc! { "$nor": [ { "$or": [ { "age": { "$eq": 1 } }, { "age": { "$eq": 2 } } ] } ] }
        );
    }

    #[test]
    fn encoding_errors_surface_when_run() {
        let big: Field<User, u64> = Field::new("big");
        let f = big.eq(u64::MAX) & big.gt(1);
        assert!(matches!(
            f.into_document(),
            Err(Error::Serialization { .. })
        ));
    }

    #[test]
    fn repeated_operations_on_a_path_combine() {
        let tags: Field<User, Vec<String>> = Field::new("tags");
        let logins: Field<User, i64> = Field::new("logins");
        let update = UpdateBuilder::<User>::new()
            .push(&tags, "a")
            .push(&tags, "b")
            .push_all(&tags, ["c", "d"])
            .inc(&logins, 1i64)
            .inc(&logins, 2i64)
            .pull(&tags, "x")
            .build()
            .unwrap_err();
        // `push` and `pull` of one path contradict; without the pull every push is kept.
        assert!(matches!(update, Error::InvalidUpdate(_)), "{update}");
        let update = UpdateBuilder::<User>::new()
            .push(&tags, "a")
            .push(&tags, "b")
            .push_all(&tags, ["c", "d"])
            .inc(&logins, 1i64)
            .inc(&logins, 2i64)
            .build()
            .unwrap();
        assert_eq!(
            update,
            Update::Document(doc! {
                "$push": { "tags": { "$each": ["a", "b", "c", "d"] } },
                "$inc": { "logins": 3i64 },
            })
        );
    }

    #[test]
    fn contradicting_operations_are_refused_before_sending() {
        let name: Field<User, String> = Field::new("name");
        let address: Field<User, Document> = Field::new("address");
        let city: Field<User, String> = Field::new("address.city");
        for update in [
            UpdateBuilder::<User>::new().set(&name, "a").unset(&name),
            UpdateBuilder::<User>::new().set(&name, "a").set(&name, "b"),
            UpdateBuilder::<User>::new()
                .set(&address, doc! {})
                .set(&city, "Oslo"),
            UpdateBuilder::<User>::new()
                .set(&city, "Oslo")
                .unset(&address),
        ] {
            match update.build() {
                Err(Error::InvalidUpdate(message)) => {
                    assert!(message.contains("contradicts"), "{message}")
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(UpdateBuilder::<User>::new()
            .set(&city, "Oslo")
            .set(&Field::<User, String>::new("address.zip"), "0150")
            .build()
            .is_ok());
    }

    #[test]
    fn sorts_combine_in_order() {
        let age: Field<User, i32> = Field::new("age");
        let name: Field<User, String> = Field::new("name");
        let s: Sort<User> = (age.desc(), name.asc()).into();
        assert_eq!(s.clone().into_document(), doc! { "age": -1, "name": 1 });
        assert_eq!(age.desc().then(name.asc()), s);
    }
}
