//! Compile errors of typed queries: a misspelt field, and a value, update or sort that does not fit the
//! field or the model.

#[test]
fn typed_query_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/query/*.rs");
}
