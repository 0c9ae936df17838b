/**
 * One Lambda function per entry of a saga's manifest, built by cargo-lambda from the workspace.
 */
import type { aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { GeneratedSaga, SagaFunction, TableAccess } from './generated';
import type { StageConfig } from './stage';
import type { DefinedTable } from './table';
import { TableFunction } from './table-function';

export interface SagaFunctionsProps {
  readonly saga: GeneratedSaga;
  /** Each function's actions on the table (`generated/trip_table_access.json`). */
  readonly access: TableAccess;
  readonly table: DefinedTable;
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
    this.functions = saga.manifest.functions.map((entry) => {
      const actions = access.sagas[saga.manifest.saga]?.[entry.name];
      if (actions === undefined || actions.length === 0) {
        throw new Error(
          `generated/trip_table_access.json lists no table actions for ${saga.manifest.saga}'s ${entry.name}: declare them in trip_saga::table_access and run \`make gen\``,
        );
      }
      const deployed = new TableFunction(this, entry.name, {
        binary: entry.binary,
        crate: entry.crate,
        description: `${saga.manifest.saga}: ${entry.name} (${entry.handler})`,
        tableActions: actions,
        table,
        stage,
      });
      return {
        entry,
        function: deployed.function,
        version: deployed.version,
        role: deployed.role,
        logGroup: deployed.logGroup,
      };
    });
  }

  /** The function whose manifest entry has `substitutionKey`. */
  bySubstitutionKey(substitutionKey: string): DeployedFunction | undefined {
    return this.functions.find((f) => f.entry.substitution_key === substitutionKey);
  }
}
