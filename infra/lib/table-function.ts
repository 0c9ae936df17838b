/**
 * A Rust Lambda function of the workspace that works on the single table: built by cargo-lambda
 * (arm64, provided.al2023), with its own role allowed exactly its table actions, JSON logs into
 * its own log group with the stage's retention, X-Ray tracing, and a version published whenever
 * its code or configuration changes. The saga's functions and the API's are all made this way.
 */
import * as path from 'node:path';
import { aws_iam as iam, aws_lambda as lambda, aws_logs as logs, Stack } from 'aws-cdk-lib';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { acknowledgeXRayWildcard } from './nag';
import { FUNCTION_TIMEOUT, type StageConfig } from './stage';
import type { TripTable } from './table';

/** The Cargo workspace (its root manifest): cargo-lambda builds each binary from there. */
export const WORKSPACE_MANIFEST = path.resolve(__dirname, '..', '..', 'Cargo.toml');

export interface TableFunctionProps {
  /** The Cargo binary (and package, for the description). */
  readonly binary: string;
  readonly crate: string;
  readonly description: string;
  /** The IAM actions it needs on the table, from `generated/`; never empty. */
  readonly tableActions: readonly string[];
  readonly table: TripTable;
  readonly stage: StageConfig;
}

export class TableFunction extends Construct {
  readonly function: lambda.Function;
  readonly version: lambda.Version;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TableFunctionProps) {
    super(scope, id);
    const { table, stage } = props;
    if (props.tableActions.length === 0) {
      throw new Error(`${props.binary} declares no table actions`);
    }
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: stage.logRetention,
      removalPolicy: stage.removalPolicy,
    });
    // A role per function, allowed only the table actions that function sends: a compromised
    // or buggy function can do no more than its own job.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}, ${props.crate} ${props.binary}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    const indexes = table.definition.global_secondary_indexes.length > 0
      ? [Stack.of(this).formatArn({
        service: 'dynamodb',
        resource: 'table',
        resourceName: `${table.table.tableName}/index/*`,
      })]
      : [];
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [...props.tableActions],
        resources: [table.table.tableArn, ...indexes],
      }),
    );
    this.function = new RustFunction(this, 'Function', {
      manifestPath: WORKSPACE_MANIFEST,
      binaryName: props.binary,
      runtime: 'provided.al2023',
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: 256,
      timeout: FUNCTION_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        [table.definition.name_variable]: table.table.tableName,
      },
    });
    this.version = this.function.currentVersion;
    acknowledgeXRayWildcard(this.role);
  }
}
