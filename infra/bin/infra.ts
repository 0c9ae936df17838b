#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` (offline: no Docker, no credentials) or `npx cdk deploy -c
 * stage=dev|prod`. Functions are built by cargo-lambda at synth; `SKIP_BUNDLING=1` synthesizes
 * without building them (for tests and machines without cargo-lambda).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stageConfig } from '../lib/stage';
import { TripSagaStack } from '../lib/trip-saga-stack';

// The CLI overwrites `aws:cdk:bundling-stacks` in the context it passes; postCliContext wins.
const app = new App(
  process.env.SKIP_BUNDLING === '1'
    ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } }
    : {},
);
const stage = stageConfig(app.node.tryGetContext('stage') ?? 'dev');
new TripSagaStack(app, `TripSaga-${stage.name}`, {
  stage,
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
  description: `Trip booking saga (${stage.name}): single table, saga functions, state machine`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
