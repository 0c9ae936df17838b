/**
 * The trip saga's stack: the single table, for every saga in `generated/` its functions and
 * state machine, the search side (its table, the stream consumer that fills it, the query
 * function) and the API. Everything is derived from `generated/`; nothing here names a step.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { TripApi } from './api';
import { TripSagaDashboard } from './cloudwatch-dashboard';
import { DatadogInstrumentation } from './datadog';
import {
  GENERATED_DIR,
  loadGateway,
  loadRequestModel,
  loadSagas,
  loadSearchFunctions,
  loadSearchTable,
  loadTable,
  loadTableAccess,
} from './generated';
import { observabilitySettings } from './observability-config';
import { FunctionReleases } from './release';
import { SagaFunctions } from './saga-functions';
import { SagaStateMachine } from './saga-state-machine';
import { TripSearch } from './search';
import type { StageConfig } from './stage';
import { DefinedTable } from './table';

export interface TripSagaStackProps extends StackProps {
  readonly stage: StageConfig;
  /** Where the generated artefacts are (default: the repository's `generated/`). */
  readonly generatedDir?: string;
}

export interface DeployedSaga {
  readonly functions: SagaFunctions;
  readonly stateMachine: SagaStateMachine;
}

export class TripSagaStack extends Stack {
  readonly stage: StageConfig;
  readonly table: DefinedTable;
  /** By saga name (the manifest's `saga`). */
  readonly sagas: ReadonlyMap<string, DeployedSaga>;
  readonly search: TripSearch;
  readonly api: TripApi;
  /** The canary releases of the functions called outside the saga. */
  readonly releases: FunctionReleases;
  /** The outputs a caller reads after a deploy (the delivery pipeline's post-deploy steps). */
  readonly outputs: { readonly apiUrl: CfnOutput; readonly tableName: CfnOutput };
  /** With `-c datadog=true` (lib/observability-config.ts). */
  readonly datadog?: DatadogInstrumentation;
  /** With `-c cloudwatchDashboard=true`. */
  readonly dashboard?: TripSagaDashboard;

  constructor(scope: Construct, id: string, props: TripSagaStackProps) {
    super(scope, id, props);
    const dir = props.generatedDir ?? GENERATED_DIR;
    const stage = props.stage;
    this.stage = stage;

    this.table = new DefinedTable(this, 'Trips', { definition: loadTable(dir), stage });
    const access = loadTableAccess(dir);
    const sagas = new Map<string, DeployedSaga>();
    for (const saga of loadSagas(dir)) {
      const name = saga.manifest.saga;
      const functions = new SagaFunctions(this, `${name}Functions`, {
        saga,
        access,
        table: this.table,
        stage,
      });
      const stateMachine = new SagaStateMachine(this, name, { saga, functions, stage });
      sagas.set(name, { functions, stateMachine });
      new CfnOutput(this, `${name}LiveAlias`, {
        description: `${name}: the alias to start executions on`,
        value: stateMachine.aliasArn,
      });
    }
    this.sagas = sagas;
    const tableName = new CfnOutput(this, 'TableName', { value: this.table.table.tableName });

    this.search = new TripSearch(this, 'Search', {
      stage,
      source: this.table,
      definition: loadSearchTable(dir),
      functions: loadSearchFunctions(dir),
    });
    new CfnOutput(this, 'SearchTableName', {
      description: 'The search projection (rebuilt from the single table\'s stream)',
      value: this.search.table.table.tableName,
    });
    new CfnOutput(this, 'SearchDeadLetterQueueUrl', {
      description: 'Trips the search projection could not write: inspect and replay',
      value: this.search.deadLetterQueue.queueUrl,
    });

    const gateway = loadGateway(dir);
    const booking = sagas.get(gateway.saga);
    if (booking === undefined) {
      throw new Error(
        `generated/trip_api.gateway.json starts the saga ${gateway.saga}, which generated/ has no manifest for: run \`make gen\``,
      );
    }
    this.api = new TripApi(this, 'BookingApi', {
      stage,
      table: this.table,
      saga: booking.stateMachine,
      gateway,
      requestModel: loadRequestModel(dir),
      routes: [this.search.route],
    });
    const apiUrl = new CfnOutput(this, 'ApiUrl', {
      description: 'The booking API (requests signed with SigV4)',
      value: this.api.url,
    });
    this.outputs = { apiUrl, tableName };

    // Every function a caller reaches through its `live` alias (the API's, the search side's)
    // is released by canary; the saga's are released with their state machine's version.
    this.releases = new FunctionReleases(this, 'Releases');
    for (const [name, { alias }] of this.api.functions) {
      this.releases.add(name, alias);
    }
    this.releases.add(this.search.consumerName, this.search.consumerAlias);
    this.releases.add(this.search.queryName, this.search.queryAlias);

    // Last, so that they see every function, state machine and queue above. Both off by
    // default, and then nothing here changes the stack.
    const observability = observabilitySettings(this.node);
    if (observability.datadog !== undefined) {
      this.datadog = new DatadogInstrumentation(this, 'Datadog', { settings: observability.datadog });
    }
    if (observability.cloudwatchDashboard) {
      this.dashboard = new TripSagaDashboard(this, 'Dashboard');
    }
  }
}
