//! The derive input as borrowed data: the struct, its fields and their parsed attributes, keeping the
//! syntax nodes so every error can point at them.

use syn::{DeriveInput, Fields, Ident, Type};

use crate::attr;
use crate::case::RenameRule;
use crate::ctxt::Ctxt;
use crate::ty::{self, Ty};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Derive {
    Model,
    Embedded,
}

impl Derive {
    pub fn name(self) -> &'static str {
        match self {
            Derive::Model => "Model",
            Derive::Embedded => "Embedded",
        }
    }
}

pub struct Container<'a> {
    pub input: &'a DeriveInput,
    pub ident: &'a Ident,
    pub derive: Derive,
    pub attrs: attr::Container,
    pub serde: attr::serde::Container,
    pub data: Data<'a>,
}

/// What the type holds, as serde's `Data`: a struct's fields, or an enum's variants.
pub enum Data<'a> {
    /// Every named field, stored or not, in declaration order.
    Struct(Vec<Field<'a>>),
    /// A serde-tagged enum (or an error is recorded): its tag and variants.
    Enum(Tagged<'a>),
}

/// An internally tagged enum: several kinds of document in one collection.
pub struct Tagged<'a> {
    /// The stored name of the tag (`#[serde(tag = "..")]`); empty when the enum has none (an error).
    pub tag: String,
    /// The member of the generated `{Name}Fields` for the tag.
    pub tag_member: Ident,
    pub variants: Vec<Variant<'a>>,
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub node: &'a syn::Variant,
    /// The tag's value for this variant, as serde stores it.
    pub tag_value: String,
    /// Every named field, stored or not, in declaration order.
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// The type as written, for the docs, the schema and messages (rendered once).
    pub type_name: String,
    /// The type as code text, when text reads back as the same type (see `ty::type_text`).
    pub type_code: Option<String>,
    pub attrs: attr::Field,
    pub serde: attr::serde::Field,
    /// The name serde stores the field under.
    pub stored: String,
    /// For a field of an enum's variant, the variant's index.
    pub variant: Option<usize>,
}

impl<'a> Container<'a> {
    /// Reads the input, or records why it cannot be derived for and returns `None`.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput, derive: Derive) -> Option<Self> {
        let named = match &input.data {
            syn::Data::Struct(s) => match &s.fields {
                Fields::Named(named) => Some(named),
                Fields::Unnamed(_) => {
                    cx.error_spanned_by(
                        {
                            let (t, i, f) = (&s.struct_token, &input.ident, &s.fields);
                            quote::quote!(#t #i #f)
                        },
                        format!(
                            "`#[derive({})]` needs a struct with named fields, not a tuple struct: a document's fields have names",
                            derive.name()
                        ),
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        {
                            let (t, i) = (&s.struct_token, &input.ident);
                            quote::quote!(#t #i)
                        },
                        format!(
                            "`#[derive({})]` needs a struct with named fields, not a unit struct: a document's fields have names",
                            derive.name()
                        ),
                    );
                    None
                }
            },
            syn::Data::Enum(e) if derive == Derive::Embedded => {
                cx.error_spanned_by(
                    {
                        let (t, i) = (&e.enum_token, &input.ident);
                        quote::quote!(#t #i)
                    },
                    "`#[derive(Embedded)]` needs a struct with named fields, not an enum; store an enum as a field of a struct",
                );
                None
            }
            syn::Data::Enum(e) => {
                let attrs = attr::Container::from_attrs(cx, &input.attrs);
                let serde = attr::serde::Container::from_attrs(&input.attrs);
                return Some(Self::from_enum(cx, input, e, attrs, serde));
            }
            syn::Data::Union(u) => {
                cx.error_spanned_by(
                    {
                        let (t, i) = (&u.union_token, &input.ident);
                        quote::quote!(#t #i)
                    },
                    format!(
                        "`#[derive({})]` needs a struct with named fields, not a union",
                        derive.name()
                    ),
                );
                None
            }
        };
        let attrs = attr::Container::from_attrs(cx, &input.attrs);
        let serde = attr::serde::Container::from_attrs(&input.attrs);
        let named = named?;
        let fields = named
            .named
            .iter()
            .map(|f| Field::from_ast(cx, f, serde.rename_all, None))
            .collect();
        Some(Container {
            input,
            ident: &input.ident,
            derive,
            attrs,
            serde,
            data: Data::Struct(fields),
        })
    }

    /// Reads an enum, recording why it cannot be a model: no serde tag, a variant that is not a struct
    /// variant. The variants that can be read are kept, so later checks report on them too.
    fn from_enum(
        cx: &Ctxt,
        input: &'a DeriveInput,
        data: &'a syn::DataEnum,
        attrs: attr::Container,
        serde: attr::serde::Container,
    ) -> Self {
        let ident = &input.ident;
        let tag = match (&serde.tag, &serde.content, &serde.untagged) {
            (_, _, Some(untagged)) => {
                cx.error_spanned_by(
                    untagged,
                    "`#[derive(Model)]` needs an internally tagged enum: an untagged enum cannot tell its kinds apart in a query; write `#[serde(tag = \"kind\")]` instead",
                );
                String::new()
            }
            (Some(_), Some(content), _) => {
                cx.error_spanned_by(
                    content,
                    "`#[derive(Model)]` needs an internally tagged enum, with the variant's fields at the top of the document; remove `content`",
                );
                String::new()
            }
            (Some(tag), None, None) => tag.value(),
            (None, _, None) => {
                cx.error_spanned_by(
                    {
                        let t = &data.enum_token;
                        quote::quote!(#t #ident)
                    },
                    format!(
                        "`#[derive(Model)]` on an enum needs serde's internal tagging, so every document stores its kind: add `#[serde(tag = \"kind\")]` to `{ident}`, and make every variant a struct variant with a field stored as `_id`"
                    ),
                );
                String::new()
            }
        };
        if data.variants.is_empty() {
            cx.error_spanned_by(
                ident,
                format!("`{ident}` has no variants: a model enum has one struct variant per kind of document"),
            );
        }
        let field_rule = serde.rename_all_fields;
        let mut variants = Vec::new();
        for node in &data.variants {
            let vattrs = attr::serde::Variant::from_attrs(&node.attrs);
            let named = match &node.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) | Fields::Unit => {
                    let what = match &node.fields {
                        Fields::Unit => "a unit variant",
                        Fields::Unnamed(f) if f.unnamed.len() == 1 => "a newtype variant",
                        _ => "a tuple variant",
                    };
                    cx.error_spanned_by(
                        node,
                        format!(
                            "`{}::{}` is {what}; every variant of a model is a struct variant with named fields, one of them stored as `_id`: `{} {{ #[serde(rename = \"_id\", skip_serializing_if = \"Option::is_none\")] id: Option<ObjectId>, .. }}`",
                            ident, node.ident, node.ident
                        ),
                    );
                    continue;
                }
            };
            let tag_value = match (&vattrs.rename, serde.rename_all) {
                (Some(name), _) => name.clone(),
                (None, Some(rule)) => rule.apply_to_variant(&node.ident.to_string()),
                (None, None) => node.ident.to_string(),
            };
            let index = variants.len();
            let rule = vattrs.rename_all.or(field_rule);
            let fields = named
                .named
                .iter()
                .map(|f| Field::from_ast(cx, f, rule, Some(index)))
                .collect();
            variants.push(Variant {
                ident: &node.ident,
                node,
                tag_value,
                fields,
            });
        }
        let tag_member = member_ident(if tag.is_empty() { "kind" } else { &tag });
        Container {
            input,
            ident,
            derive: Derive::Model,
            attrs,
            serde,
            data: Data::Enum(Tagged {
                tag,
                tag_member,
                variants,
            }),
        }
    }

    /// The fields that are stored, in declaration order. For an enum, the union of its variants' stored
    /// fields: a field stored by several variants appears once, as first declared (and, when the input
    /// has errors, a field that clashes with the tag or with an earlier one is left out, so the stub the
    /// errors come with compiles).
    pub fn stored(&self) -> impl Iterator<Item = &Field<'a>> {
        let tagged = self.tagged();
        self.fields().enumerate().filter_map(move |(i, f)| {
            let clashes = tagged.is_some_and(|t| {
                f.stored == t.tag
                    || *f.ident == t.tag_member
                    || self
                        .fields()
                        .take(i)
                        .any(|g| g.is_stored() && (g.stored == f.stored || g.ident == f.ident))
            });
            (f.is_stored() && !clashes).then_some(f)
        })
    }

    /// Every named field, stored or not, in declaration order; for an enum, every variant's fields, one
    /// variant after the other.
    pub fn fields(&self) -> Box<dyn Iterator<Item = &Field<'a>> + '_> {
        match &self.data {
            Data::Struct(fields) => Box::new(fields.iter()),
            Data::Enum(tagged) => Box::new(tagged.variants.iter().flat_map(|v| &v.fields)),
        }
    }

    /// For an enum, its tag and variants.
    pub fn tagged(&self) -> Option<&Tagged<'a>> {
        match &self.data {
            Data::Struct(_) => None,
            Data::Enum(tagged) => Some(tagged),
        }
    }

    /// For an enum, the stored fields of `variant`.
    pub fn variant_fields<'c>(
        &'c self,
        variant: &'c Variant<'a>,
    ) -> impl Iterator<Item = &'c Field<'a>> {
        variant.fields.iter().filter(|f| f.is_stored())
    }

    /// For an enum, how many variants store a field under `stored`.
    pub fn variants_storing(&self, stored: &str) -> usize {
        self.tagged().map_or(0, |t| {
            t.variants
                .iter()
                .filter(|v| self.variant_fields(v).any(|f| f.stored == stored))
                .count()
        })
    }

    /// The stored field named `stored`.
    pub fn stored_field(&self, stored: &str) -> Option<&Field<'a>> {
        self.stored().find(|f| f.stored == stored)
    }

    /// The collection: as declared, or the struct's name in snake_case, pluralised.
    pub fn collection(&self) -> String {
        match &self.attrs.collection {
            Some(lit) => lit.value(),
            None => crate::case::collection_name(&self.ident.to_string()),
        }
    }
}

impl<'a> Field<'a> {
    fn from_ast(
        cx: &Ctxt,
        field: &'a syn::Field,
        rename_all: Option<RenameRule>,
        variant: Option<usize>,
    ) -> Self {
        let ident = field.ident.as_ref().expect("named field");
        let attrs = attr::Field::from_attrs(cx, &field.attrs);
        let serde = attr::serde::Field::from_attrs(&field.attrs);
        let rust_name = ident.to_string();
        let rust_name = rust_name
            .strip_prefix("r#")
            .unwrap_or(&rust_name)
            .to_owned();
        let stored = match (&serde.rename, rename_all) {
            (Some(name), _) => name.clone(),
            (None, Some(rule)) => rule.apply(&rust_name),
            (None, None) => rust_name,
        };
        let (text, reads_back) = ty::type_text(&field.ty);
        let type_name = ty::squeeze(&text);
        let type_code = reads_back.then_some(text);
        Field {
            ident,
            ty: &field.ty,
            type_code,
            type_name,
            attrs,
            serde,
            stored,
            variant,
        }
    }

    pub fn is_stored(&self) -> bool {
        !self.serde.skip && !self.serde.flatten
    }

    pub fn classify(&self) -> Ty<'a> {
        ty::classify(self.ty)
    }

    /// The type without its `Option`.
    pub fn base(&self) -> Ty<'a> {
        Ty::base(self.ty)
    }

    pub fn is_option(&self) -> bool {
        matches!(self.classify(), Ty::Option(_))
    }

    /// For a `nested` field, the type that derives `Embedded`: the field's type, or the element of its
    /// `Option`, list, or `Option` of a list.
    pub fn embedded_type(&self) -> Option<(&'a Type, Shape)> {
        let (inner, optional) = match self.classify() {
            Ty::Option(inner) => (inner, true),
            _ => (self.ty, false),
        };
        match (ty::classify(inner), optional) {
            (Ty::Other, false) => Some((inner, Shape::One)),
            (Ty::Other, true) => Some((inner, Shape::Option)),
            (Ty::List(elem), opt) if matches!(ty::classify(elem), Ty::Other) => {
                Some((elem, if opt { Shape::OptionList } else { Shape::List }))
            }
            _ => None,
        }
    }
}

/// How a `nested` field holds its embedded documents.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    One,
    Option,
    List,
    OptionList,
}

/// A Rust identifier for a stored name: characters that cannot be in one become `_`, a keyword is raw.
fn member_ident(stored: &str) -> Ident {
    let mut name: String = stored
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) || name == "_" {
        name.insert(0, '_');
    }
    if matches!(name.as_str(), "self" | "Self" | "crate" | "super") {
        name.push('_');
    }
    syn::parse_str::<Ident>(&name)
        .unwrap_or_else(|_| Ident::new_raw(&name, proc_macro2::Span::call_site()))
}
