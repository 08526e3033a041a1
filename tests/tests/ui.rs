//! Compile errors: each case under `tests/ui/<topic>/` must fail to compile with the committed message and
//! span. The derive's attribute errors, and typed queries whose field, value, update or sort does not fit
//! the model. Regenerate with `TRYBUILD=overwrite` after an intended change, and read the diff.
//!
//! The cases under `tests/ui/pass/` compile and run as a user's binary does (not as a test), for what
//! depends on that: the generated decoder is left out of a debug build.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for topic in [
        "embedded",
        "fields",
        "enums",
        "indexes",
        "model",
        "multi",
        "query",
        "rules",
        "settings",
        "soft_delete",
        "timestamps",
        "version",
    ] {
        t.compile_fail(format!("tests/ui/{topic}/*.rs"));
    }
    t.pass("tests/ui/pass/*.rs");
}
