import { aws_iam as iam, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synth } from './support';

test.each(['dev', 'prod'] as const)('%s: no unacknowledged AwsSolutions finding', (stage) => {
  const { stack } = synth(stage);
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
