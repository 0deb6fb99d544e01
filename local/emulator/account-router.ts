/**
 * The organization's front door (README, "Several accounts (an organization)", Design): one HTTP server on 127.0.0.1
 * that sends each request where it belongs: Organizations (`X-Amz-Target: AWSOrganizationsV20161128.<Op>`,
 * organizations.ts), STS (SigV4 service `sts`, or an unsigned form post: sts.ts), and every other request, in
 * process (no second HTTP hop), to the emulator of the account the SigV4 access key belongs to: a key AssumeRole
 * issued is its account's, any other key the management account's. Per request the front does O(1) work: a header
 * regex and one map lookup, nothing proportional to accounts or groups.
 * Also starts those account emulators (server.ts, hosted: no socket of their own), each with the checks AWS makes
 * before it authenticates a request: an expired session, a region the account has not enabled.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorHost, EmulatorOptions } from './emulator.ts';
import { ApiError } from './errors.ts';
import type { AccountRecord, OrgAccountSpec, OrgCall } from './org-model.ts';
import { ORGS_PREFIX, type OrganizationsApi } from './organizations.ts';
import { credentialScope } from './request.ts';
import { startEmulator } from './server.ts';
import { answerSts, callerOf, EXPIRED_TOKEN, type OrgSession, type StsContext } from './sts.ts';

/** The front's HTTP server, listening. */
export interface Front {
  port: number;
  /** 'http://127.0.0.1:PORT' */
  endpoint: string;
  close(): Promise<void>;
}

/** What the account emulators are started from. */
export interface AccountsInput {
  /** Every account id, the management account first. */
  ids: string[];
  specs: ReadonlyMap<string, OrgAccountSpec>;
  /** The organization's emulator options, under each account's own. */
  common: Omit<EmulatorOptions, 'account'>;
  management: string;
  rootId: string;
  /** The front's endpoint, which the hosted emulators name as theirs. */
  endpoint: string;
  sessions: ReadonlyMap<string, OrgSession>;
  now: () => number;
}

/** A request listener that may settle late; its failure is answered 500. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** What the router sends requests to. */
export interface RouterContext extends StsContext {
  organizations: OrganizationsApi;
  calls: OrgCall[];
  log: (line: string) => void;
}

/** The text AWS answers for a token it does not accept, here: a region the account has not enabled. */
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const DEFAULT_ROLE = 'OrganizationAccountAccessRole';

const closeServer = async (server: Server) => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
};

/**
 * Listens on 127.0.0.1:`port` (0: a free port) before anything routes: the hosted account emulators name its
 * endpoint (queue localUrls). `route` answers each request; a request it fails is a 500.
 */
export async function listenFront(
  port: number,
  route: RequestHandler,
  log: (line: string) => void,
): Promise<Front> {
  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      log(`request failed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const boundPort = (server.address() as AddressInfo).port;
  return { port: boundPort, endpoint: `http://127.0.0.1:${boundPort}`, close: () => closeServer(server) };
}

/** What an account's emulator refuses before anything else: an expired session, a region not enabled. */
function admitTo(
  input: AccountsInput,
  enabledRegions: Set<string> | undefined,
): NonNullable<EmulatorHost['admit']> {
  return ({ region, accessKeyId }) => {
    const session = accessKeyId === undefined ? undefined : input.sessions.get(accessKeyId);
    if (session && session.expiresAt <= input.now())
      throw new ApiError('ExpiredTokenException', EXPIRED_TOKEN);
    // A region the account has not enabled does not know the account's credentials: AWS answers as for a bad
    // token (README, "Several accounts": remotion.dev "The security token included in the request is invalid";
    // Account Management API Reference, DisableRegion: "will remove all IAM access to any resources that reside
    // in that Region"). Lambda (403) and SQS (InvalidClientTokenId) map the name in their own protocol.
    if (enabledRegions && !enabledRegions.has(region))
      throw new ApiError('UnrecognizedClientException', INVALID_TOKEN);
  };
}

/** One hosted emulator per account, in `ids` order; on a failure, those already started are stopped. */
export async function startAccountEmulators(input: AccountsInput): Promise<Map<string, AccountRecord>> {
  const { ids, specs, common, management, rootId, endpoint } = input;
  const accounts = new Map<string, AccountRecord>();
  try {
    for (const [index, id] of ids.entries()) {
      const spec = specs.get(id) ?? { id };
      const accountOptions: EmulatorOptions = {
        ...common,
        // Distinct fault / event streams per account, the management account's as a lone emulator's.
        seed: (common.seed ?? 1) + index,
        ...spec.options,
        account: id,
      };
      const enabledRegions = spec.enabledRegions ? new Set(spec.enabledRegions) : undefined;
      const emulator = await startEmulator(accountOptions, {
        endpoint,
        admit: admitTo(input, enabledRegions),
      });
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
    throw err;
  }
  return accounts;
}

/** The front's request handler: Organizations, STS, or the account emulator of the request's access key. */
export function accountRouter(ctx: RouterContext): RequestHandler {
  const managementRecord = ctx.accounts.get(ctx.management) as AccountRecord;
  return async (req, res) => {
    const scope = credentialScope(req);
    const accessKeyId = scope?.accessKeyId;
    const region = scope?.region ?? 'us-east-1';
    const target = String(req.headers['x-amz-target'] ?? '');
    const isOrgs = target.startsWith(ORGS_PREFIX);
    const isSts =
      !isOrgs &&
      !target &&
      (scope?.service === 'sts' ||
        (!scope &&
          String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')));
    if (!isOrgs && !isSts) {
      const session = accessKeyId === undefined ? undefined : ctx.sessions.get(accessKeyId);
      const account = session ? (ctx.accounts.get(session.account) as AccountRecord) : managementRecord;
      account.emulator.handle(req, res);
      return;
    }
    const caller = callerOf(ctx, accessKeyId, region);
    const call: OrgCall = {
      service: isOrgs ? 'organizations' : 'sts',
      operation: isOrgs ? target.slice(ORGS_PREFIX.length) : '',
      region,
      at: ctx.now(),
      ...(accessKeyId !== undefined ? { accessKeyId } : {}),
      account: caller.account,
    };
    ctx.calls.push(call);
    if (isOrgs) await ctx.organizations(req, res, call);
    else await answerSts(ctx, req, res, call, caller, region);
    ctx.log(
      `${new Date(call.at).toISOString()} ${region} ${call.service}.${call.operation} ${res.statusCode}${call.error ? ` ${call.error}` : ''}`,
    );
  };
}
