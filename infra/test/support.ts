/** Synthesizes the stack as `cdk synth` would, without building the Rust binaries. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { GENERATED_DIR } from '../lib/generated';
import { stageConfig, type StageName } from '../lib/stage';
import { TripSagaStack } from '../lib/trip-saga-stack';

export function synth(
  stage: StageName = 'dev',
  generatedDir?: string,
  context: Record<string, unknown> = {},
): { stack: TripSagaStack; template: Template } {
  // No stack is bundled: the functions' code is a placeholder asset, everything else is real.
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new TripSagaStack(app, `TripSaga-${stage}`, {
    stage: stageConfig(stage),
    generatedDir,
  });
  return { stack, template: Template.fromStack(stack) };
}

export type Resources = Record<string, { Type: string; Properties: any; [k: string]: any }>;

export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** A copy of `generated/` to change, for tests of what a change there does. */
export function copyOfGenerated(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'generated-'));
  cpSync(GENERATED_DIR, dir, { recursive: true });
  return dir;
}

export function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2));
}

/** The one resource of `type`, with its logical id. */
export function only(template: Template, type: string): [string, Resources[string]] {
  const found = Object.entries(resourcesOf(template, type));
  if (found.length !== 1) {
    throw new Error(`expected one ${type}, found ${found.length}`);
  }
  return found[0];
}

/** The logical id of `construct`'s CloudFormation resource (its default child). */
export function logicalIdOf(construct: IConstruct): string {
  const resource = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(resource);
}

/** Every statement of the policies attached to the role `roleId`. */
export function statementsOf(template: Template, roleId: string): any[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Syntactically valid, never real: what `-c datadog=true` is tested with. */
export const DATADOG_API_KEY_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key-AbCdEf';
export const DATADOG_FORWARDER = 'arn:aws:lambda:eu-west-1:123456789012:function:datadog-forwarder';
export const DATADOG_CONTEXT: Record<string, unknown> = {
  datadog: 'true',
  datadogApiKeySecretArn: DATADOG_API_KEY_SECRET,
  datadogForwarderArn: DATADOG_FORWARDER,
};
