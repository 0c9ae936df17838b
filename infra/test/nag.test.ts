import { aws_iam as iam, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DATADOG_CONTEXT, synth } from './support';

/** Each observability switch (lib/observability-config.ts) adds resources and grants: checked too. */
const CONTEXTS: Record<string, Record<string, unknown>> = {
  'by default': {},
  'with Datadog (functions and state machine)': DATADOG_CONTEXT,
  'with Datadog (functions only)': { ...DATADOG_CONTEXT, datadogForwarderArn: undefined, datadogStepFunctions: 'false' },
  'with the CloudWatch dashboard': { cloudwatchDashboard: 'true' },
};

test.each((['dev', 'prod'] as const).flatMap((stage) => Object.keys(CONTEXTS).map((name) => [stage, name])))('%s, %s: no unacknowledged AwsSolutions finding', (stage, name) => {
  const { stack } = synth(stage as 'dev' | 'prod', undefined, CONTEXTS[name]);
  const report = new AwsSolutionsChecks(stack).validateScope(stack);
  const findings = report.violations.map(
    (v) => `${v.ruleName}: ${v.description} at ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
  );
  expect(findings).toEqual([]);
});

test('the checks do find what is not acknowledged', () => {
  // Guards the test above: a stack with an unacknowledged wildcard must be reported.
  const stack = new Stack();
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
  const report = new AwsSolutionsChecks(stack).validateScope(stack);
  expect(report.violations.map((v) => v.ruleName)).toEqual(
    expect.arrayContaining(['AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-IAM5[Action::dynamodb:*]']),
  );
});
