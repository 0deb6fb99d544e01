/**
 * AWS STS as the organization front serves it (README, "Several accounts (an organization)", STS): awsQuery as
 * @aws-sdk/client-sts 3.x sends it (form-encoded POST, `Action=…&Version=2011-06-15`, its `AwsQueryProtocol`), XML
 * answers and `<ErrorResponse>` errors. AssumeRole into a member account's role (with every refusal AWS words the
 * same way; a session policy, `Policy`, limits the session: iam.ts intersects it with the role's), GetCallerIdentity,
 * the sessions AssumeRole issued, and who the caller behind an access key is: an
 * issued session, or the management account's IAM user for any other key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';
import { EMULATOR_USER_ID, roleIdOf } from './iam.ts';
import type { AccountRecord, OrgCall } from './org-model.ts';
import { partitionOf } from './policy-eval.ts';
import { idChars } from './random.ts';
import { readBody } from './request.ts';

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
  /** The session policy AssumeRole was given (`Policy`), parsed; absent: the role's permissions alone. */
  policy?: unknown;
}

/** The caller behind an access key: an assumed-role session, or the management account's IAM user. */
export interface Caller {
  account: string;
  arn: string;
  userId: string;
  session?: OrgSession;
}

/** What STS works on: the organization's accounts and the sessions it issued. */
export interface StsContext {
  management: string;
  accounts: ReadonlyMap<string, AccountRecord>;
  sessions: Map<string, OrgSession>;
  now: () => number;
}

/** The parameters of an AssumeRole request that passed validation. */
interface RoleRequest {
  roleArn: string;
  partition: string;
  accountId: string;
  roleName: string;
  sessionName: string;
  /** Seconds. */
  duration: number;
  /** The parsed `Policy` parameter. */
  policy?: unknown;
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** IAM's default MaxSessionDuration of a role (1 hour), which also bounds role chaining (STS API Reference, AssumeRole). */
const MAX_SESSION_SECONDS = 3600;
/** AssumeRole `Policy`: 1 to 2,048 characters of plain text (STS API Reference, AssumeRole, Policy). */
const MAX_POLICY_CHARS = 2048;
/** The text AWS answers for credentials past their Expiration. */
export const EXPIRED_TOKEN = 'The security token included in the request is expired';
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(.+)$/;
const SESSION_NAME = /^[\w+=,.@-]*$/;
const UPPER_BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ADMINISTRATOR_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const stsError = (code: string, message: string, status: number) =>
  Object.assign(new ApiError(code, message, status), { sender: true });
const validation = (message: string) => stsError('ValidationError', message, 400);

/** The caller behind `accessKeyId`: the session AssumeRole issued for it, else the management account's IAM user. */
export function callerOf(ctx: StsContext, accessKeyId: string | undefined, region: string): Caller {
  const session = accessKeyId === undefined ? undefined : ctx.sessions.get(accessKeyId);
  if (session) {
    return {
      account: session.account,
      arn: session.arn,
      userId: `${roleIdOf(session.roleArn)}:${session.sessionName}`,
      session,
    };
  }
  return {
    account: ctx.management,
    arn: `arn:${partitionOf(region)}:iam::${ctx.management}:user/local-emulator`,
    userId: EMULATOR_USER_ID,
  };
}

/** AssumeRole's parameters, checked as STS checks them (ValidationError with STS's texts). */
function roleRequestOf(params: URLSearchParams, caller: Caller): RoleRequest {
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
  const policy = sessionPolicyOf(params.get('Policy'));
  return { roleArn, partition, accountId, roleName, sessionName, duration, ...(policy ? { policy } : {}) };
}

/**
 * The `Policy` parameter, parsed: at most 2,048 characters (a longer one is ValidationError, as STS's length
 * constraint words it), JSON (else MalformedPolicyDocument). STS also bounds the packed (compressed) size of the
 * policies and session tags together (PackedPolicyTooLarge); the emulator takes the plain-text limit, which is
 * stricter for a policy of this size and with no session tags.
 */
function sessionPolicyOf(text: string | null): unknown {
  if (text === null) return undefined;
  if (text.length < 1 || text.length > MAX_POLICY_CHARS) {
    throw validation(
      `1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length ${text.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_POLICY_CHARS}`}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw stsError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.', 400);
  }
}

/**
 * The account whose role trusts the caller, or AccessDenied (403). Every refusal is the same, as AWS does not tell a
 * missing role from a trust policy that does not admit the caller (IAM User Guide, "Troubleshooting IAM roles";
 * hacktricks' note that the text is the same whether the role exists or not):
 * `User: <caller> is not authorized to perform: sts:AssumeRole on resource: <role>`.
 */
function trustingAccount(
  ctx: StsContext,
  request: RoleRequest,
  caller: Caller,
  externalId: string | null,
  region: string,
): AccountRecord {
  const target = ctx.accounts.get(request.accountId);
  const trusted =
    target !== undefined &&
    caller.account === ctx.management && // the roles trust the management account (arn:aws:iam::<mgmt>:root)
    target.status === 'ACTIVE' && // a closed account's roles cannot be assumed (our choice)
    target.roles.has(request.roleName) &&
    !target.refuseRole &&
    (target.externalId === undefined || target.externalId === externalId) &&
    request.partition === partitionOf(region);
  if (!trusted || !target) {
    throw stsError(
      'AccessDenied',
      `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`,
      403,
    );
  }
  return target;
}

/** AssumeRole: a fresh session in the target account (its emulator's principal with `iam`); the XML result. */
function assumeRole(ctx: StsContext, params: URLSearchParams, caller: Caller, region: string): string {
  const request = roleRequestOf(params, caller);
  const { roleArn, partition, accountId, roleName, sessionName } = request;
  const target = trustingAccount(ctx, request, caller, params.get('ExternalId'), region);
  const accessKeyId = `ASIA${idChars(randomBytes(16), UPPER_BASE32)}`;
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
    expiresAt: ctx.now() + request.duration * 1000,
    ...(request.policy !== undefined ? { policy: request.policy } : {}),
  };
  ctx.sessions.set(accessKeyId, session);
  if (target.rolePrincipals) {
    // With `iam`, the session is a principal of the account's emulator: the role's policies when its iam.principals
    // name this role ARN, else AdministratorAccess (what OrganizationAccountAccessRole has); limited by the session
    // policy when AssumeRole passed one (IAM User Guide, "Session policies": "The resulting session's permissions
    // are the intersection of the entity's identity-based policies and the session policies").
    const configured = target.rolePrincipals.get(roleArn);
    target.emulator.iam.setPrincipal(accessKeyId, {
      arn: roleArn,
      policies: configured?.policies ?? [{ name: 'AdministratorAccess', policy: ADMINISTRATOR_ACCESS }],
      ...(request.policy !== undefined ? { sessionPolicy: request.policy } : {}),
    });
  }
  return (
    `<AssumeRoleResult><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId>` +
    `<SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey><SessionToken>${xml(session.sessionToken)}</SessionToken>` +
    `<Expiration>${new Date(session.expiresAt).toISOString()}</Expiration></Credentials>` +
    `<AssumedRoleUser><AssumedRoleId>${roleIdOf(roleArn)}:${xml(sessionName)}</AssumedRoleId><Arn>${xml(session.arn)}</Arn></AssumedRoleUser>` +
    '</AssumeRoleResult>'
  );
}

/** Answers one STS request on the awsQuery wire; sets `call.operation` from its `Action` and `call.error`. */
export async function answerSts(
  ctx: StsContext,
  req: IncomingMessage,
  res: ServerResponse,
  call: OrgCall,
  caller: Caller,
  region: string,
): Promise<void> {
  const requestId = randomUUID();
  const params = new URLSearchParams(await readBody(req));
  const operation = params.get('Action') ?? '';
  call.operation = operation;
  let status = 200;
  let out: string;
  try {
    if (caller.session && caller.session.expiresAt <= ctx.now())
      throw stsError('ExpiredToken', EXPIRED_TOKEN, 400);
    let result: string;
    if (operation === 'AssumeRole') result = assumeRole(ctx, params, caller, region);
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
}
