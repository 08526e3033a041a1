//! The public surface of a bound model, read from the library's source: every `pub fn` of every
//! `impl<T: Model> ModelHandle<T>` block. The isolation and deadline tests compare their tables with it,
//! so an operation added without a row in each fails them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The names of the public methods of `ModelHandle<T>`, from every source file of `odm-core`.
pub fn model_handle_methods() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../odm-core/src");
    let mut methods = BTreeSet::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        for block in impl_blocks(&text, "ModelHandle<T> {") {
            for line in block.lines() {
                let line = line.trim_start();
                let rest = line
                    .strip_prefix("pub async fn ")
                    .or_else(|| line.strip_prefix("pub fn "));
                if let Some(rest) = rest {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    methods.insert(name);
                }
            }
        }
    }
    assert!(
        methods.contains("find") && methods.contains("create"),
        "the source scan found no operations in {}: {methods:?}",
        root.display()
    );
    methods
}

/// The methods of `ModelHandle` that send nothing to the server through the library: no I/O, an accessor,
/// or the driver's own collection (whose calls are the driver's). Tables of what operations do on the
/// server (deadlines, spans) need no row for them.
pub const NO_IO: &[&str] = &[
    "validate",
    "prepare",
    "declared_indexes",
    "connection",
    "collection_name",
    "collection",
    "unconfined_collection",
];

/// The operations (methods of `ModelHandle` and builders) that reach the server and are not in
/// `covered`, for a table of operations to check itself against.
pub fn operations_without_a_row<'c>(covered: impl IntoIterator<Item = &'c str>) -> Vec<String> {
    let covered: BTreeSet<&str> = covered.into_iter().chain(NO_IO.iter().copied()).collect();
    let mut surface = model_handle_methods();
    surface.extend(operation_builders());
    surface
        .into_iter()
        .filter(|op| !covered.contains(op.as_str()))
        .collect()
}

/// The names of the operation builders (the `#[must_use]` structs that run when awaited), from every
/// source file of `odm-core`.
pub fn operation_builders() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../odm-core/src");
    let marker = "#[must_use = \"an operation does nothing until it is awaited\"]";
    let mut builders = BTreeSet::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let mut lines = text.lines().map(str::trim);
        while let Some(line) = lines.next() {
            if line != marker {
                continue;
            }
            let next = lines.next().unwrap_or_default();
            if let Some(rest) = next.strip_prefix("pub struct ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                builders.insert(name);
            }
        }
    }
    assert!(
        builders.contains("Find"),
        "the source scan found no builders in {}",
        root.display()
    );
    builders
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The bodies of the `impl ... {header}` blocks of a file, at their top level only (nested items are
/// skipped by counting braces).
fn impl_blocks<'t>(text: &'t str, header: &str) -> Vec<&'t str> {
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(header) {
        let start = from + at;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let is_impl = text[line_start..start].trim_start().starts_with("impl");
        let open = start + header.len() - 1;
        let mut depth = 0usize;
        let mut end = open;
        for (i, c) in text[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        if is_impl {
            // Only the methods at depth one: drop the bodies of the methods themselves.
            let body = &text[open + 1..end];
            blocks.push(body);
        }
        from = end.max(start + header.len());
    }
    blocks
}
