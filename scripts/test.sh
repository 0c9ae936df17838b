#!/usr/bin/env bash
# The whole test suite, as CI runs it. Run `make test` (which installs the tools first).
#
# Budget: under 8 minutes from a fresh clone on a 2-core machine (docs/benchmarks.md, "Test
# suite"). The lints (scripts/lint.sh: clippy and rustdoc, warnings denied) run in a second
# lane beside the tests, at a lower CPU priority: they need check-mode builds of every
# dependency, which the tests' build cannot share, and the tests leave a core idle for much of
# their run while they wait on moto, node and subprocesses. The lint lane's output is printed
# once the tests are done; any failure in either lane fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# insta must never write snapshots in CI: a changed snapshot is a failure to review.
export INSTA_UPDATE=no
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
# CI builds from an empty target/ once: incremental compilation would only add the cost of
# writing its caches. Local runs keep it for the next edit.
if [[ "${CI:-}" == true ]]; then
  export CARGO_INCREMENTAL=0
fi

step() { printf '\n==> %s\n' "$*"; }

step "dependencies: licences, bans, sources, advisories (cargo-deny, deny.toml)"
deny_status=0
scripts/deny.sh || deny_status=$?
# 3: everything checked passed, but advisories could not be checked (said above, and again at
# the end).
if (( deny_status != 0 && deny_status != 3 )); then
  exit "$deny_status"
fi

step "format"
cargo fmt --all --check

# The lint lane: its own process group, so that an early exit stops all of it.
lint_log=$(mktemp)
setsid nice -n 10 scripts/lint.sh >"$lint_log" 2>&1 &
lint_pid=$!
trap 'kill -- "-$lint_pid" 2>/dev/null || true; rm -f "$lint_log"' EXIT

step "build the tests"
cargo test --workspace --all-features --no-run

# `--bin` without `-p` resolves features over the whole workspace, as the build above did, so
# this reuses its saga-dsl binary instead of building saga-dsl's dependencies a second time.
step "generated/ is fresh"
cargo run -q --bin saga-dsl --all-features -- --check

step "tests"
tests_status=0
cargo test --workspace --all-features || tests_status=$?

step "lints: clippy and rustdoc, warnings denied (ran beside the tests)"
lint_status=0
wait "$lint_pid" || lint_status=$?
cat "$lint_log"

if (( deny_status == 3 )); then
  printf '\nNOTE: RustSec advisories were NOT checked (no advisory database here; see above).\n'
fi
if (( tests_status != 0 )); then
  echo "FAILED: tests" >&2
fi
if (( lint_status != 0 )); then
  echo "FAILED: lints (clippy or rustdoc)" >&2
fi
if (( tests_status != 0 || lint_status != 0 )); then
  exit 1
fi
