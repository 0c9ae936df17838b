/**
 * The Datadog dashboard's panels (`observability/datadog-dashboard.json`) as a CloudWatch
 * dashboard, for a user without Datadog (`-c cloudwatchDashboard=true`), from the metrics AWS
 * publishes anyway: executions by outcome, invocations of the compensation and escalation
 * functions (a compensation or an escalation is one invocation), every function's duration, the
 * projector's iterator age and the dead-letter queues' depth. Bookings and payment amounts are the
 * handlers' own metrics, which only Datadog receives.
 *
 * Behind its own switch, off by default, rather than always there: a deployment that does not ask
 * for it stays exactly what it was (the tests hold the default templates to that), and a dashboard
 * is not free (CloudWatch charges $3 a month for each beyond an account's first three, and the
 * pipeline puts dev and prod in one account). It is a view only: the alarms that page someone are
 * deployed either way.
 */
import { aws_cloudwatch as cloudwatch, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { deadLetterQueues, functionService, tableFunctions } from './observability';
import { ITERATOR_AGE_THRESHOLD_MS } from './search';
import type { TripSagaStack } from './trip-saga-stack';

/** Five minutes: the period of the stack's alarms, and fine enough for a day's view. */
const PERIOD = Duration.minutes(5);
const WIDTH = 12;
const HEIGHT = 6;

export class TripSagaDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(stack: TripSagaStack, id: string) {
    super(stack, id);
    // No name: CloudFormation makes one, so that a developer's stack and the pipeline's stage
    // of the same name can share an account.
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...extra });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: [
          `# Trip saga (${stack.stage.name})`,
          'Made by `infra/lib/cloudwatch-dashboard.ts`. A compensation or an escalation is one invocation of its function.',
          'Bookings and payment amounts are the handlers\' own metrics: Datadog only (`infra/observability/`).',
        ].join('\n\n'),
        width: 2 * WIDTH,
        height: 2,
      }),
    );

    for (const [name, { functions, stateMachine }] of stack.sagas) {
      const sum = { period: PERIOD, statistic: 'Sum' };
      const sm = stateMachine.stateMachine;
      const byKind = (kind: string) => functions.functions.filter((f) => f.entry.kind === kind);
      this.dashboard.addWidgets(
        graph(`${name}: executions by outcome`, [
          sm.metricSucceeded({ ...sum, label: 'succeeded' }),
          sm.metricFailed({ ...sum, label: 'failed' }),
          sm.metricTimedOut({ ...sum, label: 'timed out' }),
          sm.metricAborted({ ...sum, label: 'aborted' }),
        ], { stacked: true }),
        graph(
          `${name}: compensations by step`,
          byKind('compensation').map((f) => f.function.metricInvocations({ ...sum, label: f.entry.state })),
          { stacked: true },
        ),
      );
      this.dashboard.addWidgets(
        graph(
          `${name}: escalations (trips handed to an operator)`,
          byKind('escalation').map((f) => f.function.metricInvocations({ ...sum, label: f.entry.state })),
        ),
      );
    }

    const functions = tableFunctions(stack);
    const duration = (statistic: string) =>
      graph(
        `Duration ${statistic} per function (ms)`,
        functions.map((fn) => fn.function.metricDuration({ period: PERIOD, statistic, label: functionService(fn.binary) })),
      );
    this.dashboard.addWidgets(duration('p50'), duration('p99'));

    const consumer = stack.search.consumer;
    this.dashboard.addWidgets(
      graph(
        `${stack.search.consumerName}: iterator age (ms)`,
        [consumer.function.metric('IteratorAge', { period: PERIOD, statistic: 'Maximum', label: functionService(consumer.binary) })],
        { leftAnnotations: [{ value: ITERATOR_AGE_THRESHOLD_MS, label: 'alarm threshold' }] },
      ),
      graph(
        'Dead-letter queues: messages visible',
        deadLetterQueues(stack).map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: queue.node.path }),
        ),
      ),
    );
  }
}
