import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadSagas, placeholders } from '../lib/generated';
import { LIVE_ALIAS, SAGA_CANARY } from '../lib/saga-state-machine';
import { logicalIdOf, only, resourcesOf, synth } from './support';

const [saga] = loadSagas();
const { stack, template } = synth('dev');
const [machineId, machine] = only(template, 'AWS::StepFunctions::StateMachine');
const versions = resourcesOf(template, 'AWS::Lambda::Version');
const functions = resourcesOf(template, 'AWS::Lambda::Function');

/** The manifest entry of the function a Lambda version resource publishes. */
function entryOfVersion(versionId: string) {
  const functionId = versions[versionId].Properties.FunctionName.Ref;
  const description: string = functions[functionId].Properties.Description;
  const entry = saga.manifest.functions.find((f) => description.includes(`: ${f.name} (`));
  expect(entry).toBeDefined();
  return entry!;
}

/**
 * The definition as CloudFormation hands it to Step Functions: every `${Key}` replaced by the
 * ARN of the version its substitution refers to (here with a made-up account and version 1).
 */
function substitutedDefinition(): string {
  const substitutions: Record<string, { Ref: string }> = machine.Properties.DefinitionSubstitutions;
  return (machine.Properties.DefinitionString as string).replace(
    /\$\{([A-Za-z0-9_]+)\}/g,
    (_, key: string) => {
      const versionId = substitutions[key].Ref;
      return `arn:aws:lambda:eu-west-1:123456789012:function:${versionId.slice(0, 40)}:1`;
    },
  );
}

test('a STANDARD state machine runs exactly the generated definition', () => {
  expect(machine.Properties.StateMachineType).toBe('STANDARD');
  expect(machine.Properties.DefinitionString).toBe(saga.definition);
});

test('every placeholder is bound to the published version of the function the manifest names, and every binding is used', () => {
  const substitutions: Record<string, any> = machine.Properties.DefinitionSubstitutions;
  const used = placeholders(machine.Properties.DefinitionString);
  expect(Object.keys(substitutions).sort()).toEqual([...used].sort());
  expect(used.sort()).toEqual(saga.manifest.functions.map((f) => f.substitution_key).sort());
  for (const [key, value] of Object.entries(substitutions)) {
    // A Ref to an AWS::Lambda::Version is that version's ARN (…:function:name:N): never
    // $LATEST, never an alias that could move while an execution runs.
    expect(Object.keys(value)).toEqual(['Ref']);
    expect(versions[value.Ref]).toBeDefined();
    expect(entryOfVersion(value.Ref).substitution_key).toBe(key);
  }
});

test('the state machine may invoke exactly those versions', () => {
  const roleId = machine.Properties.RoleArn['Fn::GetAtt'][0];
  const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const invoke = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
  const resources = invoke.flatMap((s) => [s.Resource].flat());
  const sagaVersions = Object.values(machine.Properties.DefinitionSubstitutions).map((v: any) => v.Ref);
  expect(resources.map((r: any) => r.Ref).sort()).toEqual([...sagaVersions].sort());
});

test('logs every event without execution data (card tokens), and traces with X-Ray', () => {
  expect(machine.Properties.LoggingConfiguration.Level).toBe('ALL');
  expect(machine.Properties.LoggingConfiguration.IncludeExecutionData).toBe(false);
  expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
});

test(`a version per deploy, and the "${LIVE_ALIAS}" alias released to it by canary`, () => {
  const [versionId, version] = only(template, 'AWS::StepFunctions::StateMachineVersion');
  expect(version.Properties.StateMachineArn).toEqual({ Ref: machineId });
  expect(version.Properties.StateMachineRevisionId).toEqual({
    'Fn::GetAtt': [machineId, 'StateMachineRevisionId'],
  });
  const [, alias] = only(template, 'AWS::StepFunctions::StateMachineAlias');
  expect(alias.Properties.Name).toBe(LIVE_ALIAS);
  // DeploymentPreference and RoutingConfiguration are exclusive: CloudFormation routes.
  expect(alias.Properties.RoutingConfiguration).toBeUndefined();
  expect(alias.Properties.DeploymentPreference).toMatchObject({
    StateMachineVersionArn: { 'Fn::GetAtt': [versionId, 'Arn'] },
    Type: 'CANARY',
    Percentage: 10,
    Interval: SAGA_CANARY.intervalMinutes,
  });
});

test('alarms: timed-out executions, mostly failing executions, and every escalation', () => {
  // The saga's own (the search side's are tested in search.test.ts).
  const own = new Set(stack.sagas.get(saga.manifest.saga)!.stateMachine.alarms.map(logicalIdOf));
  const alarms = Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
    .filter(([id]) => own.has(id))
    .map(([, alarm]) => alarm);
  const byMetric = (name: string) =>
    alarms.filter(
      (a) =>
        a.Properties.MetricName === name ||
        (a.Properties.Metrics ?? []).some((m: any) => m.MetricStat?.Metric?.MetricName === name),
    );
  const timedOut = byMetric('ExecutionsTimedOut');
  expect(timedOut).toHaveLength(1);
  expect(timedOut[0].Properties.Threshold).toBe(1);
  expect(timedOut[0].Properties.Dimensions).toEqual([
    { Name: 'StateMachineArn', Value: { Ref: machineId } },
  ]);
  const failed = byMetric('ExecutionsFailed');
  expect(failed).toHaveLength(1);
  expect(failed[0].Properties.Metrics.find((m: any) => m.Expression).Expression).toBe(
    '100 * failed / started',
  );
  const escalations = saga.manifest.functions.filter((f) => f.kind === 'escalation');
  expect(escalations.length).toBeGreaterThan(0);
  const invocations = byMetric('Invocations');
  expect(invocations).toHaveLength(escalations.length);
  for (const alarm of invocations) {
    expect(alarm.Properties.Threshold).toBe(1);
    expect(alarm.Properties.AlarmDescription).toContain('CompensationFailed');
  }
  expect(byMetric('Errors')).toHaveLength(escalations.length);
});

test('asl-validator accepts the definition with its substitutions applied', () => {
  const validator = path.resolve(__dirname, '../../tools/asl-validator/node_modules/.bin/asl-validator');
  expect(existsSync(validator)).toBe(true);
  const definition = substitutedDefinition();
  expect(definition).not.toMatch(/\$\{/);
  const dir = mkdtempSync(path.join(tmpdir(), 'asl-'));
  const file = path.join(dir, 'substituted.asl.json');
  writeFileSync(file, definition);
  // Throws (failing the test) with the validator's output when it rejects the definition.
  execFileSync(validator, ['--json-path', file], { stdio: 'pipe' });
  const broken = path.join(dir, 'broken.asl.json');
  const parsed = JSON.parse(definition);
  parsed.States[parsed.StartAt].Next = 'NoSuchState';
  writeFileSync(broken, JSON.stringify(parsed));
  expect(() => execFileSync(validator, ['--json-path', broken], { stdio: 'pipe' })).toThrow();
});
