#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` (offline: no Docker, no credentials) or `npx cdk deploy -c
 * stage=dev|prod` (`make deploy`). Functions are built by cargo-lambda at synth. Without
 * cargo-lambda, or with `SKIP_BUNDLING=1`, the app synthesizes without building them: everything
 * but the functions' code is real, which is what the checks need; never deploy that synthesis.
 */
import { spawnSync } from 'node:child_process';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stageConfig } from '../lib/stage';
import { TripSagaStack } from '../lib/trip-saga-stack';

const skipBundling = process.env.SKIP_BUNDLING === '1'
  || spawnSync('cargo', ['lambda', '--version'], { stdio: 'ignore' }).status !== 0;
if (skipBundling && process.env.SKIP_BUNDLING !== '1') {
  // Otherwise cargo-lambda-cdk would fall back to building in Docker.
  process.stderr.write(
    'cargo-lambda is not installed: synthesizing without building the functions (their code is a placeholder; do not deploy this, `make deploy` builds them)\n',
  );
}
// The CLI overwrites `aws:cdk:bundling-stacks` in the context it passes; postCliContext wins.
const app = new App(
  skipBundling ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {},
);
const stage = stageConfig(app.node.tryGetContext('stage') ?? 'dev');
new TripSagaStack(app, `TripSaga-${stage.name}`, {
  stage,
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
  description: `Trip booking saga (${stage.name}): single table, saga functions, state machine, API, trip search`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
