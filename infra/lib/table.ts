/** The single table, built from `generated/trip_table.json` (`kernel::dynamo::table::TABLE`). */
import { aws_dynamodb as dynamodb } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { KeyAttribute, TableDefinition } from './generated';
import type { StageConfig } from './stage';

export interface TripTableProps {
  readonly definition: TableDefinition;
  readonly stage: StageConfig;
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  const types: Record<KeyAttribute['type'], dynamodb.AttributeType> = {
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  };
  const type = types[key.type];
  if (type === undefined) {
    throw new Error(`key ${key.name} has an unknown type ${JSON.stringify(key.type)}`);
  }
  return { name: key.name, type };
}

/**
 * The table with the keys, indexes, stream and TTL the Rust code expects, point-in-time recovery
 * on, and the stage's removal policy and deletion protection.
 */
export class TripTable extends Construct {
  readonly table: dynamodb.Table;
  readonly definition: TableDefinition;

  constructor(scope: Construct, id: string, props: TripTableProps) {
    super(scope, id);
    const { definition, stage } = props;
    this.definition = definition;
    const billingModes: Record<TableDefinition['billing_mode'], dynamodb.BillingMode> = {
      PAY_PER_REQUEST: dynamodb.BillingMode.PAY_PER_REQUEST,
      PROVISIONED: dynamodb.BillingMode.PROVISIONED,
    };
    const streams: Record<TableDefinition['stream_view_type'], dynamodb.StreamViewType> = {
      NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
      OLD_IMAGE: dynamodb.StreamViewType.OLD_IMAGE,
      NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      KEYS_ONLY: dynamodb.StreamViewType.KEYS_ONLY,
    };
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(definition.partition_key),
      sortKey: attribute(definition.sort_key),
      billingMode: billingModes[definition.billing_mode],
      stream: streams[definition.stream_view_type],
      timeToLiveAttribute: definition.time_to_live_attribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: stage.deletionProtection,
      removalPolicy: stage.removalPolicy,
    });
    for (const index of definition.global_secondary_indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partition_key),
        sortKey: index.sort_key ? attribute(index.sort_key) : undefined,
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
