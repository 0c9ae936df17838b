import { loadSagas, loadTable, loadTableAccess, taskTimeoutOf } from '../lib/generated';
import { logicalIdOf, resourcesOf, synth } from './support';

const sagas = loadSagas();
const entries = sagas.flatMap((s) => s.manifest.functions);
const table = loadTable();
const access = loadTableAccess();
const { stack, template } = synth('dev');
// The saga's functions (the API's have their own tests).
const functions = Object.fromEntries(
  Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(([, f]) =>
    sagas.some((s) => f.Properties.Description.startsWith(`${s.manifest.saga}: `)),
  ),
);
const roles = resourcesOf(template, 'AWS::IAM::Role');
const policies = resourcesOf(template, 'AWS::IAM::Policy');
const logGroups = resourcesOf(template, 'AWS::Logs::LogGroup');
const tableId = logicalIdOf(stack.table.table);

/** The function built from `binary` (the one whose description names its handler). */
function functionOf(entry: (typeof entries)[number]) {
  const found = Object.entries(functions).filter(([, f]) =>
    f.Properties.Description.includes(`: ${entry.name} (${entry.handler})`),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

function statementsOf(roleId: string): any[] {
  return Object.values(policies)
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

test('one function per manifest entry, and no other', () => {
  expect(entries.length).toBeGreaterThan(0);
  expect(Object.keys(functions)).toHaveLength(entries.length);
  for (const entry of entries) {
    functionOf(entry);
  }
});

test.each(entries.map((e) => [e.name, e]))('%s: arm64, provided.al2023, traced, JSON logs in its own group', (_, entry) => {
  const [, fn] = functionOf(entry);
  const p = fn.Properties;
  expect(p.Runtime).toBe('provided.al2023');
  expect(p.Architectures).toEqual(['arm64']);
  expect(p.Handler).toBe('bootstrap');
  expect(p.TracingConfig).toEqual({ Mode: 'Active' });
  expect(p.LoggingConfig.LogFormat).toBe('JSON');
  const logGroupId = p.LoggingConfig.LogGroup.Ref;
  expect(logGroups[logGroupId].Properties.RetentionInDays).toBe(14);
  expect(p.Environment.Variables[table.name_variable]).toEqual({ Ref: tableId });
  // Below the state's own timeout, so the function fails before Step Functions gives up on it:
  // a retry or a compensation never runs beside a call that is still going.
  const manifest = sagas.find((s) => s.manifest.functions.includes(entry))!.manifest;
  const timeout = taskTimeoutOf(manifest, entry);
  if (entry.kind !== 'action') {
    // Every compensation and escalation Task has one: a hung undo must be retried, then escalated.
    expect(timeout).not.toBeNull();
  }
  if (timeout !== null) {
    expect(p.Timeout).toBeLessThan(timeout);
  }
});

test.each(entries.map((e) => [e.name, e]))('%s: its own role, its own table actions on the table only, logs to its own group', (_, entry) => {
  const [, fn] = functionOf(entry);
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const others = Object.values(functions).filter(
    (f) => f !== fn && f.Properties.Role['Fn::GetAtt'][0] === roleId,
  );
  expect(others).toHaveLength(0);
  expect(roles[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  const statements = statementsOf(roleId);
  const dynamo = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
  expect(dynamo).toHaveLength(1);
  const saga = sagas.find((s) => s.manifest.functions.includes(entry))!.manifest.saga;
  const declared = access.sagas[saga][entry.name];
  expect(declared.length).toBeGreaterThan(0);
  expect([dynamo[0].Action].flat().sort()).toEqual([...declared].sort());
  expect(dynamo[0].Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
  const logs = statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'));
  expect(logs.Resource).toEqual({ 'Fn::GetAtt': [fn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] });
  // The only statement on every resource is X-Ray's (which has no resource-level permissions).
  for (const s of statements.filter((s) => s.Resource === '*')) {
    expect([s.Action].flat().sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  }
});

test('functions that do different things get different grants', () => {
  const grants = new Set(Object.values(access.sagas).flatMap((fns) => Object.values(fns).map((a) => [...a].sort().join())));
  expect(grants.size).toBeGreaterThan(1);
});

test('every function has a published version, which is what the state machine calls', () => {
  const versions = Object.values(resourcesOf(template, 'AWS::Lambda::Version')).filter(
    (v) => functions[v.Properties.FunctionName.Ref] !== undefined,
  );
  expect(versions).toHaveLength(entries.length);
  const deployed = [...stack.sagas.values()].flatMap((s) => s.functions.functions);
  expect(deployed.map((d) => d.entry.binary).sort()).toEqual(entries.map((e) => e.binary).sort());
});
