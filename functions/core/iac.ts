/**
 * Which tool made a CloudTrail-recorded call: Terraform, Pulumi, CloudFormation, the CDK, the AWS CLI or the
 * console, from the record's `userAgent`, `sourceIPAddress` and `userIdentity`. The guard reads it on a
 * DisassociateKmsKey: an infrastructure-as-code tool that removes the key at every apply is a fight to report
 * once, with the fix for that tool (fight.ts, iac-fix.ts), not a tampering to alarm on each time. Pure.
 *
 * The formats, from the tools' public sources and captured records (test/events/logs-disassociate-kms-key-*.json):
 * - Terraform AWS provider (hashicorp/terraform-provider-aws, internal/conns: the APN product and the provider's
 *   own product before the SDK's): `APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io)
 *   terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6
 *   ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/cloudwatchlogs#1.44.0 m/E,e`; OpenTofu runs
 *   the same provider and says `OpenTofu/<ver>` instead of `Terraform/<ver>`.
 * - Pulumi: the classic provider (pulumi/pulumi-aws), bridged from the Terraform provider, writes Pulumi's
 *   products where the Terraform provider writes its own: `APN/1.0 Pulumi/1.0 Pulumi-Aws/4.17.0
 *   (+https://www.pulumi.com) aws-sdk-go/1.40.20 (go1.16.4; darwin; amd64)` (pulumi/pulumi-aws#1604; with
 *   aws-sdk-go-v2, pulumi/pulumi-aws#2190); pulumi-aws-native's middleware writes `APN/1.0 Pulumi/1.0
 *   PulumiAwsNative/<ver>` (provider/pkg/provider, pulumiUserAgent). Recognised first, by any "pulumi": some
 *   builds carried the Terraform products as well (#2190), and then Pulumi is still the tool.
 * - CloudFormation: calls it makes for a stack read `cloudformation.amazonaws.com` as `userAgent` and
 *   `sourceIPAddress`, and `userIdentity.invokedBy` (CloudTrail User Guide, "userIdentity element": invokedBy
 *   names the AWS service that made the request); the CDK deploys through CloudFormation, so its calls read the
 *   same, under the bootstrap stack's execution role `cdk-<qualifier>-cfn-exec-role-<account>-<region>`
 *   (aws-cdk bootstrap template); the CDK CLI's own calls carry `aws-cdk/<ver>`.
 * - AWS CLI v2: `aws-cli/2.x … md/command#logs.disassociate-kms-key` (newer: `command/logs.…`).
 * - Console: `sessionCredentialFromConsole: "true"` in the record, a browser's `Mozilla/…` or
 *   `console.amazonaws.com` as the user agent (CloudTrail User Guide, "CloudTrail record contents": userAgent).
 */
import { isObject } from './parse.ts';

/** The tools the guard tells apart. */
export type IacTool = 'terraform' | 'pulumi' | 'cloudformation' | 'cdk' | 'aws-cli' | 'console' | 'unknown';

/** The tools whose configuration declares the group: each apply puts the declared (absent) key back. */
export const IAC_TOOLS: readonly IacTool[] = ['terraform', 'pulumi', 'cloudformation', 'cdk'];

/** What a call's record says about its caller. */
export interface ToolSighting {
  tool: IacTool;
  /** The tool's version where the user agent names it (the Terraform provider's, Pulumi's, the CLI's). */
  version?: string;
  /** The user agent as recorded (clipped), for the log line. */
  userAgent?: string;
}

/** True for a tool that manages the group from configuration (a fight, not a one-off change). */
export function isIacTool(tool: IacTool | undefined): boolean {
  return tool !== undefined && IAC_TOOLS.includes(tool);
}

const CFN = 'cloudformation.amazonaws.com';
/** The CDK bootstrap stack's CloudFormation execution role (default qualifier hnb659fds). */
const CDK_EXEC_ROLE = /(^|\/)cdk-[a-z0-9]+-cfn-exec-role-\d{12}-[a-z0-9-]+$/i;

/** The version after `token/` in a user agent, if any. */
function versionAfter(userAgent: string, token: RegExp): string | undefined {
  return userAgent.match(token)?.[1];
}

/** Recognises the tool behind one CloudTrail record (the `detail` of an "AWS API Call via CloudTrail" event). */
export function recogniseTool(detail: unknown): ToolSighting {
  const record = isObject(detail) ? detail : {};
  const userAgent = typeof record.userAgent === 'string' ? record.userAgent.slice(0, 600) : '';
  const source = typeof record.sourceIPAddress === 'string' ? record.sourceIPAddress : '';
  const identity = isObject(record.userIdentity) ? record.userIdentity : {};
  const session = isObject(identity.sessionContext) ? identity.sessionContext : {};
  const issuer = isObject(session.sessionIssuer) ? session.sessionIssuer : {};
  const role = [issuer.arn, issuer.userName].find((v): v is string => typeof v === 'string') ?? '';
  const seen = (tool: IacTool, version?: string): ToolSighting => ({
    tool,
    ...(version ? { version } : {}),
    ...(userAgent ? { userAgent } : {}),
  });
  // Any Pulumi product (`Pulumi/`, `pulumi-resource-aws/`, `pulumi-aws/`, `PulumiAwsNative/`): nothing else says "pulumi".
  if (/pulumi/i.test(userAgent)) {
    return seen('pulumi', versionAfter(userAgent, /pulumi-(?:resource-)?aws\/v?([\w.+-]+)/i));
  }
  if (/terraform-provider-aws\/|\bTerraform\/|\bOpenTofu\//.test(userAgent)) {
    return seen('terraform', versionAfter(userAgent, /terraform-provider-aws\/v?([\w.-]+)/));
  }
  if (/(^|\s)aws-cdk\//.test(userAgent)) return seen('cdk', versionAfter(userAgent, /aws-cdk\/([\w.-]+)/));
  const viaCfn = identity.invokedBy === CFN || userAgent === CFN || source === CFN;
  if (viaCfn) return seen(CDK_EXEC_ROLE.test(role) ? 'cdk' : 'cloudformation');
  if (/^aws-cli\//.test(userAgent)) return seen('aws-cli', versionAfter(userAgent, /^aws-cli\/([\w.-]+)/));
  if (
    record.sessionCredentialFromConsole === 'true' ||
    userAgent === 'console.amazonaws.com' ||
    /^Mozilla\//.test(userAgent)
  ) {
    return seen('console');
  }
  return seen('unknown');
}
