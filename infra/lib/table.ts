/**
 * A DynamoDB table built from its generated definition: the single table
 * (`generated/trip_table.json`, `kernel::dynamo::table::TABLE`) and the search projection
 * (`generated/trip_search_table.json`) are both made this way.
 */
import { aws_dynamodb as dynamodb } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { KeyAttribute, StreamViewType, TableDefinition } from './generated';
import type { StageConfig } from './stage';

export interface DefinedTableProps {
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

const STREAMS: Record<StreamViewType, dynamodb.StreamViewType> = {
  NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
  OLD_IMAGE: dynamodb.StreamViewType.OLD_IMAGE,
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  KEYS_ONLY: dynamodb.StreamViewType.KEYS_ONLY,
};

/**
 * The table with the keys, indexes, stream and TTL the Rust code expects, point-in-time recovery
 * on, and the stage's removal policy and deletion protection (the search table is rebuilt from
 * the single table's stream, but rebuilding it means replaying every trip: it is kept like data).
 */
export class DefinedTable extends Construct {
  readonly table: dynamodb.Table;
  readonly definition: TableDefinition;

  constructor(scope: Construct, id: string, props: DefinedTableProps) {
    super(scope, id);
    const { definition, stage } = props;
    this.definition = definition;
    const billingModes: Record<TableDefinition['billing_mode'], dynamodb.BillingMode> = {
      PAY_PER_REQUEST: dynamodb.BillingMode.PAY_PER_REQUEST,
      PROVISIONED: dynamodb.BillingMode.PROVISIONED,
    };
    let stream: dynamodb.StreamViewType | undefined;
    if (definition.stream_view_type !== null) {
      stream = STREAMS[definition.stream_view_type];
      if (stream === undefined) {
        throw new Error(`unknown stream view type ${JSON.stringify(definition.stream_view_type)}`);
      }
    }
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(definition.partition_key),
      sortKey: definition.sort_key === null ? undefined : attribute(definition.sort_key),
      billingMode: billingModes[definition.billing_mode],
      stream,
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

  /** The stream's ARN; throws when the definition has no stream (nothing could consume it). */
  get streamArn(): string {
    const arn = this.table.tableStreamArn;
    if (this.definition.stream_view_type === null || arn === undefined) {
      throw new Error(`${this.node.path} has no stream (its definition's stream_view_type is null)`);
    }
    return arn;
  }
}
