//! Compile errors of `saga!`, one file per mistake under `tests/ui/<category>/`, with the exact
//! message and the DSL token it points at. Re-bless with `TRYBUILD=overwrite` after reviewing.

use std::process::Command;

/// The flags trybuild gives rustc (trybuild 1.0.122, `src/rustflags.rs` and `build_test`), in one
/// list for both of its builds.
///
/// trybuild first checks the UI project's dependencies, then checks each case with one flag more
/// (`--diagnostic-width=140`). Flags are part of cargo's fingerprint, so every dependency
/// (lambda_runtime's stack, syn for the macro) was checked a second time: about a third of this
/// test's CPU on a cold run (docs/benchmarks.md). `CARGO_ENCODED_RUSTFLAGS` outranks the
/// `--config build.rustflags` trybuild passes, so with it both builds share one fingerprint. If a
/// trybuild upgrade changes its flags, the `.stderr` files show it.
const TRYBUILD_RUSTFLAGS: [&str; 6] = [
    "--cfg",
    "trybuild",
    "--verbose",
    "-A",
    "dead_code",
    "--diagnostic-width=140",
];

const RUSTFLAGS_VAR: &str = "CARGO_ENCODED_RUSTFLAGS";

#[test]
fn ui() {
    let flags = TRYBUILD_RUSTFLAGS.join("\x1f");
    if std::env::var_os(RUSTFLAGS_VAR).is_some_and(|set| set == flags.as_str()) {
        let t = trybuild::TestCases::new();
        t.compile_fail("ui/*/*.rs");
        return;
    }
    // Setting the variable in this process would need `unsafe` (forbidden here): run this test
    // again in a child that has it. Its output goes straight to the terminal.
    let status = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["ui", "--exact", "--nocapture", "--test-threads=1"])
        .env(RUSTFLAGS_VAR, flags)
        .status()
        .expect("the test binary runs again");
    assert!(status.success(), "the UI cases failed (above)");
}
