/**
 * A Rust Lambda function of the workspace that works on one table (the single table, or the
 * search table): built by cargo-lambda (arm64, provided.al2023) at synth, or taken as built
 * beforehand (`-c prebuiltLambdas=<dir>`, the delivery pipeline's), with its own role allowed
 * exactly its table actions, JSON logs into its own log group with the stage's retention, X-Ray
 * tracing, and a version published whenever its code or configuration changes. The saga's
 * functions, the API's and the search side's are all made this way.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { acknowledgeXRayWildcard } from './nag';
import { FUNCTION_TIMEOUT, type StageConfig } from './stage';
import type { DefinedTable } from './table';

/** The Cargo workspace (its root manifest): cargo-lambda builds each binary from there. */
export const WORKSPACE_MANIFEST = path.resolve(__dirname, '..', '..', 'Cargo.toml');

/**
 * The context key naming a directory of binaries built beforehand (`cargo lambda build`'s
 * `target/lambda`): each function's code is then `<dir>/<binary>/bootstrap` as it is, and
 * nothing is built at synth. The delivery pipeline builds every binary once, in one cargo
 * invocation that shares its dependencies, instead of one build per function.
 */
export const PREBUILT_LAMBDAS_CONTEXT = 'prebuiltLambdas';

export interface TableFunctionProps {
  /** The Cargo binary (and package, for the description). */
  readonly binary: string;
  readonly crate: string;
  readonly description: string;
  /** The IAM actions it needs on the table, from `generated/`; never empty. */
  readonly tableActions: readonly string[];
  readonly table: DefinedTable;
  /** The variable that gives it the table's name (default: the definition's `name_variable`). */
  readonly tableVariable?: string;
  /** More environment (e.g. a queue's URL). */
  readonly environment?: Readonly<Record<string, string>>;
  readonly stage: StageConfig;
}

/**
 * The DynamoDB actions that apply to an index (the `index` resource type of IAM's reference):
 * only these are also granted on the table's indexes, so a writer gets nothing there.
 */
export const INDEX_ACTIONS: readonly string[] = ['dynamodb:Query', 'dynamodb:Scan', 'dynamodb:PartiQLSelect'];

export class TableFunction extends Construct {
  /** The Cargo binary it runs. */
  readonly binary: string;
  readonly function: lambda.Function;
  readonly version: lambda.Version;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TableFunctionProps) {
    super(scope, id);
    const { table, stage } = props;
    this.binary = props.binary;
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
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: [...props.tableActions], resources: [table.table.tableArn] }),
    );
    // Each index of the definition by name rather than `index/*`: the generated definition
    // lists them, and an index added later is granted when it is generated, not before.
    const indexActions = props.tableActions.filter((a) => INDEX_ACTIONS.includes(a));
    const indexes = table.definition.global_secondary_indexes.map(
      (index) => `${table.table.tableArn}/index/${index.name}`,
    );
    if (indexActions.length > 0 && indexes.length > 0) {
      this.role.addToPolicy(new iam.PolicyStatement({ actions: indexActions, resources: indexes }));
    }
    const options: lambda.FunctionOptions = {
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: 256,
      timeout: FUNCTION_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        ...props.environment,
        [props.tableVariable ?? table.definition.name_variable]: table.table.tableName,
      },
    };
    const prebuilt: unknown = this.node.tryGetContext(PREBUILT_LAMBDAS_CONTEXT);
    this.function = prebuilt === undefined
      ? new RustFunction(this, 'Function', {
        ...options,
        manifestPath: WORKSPACE_MANIFEST,
        binaryName: props.binary,
        runtime: 'provided.al2023',
      })
      : new lambda.Function(this, 'Function', {
        ...options,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(prebuiltBinary(String(prebuilt), props.binary)),
      });
    this.version = this.function.currentVersion;
    acknowledgeXRayWildcard(this.role);
  }
}

/**
 * The directory holding `binary`'s `bootstrap` under `dir` (relative to the working directory,
 * as on the command line), or a clear error naming the command that builds it.
 */
export function prebuiltBinary(dir: string, binary: string): string {
  const found = path.resolve(dir, binary);
  if (!existsSync(path.join(found, 'bootstrap'))) {
    throw new Error(
      `-c ${PREBUILT_LAMBDAS_CONTEXT}=${dir}: no ${binary}/bootstrap there; build the functions first (cargo lambda build --release --arm64, which writes target/lambda/<binary>/bootstrap)`,
    );
  }
  return found;
}
