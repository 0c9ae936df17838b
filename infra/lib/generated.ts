/**
 * What the Rust side generates and the infrastructure reads: the sagas' function manifests and
 * definitions (`cargo run -p saga-dsl`), the tables' definitions and the search side's functions
 * (`make gen`). Nothing in this app names a function, a key or a table attribute: everything
 * comes from these files, so adding a step to a `saga!` changes the deployment with no edit here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The repository's `generated/` directory. */
export const GENERATED_DIR = path.resolve(__dirname, '..', '..', 'generated');

/** One Lambda function of a saga: an entry of `<module>.functions.json`'s `functions`. */
export interface SagaFunction {
  /** The function's name in the saga, e.g. `ReserveFlight` (also its construct id). */
  readonly name: string;
  readonly kind: 'action' | 'compensation' | 'escalation';
  /** The Task state that invokes it. */
  readonly state: string;
  /** The `${…}` placeholder of its ARN in the definition, e.g. `ReserveFlightFunctionArn`. */
  readonly substitution_key: string;
  /** The Cargo package and binary that build it. */
  readonly crate: string;
  readonly binary: string;
  readonly handler: string;
}

/** A compensation or the escalation: a function its Task retries on every error. */
export interface RetriedFunction {
  readonly function: SagaFunction;
  /** Its Task's `TimeoutSeconds`: every compensation and escalation Task has one. */
  readonly timeout_seconds: number;
}

/** A step as the manifest describes it (only what the infrastructure uses). */
export interface SagaStep {
  readonly action: SagaFunction;
  /** The action Task's `TimeoutSeconds`, when it has one. */
  readonly timeout_seconds: number | null;
  readonly compensation?: RetriedFunction | null;
}

/** `generated/<module>.functions.json`: the serde form of the saga's model. */
export interface SagaManifest {
  readonly generated: string;
  readonly saga: string;
  readonly module: string;
  readonly crate: string;
  /** The execution's `TimeoutSeconds`: above the longest path of the saga, so it never cuts a
   * compensation (`null` only from an older generator). */
  readonly timeout_seconds: number | null;
  readonly steps: readonly SagaStep[];
  readonly escalation?: RetriedFunction | null;
  readonly functions: readonly SagaFunction[];
}

/** The `TimeoutSeconds` of the Task that invokes `fn`, or `null` for an action without one. */
export function taskTimeoutOf(manifest: SagaManifest, fn: SagaFunction): number | null {
  for (const step of manifest.steps) {
    if (step.action.name === fn.name) {
      return step.timeout_seconds;
    }
    if (step.compensation?.function.name === fn.name) {
      return step.compensation.timeout_seconds;
    }
  }
  if (manifest.escalation?.function.name === fn.name) {
    return manifest.escalation.timeout_seconds;
  }
  return null;
}

/** A saga: its manifest and its Amazon States Language definition, as text. */
export interface GeneratedSaga {
  readonly manifest: SagaManifest;
  /** `generated/<module>.asl.json`, unparsed: the state machine gets exactly these bytes. */
  readonly definition: string;
}

/** A key attribute of the table or of an index. */
export interface KeyAttribute {
  readonly name: string;
  /** DynamoDB's scalar type name: `S`, `N` or `B`. */
  readonly type: 'S' | 'N' | 'B';
}

/** A global secondary index (all attributes projected). */
export interface IndexDefinition {
  readonly name: string;
  readonly partition_key: KeyAttribute;
  readonly sort_key: KeyAttribute | null;
  readonly serves: string;
}

export type StreamViewType = 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';

/**
 * A table's definition, `kernel::dynamo::table::TableDefinition`: `generated/trip_table.json`
 * (the single table, `kernel::dynamo::table::TABLE`) and `generated/trip_search_table.json` (the
 * search projection, `search::infrastructure::dynamodb::SEARCH_TABLE`). Values are DynamoDB's
 * names.
 */
export interface TableDefinition {
  readonly generated: string;
  /** The environment variable that tells a function the table's name. */
  readonly name_variable: string;
  readonly partition_key: KeyAttribute;
  /** `null`: the table has a partition key only. */
  readonly sort_key: KeyAttribute | null;
  readonly billing_mode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /** `null`: the table has no stream. */
  readonly stream_view_type: StreamViewType | null;
  readonly time_to_live_attribute: string;
  readonly global_secondary_indexes: readonly IndexDefinition[];
}

/** The single table's file, and the search table's. */
export const TABLE_FILE = 'trip_table.json';
export const SEARCH_TABLE_FILE = 'trip_search_table.json';
/** The search side's functions (not a saga's `*.functions.json` manifest). */
export const SEARCH_FUNCTIONS_FILE = 'trip_search_functions.json';

const MANIFEST_SUFFIX = '.functions.json';
const REGENERATE = 'run `cargo run -p saga-dsl` (or `make gen`) at the repository root';

function readJson(file: string): unknown {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: ${REGENERATE}`);
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}): ${REGENERATE}`);
  }
}

function require_<T>(value: T | undefined | null, what: string, file: string): T {
  if (value === undefined || value === null) {
    throw new Error(`${file} has no ${what}: is it from an older saga-dsl? ${REGENERATE}`);
  }
  return value;
}

/** Every saga in `dir`: each `<module>.functions.json` with its `<module>.asl.json`. */
export function loadSagas(dir: string = GENERATED_DIR): GeneratedSaga[] {
  const manifests = readdirSync(dir)
    .filter((name) => name.endsWith(MANIFEST_SUFFIX))
    .sort();
  if (manifests.length === 0) {
    throw new Error(`${dir} holds no *${MANIFEST_SUFFIX}: ${REGENERATE}`);
  }
  return manifests.map((name) => {
    const file = path.join(dir, name);
    const manifest = readJson(file) as SagaManifest;
    const module = require_(manifest.module, '`module`', file);
    require_(manifest.saga, '`saga`', file);
    const functions = require_(manifest.functions, '`functions`', file);
    for (const fn of functions) {
      for (const field of ['name', 'kind', 'state', 'substitution_key', 'binary'] as const) {
        require_(fn[field], `\`${field}\` on a function`, file);
      }
    }
    const aslFile = path.join(dir, `${module}.asl.json`);
    if (!existsSync(aslFile)) {
      throw new Error(`${aslFile} is missing beside ${file}: ${REGENERATE}`);
    }
    return { manifest, definition: readFileSync(aslFile, 'utf8') };
  });
}

/** The single table's definition, `dir/trip_table.json`. */
export function loadTable(dir: string = GENERATED_DIR): TableDefinition {
  return loadTableDefinition(path.join(dir, TABLE_FILE));
}

/** The search table's definition, `dir/trip_search_table.json`. */
export function loadSearchTable(dir: string = GENERATED_DIR): TableDefinition {
  return loadTableDefinition(path.join(dir, SEARCH_TABLE_FILE));
}

function loadTableDefinition(file: string): TableDefinition {
  const table = readJson(file) as TableDefinition;
  for (const field of [
    'name_variable',
    'partition_key',
    'billing_mode',
    'time_to_live_attribute',
    'global_secondary_indexes',
  ] as const) {
    require_(table[field], `\`${field}\``, file);
  }
  // Absent is an older generator; null is a table without a sort key or a stream.
  for (const field of ['sort_key', 'stream_view_type'] as const) {
    if (table[field] === undefined) {
      require_(undefined, `\`${field}\` (null when the table has none)`, file);
    }
  }
  return table;
}

/**
 * `generated/trip_table_access.json` (`trip_saga::table_access`): the IAM actions each function
 * needs on the single table, by saga and function name. Checked against what the functions
 * really send by the saga's end-to-end test on DynamoDB.
 */
export interface TableAccess {
  readonly generated: string;
  readonly sagas: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/** The table actions of every function, `dir/trip_table_access.json`. */
export function loadTableAccess(dir: string = GENERATED_DIR): TableAccess {
  const file = path.join(dir, 'trip_table_access.json');
  const access = readJson(file) as TableAccess;
  require_(access.sagas, '`sagas`', file);
  return access;
}

/** `generated/trip_api.gateway.json` (`trip_local::api::gateway`): the mapping templates of
 * `POST /trips`'s `StartExecution` integration, and examples of both sides. */
export interface GatewayTemplates {
  readonly generated: string;
  /** The saga `POST /trips` starts (its manifest's `saga`). */
  readonly saga: string;
  /** Velocity; `${StateMachineArn}` stands for the ARN executions start on. */
  readonly request_template: string;
  readonly responses: Readonly<Record<'started' | 'refused' | 'unavailable', { readonly status: number; readonly template: string }>>;
  readonly examples: readonly GatewayExample[];
  /** The API's routes served by Lambda functions of the workspace. */
  readonly functions: readonly ApiFunction[];
}

/** A route of the API served by a Lambda function (proxy integration). */
export interface ApiFunction {
  readonly name: string;
  readonly method: string;
  /** e.g. `/trips/{id}`. */
  readonly path: string;
  readonly crate: string;
  readonly binary: string;
  /** The IAM actions it needs on the single table, measured by its test. */
  readonly table_actions: readonly string[];
}

/** A request, and what the local API makes of it. */
export interface GatewayExample {
  readonly name: string;
  readonly idempotency_key: string | null;
  readonly request_id: string;
  readonly body: string;
  /** `null` when the request must not start anything. */
  readonly start_execution: { readonly name: string; readonly input: string } | null;
  readonly execution_arn?: string;
  readonly accepted?: unknown;
  readonly exists?: unknown;
  readonly invalid_key?: unknown;
}

/** The placeholder of the request template that the app replaces with the alias's ARN. */
export const STATE_MACHINE_ARN = '${StateMachineArn}';

/** The API's templates, `dir/trip_api.gateway.json`. */
export function loadGateway(dir: string = GENERATED_DIR): GatewayTemplates {
  const file = path.join(dir, 'trip_api.gateway.json');
  const gateway = readJson(file) as GatewayTemplates;
  require_(gateway.saga, '`saga`', file);
  require_(gateway.request_template, '`request_template`', file);
  require_(gateway.responses, '`responses`', file);
  require_(gateway.functions, '`functions`', file);
  if (!gateway.request_template.includes(STATE_MACHINE_ARN)) {
    throw new Error(`${file}: the request template does not name ${STATE_MACHINE_ARN}`);
  }
  return gateway;
}

/** `POST /trips`'s request model, `dir/trip_api.request.draft4.json` (JSON Schema draft 4). */
export function loadRequestModel(dir: string = GENERATED_DIR): Record<string, unknown> {
  const file = path.join(dir, 'trip_api.request.draft4.json');
  const model = readJson(file) as Record<string, unknown>;
  if (model['$schema'] !== 'http://json-schema.org/draft-04/schema#') {
    throw new Error(`${file} is not a draft 4 schema: API Gateway accepts no other`);
  }
  return model;
}

/** A DynamoDB stream event filter pattern (Lambda's event filtering syntax), as generated. */
export type FilterPattern = Readonly<Record<string, unknown>>;

/** The search projection's stream consumer. */
export interface SearchConsumer {
  readonly name: string;
  readonly crate: string;
  readonly binary: string;
  /** The IAM actions it needs on the search table. */
  readonly search_table_actions: readonly string[];
  /** The environment variable that tells it the dead-letter queue's URL. */
  readonly dead_letter_queue_variable: string;
  /** The records it is given: a record matching any one pattern. */
  readonly filters: readonly FilterPattern[];
}

/** The search API's query function, served as a route of the API (Lambda proxy). */
export interface SearchQuery {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly crate: string;
  readonly binary: string;
  /** The IAM actions it needs on the search table (and its indexes). */
  readonly search_table_actions: readonly string[];
  /** Query-string parameters API Gateway requires before the function runs. */
  readonly required_parameters: readonly string[];
  readonly optional_parameters: readonly string[];
}

/** `generated/trip_search_functions.json` (`trip_local::api::search::functions`). */
export interface SearchFunctions {
  readonly generated: string;
  /** The environment variable that tells both functions the search table's name. */
  readonly search_table_variable: string;
  readonly consumer: SearchConsumer;
  readonly query: SearchQuery;
}

/** The search side's functions, `dir/trip_search_functions.json`. */
export function loadSearchFunctions(dir: string = GENERATED_DIR): SearchFunctions {
  const file = path.join(dir, SEARCH_FUNCTIONS_FILE);
  const search = readJson(file) as SearchFunctions;
  require_(search.search_table_variable, '`search_table_variable`', file);
  const consumer = require_(search.consumer, '`consumer`', file);
  const query = require_(search.query, '`query`', file);
  for (const field of ['name', 'crate', 'binary', 'dead_letter_queue_variable'] as const) {
    require_(consumer[field], `\`consumer.${field}\``, file);
  }
  for (const field of ['name', 'method', 'path', 'crate', 'binary', 'required_parameters', 'optional_parameters'] as const) {
    require_(query[field], `\`query.${field}\``, file);
  }
  for (const [what, actions] of [['consumer', consumer.search_table_actions], ['query', query.search_table_actions]] as const) {
    if (!Array.isArray(actions) || actions.length === 0) {
      throw new Error(`${file}: the ${what} declares no \`search_table_actions\`: ${REGENERATE}`);
    }
  }
  // An empty list would give the consumer every record of the single table.
  if (!Array.isArray(consumer.filters) || consumer.filters.length === 0) {
    throw new Error(`${file}: the consumer declares no \`filters\`: ${REGENERATE}`);
  }
  return search;
}

/** The `${Name}` placeholders of a definition, each once, in order of first use. */
export function placeholders(definition: string): string[] {
  const found = new Set<string>();
  for (const match of definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)) {
    found.add(match[1]);
  }
  return [...found];
}
