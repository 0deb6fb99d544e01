/**
 * The functions' IAM roles as deployed: read from the CloudFormation template `npm run package` produces
 * (osls output), with the intrinsic functions the roles use resolved for one account, region and set of
 * parameters, so that the emulator authorizes each bundle with exactly the policies AWS would.
 *
 * Development and test tool (never bundled). Supports the intrinsics the template's role policies use:
 * Ref (parameters with their defaults, pseudo parameters, resources), Fn::Sub, Fn::GetAtt (X.Arn),
 * Fn::If / Fn::Equals / Fn::Not / Fn::And / Fn::Or / Condition, Fn::Join. Anything else is an error, so a
 * new construct in the template cannot silently become a wrong policy.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { evaluate, type IamPrincipal } from './emulator/iam.ts';
import { partitionOf } from './emulator/policy-eval.ts';
import { type Json, matches, type Pattern, validatePattern } from './event-pattern.ts';

export interface CfnTemplate {
  Parameters?: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<
    string,
    {
      Type: string;
      Properties?: { RoleName?: unknown; Policies?: { PolicyName: unknown; PolicyDocument: unknown }[] };
    }
  >;
}

export interface Stack {
  account: string;
  region: string;
  /** Parameter values over the template's defaults, e.g. { KmsKeyArn: 'arn:…' }. */
  parameters?: Record<string, string>;
  /** Default `logs-kms-guard-prod`: names the roles (`<stack>-<LogicalId>`) and queues. */
  stackName?: string;
}

const NO_VALUE = Symbol('AWS::NoValue');
let templateCache: CfnTemplate | undefined;

/**
 * The ARN a function role gets (named after the stack and logical id, like CloudFormation). One ARN for the
 * regions of a local run: see `deployRole`.
 */
export function roleArn(
  stack: Pick<Stack, 'account' | 'region' | 'stackName'>,
  logicalId: string,
  template?: CfnTemplate,
): string {
  templateCache ??= template ? undefined : packagedTemplate();
  const given = (template ?? (templateCache as CfnTemplate)).Resources[logicalId]?.Properties?.RoleName;
  // A role whose RoleName is set (EnforceRole: `<service>-<stage>-enforce-<region>`) is named as the template says.
  const name =
    given === undefined
      ? `${stack.stackName ?? 'logs-kms-guard-prod'}-${logicalId}`
      : String(resolver(template ?? (templateCache as CfnTemplate), stack).value(given));
  return `arn:${partitionOf(stack.region)}:iam::${stack.account}:role/${name}`;
}

/**
 * The id Config gives the template's rule `logicalId` in a local "deployment" (AWS picks config-rule-<random>);
 * create the emulator's rule with it (state.createConfigRule's `id`) so that the role's grant names that rule.
 */
export function deployedConfigRuleId(logicalId: string): string {
  return `config-rule-${logicalId.toLowerCase()}`;
}

/** Resolves the template's intrinsics for one stack; pure. */
function resolver(template: CfnTemplate, stack: Stack) {
  const partition = partitionOf(stack.region);
  const stackName = stack.stackName ?? 'logs-kms-guard-prod';
  const pseudo: Record<string, string> = {
    'AWS::Partition': partition,
    'AWS::Region': stack.region,
    'AWS::AccountId': stack.account,
    'AWS::URLSuffix': partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
    'AWS::StackName': stackName,
  };
  const ref = (name: string): unknown => {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in pseudo) return pseudo[name];
    if (stack.parameters && name in stack.parameters) return stack.parameters[name];
    const parameter = template.Parameters?.[name];
    if (parameter) return String(parameter.Default ?? '');
    const resource = template.Resources[name];
    if (resource?.Type === 'AWS::SQS::Queue') {
      return `https://sqs.${stack.region}.${pseudo['AWS::URLSuffix']}/${stack.account}/${stackName}-${name}`;
    }
    if (resource) return `${stackName}-${name}`;
    throw new Error(`Ref ${name}: no such parameter or resource`);
  };
  const getAtt = (id: string, attribute: string): string => {
    const resource = template.Resources[id];
    if (!resource || attribute !== 'Arn') throw new Error(`Fn::GetAtt ${id}.${attribute} is not supported`);
    const base = `${stackName}-${id}`;
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        return roleArn(stack, id, template);
      case 'AWS::SQS::Queue':
        return `arn:${partition}:sqs:${stack.region}:${stack.account}:${base}`;
      case 'AWS::Events::Rule':
        return `arn:${partition}:events:${stack.region}:${stack.account}:rule/${base}`;
      case 'AWS::Lambda::Function':
        return `arn:${partition}:lambda:${stack.region}:${stack.account}:function:${base}`;
      case 'AWS::Config::ConfigRule':
        return `arn:${partition}:config:${stack.region}:${stack.account}:config-rule/${deployedConfigRuleId(id)}`;
      default:
        throw new Error(`Fn::GetAtt ${id}.Arn of a ${resource.Type} is not supported`);
    }
  };
  const condition = (name: string): boolean => {
    const body = template.Conditions?.[name];
    if (body === undefined) throw new Error(`Condition ${name} is not defined`);
    return Boolean(value(body));
  };
  const sub = (text: string, vars: Record<string, unknown> = {}): string =>
    text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (name in vars) return String(value(vars[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return getAtt(name.slice(0, dot), name.slice(dot + 1));
      return String(ref(name));
    });
  function value(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(value).filter((v) => v !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    const [fn, arg] = entries[0] ?? [];
    if (entries.length === 1 && fn && (fn === 'Ref' || fn === 'Condition' || fn.startsWith('Fn::'))) {
      switch (fn) {
        case 'Ref':
          return ref(String(arg));
        case 'Condition':
          return condition(String(arg));
        case 'Fn::Sub':
          return Array.isArray(arg)
            ? sub(String(arg[0]), arg[1] as Record<string, unknown>)
            : sub(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
          return getAtt(String(id), String(attribute));
        }
        case 'Fn::If': {
          const [name, yes, no] = arg as [string, unknown, unknown];
          return value(condition(name) ? yes : no);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as unknown[]).map(value);
          return String(a) === String(b);
        }
        case 'Fn::Not':
          return !value((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((c) => Boolean(value(c)));
        case 'Fn::Or':
          return (arg as unknown[]).some((c) => Boolean(value(c)));
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (value(parts) as unknown[]).join(sep);
        }
        default:
          throw new Error(`${fn} is not supported by local/roles.ts`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = value(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }
  return { value, condition };
}

/** Every AWS::IAM::Role of the template as an emulator principal (its inline policies, resolved). */
export function rolesFromTemplate(template: CfnTemplate, stack: Stack): Record<string, IamPrincipal> {
  const { value } = resolver(template, stack);
  const roles: Record<string, IamPrincipal> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const policies = (
      (resource.Properties?.Policies ?? []) as { PolicyName: unknown; PolicyDocument: unknown }[]
    ).map((p) => ({ name: String(value(p.PolicyName)), policy: value(p.PolicyDocument) }));
    roles[id] = { arn: roleArn(stack, id, template), policies };
  }
  return roles;
}

/** The resolved policy of the template's AWS::SQS::QueuePolicy `id` (e.g. EnforceQueuePolicy) for one stack. */
export function queuePolicyFromTemplate(template: CfnTemplate, stack: Stack, id: string): unknown {
  const resource = template.Resources[id];
  if (resource?.Type !== 'AWS::SQS::QueuePolicy') throw new Error(`the template has no queue policy ${id}`);
  return resolver(template, stack).value(
    (resource.Properties as { PolicyDocument?: unknown })?.PolicyDocument,
  );
}

const root = path.resolve(import.meta.dirname, '..');

/**
 * The packaged template: `LOGS_KMS_GUARD_TEMPLATE` when set (the test run's global set-up packages once),
 * else packaged now into a temporary directory by scripts/package.mjs (offline, about 2 s).
 */
export function packagedTemplate(): CfnTemplate {
  const given = process.env.LOGS_KMS_GUARD_TEMPLATE;
  if (given && existsSync(given)) return JSON.parse(readFileSync(given, 'utf8')) as CfnTemplate;
  return JSON.parse(readFileSync(packageTemplateFile(), 'utf8')) as CfnTemplate;
}

/** Packages the service (zips + `osls package`) into a fresh temporary directory; returns the template path. */
export function packageTemplateFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lkg-roles-'));
  const script = path.join(root, 'scripts', 'package.mjs');
  const artifacts = path.join(dir, 'artifacts');
  const out = path.join(dir, 'out');
  execFileSync(process.execPath, [script, '--artifacts', artifacts, '--out', out], {
    cwd: root,
    stdio: 'pipe',
  });
  return path.join(out, 'cloudformation-template-update-stack.json');
}

/** Access key ids the local runs hand to each bundle: the emulator maps them to the deployed roles. */
const ROLE_ACCESS_KEYS = {
  EnforceRole: 'enforce-role',
  SweepRole: 'sweep-role',
  FindingsRole: 'findings-role',
} as const;

/** The template parameters a deployment with these function settings would have been given. */
function parametersFromEnv(env: Record<string, string | undefined>): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (env.KMS_KEY_ARN) parameters.KmsKeyArn = env.KMS_KEY_ARN;
  if (env.KMS_KEY_ALIAS) parameters.KmsKeyAlias = env.KMS_KEY_ALIAS;
  if (env.ALLOW_KEY_POLICY_UPDATE) parameters.AllowKeyPolicyUpdate = env.ALLOW_KEY_POLICY_UPDATE;
  // The findings function's integrations (infra/sls/findings.yml sets these from the parameters).
  if (env.SECURITY_HUB_FINDINGS) parameters.SecurityHubFindings = env.SECURITY_HUB_FINDINGS;
  if (env.NOTIFY_FINDINGS) parameters.NotifyFindings = env.NOTIFY_FINDINGS;
  if (env.CONFIG_RULE_NAME) parameters.ConfigRule = 'true';
  return parameters;
}

/** What `deployRole` needs of an emulator: a place to register a principal. */
export interface RoleRegistry {
  account: string;
  iam: { setPrincipal(accessKeyId: string, principal: IamPrincipal): void };
}

/** Every role `deployRole` registered, by access key, with the stacks (regions) it serves. */
const deployed = new Map<string, { principal: IamPrincipal; stacks: Stack[] }>();

/**
 * "Deploys" one function role of the stack in `region` with the settings in `env` onto the emulator: its
 * policies resolved from the packaged template with the matching parameters, registered under an access key
 * of its own. Returns the variables the bundle runs with (its credentials, and GUARD_ROLE_ARN as the
 * template sets it for the enforce function). `mutate` edits the resolved policies first (tests that drop a
 * statement to see a grant is needed).
 *
 * Deployed in several regions with the same settings, a role is ONE principal holding each region's stack
 * policy (names suffixed by region), not one role per regional stack as in AWS: the bundles of all regions
 * run in one process, and the SDK reads credentials from process.env when a client first signs, so every
 * container of the process signs with the same key. For authorization the two are the same, since every
 * statement of the template names its own region's resources; the one principal keeps the ARN of the first
 * region (the enforce role's RoleName names its region).
 */
export function deployRole(
  emulator: RoleRegistry,
  options: {
    role: keyof typeof ROLE_ACCESS_KEYS;
    region: string;
    env?: Record<string, string | undefined>;
    template?: CfnTemplate;
    mutate?: (principal: IamPrincipal) => void;
  },
): Record<string, string> {
  templateCache ??= options.template ? undefined : packagedTemplate();
  const template = options.template ?? (templateCache as CfnTemplate);
  const parameters = parametersFromEnv(options.env ?? {});
  const stack = { account: emulator.account, region: options.region, parameters };
  const resolved = rolesFromTemplate(template, stack)[options.role];
  if (!resolved) throw new Error(`the packaged template has no ${options.role}`);
  options.mutate?.(resolved);
  const variant = JSON.stringify([parameters, options.mutate ? resolved.policies : []]);
  const accessKeyId = `${ROLE_ACCESS_KEYS[options.role]}-${hash(variant)}`;
  const entry = deployed.get(accessKeyId) ?? { principal: { arn: resolved.arn, policies: [] }, stacks: [] };
  if (!entry.stacks.some((s) => s.region === stack.region && s.account === stack.account)) {
    entry.stacks.push(stack);
    entry.principal.policies.push(
      ...resolved.policies.map((p) => ({ name: `${p.name}-${stack.region}`, policy: p.policy })),
    );
  }
  deployed.set(accessKeyId, entry);
  emulator.iam.setPrincipal(accessKeyId, entry.principal);
  return {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'local',
    // The principal's ARN: that of the first region it was deployed in (its RoleName carries the region), so
    // that the function names in its key the ARN its own calls are made as.
    ...(options.role === 'EnforceRole' ? { GUARD_ROLE_ARN: entry.principal.arn } : {}),
  };
}

/** A short stable digest (FNV-1a) to tell deployments with different settings apart. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

/**
 * What Lambda does with the enforce function's role before any invocation: the SQS event source polls the
 * queue (sqs:ReceiveMessage, DeleteMessage, GetQueueAttributes: Lambda developer guide, "Using Lambda with
 * Amazon SQS", execution role permissions) and the runtime writes the function's log group
 * (logs:CreateLogStream, PutLogEvents). Returns the first denial, or undefined. Keys `deployRole` did not
 * register (an admin) are not checked.
 */
export async function lambdaServiceCheck(accessKeyId: string | undefined): Promise<string | undefined> {
  const entry = accessKeyId ? deployed.get(accessKeyId) : undefined;
  if (!entry || !accessKeyId) return undefined;
  for (const stack of entry.stacks) {
    const denied = await lambdaServiceCheckOf(entry.principal, accessKeyId, stack);
    if (denied) return denied;
  }
  return undefined;
}

async function lambdaServiceCheckOf(
  principal: IamPrincipal,
  accessKeyId: string,
  stack: Stack,
): Promise<string | undefined> {
  const partition = partitionOf(stack.region);
  const name = stack.stackName ?? 'logs-kms-guard-prod';
  // The enforce and changes functions share the role: each polls its queue and writes its own log group.
  const checks: [string, string][] = [];
  for (const [queueName, fn] of [
    ['EnforceQueue', 'enforce'],
    ['ChangesQueue', 'changes'],
  ]) {
    const queue = `arn:${partition}:sqs:${stack.region}:${stack.account}:${name}-${queueName}`;
    const stream = `arn:${partition}:logs:${stack.region}:${stack.account}:log-group:/aws/lambda/${name}-${fn}:log-stream:2026/12/01/[$LATEST]0123456789abcdef`;
    checks.push(
      ['sqs:ReceiveMessage', queue],
      ['sqs:DeleteMessage', queue],
      ['sqs:GetQueueAttributes', queue],
      ['logs:CreateLogStream', stream],
      ['logs:PutLogEvents', stream],
    );
  }
  for (const [action, resource] of checks) {
    const { decision, message } = await evaluate({
      principal,
      accessKeyId,
      account: stack.account,
      action,
      resource,
    });
    if (decision !== 'Allowed') return message;
  }
  return undefined;
}

/**
 * What the Lambda runtime does with the sweep function's role on every invocation: write the function's log
 * group `/aws/lambda/<stack>-sweep` (logs:CreateLogStream, logs:PutLogEvents: Lambda developer guide, "Sending
 * Lambda function logs to CloudWatch Logs", the execution role's permissions). The sweep has no event source
 * mapping, so nothing else is checked (its schedule invokes it through a resource policy, not its role).
 * Returns the first denial, or undefined; keys `deployRole` did not register (an admin) are not checked.
 */
export async function sweepServiceCheck(accessKeyId: string | undefined): Promise<string | undefined> {
  const entry = accessKeyId ? deployed.get(accessKeyId) : undefined;
  if (!entry || !accessKeyId) return undefined;
  for (const stack of entry.stacks) {
    const partition = partitionOf(stack.region);
    const name = stack.stackName ?? 'logs-kms-guard-prod';
    const stream = `arn:${partition}:logs:${stack.region}:${stack.account}:log-group:/aws/lambda/${name}-sweep:log-stream:2026/12/01/[$LATEST]0123456789abcdef`;
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      const { decision, message } = await evaluate({
        principal: entry.principal,
        accessKeyId,
        account: stack.account,
        action,
        resource: stream,
      });
      if (decision !== 'Allowed') return message;
    }
  }
  return undefined;
}

/**
 * What EventBridge would deliver to the guard's queues: the event patterns of the packaged template's rules
 * that target `queue` (EnforceQueue: CreateLogGroupRule; ChangesQueue: KeyChangesRule), or either by default.
 * The emulator emits a CloudTrail event for every call it serves; local runs pass on only those a rule matches.
 */
export function guardRuleFilter(given?: CfnTemplate, queue?: 'EnforceQueue' | 'ChangesQueue') {
  templateCache ??= given ? undefined : packagedTemplate();
  const template = given ?? (templateCache as CfnTemplate);
  const queues = queue ? [queue] : ['EnforceQueue', 'ChangesQueue'];
  const patterns = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Events::Rule')
    .map((r) => (r.Properties as { EventPattern?: unknown; Targets?: { Arn?: unknown }[] } | undefined) ?? {})
    .filter((p) => p.EventPattern && queues.some((q) => JSON.stringify(p.Targets ?? []).includes(`"${q}"`)))
    .map((p) => p.EventPattern as Pattern);
  for (const p of patterns) validatePattern(p);
  return (event: unknown): boolean => patterns.some((p) => matches(p, event as Json));
}

let changesFilter: ((event: unknown) => boolean) | undefined;

/** What the packaged template's rules send to the changes function's queue (local/stack.ts routes by it). */
export function changesRuleFilter(): (event: unknown) => boolean {
  changesFilter ??= guardRuleFilter(undefined, 'ChangesQueue');
  return changesFilter;
}
