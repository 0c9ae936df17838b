/**
 * The names the stacks, the Datadog dashboard and monitors (`observability/`) and the Rust
 * handlers agree on: the tags that find this app's resources, each function's service name, the
 * custom metrics the handlers send, and the AWS integration metrics the panels read. Both the
 * instrumentation (`datadog.ts`) and the generated Datadog JSON (`datadog-json.ts`) take them
 * from here, so that a query cannot name a tag the stacks do not set.
 */
import { aws_lambda as lambda, aws_sqs as sqs, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { TableFunction } from './table-function';

/** The `app` tag on every resource Datadog reads metrics of (resource tags and DD_TAGS). */
export const APP = 'trip-saga';

/** Tag keys. `env`, `service` and `version` are Datadog's reserved unified service tags. */
export const TAG = {
  app: 'app',
  env: 'env',
  service: 'service',
  version: 'version',
  /** On every dead-letter queue, so that one query finds them all, whatever CloudFormation names them. */
  queueRole: 'queue_role',
} as const;

export const DEAD_LETTER_QUEUE_ROLE = 'dead-letter';

/**
 * A function's service name: its Cargo binary's, which is unique in the workspace, stable across
 * deploys (unlike the function's CloudFormation name) and known to the binary itself
 * (`CARGO_BIN_NAME`).
 */
export function functionService(binary: string): string {
  return binary;
}

/** A saga's state machine's service name: the saga's name in kebab case (`TripBooking` → `trip-booking`). */
export function sagaService(saga: string): string {
  return saga.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/**
 * The custom metrics the Rust handlers send over DogStatsD: the contract with them. A panel or a
 * monitor may read only these and `AWS_INTEGRATION_METRICS`.
 */
export const CUSTOM_METRICS = {
  /** Count, tagged `step:<state>`: one per compensation that ran. */
  compensations: 'trip.saga.compensations',
  /** Count: one per trip handed to an operator (a compensation that failed after its retries). */
  escalations: 'trip.saga.escalations',
  bookingsConfirmed: 'trip.bookings.confirmed',
  bookingsCancelled: 'trip.bookings.cancelled',
  /** Distribution, tagged `currency:<ISO 4217 code>`: the amount of each payment. */
  paymentAmount: 'trip.payments.amount',
} as const;

/**
 * The metrics of Datadog's AWS integration the panels read (CloudWatch's, renamed by Datadog:
 * docs.datadoghq.com/integrations/amazon_step_functions, amazon_lambda, amazon_sqs). They carry
 * the resources' own tags, which is how the queries find this app's.
 */
export const AWS_INTEGRATION_METRICS = {
  executionsStarted: 'aws.states.executions_started',
  executionsSucceeded: 'aws.states.executions_succeeded',
  executionsFailed: 'aws.states.executions_failed',
  executionsTimedOut: 'aws.states.executions_timed_out',
  executionsAborted: 'aws.states.executions_aborted',
  durationP50: 'aws.lambda.duration.p50',
  durationP99: 'aws.lambda.duration.p99',
  iteratorAgeMaximum: 'aws.lambda.iterator_age.maximum',
  messagesVisible: 'aws.sqs.approximate_number_of_messages_visible',
} as const;

/** Every Rust function of `scope` (the saga's, the API's, the search side's: all are `TableFunction`s). */
export function tableFunctions(scope: IConstruct): TableFunction[] {
  return scope.node.findAll().filter((c): c is TableFunction => c instanceof TableFunction);
}

/**
 * Every dead-letter queue of `scope`: the on-failure destination of an event source mapping, a
 * queue's redrive target or a function's dead-letter queue. Found from the constructs rather than
 * listed, so that a dead-letter queue added later is watched without an edit here.
 */
export function deadLetterQueues(scope: IConstruct): sqs.Queue[] {
  const constructs = scope.node.findAll();
  const queues = constructs.filter((c): c is sqs.Queue => c instanceof sqs.Queue);
  const stack = Stack.of(scope);
  const same = (a: unknown, b: unknown) => JSON.stringify(stack.resolve(a)) === JSON.stringify(stack.resolve(b));
  const destinations = constructs
    .filter((c): c is lambda.CfnEventSourceMapping => c instanceof lambda.CfnEventSourceMapping)
    .map((m) => stack.resolve(m.destinationConfig))
    .map((config) => config?.onFailure?.destination)
    .filter((d) => d !== undefined);
  const redriveTargets = queues.map((q) => q.deadLetterQueue?.queue);
  const functionTargets = constructs
    .filter((c): c is lambda.Function => c instanceof lambda.Function)
    .map((f) => f.deadLetterQueue);
  return queues.filter(
    (q) =>
      destinations.some((d) => same(d, q.queueArn)) ||
      redriveTargets.includes(q) ||
      functionTargets.includes(q),
  );
}
