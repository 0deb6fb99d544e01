/**
 * How CloudTrail records a call made by each infrastructure-as-code tool (and the AWS CLI and the console): the
 * `userAgent`, `sourceIPAddress` and `userIdentity` additions of its record. A test asks the emulator to record
 * its call as one of these tools with the request header `x-emulator-trail-caller: <tool>` (dispatch.ts); the
 * captured events of test/events/logs-disassociate-kms-key-*.json carry the same values (checked by
 * test/local/emulator/trail-callers.test.ts). Where each format comes from: functions/core/iac.ts.
 */

/** The request header a test sets to have its call recorded as a tool's. */
export const TRAIL_CALLER_HEADER = 'x-emulator-trail-caller';

/** What a tool's call changes in the record the emulator writes. */
export interface TrailCallerShape {
  userAgent: string;
  /** The caller's address as CloudTrail records it; AWS services record their own name. */
  sourceIp?: string;
  /** `userIdentity.invokedBy`: the AWS service that made the call on the caller's behalf. */
  invokedBy?: string;
  /** `sessionCredentialFromConsole: "true"`: a console session's call. */
  console?: boolean;
}

const TERRAFORM_UA =
  'APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/cloudwatchlogs#1.44.0 m/E,e';

/** The tools, by the name the header takes. */
export const TRAIL_CALLERS: Record<string, TrailCallerShape> = {
  terraform: { userAgent: TERRAFORM_UA },
  opentofu: {
    userAgent:
      'APN/1.0 HashiCorp/1.0 OpenTofu/1.8.7 (+https://opentofu.org) terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/cloudwatchlogs#1.44.0 m/E,e',
  },
  // The classic provider replaces the bridged Terraform provider's products with Pulumi's (pulumi/pulumi-aws#1604).
  pulumi: {
    userAgent:
      'APN/1.0 Pulumi/1.0 Pulumi-Aws/6.66.2 (+https://www.pulumi.com) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/cloudwatchlogs#1.44.0 m/E,e',
  },
  cloudformation: {
    userAgent: 'cloudformation.amazonaws.com',
    sourceIp: 'cloudformation.amazonaws.com',
    invokedBy: 'cloudformation.amazonaws.com',
  },
  'aws-cli': {
    userAgent:
      'aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#logs.disassociate-kms-key',
  },
  console: {
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    console: true,
  },
};

/** The shape a request asked for with TRAIL_CALLER_HEADER, or undefined (an unknown name is ignored). */
export function trailCallerOf(header: unknown): TrailCallerShape | undefined {
  return typeof header === 'string' && Object.hasOwn(TRAIL_CALLERS, header)
    ? TRAIL_CALLERS[header]
    : undefined;
}
