/**
 * How new code reaches callers: a CodeDeploy canary on the `live` alias of every function called
 * outside the saga, and the state machine alias's own canary for the saga (whose functions are
 * pinned by version in each state machine version).
 */
import { loadGateway, loadSagas, loadSearchFunctions } from '../lib/generated';
import { FUNCTION_DEPLOYMENT } from '../lib/release';
import { SAGA_CANARY } from '../lib/saga-state-machine';
import { logicalIdOf, only, resourcesOf, synth } from './support';

const { stack, template } = synth('prod');
const [saga] = loadSagas();
const gateway = loadGateway();
const search = loadSearchFunctions();
const aliases = resourcesOf(template, 'AWS::Lambda::Alias');
const groups = resourcesOf(template, 'AWS::CodeDeploy::DeploymentGroup');
const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');

/** The functions callers reach through an alias: the API's and the search side's. */
const outsideTheSaga = [...gateway.functions.map((f) => f.name), search.consumer.name, search.query.name];

describe('functions called outside the saga: a CodeDeploy canary on their live alias', () => {
  test('one deployment group per such function, in one CodeDeploy application', () => {
    const [applicationId, application] = only(template, 'AWS::CodeDeploy::Application');
    expect(application.Properties.ComputePlatform).toBe('Lambda');
    expect(Object.keys(groups)).toHaveLength(outsideTheSaga.length);
    expect(stack.releases.groups.map((g) => g.node.id).sort()).toEqual([...outsideTheSaga].sort());
    for (const group of Object.values(groups)) {
      expect(group.Properties.ApplicationName).toEqual({ Ref: applicationId });
    }
  });

  test.each(outsideTheSaga)('%s: 10% for 5 minutes, rolled back on a failure, a stop or an alarm', (name) => {
    const release = stack.releases.groups.find((g) => g.node.id === name)!;
    const group = groups[logicalIdOf(release.deploymentGroup)];
    expect(FUNCTION_DEPLOYMENT.deploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect(group.Properties.DeploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect(group.Properties.DeploymentStyle).toEqual({
      DeploymentType: 'BLUE_GREEN',
      DeploymentOption: 'WITH_TRAFFIC_CONTROL',
    });
    expect(group.Properties.AutoRollbackConfiguration.Enabled).toBe(true);
    expect([...group.Properties.AutoRollbackConfiguration.Events].sort()).toEqual(
      ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'],
    );
    // The group watches exactly its two alarms, by name.
    const watched = group.Properties.AlarmConfiguration.Alarms.map((a: any) => a.Name.Ref).sort();
    expect(group.Properties.AlarmConfiguration.Enabled).toBe(true);
    expect(watched).toEqual(release.alarms.map(logicalIdOf).sort());
  });

  test.each(outsideTheSaga)('%s: the alarms count the errors and throttles of its live alias', (name) => {
    const release = stack.releases.groups.find((g) => g.node.id === name)!;
    const metrics = release.alarms.map((a) => alarms[logicalIdOf(a)].Properties);
    expect(metrics.map((m) => m.MetricName).sort()).toEqual(['Errors', 'Throttles']);
    for (const alarm of metrics) {
      expect(alarm).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      // `Resource` = `<function>:live`: the alias's metrics, which cover both versions while
      // the canary runs, not the function's (every version) nor one version's.
      const resource = alarm.Dimensions.find((d: any) => d.Name === 'Resource').Value;
      expect(JSON.stringify(resource)).toMatch(/":live"\]\]\}$/);
    }
  });

  test('CodeDeploy moves the alias: it carries the update policy that hands it over', () => {
    for (const release of stack.releases.groups) {
      const aliasId = Object.entries(aliases).find(([, a]) =>
        JSON.stringify(a.UpdatePolicy ?? {}).includes(logicalIdOf(release.deploymentGroup)),
      )?.[0];
      expect(aliasId).toBeDefined();
      expect(aliases[aliasId!].Properties.Name).toBe('live');
      expect(aliases[aliasId!].UpdatePolicy.CodeDeployLambdaAliasUpdate.DeploymentGroupName).toEqual({
        Ref: logicalIdOf(release.deploymentGroup),
      });
    }
  });

  test('callers reach exactly these aliases: the API integrations and the stream mapping', () => {
    const released = new Set(
      Object.entries(aliases)
        .filter(([, a]) => a.UpdatePolicy?.CodeDeployLambdaAliasUpdate !== undefined)
        .map(([id]) => id),
    );
    const invoked = new Set<string>();
    for (const method of Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))) {
      const uri = JSON.stringify(method.Properties.Integration?.Uri ?? '');
      Object.keys(aliases).filter((id) => uri.includes(`"${id}"`)).forEach((id) => invoked.add(id));
    }
    const [, mapping] = only(template, 'AWS::Lambda::EventSourceMapping');
    const target = JSON.stringify(mapping.Properties.FunctionName);
    Object.keys(aliases).filter((id) => target.includes(`"${id}"`)).forEach((id) => invoked.add(id));
    expect(released.size).toBe(outsideTheSaga.length);
    expect([...invoked].sort()).toEqual([...released].sort());
  });

  test('no saga function has an alias or a deployment group: the state machine pins their versions', () => {
    const sagaFunctions = stack.sagas.get(saga.manifest.saga)!.functions.functions.map((f) => logicalIdOf(f.function));
    for (const alias of Object.values(aliases)) {
      expect(sagaFunctions).not.toContain(alias.Properties.FunctionName.Ref);
    }
  });
});

describe('the saga: a canary on the state machine alias', () => {
  const deployed = stack.sagas.get(saga.manifest.saga)!.stateMachine;
  const [, alias] = only(template, 'AWS::StepFunctions::StateMachineAlias');
  const [versionId] = only(template, 'AWS::StepFunctions::StateMachineVersion');
  const preference = alias.Properties.DeploymentPreference;

  test(`CANARY: ${SAGA_CANARY.percentage}% of new executions for ${SAGA_CANARY.intervalMinutes} minutes, then all`, () => {
    expect(preference).toEqual({
      StateMachineVersionArn: { 'Fn::GetAtt': [versionId, 'Arn'] },
      Type: 'CANARY',
      Percentage: 10,
      Interval: SAGA_CANARY.intervalMinutes,
      Alarms: expect.any(Array),
    });
  });

  test('it watches three alarms, by name: failed executions, escalations, p99 duration', () => {
    const canary = deployed.canaryAlarms;
    const ids = [canary.failedExecutions, canary.escalations!, canary.p99Duration].map(logicalIdOf);
    // `Ref` of an alarm is its name: CloudFormation would take an ARN for an alarm that does
    // not exist, which is never in alarm.
    expect(preference.Alarms).toEqual(ids.map((id) => ({ Ref: id })));
  });

  test('failed executions: the new version\'s share of failures, over one-minute periods', () => {
    const alarm = alarms[logicalIdOf(deployed.canaryAlarms.failedExecutions)].Properties;
    expect(alarm).toMatchObject({
      Threshold: SAGA_CANARY.failedPercent,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    const expression = alarm.Metrics.find((m: any) => m.Expression);
    expect(expression.Expression).toBe('100 * failed / started');
    const stats = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat);
    expect(stats.map((s: any) => s.Metric.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsStarted']);
    for (const stat of stats) {
      expect(stat.Period).toBe(60);
      // The version being released, not the state machine (whose totals a 10% canary barely moves).
      expect(stat.Metric.Dimensions).toEqual([
        { Name: 'StateMachineArn', Value: { 'Fn::GetAtt': [versionId, 'Arn'] } },
      ]);
    }
  });

  test('p99 duration: the new version\'s execution time', () => {
    const alarm = alarms[logicalIdOf(deployed.canaryAlarms.p99Duration)].Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionTime',
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: SAGA_CANARY.p99DurationSeconds * 1000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { 'Fn::GetAtt': [versionId, 'Arn'] } }]);
  });

  test('escalations: any invocation of the saga\'s escalation functions', () => {
    const alarm = alarms[logicalIdOf(deployed.canaryAlarms.escalations!)].Properties;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const escalations = stack.sagas.get(saga.manifest.saga)!.functions.functions
      .filter((f) => f.entry.kind === 'escalation')
      .map((f) => ({ Ref: logicalIdOf(f.function) }));
    const counted = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat);
    expect(counted.map((s: any) => s.Metric.MetricName)).toEqual(escalations.map(() => 'Invocations'));
    expect(counted.map((s: any) => s.Metric.Dimensions[0].Value)).toEqual(escalations);
  });
});
