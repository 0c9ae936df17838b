/**
 * Datadog on one stage's stack (`-c datadog=true`, lib/observability-config.ts): every Rust
 * function gets the Datadog Lambda extension, which receives the handlers' OpenTelemetry traces
 * over OTLP/HTTP and their custom metrics over DogStatsD and sends them, with the functions' logs
 * and enhanced metrics, to Datadog; every state machine gets Datadog's Step Functions
 * instrumentation (its log to the Datadog Forwarder, which turns it into traces). Every resource
 * Datadog reads metrics of carries the tags the dashboard and monitors (`observability/`) query.
 */
import { aws_secretsmanager as secretsmanager, Tags, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DatadogLambda, DatadogStepFunctions } from 'datadog-cdk-constructs-v2';
import type { DatadogSettings } from './observability-config';
import {
  APP,
  DEAD_LETTER_QUEUE_ROLE,
  deadLetterQueues,
  functionService,
  sagaService,
  TAG,
  tableFunctions,
} from './observability';
import type { TripSagaStack } from './trip-saga-stack';

/** Where the extension listens for OTLP over HTTP (its default port, on the sandbox's loopback). */
const OTLP_HTTP = 'localhost:4318';

/**
 * What the Rust handlers read to export (the OpenTelemetry SDK's standard variables, and the
 * DogStatsD client's), and what makes the extension listen for OTLP (off by default in it).
 */
export function telemetryEnvironment(service: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${OTLP_HTTP}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: service,
    DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: OTLP_HTTP,
    DD_DOGSTATSD_URL: 'udp://127.0.0.1:8125',
  };
}

export interface DatadogInstrumentationProps {
  readonly settings: DatadogSettings;
}

export class DatadogInstrumentation extends Construct {
  readonly apiKey: secretsmanager.ISecret;

  constructor(stack: TripSagaStack, id: string, props: DatadogInstrumentationProps) {
    super(stack, id);
    const { settings } = props;
    const env = stack.stage.name;
    // One imported secret for all functions: the construct's own `apiKeySecretArn` imports it
    // once per function under the same id, which fails with two functions or more.
    this.apiKey = secretsmanager.Secret.fromSecretCompleteArn(this, 'ApiKey', settings.apiKeySecretArn);
    const tag = (scope: Construct, service: string) => {
      Tags.of(scope).add(TAG.app, APP);
      Tags.of(scope).add(TAG.env, env);
      Tags.of(scope).add(TAG.service, service);
      Tags.of(scope).add(TAG.version, settings.version);
    };

    for (const fn of tableFunctions(stack)) {
      const service = functionService(fn.binary);
      // One construct per function: env, service and version are a construct's, and each
      // function is its own service.
      new DatadogLambda(this, service, {
        extensionLayerVersion: settings.extensionLayerVersion,
        // The extension only: Datadog has no tracing library for Rust (the handlers speak
        // OpenTelemetry to the extension), so no language layer and no handler wrapper.
        addLayers: false,
        redirectHandler: false,
        apiKeySecret: this.apiKey,
        site: settings.site,
        env,
        service,
        version: settings.version,
        tags: `${TAG.app}:${APP}`,
        enableDatadogTracing: true,
        // Off: it runs git at synthesis and puts the commit in every function's environment,
        // which would publish every function again on each commit.
        sourceCodeIntegration: false,
        // Request and response bodies carry card tokens and travellers' names.
        captureLambdaPayload: false,
        captureCloudServicePayload: false,
      }).addLambdaFunctions([fn.function]);
      for (const [name, value] of Object.entries(telemetryEnvironment(service))) {
        fn.function.addEnvironment(name, value);
      }
      // The AWS integration's metrics (duration, iterator age) carry the function's own tags.
      tag(fn.function, service);
    }

    for (const [name, { stateMachine }] of stack.sagas) {
      const service = sagaService(name);
      // Tagged even without tracing: the execution metrics the panels read carry these tags.
      tag(stateMachine.stateMachine, service);
      if (settings.stepFunctions !== undefined) {
        const instrumentation = new DatadogStepFunctions(this, `${name}StateMachine`, {
          env,
          service,
          version: settings.version,
          forwarderArn: settings.stepFunctions.forwarderArn,
          tags: `${TAG.app}:${APP}`,
        });
        instrumentation.addStateMachines([stateMachine.stateMachine]);
        Validations.of(instrumentation).acknowledge({
          id: 'Annotation::UnclearLambdaEnvironment',
          reason:
            "The construct asks to let CloudWatch Logs invoke the Forwarder, a function of another stack, which CDK cannot change from here; the Datadog Forwarder's own stack grants it already (CloudWatchLogsInvokePermission: logs.amazonaws.com, any log group of its account and region).",
        });
        Validations.of(stateMachine.stateMachine.role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            "Datadog's Step Functions instrumentation (datadog-cdk-constructs-v2 DatadogStepFunctions) grants the CloudWatch Logs actions of Step Functions' logging guide on *: the log delivery actions CDK grants already (they support no resource-level permissions), and logs:CreateLogStream and logs:PutLogEvents, which vended log delivery does not use but the construct always adds.",
        });
      }
    }

    for (const queue of deadLetterQueues(stack)) {
      Tags.of(queue).add(TAG.app, APP);
      Tags.of(queue).add(TAG.env, env);
      Tags.of(queue).add(TAG.queueRole, DEAD_LETTER_QUEUE_ROLE);
    }
  }
}
