//! The generated decoder: on any stored document it gives exactly serde's value or leaves the document to
//! serde, so `Model::from_document` always agrees with `bson::from_slice`. No server needed.

use odm_core::bson::{self, oid::ObjectId, Bson, DateTime, Document, RawDocumentBuf};
use odm_core::prelude::*;
use odm_core::Ref;
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Embedded)]
struct Address {
    street: String,
    zip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
struct Person {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    full_name: String,
    age: i32,
    score: f64,
    visits: u32,
    big: i64,
    active: bool,
    tags: Vec<String>,
    #[field(nested)]
    address: Address,
    previous: Vec<Address>,
    seen_at: Option<DateTime>,
    #[serde(rename = "ref")]
    best_friend: Option<Ref<Person>>,
    #[serde(default)]
    nickname: String,
    #[serde(default = "seven")]
    lucky: i32,
    #[serde(skip)]
    cache: Option<String>,
    meta: Document,
    extra: Option<Bson>,
}

fn seven() -> i32 {
    7
}

/// A field type the generated decoder leaves to serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
struct Loose {
    #[serde(rename = "_id")]
    id: ObjectId,
    extra: std::collections::HashMap<String, i32>,
}

/// A serde attribute the generated decoder leaves to serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(deny_unknown_fields)]
struct Strict {
    #[serde(rename = "_id")]
    id: ObjectId,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
struct Aliased {
    #[serde(rename = "_id")]
    id: ObjectId,
    #[serde(alias = "nom")]
    name: String,
}

fn person() -> Person {
    Person {
        id: Some(ObjectId::new()),
        full_name: "Ada Lovelace".into(),
        age: 36,
        score: 9.5,
        visits: 3,
        big: 1 << 40,
        active: true,
        tags: vec!["math".into(), "engines".into()],
        address: Address {
            street: "12 St James's Square".into(),
            zip: None,
        },
        previous: vec![Address {
            street: "Ockham Park".into(),
            zip: Some("KT11".into()),
        }],
        seen_at: Some(DateTime::from_millis(1_700_000_000_000)),
        best_friend: Some(Ref::new(ObjectId::new())),
        nickname: "Ada".into(),
        lucky: 13,
        cache: None,
        meta: doc! { "plan": "pro", "seats": 5, "since": DateTime::from_millis(1_600_000_000_000), "flags": [true, null] },
        extra: Some(Bson::Int64(9)),
    }
}

fn raw(doc: &Document) -> RawDocumentBuf {
    RawDocumentBuf::from_document(doc).unwrap()
}

/// What serde makes of the bytes, compared by value (`Ref` has no `PartialEq`: compare its id).
fn agree<T: Model + std::fmt::Debug>(doc: &RawDocumentBuf, same: impl Fn(&T, &T) -> bool) {
    let serde = bson::from_slice::<T>(doc.as_bytes());
    if let Some(fast) = T::decode_generated(doc) {
        let serde = serde
            .as_ref()
            .unwrap_or_else(|e| panic!("generated {fast:?} where serde fails: {e}\n{doc:?}"));
        assert!(same(&fast, serde), "{fast:?} != {serde:?}\n{doc:?}");
    }
    match (T::from_document(doc), serde) {
        (Ok(a), Ok(b)) => assert!(same(&a, &b), "{a:?} != {b:?}"),
        (Err(Error::Deserialization { type_name, .. }), Err(_)) => {
            assert_eq!(type_name, T::SCHEMA.type_name)
        }
        (a, b) => panic!("from_document {a:?}, serde {b:?}\n{doc:?}"),
    }
}

fn same_person(a: &Person, b: &Person) -> bool {
    let refs = |p: &Person| p.best_friend.as_ref().map(|r| r.id().clone());
    let strip = |p: &Person| Person {
        best_friend: None,
        ..p.clone()
    };
    refs(a) == refs(b) && strip(a) == strip(b)
}

#[test]
fn a_stored_model_is_decoded_without_serde() {
    let value = person();
    let stored = bson::to_raw_document_buf(&value).unwrap();
    let decoded = Person::decode_generated(&stored).expect("every field type is generated");
    assert!(same_person(&decoded, &value));
    assert!(same_person(
        &Person::from_document(&stored).unwrap(),
        &value
    ));
}

/// An embedded document with no field: the decoder has no slot to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Embedded)]
struct Marker {}

/// Every field filled in by serde when missing: the decoder has no value that may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
struct Counters {
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    #[serde(default)]
    hits: i64,
    #[serde(default = "seven")]
    lucky: i32,
    #[field(nested)]
    #[serde(default)]
    marker: Option<Marker>,
}

#[test]
fn structs_without_slots_or_required_values_decode_like_serde() {
    let same = |a: &Counters, b: &Counters| a == b;
    for doc in [
        doc! {},
        doc! { "hits": 3_i64 },
        doc! { "hits": 3_i64, "lucky": 1, "marker": {} },
        doc! { "marker": { "unknown": true } },
        doc! { "hits": "not a number" },
    ] {
        agree::<Counters>(&raw(&doc), same);
    }
    let decoded = Counters::decode_generated(&raw(&doc! { "marker": {} })).unwrap();
    assert_eq!(decoded.hits, 0);
    assert_eq!(decoded.lucky, 7);
    assert_eq!(decoded.marker, Some(Marker {}));
}

#[test]
fn missing_fields_follow_serde_defaults() {
    let mut doc = bson::to_document(&person()).unwrap();
    for key in ["nickname", "lucky", "seenAt", "ref", "extra"] {
        doc.remove(key);
    }
    let decoded = Person::decode_generated(&raw(&doc)).unwrap();
    assert_eq!(decoded.nickname, "");
    assert_eq!(decoded.lucky, 7);
    assert_eq!(decoded.seen_at, None);
    assert!(decoded.best_friend.is_none());
    assert_eq!(decoded.extra, None);
    // A required field missing: serde's error, with the type named.
    doc.remove("age");
    assert_eq!(Person::decode_generated(&raw(&doc)).map(|_| ()), None);
    match Person::from_document(&raw(&doc)) {
        Err(Error::Deserialization { type_name, source }) => {
            assert_eq!(type_name, "Person");
            assert!(source.to_string().contains("age"), "{source}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn serde_attributes_the_decoder_does_not_follow_leave_the_model_to_serde() {
    let id = ObjectId::new();
    let loose = raw(&doc! { "_id": id, "extra": { "a": 1 } });
    assert!(Loose::decode_generated(&loose).is_none());
    assert_eq!(Loose::from_document(&loose).unwrap().extra["a"], 1);

    let strict = raw(&doc! { "_id": id, "name": "x", "other": 1 });
    assert!(Strict::decode_generated(&strict).is_none());
    assert!(Strict::from_document(&strict).is_err());

    let aliased = raw(&doc! { "_id": id, "nom": "x" });
    assert!(Aliased::decode_generated(&aliased).is_none());
    assert_eq!(Aliased::from_document(&aliased).unwrap().name, "x");
}

#[test]
fn duplicate_keys_are_left_to_serde() {
    let mut doc = bson::to_raw_document_buf(&person()).unwrap();
    doc.append("age", 40);
    assert!(Person::decode_generated(&doc).is_none());
    agree::<Person>(&doc, same_person);
}

/// A stored value of any common kind, to put where a field's value belongs.
fn any_value() -> impl Strategy<Value = Bson> {
    let leaf = prop_oneof![
        Just(Bson::Null),
        any::<bool>().prop_map(Bson::Boolean),
        any::<i32>().prop_map(Bson::Int32),
        (-3i32..200).prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        (-3i64..200).prop_map(Bson::Int64),
        any::<f64>().prop_map(Bson::Double),
        "[a-z]{0,6}".prop_map(Bson::String),
        Just(Bson::ObjectId(ObjectId::from_bytes([7; 12]))),
        any::<i64>().prop_map(|ms| Bson::DateTime(DateTime::from_millis(ms))),
        // Shapes serde reads as extended JSON, and a type the decoder leaves to serde.
        any::<i64>().prop_map(|ms| Bson::Document(doc! { "$date": ms })),
        Just(Bson::Document(doc! { "$oid": "070707070707070707070707" })),
        Just(Bson::Decimal128(bson::Decimal128::from_bytes([1; 16]))),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Bson::Array),
            (
                inner.clone(),
                inner,
                prop::option::of("[a-z]{0,4}".prop_map(Bson::String))
            )
                .prop_map(|(street, other, zip)| {
                    let mut d = doc! { "street": street, "other": other };
                    if let Some(zip) = zip {
                        d.insert("zip", zip);
                    }
                    Bson::Document(d)
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Start from a stored person, then replace, remove or add fields with values of any kind: the
    /// generated decoder either agrees with serde or leaves the document to it.
    #[test]
    fn the_generated_decoder_agrees_with_serde(
        edits in prop::collection::vec(
            (0usize..18, prop::option::of(any_value())),
            0..5,
        ),
    ) {
        let keys = [
            "_id", "fullName", "age", "score", "visits", "big", "active", "tags", "address",
            "previous", "seenAt", "ref", "nickname", "lucky", "cache", "unknown", "meta", "extra",
        ];
        let mut doc = bson::to_document(&person()).unwrap();
        for (key, value) in edits {
            match value {
                Some(value) => doc.insert(keys[key], value),
                None => doc.remove(keys[key]),
            };
        }
        agree::<Person>(&raw(&doc), same_person);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Damaged bytes (a length, a type byte, a terminator overwritten): the generated decoder neither
    /// panics nor reads past the document, and whatever it accepts, serde accepts with the same value.
    #[test]
    fn damaged_bytes_never_decode_to_something_else(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = bson::to_vec(&person()).unwrap();
        for (at, byte) in edits {
            // The outer length stays whole so that the bytes still make a `RawDocument`.
            let i = 4 + at.index(bytes.len() - 5);
            bytes[i] = byte;
        }
        if let Ok(doc) = RawDocumentBuf::from_bytes(bytes) {
            agree::<Person>(&doc, same_person);
        }
    }
}
