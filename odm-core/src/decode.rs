//! Decoding stored documents without serde: the code `#[derive(Model)]` and `#[derive(Embedded)]`
//! generate for structs whose every field has a type listed here walks the document's bytes directly.
//!
//! The contract: a decoder returns `Some` only with the value serde's derive, through `bson::from_slice`,
//! would give for the same bytes, and `None` for anything else (another type, a number out of range, a
//! duplicate key, a missing field serde would reject, malformed bytes). `None` sends the whole document
//! down the serde path, which gives the value or the error it always gave. So the generated decoder is
//! only ever faster, never different.

use std::marker::PhantomData;

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document, RawDocument};

use crate::ops::populate::Ref;

/// BSON element types (the byte before each key).
mod tag {
    pub const DOUBLE: u8 = 0x01;
    pub const STRING: u8 = 0x02;
    pub const DOCUMENT: u8 = 0x03;
    pub const ARRAY: u8 = 0x04;
    pub const BINARY: u8 = 0x05;
    pub const UNDEFINED: u8 = 0x06;
    pub const OBJECT_ID: u8 = 0x07;
    pub const BOOLEAN: u8 = 0x08;
    pub const DATE_TIME: u8 = 0x09;
    pub const NULL: u8 = 0x0A;
    pub const REGEX: u8 = 0x0B;
    pub const DB_POINTER: u8 = 0x0C;
    pub const JAVASCRIPT: u8 = 0x0D;
    pub const SYMBOL: u8 = 0x0E;
    pub const JAVASCRIPT_WITH_SCOPE: u8 = 0x0F;
    pub const INT32: u8 = 0x10;
    pub const TIMESTAMP: u8 = 0x11;
    pub const INT64: u8 = 0x12;
    pub const DECIMAL128: u8 = 0x13;
    pub const MIN_KEY: u8 = 0xFF;
    pub const MAX_KEY: u8 = 0x7F;
}

fn le_i32(bytes: &[u8]) -> Option<i32> {
    Some(i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
}

fn le_i64(bytes: &[u8]) -> Option<i64> {
    Some(i64::from_le_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// A NUL-terminated string at the start of `bytes`: its bytes, without the NUL.
fn cstring(bytes: &[u8]) -> Option<&[u8]> {
    let end = bytes.iter().position(|&b| b == 0)?;
    Some(&bytes[..end])
}

/// The elements of a document (or array), read from its bytes: each a key and a [`Value`]. Lengths are
/// checked as it goes; keys and values are checked for UTF-8 where they are read.
pub struct Elements<'a> {
    /// What is left of the element list (the document's final NUL excluded).
    rest: &'a [u8],
}

impl<'a> Elements<'a> {
    /// The elements of a whole document: `bytes` starts with its length, which must match, and ends with
    /// a NUL.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        let len = usize::try_from(le_i32(bytes)?).ok()?;
        if len != bytes.len() || len < 5 || bytes[len - 1] != 0 {
            return None;
        }
        Some(Elements {
            rest: &bytes[4..len - 1],
        })
    }

    /// The next element: `Some(None)` at the end, `None` when the bytes are malformed.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Option<(&'a [u8], Value<'a>)>> {
        let Some((&kind, after)) = self.rest.split_first() else {
            return Some(None);
        };
        let key = cstring(after)?;
        let body = &after[key.len() + 1..];
        let len = value_len(kind, body)?;
        self.rest = &body[len..];
        Some(Some((
            key,
            Value {
                kind,
                bytes: &body[..len],
            },
        )))
    }

    /// Checks every remaining element (UTF-8 keys, well-formed values), as serde does when it reads and
    /// ignores them.
    pub fn check_all(mut self) -> Option<()> {
        while let Some((key, value)) = self.next()? {
            std::str::from_utf8(key).ok()?;
            value.check()?;
        }
        Some(())
    }
}

/// The byte range of the element stored under `key` in the document `doc`, if there is one.
pub(crate) fn element_span(doc: &[u8], key: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut elements = Elements::new(doc)?;
    let end = doc.len() - 1;
    loop {
        let start = end - elements.rest.len();
        let (k, _) = elements.next()??;
        if k == key {
            return Some(start..end - elements.rest.len());
        }
    }
}

/// `doc` with `_id: id` as its first element, in place of any `_id` it had.
pub(crate) fn with_id_first(doc: &[u8], id: ObjectId) -> Vec<u8> {
    let skip = element_span(doc, b"_id").unwrap_or(4..4);
    let mut out = Vec::with_capacity(doc.len() + 17);
    out.extend_from_slice(&[0; 4]);
    out.push(tag::OBJECT_ID);
    out.extend_from_slice(b"_id\0");
    out.extend_from_slice(&id.bytes());
    out.extend_from_slice(&doc[4..skip.start]);
    out.extend_from_slice(&doc[skip.end..]);
    let len = i32::try_from(out.len()).unwrap_or(i32::MAX);
    out[..4].copy_from_slice(&len.to_le_bytes());
    out
}

/// How many bytes a value of type `kind` at the start of `body` takes, with its lengths checked against
/// what is there.
#[inline]
fn value_len(kind: u8, body: &[u8]) -> Option<usize> {
    let len = match kind {
        tag::BOOLEAN => 1,
        tag::INT32 => 4,
        tag::DOUBLE | tag::INT64 | tag::DATE_TIME | tag::TIMESTAMP => 8,
        tag::OBJECT_ID => 12,
        tag::DECIMAL128 => 16,
        tag::NULL | tag::UNDEFINED | tag::MIN_KEY | tag::MAX_KEY => 0,
        tag::STRING | tag::JAVASCRIPT | tag::SYMBOL => string_len(body)?,
        tag::DOCUMENT | tag::ARRAY | tag::JAVASCRIPT_WITH_SCOPE => {
            usize::try_from(le_i32(body)?).ok()?
        }
        tag::BINARY => usize::try_from(le_i32(body)?).ok()?.checked_add(5)?,
        tag::REGEX => {
            let pattern = cstring(body)?.len() + 1;
            pattern + cstring(&body[pattern..])?.len() + 1
        }
        tag::DB_POINTER => string_len(body)?.checked_add(12)?,
        _ => return None,
    };
    (len <= body.len()).then_some(len)
}

/// The length of a BSON string (length prefix, bytes, NUL) at the start of `body`.
#[inline]
fn string_len(body: &[u8]) -> Option<usize> {
    let len = usize::try_from(le_i32(body)?).ok()?;
    (len >= 1).then_some(len + 4)
}

/// One stored value: its type and its bytes.
#[derive(Clone, Copy)]
pub struct Value<'a> {
    kind: u8,
    bytes: &'a [u8],
}

impl<'a> Value<'a> {
    /// A string's text (UTF-8 checked).
    #[inline]
    pub fn as_str(self) -> Option<&'a str> {
        if self.kind != tag::STRING {
            return None;
        }
        string(self.bytes)
    }

    /// An `Int32` or `Int64`, widened.
    #[inline]
    pub fn as_integer(self) -> Option<i64> {
        match self.kind {
            tag::INT32 => le_i32(self.bytes).map(i64::from),
            tag::INT64 => le_i64(self.bytes),
            _ => None,
        }
    }

    /// The elements of an embedded document or of an array.
    #[inline]
    pub fn elements(self, kind: u8) -> Option<Elements<'a>> {
        if self.kind != kind {
            return None;
        }
        Elements::new(self.bytes)
    }

    /// The elements of an embedded document.
    #[inline]
    pub fn as_document(self) -> Option<Elements<'a>> {
        self.elements(tag::DOCUMENT)
    }

    /// Whether the value is `null`.
    #[inline]
    pub fn is_null(self) -> bool {
        self.kind == tag::NULL
    }

    /// Checks that the value is well formed, down to nested documents, as serde does when it reads one
    /// into a field it ignores.
    pub fn check(self) -> Option<()> {
        match self.kind {
            tag::STRING | tag::JAVASCRIPT | tag::SYMBOL => string(self.bytes).map(drop),
            tag::BOOLEAN => (self.bytes[0] <= 1).then_some(()),
            tag::DOCUMENT | tag::ARRAY => Elements::new(self.bytes)?.check_all(),
            tag::REGEX => {
                let pattern = cstring(self.bytes)?;
                std::str::from_utf8(pattern).ok()?;
                std::str::from_utf8(cstring(&self.bytes[pattern.len() + 1..])?).ok()?;
                Some(())
            }
            tag::DB_POINTER => string(&self.bytes[..self.bytes.len() - 12]).map(drop),
            // Binary payloads, code with scope and the fixed-size types: leave the finer checks to serde.
            tag::BINARY | tag::JAVASCRIPT_WITH_SCOPE => None,
            _ => Some(()),
        }
    }
}

/// The text of a BSON string (length prefix, bytes, NUL), UTF-8 checked.
#[inline]
fn string(bytes: &[u8]) -> Option<&str> {
    let (&nul, text) = bytes.get(4..)?.split_last()?;
    if nul != 0 {
        return None;
    }
    std::str::from_utf8(text).ok()
}

/// A type the generated decoders read from raw BSON without serde.
pub trait Decode: Sized {
    /// The value of a stored field; `None` when serde must decide.
    fn decode(value: Value<'_>) -> Option<Self>;

    /// The value of a missing field: `None` for a missing `Option` field, like serde; `None` otherwise
    /// (serde reports the missing field, or applies `#[serde(default)]`).
    fn missing() -> Option<Self> {
        None
    }
}

impl Decode for String {
    #[inline]
    fn decode(value: Value<'_>) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
}

impl Decode for bool {
    #[inline]
    fn decode(value: Value<'_>) -> Option<Self> {
        match (value.kind, value.bytes) {
            (tag::BOOLEAN, [0]) => Some(false),
            (tag::BOOLEAN, [1]) => Some(true),
            _ => None,
        }
    }
}

/// Integers: serde takes a stored `Int32` or `Int64` that fits the type, and refuses a `Double`.
macro_rules! decode_int {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            #[inline]
            fn decode(value: Value<'_>) -> Option<Self> {
                <$t>::try_from(value.as_integer()?).ok()
            }
        }
    )*};
}
decode_int!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Floats: serde takes a stored `Double`, and converts a stored integer with `as`.
macro_rules! decode_float {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            #[inline]
            fn decode(value: Value<'_>) -> Option<Self> {
                match value.kind {
                    tag::DOUBLE => Some(f64::from_le_bytes(value.bytes.try_into().ok()?) as $t),
                    tag::INT32 => Some(le_i32(value.bytes)? as $t),
                    tag::INT64 => Some(le_i64(value.bytes)? as $t),
                    _ => None,
                }
            }
        }
    )*};
}
decode_float!(f32, f64);

impl Decode for ObjectId {
    #[inline]
    fn decode(value: Value<'_>) -> Option<Self> {
        match value.kind {
            tag::OBJECT_ID => Some(ObjectId::from_bytes(value.bytes.try_into().ok()?)),
            _ => None,
        }
    }
}

impl Decode for DateTime {
    #[inline]
    fn decode(value: Value<'_>) -> Option<Self> {
        match value.kind {
            tag::DATE_TIME => Some(DateTime::from_millis(le_i64(value.bytes)?)),
            _ => None,
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    #[inline]
    fn decode(value: Value<'_>) -> Option<Self> {
        if value.is_null() {
            return Some(None);
        }
        T::decode(value).map(Some)
    }

    #[inline]
    fn missing() -> Option<Self> {
        Some(None)
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(value: Value<'_>) -> Option<Self> {
        array(value, T::decode)
    }
}

/// The values of a stored array, each read with `item`. serde reads an array's values in order and its
/// keys only as text.
fn array<T>(value: Value<'_>, mut item: impl FnMut(Value<'_>) -> Option<T>) -> Option<Vec<T>> {
    let mut items = value.elements(tag::ARRAY)?;
    let mut out = Vec::new();
    while let Some((key, value)) = items.next()? {
        std::str::from_utf8(key).ok()?;
        out.push(item(value)?);
    }
    Some(out)
}

impl<T> Decode for Ref<T> {
    /// The id kinds a reference commonly holds; serde decides any other.
    fn decode(value: Value<'_>) -> Option<Self> {
        match value.kind {
            tag::OBJECT_ID | tag::STRING | tag::INT32 | tag::INT64 => Some(Ref::new(bson(value)?)),
            _ => None,
        }
    }
}

impl Decode for Document {
    fn decode(value: Value<'_>) -> Option<Self> {
        document(value.as_document()?)
    }
}

impl Decode for Bson {
    fn decode(value: Value<'_>) -> Option<Self> {
        bson(value)
    }
}

/// A free-form embedded document. serde reads a document through the extended-JSON model, so one with a
/// `$`-prefixed key (`{"$date": ..}`) may come back as another type there; such documents, repeated keys
/// and the rarer BSON types are left to serde.
fn document(mut elements: Elements<'_>) -> Option<Document> {
    let mut doc = Document::new();
    while let Some((key, value)) = elements.next()? {
        let key = std::str::from_utf8(key).ok()?;
        if key.starts_with('$') || doc.insert(key, bson(value)?).is_some() {
            return None;
        }
    }
    Some(doc)
}

/// A free-form value of one of the common BSON types.
fn bson(value: Value<'_>) -> Option<Bson> {
    Some(match value.kind {
        tag::DOUBLE => Bson::Double(f64::decode(value)?),
        tag::STRING => Bson::String(String::decode(value)?),
        tag::DOCUMENT => Bson::Document(document(value.as_document()?)?),
        tag::ARRAY => Bson::Array(array(value, bson)?),
        tag::BOOLEAN => Bson::Boolean(bool::decode(value)?),
        tag::NULL => Bson::Null,
        tag::INT32 => Bson::Int32(le_i32(value.bytes)?),
        tag::INT64 => Bson::Int64(le_i64(value.bytes)?),
        tag::DATE_TIME => Bson::DateTime(DateTime::decode(value)?),
        tag::OBJECT_ID => Bson::ObjectId(ObjectId::decode(value)?),
        _ => return None,
    })
}

/// A struct whose decoder the derive generated.
pub trait DecodeDocument: Sized {
    /// The struct from the elements of a stored document; `None` when serde must decide.
    fn decode_elements(elements: Elements<'_>) -> Option<Self>;

    /// The struct from a stored document; `None` when serde must decide.
    #[inline]
    fn decode_document(doc: &RawDocument) -> Option<Self> {
        Self::decode_elements(Elements::new(doc.as_bytes())?)
    }
}

/// A struct with a generated decoder is read, as a field of another, from an embedded document.
impl<T: DecodeDocument> Decode for T {
    #[inline]
    fn decode(value: Value<'_>) -> Option<Self> {
        T::decode_elements(value.as_document()?)
    }
}

/// Picks, for a field's type, the generated path when the type implements [`Decode`] and serde
/// otherwise: `(&&Probe::<T>::NEW).slot()` gives the field's [`Slot`], or a [`SerdeSlot`] that sends the
/// whole document to serde. Method lookup tries the `&Probe<T>` impl ([`ViaDecode`], needs `T: Decode`)
/// before the `Probe<T>` one ([`ViaSerde`]), so no type needs to say which it is.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe of `T`.
    pub const NEW: Self = Probe(PhantomData);
}

/// The generated path, for a type that implements [`Decode`].
pub trait ViaDecode {
    /// The field's type.
    type Out;
    /// An empty slot for the field.
    fn slot(&self) -> Slot<Self::Out>;
}

impl<T: Decode> ViaDecode for &Probe<T> {
    type Out = T;
    #[inline]
    fn slot(&self) -> Slot<T> {
        Slot(None)
    }
}

/// The serde path, for any other type: the generated decoder gives up before reading anything.
pub trait ViaSerde {
    /// The field's type.
    type Out;
    /// A slot that sends the document to serde.
    fn slot(&self) -> SerdeSlot<Self::Out> {
        SerdeSlot(PhantomData)
    }
}

impl<T> ViaSerde for Probe<T> {
    type Out = T;
}

/// The fields a generated decoder reads, in declaration order: one [`Slot`] per field, in tuples of at
/// most 12, nested in a tuple past 12 fields. Everything about a struct but its keys, its types and its
/// defaults is [`decode_slots`]'s, written once here rather than in every struct's expansion.
pub trait Slots {
    /// How many fields.
    const LEN: usize;
    /// Whether every field has a generated decoder: when one has not, serde decodes the document.
    const GENERATED: bool;
    /// The fields' values.
    type Values;
    /// Reads field `i`'s stored value; `None` when serde must decide (the value, or a repeated key).
    fn read(&mut self, i: usize, value: Value<'_>) -> Option<()>;
    /// The values, or `None` when a field without a default never came.
    fn finish(self) -> Option<Self::Values>;
}

/// Reads a stored document's elements into `slots`, the key of field `i` being `keys[i]`: the values,
/// or `None` when serde must decide (a field serde alone decodes, a value the field's type does not
/// take, a repeated key, a missing field without a default, damaged bytes).
#[inline]
pub fn decode_slots<S: Slots>(
    mut elements: Elements<'_>,
    keys: &[&[u8]],
    mut slots: S,
) -> Option<S::Values> {
    if !S::GENERATED {
        return None;
    }
    while let Some((key, value)) = elements.next()? {
        match keys.iter().position(|k| *k == key) {
            Some(i) => slots.read(i, value)?,
            None => skip_element(key, value)?,
        }
    }
    slots.finish()
}

/// One field of a struct a generated decoder reads: empty until its key comes.
pub struct Slot<T>(Option<T>);

impl<T: Decode> Slots for Slot<T> {
    const LEN: usize = 1;
    const GENERATED: bool = true;
    type Values = T;

    #[inline]
    fn read(&mut self, _: usize, value: Value<'_>) -> Option<()> {
        if self.0.is_some() {
            return None;
        }
        self.0 = Some(T::decode(value)?);
        Some(())
    }

    /// The field's value, or when its key never came, [`Decode::missing`].
    #[inline]
    fn finish(self) -> Option<T> {
        match self.0 {
            Some(value) => Some(value),
            None => T::missing(),
        }
    }
}

/// A field serde fills in when it is missing (`#[serde(default)]`): its value is `None` then, for the
/// generated code to put the default in.
pub struct Defaulted<S>(S);

/// The slot of a field with a serde default: `None` for its value when its key never came.
pub trait WithDefault {
    /// The slot.
    type Slot: Slots;
    /// The slot of the field, with a default.
    fn with_default(self) -> Self::Slot;
}

impl<T: Decode> WithDefault for Slot<T> {
    type Slot = Defaulted<Slot<T>>;
    #[inline]
    fn with_default(self) -> Self::Slot {
        Defaulted(self)
    }
}

impl<T> WithDefault for SerdeSlot<T> {
    type Slot = SerdeSlot<Option<T>>;
    #[inline]
    fn with_default(self) -> Self::Slot {
        SerdeSlot(PhantomData)
    }
}

impl<T: Decode> Slots for Defaulted<Slot<T>> {
    const LEN: usize = 1;
    const GENERATED: bool = true;
    type Values = Option<T>;

    #[inline]
    fn read(&mut self, i: usize, value: Value<'_>) -> Option<()> {
        self.0.read(i, value)
    }

    #[inline]
    fn finish(self) -> Option<Option<T>> {
        Some(self.0 .0)
    }
}

/// The slot [`ViaSerde`] gives: never read, since the decoder gives up first.
pub struct SerdeSlot<T>(PhantomData<fn() -> T>);

impl<T> Slots for SerdeSlot<T> {
    const LEN: usize = 1;
    const GENERATED: bool = false;
    type Values = T;

    fn read(&mut self, _: usize, _: Value<'_>) -> Option<()> {
        None
    }

    fn finish(self) -> Option<T> {
        None
    }
}

impl Slots for () {
    const LEN: usize = 0;
    const GENERATED: bool = true;
    type Values = ();

    fn read(&mut self, _: usize, _: Value<'_>) -> Option<()> {
        None
    }

    fn finish(self) -> Option<()> {
        Some(())
    }
}

/// `Slots` for a tuple of slots: field `i` is the first element's while `i` is below its length, and so
/// on; the lengths are constants, so the compiler resolves the chain.
macro_rules! tuple_slots {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Slots),+> Slots for ($($name,)+) {
            const LEN: usize = 0 $(+ $name::LEN)+;
            const GENERATED: bool = true $(&& $name::GENERATED)+;
            type Values = ($($name::Values,)+);

            #[inline]
            fn read(&mut self, i: usize, value: Value<'_>) -> Option<()> {
                let mut i = i;
                $(
                    if i < $name::LEN {
                        return self.$index.read(i, value);
                    }
                    i -= $name::LEN;
                )+
                let _ = i;
                None
            }

            #[inline]
            fn finish(self) -> Option<Self::Values> {
                Some(($(self.$index.finish()?,)+))
            }
        }
    };
}

tuple_slots!(A 0);
tuple_slots!(A 0, B 1);
tuple_slots!(A 0, B 1, C 2);
tuple_slots!(A 0, B 1, C 2, D 3);
tuple_slots!(A 0, B 1, C 2, D 3, E 4);
tuple_slots!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_slots!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// An element whose key is no field's: serde reads the key as text and the value whole, then ignores
/// both.
#[inline]
pub fn skip_element(key: &[u8], value: Value<'_>) -> Option<()> {
    std::str::from_utf8(key).ok()?;
    value.check()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::rawdoc;

    fn field<T: Decode>(doc: &RawDocument) -> Option<T> {
        let mut elements = Elements::new(doc.as_bytes()).unwrap();
        let (key, value) = elements.next().unwrap().unwrap();
        assert_eq!(key, b"v");
        T::decode(value)
    }

    #[test]
    fn the_id_goes_first_in_place_of_a_null_one() {
        let id = ObjectId::new();
        let null_id = rawdoc! { "a": 1, "_id": null, "b": "x" };
        let no_id = rawdoc! { "a": 1, "b": "x" };
        for doc in [null_id, no_id] {
            let out = mongodb::bson::RawDocumentBuf::from_bytes(with_id_first(doc.as_bytes(), id))
                .unwrap();
            let out = mongodb::bson::Document::try_from(out.as_ref()).unwrap();
            assert_eq!(out, mongodb::bson::doc! { "_id": id, "a": 1, "b": "x" });
            assert_eq!(out.keys().next().map(String::as_str), Some("_id"));
        }
    }

    #[test]
    fn numbers_follow_serde() {
        let int32 = rawdoc! { "v": 7 };
        let int64 = rawdoc! { "v": 7_i64 };
        let big = rawdoc! { "v": i64::MAX };
        let negative = rawdoc! { "v": -1 };
        let double = rawdoc! { "v": 7.5 };
        assert_eq!(field::<i32>(&int64), Some(7));
        assert_eq!(field::<i32>(&big), None);
        assert_eq!(field::<u32>(&negative), None);
        assert_eq!(field::<i64>(&double), None);
        assert_eq!(field::<f64>(&int32), Some(7.0));
        assert_eq!(field::<f32>(&double), Some(7.5));
        assert_eq!(field::<bool>(&int32), None);
    }

    #[test]
    fn options_and_lists() {
        let null = rawdoc! { "v": null };
        let list = rawdoc! { "v": ["a", "b"] };
        let mixed = rawdoc! { "v": ["a", 1] };
        assert_eq!(field::<Option<String>>(&null), Some(None));
        assert_eq!(field::<String>(&null), None);
        assert_eq!(
            field::<Vec<String>>(&list),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(field::<Vec<String>>(&mixed), None);
        assert_eq!(<Option<i32>>::missing(), Some(None));
        assert_eq!(<i32>::missing(), None);
    }

    /// Whether a slot reads its field with a generated decoder.
    fn generated<S: Slots>(_: S) -> bool {
        S::GENERATED
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the exact call the generated decoders make
    fn the_probe_picks_the_generated_path_only_for_decode_types() {
        #[allow(unused_imports)]
        use super::{ViaDecode as _, ViaSerde as _, WithDefault as _};
        assert!(generated((&&Probe::<Vec<Option<String>>>::NEW).slot()));
        assert!(generated(
            (&&Probe::<Option<mongodb::bson::Document>>::NEW).slot()
        ));
        assert!(!generated(
            (&&Probe::<std::collections::HashMap<String, i32>>::NEW).slot()
        ));
        assert!(!generated(
            (&&Probe::<Vec<mongodb::bson::Decimal128>>::NEW).slot()
        ));
        // A tuple is generated when every slot is.
        assert!(generated((
            (&&Probe::<i32>::NEW).slot(),
            (&&Probe::<String>::NEW).slot().with_default(),
        )));
        assert!(!generated((
            (&&Probe::<i32>::NEW).slot(),
            (&&Probe::<std::collections::HashMap<String, i32>>::NEW)
                .slot()
                .with_default(),
        )));
    }

    #[test]
    fn slots_in_nested_tuples_read_their_own_keys() {
        let doc = mongodb::bson::rawdoc! { "b": 2, "m": "x", "a": 1, "n": 14 };
        let slots = (
            (
                Slot::<i32>(None),
                Slot::<i32>(None),
                Slot::<Option<i32>>(None),
            ),
            (
                Slot::<String>(None),
                Slot::<i32>(None).with_default(),
                Slot::<i64>(None),
            ),
        );
        let keys: &[&[u8]] = &[b"a", b"b", b"c", b"m", b"z", b"n"];
        let elements = Elements::new(doc.as_bytes()).unwrap();
        let values = decode_slots(elements, keys, slots).unwrap();
        assert_eq!(values, ((1, 2, None), ("x".to_owned(), None, 14)));
        // A repeated key, or a required field missing: serde decides.
        let twice = mongodb::bson::rawdoc! { "a": 1, "a": 2 };
        let one = (Slot::<i32>(None),);
        assert_eq!(
            decode_slots(Elements::new(twice.as_bytes()).unwrap(), &[b"a"], one),
            None
        );
        let none = mongodb::bson::rawdoc! {};
        let one = (Slot::<i32>(None),);
        assert_eq!(
            decode_slots(Elements::new(none.as_bytes()).unwrap(), &[b"a"], one),
            None
        );
    }
}
