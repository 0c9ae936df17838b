#!/usr/bin/env node
/**
 * The CDK app. By default one stage's stack: `npx cdk synth` (offline: no Docker, no
 * credentials) or `npx cdk deploy -c stage=dev|prod` (`make deploy`). With `-c pipeline=true`
 * the delivery pipeline that deploys dev and prod itself (lib/pipeline-config.ts says what else
 * it takes). Functions are built by cargo-lambda at synth. Without cargo-lambda, or with
 * `SKIP_BUNDLING=1`, the app synthesizes without building them: everything but the functions'
 * code is real, which is what the checks need; never deploy that synthesis.
 */
import { spawnSync } from 'node:child_process';
import { App } from 'aws-cdk-lib';
import { addStacks } from '../lib/app';
import { PREBUILT_LAMBDAS_CONTEXT } from '../lib/table-function';

const cargoLambda = spawnSync('cargo', ['lambda', '--version'], { stdio: 'ignore' }).status === 0;
const skipBundling = process.env.SKIP_BUNDLING === '1' || !cargoLambda;
// The CLI overwrites `aws:cdk:bundling-stacks` in the context it passes; postCliContext wins.
const app = new App(skipBundling ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {});
if (skipBundling && process.env.SKIP_BUNDLING !== '1' && app.node.tryGetContext(PREBUILT_LAMBDAS_CONTEXT) === undefined) {
  // Otherwise cargo-lambda-cdk would fall back to building in Docker.
  process.stderr.write(
    'cargo-lambda is not installed: synthesizing without building the functions (their code is a placeholder; do not deploy this, `make deploy` builds them)\n',
  );
}
addStacks(app, {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});
