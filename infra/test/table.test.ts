import { Match } from 'aws-cdk-lib/assertions';
import { loadTable } from '../lib/generated';
import { copyOfGenerated, only, readJson, synth, writeJson } from './support';

const definition = loadTable();

test('the table has the keys, stream, TTL and billing of generated/trip_table.json', () => {
  const { template } = synth('dev');
  const [, table] = only(template, 'AWS::DynamoDB::Table');
  expect(table.Properties.KeySchema).toEqual([
    { AttributeName: definition.partition_key.name, KeyType: 'HASH' },
    { AttributeName: definition.sort_key.name, KeyType: 'RANGE' },
  ]);
  expect(table.Properties.AttributeDefinitions).toEqual(
    expect.arrayContaining([
      { AttributeName: definition.partition_key.name, AttributeType: definition.partition_key.type },
      { AttributeName: definition.sort_key.name, AttributeType: definition.sort_key.type },
    ]),
  );
  expect(table.Properties.BillingMode).toBe(definition.billing_mode);
  expect(table.Properties.StreamSpecification).toEqual({
    StreamViewType: definition.stream_view_type,
  });
  expect(definition.stream_view_type).toBe('NEW_AND_OLD_IMAGES');
  expect(table.Properties.TimeToLiveSpecification).toEqual({
    AttributeName: definition.time_to_live_attribute,
    Enabled: true,
  });
  expect(table.Properties.PointInTimeRecoverySpecification).toEqual({
    PointInTimeRecoveryEnabled: true,
  });
  expect(table.Properties.GlobalSecondaryIndexes ?? []).toHaveLength(
    definition.global_secondary_indexes.length,
  );
});

test('prod keeps the table: deletion protection and RETAIN', () => {
  const { template } = synth('prod');
  template.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
  });
});

test('dev can be destroyed: no deletion protection, DESTROY', () => {
  const { template } = synth('dev');
  template.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Delete',
    Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
  });
});

test('an index in generated/trip_table.json becomes an index of the table', () => {
  const dir = copyOfGenerated();
  const file = `${dir}/trip_table.json`;
  const changed = readJson(file);
  changed.global_secondary_indexes = [
    {
      name: 'ByStatus',
      partition_key: { name: 'status', type: 'S' },
      sort_key: { name: 'departure', type: 'S' },
      serves: 'trips by status and departure date',
    },
  ];
  writeJson(file, changed);
  const { template } = synth('dev', dir);
  const [, table] = only(template, 'AWS::DynamoDB::Table');
  expect(table.Properties.GlobalSecondaryIndexes).toEqual([
    {
      IndexName: 'ByStatus',
      KeySchema: [
        { AttributeName: 'status', KeyType: 'HASH' },
        { AttributeName: 'departure', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ]);
});
