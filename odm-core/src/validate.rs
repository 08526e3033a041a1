//! Validation: what a failing value reports, and the checks the derive calls for each rule. Each check
//! reduces the Rust value to what the rule looks at (through [`AsNumber`], [`AsLength`], [`AsText`],
//! [`AsScalar`]) and asks the rule ([`Rule::judge`]), as the update check does with BSON values.

use std::fmt;

pub use crate::schema::{is_email, Measure};
use crate::schema::{Number, Rule, Scalar, Subject};

/// One field that breaks one rule.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FieldError {
    /// The stored path of the field: `email`, `address.zip`, `tags.2`. Empty for a whole-document rule.
    pub path: String,
    /// The rule's name as written in the attribute: `range`, `length`, `regex`, `email`, ...
    pub rule: &'static str,
    /// A short description of the value that failed (`"-3"`, `"a string of 300 characters"`).
    pub value: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FieldError {
    /// Describes a failure.
    pub fn new(
        path: impl Into<String>,
        rule: &'static str,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            path: path.into(),
            rule,
            value: value.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(
            f,
            "`{path}` fails `{}`: {} (value: {})",
            self.rule, self.message, self.value
        )
    }
}

/// Every failing field of a value, not only the first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidationErrors {
    /// The type that was validated.
    pub type_name: &'static str,
    /// The position of the value in an `insert_many` batch.
    pub index: Option<usize>,
    /// The failures, in field order.
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// An empty list for a value of `type_name`.
    pub fn new(type_name: &'static str) -> Self {
        ValidationErrors {
            type_name,
            index: None,
            errors: Vec::new(),
        }
    }

    /// Adds a failure.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// `true` when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The failures of one path.
    pub fn at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.errors.iter().filter(move |e| e.path == path)
    }

    /// `Ok(())` when nothing failed, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "validation failed for `{}`", self.type_name)?;
        if let Some(i) = self.index {
            write!(
                f,
                " (element {i} of the batch; nothing of the batch was written)"
            )?;
        } else {
            f.write_str(" (nothing was written)")?;
        }
        write!(f, ", {} problem(s): ", self.errors.len())?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

#[doc(hidden)]
/// The stored path of `name` below `prefix`: `address` and `zip` give `address.zip`; an empty prefix gives
/// `name`.
pub fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A value the `range` rule can check: a number, or an `Option` of one (`None` passes).
#[diagnostic::on_unimplemented(
    message = "`range` applies to numbers, and `{Self}` is not one",
    label = "`range` on a field of type `{Self}`",
    note = "implement `odm_core::validate::AsNumber` for `{Self}` to check it with `range`"
)]
pub trait AsNumber {
    /// The value as a [`Number`], or `None` when there is nothing to check.
    fn as_number(&self) -> Option<Number>;
}

macro_rules! as_number_int {
    ($($t:ty),*) => {$(
        impl AsNumber for $t {
            #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
            fn as_number(&self) -> Option<Number> {
                // Every integer BSON stores fits an `i64`; a wider one is compared as a float.
                Some(i64::try_from(*self).map_or(Number::Float(*self as f64), Number::Int))
            }
        }
    )*};
}
as_number_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl AsNumber for f32 {
    fn as_number(&self) -> Option<Number> {
        Some(Number::Float(f64::from(*self)))
    }
}

impl AsNumber for f64 {
    fn as_number(&self) -> Option<Number> {
        Some(Number::Float(*self))
    }
}

impl<T: AsNumber> AsNumber for Option<T> {
    fn as_number(&self) -> Option<Number> {
        self.as_ref().and_then(AsNumber::as_number)
    }
}

impl<T: AsNumber + ?Sized> AsNumber for &T {
    fn as_number(&self) -> Option<Number> {
        (**self).as_number()
    }
}

/// A value the `length` rule can check: a string (in characters), a collection (in elements), a map
/// (in entries), or an `Option` of one (`None` passes).
#[diagnostic::on_unimplemented(
    message = "`length` applies to strings and collections, and `{Self}` is neither",
    label = "`length` on a field of type `{Self}`",
    note = "implement `odm_core::validate::AsLength` for `{Self}` to check it with `length`"
)]
pub trait AsLength {
    /// The value's length, or `None` when there is nothing to check.
    fn as_length(&self) -> Option<Measure>;
}

impl AsLength for str {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Chars(self.chars().count()))
    }
}

impl AsLength for String {
    fn as_length(&self) -> Option<Measure> {
        self.as_str().as_length()
    }
}

impl AsLength for std::borrow::Cow<'_, str> {
    fn as_length(&self) -> Option<Measure> {
        (**self).as_length()
    }
}

impl AsLength for Box<str> {
    fn as_length(&self) -> Option<Measure> {
        (**self).as_length()
    }
}

macro_rules! as_length_elements {
    ($($t:ident),*) => {$(
        impl<T> AsLength for std::collections::$t<T> {
            fn as_length(&self) -> Option<Measure> {
                Some(Measure::Elements(self.len()))
            }
        }
    )*};
}
as_length_elements!(VecDeque, BTreeSet, LinkedList, BinaryHeap);

impl<T> AsLength for Vec<T> {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Elements(self.len()))
    }
}

impl<T> AsLength for [T] {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Elements(self.len()))
    }
}

impl<T, const N: usize> AsLength for [T; N] {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Elements(N))
    }
}

impl<T, S> AsLength for std::collections::HashSet<T, S> {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Elements(self.len()))
    }
}

impl<K, V, S> AsLength for std::collections::HashMap<K, V, S> {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Entries(self.len()))
    }
}

impl<K, V> AsLength for std::collections::BTreeMap<K, V> {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Entries(self.len()))
    }
}

impl AsLength for mongodb::bson::Document {
    fn as_length(&self) -> Option<Measure> {
        Some(Measure::Entries(self.len()))
    }
}

impl<T: AsLength> AsLength for Option<T> {
    fn as_length(&self) -> Option<Measure> {
        self.as_ref().and_then(AsLength::as_length)
    }
}

impl<T: AsLength + ?Sized> AsLength for &T {
    fn as_length(&self) -> Option<Measure> {
        (**self).as_length()
    }
}

/// A value the `regex` and `email` rules can check: a string, or an `Option` of one (`None` passes).
#[diagnostic::on_unimplemented(
    message = "`regex` and `email` apply to strings, and `{Self}` is not one",
    label = "a text rule on a field of type `{Self}`",
    note = "implement `odm_core::validate::AsText` for `{Self}` to check it as text"
)]
pub trait AsText {
    /// The value as text, or `None` when there is nothing to check.
    fn as_text(&self) -> Option<&str>;
}

impl AsText for str {
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl AsText for String {
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl AsText for std::borrow::Cow<'_, str> {
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl AsText for Box<str> {
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: AsText> AsText for Option<T> {
    fn as_text(&self) -> Option<&str> {
        self.as_ref().and_then(AsText::as_text)
    }
}

impl<T: AsText + ?Sized> AsText for &T {
    fn as_text(&self) -> Option<&str> {
        (**self).as_text()
    }
}

/// A value the `one_of` rule can check: a string, a `char`, a number, a `bool`, or an `Option` of one
/// (`None` passes).
#[diagnostic::on_unimplemented(
    message = "`one_of` applies to strings, numbers, `char`s and `bool`s, and `{Self}` is none of them",
    label = "`one_of` on a field of type `{Self}`",
    note = "implement `odm_core::validate::AsScalar` for `{Self}` to check it with `one_of`"
)]
pub trait AsScalar {
    /// The value as a [`Scalar`], or `None` when there is nothing to check.
    fn as_scalar(&self) -> Option<Scalar<'_>>;
}

impl AsScalar for str {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        Some(Scalar::Text(self))
    }
}

impl AsScalar for String {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        Some(Scalar::Text(self))
    }
}

impl AsScalar for std::borrow::Cow<'_, str> {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        Some(Scalar::Text(self))
    }
}

impl AsScalar for Box<str> {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        Some(Scalar::Text(self))
    }
}

impl AsScalar for char {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        Some(Scalar::Char(*self))
    }
}

impl AsScalar for bool {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        Some(Scalar::Bool(*self))
    }
}

macro_rules! as_scalar_number {
    ($($t:ty),*) => {$(
        impl AsScalar for $t {
            fn as_scalar(&self) -> Option<Scalar<'_>> {
                self.as_number().map(Scalar::Number)
            }
        }
    )*};
}
as_scalar_number!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

impl<T: AsScalar> AsScalar for Option<T> {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        self.as_ref().and_then(AsScalar::as_scalar)
    }
}

impl<T: AsScalar + ?Sized> AsScalar for &T {
    fn as_scalar(&self) -> Option<Scalar<'_>> {
        (**self).as_scalar()
    }
}

/// Asks `rule` about `subject`, and records its failure at `path`. The create-time checks below and the
/// update check both report through here.
#[inline]
pub(crate) fn judge_into(
    errors: &mut ValidationErrors,
    path: impl FnOnce() -> String,
    rule: &Rule,
    subject: Subject<'_>,
) {
    if !rule.holds(subject) {
        report(errors, path(), rule, subject);
    }
}

#[cold]
#[inline(never)]
fn report(errors: &mut ValidationErrors, path: String, rule: &Rule, subject: Subject<'_>) {
    if let Err(message) = rule.judge(subject) {
        errors.push(FieldError::new(
            path,
            rule.name(),
            subject.describe(),
            message,
        ));
    }
}

#[doc(hidden)]
/// The `required` rule: `present` is `false` when the `Option` is `None`.
#[inline]
pub fn check_required(errors: &mut ValidationErrors, path: &str, name: &str, present: bool) {
    let subject = if present {
        Subject::Other
    } else {
        Subject::Null
    };
    judge_into(errors, || join_path(path, name), &Rule::Required, subject);
}

#[doc(hidden)]
/// A `range` rule on a number.
pub fn check_range<V: AsNumber + ?Sized>(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    value: &V,
    rule: &Rule,
) {
    let Some(n) = value.as_number() else { return };
    judge_into(errors, || join_path(path, name), rule, Subject::Number(n));
}

#[doc(hidden)]
/// A `length` rule on a string or a collection.
pub fn check_length<V: AsLength + ?Sized>(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    value: &V,
    rule: &Rule,
) {
    let Some(measure) = value.as_length() else {
        return;
    };
    judge_into(
        errors,
        || join_path(path, name),
        rule,
        Subject::Measure(measure),
    );
}

#[doc(hidden)]
/// A `regex` rule on a string.
pub fn check_regex<V: AsText + ?Sized>(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    value: &V,
    rule: &Rule,
) {
    let Some(text) = value.as_text() else { return };
    judge_into(errors, || join_path(path, name), rule, Subject::Text(text));
}

#[doc(hidden)]
/// The `email` rule on a string (see [`is_email`]).
pub fn check_email<V: AsText + ?Sized>(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    value: &V,
    rule: &Rule,
) {
    let Some(text) = value.as_text() else { return };
    judge_into(errors, || join_path(path, name), rule, Subject::Text(text));
}

#[doc(hidden)]
/// A `one_of` rule on a string, a `char`, a number or a `bool`.
pub fn check_one_of<V: AsScalar + ?Sized>(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    value: &V,
    rule: &Rule,
) {
    let Some(scalar) = value.as_scalar() else {
        return;
    };
    judge_into(
        errors,
        || join_path(path, name),
        rule,
        Subject::Scalar(scalar),
    );
}

fn quote_or_plain(debug: String) -> String {
    const MAX: usize = 64;
    if debug.chars().count() > MAX {
        let cut: String = debug.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        debug
    }
}

#[doc(hidden)]
/// A `validate = path` rule on a field (or on the document, with an empty `name`): records `message` when
/// the function said no.
pub fn check_custom(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    result: Result<(), String>,
    value: impl FnOnce() -> String,
) {
    if let Err(message) = result {
        let path = if name.is_empty() {
            path.to_owned()
        } else {
            join_path(path, name)
        };
        errors.push(FieldError::new(path, "validate", value(), message));
    }
}

#[doc(hidden)]
/// Checks an embedded document held by field `name`, with paths below it.
pub fn validate_embedded<E: crate::Embedded>(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    value: &E,
) {
    // At the top level the path is the field's name: no allocation for a value that passes.
    if path.is_empty() {
        value.validate_into(name, errors);
    } else {
        value.validate_into(&join_path(path, name), errors);
    }
}

#[doc(hidden)]
/// Checks each embedded document of a list held by field `name`, with paths `name.0`, `name.1`, ...
pub fn validate_embedded_list<'a, E: crate::Embedded>(
    errors: &mut ValidationErrors,
    path: &str,
    name: &str,
    values: impl IntoIterator<Item = &'a E>,
) {
    let base = join_path(path, name);
    for (i, value) in values.into_iter().enumerate() {
        value.validate_into(&format!("{base}.{i}"), errors);
    }
}

#[doc(hidden)]
/// Describes any value for [`FieldError::value`]: its `Debug` form when it has one (see [`DescribeDebug`]),
/// else its type (see [`DescribeAny`]). Call as `(&Describe(&value)).describe_value()`.
pub struct Describe<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
/// The `Debug` form of a [`Describe`]d value, shortened.
pub trait DescribeDebug {
    /// The description.
    fn describe_value(&self) -> String;
}

impl<T: fmt::Debug + ?Sized> DescribeDebug for Describe<'_, T> {
    fn describe_value(&self) -> String {
        quote_or_plain(format!("{:?}", self.0))
    }
}

#[doc(hidden)]
/// The fallback for a [`Describe`]d value without `Debug`: its type.
pub trait DescribeAny {
    /// The description.
    fn describe_value(&self) -> String;
}

impl<T: ?Sized> DescribeAny for &Describe<'_, T> {
    fn describe_value(&self) -> String {
        format!("a `{}`", std::any::type_name::<T>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join() {
        assert_eq!(join_path("", "a"), "a");
        assert_eq!(join_path("a.1", "b"), "a.1.b");
    }
}
