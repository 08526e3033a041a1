//! Names: serde's `rename_all` casings, and the default collection name (snake_case, pluralised the way
//! Mongoose does).

/// A serde `rename_all` rule, applied to a field's Rust name (snake_case).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    pub fn from_str(s: &str) -> Option<Self> {
        Some(match s {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            _ => return None,
        })
    }

    /// The stored name of a field named `field` in Rust, as serde computes it.
    pub fn apply(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut out = String::new();
                let mut capitalize = true;
                for c in field.chars() {
                    if c == '_' {
                        capitalize = true;
                    } else if capitalize {
                        out.push(c.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }

    /// The tag value of a variant named `variant` in Rust (PascalCase), as serde computes it.
    pub fn apply_to_variant(self, variant: &str) -> String {
        let snake = || {
            let mut out = String::new();
            for (i, c) in variant.char_indices() {
                if i > 0 && c.is_uppercase() {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            }
            out
        };
        match self {
            RenameRule::Pascal => variant.to_owned(),
            RenameRule::Lower => variant.to_ascii_lowercase(),
            RenameRule::Upper => variant.to_ascii_uppercase(),
            RenameRule::Camel => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Snake => snake(),
            RenameRule::ScreamingSnake => snake().to_ascii_uppercase(),
            RenameRule::Kebab => snake().replace('_', "-"),
            RenameRule::ScreamingKebab => snake().to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// `UserProfile` -> `user_profile`, `HTTPRequest` -> `http_request`.
pub fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev != '_'
                && (prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_lower))
            {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The default collection of a model: its name in snake_case with the last word pluralised.
pub fn collection_name(ident: &str) -> String {
    let snake = snake_case(ident);
    match snake.rfind('_') {
        Some(i) => format!("{}{}", &snake[..=i], pluralize(&snake[i + 1..])),
        None => pluralize(&snake),
    }
}

const UNCOUNTABLE: &[&str] = &[
    "data",
    "deer",
    "equipment",
    "fish",
    "information",
    "media",
    "metadata",
    "money",
    "moose",
    "news",
    "rice",
    "series",
    "sheep",
    "species",
];

const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("man", "men"),
    ("woman", "women"),
    ("child", "children"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("ox", "oxen"),
    ("datum", "data"),
];

/// An English noun's plural, by Mongoose's rules in short: a few irregular and uncountable words,
/// `-s/-x/-z/-ch/-sh` take `-es`, a consonant and `-y` take `-ies`, `-f/-fe` take `-ves`, the rest `-s`.
pub fn pluralize(word: &str) -> String {
    if word.is_empty() || UNCOUNTABLE.contains(&word) {
        return word.to_owned();
    }
    if let Some((_, plural)) = IRREGULAR.iter().find(|(one, _)| *one == word) {
        return (*plural).to_owned();
    }
    let ends = |s: &str| word.ends_with(s);
    if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") {
        return format!("{word}es");
    }
    let before_last = word.chars().rev().nth(1);
    if ends("y") && before_last.is_some_and(|c| !"aeiou".contains(c)) {
        return format!("{}ies", &word[..word.len() - 1]);
    }
    if (ends("fe") && !ends("ffe")) || ends("lf") || ends("rf") {
        let stem = word.trim_end_matches('e');
        return format!("{}ves", &stem[..stem.len() - 1]);
    }
    format!("{word}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        for (one, many) in [
            ("User", "users"),
            ("Category", "categories"),
            ("Person", "people"),
            ("Box", "boxes"),
            ("Status", "statuses"),
            ("Match", "matches"),
            ("Key", "keys"),
            ("UserProfile", "user_profiles"),
            ("HTTPRequest", "http_requests"),
            ("Knife", "knives"),
            ("Shelf", "shelves"),
            ("News", "news"),
        ] {
            assert_eq!(collection_name(one), many, "{one}");
        }
    }

    #[test]
    fn casings() {
        assert_eq!(RenameRule::Camel.apply("created_at"), "createdAt");
        assert_eq!(RenameRule::Pascal.apply("created_at"), "CreatedAt");
        assert_eq!(RenameRule::ScreamingKebab.apply("created_at"), "CREATED-AT");
        assert_eq!(RenameRule::Kebab.apply("created_at"), "created-at");
        assert_eq!(RenameRule::Upper.apply("created_at"), "CREATED_AT");
        assert_eq!(RenameRule::Snake.apply_to_variant("PageView"), "page_view");
        assert_eq!(RenameRule::Camel.apply_to_variant("PageView"), "pageView");
        assert_eq!(RenameRule::Lower.apply_to_variant("PageView"), "pageview");
        assert_eq!(
            RenameRule::ScreamingKebab.apply_to_variant("PageView"),
            "PAGE-VIEW"
        );
        assert_eq!(RenameRule::Pascal.apply_to_variant("PageView"), "PageView");
    }
}
