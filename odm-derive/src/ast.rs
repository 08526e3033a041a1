//! The derive input as borrowed data: the struct, its fields and their parsed attributes, keeping the
//! syntax nodes so every error can point at them.

use syn::{Data, DeriveInput, Fields, Ident, Type};

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
    /// Every named field, stored or not, in declaration order.
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: attr::Field,
    /// The name serde stores the field under.
    pub stored: String,
}

impl<'a> Container<'a> {
    /// Reads the input, or records why it cannot be derived for and returns `None`.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput, derive: Derive) -> Option<Self> {
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
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
            Data::Enum(e) => {
                cx.error_spanned_by(
                    {
                        let (t, i) = (&e.enum_token, &input.ident);
                        quote::quote!(#t #i)
                    },
                    format!(
                        "`#[derive({})]` needs a struct with named fields, not an enum; store an enum as a field of a struct",
                        derive.name()
                    ),
                );
                None
            }
            Data::Union(u) => {
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
        let named = named?;
        let fields = named
            .named
            .iter()
            .map(|f| Field::from_ast(cx, f, attrs.rename_all))
            .collect();
        Some(Container {
            input,
            ident: &input.ident,
            derive,
            attrs,
            fields,
        })
    }

    /// The fields that are stored, in declaration order.
    pub fn stored(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.is_stored())
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
    fn from_ast(cx: &Ctxt, field: &'a syn::Field, rename_all: Option<RenameRule>) -> Self {
        let ident = field.ident.as_ref().expect("named field");
        let attrs = attr::Field::from_attrs(cx, &field.attrs);
        let rust_name = ident.to_string();
        let rust_name = rust_name
            .strip_prefix("r#")
            .unwrap_or(&rust_name)
            .to_owned();
        let stored = match (&attrs.rename, rename_all) {
            (Some(name), _) => name.clone(),
            (None, Some(rule)) => rule.apply(&rust_name),
            (None, None) => rust_name,
        };
        Field {
            ident,
            ty: &field.ty,
            attrs,
            stored,
        }
    }

    pub fn is_stored(&self) -> bool {
        !self.attrs.skip && !self.attrs.flatten
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
