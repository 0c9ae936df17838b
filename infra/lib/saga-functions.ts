/**
 * One Lambda function per entry of a saga's manifest, built by cargo-lambda from the workspace.
 */
import * as path from 'node:path';
import {
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  Stack,
} from 'aws-cdk-lib';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import type { GeneratedSaga, SagaFunction, TableAccess } from './generated';
import { acknowledgeXRayWildcard } from './nag';
import { FUNCTION_TIMEOUT, type StageConfig } from './stage';
import type { TripTable } from './table';

/** The Cargo workspace (its root manifest): cargo-lambda builds each binary from there. */
export const WORKSPACE_MANIFEST = path.resolve(__dirname, '..', '..', 'Cargo.toml');

export interface SagaFunctionsProps {
  readonly saga: GeneratedSaga;
  /** Each function's actions on the table (`generated/trip_table_access.json`). */
  readonly access: TableAccess;
  readonly table: TripTable;
  readonly stage: StageConfig;
}

/** A deployed saga function: the function, the version the state machine pins, its role. */
export interface DeployedFunction {
  readonly entry: SagaFunction;
  readonly function: lambda.Function;
  readonly version: lambda.IVersion;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * Every function of `saga`: arm64 on provided.al2023, its own role, JSON logs into its own log
 * group with the stage's retention, X-Ray tracing, and a version published whenever its code or
 * configuration changes.
 */
export class SagaFunctions extends Construct {
  readonly functions: readonly DeployedFunction[];

  constructor(scope: Construct, id: string, props: SagaFunctionsProps) {
    super(scope, id);
    const { saga, table, stage, access } = props;
    const stack = Stack.of(this);
    this.functions = saga.manifest.functions.map((entry) => {
      const actions = access.sagas[saga.manifest.saga]?.[entry.name];
      if (actions === undefined || actions.length === 0) {
        throw new Error(
          `generated/trip_table_access.json lists no table actions for ${saga.manifest.saga}'s ${entry.name}: declare them in trip_saga::table_access and run \`make gen\``,
        );
      }
      const scope = new Construct(this, entry.name);
      const logGroup = new logs.LogGroup(scope, 'Logs', {
        retention: stage.logRetention,
        removalPolicy: stage.removalPolicy,
      });
      // A role per function, allowed only the table actions that function sends: a compromised
      // or buggy step can do no more than its own job.
      const role = new iam.Role(scope, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${saga.manifest.saga} ${entry.kind} ${entry.name} (${entry.crate} ${entry.binary})`,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: [...actions],
          resources: [
            table.table.tableArn,
            ...(table.definition.global_secondary_indexes.length > 0
              ? [stack.formatArn({
                service: 'dynamodb',
                resource: 'table',
                resourceName: `${table.table.tableName}/index/*`,
              })]
              : []),
          ],
        }),
      );
      const fn = new RustFunction(scope, 'Function', {
        manifestPath: WORKSPACE_MANIFEST,
        binaryName: entry.binary,
        runtime: 'provided.al2023',
        architecture: lambda.Architecture.ARM_64,
        description: `${saga.manifest.saga}: ${entry.name} (${entry.handler})`,
        memorySize: 256,
        timeout: FUNCTION_TIMEOUT,
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        tracing: lambda.Tracing.ACTIVE,
        environment: {
          [table.definition.name_variable]: table.table.tableName,
        },
      });
      acknowledgeXRayWildcard(role);
      return { entry, function: fn, version: fn.currentVersion, role, logGroup };
    });
  }

  /** The function whose manifest entry has `substitutionKey`. */
  bySubstitutionKey(substitutionKey: string): DeployedFunction | undefined {
    return this.functions.find((f) => f.entry.substitution_key === substitutionKey);
  }
}
