/**
 * An organization of several accounts behind one endpoint (README, "Several accounts (an organization)"): a
 * running organization (OrgEmulator; what one is made of: org-model.ts) and `startOrgEmulator`, which wires the
 * rooms that serve it: the front (account-router.ts) that routes each request, AWS Organizations
 * (organizations.ts), STS (sts.ts), and one account emulator per account (server.ts, hosted by the front).
 */
import { accountRouter, listenFront, type RequestHandler, startAccountEmulators } from './account-router.ts';
import type { Emulator } from './emulator.ts';
import type { IamPrincipal } from './iam.ts';
import type { AccountRecord, OrgCall, OrgEmulatorOptions } from './org-model.ts';
import { organizationOf, organizationsApi, treeOf } from './organizations.ts';
import type { OrgSession } from './sts.ts';

/** A running organization: its ids, each account's emulator, and what Organizations and STS answered. */
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
  /**
   * Creates an IAM role in a member account, trusting the management account, as a deployment does (a StackSet
   * stack creating a function role): from now on it is a valid principal of a key policy there (KMS refuses a
   * Principal naming a role that does not exist yet) and AssumeRole into it yields a session with its policies
   * (what Lambda hands the function). Needs the account's `iam`.
   */
  createRole(account: string, principal: IamPrincipal): void;
  stop(): Promise<void>;
}

/** Starts the front, one emulator per account, Organizations and STS; resolves once every account is listening. */
export async function startOrgEmulator(options: OrgEmulatorOptions): Promise<OrgEmulator> {
  const { management, accounts: specs, organizationId, ous = [], port = 0, ...common } = options;
  const log = common.log ?? (() => {});
  const now = () => Date.now();
  const org = organizationOf(management, organizationId, now());
  const tree = treeOf(org, ous, specs);
  const sessions = new Map<string, OrgSession>();
  const calls: OrgCall[] = [];
  // The front listens first: the hosted account emulators name its endpoint (queue localUrls). Until they run,
  // nothing routes: a request then is a 500 (nobody knows the endpoint before this function returns).
  let route: RequestHandler | undefined;
  const front = await listenFront(
    port,
    (req, res) => (route ? route(req, res) : Promise.reject(new Error('org emulator: still starting'))),
    log,
  );
  let accounts: Map<string, AccountRecord>;
  try {
    accounts = await startAccountEmulators({
      ids: tree.ids,
      specs: tree.specs,
      common,
      management,
      rootId: org.rootId,
      endpoint: front.endpoint,
      sessions,
      now,
    });
  } catch (err) {
    await front.close();
    throw err;
  }
  route = accountRouter({
    management,
    accounts,
    sessions,
    now,
    organizations: organizationsApi(org, tree, accounts),
    calls,
    log,
  });
  return {
    endpoint: front.endpoint,
    port: front.port,
    management,
    organizationId: org.organizationId,
    rootId: org.rootId,
    account: (id) => {
      const record = accounts.get(id);
      if (!record) throw new Error(`org emulator: no account ${id} in the organization`);
      return record.emulator;
    },
    accounts: tree.ids,
    calls,
    sessions,
    createRole: (id, principal) => {
      const record = accounts.get(id);
      if (!record?.rolePrincipals)
        throw new Error(`org emulator: account ${id} has no iam: its roles are not modelled`);
      const name = principal.arn.slice(principal.arn.lastIndexOf('/') + 1);
      record.roles.add(name);
      record.rolePrincipals.set(principal.arn, principal);
      // A principal of the account's IAM: KMS's "invalid principals" check knows the role from here on.
      record.emulator.iam.setPrincipal(`role:${principal.arn}`, principal);
    },
    stop: async () => {
      await Promise.all([...accounts.values()].map((a) => a.emulator.stop()));
      await front.close();
    },
  };
}
