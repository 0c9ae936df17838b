#!/usr/bin/env bash
# Lints: clippy with warnings denied on every target, and the API docs with rustdoc's warnings
# denied (broken intra-doc links, unclosed HTML, bare URLs …). `make lint`; scripts/test.sh runs
# it beside the tests.
#
# Both work on check-mode (metadata-only) builds of the dependencies, which the tests' real
# builds cannot reuse, so they get a target directory of their own (target/lint): `cargo doc`
# reuses what clippy checked, and the lint lane never waits on the tests' build lock.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}/lint"

cargo clippy --workspace --all-targets --all-features --target-dir "$target_dir" -- -D warnings
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" \
  cargo doc --no-deps --workspace --all-features --target-dir "$target_dir"
