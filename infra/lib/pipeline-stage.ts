/**
 * One deployment of the trip saga by the delivery pipeline: the same `TripSagaStack` that
 * `make deploy` deploys, inside a CDK `Stage`, and, for a stage that the pipeline tests after
 * deploying, the two roles its post-deploy steps assume.
 *
 * cdk-nag: the app's `Validations` plugin (bin/infra.ts) checks these stacks too. Aspects stop
 * at a stage's boundary (cdk-nag 2 was an aspect), but a validation plugin is handed the whole
 * construct tree (`appConstruct`), stages included; one registered here as well would check the
 * whole app once more and report every finding twice. test/pipeline.test.ts proves that a
 * finding in either stage fails the synthesis.
 */
import { Aws, aws_iam as iam, type CfnElement, CfnOutput, Stack, Stage, type StageProps, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from './stage';
import { TripSagaStack } from './trip-saga-stack';

/** The roles a pipeline step may assume in a stage, by fixed name (the step's policy names it). */
export interface PipelineRoleNames {
  /** Signs the smoke test's requests: execute-api:Invoke on this stage's API, nothing else. */
  readonly smokeTest: string;
  /** Puts the demo catalogue on sale: this stage's table, the writes `trip-local seed` sends. */
  readonly catalogueSeed: string;
}

/** The fixed role names of `stage` (so that a step in another stack can be allowed to assume them). */
export function pipelineRoleNames(stage: StageConfig): PipelineRoleNames {
  return {
    smokeTest: `trip-saga-${stage.name}-pipeline-smoke-test`,
    catalogueSeed: `trip-saga-${stage.name}-pipeline-catalogue-seed`,
  };
}

/** What `trip-local --aws-table <table> seed` sends: DescribeTable first, then conditional puts. */
export const CATALOGUE_SEED_ACTIONS: readonly string[] = ['dynamodb:DescribeTable', 'dynamodb:PutItem'];

export interface TripSagaStageProps extends StageProps {
  readonly stage: StageConfig;
  /**
   * Create the roles of the post-deploy steps, trusted only by roles of the stack named
   * `trustedStackName` (the pipeline's: CloudFormation names its roles `<stack>-…`).
   */
  readonly pipelineAccess?: { readonly trustedStackName: string };
}

export class TripSagaStage extends Stage {
  readonly stack: TripSagaStack;
  /** Present with `pipelineAccess`. */
  readonly access?: PipelineTestAccess;

  constructor(scope: Construct, id: string, props: TripSagaStageProps) {
    super(scope, id, props);
    const { stage } = props;
    this.stack = new TripSagaStack(this, 'TripSaga', {
      stage,
      description: `Trip booking saga (${stage.name}, deployed by the delivery pipeline): single table, saga functions, state machine, API, trip search`,
    });
    if (props.pipelineAccess !== undefined) {
      this.access = new PipelineTestAccess(this.stack, 'PipelineTestAccess', {
        stack: this.stack,
        names: pipelineRoleNames(stage),
        trustedStackName: props.pipelineAccess.trustedStackName,
      });
    }
  }
}

export interface PipelineTestAccessProps {
  readonly stack: TripSagaStack;
  readonly names: PipelineRoleNames;
  readonly trustedStackName: string;
}

/** The two roles of the post-deploy steps, and the outputs that tell the steps their ARNs. */
export class PipelineTestAccess extends Construct {
  readonly smokeTestRole: iam.Role;
  readonly catalogueSeedRole: iam.Role;
  readonly outputs: { readonly smokeTestRoleArn: CfnOutput; readonly catalogueSeedRoleArn: CfnOutput };

  constructor(scope: Construct, id: string, props: PipelineTestAccessProps) {
    super(scope, id);
    const { stack, names } = props;
    const { partition, account } = Stack.of(this);
    // The account may assume these roles only from a role of the pipeline's stack, and such a
    // role only when its own policy names them (the pipeline's steps, and nothing else, do).
    const trusted = () =>
      new iam.AccountPrincipal(account).withConditions({
        ArnLike: { 'aws:PrincipalArn': `arn:${partition}:iam::${account}:role/${props.trustedStackName}-*` },
      });

    this.smokeTestRole = new iam.Role(this, 'SmokeTestRole', {
      roleName: names.smokeTest,
      assumedBy: trusted(),
      description: `The delivery pipeline's smoke test: signed requests to the ${stack.node.id} API of this stage`,
    });
    // The ARNs from pseudo parameters rather than the stack's account and region, so that the
    // acknowledgement below names the same finding whatever environment the app is synthesized
    // in (offline, or in the pipeline's own account).
    const api = stack.api.api;
    const onThisApi = (method: string, route: string) =>
      `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${api.restApiId}/${stack.stage.name}/${method}${route}`;
    this.smokeTestRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [onThisApi('POST', '/trips'), onThisApi('GET', '/trips/*')],
      }),
    );
    const apiId = Stack.of(api).getLogicalId(api.node.defaultChild as CfnElement);
    Validations.of(this.smokeTestRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${stack.stage.name}/GET/trips/*]`,
      reason:
        'GET /trips/{id} for any trip id: the smoke test reads the trips it books, whose ids it chooses at run time; only this API, this stage, this method and this path.',
    });

    this.catalogueSeedRole = new iam.Role(this, 'CatalogueSeedRole', {
      roleName: names.catalogueSeed,
      assumedBy: trusted(),
      description: "The delivery pipeline's catalogue seed: trip-local seed on this stage's table",
    });
    this.catalogueSeedRole.addToPolicy(
      new iam.PolicyStatement({ actions: [...CATALOGUE_SEED_ACTIONS], resources: [stack.table.table.tableArn] }),
    );

    this.outputs = {
      smokeTestRoleArn: new CfnOutput(this, 'SmokeTestRoleArn', {
        description: 'The role the pipeline\'s smoke test assumes',
        value: this.smokeTestRole.roleArn,
      }),
      catalogueSeedRoleArn: new CfnOutput(this, 'CatalogueSeedRoleArn', {
        description: 'The role the pipeline\'s catalogue seed assumes',
        value: this.catalogueSeedRole.roleArn,
      }),
    };
  }
}
