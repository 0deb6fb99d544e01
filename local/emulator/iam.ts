/**
 * IAM decisions for the emulator, made by @cloud-copilot/iam-simulate (never by hand-written evaluation).
 * The library is AGPL: it may be imported from `local/` and `test/` only, never from `functions/`
 * (which is bundled into the Lambda).
 */
import { createHash } from 'node:crypto';
import {
  runSimulation,
  runUnsafeSimulation,
  type Simulation,
  type SimulationErrors,
} from '@cloud-copilot/iam-simulate';

export interface IamPrincipal {
  /** role ARN arn:<p>:iam::<acct>:role[/path]/Name */
  arn: string;
  policies: { name: string; policy: unknown }[];
  /**
   * The session policy of an assumed-role session (AssumeRole `Policy`): the session may do only what both it and
   * the identity policies allow (IAM User Guide, "Session policies"). Absent: the identity policies alone.
   */
  sessionPolicy?: unknown;
}

export interface IamOptions {
  /** access key id → the role whose identity policies authorize that key's requests */
  principals: Record<string, IamPrincipal>;
  /** access key ids that are all-powerful (test set-up, operators): every check skipped */
  admins?: string[];
  /** real-time ms before scaling by timeScale; default 300_000: how long a tag or alias change takes to count for authorization (KMS developer guide, ABAC: "up to five minutes") */
  authorizationLagMs?: number;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface AuthorizationRecord {
  at: number;
  accessKeyId: string;
  principal: string;
  operation: string;
  action: string;
  resource: string;
  /** set for the KMS calls CloudWatch Logs makes with the caller's credentials */
  forwardedBy?: 'logs';
  decision: Decision;
}

export interface EvaluateInput {
  principal: IamPrincipal;
  accessKeyId: string;
  /** The account that owns the resource. */
  account: string;
  action: string;
  /** The resource ARN as the Service Authorization Reference defines it for the action, or `*`. */
  resource: string;
  /** Key policy, queue policy, ...; omitted: identity policies alone decide. */
  resourcePolicy?: unknown;
  context?: Record<string, string | string[]>;
  /** What the AccessDenied message names as the resource when it differs from `resource` (default: `resource`). */
  resourceInMessage?: string;
  /** How the AccessDenied message spells the action when AWS's text differs (SQS prints `sqs:sendmessage`). */
  actionInMessage?: string;
  /**
   * The ARN AWS actually authorizes against where the Service Authorization Reference lists the action as
   * wildcard-only (iam-data then refuses any ARN): `resource` is `*` for validation, this decides.
   */
  authorizedResource?: string;
}

/** iam-simulate refused the input (a policy it cannot validate, an action or resource it cannot type). */
export class IamValidationError extends Error {
  readonly errors: SimulationErrors;

  constructor(input: Pick<EvaluateInput, 'action' | 'resource'>, errors: SimulationErrors) {
    super(
      `iam-simulate cannot evaluate ${input.action} on ${input.resource}: ${errors.message} ${JSON.stringify(errors)}`,
    );
    this.name = 'IamValidationError';
    this.errors = errors;
  }
}

type Reason =
  | 'no-identity-allow'
  | 'no-resource-allow'
  | 'no-session-allow'
  | 'identity-deny'
  | 'resource-deny'
  | 'session-deny';

const ROLE_ARN = /^arn:([^:]+):iam::(\d{12}):role\/(?:[^:]*\/)?([^/:]+)$/;

/** Splits a role ARN into partition, account and role name (the last path segment); throws on anything else. */
export function parseRoleArn(arn: string): { partition: string; account: string; roleName: string } {
  const match = ROLE_ARN.exec(arn);
  if (!match) throw new Error(`emulator iam: not a role ARN: ${arn}`);
  return { partition: match[1] as string, account: match[2] as string, roleName: match[3] as string };
}

/** The assumed-role session ARN AWS reports for a role's credentials; the session is named after the access key. */
export function sessionArn(roleArn: string, accessKeyId: string): string {
  const { partition, account, roleName } = parseRoleArn(roleArn);
  return `arn:${partition}:sts::${account}:assumed-role/${roleName}/${accessKeyId}`;
}

/** A stable fake unique id of a role (`AROA` + 17 characters from the role ARN, the form of AWS's role ids). */
export function roleIdOf(roleArn: string): string {
  return `AROA${createHash('sha256').update(roleArn).digest('hex').slice(0, 17).toUpperCase()}`;
}

/** The user id of the emulator's own IAM user `local-emulator`: the caller behind any access key no role issued. */
export const EMULATOR_USER_ID = 'AIDAEMULATORUSER0001';

/**
 * One IAM decision (identity policies + optional resource policy), by iam-simulate; pure apart from the library.
 * Adds the global keys every signed request carries (aws:PrincipalArn, aws:PrincipalAccount; kms:CallerAccount
 * for KMS actions). A validation error of the library is thrown (bad test input must be visible, never Allowed).
 */
export async function evaluate(input: EvaluateInput): Promise<{ decision: Decision; message: string }> {
  const simulation = simulationOf(input);
  await validateOnce(input, simulation);
  if (input.authorizedResource !== undefined) {
    const request = {
      ...simulation.request,
      resource: { ...simulation.request.resource, resource: input.authorizedResource },
    };
    return decideWithEncryptionContext(input, { ...simulation, request });
  }
  return decideWithEncryptionContext(input, simulation);
}

/** Validations already passed: same policies, action, resource and context keys (values aside). */
const validated = new Set<string>();

/**
 * runSimulation validates the policies, the action, the resource and the context keys (about 0.35 ms); the
 * decision itself (runUnsafeSimulation, about 0.1 ms) depends on the context values too. Validating once per
 * shape keeps the emulator's IAM cheap on hot paths (an AssociateKmsKey is five decisions) without deciding
 * anything from a cache.
 */
async function validateOnce(input: EvaluateInput, simulation: Simulation): Promise<void> {
  const shape = JSON.stringify([
    input.principal.policies,
    input.principal.sessionPolicy ?? null,
    input.resourcePolicy ?? null,
    input.action,
    input.resource,
    Object.keys(simulation.request.contextVariables).sort(),
  ]);
  if (validated.has(shape)) return;
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new IamValidationError(input, result.errors);
  const runs = result.resultType === 'single' ? [result.result] : result.results;
  const ignored = runs.flatMap((r) => r.ignoredContextKeys ?? []);
  const misplaced = ignored.filter((k) => !isEncryptionContextKey(k));
  if (misplaced.length > 0) {
    throw new Error(`emulator iam: context keys ${misplaced.join(', ')} do not apply to ${input.action}`);
  }
  if (validated.size > 50_000) validated.clear();
  validated.add(shape);
}

/** The simulation for one request: the principal's session, its identity and session policies, no SCPs/RCPs. */
function simulationOf(input: EvaluateInput): Simulation {
  const role = parseRoleArn(input.principal.arn);
  const context: Record<string, string | string[]> = {
    ...input.context,
    // Global keys present in every signed request (IAM User Guide, "AWS global condition context keys").
    'aws:PrincipalArn': input.principal.arn,
    'aws:PrincipalAccount': role.account,
    // KMS puts the caller's account in every request context (KMS developer guide, "kms:CallerAccount").
    ...(input.action.toLowerCase().startsWith('kms:') ? { 'kms:CallerAccount': role.account } : {}),
  };
  return {
    request: {
      principal: sessionArn(input.principal.arn, input.accessKeyId),
      action: input.action,
      resource: { resource: input.resource, accountId: input.account },
      contextVariables: context,
    },
    identityPolicies: input.principal.policies.map(({ name, policy }) => ({ name, policy })),
    ...(input.principal.sessionPolicy !== undefined ? { sessionPolicy: input.principal.sessionPolicy } : {}),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(input.resourcePolicy !== undefined ? { resourcePolicy: input.resourcePolicy } : {}),
  };
}

/**
 * `kms:EncryptionContext:<key>` is a variable key without a `/`, which iam-simulate 0.1.x drops from the request
 * context (its variable-key match only splits at `/`), so a condition on it could never hold.
 */
function isEncryptionContextKey(key: string): boolean {
  return key.toLowerCase().startsWith('kms:encryptioncontext:');
}

const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/**
 * The decision when the context holds encryption-context keys: runSimulation has validated the policies and the
 * request; runUnsafeSimulation evaluates the same request with the full context. It returns only the result, so
 * the denial reason comes from two more library runs (identity policies removed; an allow-all identity policy).
 * runUnsafeSimulation ignores a session policy (0.1.x passes `sessionPolicy: undefined` to its engine), so a
 * session's decision is the intersection of that one and the session policy's own (`sessionVerdict`).
 */
async function decideWithEncryptionContext(
  input: EvaluateInput,
  simulation: Simulation,
): Promise<{ decision: Decision; message: string }> {
  const decide = (sim: Simulation): Decision => runUnsafeSimulation(preValidated(sim), {});
  const { sessionPolicy, ...withoutSession } = simulation;
  const base = decide(withoutSession);
  const session =
    sessionPolicy === undefined ? 'Allowed' : await sessionVerdict(simulation, sessionPolicy, input.resource);
  if (base === 'Allowed' && session === 'Allowed') return { decision: base, message: '' };
  if (base === 'Allowed') {
    // The session policy alone refused what the role's policies (and the resource's) allow.
    const reason = session === 'ExplicitlyDenied' ? 'session-deny' : 'no-session-allow';
    return { decision: session, message: denialMessage(input, reason) };
  }
  const decision = session === 'ExplicitlyDenied' ? session : base;
  let reason: Reason;
  if (base === 'ExplicitlyDenied') {
    const resourceDenies = decide({ ...withoutSession, identityPolicies: [] }) === 'ExplicitlyDenied';
    reason = resourceDenies ? 'resource-deny' : 'identity-deny';
  } else {
    const withAll = decide({ ...withoutSession, identityPolicies: [{ name: 'probe', policy: ALLOW_ALL }] });
    reason = withAll === 'Allowed' ? 'no-identity-allow' : 'no-resource-allow';
  }
  return { decision, message: denialMessage(input, reason) };
}

/**
 * What the session policy alone says of the request (IAM User Guide, "Session policies": the session's permissions
 * are the intersection of the role's and the session policy's): runSimulation with an allow-all identity policy
 * and, for KMS, a key policy that delegates to the account, so that only the session policy can refuse. Not
 * modelled: a resource policy naming the session ARN itself (not limited by the session policy, per the same
 * page), and session-policy conditions on `kms:EncryptionContext:<k>` (runSimulation drops those keys).
 */
async function sessionVerdict(
  simulation: Simulation,
  sessionPolicy: unknown,
  /** The resource as validated (`*` for a wildcard-only action, see EvaluateInput.authorizedResource). */
  resource: string,
): Promise<Decision> {
  const { request } = simulation;
  const [, partition = 'aws', , , account = ''] = String(request.principal).split(':');
  const context = Object.fromEntries(
    Object.entries(request.contextVariables).filter(([k]) => !isEncryptionContextKey(k)),
  );
  const kms = request.action.toLowerCase().startsWith('kms:');
  const delegate = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
  const result = await runSimulation(
    {
      request: {
        ...request,
        resource: { resource, accountId: account },
        contextVariables: context,
      },
      identityPolicies: [{ name: 'probe', policy: ALLOW_ALL }],
      sessionPolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(kms ? { resourcePolicy: delegate } : {}),
    },
    {},
  );
  if (result.resultType === 'error')
    throw new Error(`emulator iam: session policy: ${JSON.stringify(result.errors)}`);
  const runs = result.resultType === 'single' ? [result.result] : result.results;
  return runs.every((r) => r.analysis.result === 'Allowed')
    ? 'Allowed'
    : runs.some((r) => r.analysis.result === 'ExplicitlyDenied')
      ? 'ExplicitlyDenied'
      : 'ImplicitlyDenied';
}

/**
 * runUnsafeSimulation loads a raw resource policy without a name and then fails reading it; a ValidatedPolicy
 * (iam-policy's documented plain-object form) carries the name. Only used after runSimulation accepted the policy.
 */
function preValidated(simulation: Simulation): Simulation {
  if (simulation.resourcePolicy === undefined) return simulation;
  return {
    ...simulation,
    resourcePolicy: {
      __validated: true,
      policyDocument: simulation.resourcePolicy,
      metadata: { name: 'ResourcePolicy' },
      errors: [],
    },
  };
}

/**
 * AWS's AccessDenied text (IAM User Guide, "Troubleshoot access denied error messages"; as reported e.g. in
 * awslabs/landing-zone-accelerator-on-aws#768, jbrt/ec2cryptomatic#26, aws-ia/terraform-aws-control_tower_account_factory#569).
 */
function denialMessage(input: EvaluateInput, reason: Reason): string {
  const who = sessionArn(input.principal.arn, input.accessKeyId);
  const on = input.resourceInMessage ?? input.resource;
  const action = input.actionInMessage ?? input.action;
  const why: Record<Reason, string> = {
    'no-identity-allow': `because no identity-based policy allows the ${action} action`,
    'no-resource-allow': `because no resource-based policy allows the ${action} action`,
    'no-session-allow': `because no session policy allows the ${action} action`,
    'session-deny': 'with an explicit deny in a session policy',
    'identity-deny': 'with an explicit deny in an identity-based policy',
    'resource-deny': 'with an explicit deny in a resource-based policy',
  };
  return `User: ${who} is not authorized to perform: ${action}${on ? ` on resource: ${on}` : ''} ${why[reason]}`;
}
