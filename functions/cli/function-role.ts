/**
 * The enforce function's role in each account × region, as the CLI names it in the policy of a guard key it
 * creates or repairs. The template gives the role a predictable name (serverless.yml, EnforceRole RoleName:
 * `<service>-<stage>-enforce-<region>`: IAM role names are global per account, so the region is part of it), so
 * the CLI can name it before the stack exists (`enforce --org` before the StackSet is deployed) and the deployed
 * function finds its key ready. `--function-role` overrides it: its account and region are those of each pair.
 */
import { partitionOf } from '../core/arn.ts';
import type { GuardConfig } from '../core/config.ts';

/** The osls service and the default stage the packaged template (and so the StackSet) is built with. */
export const SERVICE = 'logs-kms-guard';
export const DEFAULT_STAGE = 'prod';

/** `<service>-<stage>-enforce-` then a region: the template's EnforceRole RoleName. */
const PREDICTABLE = /^(.*-enforce-)([a-z]{2}(?:-[a-z]+)+-\d+)$/;
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(.+)$/;

/** The enforce role's name in a region, as the template names it (EnforceRole RoleName). */
export function enforceRoleName(region: string, stage = DEFAULT_STAGE): string {
  return `${SERVICE}-${stage}-enforce-${region}`;
}

/** The enforce role's ARN of a stack deployed with the default stage in this account and region. */
export function defaultFunctionRole(account: string, region: string): string {
  return `arn:${partitionOf(region)}:iam::${account}:role/${enforceRoleName(region)}`;
}

/**
 * The function role of one account × region: `given` (--function-role) with that account, and that region when its
 * name is the template's predictable one (`…-enforce-<region>`); else the default stage's role. Undefined only while
 * the account (or, with nothing given, the region) is unknown and nothing was given.
 */
export function functionRoleFor(
  given: string | undefined,
  account: string,
  region?: string,
): string | undefined {
  if (!given) return account && region ? defaultFunctionRole(account, region) : undefined;
  const arn = ROLE_ARN.exec(given);
  if (!arn) return given;
  const [, partition, own, name] = arn as unknown as [string, string, string, string];
  const regional = PREDICTABLE.exec(name);
  const roleName = regional && region ? `${regional[1]}${region}` : name;
  return `arn:${partition}:iam::${account || own}:role/${roleName}`;
}

/** The config of one account × region whose guard key names the function role (functionRoleFor). */
export function withFunctionRole(config: GuardConfig, account: string, region: string): GuardConfig {
  const role = functionRoleFor(config.guardRoleArn, account, region);
  return role === config.guardRoleArn ? config : { ...config, ...(role ? { guardRoleArn: role } : {}) };
}
