//! The schema of a model as `'static` data, built at compile time by `#[derive(Model)]`, and the reference
//! of the derive's attributes.
//!
//! Nothing here is computed at run time: a [`Schema`] is a constant the derive writes out, so binding a
//! model to a connection reads it and copies nothing.
//!
//! # `#[derive(Model)]`
//!
//! ```
//! use odm_core::prelude::*;
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Embedded)]
//! struct Address {
//!     #[field(length(min = 1, max = 80))]
//!     city: String,
//!     #[field(regex = r"^\d{5}$")]
//!     zip: String,
//! }
//!
//! fn no_spaces(handle: &str) -> Result<(), String> {
//!     if handle.contains(' ') { Err("must not contain spaces".into()) } else { Ok(()) }
//! }
//!
//! fn adults_only(user: &User) -> Result<(), String> {
//!     if user.role == "admin" && user.age < 18 { Err("an admin must be 18 or older".into()) } else { Ok(()) }
//! }
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Model)]
//! #[model(
//!     collection = "users",
//!     timestamps,
//!     version,
//!     validate = adults_only,
//!     index(fields("org", "-created_at"), unique, name = "org_recent"),
//! )]
//! struct User {
//!     #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
//!     id: Option<ObjectId>,
//!     #[field(email, unique)]
//!     email: String,
//!     #[field(range(min = 0, max = 150), index = "desc")]
//!     age: i32,
//!     #[field(one_of("admin", "member"))]
//!     role: String,
//!     #[field(validate = no_spaces)]
//!     handle: String,
//!     org: String,
//!     #[field(nested)]
//!     address: Address,
//!     #[field(ttl = "30d")]
//!     expires_at: Option<DateTime>,
//!     created_at: Option<DateTime>,
//!     updated_at: Option<DateTime>,
//!     #[serde(rename = "__v", default)]
//!     version: i64,
//! }
//!
//! assert_eq!(User::SCHEMA.collection, "users");
//! assert_eq!(User::fields().address.zip.path(), "address.zip");
//! let ann = User {
//!     id: None, email: "ann".into(), age: 200, role: "member".into(), handle: "ann".into(),
//!     org: "acme".into(), address: Address { city: "Lyon".into(), zip: "69001".into() },
//!     expires_at: None, created_at: None, updated_at: None, version: 0,
//! };
//! let errors = ann.validate().unwrap_err();
//! let failed: Vec<_> = errors.errors.iter().map(|e| (e.path.as_str(), e.rule)).collect();
//! assert_eq!(failed, [("email", "email"), ("age", "range")]);
//! ```
//!
//! The struct needs named fields and a field stored as `_id` (of any type; `Option<ObjectId>` lets the
//! library generate it on insert). Stored names are serde's: `#[serde(rename = "..")]`,
//! `#[serde(rename_all = "..")]` (every serde casing) are honoured, `#[serde(skip)]`,
//! `#[serde(skip_serializing)]` and `#[serde(flatten)]` fields are not part of the schema.
//!
//! ## On the struct: `#[model(...)]`
//!
//! | Attribute | Meaning |
//! |---|---|
//! | `collection = "name"` | The collection. Default: the struct's name in snake_case, its last word pluralised like Mongoose does (`User` → `users`, `Category` → `categories`, `Person` → `people`, `UserProfile` → `user_profiles`). |
//! | `timestamps` | Fields stored as `created_at` and `updated_at` (`DateTime` or `Option<DateTime>`) are set on insert and write. `timestamps(created_at = "createdAt", updated_at = "updatedAt")` names them. |
//! | `version` | A field stored as `__v` (an integer or an `Option` of one) holds the document's version. |
//! | `validate = path` | A whole-document rule, `fn(&Self) -> Result<(), String>`; its failure has an empty path. |
//! | `index(fields("a", "-b"), unique, sparse, name = "..", partial = "{..}")` | A compound index; `-` for descending. Field names are stored names (dotted paths below embedded documents), checked at compile time; `partial` is a JSON filter, checked at compile time. Repeat for more indexes. |
//! | `hooks` | The model has lifecycle hooks (see [`crate::hooks`]). |
//! | `read = "secondaryPreferred"` | The read preference of reads: `primary`, `primaryPreferred`, `secondary`, `secondaryPreferred`, `nearest`. |
//! | `read_concern = "majority"` | The read concern of reads: `local`, `available`, `majority`, `linearizable`. |
//! | `write_concern(w = "majority", journal, timeout = "5s")` | The write concern of writes: `w` is `"majority"`, a number of members, or a tag set's name; `journal` waits for the journal; `timeout` bounds the wait. |
//! | `collation(locale = "en", strength = 2, case_level, numeric_ordering)` | How strings compare in filters, sorts, counts, updates and deletes, and in the indexes `sync_indexes` creates (strength 2 ignores case). |
//! | `max_time = "2s"` | How long the server may work on a read or find-and-modify (`maxTimeMS`; units `ms`, `s`, `m`, `h`, `d`). |
//! | `shard_key("org", "_id")` | The shard key, by stored names: `save` (version-checked or not), `replace_one` and `find_one_and_replace` put its values, from the document written, in their filter, and [`shard_collection`](crate::ModelHandle::shard_collection) shards the collection on it. |
//! | `soft_delete` | Deletes stamp the `Option<DateTime>` field stored as `deleted_at` instead of removing documents; reads, counts and updates skip stamped documents unless `.with_deleted()`; `restore` clears the stamp; unique indexes are partial on live documents ([`Schema::live_filter`], and the [guide](crate::guide::defining_models#modelsoft_delete-deletes-that-can-be-undone)). |
//!
//! ## On a field: `#[field(...)]`
//!
//! Rules, checked before every write; every failing field is reported, not only the first. A `None`
//! passes every rule but `required`.
//!
//! | Attribute | Applies to | Meaning |
//! |---|---|---|
//! | `required` | `Option<T>` | Must be `Some`: stored, and not `null`. |
//! | `range(min = .., max = ..)` | numbers | Inclusive bounds, either optional; NaN fails any bound. |
//! | `length(min = .., max = ..)` | strings (in characters), lists, sets (in elements), maps (in entries) | Inclusive bounds, either optional. |
//! | `regex = ".."` | strings | Must match; the pattern is compiled at compile time, and once at run time. |
//! | `email` | strings | Shaped like an e-mail address ([`crate::validate::is_email`]). |
//! | `one_of(..)` | strings, numbers, `char`, `bool` | One of the listed literals. |
//! | `validate = path` | any | `fn(&T) -> Result<(), String>` (`&str` for a `String` field works too). |
//! | `nested` | a type deriving `Embedded`, or an `Option`/list of one | Its rules are checked too, with paths `address.zip`, `past.2.zip`; `fields()` reaches its fields. |
//!
//! How a field is written:
//!
//! | Attribute | Applies to | Meaning |
//! |---|---|---|
//! | `default = expr` | `Option<T>` fields of a struct model | A `None` takes `expr` (turned into `T` with `Into`; a snake_case path is a function, called) on insert, and through the `$setOnInsert` of an upsert ([`FieldSchema::default`]). |
//! | `immutable` | a struct model's field (not `_id`, the version or `updated_at`) | Keeps the value it was created with: updates naming it are refused, and so are `save`s and replacements that change it ([`Error::Immutable`](crate::Error::Immutable)). |
//! | `hidden` | a struct model's `Option` field, or one with `#[serde(default)]` (not `_id`, not the version) | Left out of reads unless `.with_hidden()` asks for it ([`Schema::hidden_projection`]); `save`, `replace_one` and `find_one_and_replace` keep the stored value of a hidden field read as `None`. |
//!
//! Indexes, created by `sync_indexes`:
//!
//! | Attribute | Index |
//! |---|---|
//! | `index`, `index = "desc"` | Ascending or descending on the field. |
//! | `unique` | Unique on the field. |
//! | `sparse` | Sparse (combines with `index` and `unique`). |
//! | `ttl = "30d"` | Documents expire that long after the date in the field (`s`, `m`, `h`, `d`; `DateTime` fields only). |
//! | `text` | The field is part of the model's one text index. |
//!
//! Each rule is defined once ([`Rule`], and the field's [`BsonType`]): the check before a write, the
//! check of an update ([`Schema::check_update`]) and the `$jsonSchema` ([`json_schema`]) all come from
//! it (see [validation](crate::guide::validation#one-definition-per-rule)).
//!
//! The settings become the model's default [`Settings`](crate::Settings), applied to every command that
//! takes them; an operation's builder overrides each (`.read_preference(..)`, `.read_concern(..)`,
//! `.write_concern(..)`, `.collation(..)`, `.max_time(..)`, `.hint(..)`, where MongoDB has it for the
//! command). In a session the read preference and concerns are left out: MongoDB refuses them per
//! command inside a transaction, where the transaction's own apply.
//!
//! A rule that cannot apply to the field's type, bounds with min over max, an invalid regex, an unknown
//! attribute (with the closest known one named) are compile errors, all reported at once.
//!
//! ## Enums: several kinds of document in one collection
//!
//! Mongoose's discriminators, the Rust way: derive `Model` on a serde internally tagged enum. Each
//! document stores its kind in the tag and reads back as its variant.
//!
//! ```
//! use odm_core::prelude::*;
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
//! #[serde(tag = "kind", rename_all = "snake_case")]
//! #[model(collection = "events", index(fields("kind", "-at")))]
//! enum Event {
//!     Click {
//!         #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
//!         id: Option<ObjectId>,
//!         at: i64,
//!         #[field(range(min = 0))]
//!         x: i32,
//!     },
//!     PageView {
//!         #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
//!         id: Option<ObjectId>,
//!         at: i64,
//!         page: String,
//!     },
//! }
//!
//! let f = Event::fields();
//! let clicks = f.kind.eq(EventKind::Click) & f.x.gt(10); // users.find(clicks)
//! assert_eq!(clicks.as_document(), &odm_core::bson::doc! { "$and": [
//!     { "kind": { "$eq": "click" } }, { "x": { "$gt": 10 } },
//! ] });
//! let view = Event::PageView { id: None, at: 1, page: "/".into() };
//! assert_eq!(view.kind(), EventKind::PageView);
//! assert_eq!(EventKind::PageView.as_str(), "page_view");
//! assert_eq!(Event::SCHEMA.tag, Some("kind"));
//! let bad = Event::Click { id: None, at: 1, x: -1 };
//! assert_eq!(bad.validate().unwrap_err().errors[0].path, "x");
//! ```
//!
//! - The enum needs `#[serde(tag = "..")]` (not `content`, not `untagged`), and every variant is a
//!   struct variant with a field stored as `_id`. Tag values follow serde: the enum's `rename_all`, a
//!   variant's `rename`; field names follow `rename_all_fields` and a variant's `rename_all`.
//! - A name stored by several variants is one field of the collection: the same Rust name and type in
//!   each. Its index is declared once, on one variant; compound indexes may use the tag.
//! - [`Model::SCHEMA`](crate::Model::SCHEMA) lists the tag first (its `bsonType` is `string` and its
//!   values the `enum` of `$jsonSchema`), then the union of the variants' fields; a field stored by
//!   some variants only is omittable, and `$jsonSchema` keeps only the rules every variant declares.
//!   Each variant's `#[field]` rules are checked on its values.
//! - `timestamps` and `version` need their fields in every variant (same names, same types); `hooks`
//!   and `validate = path` apply as on a struct.
//! - Generated besides `impl Model` and `EventFields` (the tag, then one path per stored name):
//!   `pub enum EventKind` (one unit variant per kind: `Copy`, `Eq`, `Hash`, `Debug`, `Display`, serde
//!   as the tag's value, `EventKind::ALL`, `as_str()`) and `Event::kind(&self) -> EventKind`.
//!
//! ## What is generated
//!
//! - `impl Model for User`, with [`Model::SCHEMA`](crate::Model::SCHEMA) a constant.
//! - `pub struct UserFields` (the struct's visibility), one public [`Field<User, T>`](crate::Field) per
//!   stored field, returned by `User::fields()`. Its documentation in `cargo doc` is the schema: the
//!   collection, each stored field with its Rust type, rules and indexes, and the indexes.
//! - For `#[derive(Embedded)]` on `Address`: `impl Embedded for Address` and `pub struct AddressFields<M>`,
//!   the paths below the field of model `M` that holds it.

use mongodb::bson::{doc, Bson, Document};

mod rules;

pub(crate) use rules::judge_type;
pub use rules::{
    compile, is_email, BsonType, Literal, Measure, Number, Pattern, Rule, Scalar, Subject,
    EMAIL_PATTERN,
};

/// Everything the derive knows about a model: where it is stored, its fields, rules and indexes.
#[derive(Debug)]
#[non_exhaustive]
pub struct Schema {
    /// The Rust type's name.
    pub type_name: &'static str,
    /// The collection the model is stored in (for a tenant strategy that prefixes collections, the name
    /// after the prefix).
    pub collection: &'static str,
    /// The stored fields, in declaration order.
    pub fields: &'static [FieldSchema],
    /// The indexes declared on the struct and its fields.
    pub indexes: &'static [IndexSchema],
    /// The stored names of the timestamp fields, with `#[model(timestamps)]`.
    pub timestamps: Option<Timestamps>,
    /// The stored name of the version field (`__v`), with `#[model(version)]`.
    pub version: Option<&'static str>,
    /// For an enum model (several kinds of document in one collection), the stored name of the tag
    /// that holds each document's kind (serde's `#[serde(tag = "..")]`).
    pub tag: Option<&'static str>,
    /// The model's default read preference, concerns, collation and time limit, from
    /// `#[model(read = .., read_concern = .., write_concern(..), collation(..), max_time = ..)]`:
    /// built once, on first use.
    pub settings: Option<fn() -> &'static crate::Settings>,
    /// The stored names of the shard key's fields, from `#[model(shard_key(..))]`, in order.
    pub shard_key: &'static [&'static str],
    /// The stored name of the deletion stamp (`deleted_at`), with `#[model(soft_delete)]`: deletes set it,
    /// and reads skip the documents where it is set.
    pub soft_delete: Option<&'static str>,
}

impl Schema {
    /// Builds a schema. The derive writes these; a hand-written [`Model`](crate::Model) implementation
    /// can too.
    pub const fn new(
        type_name: &'static str,
        collection: &'static str,
        fields: &'static [FieldSchema],
    ) -> Self {
        Schema {
            type_name,
            collection,
            fields,
            indexes: &[],
            timestamps: None,
            version: None,
            tag: None,
            settings: None,
            shard_key: &[],
            soft_delete: None,
        }
    }

    /// Declares the indexes.
    pub const fn with_indexes(mut self, indexes: &'static [IndexSchema]) -> Self {
        self.indexes = indexes;
        self
    }

    /// Declares the timestamp fields.
    pub const fn with_timestamps(
        mut self,
        created_at: &'static str,
        updated_at: &'static str,
    ) -> Self {
        self.timestamps = Some(Timestamps {
            created_at,
            updated_at,
        });
        self
    }

    /// Declares the version field.
    pub const fn with_version(mut self, stored: &'static str) -> Self {
        self.version = Some(stored);
        self
    }

    /// Declares the tag of an enum model.
    pub const fn with_tag(mut self, stored: &'static str) -> Self {
        self.tag = Some(stored);
        self
    }

    /// Declares the model's default settings.
    pub const fn with_settings(mut self, settings: fn() -> &'static crate::Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Declares the shard key (stored names, in order).
    pub const fn with_shard_key(mut self, fields: &'static [&'static str]) -> Self {
        self.shard_key = fields;
        self
    }

    /// Declares the deletion stamp of a soft-delete model.
    pub const fn with_soft_delete(mut self, stored: &'static str) -> Self {
        self.soft_delete = Some(stored);
        self
    }

    /// The filter that matches the live documents of a soft-delete model, `{deleted_at: null}` (the
    /// stamp `null` or missing); `None` for a model without `#[model(soft_delete)]`.
    pub fn live_filter(&self) -> Option<Document> {
        self.soft_delete.map(|stamp| doc! { stamp: Bson::Null })
    }

    /// The projection that leaves the hidden fields (`#[field(hidden)]`) out of a read, `{field: 0, ..}`;
    /// `None` for a model without any.
    pub fn hidden_projection(&self) -> Option<Document> {
        let mut projection = Document::new();
        for field in self.fields.iter().filter(|f| f.hidden) {
            projection.insert(field.stored, 0);
        }
        (!projection.is_empty()).then_some(projection)
    }

    /// A read's projection with the hidden fields left out: an exclusion projection (`{notes: 0}`) gets
    /// theirs added; an inclusion projection (`{email: 1}`) returns what it names, a hidden field too.
    pub fn hide_in(&self, projection: Document) -> Document {
        let Some(hidden) = self.hidden_projection() else {
            return projection;
        };
        let includes = projection.iter().any(|(key, value)| {
            key != "_id"
                && !matches!(
                    value,
                    Bson::Int32(0) | Bson::Int64(0) | Bson::Boolean(false)
                )
                && !matches!(value, Bson::Double(v) if *v == 0.0)
        });
        if includes {
            return projection;
        }
        let mut out = projection;
        for (field, zero) in hidden {
            if !out.keys().any(|k| crate::update_rules::overlaps(k, &field)) {
                out.insert(field, zero);
            }
        }
        out
    }

    /// The field stored under `stored`, if any.
    pub fn field(&self, stored: &str) -> Option<&'static FieldSchema> {
        self.fields.iter().find(|f| f.stored == stored)
    }

    /// Checks an update document against the field rules, as `update_one` and `update_many` do before
    /// sending it: what the values of `$set`, `$setOnInsert`, `$push` and the like decide on their own
    /// (see the [validation guide](crate::guide::validation)). Every failure is reported, with its path.
    pub fn check_update(&self, update: &Document) -> Result<(), crate::validate::ValidationErrors> {
        crate::update_rules::check(self, update)
    }

    /// Checks a whole stored document against the field rules: every field's type and rules, and the
    /// presence of the required ones (`_id` aside, which the server fills in). It decides as
    /// [`Model::validate`](crate::Model::validate) does on the value the document decodes to, and as
    /// the server does with [`json_schema`] as its validator.
    pub fn check_document(&self, doc: &Document) -> Result<(), crate::validate::ValidationErrors> {
        crate::update_rules::check_document(self, doc)
    }
}

/// The stored names of the timestamp fields.
#[derive(Debug, Clone, Copy)]
pub struct Timestamps {
    /// Set once, on insert.
    pub created_at: &'static str,
    /// Set on insert and on every later write.
    pub updated_at: &'static str,
}

/// One stored field.
#[derive(Debug)]
#[non_exhaustive]
pub struct FieldSchema {
    /// The Rust field's name.
    pub ident: &'static str,
    /// The name stored in the document (serde renames applied).
    pub stored: &'static str,
    /// The Rust type, as written in the struct.
    pub rust_type: &'static str,
    /// The rules checked before every write.
    pub rules: &'static [Rule],
    /// The fields of an embedded document, when the field's type derives a schema of its own (for a list
    /// or an `Option` of embedded documents, those of the element).
    pub embedded: Option<fn() -> &'static [FieldSchema]>,
    /// The BSON type the value is stored as, when the derive can tell from the Rust type. It is the
    /// field's type rule: an update may write only what [`BsonType::accepts`] lists (or `null` when
    /// [`FieldSchema::is_nullable`]), and `$jsonSchema`'s `bsonType` says the same.
    pub bson_type: Option<BsonType>,
    /// For an [`BsonType::Array`], the BSON type of its elements, when known.
    pub items: Option<BsonType>,
    /// The Rust type is an `Option`: the stored value may be `null` (or absent).
    pub optional: bool,
    /// serde may leave the field out of the stored document (`skip_serializing_if`).
    pub omittable: bool,
    /// The value a `None` takes when a document is inserted (`#[field(default = ..)]`).
    pub default: Option<FieldDefault>,
    /// The field keeps the value it was created with (`#[field(immutable)]`): updates may not name it,
    /// and a `save` or replacement may not change it.
    pub immutable: bool,
    /// Reads leave the field out unless asked for it (`#[field(hidden)]`, Mongoose's `select: false`).
    pub hidden: bool,
}

/// The default of a field, `#[field(default = ..)]`: what a `None` becomes when a document is inserted
/// (by `create`, `insert_many`, the `save` of a new value, and the `$setOnInsert` of an upsert).
#[derive(Debug, Clone, Copy)]
pub struct FieldDefault {
    /// The expression as written in the attribute.
    pub expr: &'static str,
    /// Evaluates the expression, as the stored value.
    pub value: fn() -> crate::Result<Bson>,
}

impl FieldDefault {
    /// A default: the expression's text and the function that evaluates it.
    pub const fn new(expr: &'static str, value: fn() -> crate::Result<Bson>) -> Self {
        FieldDefault { expr, value }
    }
}

impl FieldSchema {
    /// Describes a field.
    pub const fn new(ident: &'static str, stored: &'static str, rust_type: &'static str) -> Self {
        FieldSchema {
            ident,
            stored,
            rust_type,
            rules: &[],
            embedded: None,
            bson_type: None,
            items: None,
            optional: false,
            omittable: false,
            default: None,
            immutable: false,
            hidden: false,
        }
    }

    /// Declares the field hidden from reads.
    pub const fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    /// Declares the field immutable.
    pub const fn immutable(mut self) -> Self {
        self.immutable = true;
        self
    }

    /// Declares the field's default.
    pub const fn with_default(mut self, default: FieldDefault) -> Self {
        self.default = Some(default);
        self
    }

    /// Declares the BSON type the value is stored as.
    pub const fn with_bson_type(mut self, bson_type: BsonType) -> Self {
        self.bson_type = Some(bson_type);
        self
    }

    /// Declares the BSON type of an array's elements.
    pub const fn with_items(mut self, items: BsonType) -> Self {
        self.items = Some(items);
        self
    }

    /// Declares the field optional (`Option<T>`): it may be `null`.
    pub const fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Declares that serde may leave the field out of the stored document.
    pub const fn omittable(mut self) -> Self {
        self.omittable = true;
        self
    }

    /// `true` when every stored document has this field with a non-null value, unless a `required` rule
    /// says so of an `Option`.
    pub fn is_required(&self) -> bool {
        (!self.optional && !self.omittable) || self.rules.contains(&Rule::Required)
    }

    /// `true` when the stored value may be `null`: an `Option` without a `required` rule.
    pub fn is_nullable(&self) -> bool {
        self.optional && !self.rules.contains(&Rule::Required)
    }

    /// Declares the field's rules.
    pub const fn with_rules(mut self, rules: &'static [Rule]) -> Self {
        self.rules = rules;
        self
    }

    /// Declares the field as an embedded document with these fields.
    pub const fn with_embedded(mut self, fields: fn() -> &'static [FieldSchema]) -> Self {
        self.embedded = Some(fields);
        self
    }

    /// The `$jsonSchema` of the field: its type ([`BsonType::json_schema`]), its embedded document's
    /// schema, and each rule's keywords ([`Rule::json_schema`]). `never_null` for a field the server
    /// always fills (`_id`).
    fn json_schema(&self, never_null: bool) -> Document {
        let nullable = self.is_nullable() && !never_null;
        let mut doc = Document::new();
        match (self.bson_type, self.embedded) {
            (Some(BsonType::Array), Some(embedded)) => {
                doc.insert("bsonType", BsonType::Array.json_schema(nullable));
                doc.insert("items", object_schema(embedded(), false, false));
            }
            (_, Some(embedded)) => {
                doc = object_schema(embedded(), nullable, false);
            }
            (Some(ty), None) => {
                doc.insert("bsonType", ty.json_schema(nullable));
                if let (BsonType::Array, Some(items)) = (ty, self.items) {
                    doc.insert("items", doc! { "bsonType": items.json_schema(false) });
                }
            }
            // A type the derive does not know: the library refuses `null` where the Rust type is not
            // an `Option`, and so does the server.
            (None, None) if !nullable => {
                doc.insert("not", doc! { "bsonType": BsonType::Null.alias() });
            }
            (None, None) => {}
        }
        for rule in self.rules {
            rule.json_schema(self.bson_type, nullable, &mut doc);
        }
        // MongoDB's `$jsonSchema` omits draft 4's `default` keyword (a validator refuses it), so the
        // default is told in `description`, which the server echoes when a document fails validation.
        if let Some(default) = &self.default {
            doc.insert("description", format!("default: {}", default.expr));
        }
        doc
    }
}

/// The kind of one key of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexKey {
    /// Ascending (`1`).
    Asc,
    /// Descending (`-1`).
    Desc,
    /// A text index (`"text"`).
    Text,
}

/// An index declared on the model.
#[derive(Debug)]
#[non_exhaustive]
pub struct IndexSchema {
    /// The stored field names and the kind of each key, in order.
    pub keys: &'static [(&'static str, IndexKey)],
    /// The index's name, when declared; otherwise MongoDB's default (`field_1_other_-1`).
    pub name: Option<&'static str>,
    /// A unique index.
    pub unique: bool,
    /// A sparse index.
    pub sparse: bool,
    /// A TTL index: documents expire this many seconds after the date in the field.
    pub expire_after_secs: Option<u64>,
    /// A partial index's filter, as extended JSON.
    pub partial_filter: Option<&'static str>,
}

impl IndexSchema {
    /// An index on these keys with default options.
    pub const fn new(keys: &'static [(&'static str, IndexKey)]) -> Self {
        IndexSchema {
            keys,
            name: None,
            unique: false,
            sparse: false,
            expire_after_secs: None,
            partial_filter: None,
        }
    }

    /// Names the index.
    pub const fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// Makes the index unique.
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Makes the index sparse.
    pub const fn sparse(mut self) -> Self {
        self.sparse = true;
        self
    }

    /// Makes the index a TTL index.
    pub const fn expire_after_secs(mut self, secs: u64) -> Self {
        self.expire_after_secs = Some(secs);
        self
    }

    /// Makes the index partial, with a filter in extended JSON.
    pub const fn partial_filter(mut self, json: &'static str) -> Self {
        self.partial_filter = Some(json);
        self
    }
}

/// Builds the `$jsonSchema` document of a schema, for a collection validator
/// (`{"$jsonSchema": User::json_schema()}`): the BSON type of every field whose type the derive knows,
/// the fields every document has, and the keywords of each rule MongoDB can check itself (`range`,
/// `length`, `regex`, `email`, `one_of`), from the same definitions the library checks with
/// ([`Rule::json_schema`], [`BsonType::json_schema`]). Custom `validate` functions run only in the
/// library.
pub fn json_schema(schema: &Schema) -> Document {
    let mut doc = object_schema(schema.fields, false, true);
    // Every stored document has an `_id`: the library or the server generates one on insert.
    if schema.field("_id").is_some() {
        if let Ok(required) = doc.get_array_mut("required") {
            if !required.contains(&"_id".into()) {
                required.insert(0, "_id".into());
            }
        } else {
            doc.insert("required", vec![Bson::from("_id")]);
        }
    }
    doc
}

/// The schema of an embedded document, or of the model's (`top`, where `_id` is never null).
fn object_schema(fields: &[FieldSchema], nullable: bool, top: bool) -> Document {
    let mut properties = Document::new();
    let mut required = Vec::new();
    for field in fields {
        properties.insert(
            field.stored,
            field.json_schema(top && field.stored == "_id"),
        );
        if field.is_required() {
            required.push(Bson::from(field.stored));
        }
    }
    let mut doc = Document::new();
    doc.insert("bsonType", BsonType::Object.json_schema(nullable));
    if !required.is_empty() {
        doc.insert("required", required);
    }
    doc.insert("properties", properties);
    doc
}
