//! insta snapshots of what each fixture saga generates: the ASL and the expanded Rust
//! (pretty-printed). Review changes with `cargo insta review`.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::{FIXTURES, compile_fixture};

#[test]
fn asl() {
    for stem in FIXTURES {
        let compiled = compile_fixture(stem);
        insta::assert_snapshot!(format!("{stem}.asl.json"), compiled.artifacts.asl);
    }
}

#[test]
fn mermaid_and_manifest() {
    for stem in FIXTURES {
        let compiled = compile_fixture(stem);
        insta::assert_snapshot!(format!("{stem}.mmd"), compiled.artifacts.mermaid);
        insta::assert_snapshot!(
            format!("{stem}.functions.json"),
            compiled.artifacts.manifest
        );
    }
}

#[test]
fn expanded_rust() {
    for stem in FIXTURES {
        let compiled = compile_fixture(stem);
        let file: syn::File = syn::parse2(compiled.expand()).expect("the expansion is valid Rust");
        insta::assert_snapshot!(format!("{stem}.expanded.rs"), prettyplease::unparse(&file));
    }
}
