/**
 * The booking API: its resources, and its mapping templates executed with a Velocity engine
 * (velocityjs) on the examples the local API's code wrote into generated/trip_api.gateway.json:
 * the StartExecution request must carry exactly the input the local API gives the saga, and the
 * answers must be the local API's bodies.
 */
import { render } from 'velocityjs';
import { loadGateway, loadRequestModel, STATE_MACHINE_ARN, type GatewayExample } from '../lib/generated';
import { THROTTLING, WAF_RATE_LIMIT } from '../lib/api';
import { only, resourcesOf, synth } from './support';

const gateway = loadGateway();
const { template } = synth('dev');
const [aliasId] = only(template, 'AWS::StepFunctions::StateMachineAlias');
const ALIAS_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:TripBooking:live';

// API Gateway's Velocity runs on Java: its strings have Java's methods. velocityjs calls the
// JavaScript ones, which agree for trim, substring, lastIndexOf and endsWith; `matches` is
// Java's whole-string regular-expression match.
declare global {
  interface String {
    matches(regex: string): boolean;
  }
}
String.prototype.matches = function (this: string, regex: string): boolean {
  return new RegExp(`^(?:${regex})$`).test(this);
};

/** `$util.escapeJavaScript` as API Gateway has it (Apache Commons Lang's, UTF-16 code units). */
function escapeJavaScript(text: string): string {
  const named: Record<string, string> = {
    '\b': '\\b', '\n': '\\n', '\t': '\\t', '\f': '\\f', '\r': '\\r',
    "'": "\\'", '"': '\\"', '\\': '\\\\', '/': '\\/',
  };
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const code = text.charCodeAt(i);
    if (named[ch] !== undefined) {
      out += named[ch];
    } else if (code < 32 || code > 0x7f) {
      out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

interface Rendered {
  body: string;
  status?: number;
  headers: Record<string, string>;
}

/** Runs `source` as API Gateway would, on a request (`headers`, `body`) or an integration
 * response (`response`, for `$input.path`). */
function run(
  source: string,
  { headers = {}, body = '', response = {}, requestId = '' }: {
    headers?: Record<string, string | null>;
    body?: string;
    response?: Record<string, unknown>;
    requestId?: string;
  },
): Rendered {
  const context = { requestId, responseOverride: { header: {} as Record<string, string>, status: undefined as number | undefined } };
  const input = {
    params: (name: string) => headers[name] ?? '',
    body,
    path: (path: string) => response[path.replace(/^\$\./, '')],
  };
  const out = render(source, { input, context, util: { escapeJavaScript } });
  return { body: out.trim(), status: context.responseOverride.status, headers: context.responseOverride.header };
}

function startRequest(example: GatewayExample): Record<string, string> {
  const source = gateway.request_template.split(STATE_MACHINE_ARN).join(ALIAS_ARN);
  const rendered = run(source, {
    headers: { 'Idempotency-Key': example.idempotency_key },
    body: example.body,
    requestId: example.request_id,
  });
  return JSON.parse(rendered.body);
}

/** Step Functions' rule for execution names. */
function isValidExecutionName(name: string): boolean {
  return name.length >= 1 && name.length <= 80 && !/[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name);
}

const starting = gateway.examples.filter((e) => e.start_execution !== null);
const refusedKeys = gateway.examples.filter((e) => e.start_execution === null);

test('the examples cover starts, a body spelt with spaces, no key, and keys that are not trip ids', () => {
  expect(starting.length).toBeGreaterThanOrEqual(3);
  expect(starting.some((e) => e.idempotency_key === null)).toBe(true);
  expect(starting.some((e) => /\n/.test(e.body))).toBe(true);
  expect(refusedKeys.length).toBeGreaterThanOrEqual(3);
});

test.each(starting.map((e) => [e.name, e]))('%s: StartExecution gets the local API\'s name and input, on the alias', (_, example) => {
  const request = startRequest(example);
  expect(request).toEqual({
    stateMachineArn: ALIAS_ARN,
    name: example.start_execution!.name,
    input: example.start_execution!.input,
  });
  expect(isValidExecutionName(request.name)).toBe(true);
});

test.each(refusedKeys.map((e) => [e.name, e]))('%s: a name Step Functions refuses, answered as the local API does', (_, example) => {
  const request = startRequest(example);
  expect(isValidExecutionName(request.name)).toBe(false);
  const answer = run(gateway.responses.refused.template, {
    response: {
      __type: 'com.amazonaws.swf.service.v2.model#InvalidName',
      message: `Invalid Name: '${request.name}'`,
    },
  });
  expect(answer.status).toBeUndefined(); // the integration response's own 400
  expect(gateway.responses.refused.status).toBe(400);
  expect(JSON.parse(answer.body)).toEqual(example.invalid_key);
});

test.each(starting.map((e) => [e.name, e]))('%s: started, the 202 and Location the local API gives', (_, example) => {
  const answer = run(gateway.responses.started.template, {
    response: { executionArn: example.execution_arn, startDate: 1.7e9 },
  });
  expect(gateway.responses.started.status).toBe(202);
  expect(JSON.parse(answer.body)).toEqual(example.accepted);
  expect(answer.headers.Location).toBe((example.accepted as any).links.self);
});

test.each(starting.map((e) => [e.name, e]))('%s: ExecutionAlreadyExists, the 409 the local API gives', (_, example) => {
  const answer = run(gateway.responses.refused.template, {
    response: {
      __type: 'com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists',
      message: `Execution Already Exists: '${example.execution_arn}'`,
    },
  });
  expect(answer.status).toBe(409);
  expect(JSON.parse(answer.body)).toEqual(example.exists);
});

test('any other refusal is a 500 error body, and a 5xx a 503 one', () => {
  const failed = run(gateway.responses.refused.template, {
    response: { __type: 'com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist', message: "State Machine Does Not Exist: 'arn:…'" },
  });
  expect(failed.status).toBe(500);
  expect(JSON.parse(failed.body)).toMatchObject({ error: 'start_failed', violations: [] });
  const unavailable = run(gateway.responses.unavailable.template, {});
  expect(JSON.parse(unavailable.body)).toMatchObject({ error: 'start_unavailable', violations: [] });
  expect(gateway.responses.unavailable.status).toBe(503);
});

test('POST /trips: IAM auth, validated body and headers, the generated model, StartExecution on the alias', () => {
  const [methodId, method] = Object.entries(resourcesOf(template, 'AWS::ApiGateway::Method')).find(
    ([, m]) => m.Properties.HttpMethod === 'POST',
  )!;
  expect(methodId).toBeDefined();
  const p = method.Properties;
  expect(p.AuthorizationType).toBe('AWS_IAM');
  expect(p.RequestParameters).toEqual({ 'method.request.header.Idempotency-Key': false });
  const [validatorId, validator] = only(template, 'AWS::ApiGateway::RequestValidator');
  expect(p.RequestValidatorId).toEqual({ Ref: validatorId });
  expect(validator.Properties).toMatchObject({ ValidateRequestBody: true, ValidateRequestParameters: true });
  const [modelId, model] = only(template, 'AWS::ApiGateway::Model');
  expect(p.RequestModels).toEqual({ 'application/json': { Ref: modelId } });
  expect(model.Properties.Schema).toEqual(loadRequestModel());

  const integration = p.Integration;
  expect(integration.Type).toBe('AWS');
  expect(integration.IntegrationHttpMethod).toBe('POST');
  expect(JSON.stringify(integration.Uri)).toContain(':states:action/StartExecution');
  expect(integration.PassthroughBehavior).toBe('NEVER');
  // The template in the stack is the generated one, with the alias's ARN in its placeholder.
  const parts = integration.RequestTemplates['application/json']['Fn::Join'][1];
  const [before, after] = gateway.request_template.split(STATE_MACHINE_ARN);
  expect(parts).toEqual([before, { 'Fn::GetAtt': [aliasId, 'Arn'] }, after]);
  expect(integration.IntegrationResponses.map((r: any) => [r.SelectionPattern, r.StatusCode])).toEqual([
    [undefined, '202'],
    ['4\\d{2}', '400'],
    ['5\\d{2}', '503'],
  ]);

  // The credentials role may start executions on the alias, and do nothing else.
  const roleId = integration.Credentials['Fn::GetAtt'][0];
  const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((pol) => pol.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((pol) => pol.Properties.PolicyDocument.Statement);
  expect(statements).toEqual([
    { Action: 'states:StartExecution', Effect: 'Allow', Resource: { 'Fn::GetAtt': [aliasId, 'Arn'] } },
  ]);
});

test('the stage: throttled, JSON access logs, tracing, error-only execution logs without data', () => {
  const [, stage] = only(template, 'AWS::ApiGateway::Stage');
  const p = stage.Properties;
  expect(p.TracingEnabled).toBe(true);
  expect(JSON.parse(p.AccessLogSetting.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  expect(p.MethodSettings).toEqual([
    expect.objectContaining({
      DataTraceEnabled: false,
      LoggingLevel: 'ERROR',
      ThrottlingRateLimit: THROTTLING.rateLimit,
      ThrottlingBurstLimit: THROTTLING.burstLimit,
    }),
  ]);
});

test('WAF: AWS managed rules and a rate rule per IP, on the stage', () => {
  const [aclId, acl] = only(template, 'AWS::WAFv2::WebACL');
  expect(acl.Properties.Scope).toBe('REGIONAL');
  const rules = acl.Properties.Rules;
  expect(rules.find((r: any) => r.Statement.RateBasedStatement)).toMatchObject({
    Action: { Block: {} },
    Statement: { RateBasedStatement: { Limit: WAF_RATE_LIMIT, AggregateKeyType: 'IP' } },
  });
  const managed = rules.flatMap((r: any) => r.Statement.ManagedRuleGroupStatement?.Name ?? []);
  expect(managed).toEqual(expect.arrayContaining(['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']));
  const [, association] = only(template, 'AWS::WAFv2::WebACLAssociation');
  expect(association.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
  expect(JSON.stringify(association.Properties.ResourceArn)).toContain('/stages/');
});

test.each(gateway.functions.map((f) => [`${f.method} ${f.path}`, f]))('%s: IAM auth, a Lambda proxy on its live alias, exactly its table actions', (_, entry) => {
  const method = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).find(
    (m) => m.Properties.HttpMethod === entry.method && m.Properties.OperationName === entry.name,
  )!;
  expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  expect(method.Properties.RequestParameters).toEqual({ 'method.request.path.id': true });
  expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
  const aliases = resourcesOf(template, 'AWS::Lambda::Alias');
  const uri = JSON.stringify(method.Properties.Integration.Uri);
  const [aliasId, alias] = Object.entries(aliases).find(([id]) => uri.includes(id))!;
  expect(alias.Properties.Name).toBe('live');
  const functionId = alias.Properties.FunctionName.Ref;
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionId];
  expect(fn.Properties).toMatchObject({ Runtime: 'provided.al2023', Architectures: ['arm64'], Handler: 'bootstrap' });
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const grants = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((pol) => pol.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((pol) => pol.Properties.PolicyDocument.Statement)
    .filter((st) => [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
  expect(grants.map((st) => [st.Action].flat().sort())).toEqual([[...entry.table_actions].sort()]);
  // API Gateway may invoke the alias (and only it: not $LATEST).
  const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter(
    (perm) => perm.Properties.FunctionName.Ref === aliasId,
  );
  expect(permissions.length).toBeGreaterThan(0);
  expect(permissions.every((perm) => perm.Properties.Principal === 'apigateway.amazonaws.com')).toBe(true);
});

test("API Gateway's own refusals answer with the API's error body", () => {
  const responses = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse'));
  const byType = Object.fromEntries(responses.map((r) => [r.Properties.ResponseType, r.Properties.ResponseTemplates['application/json']]));
  expect(byType.BAD_REQUEST_BODY).toBe('{"error":"invalid_request","message":$context.error.messageString,"violations":[]}');
  expect(byType.UNSUPPORTED_MEDIA_TYPE).toContain('"unsupported_media_type"');
  const rendered = run(byType.BAD_REQUEST_BODY.replace('$context.error.messageString', '"Invalid request body"'), {});
  expect(JSON.parse(rendered.body)).toEqual({ error: 'invalid_request', message: 'Invalid request body', violations: [] });
});
