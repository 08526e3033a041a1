//! Generated code that needs no span of the input, written as text and handed to the compiler in one
//! piece.
//!
//! Building tokens one at a time costs a call into the compiler per token, in a proc macro that usually
//! runs unoptimised; a model's tables (its fields' schemas, rules and indexes), its decoder's keys and
//! field list, and its typed paths' constructors and `Debug` impl are hundreds of tokens that carry no
//! diagnostic, so they are written as text and lexed once per piece. Their tokens take the call site's
//! span, as `quote!`'s do. Code that names the input's types or paths (a field's type, a serde default's
//! function), or that reports an error at a field or an attribute, is still built with `quote!` and
//! `quote_spanned!`, so its errors point where they did.

use proc_macro2::TokenStream;

/// Text of generated code.
#[derive(Default)]
pub(super) struct Code(String);

impl Code {
    /// Appends `s`.
    pub(super) fn push_str(&mut self, s: &str) {
        self.0.push_str(s);
    }

    /// The code as tokens (see [`tokens`]).
    pub(super) fn into_tokens(self) -> TokenStream {
        tokens(&self.0)
    }
}

/// `text` as tokens, lexed by the compiler (`proc_macro2`'s own `parse` lexes the text once more first,
/// in the unoptimised proc macro, to report a lexing error without the compiler: several times the cost
/// of building the tokens one by one). Outside a proc macro (unit tests), `proc_macro2`'s. Nothing is
/// lexed for no text: each call has a fixed cost.
pub(super) fn tokens(text: &str) -> TokenStream {
    if text.is_empty() {
        return TokenStream::new();
    }
    let lexed = if proc_macro::is_available() {
        text.parse::<proc_macro::TokenStream>()
            .map(TokenStream::from)
            .map_err(|e| e.to_string())
    } else {
        text.parse::<TokenStream>().map_err(|e| e.to_string())
    };
    lexed.unwrap_or_else(|e| panic!("generated code that does not lex ({e}): {text}"))
}

impl std::fmt::Write for Code {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.push_str(s);
        Ok(())
    }
}

/// Generated code mostly written as text, with pieces that must stay tokens (they carry a span of the
/// input): the text between two such pieces is lexed in one call, so it must be balanced (every
/// bracket, brace and parenthesis it opens, it closes).
#[derive(Default)]
pub(super) struct Mixed {
    done: TokenStream,
    text: Code,
}

impl Mixed {
    /// Appends `s`, as text.
    pub(super) fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Appends tokens, after the text so far.
    pub(super) fn push_tokens(&mut self, tokens: TokenStream) {
        self.flush();
        self.done.extend(tokens);
    }

    /// Appends `code` as text when there is some, and `tokens()` otherwise: a field's type is text when
    /// its text reads back as the same type.
    pub(super) fn push_text_or(
        &mut self,
        code: Option<&str>,
        tokens: impl FnOnce() -> TokenStream,
    ) {
        match code {
            Some(code) => self.text.push_str(code),
            None => self.push_tokens(tokens()),
        }
    }

    fn flush(&mut self) {
        let text = std::mem::take(&mut self.text);
        self.done.extend(text.into_tokens());
    }

    /// All of it, as tokens.
    pub(super) fn into_tokens(mut self) -> TokenStream {
        self.flush();
        self.done
    }
}

impl std::fmt::Write for Mixed {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.text.push_str(s);
        Ok(())
    }
}

/// A string literal of `s`, escaped as Rust reads it back.
pub(super) fn str_lit(s: &str) -> String {
    format!("{s:?}")
}

/// A byte-string literal of `s`'s UTF-8 bytes.
pub(super) fn byte_str_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("b\"");
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// An `f64` literal that reads back as `v`.
pub(super) fn f64_lit(v: f64) -> String {
    if v < 0.0 {
        format!("-{:?}f64", -v)
    } else {
        format!("{v:?}f64")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_back() {
        for s in [
            "plain",
            "quote \" and \\ backslash",
            "tab\tnew\nline",
            "é ü 漢字",
            "\u{0}\u{7f}",
        ] {
            let lit: syn::LitStr = syn::parse_str(&str_lit(s)).unwrap();
            assert_eq!(lit.value(), s);
            let lit: syn::LitByteStr = syn::parse_str(&byte_str_lit(s)).unwrap();
            assert_eq!(lit.value(), s.as_bytes());
        }
        for v in [0.0, 150.0, -2.5, 1e300, 0.1] {
            let e: syn::Expr = syn::parse_str(&f64_lit(v)).unwrap();
            let text = quote::quote!(#e).to_string().replace(' ', "");
            let parsed: f64 = text.trim_end_matches("f64").parse().unwrap();
            assert_eq!(parsed, v);
        }
    }
}
