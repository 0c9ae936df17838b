/**
 * Trip search, the read side (CQRS): the search table (`generated/trip_search_table.json`), the
 * stream consumer that projects the single table's trips into it, its dead-letter queue and
 * alarms, and the query function behind `GET /trips`. The functions, their actions, variables and
 * filters all come from `generated/trip_search_functions.json`.
 */
import {
  aws_cloudwatch as cloudwatch,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_sqs as sqs,
  Duration,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LIVE_ALIAS, type LambdaRoute } from './api';
import type { FilterPattern, SearchFunctions, StreamViewType, TableDefinition } from './generated';
import type { StageConfig } from './stage';
import { DefinedTable } from './table';
import { TableFunction } from './table-function';

export interface TripSearchProps {
  readonly stage: StageConfig;
  /** The single table, whose stream feeds the projection. */
  readonly source: DefinedTable;
  /** The search table's definition. */
  readonly definition: TableDefinition;
  readonly functions: SearchFunctions;
}

/**
 * How the consumer reads the single table's stream. Each is a property of the event source
 * mapping; the tests assert them.
 */
export const STREAM_READING = {
  // A trip's item is a few hundred bytes and each record costs one PutItem (~10 ms): 100 records
  // finish in about a second, far inside the function's timeout (Lambda's default for streams).
  batchSize: 100,
  // Search freshness: a booking shows in search at most about a second after its write, while a
  // burst (a saga writes the trip several times within a second) still arrives as one batch.
  maxBatchingWindow: Duration.seconds(1),
  // Transient faults (throttling, a DynamoDB 5xx) pass within a few retries; the consumer sends
  // records it can never project to the dead-letter queue itself, so a batch failing 5 times
  // is a fault that retrying will not fix: the records go to the DLQ, and the shard moves on.
  retryAttempts: 5,
  // Below the stream's 24-hour retention, so a stuck record is sent to the DLQ before DynamoDB
  // trims it (a trimmed record is lost with no trace); an hour of IteratorAge alarms first.
  maxRecordAge: Duration.hours(1),
  // One batch per shard at a time, in stream order: per-item order matters (the projection's
  // last write must be the trip's latest state). A higher factor would still keep each partition
  // key in order, but one poller per shard is plenty for the booking rate: raise it only when
  // IteratorAge says so, and only after checking the projection's order per trip.
  parallelizationFactor: 1,
} as const;

/** IteratorAge (ms, the age of the newest record read) above which search is stale. */
export const ITERATOR_AGE_THRESHOLD_MS = 60_000;

/** The stream actions an event source mapping needs to poll a DynamoDB stream. */
export const STREAM_READ_ACTIONS: readonly string[] = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
];

/** The images (`NewImage`, `OldImage`) that `patterns` filter on. */
function filteredImages(patterns: readonly FilterPattern[]): Set<string> {
  const images = new Set<string>();
  for (const pattern of patterns) {
    const dynamodb = pattern['dynamodb'];
    if (dynamodb !== null && typeof dynamodb === 'object') {
      for (const key of Object.keys(dynamodb)) {
        if (key === 'NewImage' || key === 'OldImage') {
          images.add(key);
        }
      }
    }
  }
  return images;
}

const STREAM_IMAGES: Record<StreamViewType, readonly string[]> = {
  NEW_IMAGE: ['NewImage'],
  OLD_IMAGE: ['OldImage'],
  NEW_AND_OLD_IMAGES: ['NewImage', 'OldImage'],
  KEYS_ONLY: [],
};

export class TripSearch extends Construct {
  readonly table: DefinedTable;
  readonly deadLetterQueue: sqs.Queue;
  readonly consumer: TableFunction;
  /** The consumer's name in `generated/trip_search_functions.json`, e.g. `ProjectTrips`. */
  readonly consumerName: string;
  readonly consumerAlias: lambda.Alias;
  readonly mapping: lambda.EventSourceMapping;
  readonly query: TableFunction;
  /** The query's name in `generated/trip_search_functions.json`, e.g. `SearchTrips`. */
  readonly queryName: string;
  readonly queryAlias: lambda.Alias;
  /** `GET /trips`, for the API to serve. */
  readonly route: LambdaRoute;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: TripSearchProps) {
    super(scope, id);
    const { stage, source, definition, functions } = props;
    const { consumer, query } = functions;
    this.consumerName = consumer.name;
    this.queryName = query.name;

    // A filter on an image the stream does not carry would silently match nothing (a cancelled
    // trip's REMOVE, say, never leaving search).
    const carried = source.definition.stream_view_type === null
      ? []
      : STREAM_IMAGES[source.definition.stream_view_type];
    const missing = [...filteredImages(consumer.filters)].filter((image) => !carried.includes(image));
    if (missing.length > 0) {
      throw new Error(
        `${consumer.name} filters on ${missing.join(' and ')}, which the single table's stream (${source.definition.stream_view_type}) does not carry: run \`make gen\``,
      );
    }

    this.table = new DefinedTable(this, 'Table', { definition, stage });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      // SQS-managed keys: nothing to grant to Lambda's on-failure destination or to the function,
      // and the records (trip ids and states, no card data) need no key policy of their own.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // SQS's maximum: time for an operator to replay a dead letter after the alarm.
      retentionPeriod: Duration.days(14),
      removalPolicy: stage.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue (of the search projection\'s stream consumer); its messages are kept 14 days and alarmed on, not redriven to another queue.',
    });

    this.consumer = new TableFunction(this, consumer.name, {
      binary: consumer.binary,
      crate: consumer.crate,
      description: `Trip search: ${consumer.name}, the single table's stream into the search table`,
      tableActions: consumer.search_table_actions,
      table: this.table,
      tableVariable: functions.search_table_variable,
      environment: { [consumer.dead_letter_queue_variable]: this.deadLetterQueue.queueUrl },
      stage,
    });
    // The code sends the records it can never project (poison records) itself.
    this.deadLetterQueue.grantSendMessages(this.consumer.role);
    this.consumerAlias = new lambda.Alias(this.consumer, 'Live', {
      aliasName: LIVE_ALIAS,
      version: this.consumer.version,
    });

    // The mapping polls with the function's role: the stream read actions, on this stream only
    // (not CDK's grantStreamRead, which may grant ListStreams on *). Nothing on the table itself.
    const streamRead = iam.Grant.addToPrincipal({
      grantee: this.consumer.role,
      actions: [...STREAM_READ_ACTIONS],
      resourceArns: [source.streamArn],
    });
    this.mapping = new lambda.EventSourceMapping(this, 'StreamMapping', {
      // The alias, so that a canary on it moves the stream's processing too.
      target: this.consumerAlias,
      eventSourceArn: source.streamArn,
      // From the oldest record the stream holds: trips written before the first deploy (up to
      // 24 h) are projected too, and a re-created mapping loses nothing.
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      ...STREAM_READING,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      // Grants the function's role SendMessage on the queue (Lambda sends with it).
      onFailure: new sources.SqsDlq(this.deadLetterQueue),
      filters: consumer.filters.map((pattern) => lambda.FilterCriteria.filter({ ...pattern })),
    });
    // CreateEventSourceMapping checks the role can read the stream: the policy must exist first.
    streamRead.applyBefore(this.mapping);

    this.query = new TableFunction(this, query.name, {
      binary: query.binary,
      crate: query.crate,
      description: `Trip search API: ${query.method} ${query.path}`,
      tableActions: query.search_table_actions,
      table: this.table,
      tableVariable: functions.search_table_variable,
      stage,
    });
    this.queryAlias = new lambda.Alias(this.query, 'Live', {
      aliasName: LIVE_ALIAS,
      version: this.query.version,
    });
    this.route = {
      name: query.name,
      method: query.method,
      path: query.path,
      alias: this.queryAlias,
      querystring: {
        ...Object.fromEntries(query.optional_parameters.map((name) => [name, false])),
        ...Object.fromEntries(query.required_parameters.map((name) => [name, true])),
      },
    };

    this.alarms = this.createAlarms(consumer.name);
  }

  private createAlarms(name: string): cloudwatch.Alarm[] {
    const fn = this.consumer.function;
    return [
      // Normally about the batching window (a second). A minute behind for 3 of 5 minutes is a
      // consumer stuck retrying a batch or throttled, not a burst: search is stale, and
      // maxRecordAge (an hour) leaves time to act before records go to the dead-letter queue.
      // The function's metric (all versions): a canary on the alias must not hide a lag.
      fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }).createAlarm(
        this,
        `${name}IteratorAge`,
        {
          alarmDescription: `Trip search: ${name} is over a minute behind the single table's stream (search results are stale)`,
          threshold: ITERATOR_AGE_THRESHOLD_MS,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          // No records, no datapoint: an idle stream is not a late one.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
      ),
      // One dead letter is a trip that search shows wrongly (or not at all) until it is replayed.
      this.deadLetterQueue
        .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
        .createAlarm(this, 'DeadLetters', {
          alarmDescription: `Trip search: ${name} could not project a trip (a message in its dead-letter queue)`,
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      // The handler reports failed items instead of failing: an error is a crash or a timeout,
      // which makes Lambda retry the whole batch.
      fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }).createAlarm(this, `${name}Errors`, {
        alarmDescription: `Trip search: ${name} failed (a crash or a timeout: its batch is retried, then dead-lettered)`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
