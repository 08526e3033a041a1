//! Compile errors: each case under `tests/ui/<topic>/` must fail to compile with the committed message and
//! span. The derive's attribute errors, and typed queries whose field, value, update or sort does not fit
//! the model. Regenerate with `TRYBUILD=overwrite` after an intended change, and read the diff.

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
}
