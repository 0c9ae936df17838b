/**
 * What the app is told on the command line about observability, in one place. Both switches are
 * off by default, and then the stacks are exactly what they are without this file:
 *
 *   Datadog (lib/datadog.ts):
 *     npx cdk deploy -c datadog=true \
 *       -c datadogApiKeySecretArn=arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix> \
 *       -c datadogForwarderArn=arn:aws:lambda:<region>:<account>:function:<forwarder> \
 *       [-c datadogSite=datadoghq.eu] [-c version=1.4.0] [-c datadogExtensionLayerVersion=<n>]
 *     (or -c datadogStepFunctions=false instead of the forwarder: the functions only)
 *
 *   A CloudWatch dashboard of the same panels, for a user without Datadog
 *   (lib/cloudwatch-dashboard.ts):
 *     npx cdk deploy -c cloudwatchDashboard=true
 *
 * A malformed or missing value is a synthesis error that names the context key and shows how to
 * pass it.
 */
import type { Node } from 'constructs';
import { siteList } from 'datadog-cdk-constructs-v2';

export const OBSERVABILITY_CONTEXT = {
  datadog: 'datadog',
  apiKeySecretArn: 'datadogApiKeySecretArn',
  site: 'datadogSite',
  forwarderArn: 'datadogForwarderArn',
  stepFunctions: 'datadogStepFunctions',
  extensionLayerVersion: 'datadogExtensionLayerVersion',
  version: 'version',
  cloudwatchDashboard: 'cloudwatchDashboard',
} as const;

export const DEFAULT_SITE = 'datadoghq.com';

/**
 * The Datadog Lambda extension's layer version (`Datadog-Extension-ARM:<n>`), the one the pinned
 * datadog-cdk-constructs-v2 (3.12.0) documents. Pinned rather than "latest": the layer is part of
 * every function's configuration, so a moving value would publish new versions (and start a
 * canary) on deploys that change nothing. Raise it here, or per deploy with
 * `-c datadogExtensionLayerVersion=<n>`, after reading the extension's release notes.
 */
export const DEFAULT_EXTENSION_LAYER_VERSION = 92;

/**
 * `DD_VERSION` when no `-c version=` is given. A constant, not a commit or a date: the version is
 * in every function's environment, and a value that moved with each synthesis would publish a new
 * version of every function, and so of the state machine, on deploys that change no code.
 */
export const UNVERSIONED = 'unversioned';

export interface DatadogSettings {
  /**
   * The secret holding the Datadog API key (as plain text): its complete ARN, with the
   * 6-character suffix, so that the functions are granted that secret and no other. Encrypted
   * with the account's `aws/secretsmanager` key, which needs no grant of its own.
   */
  readonly apiKeySecretArn: string;
  readonly site: string;
  readonly extensionLayerVersion: number;
  readonly version: string;
  /**
   * The state machines' instrumentation; absent with `-c datadogStepFunctions=false`. The
   * Forwarder is the one Datadog's Forwarder stack installed in the stack's account and region (a
   * subscription filter delivers to a function of its own account).
   */
  readonly stepFunctions?: { readonly forwarderArn: string };
}

export interface ObservabilitySettings {
  /** Absent unless `-c datadog=true`. */
  readonly datadog?: DatadogSettings;
  readonly cloudwatchDashboard: boolean;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;
// Datadog's tag value characters, minus the colon (DD_TAGS splits on it).
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;

const SECRET_EXAMPLE = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key-AbCdEf';
const FORWARDER_EXAMPLE = 'arn:aws:lambda:eu-west-1:123456789012:function:datadog-forwarder';

/** A `true`/`false` switch (from the command line a string, from cdk.json a boolean). */
function flag(node: Node, key: string, byDefault: boolean): boolean {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) {
    return byDefault;
  }
  if (value === true || value === 'true') {
    return true;
  }
  if (value === false || value === 'false') {
    return false;
  }
  throw new Error(`-c ${key}=${String(value)} is not valid: expected -c ${key}=true or -c ${key}=false`);
}

function text(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === '') {
    return undefined;
  }
  return String(value);
}

/** The observability settings of `node`'s context. */
export function observabilitySettings(node: Node): ObservabilitySettings {
  return {
    datadog: flag(node, OBSERVABILITY_CONTEXT.datadog, false) ? datadogSettings(node) : undefined,
    cloudwatchDashboard: flag(node, OBSERVABILITY_CONTEXT.cloudwatchDashboard, false),
  };
}

function datadogSettings(node: Node): DatadogSettings {
  const K = OBSERVABILITY_CONTEXT;
  const apiKeySecretArn = text(node, K.apiKeySecretArn);
  if (apiKeySecretArn === undefined) {
    throw new Error(
      `-c ${K.datadog}=true needs the secret that holds the Datadog API key: pass -c ${K.apiKeySecretArn}=<its complete ARN>, e.g. -c ${K.apiKeySecretArn}=${SECRET_EXAMPLE} (aws secretsmanager describe-secret --secret-id <name> --query ARN prints it)`,
    );
  }
  if (!SECRET_ARN.test(apiKeySecretArn)) {
    throw new Error(
      `-c ${K.apiKeySecretArn}=${apiKeySecretArn} is not valid: expected a secret's complete ARN, with the 6-character suffix Secrets Manager adds, e.g. -c ${K.apiKeySecretArn}=${SECRET_EXAMPLE}`,
    );
  }

  const site = text(node, K.site) ?? DEFAULT_SITE;
  if (!siteList.includes(site)) {
    throw new Error(`-c ${K.site}=${site} is not valid: expected one of ${siteList.join(', ')} (default ${DEFAULT_SITE})`);
  }

  const layer = text(node, K.extensionLayerVersion);
  const extensionLayerVersion = layer === undefined ? DEFAULT_EXTENSION_LAYER_VERSION : Number(layer);
  if (!Number.isInteger(extensionLayerVersion) || extensionLayerVersion < 1) {
    throw new Error(`-c ${K.extensionLayerVersion}=${layer} is not valid: expected a layer version number, e.g. -c ${K.extensionLayerVersion}=${DEFAULT_EXTENSION_LAYER_VERSION}`);
  }

  const version = text(node, K.version) ?? UNVERSIONED;
  if (!VERSION.test(version)) {
    throw new Error(`-c ${K.version}=${version} is not valid: expected letters, digits, '.', '_', '/' or '-', e.g. -c ${K.version}=1.4.0`);
  }

  // Datadog turns Step Functions logs into traces only in its Forwarder (a Lambda function that
  // the Datadog Forwarder CloudFormation stack installs), subscribed to the state machine's log
  // group, and only with the execution data in the log: every step's input and output, which
  // here carry card tokens and travellers' names. So the state machines are instrumented only
  // when that forwarder is named, and not at all when the user says so; never half-way.
  let stepFunctions: DatadogSettings['stepFunctions'];
  if (flag(node, K.stepFunctions, true)) {
    const forwarderArn = text(node, K.forwarderArn);
    if (forwarderArn === undefined) {
      throw new Error(
        `-c ${K.datadog}=true instruments the state machines too, and Datadog receives Step Functions traces only through its Forwarder, which then logs every step's input and output (card tokens, travellers' names) to CloudWatch and Datadog: pass -c ${K.forwarderArn}=<the Forwarder's ARN>, e.g. -c ${K.forwarderArn}=${FORWARDER_EXAMPLE}, or -c ${K.stepFunctions}=false to instrument the functions only`,
      );
    }
    if (!FUNCTION_ARN.test(forwarderArn)) {
      throw new Error(`-c ${K.forwarderArn}=${forwarderArn} is not valid: expected a Lambda function's ARN, e.g. -c ${K.forwarderArn}=${FORWARDER_EXAMPLE}`);
    }
    stepFunctions = { forwarderArn };
  }

  return { apiKeySecretArn, site, extensionLayerVersion, version, stepFunctions };
}

/**
 * The context arguments that reproduce `node`'s observability settings, for a synthesis that
 * runs elsewhere (the delivery pipeline's own synth step, which would otherwise deploy the stages
 * without them on its next run). Empty when both switches are off.
 */
export function observabilityArguments(node: Node): string[] {
  const settings = observabilitySettings(node);
  const K = OBSERVABILITY_CONTEXT;
  const args: string[] = [];
  const { datadog } = settings;
  if (datadog !== undefined) {
    args.push(
      `-c ${K.datadog}=true`,
      `-c ${K.apiKeySecretArn}=${datadog.apiKeySecretArn}`,
      `-c ${K.site}=${datadog.site}`,
      `-c ${K.extensionLayerVersion}=${datadog.extensionLayerVersion}`,
      `-c ${K.version}=${datadog.version}`,
      datadog.stepFunctions === undefined
        ? `-c ${K.stepFunctions}=false`
        : `-c ${K.forwarderArn}=${datadog.stepFunctions.forwarderArn}`,
    );
  }
  if (settings.cloudwatchDashboard) {
    args.push(`-c ${K.cloudwatchDashboard}=true`);
  }
  return args;
}
