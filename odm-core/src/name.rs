//! MongoDB's naming rules for databases and collections, checked before a name reaches the server.

use crate::error::{Error, NameKind, NameRule, Result};

/// Bytes MongoDB forbids in a database name (on every platform the server runs on): `/\. "$*<>:|?` and
/// NUL, all ASCII, so a name is checked byte by byte against this table.
const DATABASE_FORBIDDEN: [bool; 256] = {
    let mut table = [false; 256];
    let forbidden = b"/\\. \"$*<>:|?\0";
    let mut i = 0;
    while i < forbidden.len() {
        table[forbidden[i] as usize] = true;
        i += 1;
    }
    table
};

/// A database name is at most 63 bytes long.
pub const MAX_DATABASE_NAME_LEN: usize = 63;

/// A namespace (`database.collection`) is at most 255 bytes long.
pub const MAX_NAMESPACE_LEN: usize = 255;

/// Checks a database name against MongoDB's rules: not empty, shorter than 64 bytes, and none of
/// `/\. "$*<>:|?` or NUL.
pub fn check_database_name(name: &str) -> Result<()> {
    let rule = if name.is_empty() {
        Some(NameRule::Empty)
    } else if let Some(b) = name.bytes().find(|&b| DATABASE_FORBIDDEN[b as usize]) {
        Some(NameRule::ForbiddenChar(char::from(b)))
    } else if name.len() > MAX_DATABASE_NAME_LEN {
        Some(NameRule::TooLong {
            max: MAX_DATABASE_NAME_LEN,
            len: name.len(),
        })
    } else {
        None
    };
    match rule {
        None => Ok(()),
        Some(rule) => Err(Error::InvalidName {
            kind: NameKind::Database,
            name: name.to_owned(),
            rule,
        }),
    }
}

/// Checks a collection name against MongoDB's rules: not empty, no `$` or NUL, not starting with
/// `system.`, and short enough that `database.collection` fits in 255 bytes.
pub fn check_collection_name(database: &str, name: &str) -> Result<()> {
    let max = MAX_NAMESPACE_LEN.saturating_sub(database.len() + 1);
    let rule = if name.is_empty() {
        Some(NameRule::Empty)
    } else if let Some(c) = name.chars().find(|c| matches!(c, '$' | '\0')) {
        Some(NameRule::ForbiddenChar(c))
    } else if name.starts_with("system.") {
        Some(NameRule::ReservedPrefix)
    } else if name.len() > max {
        Some(NameRule::TooLong {
            max,
            len: name.len(),
        })
    } else {
        None
    };
    match rule {
        None => Ok(()),
        Some(rule) => Err(Error::InvalidName {
            kind: NameKind::Collection,
            name: name.to_owned(),
            rule,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str) -> Option<NameRule> {
        match check_database_name(name) {
            Ok(()) => None,
            Err(Error::InvalidName { rule, .. }) => Some(rule),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn database_names_follow_mongodb_rules() {
        assert_eq!(rule("tenant_acme"), None);
        assert_eq!(rule("Tenant-42"), None);
        assert_eq!(rule("ünïcode"), None);
        assert_eq!(rule(""), Some(NameRule::Empty));
        assert_eq!(rule(&"a".repeat(63)), None);
        assert_eq!(
            rule(&"a".repeat(64)),
            Some(NameRule::TooLong { max: 63, len: 64 })
        );
        for c in [
            '/', '\\', '.', ' ', '"', '$', '*', '<', '>', ':', '|', '?', '\0',
        ] {
            assert_eq!(
                rule(&format!("a{c}b")),
                Some(NameRule::ForbiddenChar(c)),
                "{c:?}"
            );
        }
    }

    #[test]
    fn messages_name_the_rule() {
        let e = check_database_name("a.b").unwrap_err().to_string();
        assert!(e.contains("forbidden character '.'"), "{e}");
        let e = check_database_name(&"x".repeat(70))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("70 bytes long") && e.contains("at most 63"),
            "{e}"
        );
    }

    #[test]
    fn collection_names_follow_mongodb_rules() {
        assert!(check_collection_name("db", "users").is_ok());
        assert!(check_collection_name("db", "acme.users").is_ok());
        assert!(check_collection_name("db", "").is_err());
        assert!(check_collection_name("db", "a$b").is_err());
        assert!(check_collection_name("db", "system.users").is_err());
        assert!(check_collection_name("db", &"c".repeat(252)).is_ok());
        assert!(check_collection_name("db", &"c".repeat(253)).is_err());
    }
}
