/**
 * What differs between a dev and a prod deployment, in one place. Everything else is identical,
 * so what is tested in dev is what runs in prod.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export type StageName = 'dev' | 'prod';

export interface StageConfig {
  readonly name: StageName;
  /**
   * prod: RETAIN and deletion protection on the table, so neither `cdk destroy` nor a
   * replacement can delete bookings. dev: DESTROY, so a developer's stack leaves nothing behind;
   * its data is test data, and point-in-time recovery still covers a mistake while it lives.
   */
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  /** How long function and state machine logs are kept. */
  readonly logRetention: RetentionDays;
}

export const STAGES: Record<StageName, StageConfig> = {
  dev: {
    name: 'dev',
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    logRetention: RetentionDays.TWO_WEEKS,
  },
  prod: {
    name: 'prod',
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
  },
};

/** The stage named `name` (the `stage` context value), or a clear error. */
export function stageConfig(name: unknown): StageConfig {
  if (name === 'dev' || name === 'prod') {
    return STAGES[name];
  }
  throw new Error(`unknown stage ${JSON.stringify(name)}: use -c stage=dev or -c stage=prod`);
}

/** How long a saga function may run: DynamoDB calls take milliseconds, and the SDK's own
 * retries a few seconds at most. */
export const FUNCTION_TIMEOUT = Duration.seconds(10);
