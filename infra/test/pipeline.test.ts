/**
 * The delivery pipeline (`-c pipeline=true`): its stages and steps in order, what its build runs,
 * what its post-deploy steps may do, and cdk-nag on every stack of it. And the plain app
 * (`-c stage=…`, `make deploy`'s) still without a pipeline.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, aws_iam as iam, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addNagChecks, addStacks, PIPELINE_STACK } from '../lib/app';
import { loadGateway, loadSagas, loadSearchFunctions } from '../lib/generated';
import { lambdaPackages, STEP, TripSagaPipelineStack } from '../lib/pipeline';
import { PLACEHOLDER_CONNECTION_ARN } from '../lib/pipeline-config';
import { acknowledgePipelineFindings } from '../lib/pipeline-nag';
import { CATALOGUE_SEED_ACTIONS, pipelineRoleNames, TripSagaStage } from '../lib/pipeline-stage';
import { STAGES } from '../lib/stage';
import { PREBUILT_LAMBDAS_CONTEXT } from '../lib/table-function';
import { TripSagaStack } from '../lib/trip-saga-stack';
import { logicalIdOf, only, resourcesOf, statementsOf } from './support';

const CONNECTION = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0c0ffee0-0000-4000-8000-000000000000';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function pipelineApp(context: Record<string, unknown> = {}): { app: App; stack: TripSagaPipelineStack } {
  const app = new App({
    context: { ...NO_BUNDLING, pipeline: 'true', connectionArn: CONNECTION, repo: 'example/trip-saga', ...context },
  });
  return { app, stack: addStacks(app) as TripSagaPipelineStack };
}

const { app, stack } = pipelineApp();
const template = Template.fromStack(stack);
const [, pipelineResource] = only(template, 'AWS::CodePipeline::Pipeline');
const stages: any[] = pipelineResource.Properties.Stages;
const projects = resourcesOf(template, 'AWS::CodeBuild::Project');
const devTemplate = Template.fromStack(stack.dev.stack);

/** The actions of `stage`, in the order they run. */
function actionsOf(stage: string): { name: string; provider: string; runOrder: number; configuration: any }[] {
  return stages
    .find((s) => s.Name === stage)
    .Actions.map((a: any) => ({
      name: a.Name,
      provider: a.ActionTypeId.Provider,
      runOrder: a.RunOrder,
      configuration: a.Configuration,
    }))
    .sort((a: any, b: any) => a.runOrder - b.runOrder);
}

/** The CodeBuild project an action runs, and its buildspec. */
function projectOf(action: { configuration: any }): { id: string; project: any; buildSpec: any } {
  const id = action.configuration.ProjectName.Ref;
  return { id, project: projects[id], buildSpec: JSON.parse(projects[id].Properties.Source.BuildSpec) };
}

describe('the pipeline runs, in order', () => {
  test('source → build → self-update → assets → dev → prod', () => {
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Dev', 'Prod']);
    const [source] = actionsOf('Source');
    expect(source.provider).toBe('CodeStarSourceConnection');
    expect(source.configuration).toMatchObject({
      ConnectionArn: CONNECTION,
      FullRepositoryId: 'example/trip-saga',
      BranchName: 'main',
    });
  });

  test('dev: deploy, put the catalogue on sale, then the smoke test', () => {
    expect(actionsOf('Dev').map((a) => [a.name, a.provider])).toEqual([
      ['TripSaga.Prepare', 'CloudFormation'],
      ['TripSaga.Deploy', 'CloudFormation'],
      [STEP.seedCatalogue, 'CodeBuild'],
      [STEP.smokeTest, 'CodeBuild'],
    ]);
    const runOrders = actionsOf('Dev').map((a) => a.runOrder);
    expect(new Set(runOrders).size).toBe(runOrders.length);
  });

  test('prod: a manual approval first, then the deploy', () => {
    expect(actionsOf('Prod').map((a) => [a.name, a.provider])).toEqual([
      [STEP.approveProd, 'Manual'],
      ['TripSaga.Prepare', 'CloudFormation'],
      ['TripSaga.Deploy', 'CloudFormation'],
    ]);
    expect(actionsOf('Prod')[0].runOrder).toBeLessThan(actionsOf('Prod')[1].runOrder);
  });

  test('each stage deploys the stack make deploy deploys, with that stage\'s settings', () => {
    expect(stack.dev.stack).toBeInstanceOf(TripSagaStack);
    expect(stack.prod.stack).toBeInstanceOf(TripSagaStack);
    expect(stack.dev.stack.stage).toBe(STAGES.dev);
    expect(stack.prod.stack.stage).toBe(STAGES.prod);
    expect(actionsOf('Prod').find((a) => a.name === 'TripSaga.Prepare')!.configuration.TemplatePath).toContain(
      `assembly-${PIPELINE_STACK}-Prod/`,
    );
  });
});

describe('the build: the README\'s test command, the binaries once, the synthesis with them', () => {
  const [synthAction] = actionsOf('Build');
  const { project, buildSpec } = projectOf(synthAction);

  test('on the ARM Amazon Linux 2023 image', () => {
    expect(project.Properties.Environment).toMatchObject({
      Type: 'ARM_CONTAINER',
      Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
    });
  });

  test('installs the pinned toolchain, Node.js and Python, and cargo-lambda', () => {
    const install = buildSpec.phases.install;
    expect(install['runtime-versions']).toEqual({ nodejs: 20, python: 3.11 });
    // rustup with no default toolchain, then the one rust-toolchain.toml names.
    expect(install.commands.join('\n')).toMatch(/--default-toolchain none[\s\S]*rustup toolchain install/);
    expect(install.commands).toContain('pip install --quiet --disable-pip-version-check -r tools/requirements-build.txt');
    expect(existsSync(path.resolve(__dirname, '../../tools/requirements-build.txt'))).toBe(true);
  });

  test('make test, then cargo lambda build (arm64, every function\'s package), then cdk synth with the binaries', () => {
    const commands: string[] = buildSpec.phases.build.commands;
    expect(commands[0]).toBe('make test');
    expect(commands[1]).toMatch(/^RUSTFLAGS="--remap-path-prefix=\$CODEBUILD_SRC_DIR=\/src" cargo lambda build --release --arm64 /);
    for (const pkg of lambdaPackages()) {
      expect(commands[1]).toContain(` -p ${pkg}`);
    }
    expect(commands[2]).toBe(
      `cd infra && npx --no-install cdk synth --no-notices -c pipeline=true -c connectionArn=${CONNECTION} -c repo=example/trip-saga -c branch=main -c ${PREBUILT_LAMBDAS_CONTEXT}=../target/lambda`,
    );
    expect(project.Properties.Environment.EnvironmentVariables).toEqual(
      expect.arrayContaining([{ Name: 'CI', Type: 'PLAINTEXT', Value: 'true' }]),
    );
  });

  test('the packages are those generated/ names, and trip-local (the seed)', () => {
    const crates = new Set<string>(['trip-local']);
    loadSagas().forEach((s) => s.manifest.functions.forEach((f) => crates.add(f.crate)));
    loadGateway().functions.forEach((f) => crates.add(f.crate));
    const search = loadSearchFunctions();
    [search.consumer.crate, search.query.crate].forEach((c) => crates.add(c));
    expect(lambdaPackages()).toEqual([...crates].sort());
  });

  test('cargo, npm and pip downloads cached in S3 between builds', () => {
    expect(project.Properties.Cache).toEqual({
      Type: 'S3',
      Location: { 'Fn::Join': ['/', [{ Ref: logicalIdOf(stack.cacheBucket) }, 'synth']] },
    });
    expect(buildSpec.cache.paths).toEqual(
      expect.arrayContaining(['/root/.cargo/registry/cache/**/*', '/root/.npm/**/*', '/root/.cache/pip/**/*']),
    );
  });
});

describe('the post-deploy steps: each assumes one role of the dev stage, allowed one job', () => {
  const [, , seedAction, smokeAction] = actionsOf('Dev');
  const devStackId = stack.dev.stack.artifactId;
  const access = stack.dev.access!;

  test('the smoke test runs the repository\'s script on the dev API', () => {
    const { buildSpec } = projectOf(smokeAction);
    expect(buildSpec.phases.build.commands.at(-1)).toBe('scripts/smoke-test.sh "$API_URL"');
    const variables = JSON.parse(smokeAction.configuration.EnvironmentVariables);
    expect(variables).toEqual([
      { name: 'API_URL', type: 'PLAINTEXT', value: `#{${devStackId}.${logicalIdOf(stack.dev.stack.outputs.apiUrl)}}` },
      {
        name: 'SMOKE_TEST_ROLE_ARN',
        type: 'PLAINTEXT',
        value: `#{${devStackId}.${logicalIdOf(access.outputs.smokeTestRoleArn)}}`,
      },
    ]);
    expect(existsSync(path.resolve(__dirname, '../../scripts/smoke-test.sh'))).toBe(true);
  });

  test('the steps\' own roles may assume their stage role and nothing else of the stage', () => {
    for (const [action, roleName] of [
      [smokeAction, pipelineRoleNames(STAGES.dev).smokeTest],
      [seedAction, pipelineRoleNames(STAGES.dev).catalogueSeed],
    ] as const) {
      const roleId = projectOf(action).project.Properties.ServiceRole['Fn::GetAtt'][0];
      const assume = statementsOf(template, roleId).filter((s) => [s.Action].flat().includes('sts:AssumeRole'));
      expect(assume).toHaveLength(1);
      expect(JSON.stringify(assume[0].Resource)).toContain(`:role/${roleName}"`);
    }
  });

  test('the smoke test\'s role: execute-api:Invoke on POST /trips and GET /trips/* of this API and stage only', () => {
    const roleId = logicalIdOf(access.smokeTestRole);
    const statements = statementsOf(devTemplate, roleId);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:Invoke');
    const apiId = logicalIdOf(stack.dev.stack.api.api);
    const resources = statements[0].Resource.map((r: any) => JSON.stringify(r));
    expect(resources).toHaveLength(2);
    expect(resources[0]).toContain(`{"Ref":"${apiId}"},"/dev/POST/trips"`);
    expect(resources[1]).toContain(`{"Ref":"${apiId}"},"/dev/GET/trips/*"`);
  });

  test('the seed\'s role: what trip-local seed sends, on this stage\'s table only', () => {
    const statements = statementsOf(devTemplate, logicalIdOf(access.catalogueSeedRole));
    expect(statements).toEqual([
      {
        Action: [...CATALOGUE_SEED_ACTIONS],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalIdOf(stack.dev.stack.table.table), 'Arn'] },
      },
    ]);
    const { buildSpec } = projectOf(seedAction);
    expect(buildSpec.phases.build.commands.at(-1)).toBe('./bootstrap --aws-table "$TABLE_NAME" seed');
  });

  test('both roles trust only roles of the pipeline\'s stack', () => {
    for (const role of [access.smokeTestRole, access.catalogueSeedRole]) {
      const trust = resourcesOf(devTemplate, 'AWS::IAM::Role')[logicalIdOf(role)].Properties.AssumeRolePolicyDocument;
      expect(trust.Statement).toHaveLength(1);
      expect(JSON.stringify(trust.Statement[0].Condition.ArnLike['aws:PrincipalArn'])).toContain(`:role/${PIPELINE_STACK}-*`);
    }
  });

  test('prod has no such roles', () => {
    expect(stack.prod.access).toBeUndefined();
    const prodRoles = Object.values(resourcesOf(Template.fromStack(stack.prod.stack), 'AWS::IAM::Role'));
    expect(prodRoles.filter((r) => r.Properties.RoleName !== undefined)).toEqual([]);
  });
});

describe('cdk-nag, on every stack of the pipeline app', () => {
  test('no unacknowledged AwsSolutions finding: the pipeline and both stages', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map(
      (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  test.each(['dev', 'prod'] as const)('a finding inside a %s stage fails the synthesis: the app\'s checks reach into stages', (name) => {
    // The pipeline synthesizes its stages as it is built, so a finding is planted in a stage of
    // its own, checked as addStacks checks the app.
    const fresh = new App({ context: NO_BUNDLING });
    const stage = new TripSagaStage(fresh, 'Stage', { stage: STAGES[name] });
    const role = new iam.Role(stage.stack, 'Careless', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
    addNagChecks(fresh);
    expect(() => fresh.synth()).toThrow(/Stage\/TripSaga\/Careless\/DefaultPolicy[\s\S]*AwsSolutions-IAM5\[Action::dynamodb:\*\]/);
  });

  test('a wildcard of another shape on a pipeline role stays unacknowledged', () => {
    const test = new Stack(new App(), 'Test');
    const source = pipelines.CodePipelineSource.connection('example/trip-saga', 'main', { connectionArn: CONNECTION });
    const careless = new pipelines.CodeBuildStep('Careless', {
      input: source,
      commands: ['true'],
      rolePolicyStatements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })],
    });
    const pipeline = new pipelines.CodePipeline(test, 'Pipeline', {
      synth: new pipelines.ShellStep('Synth', { input: source, commands: ['true'] }),
    });
    pipeline.addWave('Checks', { post: [careless] });
    pipeline.buildPipeline();
    const acknowledged = acknowledgePipelineFindings(pipeline);
    expect(acknowledged.length).toBeGreaterThan(0);
    const left = new AwsSolutionsChecks().validateScope(test).violations.map((v) => v.ruleName);
    expect(left).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::s3:*]']));
  });
});

describe('the context', () => {
  test('without a connection or a repository: placeholders and a warning that deploying needs them', () => {
    const app = new App({ context: { ...NO_BUNDLING, pipeline: 'true' } });
    const stack = addStacks(app) as TripSagaPipelineStack;
    const [, pipeline] = only(Template.fromStack(stack), 'AWS::CodePipeline::Pipeline');
    const source = pipeline.Properties.Stages[0].Actions[0].Configuration;
    expect(source.ConnectionArn).toBe(PLACEHOLDER_CONNECTION_ARN);
    const warnings = stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringMatching(/-c connectionArn and -c repo: .*cannot be deployed.*-c connectionArn=.*-c repo=/)]);
  });

  test('a malformed connection ARN or repository is an error', () => {
    expect(() => pipelineApp({ connectionArn: 'my-connection' })).toThrow(/-c connectionArn=my-connection is not valid/);
    expect(() => pipelineApp({ repo: 'trip-saga' })).toThrow(/-c repo=trip-saga is not valid/);
  });

  test.each(['dev', 'prod'] as const)('-c stage=%s: the plain stack, no pipeline', (stage) => {
    const app = new App({ context: { ...NO_BUNDLING, stage } });
    const stack = addStacks(app);
    expect(stack).toBeInstanceOf(TripSagaStack);
    expect(stack.stackName).toBe(`TripSaga-${stage}`);
    expect(app.node.children.filter((c) => c instanceof Stack).map((c) => c.node.id)).toEqual([`TripSaga-${stage}`]);
    expect(app.node.findAll().some((c) => c instanceof Stage && c !== app)).toBe(false);
    expect(Object.keys(resourcesOf(Template.fromStack(stack), 'AWS::CodePipeline::Pipeline'))).toHaveLength(0);
  });
});

describe('prebuilt binaries (-c prebuiltLambdas=…)', () => {
  /** A directory shaped like cargo-lambda's target/lambda, with a `bootstrap` per binary. */
  function binaries(except?: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambda-'));
    const names = [
      ...loadSagas().flatMap((s) => s.manifest.functions.map((f) => f.binary)),
      ...loadGateway().functions.map((f) => f.binary),
      loadSearchFunctions().consumer.binary,
      loadSearchFunctions().query.binary,
    ];
    for (const name of names.filter((n) => n !== except)) {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, 'bootstrap'), `#!/bin/sh\n# ${name}\n`);
    }
    return dir;
  }

  test('every function is that binary, as it is, run by provided.al2023 on arm64', () => {
    const app = new App({ context: { stage: 'dev', [PREBUILT_LAMBDAS_CONTEXT]: binaries() } });
    const stack = addStacks(app);
    const functions = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function'))
      .filter((f) => f.Properties.Runtime === 'provided.al2023');
    expect(functions.length).toBeGreaterThan(10);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Handler: 'bootstrap', Architectures: ['arm64'] });
    }
    // An asset each, hashed from its own directory: each function is its own binary, and one
    // whose binary did not change keeps its hash (and so its published version).
    const keys = functions.map((fn) => fn.Properties.Code.S3Key);
    keys.forEach((key) => expect(key).toMatch(/^[0-9a-f]{64}\.zip$/));
    expect(new Set(keys).size).toBe(functions.length);
  });

  test('a binary that is not there is an error that says how to build it', () => {
    const app = new App({ context: { stage: 'dev', [PREBUILT_LAMBDAS_CONTEXT]: binaries('get-trip') } });
    expect(() => addStacks(app)).toThrow(/no get-trip\/bootstrap there; build the functions first \(cargo lambda build --release --arm64/);
  });
});
