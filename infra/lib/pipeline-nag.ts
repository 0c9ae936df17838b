/**
 * The cdk-nag findings on what CDK Pipelines generates (its roles, CodeBuild projects and artifact
 * bucket), acknowledged by shape: each accepted shape is a rule id pattern, where it may occur,
 * and why. A finding of any other shape (a wildcard added to a step's policy, say) stays
 * unacknowledged and fails the synthesis. The findings are found by running the checks on the
 * built pipeline, because their ids embed the region, account and partition, which differ
 * between an offline synthesis and the pipeline's own.
 */
import { Validations } from 'aws-cdk-lib';
import type * as pipelines from 'aws-cdk-lib/pipelines';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface AcceptedFinding {
  /** The finding's id, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: RegExp;
  /** The constructs (paths below the pipeline) it is accepted on. */
  readonly on: RegExp;
  readonly reason: string;
}

const ANY = /.*/;
const ARN = '(arn:(aws[a-z-]*|<AWS::Partition>)|arn:\\*)';
const REGION = '([a-z0-9-]+|<AWS::Region>)';
const ACCOUNT = '(\\d{12}|<AWS::AccountId>)';

export const ACCEPTED_PIPELINE_FINDINGS: readonly AcceptedFinding[] = [
  {
    id: /^AwsSolutions-IAM5\[Action::s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*\]$/,
    on: ANY,
    reason:
      "CDK's grants on the pipeline's buckets (grantRead/grantReadWrite): the action groups S3 defines for reading and writing objects; their resources are the buckets' own, checked separately.",
  },
  {
    id: /^AwsSolutions-IAM5\[Resource::<(PipelineArtifactsBucket|BuildCache)[A-F0-9]{8}\.Arn>\/\*\]$/,
    on: ANY,
    reason:
      "The objects of the pipeline's artifact bucket (source zips, cloud assemblies) and of the build cache: their keys are chosen by CodePipeline and CodeBuild at run time.",
  },
  {
    id: new RegExp(`^AwsSolutions-IAM5\\[Resource::${ARN}:(logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/<[A-Za-z0-9]+>:\\*|codebuild:${REGION}:${ACCOUNT}:report-group/<[A-Za-z0-9]+>-\\*)\\]$`),
    on: ANY,
    reason:
      "A CodeBuild project's own log group (its streams are named per build) and its own report groups (named after the project): CodeBuild's documented minimum for a project's role.",
  },
  {
    id: new RegExp(`^AwsSolutions-IAM5\\[Resource::(\\*|${ARN}:(logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/\\*|codebuild:${REGION}:${ACCOUNT}:report-group/\\*))\\]$`),
    on: /\/Assets\/FileRole\//,
    reason:
      "The asset publisher's role, shared by the projects that publish the functions' code to the CDK bootstrap bucket (through the bootstrap's file-publishing role): CodeBuild's build actions, logs and reports of those projects, whose names CDK Pipelines assigns as it adds assets.",
  },
  {
    id: new RegExp(`^AwsSolutions-IAM5\\[Resource::(\\*|${ARN}:iam::${ACCOUNT}:role/\\*)\\]$`),
    on: /\/UpdatePipeline\/SelfMutation\/Role\//,
    reason:
      "The pipeline's self-update: cloudformation:DescribeStacks and s3:ListBucket (no resource-level scoping needed to read stack outputs and find the bootstrap bucket), and sts:AssumeRole only on roles tagged as CDK bootstrap roles (deploy, file- and image-publishing) by the statement's condition.",
  },
  {
    id: /^AwsSolutions-CB4$/,
    on: ANY,
    reason:
      "The builds' artifacts are in the pipeline's artifact bucket, encrypted with S3-managed keys; a customer-managed KMS key (crossAccountKeys) is what deploying into other accounts needs, and this pipeline deploys into its own.",
  },
  {
    id: /^AwsSolutions-S1$/,
    on: /\/Pipeline\/ArtifactsBucket\//,
    reason:
      "The pipeline's artifact bucket: build inputs and outputs, written and read by the pipeline's own roles only; CloudTrail records the pipeline's actions, and object access logs would duplicate them.",
  },
];

/** Acknowledges, on `pipeline` (built), each finding of an accepted shape; returns what it did. */
export function acknowledgePipelineFindings(
  pipeline: pipelines.CodePipeline,
  accepted: readonly AcceptedFinding[] = ACCEPTED_PIPELINE_FINDINGS,
): { id: string; path: string }[] {
  const byPath = new Map<string, IConstruct>(pipeline.node.findAll().map((c) => [c.node.path, c]));
  const acknowledged: { id: string; path: string }[] = [];
  const report = new AwsSolutionsChecks().validateScope(pipeline);
  for (const violation of report.violations) {
    for (const resource of violation.violatingResources) {
      const path = resource.constructPath ?? '';
      const shape = accepted.find((a) => a.id.test(violation.ruleName) && a.on.test(path));
      const construct = byPath.get(path);
      if (shape !== undefined && construct !== undefined) {
        Validations.of(construct).acknowledge({ id: violation.ruleName, reason: shape.reason });
        acknowledged.push({ id: violation.ruleName, path });
      }
    }
  }
  return acknowledged;
}
