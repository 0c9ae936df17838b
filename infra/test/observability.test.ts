/**
 * Observability: off by default and then invisible in the templates; with `-c datadog=true` the
 * Datadog extension, the OpenTelemetry and DogStatsD variables, the API key's grant and the tags
 * on every function, Datadog's Step Functions instrumentation on every state machine; the Datadog
 * dashboard and monitors (observability/) against the metric contract and the stacks' tags; and
 * the CloudWatch dashboard (`-c cloudwatchDashboard=true`).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { addStacks } from '../lib/app';
import { datadogDashboard, datadogFiles, datadogMonitors, P99_THRESHOLD_MS } from '../lib/datadog-json';
import { loadGateway, loadSagas, loadSearchFunctions } from '../lib/generated';
import {
  APP,
  AWS_INTEGRATION_METRICS,
  CUSTOM_METRICS,
  DEAD_LETTER_QUEUE_ROLE,
  sagaService,
  tableFunctions,
  TAG,
} from '../lib/observability';
import { DEFAULT_EXTENSION_LAYER_VERSION, observabilitySettings, UNVERSIONED } from '../lib/observability-config';
import type { TripSagaPipelineStack } from '../lib/pipeline';
import { ITERATOR_AGE_THRESHOLD_MS } from '../lib/search';
import { TripSagaStack } from '../lib/trip-saga-stack';
import {
  DATADOG_API_KEY_SECRET,
  DATADOG_CONTEXT,
  DATADOG_FORWARDER,
  logicalIdOf,
  only,
  type Resources,
  resourcesOf,
  statementsOf,
  synth,
} from './support';

const CONNECTION = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0c0ffee0-0000-4000-8000-000000000000';
const FUNCTIONS_ONLY = { ...DATADOG_CONTEXT, datadogForwarderArn: undefined, datadogStepFunctions: 'false' };

/** The variables the Rust handlers read, and the one that makes the extension receive OTLP. */
const TELEMETRY_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_SERVICE_NAME',
  'DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT',
  'DD_DOGSTATSD_URL',
];

/** The extension's layer, in the stack's region (a token: the tests' stacks have no environment). */
const EXTENSION_LAYER = (version: number) => ({
  'Fn::Join': ['', ['arn:aws:lambda:', { Ref: 'AWS::Region' }, `:464622532012:layer:Datadog-Extension-ARM:${version}`]],
});

function tagsOf(resource: Resources[string]): Record<string, string> {
  return Object.fromEntries((resource.Properties.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value]));
}

/** The Cargo binaries of every function `generated/` declares. */
function generatedBinaries(): string[] {
  const search = loadSearchFunctions();
  return [
    ...loadSagas().flatMap((s) => s.manifest.functions.map((f) => f.binary)),
    ...loadGateway().functions.map((f) => f.binary),
    search.consumer.binary,
    search.query.binary,
  ].sort();
}

const plain = synth('dev');
/** Datadog on the functions and the state machine: what most tests below look at. */
const datadog = synth('dev', undefined, DATADOG_CONTEXT);

describe('off by default: the stacks are what they were', () => {
  const everything = (template: Template) => JSON.stringify(template.toJSON());

  test.each(['dev', 'prod'] as const)('%s: switched off explicitly, or given Datadog settings without the switch, the template is the same', (stage) => {
    const byDefault = stage === 'dev' ? plain.template : synth(stage).template;
    const off = synth(stage, undefined, { datadog: 'false', cloudwatchDashboard: false });
    expect(off.template.toJSON()).toEqual(byDefault.toJSON());
    const ignored = synth(stage, undefined, { ...DATADOG_CONTEXT, datadog: undefined });
    expect(ignored.template.toJSON()).toEqual(byDefault.toJSON());
  });

  test('no trace of Datadog, OpenTelemetry or a dashboard', () => {
    const json = everything(plain.template);
    const marks = ['DD_', 'OTEL_', 'Datadog', '464622532012', 'dd_cdk_construct', 'secretsmanager', TAG.queueRole];
    expect(marks.filter((mark) => json.includes(mark))).toEqual([]);
    for (const type of ['AWS::CloudWatch::Dashboard', 'AWS::Logs::SubscriptionFilter']) {
      expect(resourcesOf(plain.template, type)).toEqual({});
    }
    for (const fn of Object.values(resourcesOf(plain.template, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.Layers).toBeUndefined();
      expect(fn.Properties.Tags).toBeUndefined();
      const variables = Object.keys(fn.Properties.Environment.Variables);
      expect(variables.filter((v) => TELEMETRY_VARIABLES.includes(v) || v.startsWith('DD_'))).toEqual([]);
    }
    const [, machine] = only(plain.template, 'AWS::StepFunctions::StateMachine');
    expect(machine.Properties.LoggingConfiguration.IncludeExecutionData).toBe(false);
    expect(plain.stack.datadog).toBeUndefined();
    expect(plain.stack.dashboard).toBeUndefined();
  });
});

describe('-c datadog=true: every function', () => {
  const { stack, template } = datadog;
  const functions = resourcesOf(template, 'AWS::Lambda::Function');
  const entries = Object.entries(functions);

  test('every function of the stack is a Rust function of generated/, and no function is added', () => {
    expect(entries.length).toBe(Object.keys(resourcesOf(plain.template, 'AWS::Lambda::Function')).length);
    expect(tableFunctions(stack).map((f) => f.binary).sort()).toEqual(generatedBinaries());
    expect(entries.map(([, f]) => f.Properties.Environment.Variables.DD_SERVICE).sort()).toEqual(generatedBinaries());
  });

  test.each(entries.map(([id, f]) => [id, f]))('%s: the extension layer for arm64, no language layer, no handler redirection', (_, fn) => {
    const p = fn.Properties;
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Runtime).toBe('provided.al2023');
    expect(p.Layers).toEqual([EXTENSION_LAYER(DEFAULT_EXTENSION_LAYER_VERSION)]);
    expect(p.Handler).toBe('bootstrap');
    const variables = p.Environment.Variables;
    expect(variables.DD_LAMBDA_HANDLER).toBeUndefined();
    expect(variables.AWS_LAMBDA_EXEC_WRAPPER).toBeUndefined();
  });

  test.each(entries.map(([id, f]) => [id, f]))('%s: OpenTelemetry to the extension, DogStatsD, env/service/version, the key from Secrets Manager', (_, fn) => {
    const variables = fn.Properties.Environment.Variables;
    const service = variables.DD_SERVICE;
    expect(generatedBinaries()).toContain(service);
    expect(variables).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: service,
      DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: 'localhost:4318',
      DD_DOGSTATSD_URL: 'udp://127.0.0.1:8125',
      DD_TRACE_ENABLED: 'true',
      DD_ENV: 'dev',
      DD_VERSION: UNVERSIONED,
      DD_SITE: 'datadoghq.com',
      DD_API_KEY_SECRET_ARN: DATADOG_API_KEY_SECRET,
      DD_CAPTURE_LAMBDA_PAYLOAD: 'false',
      // Source code integration off: no commit in the environment.
      DD_TAGS: `${TAG.app}:${APP}`,
    });
    expect(variables.DD_API_KEY).toBeUndefined();
    expect(tagsOf(fn)).toMatchObject({ app: APP, env: 'dev', service, version: UNVERSIONED });
  });

  test.each(entries.map(([id, f]) => [id, f]))('%s: its role may read the API key secret, that secret only', (_, fn) => {
    const statements = statementsOf(template, fn.Properties.Role['Fn::GetAtt'][0]);
    const secret = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
    expect(secret).toHaveLength(1);
    expect([secret[0].Action].flat().sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(secret[0]).toMatchObject({ Effect: 'Allow', Resource: DATADOG_API_KEY_SECRET });
  });

  test('the same synthesis twice is the same template (no time, no git)', () => {
    expect(synth('dev', undefined, DATADOG_CONTEXT).template.toJSON()).toEqual(template.toJSON());
  });

  test('no warning is left unacknowledged', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('the site, the layer version and the version from the context', () => {
    const custom = synth('prod', undefined, {
      ...DATADOG_CONTEXT,
      datadogSite: 'datadoghq.eu',
      datadogExtensionLayerVersion: '95',
      version: '1.4.0',
    }).template;
    for (const fn of Object.values(resourcesOf(custom, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.Layers).toEqual([EXTENSION_LAYER(95)]);
      expect(fn.Properties.Environment.Variables).toMatchObject({ DD_SITE: 'datadoghq.eu', DD_ENV: 'prod', DD_VERSION: '1.4.0' });
      expect(tagsOf(fn)).toMatchObject({ env: 'prod', version: '1.4.0' });
    }
  });
});

describe('-c datadog=true: the state machine', () => {
  test('with the Forwarder: every event with its data, to the Forwarder, tagged for tracing', () => {
    const { template } = datadog;
    const [, machine] = only(template, 'AWS::StepFunctions::StateMachine');
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    const logGroup = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn;
    const [, filter] = only(template, 'AWS::Logs::SubscriptionFilter');
    expect(filter.Properties.DestinationArn).toBe(DATADOG_FORWARDER);
    expect(filter.Properties.FilterPattern).toBe('');
    expect(JSON.stringify(filter.Properties.LogGroupName)).toContain(JSON.stringify(logGroup));
    const saga = loadSagas()[0].manifest.saga;
    expect(tagsOf(machine)).toMatchObject({
      DD_TRACE_ENABLED: 'true',
      app: APP,
      env: 'dev',
      service: sagaService(saga),
      version: UNVERSIONED,
    });
    expect(sagaService('TripBooking')).toBe('trip-booking');
    // Still traced by X-Ray.
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  test('with -c datadogStepFunctions=false: tagged for the metrics, its log unchanged, no Forwarder', () => {
    const { template } = synth('dev', undefined, FUNCTIONS_ONLY);
    const [, machine] = only(template, 'AWS::StepFunctions::StateMachine');
    const [, plainMachine] = only(plain.template, 'AWS::StepFunctions::StateMachine');
    expect(machine.Properties.LoggingConfiguration).toEqual(plainMachine.Properties.LoggingConfiguration);
    expect(resourcesOf(template, 'AWS::Logs::SubscriptionFilter')).toEqual({});
    const tags = tagsOf(machine);
    expect(tags).toMatchObject({ app: APP, env: 'dev', service: 'trip-booking', version: UNVERSIONED });
    expect(tags.DD_TRACE_ENABLED).toBeUndefined();
  });
});

describe('-c datadog=true: dead-letter queues', () => {
  test('every dead-letter queue (an on-failure destination or a redrive target) is tagged as one', () => {
    const { template } = datadog;
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    const targets = new Set<string>([
      ...Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'))
        .map((m) => m.Properties.DestinationConfig?.OnFailure?.Destination?.['Fn::GetAtt']?.[0])
        .filter((id): id is string => id !== undefined),
      ...Object.values(queues)
        .map((q) => q.Properties.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0])
        .filter((id): id is string => id !== undefined),
    ]);
    expect(targets.size).toBeGreaterThan(0);
    for (const id of targets) {
      expect(tagsOf(queues[id])).toEqual({ app: APP, env: 'dev', [TAG.queueRole]: DEAD_LETTER_QUEUE_ROLE });
    }
  });
});

describe('-c datadog=true: clear errors', () => {
  /** The settings of an app with `context`: what the stack reads first. */
  const attempt = (context: Record<string, unknown>) => () => observabilitySettings(new App({ context }).node);

  test('without the API key secret, the synthesis fails naming the key and showing how to pass it', () => {
    expect(() => synth('dev', undefined, { ...DATADOG_CONTEXT, datadogApiKeySecretArn: undefined })).toThrow(
      /-c datadog=true needs the secret that holds the Datadog API key: pass -c datadogApiKeySecretArn=.*e\.g\. -c datadogApiKeySecretArn=arn:aws:secretsmanager:/,
    );
  });

  test('a secret ARN that is not one', () => {
    for (const arn of [
      'datadog-api-key',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/datadog-api-key-AbCdEf',
    ]) {
      expect(attempt({ ...DATADOG_CONTEXT, datadogApiKeySecretArn: arn })).toThrow(/-c datadogApiKeySecretArn=.* is not valid/);
    }
  });

  test('without the Forwarder: names it, says what it costs, and how to do without', () => {
    expect(attempt({ ...DATADOG_CONTEXT, datadogForwarderArn: undefined })).toThrow(
      /card tokens.*pass -c datadogForwarderArn=.*or -c datadogStepFunctions=false to instrument the functions only/,
    );
    expect(attempt({ ...DATADOG_CONTEXT, datadogForwarderArn: 'datadog-forwarder' })).toThrow(/-c datadogForwarderArn=datadog-forwarder is not valid/);
  });

  test('a site Datadog does not have, a switch that is not a boolean, a version or layer that is not one', () => {
    expect(attempt({ ...DATADOG_CONTEXT, datadogSite: 'datadog.com' })).toThrow(/-c datadogSite=datadog.com is not valid: expected one of datadoghq.com, /);
    expect(attempt({ ...DATADOG_CONTEXT, datadog: 'yes' })).toThrow(/-c datadog=yes is not valid: expected -c datadog=true or -c datadog=false/);
    expect(attempt({ cloudwatchDashboard: 'on' })).toThrow(/-c cloudwatchDashboard=on is not valid/);
    expect(attempt({ ...DATADOG_CONTEXT, version: 'a b' })).toThrow(/-c version=a b is not valid/);
    expect(attempt({ ...DATADOG_CONTEXT, datadogExtensionLayerVersion: 'latest' })).toThrow(/-c datadogExtensionLayerVersion=latest is not valid/);
  });

  test('settings that are fine are read as given', () => {
    expect(attempt({ ...FUNCTIONS_ONLY, datadogSite: 'us5.datadoghq.com', version: '2.0.1' })()).toEqual({
      datadog: {
        apiKeySecretArn: DATADOG_API_KEY_SECRET,
        site: 'us5.datadoghq.com',
        extensionLayerVersion: DEFAULT_EXTENSION_LAYER_VERSION,
        version: '2.0.1',
        stepFunctions: undefined,
      },
      cloudwatchDashboard: false,
    });
  });
});

describe('-c datadog=true: every stack the app makes', () => {
  test('the plain stack, as make deploy deploys it', () => {
    const app = new App({ context: { ...DATADOG_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const stack = addStacks(app) as TripSagaStack;
    expect(stack).toBeInstanceOf(TripSagaStack);
    const functions = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    expect(functions.every((f) => f.Properties.Layers?.length === 1)).toBe(true);
  });

  test('the pipeline: both stages instrumented, and its own synth step keeps the switches', () => {
    const app = new App({
      context: {
        ...DATADOG_CONTEXT,
        'aws:cdk:bundling-stacks': [],
        pipeline: 'true',
        connectionArn: CONNECTION,
        repo: 'example/trip-saga',
      },
    });
    const pipeline = addStacks(app) as TripSagaPipelineStack;
    for (const stage of [pipeline.dev, pipeline.prod]) {
      const template = Template.fromStack(stage.stack);
      const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
      expect(functions.length).toBeGreaterThan(0);
      for (const fn of functions) {
        expect(fn.Properties.Layers).toEqual([EXTENSION_LAYER(DEFAULT_EXTENSION_LAYER_VERSION)]);
        expect(fn.Properties.Environment.Variables.DD_ENV).toBe(stage.stack.stage.name);
      }
      expect(resourcesOf(template, 'AWS::Logs::SubscriptionFilter')).not.toEqual({});
    }
    const projects = resourcesOf(Template.fromStack(pipeline), 'AWS::CodeBuild::Project');
    const synthCommand = Object.values(projects)
      .map((p) => p.Properties.Source.BuildSpec)
      .filter((spec): spec is string => typeof spec === 'string' && spec.startsWith('{'))
      .map((spec) => JSON.parse(spec))
      .flatMap((spec) => spec.phases?.build?.commands ?? [])
      .find((c: string) => c.startsWith('cd infra && npx --no-install cdk synth'));
    expect(synthCommand).toContain(
      ` -c datadog=true -c datadogApiKeySecretArn=${DATADOG_API_KEY_SECRET} -c datadogSite=datadoghq.com -c datadogExtensionLayerVersion=${DEFAULT_EXTENSION_LAYER_VERSION} -c version=${UNVERSIONED} -c datadogForwarderArn=${DATADOG_FORWARDER} `,
    );
  });
});

/** The metric names a Datadog query reads (`agg:metric{…}`). */
function metricsOf(query: string): string[] {
  return [...query.matchAll(/\b(?:avg|sum|min|max|count|p\d{2}):([a-z0-9_.]+)\{/g)].map((m) => m[1]);
}

/** Every query of the dashboard's widgets, with the widget's title. */
function dashboardQueries(dashboard: any): { title: string; query: string }[] {
  return dashboard.widgets
    .filter((w: any) => w.definition.type !== 'note')
    .flatMap((w: any) =>
      w.definition.requests.flatMap((r: any) => r.queries.map((q: any) => ({ title: w.definition.title, query: q.query }))),
    );
}

describe('the Datadog dashboard and monitors (observability/)', () => {
  const dashboard: any = datadogDashboard();
  const monitors: any[] = datadogMonitors();
  const allowed = new Set<string>([...Object.values(CUSTOM_METRICS), ...Object.values(AWS_INTEGRATION_METRICS)]);
  const queries = [...dashboardQueries(dashboard).map((q) => q.query), ...monitors.map((m) => m.query)];
  const { stack, template } = datadog;

  test('the committed files are what `npm run observability` writes', () => {
    for (const [file, content] of Object.entries(datadogFiles())) {
      expect({ file, content: readFileSync(path.resolve(__dirname, '..', file), 'utf8') }).toEqual({ file, content });
    }
  });

  test('the custom metrics are the contract with the Rust handlers, name for name', () => {
    expect(Object.values(CUSTOM_METRICS).sort()).toEqual([
      'trip.bookings.cancelled',
      'trip.bookings.confirmed',
      'trip.payments.amount',
      'trip.saga.compensations',
      'trip.saga.escalations',
    ]);
    for (const metric of Object.values(AWS_INTEGRATION_METRICS)) {
      expect(metric).toMatch(/^aws\.(states|lambda|sqs)\.[a-z_]+(\.(p50|p99|maximum))?$/);
    }
  });

  test('every query reads a metric, and only metrics of the contract or of the AWS integration', () => {
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) {
      const metrics = metricsOf(query);
      expect({ query, metrics: metrics.length > 0 }).toEqual({ query, metrics: true });
      for (const metric of metrics) {
        expect({ query, metric, allowed: allowed.has(metric) }).toEqual({ query, metric, allowed: true });
      }
    }
    // And every contract metric is shown somewhere.
    const shown = new Set(queries.flatMap(metricsOf));
    for (const metric of Object.values(CUSTOM_METRICS)) {
      expect(shown).toContain(metric);
    }
  });

  test('every panel is scoped to this app and to the selected env', () => {
    expect(dashboard.template_variables).toEqual([expect.objectContaining({ name: 'env', prefix: TAG.env, available_values: ['dev', 'prod'] })]);
    for (const { title, query } of dashboardQueries(dashboard)) {
      for (const scope of [...query.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((s) => s.includes(':'))) {
        expect({ title, scope: scope.split(',').slice(0, 2) }).toEqual({ title, scope: [`${TAG.app}:${APP}`, '$env'] });
      }
    }
  });

  test('the panels the issue asks for', () => {
    const titles = dashboard.widgets.map((w: any) => w.definition.title).filter(Boolean);
    for (const wanted of [
      /executions by outcome/,
      /Compensations by step/,
      /Escalations/,
      /Bookings confirmed and cancelled/,
      /Payments: amount/,
      /latency p50 per function/,
      /latency p99 per function/,
      /iterator age/,
      /Dead-letter queues/,
    ]) {
      expect(titles.some((t: string) => wanted.test(t))).toBe(true);
    }
    const outcomes = dashboardQueries(dashboard).filter((q) => /executions by outcome/.test(q.title)).flatMap((q) => metricsOf(q.query));
    expect(outcomes).toEqual([
      AWS_INTEGRATION_METRICS.executionsSucceeded,
      AWS_INTEGRATION_METRICS.executionsFailed,
      AWS_INTEGRATION_METRICS.executionsTimedOut,
      AWS_INTEGRATION_METRICS.executionsAborted,
    ]);
    expect(queries.some((q) => q.includes(`${CUSTOM_METRICS.compensations}{${TAG.app}:${APP},$env} by {step}`))).toBe(true);
    expect(queries.some((q) => q.includes(`${CUSTOM_METRICS.paymentAmount}{${TAG.app}:${APP},$env} by {currency}`))).toBe(true);
  });

  test('every monitor: a name, a message, thresholds, and its query compares against the critical one', () => {
    expect(monitors.map((m) => m.name)).toEqual([
      expect.stringContaining('executions'),
      expect.stringContaining('timed out'),
      expect.stringContaining('escalated'),
      expect.stringContaining('search is behind'),
      expect.stringContaining('dead-letter queue'),
      expect.stringContaining('p99'),
    ]);
    for (const m of monitors) {
      expect(m.type).toBe('query alert');
      expect(m.message.length).toBeGreaterThan(80);
      expect(m.tags).toContain(`${TAG.app}:${APP}`);
      const { critical, warning } = m.options.thresholds;
      expect(typeof critical).toBe('number');
      if (warning !== undefined) {
        expect(warning).toBeLessThan(critical);
      }
      const comparison = /^(?:sum|avg|max|min)\(last_\d+m\):.* > (\d+(?:\.\d+)?)$/.exec(m.query);
      expect({ name: m.name, comparison: comparison?.[1] }).toEqual({ name: m.name, comparison: String(critical) });
      // One alert per env: dev's and prod's are told apart.
      expect(m.query).toMatch(/ by \{env[,}]/);
      expect(m.query).toContain(`{${TAG.app}:${APP}`);
      // Only the AWS integration's metrics arrive late.
      expect(m.options.evaluation_delay !== undefined).toBe(metricsOf(m.query).every((metric) => metric.startsWith('aws.')));
    }
  });

  test('the thresholds are the stacks\' own', () => {
    const byName = (part: string) => monitors.find((m) => m.name.includes(part));
    expect(byName('search is behind').options.thresholds.critical).toBe(ITERATOR_AGE_THRESHOLD_MS);
    expect(byName('p99').options.thresholds.critical).toBe(P99_THRESHOLD_MS);
    expect(byName('escalated').options.thresholds.critical).toBe(0);
    expect(byName('dead-letter').options.thresholds.critical).toBe(0);
  });

  test('the tags the queries filter on are those the stack puts on its resources', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    // The iterator age is the stream consumer's: the function the mapping invokes (through its alias).
    const [, mapping] = only(template, 'AWS::Lambda::EventSourceMapping');
    const aliasId = /"Ref":"([A-Za-z0-9]+)"/.exec(JSON.stringify(mapping.Properties.FunctionName))![1];
    const consumerId = resourcesOf(template, 'AWS::Lambda::Alias')[aliasId].Properties.FunctionName.Ref;
    const consumerService = tagsOf(functions[consumerId]).service;
    const iteratorQueries = queries.filter((q) => q.includes(AWS_INTEGRATION_METRICS.iteratorAgeMaximum));
    expect(iteratorQueries.length).toBe(2);
    for (const q of iteratorQueries) {
      expect(q).toContain(`${TAG.service}:${consumerService}`);
    }
    expect(consumerId).toBe(logicalIdOf(stack.search.consumer.function));
    // Every function and state machine carries the app, env and service tags the queries group by.
    for (const resource of [
      ...Object.values(functions),
      ...Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine')),
    ]) {
      expect(Object.keys(tagsOf(resource))).toEqual(expect.arrayContaining([TAG.app, TAG.env, TAG.service]));
    }
    const deadLetterQueries = queries.filter((q) => q.includes(AWS_INTEGRATION_METRICS.messagesVisible));
    expect(deadLetterQueries.length).toBe(2);
    for (const q of deadLetterQueries) {
      expect(q).toContain(`${TAG.queueRole}:${DEAD_LETTER_QUEUE_ROLE}`);
    }
  });
});

/** The dashboard's body with every reference written `${LogicalId}` (or `${AWS::Region}`), parsed. */
function dashboardBody(resource: Resources[string]): any {
  const body = resource.Properties.DashboardBody;
  const parts: unknown[] = body['Fn::Join'][1];
  const text = parts
    .map((p: any) => (typeof p === 'string' ? p : `\${${p.Ref ?? p['Fn::GetAtt']?.join('.')}}`))
    .join('');
  return JSON.parse(text);
}

describe('-c cloudwatchDashboard=true: the same panels from CloudWatch metrics', () => {
  const { stack, template } = synth('dev', undefined, { cloudwatchDashboard: 'true' });
  const [, resource] = only(template, 'AWS::CloudWatch::Dashboard');
  const body = dashboardBody(resource);
  const graphs = body.widgets.filter((w: any) => w.type === 'metric');
  const widget = (title: RegExp) => {
    const found = graphs.filter((w: any) => title.test(w.properties.title));
    expect(found).toHaveLength(1);
    return found[0].properties;
  };
  /** `[namespace, metric, dimension, value, options]` of each metric of a widget. */
  const metricsOfWidget = (properties: any) =>
    properties.metrics.map((m: any[]) => ({ namespace: m[0], name: m[1], dimensions: m.slice(2, -1), options: m.at(-1) }));

  test('without Datadog, and named by CloudFormation', () => {
    expect(resourcesOf(template, 'AWS::Logs::SubscriptionFilter')).toEqual({});
    expect(resource.Properties.DashboardName).toBeUndefined();
    expect(stack.datadog).toBeUndefined();
  });

  test('executions by outcome: succeeded, failed, timed out, aborted of each state machine', () => {
    for (const [name, { stateMachine }] of stack.sagas) {
      const metrics = metricsOfWidget(widget(new RegExp(`^${name}: executions by outcome`)));
      expect(metrics.map((m: any) => [m.namespace, m.name, m.options.stat, m.options.label])).toEqual([
        ['AWS/States', 'ExecutionsSucceeded', 'Sum', 'succeeded'],
        ['AWS/States', 'ExecutionsFailed', 'Sum', 'failed'],
        ['AWS/States', 'ExecutionsTimedOut', 'Sum', 'timed out'],
        ['AWS/States', 'ExecutionsAborted', 'Sum', 'aborted'],
      ]);
      for (const m of metrics) {
        expect(m.dimensions).toEqual(['StateMachineArn', `\${${logicalIdOf(stateMachine.stateMachine)}}`]);
      }
    }
  });

  test('compensations by step and escalations: invocations of exactly those functions, labelled by state', () => {
    for (const [name, { functions }] of stack.sagas) {
      for (const [kind, title] of [['compensation', 'compensations by step'], ['escalation', 'escalations']] as const) {
        const expected = functions.functions.filter((f) => f.entry.kind === kind);
        expect(expected.length).toBeGreaterThan(0);
        const metrics = metricsOfWidget(widget(new RegExp(`^${name}: ${title}`)));
        expect(metrics.map((m: any) => [m.namespace, m.name, m.dimensions, m.options.stat, m.options.label])).toEqual(
          expected.map((f) => ['AWS/Lambda', 'Invocations', ['FunctionName', `\${${logicalIdOf(f.function)}}`], 'Sum', f.entry.state]),
        );
      }
    }
  });

  test('duration p50 and p99 of every function', () => {
    const functions = tableFunctions(stack);
    expect(functions.length).toBe(Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).length);
    for (const stat of ['p50', 'p99']) {
      const metrics = metricsOfWidget(widget(new RegExp(`^Duration ${stat} per function`)));
      expect(metrics.map((m: any) => [m.name, m.options.stat, m.dimensions[1]]).sort()).toEqual(
        functions.map((f) => ['Duration', stat, `\${${logicalIdOf(f.function)}}`]).sort(),
      );
    }
  });

  test('the projector\'s iterator age, with its alarm\'s threshold, and every dead-letter queue\'s depth', () => {
    const iterator = widget(/iterator age/);
    expect(metricsOfWidget(iterator)).toEqual([
      expect.objectContaining({
        namespace: 'AWS/Lambda',
        name: 'IteratorAge',
        dimensions: ['FunctionName', `\${${logicalIdOf(stack.search.consumer.function)}}`],
        options: expect.objectContaining({ stat: 'Maximum' }),
      }),
    ]);
    expect(iterator.annotations.horizontal).toEqual([expect.objectContaining({ value: ITERATOR_AGE_THRESHOLD_MS })]);
    const dlq = metricsOfWidget(widget(/Dead-letter queues/));
    expect(dlq).toEqual([
      expect.objectContaining({
        namespace: 'AWS/SQS',
        name: 'ApproximateNumberOfMessagesVisible',
        dimensions: ['QueueName', `\${${logicalIdOf(stack.search.deadLetterQueue)}.QueueName}`],
        options: expect.objectContaining({ stat: 'Maximum' }),
      }),
    ]);
  });
});
