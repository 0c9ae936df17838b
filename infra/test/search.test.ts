/**
 * Trip search (the CQRS read side): the search table as generated/trip_search_table.json defines
 * it, the stream consumer's event source mapping, roles, dead-letter queue and alarms, and
 * `GET /trips` on the query function; and that generated/trip_search_functions.json, not infra/,
 * decides the functions' actions and the route's parameters.
 */
import * as path from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadSearchFunctions, loadSearchTable } from '../lib/generated';
import { ITERATOR_AGE_THRESHOLD_MS, STREAM_READ_ACTIONS, STREAM_READING } from '../lib/search';
import {
  copyOfGenerated,
  logicalIdOf,
  only,
  readJson,
  resourcesOf,
  statementsOf,
  synth,
  writeJson,
} from './support';

const definition = loadSearchTable();
const search = loadSearchFunctions();
const { stack, template } = synth('dev');

const searchTableId = logicalIdOf(stack.search.table.table);
const singleTableId = logicalIdOf(stack.table.table);
const queueId = logicalIdOf(stack.search.deadLetterQueue);
const consumerId = logicalIdOf(stack.search.consumer.function);
const consumerAliasId = logicalIdOf(stack.search.consumerAlias);
const queryId = logicalIdOf(stack.search.query.function);
const queryAliasId = logicalIdOf(stack.search.queryAlias);
const functions = resourcesOf(template, 'AWS::Lambda::Function');
const aliases = resourcesOf(template, 'AWS::Lambda::Alias');

const roleOf = (functionId: string): string => functions[functionId].Properties.Role['Fn::GetAtt'][0];
const actionsOf = (statement: any): string[] => [statement.Action].flat();
const dynamoStatements = (roleId: string) =>
  statementsOf(template, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
const SEARCH_TABLE_ARN = { 'Fn::GetAtt': [searchTableId, 'Arn'] };
const STREAM_ARN = { 'Fn::GetAtt': [singleTableId, 'StreamArn'] };

describe('the search table', () => {
  const table = resourcesOf(template, 'AWS::DynamoDB::Table')[searchTableId];

  test('has the keys, index, TTL and billing of generated/trip_search_table.json, and no stream', () => {
    expect(definition.sort_key).toBeNull();
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: definition.partition_key.name, KeyType: 'HASH' },
    ]);
    expect(definition.global_secondary_indexes.length).toBeGreaterThan(0);
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(
      definition.global_secondary_indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partition_key.name, KeyType: 'HASH' },
          ...(index.sort_key ? [{ AttributeName: index.sort_key.name, KeyType: 'RANGE' }] : []),
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
    const keys = [
      definition.partition_key,
      ...definition.global_secondary_indexes.flatMap((i) => [i.partition_key, i.sort_key ?? []].flat()),
    ];
    expect([...table.Properties.AttributeDefinitions].sort((a: any, b: any) => a.AttributeName.localeCompare(b.AttributeName))).toEqual(
      keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })).sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
    );
    expect(table.Properties.BillingMode).toBe(definition.billing_mode);
    expect(definition.stream_view_type).toBeNull();
    expect(table.Properties.StreamSpecification).toBeUndefined();
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: definition.time_to_live_attribute,
      Enabled: true,
    });
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  test('is kept in prod as the single table is', () => {
    const prod = synth('prod');
    const kept = resourcesOf(prod.template, 'AWS::DynamoDB::Table')[logicalIdOf(prod.stack.search.table.table)];
    expect(kept.DeletionPolicy).toBe('Retain');
    expect(kept.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.Properties.DeletionProtectionEnabled).toBe(false);
  });
});

describe("the consumer of the single table's stream", () => {
  const [, mapping] = only(template, 'AWS::Lambda::EventSourceMapping');
  const p = mapping.Properties;

  test('reads the stream from its oldest record, in batches, bisecting and reporting item failures', () => {
    expect(p.EventSourceArn).toEqual(STREAM_ARN);
    expect(p.StartingPosition).toBe('TRIM_HORIZON');
    expect(p.BatchSize).toBe(STREAM_READING.batchSize);
    expect(p.MaximumBatchingWindowInSeconds).toBe(STREAM_READING.maxBatchingWindow.toSeconds());
    expect(p.BisectBatchOnFunctionError).toBe(true);
    expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(p.ParallelizationFactor).toBe(1);
  });

  test('bounded retries and record age, below the stream retention, then the dead-letter queue', () => {
    expect(p.MaximumRetryAttempts).toBe(STREAM_READING.retryAttempts);
    expect(p.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(p.MaximumRecordAgeInSeconds).toBe(STREAM_READING.maxRecordAge.toSeconds());
    // DynamoDB Streams keep records 24 hours: the mapping must give up on a record first.
    expect(p.MaximumRecordAgeInSeconds).toBeLessThan(24 * 3600);
    expect(p.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    });
  });

  test('is given exactly the generated filter patterns', () => {
    const patterns = p.FilterCriteria.Filters.map((f: any) => JSON.parse(f.Pattern));
    expect(patterns).toEqual(search.consumer.filters);
  });

  test('invokes the live alias of the consumer, on its published version', () => {
    // `function-name:live`: the name taken from the alias's ARN, qualified by the alias.
    expect(p.FunctionName).toEqual({
      'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: consumerAliasId }] }] }, ':live']],
    });
    const alias = aliases[consumerAliasId];
    expect(alias.Properties.Name).toBe('live');
    expect(alias.Properties.FunctionName).toEqual({ Ref: consumerId });
    const versionId = alias.Properties.FunctionVersion['Fn::GetAtt'][0];
    expect(resourcesOf(template, 'AWS::Lambda::Version')[versionId].Properties.FunctionName).toEqual({ Ref: consumerId });
    expect(functions[consumerId].Properties.Description).toContain(search.consumer.name);
  });

  test('is created after its role may read the stream', () => {
    const policies = Object.entries(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter(([, pol]) => pol.Properties.Roles.some((r: any) => r.Ref === roleOf(consumerId)))
      .map(([id]) => id);
    expect(policies.length).toBeGreaterThan(0);
    expect(mapping.DependsOn).toEqual(expect.arrayContaining(policies));
  });

  test('its role: the generated actions on the search table, the stream read actions, nothing on the single table', () => {
    const dynamo = dynamoStatements(roleOf(consumerId));
    const onSearch = dynamo.filter((s) => JSON.stringify(s.Resource).includes(searchTableId));
    // The table itself: a writer gets nothing on the indexes.
    expect(onSearch.map((s) => s.Resource)).toEqual([SEARCH_TABLE_ARN]);
    expect(onSearch.flatMap(actionsOf).sort()).toEqual([...search.consumer.search_table_actions].sort());
    // On the single table: the stream, read, and nothing else (no write, no table ARN).
    const onSingle = dynamo.filter((s) => JSON.stringify(s.Resource).includes(singleTableId));
    expect(onSingle).toEqual([
      { Effect: 'Allow', Action: [...STREAM_READ_ACTIONS], Resource: STREAM_ARN },
    ]);
    expect(dynamo).toHaveLength(onSearch.length + onSingle.length);
    for (const statement of statementsOf(template, roleOf(consumerId))) {
      expect(statement.Effect).toBe('Allow');
      if (statement.Resource === '*') {
        expect(actionsOf(statement).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
    }
  });

  test('its role may send to the dead-letter queue; its environment names the search table and the queue', () => {
    const send = statementsOf(template, roleOf(consumerId)).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(send.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [queueId, 'Arn'] }]);
    expect(functions[consumerId].Properties.Environment.Variables).toEqual({
      [search.search_table_variable]: { Ref: searchTableId },
      [search.consumer.dead_letter_queue_variable]: { Ref: queueId },
    });
  });

  test('the dead-letter queue: encrypted, TLS only, 14 days', () => {
    const queue = resourcesOf(template, 'AWS::SQS::Queue')[queueId];
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const [, policy] = only(template, 'AWS::SQS::QueuePolicy');
    expect(policy.Properties.Queues).toEqual([{ Ref: queueId }]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]),
    );
  });
});

describe('the query function and GET /trips', () => {
  const methods = resourcesOf(template, 'AWS::ApiGateway::Method');
  const [, get] = Object.entries(methods).find(
    ([, m]) => m.Properties.HttpMethod === search.query.method && m.Properties.OperationName === search.query.name,
  )!;

  test('its role: exactly the generated actions, on the search table and its indexes', () => {
    const dynamo = dynamoStatements(roleOf(queryId));
    expect([...new Set(dynamo.flatMap(actionsOf))].sort()).toEqual([...search.query.search_table_actions].sort());
    const resources = dynamo.flatMap((s) => [s.Resource].flat());
    expect(resources).toEqual(
      expect.arrayContaining([
        SEARCH_TABLE_ARN,
        ...definition.global_secondary_indexes.map((index) => ({
          'Fn::Join': ['', [SEARCH_TABLE_ARN, `/index/${index.name}`]],
        })),
      ]),
    );
    expect(resources).toHaveLength(1 + definition.global_secondary_indexes.length);
    expect(functions[queryId].Properties.Environment.Variables).toEqual({
      [search.search_table_variable]: { Ref: searchTableId },
    });
  });

  test('GET /trips is on the /trips resource that POST /trips and /trips/{id} use', () => {
    const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
    const [tripsId] = Object.entries(resources).find(([, r]) => r.Properties.PathPart === 'trips')!;
    expect(search.query.path).toBe('/trips');
    expect(get.Properties.ResourceId).toEqual({ Ref: tripsId });
    const post = Object.values(methods).find((m) => m.Properties.HttpMethod === 'POST')!;
    expect(post.Properties.ResourceId).toEqual({ Ref: tripsId });
  });

  test('IAM auth, required and optional query parameters as generated, validated by API Gateway', () => {
    expect(get.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(get.Properties.RequestParameters).toEqual({
      ...Object.fromEntries(search.query.required_parameters.map((n) => [`method.request.querystring.${n}`, true])),
      ...Object.fromEntries(search.query.optional_parameters.map((n) => [`method.request.querystring.${n}`, false])),
    });
    expect(search.query.required_parameters).toEqual(expect.arrayContaining(['status']));
    const validatorId = get.Properties.RequestValidatorId.Ref;
    expect(resourcesOf(template, 'AWS::ApiGateway::RequestValidator')[validatorId].Properties.ValidateRequestParameters).toBe(true);
  });

  test('a Lambda proxy integration on the live alias of SearchTrips, which API Gateway may invoke', () => {
    const integration = get.Properties.Integration;
    expect(integration.Type).toBe('AWS_PROXY');
    expect(integration.IntegrationHttpMethod).toBe('POST');
    expect(JSON.stringify(integration.Uri)).toContain(`{"Ref":"${queryAliasId}"}`);
    const alias = aliases[queryAliasId];
    expect(alias.Properties.Name).toBe('live');
    expect(alias.Properties.FunctionName).toEqual({ Ref: queryId });
    expect(functions[queryId].Properties.Description).toBe(`Trip search API: ${search.query.method} ${search.query.path}`);
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter(
      (perm) => perm.Properties.FunctionName.Ref === queryAliasId,
    );
    expect(permissions.length).toBeGreaterThan(0);
    expect(permissions.every((perm) => perm.Properties.Principal === 'apigateway.amazonaws.com')).toBe(true);
  });
});

test('alarms: the consumer lagging, a dead letter, the consumer failing', () => {
  const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
  // On the function itself (all its versions), not on its alias: the release's alarms are the
  // alias's (release.test.ts), and a canary must not hide a lag.
  const on = (metric: string, dimension: string, value: unknown) =>
    alarms.filter(
      (a) => a.Properties.MetricName === metric
        && a.Properties.Dimensions.length === 1
        && a.Properties.Dimensions.some((d: any) => d.Name === dimension && JSON.stringify(d.Value) === JSON.stringify(value)),
    );
  const [age, ...moreAge] = on('IteratorAge', 'FunctionName', { Ref: consumerId });
  expect(moreAge).toHaveLength(0);
  expect(age.Properties).toMatchObject({
    Statistic: 'Maximum',
    Period: 60,
    Threshold: ITERATOR_AGE_THRESHOLD_MS,
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  });
  const [dead, ...moreDead] = on('ApproximateNumberOfMessagesVisible', 'QueueName', { 'Fn::GetAtt': [queueId, 'QueueName'] });
  expect(moreDead).toHaveLength(0);
  expect(dead.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
  const [errors, ...moreErrors] = on('Errors', 'FunctionName', { Ref: consumerId });
  expect(moreErrors).toHaveLength(0);
  expect(errors.Properties).toMatchObject({
    Statistic: 'Sum',
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  });
});

test('outputs: the search table name and the dead-letter queue URL', () => {
  const outputs = template.toJSON().Outputs;
  expect(outputs.SearchTableName.Value).toEqual({ Ref: searchTableId });
  expect(outputs.SearchDeadLetterQueueUrl.Value).toEqual({ Ref: queueId });
});

describe('generated/, not infra/, decides', () => {
  test('another required parameter and another action change the route and the roles', () => {
    const dir = copyOfGenerated();
    const file = path.join(dir, 'trip_search_functions.json');
    const changed = readJson(file);
    changed.query.required_parameters.push('destination');
    changed.consumer.search_table_actions.push('dynamodb:DeleteItem');
    changed.consumer.filters = [{ dynamodb: { NewImage: { entity_type: { S: ['TRIP', 'BOOKING'] } } } }];
    writeJson(file, changed);
    const after = synth('dev', dir);
    const t = after.template;

    const method = Object.values(resourcesOf(t, 'AWS::ApiGateway::Method')).find(
      (m) => m.Properties.OperationName === search.query.name,
    )!;
    expect(method.Properties.RequestParameters['method.request.querystring.destination']).toBe(true);
    const consumer = resourcesOf(t, 'AWS::Lambda::Function')[logicalIdOf(after.stack.search.consumer.function)];
    const actions = statementsOf(t, consumer.Properties.Role['Fn::GetAtt'][0])
      .filter((s) => JSON.stringify(s.Resource).includes(logicalIdOf(after.stack.search.table.table)))
      .flatMap(actionsOf);
    expect(actions.sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
    const [, mapping] = only(t, 'AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties.FilterCriteria.Filters.map((f: any) => JSON.parse(f.Pattern))).toEqual(changed.consumer.filters);
    // The unchanged stack has none of it.
    const before = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).find(
      (m) => m.Properties.OperationName === search.query.name,
    )!;
    expect(Object.keys(before.Properties.RequestParameters)).not.toContain('method.request.querystring.destination');
  });

  test('another index in generated/trip_search_table.json is an index, and the query may use it', () => {
    const dir = copyOfGenerated();
    const file = path.join(dir, 'trip_search_table.json');
    const changed = readJson(file);
    changed.global_secondary_indexes.push({
      name: 'by_traveller',
      partition_key: { name: 'traveller', type: 'S' },
      sort_key: null,
      serves: 'a test',
    });
    writeJson(file, changed);
    const after = synth('dev', dir);
    const tableId = logicalIdOf(after.stack.search.table.table);
    const table = resourcesOf(after.template, 'AWS::DynamoDB::Table')[tableId];
    expect(table.Properties.GlobalSecondaryIndexes.map((i: any) => i.IndexName)).toEqual(['by_status_departure', 'by_traveller']);
    const query = resourcesOf(after.template, 'AWS::Lambda::Function')[logicalIdOf(after.stack.search.query.function)];
    const resources = statementsOf(after.template, query.Properties.Role['Fn::GetAtt'][0]).flatMap((s) => [s.Resource].flat());
    expect(resources).toContainEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/by_traveller']] });
  });

  test('filters on an image the single table\'s stream does not carry fail the synth', () => {
    const dir = copyOfGenerated();
    const file = path.join(dir, 'trip_table.json');
    writeJson(file, { ...readJson(file), stream_view_type: 'NEW_IMAGE' });
    expect(() => synth('dev', dir)).toThrow(/ProjectTrips filters on OldImage.*NEW_IMAGE/);
    writeJson(file, { ...readJson(file), stream_view_type: null });
    expect(() => synth('dev', dir)).toThrow(/ProjectTrips filters on NewImage and OldImage/);
  });

  test('a missing or incomplete search file is a clear error', () => {
    const dir = copyOfGenerated();
    const file = path.join(dir, 'trip_search_functions.json');
    writeJson(file, { ...readJson(file), consumer: { ...readJson(file).consumer, filters: [] } });
    expect(() => synth('dev', dir)).toThrow(/trip_search_functions.json: the consumer declares no `filters`/);
    writeFileSync(file, '{"generated": "x"}');
    expect(() => synth('dev', dir)).toThrow(/trip_search_functions.json has no `search_table_variable`.*make gen/);
    const table = path.join(dir, 'trip_search_table.json');
    const { sort_key: _, ...withoutSortKey } = readJson(table);
    writeJson(table, withoutSortKey);
    expect(() => synth('dev', dir)).toThrow(/trip_search_table.json has no `sort_key`/);
  });
});
