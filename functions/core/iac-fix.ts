/**
 * The exact fix for a log group an infrastructure-as-code tool keeps taking the key from, in that tool's own
 * terms and with the guard key's real ARN: declare the key (the tool then keeps it) or tell the tool to leave
 * it alone. Why each tool removes it: the Terraform AWS provider's `kms_key_id` is Optional, not Computed, so
 * Update calls DisassociateKmsKey when the configuration has none (internal/service/logs/group.go); Pulumi's
 * classic provider is bridged from it; CloudFormation (and the CDK through it) disassociates when a template
 * that had KmsKeyId drops it. Pure.
 */
import type { IacTool } from './iac.ts';

/** One line, printed in the alarm's log line and the finding: what to change, and where. */
export function fixFor(tool: IacTool, logGroupName: string, keyArn: string): string {
  switch (tool) {
    case 'terraform':
      return `Terraform: in the aws_cloudwatch_log_group whose name is "${logGroupName}", set kms_key_id = "${keyArn}" (or add lifecycle { ignore_changes = [kms_key_id] })`;
    case 'pulumi':
      return `Pulumi: on the aws.cloudwatch.LogGroup named "${logGroupName}", set kmsKeyId: "${keyArn}" (or the resource option ignoreChanges: ["kmsKeyId"])`;
    case 'cloudformation':
      return `CloudFormation: on the AWS::Logs::LogGroup "${logGroupName}", add KmsKeyId: ${keyArn} to its Properties`;
    case 'cdk':
      return `CDK: on the logs.LogGroup "${logGroupName}", set encryptionKey: kms.Key.fromKeyArn(this, 'GuardKey', '${keyArn}')`;
    default:
      return `associate the key where the group is declared: aws logs associate-kms-key --log-group-name ${logGroupName} --kms-key-id ${keyArn}; or opt the group out with the tag logs-kms-guard:skip`;
  }
}

/** The tool's name as people write it. */
export function toolLabel(tool: IacTool): string {
  const labels: Record<IacTool, string> = {
    terraform: 'Terraform',
    pulumi: 'Pulumi',
    cloudformation: 'CloudFormation',
    cdk: 'the AWS CDK',
    'aws-cli': 'the AWS CLI',
    console: 'the AWS console',
    unknown: 'an unrecognised caller',
  };
  return labels[tool];
}
