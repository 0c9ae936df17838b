/**
 * What the delivery pipeline is told on the command line, in one place:
 *
 *   npx cdk deploy -c pipeline=true -c connectionArn=arn:aws:codeconnections:… \
 *     -c repo=owner/name [-c branch=main]
 *
 * Without `pipeline=true` the app is the plain stack of one stage (`-c stage=dev|prod`), as
 * `make deploy` deploys it. The pipeline synthesizes without a connection or a repository, so
 * that the checks (`scripts/infra.sh`) and a reader can look at it offline; it then says, as a
 * synthesis warning, that deploying it needs them.
 */
import { Annotations, type Stack } from 'aws-cdk-lib';
import type { Node } from 'constructs';

export const CONTEXT = {
  pipeline: 'pipeline',
  connectionArn: 'connectionArn',
  repo: 'repo',
  branch: 'branch',
} as const;

/** Where the pipeline's source comes from. */
export interface PipelineSettings {
  /** The CodeStar (CodeConnections) connection to GitHub, authorized in the console. */
  readonly connectionArn: string;
  /** `owner/name` on GitHub. */
  readonly repo: string;
  readonly branch: string;
  /** The context values that were missing and replaced by placeholders (none for a deploy). */
  readonly missing: readonly string[];
}

/** Never a real connection: the pipeline cannot be deployed with it (its source would fail). */
export const PLACEHOLDER_CONNECTION_ARN =
  'arn:aws:codeconnections:us-east-1:000000000000:connection/00000000-0000-0000-0000-000000000000';
export const PLACEHOLDER_REPO = 'OWNER/REPOSITORY';
export const DEFAULT_BRANCH = 'main';

const CONNECTION_ARN = /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]+$/;
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Whether `-c pipeline=true` asks for the pipeline rather than one stage's stack. */
export function wantsPipeline(node: Node): boolean {
  const value: unknown = node.tryGetContext(CONTEXT.pipeline);
  return value === true || value === 'true';
}

/** The settings from the context; a malformed value is an error, a missing one a placeholder. */
export function pipelineSettings(node: Node): PipelineSettings {
  const missing: string[] = [];
  const read = (key: string, pattern: RegExp, example: string, placeholder: string): string => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === '') {
      missing.push(key);
      return placeholder;
    }
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new Error(`-c ${key}=${String(value)} is not valid: expected e.g. -c ${key}=${example}`);
    }
    return value;
  };
  const connectionArn = read(
    CONTEXT.connectionArn,
    CONNECTION_ARN,
    'arn:aws:codeconnections:eu-west-1:123456789012:connection/<id>',
    PLACEHOLDER_CONNECTION_ARN,
  );
  const repo = read(CONTEXT.repo, REPO, 'owner/name', PLACEHOLDER_REPO);
  const branch: unknown = node.tryGetContext(CONTEXT.branch) ?? DEFAULT_BRANCH;
  if (typeof branch !== 'string' || branch === '') {
    throw new Error(`-c ${CONTEXT.branch}=${String(branch)} is not valid: expected a branch name, e.g. main`);
  }
  return { connectionArn, repo, branch, missing };
}

/** The warning that `stack`, synthesized with placeholders, must not be deployed as it is. */
export function warnAboutPlaceholders(stack: Stack, settings: PipelineSettings): void {
  if (settings.missing.length === 0) {
    return;
  }
  Annotations.of(stack).addWarningV2(
    'trip-saga:pipeline-placeholders',
    `synthesized without ${settings.missing.map((k) => `-c ${k}`).join(' and ')}: the source uses a placeholder and the pipeline cannot be deployed as it is. Deploying it needs -c ${CONTEXT.connectionArn}=<your CodeStar connection's ARN> -c ${CONTEXT.repo}=<owner/name> (README, "Delivery pipeline").`,
  );
}

/** The context arguments that reproduce `settings` (what the pipeline's own synth step passes). */
export function contextArguments(settings: PipelineSettings): string {
  return [
    `-c ${CONTEXT.pipeline}=true`,
    `-c ${CONTEXT.connectionArn}=${settings.connectionArn}`,
    `-c ${CONTEXT.repo}=${settings.repo}`,
    `-c ${CONTEXT.branch}=${settings.branch}`,
  ].join(' ');
}
