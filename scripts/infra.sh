#!/usr/bin/env bash
# The CDK app's checks, offline (no Docker, no AWS credentials): type check, the jest suite
# (assertions on the synthesized stack, cdk-nag, asl-validator on the substituted definition),
# `cdk synth` of both stages, of prod with every observability switch on (Datadog with a made-up
# API key secret and Forwarder, the CloudWatch dashboard) and of the delivery pipeline (with a
# made-up connection: nothing is contacted) with cdk-nag's AwsSolutions pack (a finding fails the
# synth), and cfn-lint on every template, the pipeline's stages included. Needs scripts/setup.sh
# (infra/node_modules, the venv's cfn-lint, tools/asl-validator); scripts/test.sh runs it, `make
# infra` alone.
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

# Syntactically valid ARNs of nothing: the synthesis reads them, never calls them.
step "infra: cdk synth -c stage=prod -c datadog=true -c cloudwatchDashboard=true (cdk-nag AwsSolutions)"
npx --no-install cdk synth --quiet --no-notices -c stage=prod -c datadog=true \
  -c datadogApiKeySecretArn=arn:aws:secretsmanager:us-east-1:111111111111:secret:datadog-api-key-AbCdEf \
  -c datadogForwarderArn=arn:aws:lambda:us-east-1:111111111111:function:datadog-forwarder \
  -c cloudwatchDashboard=true --output "$out/observability" >/dev/null

step "infra: cdk synth -c pipeline=true (cdk-nag AwsSolutions, every stage)"
npx --no-install cdk synth --quiet --no-notices -c pipeline=true \
  -c connectionArn=arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000 \
  -c repo=example/trip-saga -c branch=main --output "$out/pipeline" >/dev/null

step "infra: cfn-lint (W3005, the redundant DependsOn CDK emits, ignored)"
# The stages' templates are in nested assemblies (assembly-<pipeline>-<stage>/).
shopt -s nullglob
templates=("$out"/*/*.template.json "$out"/pipeline/assembly-*/*.template.json)
if (( ${#templates[@]} != 6 )); then
  echo "expected 6 templates (dev, prod, prod with observability, the pipeline, its dev and prod stages), found ${#templates[@]}: ${templates[*]}" >&2
  exit 1
fi
../.venv/bin/cfn-lint --ignore-checks W3005 -- "${templates[@]}"
echo "cfn-lint: ${#templates[@]} templates, no findings"
