import { Match } from 'aws-cdk-lib/assertions';
import { loadTable } from '../lib/generated';
import { copyOfGenerated, logicalIdOf, readJson, resourcesOf, synth, writeJson } from './support';

const definition = loadTable();

/** The single table (the stack also has the search table, tested in search.test.ts). */
function singleTable(generatedDir?: string) {
  const { stack, template } = synth('dev', generatedDir);
  const table = resourcesOf(template, 'AWS::DynamoDB::Table')[logicalIdOf(stack.table.table)];
  expect(table).toBeDefined();
  return table;
}

test('the table has the keys, stream, TTL and billing of generated/trip_table.json', () => {
  const table = singleTable();
  const sortKey = definition.sort_key!;
  expect(sortKey).not.toBeNull();
  expect(table.Properties.KeySchema).toEqual([
    { AttributeName: definition.partition_key.name, KeyType: 'HASH' },
    { AttributeName: sortKey.name, KeyType: 'RANGE' },
  ]);
  expect(table.Properties.AttributeDefinitions).toEqual(
    expect.arrayContaining([
      { AttributeName: definition.partition_key.name, AttributeType: definition.partition_key.type },
      { AttributeName: sortKey.name, AttributeType: sortKey.type },
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

// Every table of the stack: the search table is kept like the single table.
test('prod keeps the tables: deletion protection and RETAIN', () => {
  const { template } = synth('prod');
  template.allResources('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
  });
});

test('dev can be destroyed: no deletion protection, DESTROY', () => {
  const { template } = synth('dev');
  template.allResources('AWS::DynamoDB::Table', {
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
  const table = singleTable(dir);
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
