//! Compile errors of `saga!`, one file per mistake under `tests/ui/<category>/`, with the exact
//! message and the DSL token it points at. Re-bless with `TRYBUILD=overwrite` after reviewing.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
}
