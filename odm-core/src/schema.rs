//! The schema of a model as `'static` data, built at compile time by `#[derive(Model)]`.
//!
//! Nothing here is computed at run time: a [`Schema`] is a constant the derive writes out, so binding a
//! model to a connection reads it and copies nothing.

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

    /// The field stored under `stored`, if any.
    pub fn field(&self, stored: &str) -> Option<&'static FieldSchema> {
        self.fields.iter().find(|f| f.stored == stored)
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
    /// The fields of an embedded document, when the field's type derives a schema of its own.
    pub embedded: Option<fn() -> &'static [FieldSchema]>,
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
        }
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
}

/// A validation rule declared with `#[field(...)]`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Rule {
    /// `required`: an `Option` field must be `Some`.
    Required,
    /// `range(min = .., max = ..)`: a number within bounds (inclusive).
    Range {
        /// The smallest allowed value.
        min: Option<f64>,
        /// The largest allowed value.
        max: Option<f64>,
    },
    /// `length(min = .., max = ..)`: a string's length in characters, or a collection's in elements.
    Length {
        /// The smallest allowed length.
        min: Option<usize>,
        /// The largest allowed length.
        max: Option<usize>,
    },
    /// `regex = "..."`: a string matching the pattern.
    Regex(&'static str),
    /// `one_of(...)`: one of the listed values, as written in the attribute.
    OneOf(&'static [&'static str]),
    /// `email`: a string shaped like an e-mail address.
    Email,
    /// `validate = path`: a custom function, by its path.
    Custom(&'static str),
}

impl Rule {
    /// The rule's name as written in the attribute (`range`, `length`, ...).
    pub const fn name(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::Range { .. } => "range",
            Rule::Length { .. } => "length",
            Rule::Regex(_) => "regex",
            Rule::OneOf(_) => "one_of",
            Rule::Email => "email",
            Rule::Custom(_) => "validate",
        }
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
