/**
 * How a new version of a function called outside the saga (`GET /trips/{id}`, the search query,
 * the stream consumer) reaches its callers: CodeDeploy moves the function's `live` alias, 10% of
 * the calls for 5 minutes, then all of them, and moves it back if the alias's errors or
 * throttles alarm meanwhile. The saga's functions are not released this way: their versions are
 * pinned in the state machine's version, which has its own canary (`saga-state-machine.ts`).
 */
import {
  aws_cloudwatch as cloudwatch,
  aws_codedeploy as codedeploy,
  type aws_lambda as lambda,
  Duration,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * CodeDeploy's canary: 10% of the alias's calls go to the new version for 5 minutes. Five minutes
 * of 10% of the traffic is what the alarms below need to see a crash or a throttle, and short
 * enough that a pipeline run is not held up for long.
 */
export const FUNCTION_DEPLOYMENT = codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES;

/** Every function release of a stack: one CodeDeploy application holds their deployment groups. */
export class FunctionReleases extends Construct {
  readonly application: codedeploy.LambdaApplication;
  readonly groups: CanaryRelease[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.application = new codedeploy.LambdaApplication(this, 'Application');
  }

  /** Releases `alias` (the `live` alias of `name`) by canary. */
  add(name: string, alias: lambda.Alias): CanaryRelease {
    const release = new CanaryRelease(this, name, { name, alias, application: this.application });
    this.groups.push(release);
    return release;
  }
}

export interface CanaryReleaseProps {
  /** The function's name in the app (for the alarms' descriptions). */
  readonly name: string;
  readonly alias: lambda.Alias;
  readonly application: codedeploy.ILambdaApplication;
}

/** One alias's deployment group and the two alarms that roll it back. */
export class CanaryRelease extends Construct {
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: CanaryReleaseProps) {
    super(scope, id);
    const { name, alias } = props;
    // The alias's own metrics (dimension `Resource` = `function:live`): during the canary they
    // count the calls of both versions, so one failure of either rolls back. A minute's period,
    // so that the alarm has five chances to fire before CodeDeploy shifts the rest.
    const period = Duration.minutes(1);
    const alarm = (metric: cloudwatch.Metric, what: string, alarmId: string) =>
      metric.createAlarm(this, alarmId, {
        alarmDescription: `${name} (alias ${alias.aliasName}): ${what}; during a release, CodeDeploy moves the alias back to the previous version`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No calls, no datapoint: an idle alias is a healthy one.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [
      // Errors are crashes and timeouts: the handlers answer a 404 or report a failed record
      // without failing the invocation, so one error is already abnormal.
      alarm(alias.metricErrors({ period, statistic: 'Sum' }), 'a call failed (a crash or a timeout)', 'Errors'),
      alarm(alias.metricThrottles({ period, statistic: 'Sum' }), 'a call was throttled', 'Throttles'),
    ];
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application: props.application,
      alias,
      deploymentConfig: FUNCTION_DEPLOYMENT,
      alarms: [...this.alarms],
      autoRollback: { failedDeployment: true, deploymentInAlarm: true, stoppedDeployment: true },
    });
    Validations.of(this.deploymentGroup).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        "CodeDeploy's service role for Lambda canaries: AWS's managed policy is the documented minimum (moving aliases, reading the alarms, invoking hooks), kept up to date by AWS.",
    });
  }
}
