//! Validation: what a failing value reports, and the checks the derive calls for each rule.

use std::fmt;

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
            rule: rule.into(),
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
