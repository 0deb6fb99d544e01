/**
 * AWS Organizations as the organization front serves it (awsJson1_1, `X-Amz-Target: AWSOrganizationsV20161128.<Op>`;
 * README, "Several accounts (an organization)";
 * [API Reference](https://docs.aws.amazon.com/organizations/latest/APIReference/Welcome.html)):
 * the organization's ids, its tree (root, OUs, accounts) validated once, the lists the List operations page through
 * (precomputed: a page costs its own size, whatever the organization's size), the read-only operations, and who may
 * call them. The front (account-router.ts) decides which requests come here.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';
import type { AccountRecord, OrgAccountSpec, OrgCall, OrgEmulatorOptions } from './org-model.ts';
import { idChars } from './random.ts';
import { readBody } from './request.ts';

/** The X-Amz-Target prefix of every Organizations operation. */
export const ORGS_PREFIX = 'AWSOrganizationsV20161128.';
const JSON_TYPE = 'application/x-amz-json-1.1';
/** Organizations' page limit: ListAccounts and the other List operations take MaxResults 1–20 (API Reference). */
const MAX_PAGE = 20;
/** Organizations' AccessDeniedException to a member account (aws-samples/aws-iam-access-key-auto-rotation#10). */
const ORGS_DENIED = "You don't have permissions to access this resource.";
const INVALID_NEXT_TOKEN =
  'You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.';
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/** "This operation can be called from any account in the organization" (API Reference, DescribeOrganization). */
const ANY_MEMBER = new Set(['DescribeOrganization']);
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The organization's identity: ids and ARNs, derived from the management account unless given. */
export interface Organization {
  management: string;
  organizationId: string;
  /** The root's id ('r-' + 4 characters). */
  rootId: string;
  /** When every account joined (seconds): the emulator's start. */
  joinedAt: number;
}

/** An OU of the tree, its parent resolved (the root when the spec names none). */
interface Ou {
  id: string;
  name: string;
  parent: string;
}

/** The tree as the options describe it, validated: OUs and account specs by id, account ids management first. */
export interface OrgTree {
  ous: Map<string, Ou>;
  specs: Map<string, OrgAccountSpec>;
  /** Every account id, the management account first, then `accounts` in order. */
  ids: string[];
}

/** An account in the `Account` shape (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html). */
interface AccountShape {
  Id: string;
  Arn: string;
  Email: string;
  Name: string;
  State: string;
  Paths: string[];
  JoinedMethod: string;
  JoinedTimestamp: number;
}

interface OuShape {
  Id: string;
  Arn: string;
  Name: string;
  Path: string;
}

/** The precomputed answers of the List and Describe operations. */
interface Lists {
  accounts: AccountShape[];
  accountsById: Map<string, AccountShape>;
  accountsByParent: Map<string, AccountShape[]>;
  ousByParent: Map<string, OuShape[]>;
}

type Operation = (input: Record<string, unknown>) => unknown;

const accountArn = (org: Organization, id: string) =>
  `arn:aws:organizations::${org.management}:account/${org.organizationId}/${id}`;

/** The organization's ids: `o-` + 10 and `r-` + 4 characters derived from the management id unless given. */
export function organizationOf(
  management: string,
  organizationId: string | undefined,
  now: number,
): Organization {
  if (!/^\d{12}$/.test(management))
    throw new Error(`org emulator: management '${management}' is not 12 digits`);
  const digest = createHash('sha256').update(`organization:${management}`).digest('hex');
  const id = organizationId ?? `o-${idChars(Buffer.from(digest.slice(0, 20), 'hex'), LOWER_ALNUM)}`;
  if (!/^o-[a-z0-9]{10,32}$/.test(id))
    throw new Error(`org emulator: organizationId '${id}' is not o-[a-z0-9]{10,32}`);
  const rootId = `r-${idChars(Buffer.from(digest.slice(20, 28), 'hex'), LOWER_ALNUM)}`;
  return { management, organizationId: id, rootId, joinedAt: Math.floor(now / 1000) };
}

/** The root, OUs and accounts of the options, validated once (ids well-formed, unique, parents that exist). */
export function treeOf(
  org: Organization,
  ous: NonNullable<OrgEmulatorOptions['ous']>,
  specs: OrgAccountSpec[],
): OrgTree {
  const ouById = new Map<string, Ou>();
  for (const ou of ous) {
    if (!OU_ID.test(ou.id)) throw new Error(`org emulator: OU id '${ou.id}' is not ou-xxxx-xxxxxxxx`);
    if (ouById.has(ou.id)) throw new Error(`org emulator: OU '${ou.id}' twice`);
    ouById.set(ou.id, { id: ou.id, name: ou.name, parent: ou.parent ?? org.rootId });
  }
  for (const ou of ouById.values()) {
    if (ou.parent !== org.rootId && !ouById.has(ou.parent))
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
  const ids = [org.management, ...specs.map((s) => s.id).filter((id) => id !== org.management)];
  return { ous: ouById, specs: specById, ids };
}

/** Every list the operations answer, computed once (ListAccounts, ...ForParent, ListChildren, DescribeAccount). */
function listsOf(org: Organization, tree: OrgTree, accounts: ReadonlyMap<string, AccountRecord>): Lists {
  const { organizationId, rootId, management } = org;
  const pathOf = (parent: string): string => {
    const chain: string[] = [];
    for (let p: string | undefined = parent; p && p !== rootId; p = tree.ous.get(p)?.parent) chain.unshift(p);
    return `${organizationId}/${rootId}/${chain.map((p) => `${p}/`).join('')}`;
  };
  const accountShape = (a: AccountRecord): AccountShape => ({
    Id: a.id,
    Arn: accountArn(org, a.id),
    Email: a.email,
    Name: a.name,
    // `State` only: the Account object's `Status` was retired on 9 September 2026 (Organizations API reference,
    // "Account"; the SDK model's note on Status), so a client that still reads it sees nothing.
    State: a.status,
    Paths: [`${pathOf(a.parent)}${a.id}/`],
    JoinedMethod: a.id === management ? 'INVITED' : 'CREATED',
    JoinedTimestamp: org.joinedAt,
  });
  const all = tree.ids.map((id) => accountShape(accounts.get(id) as AccountRecord));
  const accountsById = new Map(all.map((a) => [a.Id, a]));
  const accountsByParent = new Map<string, AccountShape[]>();
  const ousByParent = new Map<string, OuShape[]>();
  for (const parent of [rootId, ...tree.ous.keys()]) {
    accountsByParent.set(parent, []);
    ousByParent.set(parent, []);
  }
  for (const id of tree.ids)
    accountsByParent.get(accounts.get(id)?.parent as string)?.push(accountsById.get(id) as AccountShape);
  for (const ou of tree.ous.values()) {
    ousByParent.get(ou.parent)?.push({
      Id: ou.id,
      Arn: `arn:aws:organizations::${management}:ou/${organizationId}/${ou.id}`,
      Name: ou.name,
      Path: `${pathOf(ou.parent)}${ou.id}/`,
    });
  }
  return { accounts: all, accountsById, accountsByParent, ousByParent };
}

/** InvalidInputException with the API's `Reason` (reasons from the API's InvalidInputException; messages ours). */
function invalidInput(reason: string, message: string) {
  return Object.assign(new ApiError('InvalidInputException', message), { reason });
}

/** A page of `items` from NextToken / MaxResults; the token is an offset and names the list it belongs to. */
function page<T>(list: string, items: T[], input: Record<string, unknown>) {
  const max = input.MaxResults ?? MAX_PAGE;
  if (typeof max !== 'number' || !Number.isInteger(max))
    throw invalidInput('INVALID_INPUT', 'You provided a value that is not valid for MaxResults.');
  if (max < 1)
    throw invalidInput(
      'MIN_VALUE_EXCEEDED',
      'You provided a value for MaxResults that is smaller than allowed (1).',
    );
  if (max > MAX_PAGE)
    throw invalidInput(
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
      throw invalidInput('INVALID_NEXT_TOKEN', INVALID_NEXT_TOKEN);
    offset = Number(match[2]);
  }
  const end = offset + max;
  return {
    items: items.slice(offset, end),
    ...(end < items.length ? { NextToken: Buffer.from(`${list}:${end}`).toString('base64url') } : {}),
  };
}

/** The ParentId of the input, a root or OU of the tree. */
function parentOf(lists: Lists, input: Record<string, unknown>): string {
  const parent = typeof input.ParentId === 'string' ? input.ParentId : '';
  if (!lists.accountsByParent.has(parent))
    // SDK model, ParentNotFoundException: "We can't find a root or OU with the ParentId that you specified." (404)
    throw new ApiError(
      'ParentNotFoundException',
      "We can't find a root or OU with the ParentId that you specified.",
      404,
    );
  return parent;
}

/** The emulated operations, by name, over the precomputed lists. */
function operationsOf(org: Organization, lists: Lists, managementEmail: string): Record<string, Operation> {
  const { management, organizationId, rootId } = org;
  return {
    DescribeOrganization: () => ({
      Organization: {
        Id: organizationId,
        Arn: `arn:aws:organizations::${management}:organization/${organizationId}`,
        FeatureSet: 'ALL',
        MasterAccountArn: accountArn(org, management),
        MasterAccountId: management,
        MasterAccountEmail: managementEmail,
        AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
      },
    }),
    ListAccounts: (input) => {
      const { items, ...rest } = page('accounts', lists.accounts, input);
      return { Accounts: items, ...rest };
    },
    ListAccountsForParent: (input) => {
      const parent = parentOf(lists, input);
      const { items, ...rest } = page(`accounts/${parent}`, lists.accountsByParent.get(parent) ?? [], input);
      return { Accounts: items, ...rest };
    },
    ListOrganizationalUnitsForParent: (input) => {
      const parent = parentOf(lists, input);
      const { items, ...rest } = page(`ous/${parent}`, lists.ousByParent.get(parent) ?? [], input);
      return { OrganizationalUnits: items, ...rest };
    },
    ListChildren: (input) => {
      const parent = parentOf(lists, input);
      const type = input.ChildType;
      if (type !== 'ACCOUNT' && type !== 'ORGANIZATIONAL_UNIT')
        throw invalidInput('INVALID_ENUM', 'You specified an invalid value for ChildType.');
      const children =
        type === 'ACCOUNT'
          ? (lists.accountsByParent.get(parent) ?? []).map((a) => ({ Id: a.Id, Type: type }))
          : (lists.ousByParent.get(parent) ?? []).map((o) => ({ Id: o.Id, Type: type }));
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
      const account =
        typeof input.AccountId === 'string' ? lists.accountsById.get(input.AccountId) : undefined;
      // SDK model, AccountNotFoundException (404): "We can't find an Amazon Web Services account with the AccountId
      // that you specified".
      if (!account)
        throw new ApiError('AccountNotFoundException', "You specified an account that doesn't exist.", 404);
      return { Account: account };
    },
  };
}

/** Answers one Organizations request (`call.operation`, from the caller `call.account`) on the awsJson1_1 wire. */
export type OrganizationsApi = (req: IncomingMessage, res: ServerResponse, call: OrgCall) => Promise<void>;

/** The Organizations API of the organization whose accounts are started (their names, emails, states and OUs). */
export function organizationsApi(
  org: Organization,
  tree: OrgTree,
  accounts: ReadonlyMap<string, AccountRecord>,
): OrganizationsApi {
  const managementEmail = (accounts.get(org.management) as AccountRecord).email;
  const operations = operationsOf(org, listsOf(org, tree, accounts), managementEmail);
  return async (req, res, call) => {
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
      const operation = operations[call.operation];
      if (!operation)
        throw new ApiError('UnknownOperationException', `Operation ${call.operation} is not emulated`);
      // ListAccounts & co.: "You can only call this operation from the management account or a member account that
      // is a delegated administrator" (API Reference, ListAccounts); a member's call is AccessDeniedException, 403 in
      // the SDK model, "You don't have permissions to access this resource." (aws-samples/aws-iam-access-key-auto-rotation#10,
      // awslabs/aws-innovation-sandbox#6). Delegated administrators are not modelled.
      if (call.account !== org.management && !ANY_MEMBER.has(call.operation))
        throw new ApiError('AccessDeniedException', ORGS_DENIED, 403);
      body = operation(input);
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
}
