#![deny(warnings)]
//! What `#[derive(Model)]` and `#[derive(Embedded)]` generate: collection names, stored names, the
//! schema, timestamps, versions, ids and typed field paths. Pure: no server. The `deny(warnings)` above
//! makes any warning in the generated code (including `missing_docs` on the public `*Fields` structs) fail
//! this test's build.

use odm_core::prelude::*;
use odm_core::schema::{BsonType, IndexKey, Rule};
use odm_core::Field;

/// Public, documented models: the generated `*Fields` structs are public too and must be documented.
pub mod models {
    use odm_core::prelude::*;

    /// A point.
    #[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
    pub struct Geo {
        /// Latitude.
        #[field(range(min = -90, max = 90))]
        pub lat: f64,
        /// Longitude.
        pub lng: f64,
    }

    /// A postal address.
    #[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
    #[serde(rename_all = "camelCase")]
    pub struct Address {
        /// City.
        pub city: String,
        /// Postal code.
        pub zip_code: String,
        /// Where it is.
        #[field(nested)]
        pub geo: Option<Geo>,
    }

    /// A user.
    #[derive(Debug, Clone, Serialize, Deserialize, Model)]
    #[model(
        timestamps,
        version,
        hooks,
        index(
            fields("org", "-created_at"),
            unique,
            name = "org_recent",
            partial = r#"{"age": {"$gt": 18}}"#
        ),
        index(fields("address.city"), sparse)
    )]
    pub struct User {
        /// Id.
        #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
        pub id: Option<ObjectId>,
        /// E-mail.
        #[field(email, unique)]
        pub email: String,
        /// Age.
        #[field(range(min = 0, max = 150), index = "desc")]
        pub age: i32,
        /// Organisation.
        #[field(index, sparse)]
        pub org: String,
        /// Title.
        #[field(text)]
        pub title: String,
        /// Body.
        #[field(text, length(max = 10000))]
        pub body: String,
        /// Home.
        #[field(nested)]
        pub address: Address,
        /// Earlier homes.
        #[field(nested)]
        pub past: Vec<Address>,
        /// Cached, never stored.
        #[serde(skip)]
        pub cache: Option<String>,
        /// When the session ends.
        #[field(ttl = "30d")]
        pub expires_at: Option<DateTime>,
        /// Tags, left out when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub tags: Vec<String>,
        /// Set on insert.
        pub created_at: Option<DateTime>,
        /// Set on every write.
        pub updated_at: DateTime,
        /// Version.
        #[serde(rename = "__v", default)]
        pub version: i64,
    }
}

// `#[model(hooks)]` makes `User::hooks()` return these (all defaults here: they do nothing).
impl odm_core::hooks::Hooks for User {}

use models::{Address, Geo, User};

fn user() -> User {
    User {
        id: None,
        email: "ann@acme.io".into(),
        age: 30,
        org: "acme".into(),
        title: String::new(),
        body: String::new(),
        address: Address {
            city: "Lyon".into(),
            zip_code: "69001".into(),
            geo: None,
        },
        past: Vec::new(),
        cache: Some("not stored".into()),
        expires_at: None,
        tags: Vec::new(),
        created_at: None,
        updated_at: DateTime::from_millis(0),
        version: 0,
    }
}

fn stored(fields: &[odm_core::schema::FieldSchema]) -> Vec<&'static str> {
    fields.iter().map(|f| f.stored).collect()
}

#[test]
fn default_collection_names_are_snake_case_plurals() {
    macro_rules! model {
        ($($name:ident => $collection:literal),* $(,)?) => {$(
            #[derive(Serialize, Deserialize, Model)]
            struct $name {
                #[serde(rename = "_id")]
                id: ObjectId,
            }
            assert_eq!($name::SCHEMA.collection, $collection);
            assert_eq!($name::SCHEMA.type_name, stringify!($name));
        )*};
    }
    model! {
        Account => "accounts",
        Category => "categories",
        Person => "people",
        Inbox => "inboxes",
        Branch => "branches",
        Status => "statuses",
        Day => "days",
        Child => "children",
        UserProfile => "user_profiles",
        HTTPRequest => "http_requests",
        Shelf => "shelves",
        News => "news",
    }

    #[derive(Serialize, Deserialize, Model)]
    #[model(collection = "people_v2")]
    struct Named {
        #[serde(rename = "_id")]
        id: String,
    }
    assert_eq!(Named::SCHEMA.collection, "people_v2");
}

#[test]
fn stored_names_follow_serde() {
    assert_eq!(
        stored(User::SCHEMA.fields),
        [
            "_id",
            "email",
            "age",
            "org",
            "title",
            "body",
            "address",
            "past",
            "expires_at",
            "tags",
            "created_at",
            "updated_at",
            "__v"
        ],
        "`cache` is skipped"
    );
    assert_eq!(stored(Address::FIELDS), ["city", "zipCode", "geo"]);

    macro_rules! casing {
        ($rule:literal, $expect:expr) => {{
            #[derive(Serialize, Deserialize, Model)]
            #[serde(rename_all = $rule)]
            struct Cased {
                #[serde(rename = "_id")]
                id: ObjectId,
                created_at: i32,
                #[serde(rename(serialize = "kept", deserialize = "ignored"))]
                renamed_field: i32,
                r#type: String,
                #[serde(skip_serializing)]
                never_written: i32,
            }
            assert_eq!(stored(Cased::SCHEMA.fields), $expect, $rule);
            // The stored names are the ones serde writes.
            let value = Cased {
                id: ObjectId::new(),
                created_at: 1,
                renamed_field: 2,
                r#type: "t".into(),
                never_written: 3,
            };
            let doc = bson::to_document(&value).unwrap();
            assert_eq!(value.never_written, 3);
            assert_eq!(
                doc.keys().map(String::as_str).collect::<Vec<_>>(),
                $expect,
                $rule
            );
        }};
    }
    use odm_core::bson;
    casing!("camelCase", ["_id", "createdAt", "kept", "type"]);
    casing!("PascalCase", ["_id", "CreatedAt", "kept", "Type"]);
    casing!("snake_case", ["_id", "created_at", "kept", "type"]);
    casing!("lowercase", ["_id", "created_at", "kept", "type"]);
    casing!("UPPERCASE", ["_id", "CREATED_AT", "kept", "TYPE"]);
    casing!(
        "SCREAMING_SNAKE_CASE",
        ["_id", "CREATED_AT", "kept", "TYPE"]
    );
    casing!("kebab-case", ["_id", "created-at", "kept", "type"]);
    casing!(
        "SCREAMING-KEBAB-CASE",
        ["_id", "CREATED-AT", "kept", "TYPE"]
    );
}

#[test]
fn schema_describes_fields() {
    let s = User::SCHEMA;
    let email = s.field("email").unwrap();
    assert_eq!((email.ident, email.rust_type), ("email", "String"));
    assert_eq!(email.rules, &[Rule::Email]);
    assert_eq!(email.bson_type, Some(BsonType::String));
    assert!(email.is_required());

    let age = s.field("age").unwrap();
    assert_eq!(
        age.rules,
        &[Rule::Range {
            min: Some(0.0),
            max: Some(150.0)
        }]
    );
    assert_eq!(age.bson_type, Some(BsonType::Int));

    let id = s.field("_id").unwrap();
    assert_eq!(
        (id.ident, id.rust_type, id.optional),
        ("id", "Option<ObjectId>", true)
    );
    assert_eq!(id.bson_type, Some(BsonType::ObjectId));
    assert!(id.omittable, "skip_serializing_if");

    let tags = s.field("tags").unwrap();
    assert_eq!(
        (tags.bson_type, tags.items),
        (Some(BsonType::Array), Some(BsonType::String))
    );
    assert!(tags.omittable && !tags.optional && !tags.is_required());

    let address = s.field("address").unwrap();
    assert_eq!(address.bson_type, Some(BsonType::Object));
    let embedded = address.embedded.expect("nested field")();
    assert_eq!(stored(embedded), ["city", "zipCode", "geo"]);
    let geo = embedded[2].embedded.expect("nested in nested")();
    assert_eq!(
        geo[0].rules,
        &[Rule::Range {
            min: Some(-90.0),
            max: Some(90.0)
        }]
    );

    let past = s.field("past").unwrap();
    assert_eq!(
        (past.bson_type, past.items),
        (Some(BsonType::Array), Some(BsonType::Object))
    );
    assert_eq!(stored(past.embedded.unwrap()()), ["city", "zipCode", "geo"]);

    let expires = s.field("expires_at").unwrap();
    assert_eq!(
        (expires.bson_type, expires.optional),
        (Some(BsonType::Date), true)
    );
    assert_eq!(s.field("__v").unwrap().bson_type, Some(BsonType::Long));
    assert!(s.field("cache").is_none());

    let ts = s.timestamps.unwrap();
    assert_eq!((ts.created_at, ts.updated_at), ("created_at", "updated_at"));
    assert_eq!(s.version, Some("__v"));
}

#[test]
fn schema_lists_indexes() {
    let keys: Vec<_> = User::SCHEMA.indexes.iter().map(|i| i.keys).collect();
    assert_eq!(
        keys,
        [
            &[("email", IndexKey::Asc)][..],
            &[("age", IndexKey::Desc)],
            &[("org", IndexKey::Asc)],
            &[("expires_at", IndexKey::Asc)],
            // All `text` fields make one text index: MongoDB allows one per collection.
            &[("title", IndexKey::Text), ("body", IndexKey::Text)],
            &[("org", IndexKey::Asc), ("created_at", IndexKey::Desc)],
            &[("address.city", IndexKey::Asc)],
        ]
    );
    let ix = User::SCHEMA.indexes;
    assert!(ix[0].unique && !ix[0].sparse && ix[0].name.is_none());
    assert!(!ix[1].unique);
    assert!(ix[2].sparse && !ix[2].unique);
    assert_eq!(ix[3].expire_after_secs, Some(30 * 86_400));
    assert!(ix[5].unique);
    assert_eq!(ix[5].name, Some("org_recent"));
    assert_eq!(ix[5].partial_filter, Some(r#"{"age": {"$gt": 18}}"#));
    assert!(ix[6].sparse && ix[6].partial_filter.is_none());
}

#[test]
fn typed_field_paths() {
    let f = User::fields();
    let age: Field<User, i32> = f.age.clone();
    assert_eq!(age.path(), "age");
    let id: Field<User, Option<ObjectId>> = f.id;
    assert_eq!(id.path(), "_id");
    assert_eq!(f.version.path(), "__v");
    let zip: Field<User, String> = f.address.zip_code;
    assert_eq!(zip.path(), "address.zipCode");
    let lat: Field<User, f64> = f.address.geo.lat;
    assert_eq!(lat.path(), "address.geo.lat");
    // A list of embedded documents: MongoDB's paths reach into every element.
    assert_eq!(f.past.city.path(), "past.city");
    assert_eq!(f.past.geo.lng.path(), "past.geo.lng");

    let nested: Field<Address, String> = Address::fields_at::<Address>("home").city;
    assert_eq!(nested.path(), "home.city");
    let geo = Geo::fields_at::<User>("a.b");
    assert_eq!(
        format!("{geo:?}"),
        r#"GeoFields { lat: Field("a.b.lat"), lng: Field("a.b.lng") }"#
    );
}

#[test]
fn hooks_are_returned_with_model_hooks() {
    assert!(User::hooks().is_some());
}

#[test]
fn id_round_trips_through_bson() {
    let mut u = user();
    assert_eq!(u.id().unwrap(), Bson::Null);
    let oid = ObjectId::new();
    u.set_id(Bson::ObjectId(oid)).unwrap();
    assert_eq!(u.id, Some(oid));
    assert_eq!(u.id().unwrap(), Bson::ObjectId(oid));
    // An id of the wrong type is a decoding error, not a panic.
    assert!(matches!(
        u.set_id(Bson::String("x".into())),
        Err(Error::Deserialization {
            type_name: "User",
            ..
        })
    ));
}

#[test]
fn touch_sets_timestamps_and_version_is_read_and_written() {
    let mut u = user();
    let t1 = DateTime::from_millis(1_000);
    u.touch(t1, true);
    assert_eq!((u.created_at, u.updated_at), (Some(t1), t1));
    let t2 = DateTime::from_millis(2_000);
    u.touch(t2, false);
    assert_eq!(
        (u.created_at, u.updated_at),
        (Some(t1), t2),
        "created_at is set once"
    );

    assert_eq!(u.version(), Some(0));
    u.set_version(7);
    assert_eq!((u.version, u.version()), (7, Some(7)));
}

#[test]
fn custom_timestamp_names_and_optional_version() {
    #[derive(Serialize, Deserialize, Model)]
    #[model(
        timestamps(created_at = "createdAt", updated_at = "updatedAt"),
        version
    )]
    #[serde(rename_all = "camelCase")]
    struct Post {
        #[serde(rename = "_id")]
        id: ObjectId,
        created_at: DateTime,
        updated_at: Option<DateTime>,
        #[serde(rename = "__v")]
        v: Option<i32>,
    }
    let ts = Post::SCHEMA.timestamps.unwrap();
    assert_eq!((ts.created_at, ts.updated_at), ("createdAt", "updatedAt"));
    let mut p = Post {
        id: ObjectId::new(),
        created_at: DateTime::from_millis(0),
        updated_at: None,
        v: None,
    };
    let now = DateTime::from_millis(5);
    p.touch(now, true);
    assert_eq!((p.created_at, p.updated_at), (now, Some(now)));
    assert_eq!(p.version(), None);
    p.set_version(3);
    assert_eq!(p.v, Some(3));
}

#[test]
fn models_without_options_keep_the_defaults() {
    #[derive(Serialize, Deserialize, Model)]
    struct Plain {
        #[serde(rename = "_id")]
        id: i64,
        #[serde(flatten)]
        extra: Document,
    }
    let mut p = Plain {
        id: 1,
        extra: Document::new(),
    };
    assert!(Plain::SCHEMA.timestamps.is_none() && Plain::SCHEMA.version.is_none());
    assert!(Plain::SCHEMA.indexes.is_empty());
    assert_eq!(
        stored(Plain::SCHEMA.fields),
        ["_id"],
        "flattened fields have no name of their own"
    );
    p.touch(DateTime::now(), true);
    assert_eq!((p.version(), p.id().unwrap()), (None, Bson::Int64(1)));
    assert!(p.extra.is_empty());
    assert!(Plain::hooks().is_none());
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn embedded_edge_cases() {
    #[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
    struct Empty {
        #[serde(skip)]
        scratch: u8,
    }

    #[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
    struct Line {
        #[field(range(min = 1))]
        qty: u32,
    }

    #[derive(Debug, Clone, Serialize, Deserialize, Model)]
    struct Order {
        #[serde(rename = "_id")]
        id: u64,
        #[field(nested)]
        meta: Empty,
        #[field(nested)]
        lines: Option<Vec<Line>>,
    }

    assert!(Empty::FIELDS.is_empty());
    let f = Order::fields();
    assert_eq!(format!("{:?}", f.meta), "EmptyFields");
    assert_eq!(f.lines.qty.path(), "lines.qty");
    let lines = Order::SCHEMA.field("lines").unwrap();
    assert_eq!(
        (lines.bson_type, lines.optional),
        (Some(BsonType::Array), true)
    );

    let mut order = Order {
        id: 1,
        meta: Empty { scratch: 0 },
        lines: None,
    };
    assert_eq!(order.validate(), Ok(()));
    order.lines = Some(vec![Line { qty: 2 }, Line { qty: 0 }]);
    let errors = order.validate().unwrap_err();
    let paths: Vec<&str> = errors.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["lines.1.qty"]);
    assert_eq!(order.meta.scratch, 0);
}

/// A type that macros below name through `$crate`.
type Score = i32;

#[test]
fn models_a_macro_wrote_keep_their_types() {
    // A `macro_rules!` macro hands the derive its `$t:ty` fragments in invisible groups and may name
    // types through `$crate`: the typed paths, the schema and the generated decoder see the same types
    // as the struct.
    macro_rules! model {
        ($name:ident, $list:ty, $count:ty) => {
            #[derive(Debug, PartialEq, Serialize, Deserialize, Model)]
            struct $name {
                #[serde(rename = "_id")]
                id: ObjectId,
                tags: $list,
                count: Option<$count>,
                score: $crate::Score,
            }
        };
    }
    model!(Written, Vec<String>, i64);

    let f = Written::fields();
    let tags: Field<Written, Vec<String>> = f.tags;
    let count: Field<Written, Option<i64>> = f.count;
    let score: Field<Written, Score> = f.score;
    assert_eq!(
        [tags.path(), count.path(), score.path()],
        ["tags", "count", "score"]
    );
    assert_eq!(
        Written::SCHEMA
            .fields
            .iter()
            .map(|f| f.rust_type)
            .collect::<Vec<_>>(),
        ["ObjectId", "Vec<String>", "Option<i64>", "$crate::Score"]
    );
    let id = ObjectId::new();
    let doc = mongodb::bson::rawdoc! { "_id": id, "tags": ["a"], "count": 3_i64, "score": 7 };
    assert_eq!(
        Written::decode_generated(&doc),
        Some(Written {
            id,
            tags: vec!["a".to_owned()],
            count: Some(3),
            score: 7,
        })
    );
}
