//! The derive's compile errors: each case under `tests/ui/` must fail to compile with the committed
//! message and span. Regenerate with `TRYBUILD=overwrite` after an intended change, and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    // One level of topic folders: `query/support/` holds a module the query cases include, not a case.
    t.compile_fail("tests/ui/*/*.rs");
}
