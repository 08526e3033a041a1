//! The field rules, each defined once. A rule looks at a value reduced to a [`Subject`] (a number, a
//! length, a text, a scalar), and [`Rule::judge`] decides; the check on a Rust value before `create`, the
//! check on the BSON values of an update and the `$jsonSchema` keywords ([`Rule::json_schema`]) all come
//! from here, so they cannot disagree. The type of a field is a rule too: [`BsonType::accepts`] says which
//! stored types a field takes, for the update check and for `bsonType` alike.

use std::cmp::Ordering;
use std::fmt;

use mongodb::bson::{Bson, Document};
use regex::Regex;

/// A BSON type, as `$jsonSchema`'s `bsonType` names it ([`BsonType::alias`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BsonType {
    /// `double`: a 64-bit float.
    Double,
    /// `string`: UTF-8 text.
    String,
    /// `object`: an embedded document.
    Object,
    /// `array`.
    Array,
    /// `binData`: binary data.
    BinData,
    /// `undefined` (deprecated).
    Undefined,
    /// `objectId`.
    ObjectId,
    /// `bool`.
    Bool,
    /// `date`: milliseconds since the Unix epoch.
    Date,
    /// `null`.
    Null,
    /// `regex`: a regular expression.
    Regex,
    /// `dbPointer` (deprecated).
    DbPointer,
    /// `javascript`: code.
    JavaScript,
    /// `symbol` (deprecated).
    Symbol,
    /// `javascriptWithScope`: code with a scope (deprecated).
    JavaScriptWithScope,
    /// `int`: a 32-bit integer.
    Int,
    /// `timestamp`: MongoDB's internal timestamp.
    Timestamp,
    /// `long`: a 64-bit integer.
    Long,
    /// `decimal`: a 128-bit decimal.
    Decimal,
    /// `minKey`.
    MinKey,
    /// `maxKey`.
    MaxKey,
}

impl BsonType {
    /// The name `$jsonSchema` and `$type` use: `"int"`, `"objectId"`, ...
    pub const fn alias(self) -> &'static str {
        match self {
            BsonType::Double => "double",
            BsonType::String => "string",
            BsonType::Object => "object",
            BsonType::Array => "array",
            BsonType::BinData => "binData",
            BsonType::Undefined => "undefined",
            BsonType::ObjectId => "objectId",
            BsonType::Bool => "bool",
            BsonType::Date => "date",
            BsonType::Null => "null",
            BsonType::Regex => "regex",
            BsonType::DbPointer => "dbPointer",
            BsonType::JavaScript => "javascript",
            BsonType::Symbol => "symbol",
            BsonType::JavaScriptWithScope => "javascriptWithScope",
            BsonType::Int => "int",
            BsonType::Timestamp => "timestamp",
            BsonType::Long => "long",
            BsonType::Decimal => "decimal",
            BsonType::MinKey => "minKey",
            BsonType::MaxKey => "maxKey",
        }
    }

    /// The type of a value.
    pub fn of(value: &Bson) -> BsonType {
        match value {
            Bson::Double(_) => BsonType::Double,
            Bson::String(_) => BsonType::String,
            Bson::Document(_) => BsonType::Object,
            Bson::Array(_) => BsonType::Array,
            Bson::Binary(_) => BsonType::BinData,
            Bson::Undefined => BsonType::Undefined,
            Bson::ObjectId(_) => BsonType::ObjectId,
            Bson::Boolean(_) => BsonType::Bool,
            Bson::DateTime(_) => BsonType::Date,
            Bson::Null => BsonType::Null,
            Bson::RegularExpression(_) => BsonType::Regex,
            Bson::DbPointer(_) => BsonType::DbPointer,
            Bson::JavaScriptCode(_) => BsonType::JavaScript,
            Bson::Symbol(_) => BsonType::Symbol,
            Bson::JavaScriptCodeWithScope(_) => BsonType::JavaScriptWithScope,
            Bson::Int32(_) => BsonType::Int,
            Bson::Timestamp(_) => BsonType::Timestamp,
            Bson::Int64(_) => BsonType::Long,
            Bson::Decimal128(_) => BsonType::Decimal,
            Bson::MinKey => BsonType::MinKey,
            Bson::MaxKey => BsonType::MaxKey,
        }
    }

    /// The stored types a field declared as `self` takes: those its Rust type reads back. An integer
    /// field takes `int` and `long` (the decoder reads either when the value fits), a float field
    /// `double`, `int` and `long`; any other type only itself. The update check and `$jsonSchema`'s
    /// `bsonType` both use this list.
    pub const fn accepts(self) -> &'static [BsonType] {
        match self {
            BsonType::Int | BsonType::Long => &[BsonType::Int, BsonType::Long],
            BsonType::Double => &[BsonType::Double, BsonType::Int, BsonType::Long],
            BsonType::String => &[BsonType::String],
            BsonType::Object => &[BsonType::Object],
            BsonType::Array => &[BsonType::Array],
            BsonType::BinData => &[BsonType::BinData],
            BsonType::Undefined => &[BsonType::Undefined],
            BsonType::ObjectId => &[BsonType::ObjectId],
            BsonType::Bool => &[BsonType::Bool],
            BsonType::Date => &[BsonType::Date],
            BsonType::Null => &[BsonType::Null],
            BsonType::Regex => &[BsonType::Regex],
            BsonType::DbPointer => &[BsonType::DbPointer],
            BsonType::JavaScript => &[BsonType::JavaScript],
            BsonType::Symbol => &[BsonType::Symbol],
            BsonType::JavaScriptWithScope => &[BsonType::JavaScriptWithScope],
            BsonType::Timestamp => &[BsonType::Timestamp],
            BsonType::Decimal => &[BsonType::Decimal],
            BsonType::MinKey => &[BsonType::MinKey],
            BsonType::MaxKey => &[BsonType::MaxKey],
        }
    }

    /// `true` when a field declared as `self` takes a value stored as `stored` (see
    /// [`BsonType::accepts`]).
    pub fn takes(self, stored: BsonType) -> bool {
        self.accepts().contains(&stored)
    }

    /// The `bsonType` of `$jsonSchema` for a field declared as `self`: [`BsonType::accepts`], and
    /// `null` when the field may be null; a single name when there is one.
    pub fn json_schema(self, nullable: bool) -> Bson {
        let mut names: Vec<Bson> = self.accepts().iter().map(|t| t.alias().into()).collect();
        if nullable {
            names.push(BsonType::Null.alias().into());
        }
        if names.len() == 1 {
            names.pop().unwrap_or(Bson::Null)
        } else {
            Bson::Array(names)
        }
    }

    /// What a failing type check says: "must be stored as an `int` or a `long`".
    fn expectation(self, nullable: bool) -> String {
        let mut names: Vec<String> = self
            .accepts()
            .iter()
            .map(|t| format!("`{}`", t.alias()))
            .collect();
        if nullable {
            names.push("`null`".to_owned());
        }
        let last = names.pop().unwrap_or_default();
        if names.is_empty() {
            format!("must be stored as {last}")
        } else {
            format!("must be stored as {} or {last}", names.join(", "))
        }
    }
}

impl fmt::Display for BsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.alias())
    }
}

/// A number as the `range` and `one_of` rules see it: an integer exactly, or a float. Integers and
/// floats compare by value, exactly (a `long` beyond 2^53 is not rounded), as MongoDB compares them.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    /// An integer (every Rust integer type that BSON stores fits).
    Int(i64),
    /// A float; `NaN` equals nothing and fails every bound.
    Float(f64),
}

impl Number {
    /// The order of two numbers by value; `None` when one is `NaN`.
    #[inline]
    pub fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b),
            (Number::Int(a), Number::Float(b)) => int_cmp_float(a, b),
            (Number::Float(a), Number::Int(b)) => int_cmp_float(b, a).map(Ordering::reverse),
        }
    }

    /// The order of the number and a bound.
    #[inline]
    fn cmp_bound(self, bound: f64) -> Option<Ordering> {
        self.compare(Number::Float(bound))
    }

    /// The number of a BSON value: `int`, `long` or `double`.
    pub fn of(value: &Bson) -> Option<Number> {
        match value {
            Bson::Int32(n) => Some(Number::Int(i64::from(*n))),
            Bson::Int64(n) => Some(Number::Int(*n)),
            Bson::Double(x) => Some(Number::Float(*x)),
            _ => None,
        }
    }
}

/// `i` against `f`, exactly.
#[inline]
fn int_cmp_float(i: i64, f: f64) -> Option<Ordering> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    // Rounding is monotonic and `f` is a double: when `i` rounds to another double than `f`, that
    // double is on the same side of `f` as `i`. NaN compares as `None` here too.
    #[allow(clippy::cast_precision_loss)]
    let rounded = i as f64;
    if rounded != f || f.is_nan() {
        return rounded.partial_cmp(&f);
    }
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    // |f| < 2^63: its integer part fits an i64 exactly.
    #[allow(clippy::cast_possible_truncation)]
    let whole = f.trunc() as i64;
    Some(i.cmp(&whole).then_with(|| {
        let fract = f - f.trunc();
        0.0_f64.partial_cmp(&fract).unwrap_or(Ordering::Equal)
    }))
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.compare(*other) == Some(Ordering::Equal)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(n) => write!(f, "{n}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Number {
        Number::Int(n)
    }
}

impl From<f64> for Number {
    fn from(x: f64) -> Number {
        Number::Float(x)
    }
}

/// What the `length` rule counts in a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// A string's characters (Unicode scalar values, as MongoDB's `minLength` counts code points).
    Chars(usize),
    /// A list's or a set's elements (a BSON array's).
    Elements(usize),
    /// A map's entries (an embedded document's fields, as MongoDB's `minProperties` counts them).
    Entries(usize),
}

impl Measure {
    /// The count, whatever is counted.
    pub fn count(self) -> usize {
        match self {
            Measure::Chars(n) | Measure::Elements(n) | Measure::Entries(n) => n,
        }
    }

    /// What `length` counts in a BSON value: a string's characters, an array's elements, a document's
    /// fields; `None` for any other value.
    pub fn of(value: &Bson) -> Option<Measure> {
        match value {
            Bson::String(s) => Some(Measure::Chars(s.chars().count())),
            Bson::Array(items) => Some(Measure::Elements(items.len())),
            Bson::Document(doc) => Some(Measure::Entries(doc.len())),
            _ => None,
        }
    }

    /// What is counted, in the plural unless `n` is 1.
    fn unit(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (Measure::Chars(_), false) => "characters",
            (Measure::Chars(_), true) => "character",
            (Measure::Elements(_), false) => "elements",
            (Measure::Elements(_), true) => "element",
            (Measure::Entries(_), false) => "entries",
            (Measure::Entries(_), true) => "entry",
        }
    }

    fn describe(self) -> String {
        let n = self.count();
        let what = match self {
            Measure::Chars(_) => "a string",
            Measure::Elements(_) => "a list",
            Measure::Entries(_) => "a map",
        };
        format!("{what} of {n} {}", self.unit(n))
    }
}

/// A value as `one_of` compares it: text, a number or a boolean.
#[derive(Debug, Clone, Copy)]
pub enum Scalar<'a> {
    /// A string.
    Text(&'a str),
    /// A `char`, stored as a one-character string.
    Char(char),
    /// A number.
    Number(Number),
    /// A boolean.
    Bool(bool),
}

impl Scalar<'_> {
    /// The scalar of a BSON value: a string, a number or a boolean.
    pub fn of(value: &Bson) -> Option<Scalar<'_>> {
        match value {
            Bson::String(s) => Some(Scalar::Text(s)),
            Bson::Boolean(b) => Some(Scalar::Bool(*b)),
            other => Number::of(other).map(Scalar::Number),
        }
    }

    fn equals(self, literal: Literal) -> bool {
        match (self, literal) {
            (Scalar::Text(a), Literal::Text(b)) => a == b,
            (Scalar::Char(c), Literal::Text(b)) => {
                let mut chars = b.chars();
                chars.next() == Some(c) && chars.next().is_none()
            }
            (Scalar::Number(a), Literal::Number(b)) => a == b,
            (Scalar::Bool(a), Literal::Bool(b)) => a == b,
            _ => false,
        }
    }

    fn describe(self) -> String {
        match self {
            Scalar::Text(s) => quote_text(s),
            Scalar::Char(c) => quote_text(c.encode_utf8(&mut [0; 4])),
            Scalar::Number(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// A value listed by `one_of`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Literal {
    /// A string (or a `char`).
    Text(&'static str),
    /// A number.
    Number(Number),
    /// A boolean.
    Bool(bool),
}

impl Literal {
    /// The literal as the BSON value a field of type `ty` stores: `1` in an `int` field is an `int`.
    pub fn to_bson(self, ty: Option<BsonType>) -> Bson {
        match (self, ty) {
            (Literal::Text(s), _) => Bson::String(s.to_owned()),
            (Literal::Bool(b), _) => Bson::Boolean(b),
            (Literal::Number(Number::Int(n)), Some(BsonType::Int)) => {
                i32::try_from(n).map_or(Bson::Int64(n), Bson::Int32)
            }
            #[allow(clippy::cast_precision_loss)]
            (Literal::Number(Number::Int(n)), Some(BsonType::Double)) => Bson::Double(n as f64),
            (Literal::Number(Number::Int(n)), _) => Bson::Int64(n),
            (Literal::Number(Number::Float(x)), _) => Bson::Double(x),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Text(s) => f.write_str(s),
            Literal::Number(n) => n.fmt(f),
            Literal::Bool(b) => b.fmt(f),
        }
    }
}

/// The pattern of a `regex` rule: its source, and the regex compiled from it once.
#[derive(Clone, Copy)]
pub struct Pattern {
    source: &'static str,
    compiled: fn() -> &'static Regex,
}

impl Pattern {
    /// A pattern and the function that returns it compiled (with [`compile`], once: a `LazyLock` in a
    /// `static`). The derive writes these.
    pub const fn new(source: &'static str, compiled: fn() -> &'static Regex) -> Pattern {
        Pattern { source, compiled }
    }

    /// The pattern as written, which is also `$jsonSchema`'s `pattern`.
    pub const fn source(self) -> &'static str {
        self.source
    }

    /// `true` when `text` matches (anywhere, unless the pattern anchors it).
    #[inline]
    pub fn is_match(self, text: &str) -> bool {
        (self.compiled)().is_match(text)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.source, f)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

/// Compiles a `regex` rule's pattern. The derive checked it at compile time.
///
/// # Panics
///
/// When the pattern is invalid, which a derived schema never is.
pub fn compile(source: &str) -> Regex {
    Regex::new(source).unwrap_or_else(|e| panic!("invalid `regex` rule pattern: {e}"))
}

/// Characters no e-mail address holds: `@` is the separator; whitespace and control characters (Rust's
/// `char::is_whitespace` and `char::is_control`) are spelled out, so the library's regex engine and the
/// server's PCRE read the class the same way.
macro_rules! not_in_address {
    () => {
        r"@\x{0}-\x{20}\x{7f}-\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
    };
}

/// The `email` rule, as a pattern: something without `@` or spaces, one `@`, and a domain that holds a
/// dot and neither starts nor ends with one. The library matches it ([`is_email`]), and `$jsonSchema`
/// carries it as `pattern`.
pub const EMAIL_PATTERN: &str = concat!(
    "^[^",
    not_in_address!(),
    "]+@[^.",
    not_in_address!(),
    "][^",
    not_in_address!(),
    r"]*\.[^",
    not_in_address!(),
    "]*[^.",
    not_in_address!(),
    "]$"
);

/// `true` when `text` is shaped like an e-mail address, exactly when [`EMAIL_PATTERN`] matches it: one
/// `@` with something before it, a domain with a dot inside it after it, and no whitespace or control
/// characters. Whether the address exists is not checked.
///
/// This is the pattern read by hand, without a regex engine, for the check before every write; a test
/// holds it to the pattern on every string of up to five characters over the characters that matter.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain
            .find('.')
            .is_some_and(|dot| dot > 0 && !domain.ends_with('.'))
}

/// A value reduced to what a rule looks at.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// No value: `None`, `null`. Only `required` fails it.
    Null,
    /// A number, for `range`.
    Number(Number),
    /// A length, for `length`.
    Measure(Measure),
    /// A string, for `regex` and `email`.
    Text(&'a str),
    /// A scalar, for `one_of`.
    Scalar(Scalar<'a>),
    /// A value of a kind the rule does not look at (a string under `range`): passes every rule but
    /// `one_of`, which lists what it takes.
    Other,
}

impl<'a> Subject<'a> {
    /// What `rule` looks at in a BSON value.
    pub fn of(rule: &Rule, value: &'a Bson) -> Subject<'a> {
        if matches!(value, Bson::Null) {
            return Subject::Null;
        }
        let subject = match rule {
            Rule::Range { .. } => Number::of(value).map(Subject::Number),
            Rule::Length { .. } => Measure::of(value).map(Subject::Measure),
            Rule::Regex(_) | Rule::Email => value.as_str().map(Subject::Text),
            Rule::OneOf(_) => Scalar::of(value).map(Subject::Scalar),
            Rule::Required | Rule::Custom(_) => None,
        };
        subject.unwrap_or(Subject::Other)
    }

    /// A short description of the value, for [`FieldError::value`](crate::validate::FieldError::value).
    pub fn describe(self) -> String {
        match self {
            Subject::Null => "none".to_owned(),
            Subject::Number(n) => n.to_string(),
            Subject::Measure(m) => m.describe(),
            Subject::Text(s) => quote_text(s),
            Subject::Scalar(s) => s.describe(),
            Subject::Other => "a value of another type".to_owned(),
        }
    }
}

/// A validation rule declared with `#[field(...)]`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Rule {
    /// `required`: an `Option` field must be `Some` (stored, and not `null`).
    Required,
    /// `range(min = .., max = ..)`: a number within bounds (inclusive). `NaN` fails a bound; the
    /// infinities compare as numbers.
    Range {
        /// The smallest allowed value.
        min: Option<f64>,
        /// The largest allowed value.
        max: Option<f64>,
    },
    /// `length(min = .., max = ..)`: a string's length in characters, a list's in elements, a map's
    /// (an embedded document's) in entries.
    Length {
        /// The smallest allowed length.
        min: Option<usize>,
        /// The largest allowed length.
        max: Option<usize>,
    },
    /// `regex = "..."`: a string matching the pattern.
    Regex(Pattern),
    /// `one_of(...)`: one of the listed values (numbers compare by value, whatever their width).
    OneOf(&'static [Literal]),
    /// `email`: a string shaped like an e-mail address ([`EMAIL_PATTERN`]).
    Email,
    /// `validate = path`: a custom function, by its path. It runs only on Rust values.
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

    /// The rule's decision on one value: `Ok` when it holds, else what is wrong, in words. Every check
    /// (on a Rust value before a write, on the values of an update) decides here.
    #[inline]
    pub fn judge(&self, subject: Subject<'_>) -> Result<(), String> {
        if self.holds(subject) {
            Ok(())
        } else {
            Err(self.complaint(subject))
        }
    }

    /// The decision alone: `true` when the rule holds of `subject` (see [`Rule::judge`]). Inlined, so
    /// that a check of a rule known at compile time (the derive's) is that rule's test alone.
    #[inline(always)]
    pub fn holds(&self, subject: Subject<'_>) -> bool {
        match (self, subject) {
            (Rule::Required, Subject::Null) => false,
            (_, Subject::Null) | (Rule::Required | Rule::Custom(_), _) => true,
            (Rule::Range { min, max }, Subject::Number(n)) => {
                let low = min.is_some_and(|min| n.cmp_bound(min).is_none_or(Ordering::is_lt));
                let high = max.is_some_and(|max| n.cmp_bound(max).is_none_or(Ordering::is_gt));
                !(low || high)
            }
            (Rule::Length { min, max }, Subject::Measure(m)) => {
                let n = m.count();
                !(min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max))
            }
            (Rule::Regex(pattern), Subject::Text(text)) => pattern.is_match(text),
            (Rule::Email, Subject::Text(text)) => is_email(text),
            (Rule::OneOf(values), Subject::Scalar(s)) => values.iter().any(|v| s.equals(*v)),
            (Rule::OneOf(_), _) => false,
            // A value of a kind the rule does not look at: the field's type decides about it.
            (Rule::Range { .. } | Rule::Length { .. } | Rule::Regex(_) | Rule::Email, _) => true,
        }
    }

    /// What a failure of the rule says.
    #[cold]
    fn complaint(&self, subject: Subject<'_>) -> String {
        match *self {
            Rule::Required => "is required".to_owned(),
            Rule::Range { min, max } => range_message(min, max),
            Rule::Length { min, max } => match subject {
                Subject::Measure(m) => length_message(m, min, max),
                _ => "must have a length within bounds".to_owned(),
            },
            Rule::Regex(pattern) => format!("must match the pattern `{}`", pattern.source()),
            Rule::Email => "must be an e-mail address".to_owned(),
            Rule::OneOf(values) => {
                let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                format!("must be one of {}", list.join(", "))
            }
            Rule::Custom(path) => format!("fails `{path}`"),
        }
    }

    /// Adds the rule's `$jsonSchema` keywords to the schema of a field of type `ty` (`None`: unknown),
    /// `nullable` when it may be `null`. `required` is the field's presence and its `bsonType` (see
    /// [`FieldSchema::is_nullable`](super::FieldSchema::is_nullable)); a custom function has none.
    pub fn json_schema(&self, ty: Option<BsonType>, nullable: bool, schema: &mut Document) {
        match *self {
            Rule::Required | Rule::Custom(_) => {}
            Rule::Range { min, max } => {
                if let Some(min) = min {
                    schema.insert("minimum", bound_bson(min));
                }
                if let Some(max) = max {
                    schema.insert("maximum", bound_bson(max));
                }
            }
            Rule::Length { min, max } => {
                // Each keyword applies to its own type only, as the rule counts by the value's type.
                let keywords: &[(&str, &str)] = match ty {
                    Some(BsonType::String) => &[("minLength", "maxLength")],
                    Some(BsonType::Array) => &[("minItems", "maxItems")],
                    Some(BsonType::Object) => &[("minProperties", "maxProperties")],
                    Some(_) => &[],
                    None => &[
                        ("minLength", "maxLength"),
                        ("minItems", "maxItems"),
                        ("minProperties", "maxProperties"),
                    ],
                };
                for (lo, hi) in keywords {
                    if let Some(min) = min {
                        schema.insert(*lo, len_bson(min));
                    }
                    if let Some(max) = max {
                        schema.insert(*hi, len_bson(max));
                    }
                }
            }
            Rule::Regex(pattern) => add_pattern(schema, pattern.source()),
            Rule::Email => add_pattern(schema, EMAIL_PATTERN),
            Rule::OneOf(values) => {
                let mut list: Vec<Bson> = values.iter().map(|v| v.to_bson(ty)).collect();
                if nullable {
                    list.push(Bson::Null);
                }
                schema.insert("enum", list);
            }
        }
    }
}

/// One `pattern` per schema object: a second one (a `regex` and `email` on one field) goes in `allOf`.
fn add_pattern(schema: &mut Document, pattern: &str) {
    if !schema.contains_key("pattern") {
        schema.insert("pattern", pattern);
        return;
    }
    let entry = mongodb::bson::doc! { "pattern": pattern };
    match schema.get_array_mut("allOf") {
        Ok(all) => all.push(entry.into()),
        Err(_) => {
            schema.insert("allOf", vec![Bson::Document(entry)]);
        }
    }
}

/// The failure of a field's type: `None` when a field declared as `ty` (`nullable` or not) takes
/// `value`.
pub fn judge_type(ty: BsonType, nullable: bool, value: &Bson) -> Result<(), String> {
    let stored = BsonType::of(value);
    if ty.takes(stored) || (nullable && stored == BsonType::Null) {
        Ok(())
    } else {
        Err(ty.expectation(nullable))
    }
}

/// A bound as `$jsonSchema` writes it: an integer when it is one.
fn bound_bson(x: f64) -> Bson {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        Bson::Int64(x as i64)
    } else {
        Bson::Double(x)
    }
}

fn len_bson(n: usize) -> Bson {
    Bson::Int64(i64::try_from(n).unwrap_or(i64::MAX))
}

fn range_message(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("must be between {min} and {max}"),
        (Some(min), None) => format!("must be at least {min}"),
        (None, Some(max)) => format!("must be at most {max}"),
        (None, None) => "must be a number".to_owned(),
    }
}

fn length_message(m: Measure, min: Option<usize>, max: Option<usize>) -> String {
    let unit = |n| m.unit(n);
    match (min, max) {
        (Some(min), Some(max)) if min == max => format!("must have exactly {min} {}", unit(min)),
        (Some(min), Some(max)) => format!("must have between {min} and {max} {}", unit(max)),
        (Some(min), None) => format!("must have at least {min} {}", unit(min)),
        (None, Some(max)) => format!("must have at most {max} {}", unit(max)),
        (None, None) => "must have a length".to_owned(),
    }
}

/// A string as a short quoted value for a failure's description.
fn quote_text(text: &str) -> String {
    const MAX: usize = 64;
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut:?}... ({} characters)", text.chars().count())
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_compare_exactly() {
        let big = Number::Int((1 << 53) + 1);
        assert_eq!(
            big.cmp_bound(9_007_199_254_740_992.0),
            Some(Ordering::Greater)
        );
        assert_eq!(Number::Int(3).cmp_bound(3.0), Some(Ordering::Equal));
        assert_eq!(Number::Int(3).cmp_bound(3.5), Some(Ordering::Less));
        assert_eq!(Number::Int(-3).cmp_bound(-3.5), Some(Ordering::Greater));
        assert_eq!(
            Number::Int(i64::MAX).cmp_bound(f64::INFINITY),
            Some(Ordering::Less)
        );
        assert_eq!(
            Number::Int(i64::MIN).cmp_bound(f64::NEG_INFINITY),
            Some(Ordering::Greater)
        );
        assert_eq!(Number::Int(0).cmp_bound(f64::NAN), None);
        assert_eq!(Number::Float(-0.0), Number::Int(0));
        assert_eq!(Number::Float(1.0), Number::Int(1));
    }

    #[test]
    fn integer_against_float_is_exact() {
        // The reference: through i128 and the float's floor, both exact in this range.
        #[allow(clippy::cast_possible_truncation)]
        fn exact(i: i64, f: f64) -> Option<Ordering> {
            if f.is_nan() {
                return None;
            }
            if f.is_infinite() {
                return Some(if f > 0.0 {
                    Ordering::Less
                } else {
                    Ordering::Greater
                });
            }
            let floor = f.floor() as i128;
            let i = i128::from(i);
            Some(if f == f.floor() {
                i.cmp(&floor)
            } else if i <= floor {
                Ordering::Less
            } else {
                Ordering::Greater
            })
        }
        let two53 = 9_007_199_254_740_992_i64;
        let ints = [
            i64::MIN,
            -two53 - 1,
            -two53,
            -3,
            -1,
            0,
            1,
            3,
            two53,
            two53 + 1,
            two53 + 3,
            i64::MAX,
        ];
        let floats = [
            f64::NEG_INFINITY,
            -9_223_372_036_854_775_808.0,
            -9_007_199_254_740_994.0,
            -9_007_199_254_740_992.0,
            -3.5,
            -1.0,
            -0.5,
            -0.0,
            0.0,
            0.5,
            1.0,
            3.0,
            9_007_199_254_740_992.0,
            9_007_199_254_740_994.0,
            9_223_372_036_854_775_808.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for i in ints {
            for f in floats {
                assert_eq!(int_cmp_float(i, f), exact(i, f), "{i} against {f}");
            }
        }
    }

    #[test]
    fn nan_fails_any_bound() {
        let nan = Subject::Number(Number::Float(f64::NAN));
        for rule in [
            Rule::Range {
                min: Some(0.0),
                max: None,
            },
            Rule::Range {
                min: None,
                max: Some(0.0),
            },
        ] {
            assert!(rule.judge(nan).is_err(), "{rule:?}");
        }
    }

    #[test]
    fn email_shapes() {
        for ok in ["a@b.co", "ann.lee+x@mail.acme.io", "a@b..c", "é@ü.de"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "@b.co",
            "a@",
            "a@b",
            "a@.co",
            "a@.b.co",
            "a@b.",
            "a@b..",
            "a b@c.de",
            "a@b@c.de",
            "a\u{7}@b.co",
            "a\u{a0}b@c.de",
            "a@b.c\u{3000}",
            "a\u{85}@b.co",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    /// `is_email` says what the pattern the server checks says.
    #[test]
    fn is_email_is_the_pattern() {
        let pattern = compile(EMAIL_PATTERN);
        let reading = |text: &str| pattern.is_match(text);
        let alphabet = [
            'a', '@', '.', ' ', '\u{7}', '\u{a0}', '\u{2009}', 'é', '\u{85}', '\u{3000}', '\u{9f}',
        ];
        // Every string of up to five characters over the alphabet.
        let mut stack = vec![String::new()];
        while let Some(text) = stack.pop() {
            assert_eq!(is_email(&text), reading(&text), "{text:?}");
            if text.chars().count() < 5 {
                for c in alphabet {
                    let mut next = text.clone();
                    next.push(c);
                    stack.push(next);
                }
            }
        }
    }
}
