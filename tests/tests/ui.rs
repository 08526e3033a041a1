//! The derive's compile errors: each case under `tests/ui/` must fail to compile with the committed
//! message and span. Regenerate with `TRYBUILD=overwrite` after an intended change, and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
}
