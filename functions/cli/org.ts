/**
 * Across accounts: which accounts a run covers (`--org`, `--ou`, `--accounts`, checked before any AWS call),
 * the role assumed in each (with the command's session policy, session-policy.ts), and how many account × region
 * pairs run at once (each pair has its own quotas, so a run over many accounts takes about as long as the slowest
 * pair, not their sum).
 */
import {
  type Account,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { partitionOf } from '../core/arn.ts';
import { Pool } from '../core/concurrency.ts';
import type { CliClients, ClientFactory, CredentialsSource } from './aws.ts';
import { numberFlag } from './context.ts';
import { UsageError } from './errors.ts';
import { EXTERNAL_ID_ENV } from './resume-token.ts';

/** The role AWS Organizations creates in every account it creates (Control Tower's is AWSControlTowerExecution). */
export const DEFAULT_ROLE_NAME = 'OrganizationAccountAccessRole';

/** The flags of a run across accounts (see context.ts `acrossAccounts`). */
export interface OrgFlags {
  org?: boolean;
  ou?: string[];
  accounts?: string[];
  roleName?: string;
  externalId?: string;
  parallel?: string;
}

/** One account a run works in, with the clients signed for it. */
export interface AccountTarget {
  account: string;
  name?: string;
  clients: ClientFactory;
  /** The role assumed to reach the account (absent for the caller's own account). */
  roleArn?: string;
}

/** An account (or account × region) left out, and why: reported, never fatal to the others. */
export interface Skip {
  account: string;
  name?: string;
  region?: string;
  /** `suspended`: not ACTIVE in the organization; `denied`: the role could not be assumed; `region-disabled`; `failed`. */
  kind: 'suspended' | 'denied' | 'region-disabled' | 'failed';
  reason: string;
  /** For a refused role: what to check (the role, its trust policy). */
  check?: string;
}

/** The accounts of a run: those to work in, those skipped and why, and the scope in words. */
export interface TargetPlan {
  /** True with --org, --ou or --accounts: the report names accounts, pairs run in parallel. */
  multi: boolean;
  /** The account of the credentials the CLI was started with ('' for a single-account run: not looked up). */
  caller: string;
  targets: AccountTarget[];
  skipped: Skip[];
  /** What the run covers, in words (the report's scope line). */
  scope: string;
}

const ACCOUNT_ID = /^\d{12}$/;
// Organizations' id patterns (API reference, ListAccountsForParent ParentId): a root or an OU.
const PARENT_ID = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
// sts:AssumeRole ExternalId: 2–1224 characters of [\w+=,.@:/-] (API reference, AssumeRole).
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/**
 * The pool size: --parallel, default 64 pairs at once. Each pair paces itself under its own quotas (about ten
 * calls a second), so the bound is this process's work, not AWS's: 64 pairs are some 600 calls a second, about
 * half a core of SDK work; and 64 covers 20 accounts × 3 regions (or 32 × 2) at once, where a run takes as long
 * as its slowest pair. Past it, pairs wait for a free slot.
 */
export const DEFAULT_PARALLEL = 64;

/** The pool size of a run: --parallel (a whole number from 1 to 256), else DEFAULT_PARALLEL. */
export function parallelism(value: string | undefined): number {
  return numberFlag(value, '--parallel', { integer: true, min: 1, max: 256 }, DEFAULT_PARALLEL);
}

/** True when the flags name accounts beyond the caller's own (`--org`, `--ou`, `--accounts`). */
export function isAcross(flags: OrgFlags): boolean {
  return Boolean(flags.org || flags.ou || flags.accounts);
}

/** Checks the org flags for conflicts and bad values before any AWS call. */
export function validateOrgFlags(flags: OrgFlags): void {
  if (flags.accounts && (flags.org || flags.ou))
    throw new UsageError('use --accounts or --org/--ou, not both');
  for (const a of flags.accounts ?? []) {
    if (!ACCOUNT_ID.test(a)) throw new UsageError(`--accounts: "${a}" is not a 12-digit AWS account id`);
  }
  if (flags.accounts && flags.accounts.length === 0) throw new UsageError('--accounts: no account ids given');
  for (const p of flags.ou ?? []) {
    if (!PARENT_ID.test(p))
      throw new UsageError(`--ou: "${p}" is not an organizational unit id (ou-…) or root id (r-…)`);
  }
  const multi = isAcross(flags);
  if (!multi && (flags.roleName || flags.externalId))
    throw new UsageError('--role-name and --external-id need --org, --ou or --accounts');
  if (flags.roleName !== undefined && !ROLE_NAME.test(flags.roleName))
    throw new UsageError(`--role-name: "${flags.roleName}" is not an IAM role name`);
  if (flags.externalId === '')
    throw new UsageError(
      `--external-id is empty: a printed resume command reads it from $${EXTERNAL_ID_ENV}; set that variable to the external id`,
    );
  if (flags.externalId !== undefined && !EXTERNAL_ID.test(flags.externalId))
    throw new UsageError('--external-id: 2 to 1224 characters of letters, digits and +=,.@:/-');
  parallelism(flags.parallel);
}

/**
 * The org flags with the external id of LOGS_KMS_GUARD_EXTERNAL_ID when `--external-id` is not given (a run across
 * accounts only); a bad value there is refused naming the variable, as the user set it.
 */
export function withExternalIdFromEnv(flags: OrgFlags, env: Record<string, string | undefined>): OrgFlags {
  const value = env[EXTERNAL_ID_ENV];
  if (flags.externalId !== undefined || !value || !isAcross(flags)) return flags;
  if (!EXTERNAL_ID.test(value))
    throw new UsageError(`${EXTERNAL_ID_ENV}: 2 to 1224 characters of letters, digits and +=,.@:/-`);
  return { ...flags, externalId: value };
}

/** The caller's account, from sts:GetCallerIdentity. */
export async function callerIdentity(sts: STSClient): Promise<{ account: string; arn: string }> {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  if (!out.Account) throw new Error('sts:GetCallerIdentity returned no account');
  return { account: out.Account, arn: out.Arn ?? '' };
}

/**
 * The caller's account: sts:GetCallerIdentity; for a run over the organization, should an endpoint serve no
 * GetCallerIdentity, the management account Organizations names (only it, or a delegated administrator, lists
 * accounts).
 */
async function callerAccountOf(base: CliClients, org: boolean): Promise<string> {
  try {
    return (await callerIdentity(base.sts())).account;
  } catch (err) {
    const name = (err as { name?: string })?.name ?? '';
    if (!org || /Credential|Expired|InvalidClientTokenId|AccessDenied/i.test(name)) throw err;
    const out = await base.organizations().send(new DescribeOrganizationCommand({}));
    const id = out.Organization?.MasterAccountId;
    if (!id) throw err;
    return id;
  }
}

/** The account's lifecycle state: `State` (Status is retired since 9 September 2026, API reference "Account"). */
function stateOf(a: Account): string {
  return a.State ?? a.Status ?? 'ACTIVE';
}

/** Every account of the organization (`--org`), or of the OUs and their child OUs (`--ou`). */
export async function listOrgAccounts(
  organizations: OrganizationsClient,
  ous: string[] | undefined,
): Promise<Account[]> {
  const accounts: Account[] = [];
  if (!ous?.length) {
    let NextToken: string | undefined;
    do {
      const out = await organizations.send(new ListAccountsCommand({ ...(NextToken ? { NextToken } : {}) }));
      accounts.push(...(out.Accounts ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
    return accounts;
  }
  const seen = new Set<string>();
  const parents = [...ous];
  while (parents.length) {
    const parent = parents.shift() as string;
    if (seen.has(parent)) continue;
    seen.add(parent);
    let NextToken: string | undefined;
    do {
      const out = await organizations.send(
        new ListAccountsForParentCommand({ ParentId: parent, ...(NextToken ? { NextToken } : {}) }),
      );
      accounts.push(...(out.Accounts ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
    NextToken = undefined;
    do {
      const out: { OrganizationalUnits?: { Id?: string }[]; NextToken?: string } = await organizations.send(
        new ListOrganizationalUnitsForParentCommand({
          ParentId: parent,
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      for (const ou of out.OrganizationalUnits ?? []) if (ou.Id) parents.push(ou.Id);
      NextToken = out.NextToken;
    } while (NextToken);
  }
  const unique = new Map(accounts.filter((a) => a.Id).map((a) => [a.Id as string, a]));
  return [...unique.values()];
}

/** A credentials provider for a role in another account: assumed on first use, again before it expires. */
export function assumedRole(options: {
  sts: STSClient;
  roleArn: string;
  externalId?: string;
  sessionName: string;
  /** The session policy (AssumeRole `Policy`): the session may do only what both it and the role allow. */
  policy?: string;
}): CredentialsSource & (() => Promise<{ accessKeyId: string; secretAccessKey: string }>) {
  let current: Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
  }>;
  let expires = 0;
  const assume = async () => {
    const out = await options.sts.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: options.sessionName,
        DurationSeconds: 3600,
        ...(options.externalId ? { ExternalId: options.externalId } : {}),
        ...(options.policy ? { Policy: options.policy } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`sts:AssumeRole ${options.roleArn} returned no credentials`);
    expires = c.Expiration ? c.Expiration.getTime() : Date.now() + 3_600_000;
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      expiration: new Date(expires),
    };
  };
  return () => {
    // Five minutes early, as the SDK's own providers refresh: a long run never signs with a dead session.
    if (!current || Date.now() > expires - 300_000) {
      current = assume();
      current.catch(() => {
        expires = 0;
      });
    }
    return current;
  };
}

/** The role ARN in `account` for the partition of `region`. */
export function roleArnOf(account: string, roleName: string, region: string): string {
  return `arn:${partitionOf(region)}:iam::${account}:role/${roleName}`;
}

/** A one-line reason for a refused AssumeRole (AWS's message names the caller and the role). */
export function deniedReason(err: unknown, roleArn: string): string {
  const e = err as { name?: string; message?: string };
  return `cannot assume ${roleArn}: ${e?.name ?? 'Error'}${e?.message ? `: ${e.message}` : ''}`;
}

/**
 * The accounts of this run. Without org flags: the caller's own. With them: every listed (or organization)
 * account, the caller's own with its own credentials, every other through `--role-name`; suspended accounts
 * and refused roles are skipped with the reason.
 */
export async function planTargets(options: {
  flags: OrgFlags;
  clients: ClientFactory;
  /** Where STS and Organizations are called (the first region of the run). */
  region: string;
  command: string;
  /** The command's session policy, passed on every AssumeRole (session-policy.ts). */
  sessionPolicy?: string;
}): Promise<TargetPlan> {
  const { flags, clients, region } = options;
  validateOrgFlags(flags);
  const base = clients(region);
  if (!isAcross(flags)) {
    // One account: the credentials' own, named lazily (by whichever call first learns it), no extra call.
    return {
      multi: false,
      caller: '',
      targets: [{ account: '', clients }],
      skipped: [],
      scope: 'this account',
    };
  }
  const caller = await callerAccountOf(base, Boolean(flags.org || flags.ou));
  let listed: { id: string; name?: string; state: string }[];
  let scope: string;
  if (flags.accounts) {
    listed = [...new Set(flags.accounts)].map((id) => ({ id, state: 'ACTIVE' }));
    scope = `accounts ${listed.map((a) => a.id).join(', ')}`;
  } else {
    const accounts = await listOrgAccounts(base.organizations(), flags.ou);
    listed = accounts.map((a) => ({
      id: a.Id as string,
      ...(a.Name ? { name: a.Name } : {}),
      state: stateOf(a),
    }));
    scope = flags.ou?.length ? `organization units ${flags.ou.join(', ')}` : 'organization';
    scope += ` (${listed.length} account(s))`;
  }
  const roleName = flags.roleName ?? DEFAULT_ROLE_NAME;
  const skipped: Skip[] = [];
  const targets: AccountTarget[] = [];
  const assumeFrom = clients.withCredentials;
  const pending: Promise<void>[] = [];
  const probe = new Pool(parallelism(flags.parallel));
  for (const a of listed.sort((x, y) => x.id.localeCompare(y.id))) {
    const named = a.name ? { name: a.name } : {};
    if (a.state !== 'ACTIVE') {
      skipped.push({
        account: a.id,
        ...named,
        kind: 'suspended',
        reason: `account is ${a.state}, not ACTIVE`,
      });
      continue;
    }
    if (a.id === caller) {
      targets.push({ account: a.id, ...named, clients });
      continue;
    }
    if (!assumeFrom) throw new Error('these clients cannot be signed with an assumed role');
    const roleArn = roleArnOf(a.id, roleName, region);
    const credentials = assumedRole({
      sts: base.sts(),
      roleArn,
      ...(flags.externalId ? { externalId: flags.externalId } : {}),
      sessionName: `logs-kms-guard-${options.command}`,
      ...(options.sessionPolicy ? { policy: options.sessionPolicy } : {}),
    });
    // Assumed up front: a refusing account is known (and reported) before any work starts.
    pending.push(
      probe.run(async () => {
        try {
          await credentials();
          targets.push({ account: a.id, ...named, clients: assumeFrom(credentials), roleArn });
        } catch (err) {
          skipped.push({
            account: a.id,
            ...named,
            kind: 'denied',
            reason: deniedReason(err, roleArn),
            check: `the role ${roleArn}: it must exist and its trust policy let the caller assume it${flags.externalId ? ' with this external ID' : ''}`,
          });
        }
      }),
    );
  }
  await Promise.all(pending);
  targets.sort((x, y) => x.account.localeCompare(y.account));
  skipped.sort((x, y) => x.account.localeCompare(y.account));
  return { multi: true, caller, targets, skipped, scope };
}
