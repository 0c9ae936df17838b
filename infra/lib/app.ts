/**
 * What the CDK app holds, decided by its context: the delivery pipeline with `-c pipeline=true`
 * (lib/pipeline-config.ts), otherwise the plain stack of one stage (`-c stage=dev|prod`, the
 * default dev), as `make deploy` deploys it. Either way each stage's stack reads the
 * observability switches (Datadog, a CloudWatch dashboard: lib/observability-config.ts), off by
 * default. Then cdk-nag on all of it. bin/infra.ts and the tests build the app with this one
 * function.
 */
import { type App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TripSagaPipelineStack } from './pipeline';
import { pipelineSettings, wantsPipeline } from './pipeline-config';
import { stageConfig } from './stage';
import { TripSagaStack } from './trip-saga-stack';

/** The pipeline stack's id (and name). */
export const PIPELINE_STACK = 'TripSagaPipeline';

export function addStacks(app: App, env: Environment = {}): TripSagaPipelineStack | TripSagaStack {
  let stack: TripSagaPipelineStack | TripSagaStack;
  if (wantsPipeline(app.node)) {
    stack = new TripSagaPipelineStack(app, PIPELINE_STACK, {
      settings: pipelineSettings(app.node),
      env,
      description: 'Trip booking saga: the delivery pipeline (GitHub → test and build on ARM → dev → smoke test → approval → prod)',
    });
  } else {
    const stage = stageConfig(app.node.tryGetContext('stage') ?? 'dev');
    stack = new TripSagaStack(app, `TripSaga-${stage.name}`, {
      stage,
      env,
      description: `Trip booking saga (${stage.name}): single table, saga functions, state machine, API, trip search`,
    });
  }
  addNagChecks(app);
  return stack;
}

/**
 * cdk-nag's AwsSolutions pack on every stack of `app`, the pipeline's stages included: a
 * validation plugin is handed the whole construct tree (unlike an aspect, which stops at a
 * stage's boundary), so one registration on the app covers them. A finding fails the synthesis.
 */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
