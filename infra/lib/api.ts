/**
 * The booking API (API Gateway REST): `POST /trips` starts the saga's execution on the `live`
 * alias through a direct `StartExecution` integration, with no Lambda in between. Its request
 * model, validator and mapping templates all come from `generated/`.
 */
import {
  aws_apigateway as apigw,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_wafv2 as wafv2,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { STATE_MACHINE_ARN, type GatewayTemplates } from './generated';
import type { SagaStateMachine } from './saga-state-machine';
import type { StageConfig } from './stage';
import type { DefinedTable } from './table';
import { TableFunction } from './table-function';

/** The alias API Gateway invokes: the one a release moves, by canary (lib/release.ts). */
export const LIVE_ALIAS = 'live';

export interface TripApiProps {
  readonly stage: StageConfig;
  readonly table: DefinedTable;
  readonly saga: SagaStateMachine;
  readonly gateway: GatewayTemplates;
  /** The request body's JSON Schema, draft 4. */
  readonly requestModel: Record<string, unknown>;
  /** Routes served by functions made elsewhere (the search side's `GET /trips`). */
  readonly routes?: readonly LambdaRoute[];
}

/** A route served by a Lambda function's alias (proxy integration). */
export interface LambdaRoute {
  /** The operation's name, e.g. `SearchTrips`. */
  readonly name: string;
  readonly method: string;
  /** e.g. `/trips/{id}`: each `{…}` becomes a required path parameter. */
  readonly path: string;
  readonly alias: lambda.IFunction;
  /** Query-string parameters, `true` when API Gateway must refuse a request without it. */
  readonly querystring?: Readonly<Record<string, boolean>>;
}

/** Requests per second (steady, then burst) the stage accepts before answering 429. */
export const THROTTLING = { rateLimit: 50, burstLimit: 100 } as const;

/** Requests one client IP may send in 5 minutes before WAF blocks it. */
export const WAF_RATE_LIMIT = 1000;

const JSON_CONTENT = 'application/json';

/** API Gateway's own refusals, in the API's error body (`ErrorBody`), with their codes. */
const GATEWAY_ERRORS: ReadonlyArray<[apigw.ResponseType, string]> = [
  [apigw.ResponseType.BAD_REQUEST_BODY, 'invalid_request'],
  [apigw.ResponseType.BAD_REQUEST_PARAMETERS, 'invalid_request'],
  [apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, 'unsupported_media_type'],
  [apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, 'not_found'],
  [apigw.ResponseType.ACCESS_DENIED, 'access_denied'],
  [apigw.ResponseType.THROTTLED, 'throttled'],
  [apigw.ResponseType.WAF_FILTERED, 'forbidden'],
];

export class TripApi extends Construct {
  readonly api: apigw.RestApi;
  readonly startRole: iam.Role;
  /** The API's Lambda functions, by name, each with its `live` alias. */
  readonly functions: ReadonlyMap<string, { fn: TableFunction; alias: lambda.Alias }>;
  readonly webAcl: wafv2.CfnWebACL;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TripApiProps) {
    super(scope, id);
    const { stage, saga, gateway, requestModel } = props;

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: stage.logRetention,
      removalPolicy: stage.removalPolicy,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `trip-booking-${stage.name}`,
      description: 'Trip booking: POST /trips starts the saga (generated from saga!)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Every method signed with SigV4 by default: callers are services and operators with IAM
      // identities; a public client would sit behind its own backend (or a Cognito authorizer).
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      // Execution logs need the account's API Gateway logging role.
      cloudWatchRole: true,
      deployOptions: {
        stageName: stage.name,
        throttlingRateLimit: THROTTLING.rateLimit,
        throttlingBurstLimit: THROTTLING.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        // Errors only, and never the data: bodies carry card tokens.
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-wide logging role: AWS's managed policy is the documented way to let API Gateway write execution logs.",
    });

    const model = this.api.addModel('NewTrip', {
      modelName: 'NewTrip',
      contentType: JSON_CONTENT,
      description: 'The POST /trips body (generated/trip_api.request.draft4.json)',
      schema: requestModel as apigw.JsonSchema,
    });
    const validator = this.api.addRequestValidator('BodyAndHeaders', {
      requestValidatorName: 'body-and-headers',
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    // The integration may start executions on the alias, and nothing else.
    this.startRole = new iam.Role(this, 'StartExecutionRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway: StartExecution on the saga alias, nothing else',
    });
    this.startRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [saga.aliasArn] }),
    );

    const requestTemplate = gateway.request_template.split(STATE_MACHINE_ARN).join(saga.aliasArn);
    const integration = new apigw.AwsIntegration({
      service: 'states',
      action: 'StartExecution',
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: this.startRole,
        // A body of another content type gets 415, never an unvalidated pass-through.
        passthroughBehavior: apigw.PassthroughBehavior.NEVER,
        requestTemplates: { [JSON_CONTENT]: requestTemplate },
        integrationResponses: [
          {
            statusCode: String(gateway.responses.started.status),
            responseTemplates: { [JSON_CONTENT]: gateway.responses.started.template },
          },
          {
            selectionPattern: '4\\d{2}',
            statusCode: String(gateway.responses.refused.status),
            responseTemplates: { [JSON_CONTENT]: gateway.responses.refused.template },
          },
          {
            selectionPattern: '5\\d{2}',
            statusCode: String(gateway.responses.unavailable.status),
            responseTemplates: { [JSON_CONTENT]: gateway.responses.unavailable.template },
          },
        ],
      },
    });
    const errorResponse = { statusCode: '', responseModels: { [JSON_CONTENT]: apigw.Model.ERROR_MODEL } };
    const trips = this.api.root.addResource('trips');
    const start = trips.addMethod('POST', integration, {
      operationName: 'startTrip',
      requestValidator: validator,
      requestModels: { [JSON_CONTENT]: model },
      requestParameters: { 'method.request.header.Idempotency-Key': false },
      methodResponses: [
        {
          statusCode: String(gateway.responses.started.status),
          responseParameters: { 'method.response.header.Location': true },
        },
        // The refused template answers 400, 409 or 500 (`responseOverride`).
        ...['400', '409', '500', String(gateway.responses.unavailable.status)].map((statusCode) => ({
          ...errorResponse,
          statusCode,
        })),
      ],
    });

    const functions = new Map<string, { fn: TableFunction; alias: lambda.Alias }>();
    for (const entry of gateway.functions) {
      const fn = new TableFunction(this, entry.name, {
        binary: entry.binary,
        crate: entry.crate,
        description: `Trip booking API: ${entry.method} ${entry.path}`,
        tableActions: entry.table_actions,
        table: props.table,
        stage,
      });
      const alias = new lambda.Alias(fn, 'Live', { aliasName: LIVE_ALIAS, version: fn.version });
      this.addLambdaRoute({ name: entry.name, method: entry.method, path: entry.path, alias }, validator);
      functions.set(entry.name, { fn, alias });
    }
    this.functions = functions;
    for (const route of props.routes ?? []) {
      this.addLambdaRoute(route, validator);
    }

    Validations.of(start).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'IAM (SigV4) authorization instead of a Cognito user pool: the callers are services and operators with IAM identities (docs/hands-on/08-api-gateway-integration.md).',
    });

    for (const [type, error] of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`${error}-${type.responseType}`, {
        type,
        templates: {
          [JSON_CONTENT]: `{"error":"${error}","message":$context.error.messageString,"violations":[]}`,
        },
      });
    }

    this.webAcl = this.createWebAcl(stage);
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }

  /** `route` on its alias; API Gateway checks its parameters before the function runs. */
  private addLambdaRoute(route: LambdaRoute, validator: apigw.RequestValidator): apigw.Method {
    const resource = this.api.root.resourceForPath(route.path);
    const parameters = {
      ...Object.fromEntries(
        [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => [`method.request.path.${m[1]}`, true]),
      ),
      ...Object.fromEntries(
        Object.entries(route.querystring ?? {}).map(([name, required]) => [
          `method.request.querystring.${name}`,
          required,
        ]),
      ),
    };
    const method = resource.addMethod(route.method, new apigw.LambdaIntegration(route.alias), {
      operationName: route.name,
      requestParameters: parameters,
      requestValidator: validator,
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'IAM (SigV4) authorization instead of a Cognito user pool, as on every route of this API.',
    });
    return method;
  }

  /** `https://…/<stage>/`: where the API answers. */
  get url(): string {
    return this.api.url;
  }

  private createWebAcl(stage: StageConfig): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const managed = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`TripBookingApi${stage.name}`),
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: WAF_RATE_LIMIT, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
        managed('AWSManagedRulesCommonRuleSet', 1),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
        managed('AWSManagedRulesAmazonIpReputationList', 3),
      ],
    });
  }
}
