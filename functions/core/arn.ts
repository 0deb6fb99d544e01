/** Partition, service principal and ARN helpers: pure functions of region and account. */

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_RE = /^\d{12}$/;

export type Partition =
  | 'aws'
  | 'aws-cn'
  | 'aws-us-gov'
  | 'aws-iso'
  | 'aws-iso-b'
  | 'aws-iso-e'
  | 'aws-iso-f'
  | 'aws-eusc';

/** True when `region` has the shape of an AWS region name (e.g. `eu-west-1`, `us-gov-west-1`). */
export function isRegion(region: string): boolean {
  return REGION_RE.test(region);
}

/** True when `account` is a 12-digit AWS account id. */
export function isAccountId(account: string): boolean {
  return ACCOUNT_RE.test(account);
}

/** The partition a region belongs to. */
export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

/** DNS suffix of service endpoints and principals in a partition. */
export function dnsSuffixOf(partition: Partition): string {
  switch (partition) {
    case 'aws-cn':
      return 'amazonaws.com.cn';
    case 'aws-iso':
      return 'c2s.ic.gov';
    case 'aws-iso-b':
      return 'sc2s.sgov.gov';
    case 'aws-iso-e':
      return 'cloud.adc-e.uk';
    case 'aws-iso-f':
      return 'csp.hci.ic.gov';
    case 'aws-eusc':
      return 'amazonaws.eu';
    default:
      return 'amazonaws.com';
  }
}

/** The CloudWatch Logs service principal of a region, e.g. `logs.us-east-1.amazonaws.com`. */
export function logsPrincipal(region: string): string {
  return `logs.${region}.${dnsSuffixOf(partitionOf(region))}`;
}

/** The account root principal ARN, e.g. `arn:aws:iam::123456789012:root`. */
export function rootArn(partition: Partition, account: string): string {
  return `arn:${partition}:iam::${account}:root`;
}

/** ARN pattern matching every log group of an account and region (the encryption-context condition). */
export function logGroupArnPattern(partition: Partition, region: string, account: string): string {
  return `arn:${partition}:logs:${region}:${account}:log-group:*`;
}

/** ARN of one log group. */
export function logGroupArn(partition: Partition, region: string, account: string, name: string): string {
  return `arn:${partition}:logs:${region}:${account}:log-group:${name}`;
}

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits an ARN into its parts, or returns undefined when it is not one. */
export function parseArn(arn: string): ParsedArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition = '', service = '', region = '', account = ''] = parts;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

const KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$/;

/** True for a full KMS key ARN (`arn:…:kms:<region>:<account>:key/<id>`), the only form AssociateKmsKey takes. */
export function isKeyArn(value: string): boolean {
  return KEY_ARN_RE.test(value);
}
