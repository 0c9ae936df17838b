#!/usr/bin/env bash
# The CDK app's checks, offline (no Docker, no AWS credentials): type check, the jest suite
# (assertions on the synthesized stack, cdk-nag, asl-validator on the substituted definition),
# `cdk synth` of both stages with cdk-nag's AwsSolutions pack (a finding fails the synth), and
# cfn-lint on every template. Needs scripts/setup.sh (infra/node_modules, the venv's cfn-lint,
# tools/asl-validator); scripts/test.sh runs it, `make infra` alone.
set -euo pipefail
cd "$(dirname "$0")/../infra"
export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=1
# Synthesize without building the Rust binaries: bundling is for deploys (make deploy).
export SKIP_BUNDLING=1

step() { printf '\n--> %s\n' "$*"; }

step "infra: tsc --noEmit"
npx --no-install tsc --noEmit -p .

step "infra: jest"
npx --no-install jest --ci

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for stage in dev prod; do
  step "infra: cdk synth -c stage=$stage (cdk-nag AwsSolutions)"
  npx --no-install cdk synth --quiet --no-notices -c stage="$stage" --output "$out/$stage" >/dev/null
done

step "infra: cfn-lint (W3005, the redundant DependsOn CDK emits, ignored)"
templates=("$out"/*/*.template.json)
../.venv/bin/cfn-lint --ignore-checks W3005 -- "${templates[@]}"
echo "cfn-lint: ${#templates[@]} templates, no findings"
