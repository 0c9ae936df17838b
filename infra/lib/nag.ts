/**
 * The cdk-nag (AwsSolutions) findings this app accepts, each acknowledged on the one construct
 * it concerns, with its reason. Any other finding fails `cdk synth` and the tests.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The `Resource: *` of X-Ray's actions in `role`'s policy (and nothing else on it). */
export function acknowledgeXRayWildcard(role: IConstruct): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; CDK grants them on * for tracing (the only * statement of this role, asserted by the tests).',
  });
}
