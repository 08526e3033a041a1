//! The names of every attribute and key the derive reads, in one place.

use std::fmt;

use syn::{Ident, Path};

/// An attribute or key name.
#[derive(Copy, Clone)]
pub struct Symbol(pub &'static str);

pub const MODEL: Symbol = Symbol("model");
pub const FIELD: Symbol = Symbol("field");
pub const SERDE: Symbol = Symbol("serde");

// #[model(...)]
pub const COLLECTION: Symbol = Symbol("collection");
pub const TIMESTAMPS: Symbol = Symbol("timestamps");
pub const CREATED_AT: Symbol = Symbol("created_at");
pub const UPDATED_AT: Symbol = Symbol("updated_at");
pub const VERSION: Symbol = Symbol("version");
pub const HOOKS: Symbol = Symbol("hooks");
pub const SOFT_DELETE: Symbol = Symbol("soft_delete");
pub const VALIDATE: Symbol = Symbol("validate");
pub const INDEX: Symbol = Symbol("index");
pub const FIELDS: Symbol = Symbol("fields");
pub const NAME: Symbol = Symbol("name");
pub const PARTIAL: Symbol = Symbol("partial");
pub const READ: Symbol = Symbol("read");
pub const READ_CONCERN: Symbol = Symbol("read_concern");
pub const WRITE_CONCERN: Symbol = Symbol("write_concern");
pub const W_KEY: Symbol = Symbol("w");
pub const JOURNAL: Symbol = Symbol("journal");
pub const TIMEOUT: Symbol = Symbol("timeout");
pub const COLLATION: Symbol = Symbol("collation");
pub const LOCALE: Symbol = Symbol("locale");
pub const STRENGTH: Symbol = Symbol("strength");
pub const CASE_LEVEL: Symbol = Symbol("case_level");
pub const NUMERIC_ORDERING: Symbol = Symbol("numeric_ordering");
pub const MAX_TIME: Symbol = Symbol("max_time");
pub const SHARD_KEY: Symbol = Symbol("shard_key");

// #[field(...)]
pub const REQUIRED: Symbol = Symbol("required");
pub const RANGE: Symbol = Symbol("range");
pub const LENGTH: Symbol = Symbol("length");
pub const MIN: Symbol = Symbol("min");
pub const MAX: Symbol = Symbol("max");
pub const REGEX: Symbol = Symbol("regex");
pub const ONE_OF: Symbol = Symbol("one_of");
pub const EMAIL: Symbol = Symbol("email");
pub const NESTED: Symbol = Symbol("nested");
pub const UNIQUE: Symbol = Symbol("unique");
pub const SPARSE: Symbol = Symbol("sparse");
pub const TTL: Symbol = Symbol("ttl");
pub const TEXT: Symbol = Symbol("text");
pub const IMMUTABLE: Symbol = Symbol("immutable");
pub const HIDDEN: Symbol = Symbol("hidden");

// #[serde(...)]
pub const RENAME: Symbol = Symbol("rename");
pub const RENAME_ALL: Symbol = Symbol("rename_all");
pub const RENAME_ALL_FIELDS: Symbol = Symbol("rename_all_fields");
pub const TAG: Symbol = Symbol("tag");
pub const CONTENT: Symbol = Symbol("content");
pub const UNTAGGED: Symbol = Symbol("untagged");
pub const SERIALIZE: Symbol = Symbol("serialize");
pub const SKIP: Symbol = Symbol("skip");
pub const SKIP_SERIALIZING: Symbol = Symbol("skip_serializing");
pub const SKIP_SERIALIZING_IF: Symbol = Symbol("skip_serializing_if");
pub const FLATTEN: Symbol = Symbol("flatten");
pub const WITH: Symbol = Symbol("with");
pub const SERIALIZE_WITH: Symbol = Symbol("serialize_with");
pub const SKIP_DESERIALIZING: Symbol = Symbol("skip_deserializing");
pub const DEFAULT: Symbol = Symbol("default");

// Stored names the runtime gives a meaning to.
/// MongoDB's primary key.
pub const ID: Symbol = Symbol("_id");
/// The version of a `#[model(version)]` document.
pub const VERSION_KEY: Symbol = Symbol("__v");
/// The deletion stamp of a `#[model(soft_delete)]` document.
pub const DELETED_AT: Symbol = Symbol("deleted_at");

/// The keys `#[model(...)]` accepts.
pub const MODEL_KEYS: &[Symbol] = &[
    COLLECTION,
    TIMESTAMPS,
    VERSION,
    HOOKS,
    SOFT_DELETE,
    VALIDATE,
    INDEX,
    READ,
    READ_CONCERN,
    WRITE_CONCERN,
    COLLATION,
    MAX_TIME,
    SHARD_KEY,
];
/// The keys `#[model(write_concern(...))]` accepts.
pub const WRITE_CONCERN_KEYS: &[Symbol] = &[W_KEY, JOURNAL, TIMEOUT];
/// The keys `#[model(collation(...))]` accepts.
pub const COLLATION_KEYS: &[Symbol] = &[LOCALE, STRENGTH, CASE_LEVEL, NUMERIC_ORDERING];
/// The keys `#[model(timestamps(...))]` accepts.
pub const TIMESTAMPS_KEYS: &[Symbol] = &[CREATED_AT, UPDATED_AT];
/// The keys `#[model(index(...))]` accepts.
pub const INDEX_KEYS: &[Symbol] = &[FIELDS, UNIQUE, SPARSE, NAME, PARTIAL];
/// The keys `#[field(...)]` accepts.
pub const FIELD_KEYS: &[Symbol] = &[
    REQUIRED, RANGE, LENGTH, REGEX, ONE_OF, EMAIL, VALIDATE, NESTED, INDEX, UNIQUE, SPARSE, TTL,
    TEXT, DEFAULT, IMMUTABLE, HIDDEN,
];
/// The keys of `range(...)` and `length(...)`.
pub const BOUND_KEYS: &[Symbol] = &[MIN, MAX];

/// The name of an attribute's key, read once: comparing the path itself to each key the derive knows
/// would ask the compiler for its text once per comparison.
pub struct Key(Option<String>);

impl Key {
    /// The name of `path` when it is a single identifier (as `Path::is_ident` reads it).
    pub fn of(path: &Path) -> Self {
        Key(path.get_ident().map(Ident::to_string))
    }
}

impl PartialEq<Symbol> for Key {
    fn eq(&self, word: &Symbol) -> bool {
        self.0.as_deref() == Some(word.0)
    }
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for String {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
