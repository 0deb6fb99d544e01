/**
 * An organization of several accounts behind one endpoint (README, "Several accounts (an organization)"): one front
 * HTTP server serves AWS Organizations (awsJson1_1, `X-Amz-Target: AWSOrganizationsV20161128.<Op>`) and STS
 * (awsQuery: form-encoded POST, XML answers, as @aws-sdk/client-sts 3.x sends it: its `AwsQueryProtocol`), and hands
 * every other request, in-process, to the account emulator (server.ts, hosted: no socket of its own) that the SigV4
 * access key belongs to: a key issued by AssumeRole is its account's, any other key the management account's.
 * Per request the front does O(1) work: a header regex, one map lookup, one set lookup.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from './errors.ts';
import type { IamPrincipal } from './iam.ts';
import { partitionOf } from './policy-eval.ts';
import { type Emulator, type EmulatorHost, type EmulatorOptions, startEmulator } from './server.ts';

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

/** What AssumeRole issued. */
export interface OrgSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  account: string;
  roleArn: string;
  roleName: string;
  sessionName: string;
  /** The STS session ARN `arn:<p>:sts::<acct>:assumed-role/<RoleName>/<RoleSessionName>`. */
  arn: string;
  expiresAt: number;
}

export interface OrgEmulator {
  /** 'http://127.0.0.1:PORT' */
  endpoint: string;
  port: number;
  management: string;
  organizationId: string;
  /** The root's id ('r-' + 4 characters). */
  rootId: string;
  /** The per-account emulator (state, calls, onEvent...); throws for an account outside the organization. */
  account(id: string): Emulator;
  /** Every account id, the management account first. */
  accounts: string[];
  /** Every STS and Organizations request, in order. */
  calls: OrgCall[];
  /** Every session AssumeRole issued, by access key. */
  sessions: ReadonlyMap<string, OrgSession>;
  stop(): Promise<void>;
}

const ORGS_PREFIX = 'AWSOrganizationsV20161128.';
const DEFAULT_ROLE = 'OrganizationAccountAccessRole';
const JSON_TYPE = 'application/x-amz-json-1.1';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** Organizations' page limit: ListAccounts and the other List operations take MaxResults 1–20 (API Reference). */
const MAX_PAGE = 20;
/** IAM's default MaxSessionDuration of a role (1 hour), which also bounds role chaining (STS API Reference, AssumeRole). */
const MAX_SESSION_SECONDS = 3600;
/** The text AWS answers for a token it does not accept, here: a region the account has not enabled. */
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN = 'The security token included in the request is expired';
/** Organizations' AccessDeniedException to a member account (aws-samples/aws-iam-access-key-auto-rotation#10). */
const ORGS_DENIED = "You don't have permissions to access this resource.";
const INVALID_NEXT_TOKEN =
  'You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.';
/** CloudTrail's IAM user id of the emulator's user (events.ts `userIdentityOf`). */
const USER_ID = 'AIDAEMULATORUSER0001';
const ADMINISTRATOR_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

/** `Credential=AKID/20261128/us-east-1/sts/aws4_request` → access key, region, service (as server.ts reads it). */
const SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(.+)$/;
const SESSION_NAME = /^[\w+=,.@-]*$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;

interface AccountRecord {
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

/** The caller behind an access key: an assumed-role session, or the management account's IAM user. */
interface Caller {
  account: string;
  arn: string;
  userId: string;
  session?: OrgSession;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');
/** The stable fake role id events.ts uses for CloudTrail (`AROA` + 17 characters from the role ARN). */
const roleIdOf = (roleArn: string) => `AROA${hash(roleArn).slice(0, 17).toUpperCase()}`;
const alnum = (bytes: Buffer, upper: boolean) => {
  const alphabet = upper ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567' : 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
};
const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startOrgEmulator(options: OrgEmulatorOptions): Promise<OrgEmulator> {
  const { management, accounts: specs, organizationId: orgIdOption, ous = [], port = 0, ...common } = options;
  const log = common.log ?? (() => {});
  const now = () => Date.now();
  if (!/^\d{12}$/.test(management))
    throw new Error(`org emulator: management '${management}' is not 12 digits`);
  const digest = hash(`organization:${management}`);
  const organizationId = orgIdOption ?? `o-${alnum(Buffer.from(digest.slice(0, 20), 'hex'), false)}`;
  if (!/^o-[a-z0-9]{10,32}$/.test(organizationId))
    throw new Error(`org emulator: organizationId '${organizationId}' is not o-[a-z0-9]{10,32}`);
  const rootId = `r-${alnum(Buffer.from(digest.slice(20, 28), 'hex'), false)}`;
  const orgArn = `arn:aws:organizations::${management}:organization/${organizationId}`;
  const accountArn = (id: string) => `arn:aws:organizations::${management}:account/${organizationId}/${id}`;
  const ouArn = (id: string) => `arn:aws:organizations::${management}:ou/${organizationId}/${id}`;
  const joinedAt = Math.floor(now() / 1000);

  // --- the tree: root, OUs, accounts (validated once; every list below is precomputed) ---------------------
  const ouById = new Map<string, { id: string; name: string; parent: string }>();
  for (const ou of ous) {
    if (!OU_ID.test(ou.id)) throw new Error(`org emulator: OU id '${ou.id}' is not ou-xxxx-xxxxxxxx`);
    if (ouById.has(ou.id)) throw new Error(`org emulator: OU '${ou.id}' twice`);
    ouById.set(ou.id, { id: ou.id, name: ou.name, parent: ou.parent ?? rootId });
  }
  for (const ou of ouById.values()) {
    if (ou.parent !== rootId && !ouById.has(ou.parent))
      throw new Error(`org emulator: OU '${ou.id}': parent '${ou.parent}' does not exist`);
  }
  const specById = new Map<string, OrgAccountSpec>();
  for (const spec of specs) {
    if (!/^\d{12}$/.test(spec.id)) throw new Error(`org emulator: account '${spec.id}' is not 12 digits`);
    if (specById.has(spec.id)) throw new Error(`org emulator: account '${spec.id}' twice`);
    if (spec.ou !== undefined && !ouById.has(spec.ou))
      throw new Error(`org emulator: account '${spec.id}': OU '${spec.ou}' does not exist`);
    specById.set(spec.id, spec);
  }
  const ids = [management, ...specs.map((s) => s.id).filter((id) => id !== management)];

  // The front listens first: the hosted account emulators name its endpoint (queue localUrls).
  const accounts = new Map<string, AccountRecord>();
  const sessions = new Map<string, OrgSession>();
  const calls: OrgCall[] = [];
  const server = createServer((req, res) => {
    front(req, res).catch((err) => {
      log(`request failed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const boundPort = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${boundPort}`;

  try {
    for (const [index, id] of ids.entries()) {
      const spec = specById.get(id) ?? { id };
      const accountOptions: EmulatorOptions = {
        ...common,
        // Distinct fault / event streams per account, the management account's as a lone emulator's.
        seed: (common.seed ?? 1) + index,
        ...spec.options,
        account: id,
      };
      const enabledRegions = spec.enabledRegions ? new Set(spec.enabledRegions) : undefined;
      const host: EmulatorHost = {
        endpoint,
        admit: ({ region, accessKeyId }) => {
          const session = accessKeyId === undefined ? undefined : sessions.get(accessKeyId);
          if (session && session.expiresAt <= now())
            throw new ApiError('ExpiredTokenException', EXPIRED_TOKEN);
          // A region the account has not enabled does not know the account's credentials: AWS answers as for a bad
          // token (README, "Several accounts": remotion.dev "The security token included in the request is invalid";
          // Account Management API Reference, DisableRegion: "will remove all IAM access to any resources that reside
          // in that Region"). Lambda (403) and SQS (InvalidClientTokenId) map the name in their own protocol.
          if (enabledRegions && !enabledRegions.has(region))
            throw new ApiError('UnrecognizedClientException', INVALID_TOKEN);
        },
      };
      const emulator = await startEmulator(accountOptions, host);
      const iam = accountOptions.iam;
      accounts.set(id, {
        id,
        name: spec.name ?? `account-${id}`,
        email: spec.email ?? `account-${id}@example.com`,
        status: spec.status ?? 'ACTIVE',
        parent: spec.ou ?? rootId,
        roles: new Set(spec.roles ?? (id === management ? [] : [DEFAULT_ROLE])),
        ...(spec.externalId !== undefined ? { externalId: spec.externalId } : {}),
        refuseRole: spec.refuseRole ?? false,
        ...(enabledRegions ? { enabledRegions } : {}),
        ...(iam
          ? { rolePrincipals: new Map(Object.values(iam.principals).map((p) => [p.arn, p] as const)) }
          : {}),
        emulator,
      });
    }
  } catch (err) {
    await Promise.all([...accounts.values()].map((a) => a.emulator.stop()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }
  const managementRecord = accounts.get(management) as AccountRecord;

  // Precomputed lists (ListAccounts, ListAccountsForParent, ListOrganizationalUnitsForParent, ListChildren).
  const pathOf = (parent: string): string => {
    const chain: string[] = [];
    for (let p: string | undefined = parent; p && p !== rootId; p = ouById.get(p)?.parent) chain.unshift(p);
    return `${organizationId}/${rootId}/${chain.map((p) => `${p}/`).join('')}`;
  };
  const accountShape = (a: AccountRecord) => ({
    Id: a.id,
    Arn: accountArn(a.id),
    Email: a.email,
    Name: a.name,
    // `State` only: the Account object's `Status` was retired on 9 September 2026 (Organizations API reference,
    // "Account"; the SDK model's note on Status), so a client that still reads it sees nothing.
    State: a.status,
    Paths: [`${pathOf(a.parent)}${a.id}/`],
    JoinedMethod: a.id === management ? 'INVITED' : 'CREATED',
    JoinedTimestamp: joinedAt,
  });
  const allAccounts = ids.map((id) => accountShape(accounts.get(id) as AccountRecord));
  const accountShapes = new Map(allAccounts.map((a) => [a.Id, a]));
  const accountsByParent = new Map<string, ReturnType<typeof accountShape>[]>();
  const ousByParent = new Map<string, { Id: string; Arn: string; Name: string; Path: string }[]>();
  for (const parent of [rootId, ...ouById.keys()]) {
    accountsByParent.set(parent, []);
    ousByParent.set(parent, []);
  }
  for (const id of ids)
    accountsByParent.get(accounts.get(id)?.parent as string)?.push(accountShapes.get(id) as never);
  for (const ou of ouById.values()) {
    ousByParent
      .get(ou.parent)
      ?.push({ Id: ou.id, Arn: ouArn(ou.id), Name: ou.name, Path: `${pathOf(ou.parent)}${ou.id}/` });
  }

  // --- callers -------------------------------------------------------------------------------------------
  const callerOf = (accessKeyId: string | undefined, region: string): Caller => {
    const session = accessKeyId === undefined ? undefined : sessions.get(accessKeyId);
    if (session) {
      return {
        account: session.account,
        arn: session.arn,
        userId: `${roleIdOf(session.roleArn)}:${session.sessionName}`,
        session,
      };
    }
    return {
      account: management,
      arn: `arn:${partitionOf(region)}:iam::${management}:user/local-emulator`,
      userId: USER_ID,
    };
  };

  // --- Organizations (awsJson1_1) ------------------------------------------------------------------------
  /** A page of `items` from NextToken / MaxResults; the token names the list it belongs to. */
  const page = <T>(list: string, items: T[], input: Record<string, unknown>) => {
    const max = input.MaxResults ?? MAX_PAGE;
    if (typeof max !== 'number' || !Number.isInteger(max))
      throw orgsInvalid('INVALID_INPUT', 'You provided a value that is not valid for MaxResults.');
    if (max < 1)
      throw orgsInvalid(
        'MIN_VALUE_EXCEEDED',
        'You provided a value for MaxResults that is smaller than allowed (1).',
      );
    if (max > MAX_PAGE)
      throw orgsInvalid(
        'MAX_VALUE_EXCEEDED',
        `You provided a value for MaxResults that is larger than allowed (${MAX_PAGE}).`,
      );
    let offset = 0;
    if (input.NextToken !== undefined && input.NextToken !== null) {
      const match =
        typeof input.NextToken === 'string'
          ? /^(.+):(\d+)$/.exec(Buffer.from(input.NextToken, 'base64url').toString('utf8'))
          : null;
      if (!match || match[1] !== list || Number(match[2]) > items.length)
        throw orgsInvalid('INVALID_NEXT_TOKEN', INVALID_NEXT_TOKEN);
      offset = Number(match[2]);
    }
    const end = offset + max;
    return {
      items: items.slice(offset, end),
      ...(end < items.length ? { NextToken: Buffer.from(`${list}:${end}`).toString('base64url') } : {}),
    };
  };
  function orgsInvalid(reason: string, message: string) {
    return Object.assign(new ApiError('InvalidInputException', message), { reason });
  }
  const parentOf = (input: Record<string, unknown>) => {
    const parent = typeof input.ParentId === 'string' ? input.ParentId : '';
    if (!accountsByParent.has(parent))
      // SDK model, ParentNotFoundException: "We can't find a root or OU with the ParentId that you specified." (404)
      throw new ApiError(
        'ParentNotFoundException',
        "We can't find a root or OU with the ParentId that you specified.",
        404,
      );
    return parent;
  };
  const organizationsOps: Record<string, (input: Record<string, unknown>, caller: Caller) => unknown> = {
    DescribeOrganization: () => ({
      Organization: {
        Id: organizationId,
        Arn: orgArn,
        FeatureSet: 'ALL',
        MasterAccountArn: accountArn(management),
        MasterAccountId: management,
        MasterAccountEmail: managementRecord.email,
        AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
      },
    }),
    ListAccounts: (input) => {
      const { items, ...rest } = page('accounts', allAccounts, input);
      return { Accounts: items, ...rest };
    },
    ListAccountsForParent: (input) => {
      const parent = parentOf(input);
      const { items, ...rest } = page(`accounts/${parent}`, accountsByParent.get(parent) ?? [], input);
      return { Accounts: items, ...rest };
    },
    ListOrganizationalUnitsForParent: (input) => {
      const parent = parentOf(input);
      const { items, ...rest } = page(`ous/${parent}`, ousByParent.get(parent) ?? [], input);
      return { OrganizationalUnits: items, ...rest };
    },
    ListChildren: (input) => {
      const parent = parentOf(input);
      const type = input.ChildType;
      if (type !== 'ACCOUNT' && type !== 'ORGANIZATIONAL_UNIT')
        throw orgsInvalid('INVALID_ENUM', 'You specified an invalid value for ChildType.');
      const children =
        type === 'ACCOUNT'
          ? (accountsByParent.get(parent) ?? []).map((a) => ({ Id: a.Id, Type: type }))
          : (ousByParent.get(parent) ?? []).map((o) => ({ Id: o.Id, Type: type }));
      const { items, ...rest } = page(`children/${type}/${parent}`, children, input);
      return { Children: items, ...rest };
    },
    ListRoots: (input) => {
      const roots = [
        {
          Id: rootId,
          Arn: `arn:aws:organizations::${management}:root/${organizationId}/${rootId}`,
          Name: 'Root',
          PolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
        },
      ];
      const { items, ...rest } = page('roots', roots, input);
      return { Roots: items, ...rest };
    },
    DescribeAccount: (input) => {
      const account = typeof input.AccountId === 'string' ? accountShapes.get(input.AccountId) : undefined;
      // SDK model, AccountNotFoundException (404): "We can't find an Amazon Web Services account with the AccountId
      // that you specified".
      if (!account)
        throw new ApiError('AccountNotFoundException', "You specified an account that doesn't exist.", 404);
      return { Account: account };
    },
  };
  /** "This operation can be called from any account in the organization" (API Reference, DescribeOrganization). */
  const ANY_MEMBER = new Set(['DescribeOrganization']);

  const organizations = async (
    req: IncomingMessage,
    res: ServerResponse,
    operation: string,
    call: OrgCall,
    caller: Caller,
  ) => {
    const requestId = randomUUID();
    const text = await readBody(req);
    let status = 200;
    let body: unknown;
    try {
      let input: Record<string, unknown>;
      try {
        input = text ? JSON.parse(text) : {};
      } catch {
        throw new ApiError('SerializationException', 'Request body is not valid JSON');
      }
      const handler = organizationsOps[operation];
      if (!handler) throw new ApiError('UnknownOperationException', `Operation ${operation} is not emulated`);
      // ListAccounts & co.: "You can only call this operation from the management account or a member account that
      // is a delegated administrator" (API Reference, ListAccounts); a member's call is AccessDeniedException, 403 in
      // the SDK model, "You don't have permissions to access this resource." (aws-samples/aws-iam-access-key-auto-rotation#10,
      // awslabs/aws-innovation-sandbox#6). Delegated administrators are not modelled.
      if (caller.account !== management && !ANY_MEMBER.has(operation))
        throw new ApiError('AccessDeniedException', ORGS_DENIED, 403);
      body = handler(input, caller);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('ServiceException', String(err), 500);
      call.error = e.name;
      status = e.status;
      const reason = (e as { reason?: string }).reason;
      body = { __type: e.name, Message: e.message, ...(reason ? { Reason: reason } : {}) };
    }
    const out = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(out),
      'x-amzn-requestid': requestId,
      ...(call.error ? { 'x-amzn-errortype': call.error } : {}),
    });
    res.end(out);
  };

  // --- STS (awsQuery) ------------------------------------------------------------------------------------
  const stsError = (code: string, message: string, status: number) =>
    Object.assign(new ApiError(code, message, status), { sender: true });
  const validation = (message: string) => stsError('ValidationError', message, 400);

  const assumeRole = (params: URLSearchParams, caller: Caller, region: string): string => {
    const roleArn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    if (!roleArn)
      throw validation(
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
      );
    if (!sessionName)
      throw validation(
        "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
      );
    if (sessionName.length < 2 || sessionName.length > 64) {
      throw validation(
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length ${sessionName.length < 2 ? 'greater than or equal to 2' : 'less than or equal to 64'}`,
      );
    }
    if (!SESSION_NAME.test(sessionName)) {
      throw validation(
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const durationText = params.get('DurationSeconds');
    const duration = durationText === null ? MAX_SESSION_SECONDS : Number(durationText);
    if (!Number.isInteger(duration) || duration < 900) {
      throw validation(
        `1 validation error detected: Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    }
    if (duration > MAX_SESSION_SECONDS) {
      // STS API Reference, AssumeRole, DurationSeconds: above the role's maximum session duration "the operation
      // fails"; role chaining is limited to one hour.
      throw validation(
        caller.session
          ? 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.'
          : 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }
    const match = ROLE_ARN.exec(roleArn);
    if (!match) throw validation(`${roleArn} is invalid`);
    const [, partition, accountId, roleName] = match as unknown as [string, string, string, string];
    const target = accounts.get(accountId);
    const externalId = params.get('ExternalId');
    // Every refusal is the same AccessDenied (403), as AWS does not tell a missing role from a trust policy that does
    // not admit the caller (IAM User Guide, "Troubleshooting IAM roles"; hacktricks' note that the text is the same
    // whether the role exists or not): `User: <caller> is not authorized to perform: sts:AssumeRole on resource: <role>`.
    const trusted =
      target !== undefined &&
      caller.account === management && // the roles trust the management account (arn:aws:iam::<mgmt>:root)
      target.status === 'ACTIVE' && // a closed account's roles cannot be assumed (our choice)
      target.roles.has(roleName) &&
      !target.refuseRole &&
      (target.externalId === undefined || target.externalId === externalId) &&
      partition === partitionOf(region);
    if (!trusted || !target) {
      throw stsError(
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    }
    const accessKeyId = `ASIA${alnum(randomBytes(16), true)}`;
    const session: OrgSession = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(96).toString('base64')}`,
      account: accountId,
      roleArn,
      roleName,
      sessionName,
      arn: `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
      // Real time, not scaled: the SDK refreshes credentials 5 minutes before Expiration.
      expiresAt: now() + duration * 1000,
    };
    sessions.set(accessKeyId, session);
    if (target.rolePrincipals) {
      // With `iam`, the session is a principal of the account's emulator: the role's policies when its iam.principals
      // name this role ARN, else AdministratorAccess (what OrganizationAccountAccessRole has).
      const configured = target.rolePrincipals.get(roleArn);
      target.emulator.iam.setPrincipal(accessKeyId, {
        arn: roleArn,
        policies: configured?.policies ?? [{ name: 'AdministratorAccess', policy: ADMINISTRATOR_ACCESS }],
      });
    }
    return (
      `<AssumeRoleResult><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId>` +
      `<SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey><SessionToken>${xml(session.sessionToken)}</SessionToken>` +
      `<Expiration>${new Date(session.expiresAt).toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>${roleIdOf(roleArn)}:${xml(sessionName)}</AssumedRoleId><Arn>${xml(session.arn)}</Arn></AssumedRoleUser>` +
      '</AssumeRoleResult>'
    );
  };

  const sts = async (
    req: IncomingMessage,
    res: ServerResponse,
    call: OrgCall,
    caller: Caller,
    region: string,
  ) => {
    const requestId = randomUUID();
    const params = new URLSearchParams(await readBody(req));
    const operation = params.get('Action') ?? '';
    call.operation = operation;
    let status = 200;
    let out: string;
    try {
      if (caller.session && caller.session.expiresAt <= now())
        throw stsError('ExpiredToken', EXPIRED_TOKEN, 400);
      let result: string;
      if (operation === 'AssumeRole') result = assumeRole(params, caller, region);
      else if (operation === 'GetCallerIdentity') {
        result =
          `<GetCallerIdentityResult><Arn>${xml(caller.arn)}</Arn><UserId>${xml(caller.userId)}</UserId>` +
          `<Account>${caller.account}</Account></GetCallerIdentityResult>`;
      } else
        throw stsError('InvalidAction', `Could not find operation ${operation} for version 2011-06-15`, 400);
      out =
        `<${operation}Response xmlns="${STS_NS}">${result}` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('InternalFailure', String(err), 500);
      call.error = e.name;
      status = e.status;
      out =
        `<ErrorResponse xmlns="${STS_NS}"><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type>` +
        `<Code>${xml(e.name)}</Code><Message>${xml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    }
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(out),
      'x-amzn-requestid': requestId,
    });
    res.end(out);
  };

  // --- the front -----------------------------------------------------------------------------------------
  async function front(req: IncomingMessage, res: ServerResponse) {
    const scope = SCOPE.exec(req.headers.authorization ?? '');
    const accessKeyId = scope?.[1];
    const region = scope?.[2] ?? 'us-east-1';
    const target = String(req.headers['x-amz-target'] ?? '');
    const isOrgs = target.startsWith(ORGS_PREFIX);
    const isSts =
      !isOrgs &&
      !target &&
      (scope?.[3] === 'sts' ||
        (!scope &&
          String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')));
    if (!isOrgs && !isSts) {
      const session = accessKeyId === undefined ? undefined : sessions.get(accessKeyId);
      const account = session ? (accounts.get(session.account) as AccountRecord) : managementRecord;
      account.emulator.handle(req, res);
      return;
    }
    const caller = callerOf(accessKeyId, region);
    const call: OrgCall = {
      service: isOrgs ? 'organizations' : 'sts',
      operation: isOrgs ? target.slice(ORGS_PREFIX.length) : '',
      region,
      at: now(),
      ...(accessKeyId !== undefined ? { accessKeyId } : {}),
      account: caller.account,
    };
    calls.push(call);
    if (isOrgs) await organizations(req, res, call.operation, call, caller);
    else await sts(req, res, call, caller, region);
    log(
      `${new Date(call.at).toISOString()} ${region} ${call.service}.${call.operation} ${res.statusCode}${call.error ? ` ${call.error}` : ''}`,
    );
  }

  return {
    endpoint,
    port: boundPort,
    management,
    organizationId,
    rootId,
    account: (id) => {
      const record = accounts.get(id);
      if (!record) throw new Error(`org emulator: no account ${id} in the organization`);
      return record.emulator;
    },
    accounts: ids,
    calls,
    sessions,
    stop: async () => {
      await Promise.all([...accounts.values()].map((a) => a.emulator.stop()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
