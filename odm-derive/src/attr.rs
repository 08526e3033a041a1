//! Parses `#[model(...)]` and `#[field(...)]`; `serde` parses the `#[serde(...)]` keys that change what is
//! stored.
//!
//! Every problem is recorded in the [`Ctxt`] and parsing goes on, so one pass reports them all.

use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Path, Token, UnOp};

use crate::ctxt::Ctxt;
use crate::symbol::*;

pub mod serde;
pub mod settings;

/// The attributes of the struct.
#[derive(Default)]
pub struct Container {
    pub collection: Option<LitStr>,
    pub timestamps: Option<Timestamps>,
    /// The `version` key, for spans.
    pub version: Option<Path>,
    /// `#[model(hooks)]`: the model implements `Hooks`; the key, for spans.
    pub hooks: Option<Path>,
    /// `#[model(soft_delete)]`: deletes stamp `deleted_at`; the key, for spans.
    pub soft_delete: Option<Path>,
    pub validate: Option<Path>,
    pub indexes: Vec<CompoundIndex>,
    /// `read`, `read_concern`, `write_concern(..)`, `collation(..)`, `max_time`.
    pub settings: settings::Settings,
    /// `shard_key(..)`: the key, for spans, and the stored names.
    pub shard_key: Option<(Path, Vec<LitStr>)>,
    /// Every `#[model]` key seen, for the `Embedded` derive to reject model-only ones.
    pub keys: Vec<Path>,
}

pub struct Timestamps {
    pub key: Path,
    pub created_at: String,
    pub updated_at: String,
}

pub struct CompoundIndex {
    pub key: Path,
    pub fields: Vec<LitStr>,
    pub unique: bool,
    pub sparse: bool,
    pub name: Option<LitStr>,
    pub partial: Option<LitStr>,
}

/// The attributes of one field.
#[derive(Default)]
pub struct Field {
    pub rules: Vec<Rule>,
    pub nested: Option<Path>,
    pub index: FieldIndex,
    /// `default = expr`: the key, for spans, and the expression.
    pub default: Option<(Path, Expr)>,
    /// `immutable`: the key, for spans.
    pub immutable: Option<Path>,
    /// `hidden`: the key, for spans.
    pub hidden: Option<Path>,
    /// The first `#[field]` attribute, for errors about the field as a whole.
    pub field_attr: Option<syn::Attribute>,
}

#[derive(Default)]
pub struct FieldIndex {
    /// `index` or `index = "asc"|"desc"`, with `true` for descending.
    pub index: Option<(Path, bool)>,
    pub unique: Option<Path>,
    pub sparse: Option<Path>,
    pub ttl: Option<(Path, u64)>,
    pub text: Option<Path>,
}

impl FieldIndex {
    pub fn any(&self) -> bool {
        self.index.is_some()
            || self.unique.is_some()
            || self.sparse.is_some()
            || self.ttl.is_some()
            || self.text.is_some()
    }

    pub fn first_key(&self) -> Option<&Path> {
        self.index
            .as_ref()
            .map(|(p, _)| p)
            .or(self.unique.as_ref())
            .or(self.sparse.as_ref())
            .or(self.ttl.as_ref().map(|(p, _)| p))
            .or(self.text.as_ref())
    }
}

pub struct Rule {
    /// The key as written (`range`, `email`, ...), where errors about the rule point.
    pub key: Path,
    pub kind: RuleKind,
}

pub enum RuleKind {
    Required,
    Range {
        min: Option<Num>,
        max: Option<Num>,
    },
    Length {
        min: Option<usize>,
        max: Option<usize>,
    },
    Regex(LitStr),
    OneOf(Vec<Expr>),
    Email,
    Custom(Path),
}

/// A number as written, and its value.
#[derive(Clone)]
pub struct Num {
    pub value: f64,
    pub text: String,
}

/// Remembers which keys were seen in one attribute list, to report duplicates.
struct Seen(Vec<String>);

impl Seen {
    fn first(&mut self, cx: &Ctxt, kind: &str, path: &Path) -> bool {
        let key = path_name(path);
        if self.0.contains(&key) {
            cx.error_spanned_by(path, format!("duplicate {kind} attribute `{key}`"));
            false
        } else {
            self.0.push(key);
            true
        }
    }
}

pub fn path_name(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The expression without the invisible groups macro_rules! puts around a `$x:literal`.
pub(crate) fn ungroup(expr: Expr) -> Expr {
    match expr {
        Expr::Group(g) => ungroup(*g.expr),
        other => other,
    }
}

/// Consumes the value of a key the parser does not know, so parsing can go on after it.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

/// A key that takes no value: `email`, not `email = true`.
fn no_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>, kind: &str) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        let key = path_name(&meta.path);
        cx.error_spanned_by(
            &meta.path,
            format!("{kind} attribute `{key}` takes no value: write `{key}` alone"),
        );
        skip_value(meta)?;
    }
    Ok(())
}

/// `key = "string"`.
fn string_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    let key = path_name(&meta.path);
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` needs a value: `{key} = {example}`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    match ungroup(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(Some(s)),
        other => {
            cx.error_spanned_by(
                other,
                format!("`{key}` expects a string literal: `{key} = {example}`"),
            );
            Ok(None)
        }
    }
}

/// `key = path::to::item` (or a string holding the path).
fn path_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Path>> {
    let key = path_name(&meta.path);
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` needs a function: `{key} = path::to::function`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    match ungroup(expr) {
        Expr::Path(p) if p.qself.is_none() => Ok(Some(p.path)),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match s.parse::<Path>() {
            Ok(p) => Ok(Some(p)),
            Err(_) => {
                cx.error_spanned_by(s, format!("`{key}` expects the path of a function"));
                Ok(None)
            }
        },
        other => {
            cx.error_spanned_by(
                other,
                format!("`{key}` expects the path of a function: `{key} = path::to::function`"),
            );
            Ok(None)
        }
    }
}

/// A number literal, possibly negative.
pub fn number(expr: &Expr) -> Option<Num> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => Some(Num {
            value: i.base10_parse::<f64>().ok()?,
            text: i.base10_digits().to_owned(),
        }),
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => Some(Num {
            value: f.base10_parse::<f64>().ok()?,
            text: f.base10_digits().to_owned(),
        }),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => {
            let n = number(expr)?;
            Some(Num {
                value: -n.value,
                text: format!("-{}", n.text),
            })
        }
        Expr::Group(g) => number(&g.expr),
        Expr::Paren(p) => number(&p.expr),
        _ => None,
    }
}

/// One bound of `range` or `length`: the expression, for spans, and its value.
type Bound = Option<(Expr, Num)>;

/// `(min = .., max = ..)` of `range` and `length`.
fn bounds(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<(Bound, Bound)> {
    let key = path_name(&meta.path);
    let mut min = None;
    let mut max = None;
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` needs bounds: `{key}(min = 1, max = 10)`"),
        );
        skip_value(meta)?;
        return Ok((None, None));
    }
    let fork = meta.input.fork();
    let content;
    syn::parenthesized!(content in fork);
    if content.is_empty() {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` needs `min`, `max` or both: `{key}(min = 1, max = 10)`"),
        );
        return skip_value(meta).map(|()| (None, None));
    }
    let mut seen = Seen(Vec::new());
    meta.parse_nested_meta(|inner| {
        let slot = if inner.path == MIN {
            &mut min
        } else if inner.path == MAX {
            &mut max
        } else {
            cx.unknown_key(&inner.path, &key, &path_name(&inner.path), BOUND_KEYS);
            return skip_value(&inner);
        };
        if !seen.first(cx, &key, &inner.path) {
            return skip_value(&inner);
        }
        let bound = path_name(&inner.path);
        if !inner.input.peek(Token![=]) {
            cx.error_spanned_by(
                &inner.path,
                format!("`{bound}` needs a number: `{bound} = 10`"),
            );
            return skip_value(&inner);
        }
        let expr: Expr = inner.value()?.parse()?;
        match number(&expr) {
            Some(n) => *slot = Some((expr, n)),
            None => cx.error_spanned_by(
                &expr,
                format!("`{key}` expects a number literal for `{bound}`"),
            ),
        }
        Ok(())
    })?;
    Ok((min, max))
}

impl Container {
    pub fn from_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut out = Container::default();
        let mut seen = Seen(Vec::new());
        for attr in attrs {
            if attr.path() == MODEL {
                if let Err(e) = attr.parse_nested_meta(|meta| out.model_key(cx, &mut seen, meta)) {
                    cx.syn_error(e);
                }
            }
        }
        out
    }

    fn model_key(
        &mut self,
        cx: &Ctxt,
        seen: &mut Seen,
        meta: ParseNestedMeta<'_>,
    ) -> syn::Result<()> {
        let name = Key::of(&meta.path);
        let known = MODEL_KEYS.iter().any(|k| name == *k);
        if !known {
            cx.unknown_key(&meta.path, "model", &path_name(&meta.path), MODEL_KEYS);
            return skip_value(&meta);
        }
        if name != INDEX && !seen.first(cx, "model", &meta.path) {
            return skip_value(&meta);
        }
        self.keys.push(meta.path.clone());
        if name == COLLECTION {
            self.collection = string_value(cx, &meta, "\"users\"")?;
        } else if name == TIMESTAMPS {
            let mut ts = Timestamps {
                key: meta.path.clone(),
                created_at: CREATED_AT.0.to_owned(),
                updated_at: UPDATED_AT.0.to_owned(),
            };
            if meta.input.peek(syn::token::Paren) {
                meta.parse_nested_meta(|inner| {
                    if inner.path == CREATED_AT {
                        if let Some(s) = string_value(cx, &inner, "\"createdAt\"")? {
                            ts.created_at = s.value();
                        }
                    } else if inner.path == UPDATED_AT {
                        if let Some(s) = string_value(cx, &inner, "\"updatedAt\"")? {
                            ts.updated_at = s.value();
                        }
                    } else {
                        cx.unknown_key(
                            &inner.path,
                            "timestamps",
                            &path_name(&inner.path),
                            TIMESTAMPS_KEYS,
                        );
                        skip_value(&inner)?;
                    }
                    Ok(())
                })?;
            } else {
                no_value(cx, &meta, "model")?;
            }
            self.timestamps = Some(ts);
        } else if name == VERSION {
            no_value(cx, &meta, "model")?;
            self.version = Some(meta.path.clone());
        } else if name == HOOKS {
            no_value(cx, &meta, "model")?;
            self.hooks = Some(meta.path.clone());
        } else if name == SOFT_DELETE {
            no_value(cx, &meta, "model")?;
            self.soft_delete = Some(meta.path.clone());
        } else if name == VALIDATE {
            self.validate = path_value(cx, &meta)?;
        } else if name == INDEX {
            if let Some(index) = compound_index(cx, &meta)? {
                self.indexes.push(index);
            }
        } else if name == READ {
            self.settings.read =
                settings::one_of(cx, &meta, settings::READ_MODES, "read preference")?;
        } else if name == READ_CONCERN {
            self.settings.read_concern =
                settings::one_of(cx, &meta, settings::READ_CONCERNS, "read concern level")?;
        } else if name == WRITE_CONCERN {
            self.settings.write_concern = settings::write_concern(cx, &meta)?;
        } else if name == COLLATION {
            self.settings.collation = settings::collation(cx, &meta)?;
        } else if name == MAX_TIME {
            self.settings.max_time_ms = settings::duration_ms(cx, &meta)?;
        } else if name == SHARD_KEY {
            let fields = settings::shard_key(cx, &meta)?;
            self.shard_key = Some((meta.path.clone(), fields));
        }
        Ok(())
    }
}

fn compound_index(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<CompoundIndex>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "`index` on the model needs its keys: `index(fields(\"org\", \"-created_at\"))`; a one-field index goes on the field as `#[field(index)]`",
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let mut index = CompoundIndex {
        key: meta.path.clone(),
        fields: Vec::new(),
        unique: false,
        sparse: false,
        name: None,
        partial: None,
    };
    let mut has_fields = false;
    let mut seen = Seen(Vec::new());
    meta.parse_nested_meta(|inner| {
        let known = INDEX_KEYS.iter().any(|k| inner.path == *k);
        if !known {
            cx.unknown_key(&inner.path, "index", &path_name(&inner.path), INDEX_KEYS);
            return skip_value(&inner);
        }
        if !seen.first(cx, "index", &inner.path) {
            return skip_value(&inner);
        }
        if inner.path == FIELDS {
            has_fields = true;
            if !inner.input.peek(syn::token::Paren) {
                cx.error_spanned_by(&inner.path, "`fields` lists the stored names: `fields(\"org\", \"-created_at\")`");
                return skip_value(&inner);
            }
            let content;
            syn::parenthesized!(content in inner.input);
            let list = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
            for expr in list {
                match ungroup(expr) {
                    Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => index.fields.push(s),
                    other => cx.error_spanned_by(
                        other,
                        "index fields are string literals: the stored name, with `-` in front for descending",
                    ),
                }
            }
        } else if inner.path == UNIQUE {
            no_value(cx, &inner, "index")?;
            index.unique = true;
        } else if inner.path == SPARSE {
            no_value(cx, &inner, "index")?;
            index.sparse = true;
        } else if inner.path == NAME {
            index.name = string_value(cx, &inner, "\"org_recent\"")?;
        } else if inner.path == PARTIAL {
            index.partial = string_value(cx, &inner, "r#\"{\"age\": {\"$gt\": 18}}\"#")?;
        }
        Ok(())
    })?;
    if !has_fields {
        cx.error_spanned_by(
            &meta.path,
            "`index` needs `fields(...)`: `index(fields(\"org\", \"-created_at\"))`",
        );
        return Ok(None);
    }
    Ok(Some(index))
}

impl Field {
    pub fn from_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut out = Field::default();
        let mut seen = Seen(Vec::new());
        for attr in attrs {
            if attr.path() == FIELD {
                if out.field_attr.is_none() {
                    out.field_attr = Some(attr.clone());
                }
                if let Err(e) = attr.parse_nested_meta(|meta| out.field_key(cx, &mut seen, meta)) {
                    cx.syn_error(e);
                }
            }
        }
        out
    }

    fn field_key(
        &mut self,
        cx: &Ctxt,
        seen: &mut Seen,
        meta: ParseNestedMeta<'_>,
    ) -> syn::Result<()> {
        let name = Key::of(&meta.path);
        let known = FIELD_KEYS.iter().any(|k| name == *k);
        if !known {
            cx.unknown_key(&meta.path, "field", &path_name(&meta.path), FIELD_KEYS);
            return skip_value(&meta);
        }
        if !seen.first(cx, "field", &meta.path) {
            return skip_value(&meta);
        }
        let key = meta.path.clone();
        let mut rule = |kind| {
            self.rules.push(Rule {
                key: key.clone(),
                kind,
            })
        };
        if name == REQUIRED {
            no_value(cx, &meta, "field")?;
            rule(RuleKind::Required);
        } else if name == EMAIL {
            no_value(cx, &meta, "field")?;
            rule(RuleKind::Email);
        } else if name == RANGE {
            let before = cx.count();
            let (min, max) = bounds(cx, &meta)?;
            if min.is_none() && max.is_none() {
                if cx.count() == before {
                    cx.error_spanned_by(
                        &meta.path,
                        "`range` needs `min`, `max` or both: `range(min = 0, max = 150)`",
                    );
                }
                return Ok(());
            }
            rule(RuleKind::Range {
                min: min.map(|(_, n)| n),
                max: max.map(|(_, n)| n),
            });
        } else if name == LENGTH {
            let before = cx.count();
            let (min, max) = bounds(cx, &meta)?;
            let count = |b: Option<(Expr, Num)>| -> Option<usize> {
                let (expr, n) = b?;
                if n.value < 0.0 || n.value.fract() != 0.0 || n.text.contains(['.', 'e', 'E']) {
                    cx.error_spanned_by(
                        expr,
                        "a `length` bound is a whole number of characters or elements",
                    );
                    return None;
                }
                Some(n.value as usize)
            };
            let (min_n, max_n) = (count(min.clone()), count(max.clone()));
            if min.is_none() && max.is_none() {
                if cx.count() == before {
                    cx.error_spanned_by(
                        &meta.path,
                        "`length` needs `min`, `max` or both: `length(min = 1, max = 64)`",
                    );
                }
                return Ok(());
            }
            rule(RuleKind::Length {
                min: min_n,
                max: max_n,
            });
        } else if name == REGEX {
            if let Some(s) = string_value(cx, &meta, "\"^[a-z]+$\"")? {
                if let Err(e) = check_regex(&s.value()) {
                    cx.error_spanned_by(&s, format!("invalid regex: {}", regex_reason(&e)));
                } else {
                    rule(RuleKind::Regex(s));
                }
            }
        } else if name == ONE_OF {
            if !meta.input.peek(syn::token::Paren) {
                cx.error_spanned_by(
                    &meta.path,
                    "`one_of` lists the allowed values: `one_of(\"admin\", \"user\")`",
                );
                return skip_value(&meta);
            }
            let content;
            syn::parenthesized!(content in meta.input);
            let values = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
            if values.is_empty() {
                cx.error_spanned_by(&meta.path, "`one_of` needs at least one value");
                return Ok(());
            }
            let mut ok = true;
            for v in &values {
                if !is_literal(v) {
                    cx.error_spanned_by(
                        v,
                        "`one_of` values are literals: strings, numbers, `char`s or `bool`s",
                    );
                    ok = false;
                }
            }
            if ok {
                rule(RuleKind::OneOf(values.into_iter().map(ungroup).collect()));
            }
        } else if name == VALIDATE {
            if let Some(p) = path_value(cx, &meta)? {
                rule(RuleKind::Custom(p));
            }
        } else if name == NESTED {
            no_value(cx, &meta, "field")?;
            self.nested = Some(meta.path.clone());
        } else if name == INDEX {
            let mut desc = false;
            if meta.input.peek(Token![=]) {
                if let Some(s) = string_value(cx, &meta, "\"desc\"")? {
                    match s.value().as_str() {
                        "asc" => {}
                        "desc" => desc = true,
                        other => cx.error_spanned_by(&s, format!("unknown index direction `{other}`: write `index` (ascending) or `index = \"desc\"`")),
                    }
                }
            } else {
                no_value(cx, &meta, "field")?;
            }
            self.index.index = Some((meta.path.clone(), desc));
        } else if name == UNIQUE {
            no_value(cx, &meta, "field")?;
            self.index.unique = Some(meta.path.clone());
        } else if name == SPARSE {
            no_value(cx, &meta, "field")?;
            self.index.sparse = Some(meta.path.clone());
        } else if name == TEXT {
            no_value(cx, &meta, "field")?;
            self.index.text = Some(meta.path.clone());
        } else if name == DEFAULT {
            if !meta.input.peek(Token![=]) {
                cx.error_spanned_by(
                    &meta.path,
                    "`default` needs a value: `default = \"member\"`, `default = 0`, or a function `default = path::to::function`",
                );
                return skip_value(&meta);
            }
            let expr: Expr = meta.value()?.parse()?;
            self.default = Some((meta.path.clone(), ungroup(expr)));
        } else if name == HIDDEN {
            no_value(cx, &meta, "field")?;
            self.hidden = Some(meta.path.clone());
        } else if name == IMMUTABLE {
            no_value(cx, &meta, "field")?;
            self.immutable = Some(meta.path.clone());
        } else if name == TTL {
            if let Some(s) = string_value(cx, &meta, "\"30d\"")? {
                match parse_duration(&s.value()) {
                    Some(secs) => self.index.ttl = Some((meta.path.clone(), secs)),
                    None => cx.error_spanned_by(&s, "`ttl` expects a duration: a whole number and a unit, `s`, `m`, `h` or `d`, like \"30d\" or \"12h\""),
                }
            }
        }
        Ok(())
    }
}

fn is_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Group(g) => is_literal(&g.expr),
        Expr::Lit(ExprLit { lit, .. }) => matches!(
            lit,
            Lit::Str(_) | Lit::Int(_) | Lit::Float(_) | Lit::Bool(_) | Lit::Char(_)
        ),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => {
            matches!(
                &**expr,
                Expr::Lit(ExprLit {
                    lit: Lit::Int(_) | Lit::Float(_),
                    ..
                })
            )
        }
        _ => false,
    }
}

/// `"30d"` -> 2592000.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let n: u64 = text[..text.len() - 1].trim().parse().ok()?;
    n.checked_mul(secs)
}

/// Checks a `regex` rule's pattern as `Regex::new` does when the rule first runs, with its message on
/// failure. Parsing finds every syntax error; the pattern is compiled as well only when it could outgrow
/// the regex crate's size limit, since compiling (a Unicode class such as `\d` above all) is slow in
/// the unoptimised build a derive runs as, and would be most of the derive's own time.
fn check_regex(pattern: &str) -> Result<(), String> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    // A unit is a literal character or a class, with repetitions multiplied out. Sixty-four of the
    // largest class (`\w`, `\pL`) stay far below the default size limit of 10 MB.
    if regex_units(&hir) > 64 {
        regex::Regex::new(pattern).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// An upper bound of the literal characters and classes `hir` compiles to, repetitions multiplied out.
fn regex_units(hir: &regex_syntax::hir::Hir) -> u64 {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(lit) => lit.0.len() as u64,
        HirKind::Class(_) => 1,
        HirKind::Repetition(rep) => {
            let times = rep.max.unwrap_or(rep.min.saturating_add(1)).max(1);
            regex_units(&rep.sub).saturating_mul(u64::from(times))
        }
        HirKind::Capture(cap) => regex_units(&cap.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().map(regex_units).fold(0, u64::saturating_add)
        }
    }
}

/// The reason of a regex error, without the pattern and caret lines of its multi-line display.
fn regex_reason(msg: &str) -> String {
    msg.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::to_owned)
        .unwrap_or_else(|| msg.lines().map(str::trim).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::{check_regex, regex_units};

    #[test]
    fn a_bad_pattern_gets_the_message_regex_gives() {
        for pattern in [
            r"(",
            r"[a-",
            r"\p{Nope}",
            r"a{3,1}",
            r"(?<n>a)(?<n>b)",
            r"\8",
        ] {
            let regex = regex::Regex::new(pattern).expect_err(pattern).to_string();
            assert_eq!(check_regex(pattern).expect_err(pattern), regex);
        }
        let huge = r"\w{1000}";
        let regex = regex::Regex::new(huge).expect_err(huge).to_string();
        assert_eq!(check_regex(huge).expect_err(huge), regex);
    }

    #[test]
    fn patterns_left_uncompiled_stay_far_below_the_size_limit() {
        // The largest classes, at the most units `check_regex` leaves uncompiled: within half the
        // default limit of 10 MiB (they take about a third).
        for pattern in [
            r"\w{64}",
            r"[\w\pN\pS\pP\pM]{64}",
            r"\pL{64}",
            r"\W{32}\w{32}",
        ] {
            let hir = regex_syntax::Parser::new().parse(pattern).unwrap();
            assert_eq!(regex_units(&hir), 64, "{pattern}");
            let built = regex::RegexBuilder::new(pattern)
                .size_limit((10 << 20) / 2)
                .build();
            assert!(built.is_ok(), "{pattern}");
        }
    }
}
