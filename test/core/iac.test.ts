/**
 * Recognising the tool behind a DisassociateKmsKey (functions/core/iac.ts) from the captured-shape CloudTrail
 * events of test/events, and the fix printed for each (functions/core/iac-fix.ts). Pure: no mocks.
 */
import { describe, expect, it } from 'vitest';
import { parseGuardEvent } from '../../functions/core/change-event.ts';
import { isIacTool, recogniseTool } from '../../functions/core/iac.ts';
import { fixFor } from '../../functions/core/iac-fix.ts';
import { TRAIL_CALLERS } from '../../local/emulator/trail-callers.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { KEY_ARN, loadEvent } from '../helpers.ts';

describe('recogniseTool over the captured DisassociateKmsKey events', () => {
  it.each([
    ['logs-disassociate-kms-key-terraform.json', 'terraform', '5.80.0', true],
    ['logs-disassociate-kms-key-pulumi.json', 'pulumi', '6.66.2', true],
    ['logs-disassociate-kms-key-cloudformation.json', 'cloudformation', undefined, true],
    ['logs-disassociate-kms-key-cdk.json', 'cdk', undefined, true],
    // The AWS CLI run by a role called platform-terraform is still the AWS CLI: the user agent decides.
    ['logs-disassociate-kms-key.json', 'aws-cli', '2.22.4', false],
    ['logs-disassociate-kms-key-console.json', 'console', undefined, false],
  ])('%s: %s', (file, tool, version, iac) => {
    // Prepare
    const event = loadEvent(file);
    // Act
    const seen = recogniseTool(event.detail);
    // Assess
    expect(seen.tool).toBe(tool);
    expect(seen.version).toBe(version);
    expect(isIacTool(seen.tool)).toBe(iac);
  });

  it('carries the tool on the parsed change, with the group', () => {
    const parsed = parseGuardEvent(loadEvent('logs-disassociate-kms-key-terraform.json'), {
      account: ACCOUNT,
      region: REGION,
    });
    expect(parsed).toMatchObject({
      kind: 'change',
      change: 'disassociated',
      name: '/platform/audit',
      tool: { tool: 'terraform', version: '5.80.0' },
    });
  });

  it.each([
    ['OpenTofu runs the Terraform provider', TRAIL_CALLERS.opentofu?.userAgent, 'terraform'],
    [
      'the CDK CLI',
      'aws-cdk/2.172.0 aws-sdk-js/3.699.0 ua/2.1 os/darwin#24.1.0 lang/js md/nodejs#22.11.0',
      'cdk',
    ],
    [
      'Pulumi classic on aws-sdk-go v1 (pulumi/pulumi-aws#1604)',
      'APN/1.0 Pulumi/1.0 Pulumi-Aws/4.17.0 (+https://www.pulumi.com) aws-sdk-go/1.40.20 (go1.16.4; darwin; amd64)',
      'pulumi',
    ],
    [
      'Pulumi with the Terraform products left in',
      'aws-sdk-go/1.44.12 (go1.19.1; darwin; amd64) APN/1.0 HashiCorp/1.0 Terraform/ (+https://www.terraform.io/) APN/1.0 Pulumi/1.0 Pulumi-Aws/5.18.0',
      'pulumi',
    ],
    [
      'an older Terraform provider (aws-sdk-go v1)',
      'APN/1.0 HashiCorp/1.0 Terraform/1.1.7 (+https://www.terraform.io) terraform-provider-aws/4.62.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.237 (go1.19.7; linux; arm64)',
      'terraform',
    ],
    ['pulumi-aws-native', 'APN/1.0 Pulumi/1.0 PulumiAwsNative/1.12.0 aws-sdk-go-v2/1.32.6', 'pulumi'],
    [
      'a newer AWS CLI',
      'aws-cli/2.27.0 ua/2.1 os/linux#6.8 md/arch#x86_64 lang/python#3.13.2 command/logs.disassociate-kms-key',
      'aws-cli',
    ],
    ['an SDK script', 'aws-sdk-js/3.699.0 ua/2.1 os/linux#6.8 lang/js md/nodejs#22.11.0', 'unknown'],
    ['nothing at all', undefined, 'unknown'],
  ])('%s', (_what, userAgent, tool) => {
    expect(recogniseTool({ userAgent, sourceIPAddress: '203.0.113.9' }).tool).toBe(tool);
  });

  it('reads garbage without throwing', () => {
    for (const detail of [null, 3, 'x', [], { userAgent: 7, userIdentity: 'x' }]) {
      expect(recogniseTool(detail).tool).toBe('unknown');
    }
  });
});

describe('fixFor: the exact fix, with the real guard key ARN', () => {
  it.each([
    ['terraform', ['lifecycle { ignore_changes = [kms_key_id] }', `kms_key_id = "${KEY_ARN}"`]],
    ['pulumi', ['ignoreChanges: ["kmsKeyId"]', `kmsKeyId: "${KEY_ARN}"`]],
    ['cloudformation', [`KmsKeyId: ${KEY_ARN}`, 'AWS::Logs::LogGroup']],
    ['cdk', [`kms.Key.fromKeyArn(this, 'GuardKey', '${KEY_ARN}')`]],
  ] as const)('%s', (tool, parts) => {
    const fix = fixFor(tool, '/platform/audit', KEY_ARN);
    for (const part of parts) expect(fix).toContain(part);
    expect(fix).toContain('/platform/audit');
  });
});
