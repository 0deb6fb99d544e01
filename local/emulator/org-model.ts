/**
 * What an organization is made of, as the emulator's organization rooms share it: each account's spec and the
 * organization's options (what a test starts one from), an account as the front keeps it, and the record of each
 * STS and Organizations call. Types only: org.ts, account-router.ts, organizations.ts and sts.ts depend on this
 * file, not on each other.
 */
import type { Emulator, EmulatorOptions } from './emulator.ts';
import type { IamPrincipal } from './iam.ts';

/** One account of the organization and what differs in it. */
export interface OrgAccountSpec {
  /** 12 digits. */
  id: string;
  /** Default `account-<id>`. */
  name?: string;
  /** Default `account-<id>@example.com`. */
  email?: string;
  /** Default ACTIVE. */
  status?: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'PENDING_ACTIVATION' | 'CLOSED';
  /** The OU the account sits in (an id of `ous`); default: directly under the root. */
  ou?: string;
  /**
   * Role names that trust the management account; default `['OrganizationAccountAccessRole']` (`[]` for the
   * management account itself, which Organizations gives no such role).
   */
  roles?: string[];
  /** When set, AssumeRole into this account must pass this ExternalId (a trust policy with `sts:ExternalId`). */
  externalId?: string;
  /** AssumeRole into this account is AccessDenied (e.g. the role's trust policy was changed). */
  refuseRole?: boolean;
  /** Default: every region. A KMS / Logs / SQS / Lambda request to another region is UnrecognizedClientException. */
  enabledRegions?: string[];
  /** Per-account emulator options (quotas, iam, faultRate, ...), over the organization's. */
  options?: Partial<EmulatorOptions>;
}

/** The organization: its accounts and OUs, and the emulator options every account starts from. */
export interface OrgEmulatorOptions extends Omit<EmulatorOptions, 'account'> {
  /** The management account id (also listed by ListAccounts, as in AWS). */
  management: string;
  accounts: OrgAccountSpec[];
  /** Default 'o-' + 10 characters derived from the management account id. */
  organizationId?: string;
  /** OUs; `parent` defaults to the root. */
  ous?: { id: string; name: string; parent?: string }[];
  /** 0 = a free port (default). */
  port?: number;
}

/** One STS or Organizations request, as the front answered it. */
export interface OrgCall {
  service: 'sts' | 'organizations';
  operation: string;
  region: string;
  at: number;
  /** The access key of the SigV4 credential scope (absent for an unsigned request). */
  accessKeyId?: string;
  /** The caller's account. */
  account: string;
  error?: string;
}

/** An account of the organization: its spec with the defaults applied, and its emulator. */
export interface AccountRecord {
  id: string;
  name: string;
  email: string;
  status: NonNullable<OrgAccountSpec['status']>;
  parent: string;
  roles: Set<string>;
  externalId?: string;
  refuseRole: boolean;
  enabledRegions?: Set<string>;
  /** The role ARN → principal of the account's `iam.principals`, for the policies of an assumed role. */
  rolePrincipals?: Map<string, IamPrincipal>;
  emulator: Emulator;
}
