//! What the derive can tell about a field from its Rust type, as written.
//!
//! Types are recognised by their last path segment (`String`, `Vec<T>`, `Option<T>`, `DateTime`, ...).
//! A type the derive does not recognise (an alias, a type of the user's) is `Other`: rules on it are
//! checked by the compiler through the runtime's traits instead, with the error on the attribute.

use syn::{GenericArgument, PathArguments, Type};

#[derive(Clone, Copy)]
pub enum Ty<'a> {
    Text,
    Char,
    /// An integer, and the `BsonType` variant it is stored as.
    Int(&'static str),
    /// A float: `f32` or `f64`.
    Float(&'static str),
    Bool,
    DateTime,
    ObjectId,
    /// A list or set, and its element type.
    List(&'a Type),
    /// A map or a document.
    Map,
    Option(&'a Type),
    Other,
}

/// The single generic argument of `ty`'s last segment when it is named `name`s, e.g. `T` of `Vec<T>`.
fn last_segment(ty: &Type) -> Option<(&syn::Ident, Vec<&Type>)> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let seg = p.path.segments.last()?;
    let args = match &seg.arguments {
        PathArguments::None => Vec::new(),
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        PathArguments::Parenthesized(_) => return None,
    };
    Some((&seg.ident, args))
}

pub fn classify(ty: &Type) -> Ty<'_> {
    match ty {
        Type::Paren(p) => return classify(&p.elem),
        Type::Group(g) => return classify(&g.elem),
        Type::Reference(r) => return classify(&r.elem),
        Type::Array(a) => return Ty::List(&a.elem),
        Type::Slice(s) => return Ty::List(&s.elem),
        _ => {}
    }
    let Some((ident, args)) = last_segment(ty) else {
        return Ty::Other;
    };
    let name = ident.to_string();
    match (name.as_str(), args.as_slice()) {
        ("String" | "str", []) => Ty::Text,
        ("Cow", [t]) | ("Box" | "Rc" | "Arc", [t]) if is_str(t) => Ty::Text,
        ("Box", [t]) => classify(t),
        ("char", []) => Ty::Char,
        ("i8" | "i16" | "i32" | "u8" | "u16", []) => Ty::Int("Int"),
        ("i64" | "i128" | "isize" | "u32" | "u64" | "u128" | "usize", []) => Ty::Int("Long"),
        ("f32", []) => Ty::Float("f32"),
        ("f64", []) => Ty::Float("f64"),
        ("bool", []) => Ty::Bool,
        ("DateTime", []) => Ty::DateTime,
        ("ObjectId", []) => Ty::ObjectId,
        ("Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "LinkedList" | "BinaryHeap", [t, ..]) => {
            Ty::List(t)
        }
        ("HashMap" | "BTreeMap" | "IndexMap", [_, ..]) | ("Document", []) => Ty::Map,
        ("Option", [t]) => Ty::Option(t),
        _ => Ty::Other,
    }
}

fn is_str(ty: &Type) -> bool {
    matches!(classify(ty), Ty::Text)
}

impl<'a> Ty<'a> {
    /// The type inside an `Option`, or the type itself.
    pub fn base(ty: &'a Type) -> Ty<'a> {
        match classify(ty) {
            Ty::Option(inner) => classify(inner),
            other => other,
        }
    }

    pub fn is_number(self) -> bool {
        matches!(self, Ty::Int(_) | Ty::Float(_))
    }

    /// The `odm_core::schema::BsonType` variant a value of this type is stored as, when known.
    pub fn bson_type(self) -> Option<&'static str> {
        Some(match self {
            Ty::Text | Ty::Char => "String",
            Ty::Int(t) => t,
            Ty::Float(_) => "Double",
            Ty::Bool => "Bool",
            Ty::DateTime => "Date",
            Ty::ObjectId => "ObjectId",
            Ty::List(_) => "Array",
            Ty::Map => "Object",
            Ty::Option(inner) => return classify(inner).bson_type(),
            Ty::Other => return None,
        })
    }

    /// A short name of the kind of type, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Ty::Text => "a string",
            Ty::Char => "a `char`",
            Ty::Int(_) => "an integer",
            Ty::Float(_) => "a float",
            Ty::Bool => "a `bool`",
            Ty::DateTime => "a `DateTime`",
            Ty::ObjectId => "an `ObjectId`",
            Ty::List(_) => "a collection",
            Ty::Map => "a map",
            Ty::Option(_) => "an `Option`",
            Ty::Other => "a value",
        }
    }
}

/// The Rust type as the compiler writes it (`Option < Vec < String > >`), and whether the compiler reads
/// that text back as the same tokens: not for a `$crate` path or a group a `macro_rules!` macro
/// substituted, whose type must go into generated code as tokens.
pub fn type_text(ty: &Type) -> (String, bool) {
    fn plain(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().all(|tt| match tt {
            proc_macro2::TokenTree::Group(g) => {
                g.delimiter() != proc_macro2::Delimiter::None && plain(g.stream())
            }
            proc_macro2::TokenTree::Ident(i) => i != "$crate",
            _ => true,
        })
    }
    let tokens = quote::quote!(#ty);
    (tokens.to_string(), plain(tokens))
}

/// The Rust type as text without token spacing: `Option<Vec<String>>`.
pub fn type_string(ty: &Type) -> String {
    squeeze(&quote::quote!(#ty).to_string())
}

/// `raw` (a type as the compiler writes it) without token spacing.
pub fn squeeze(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let chars: Vec<char> = raw.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = if i > 0 { chars[i - 1] } else { ' ' };
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            let glue = |ch: char| {
                matches!(
                    ch,
                    '<' | '>' | ':' | '&' | '(' | ')' | '[' | ']' | ',' | ';'
                )
            };
            if (glue(prev) && prev != ',' && prev != ';')
                || matches!(next, '<' | '>' | ':' | ',' | ')' | ']' | ';')
                || (prev == '&')
            {
                continue;
            }
        }
        out.push(c);
    }
    out
}
