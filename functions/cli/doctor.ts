import {
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeRuleCommand, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetKeyPolicyCommand, GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import { GetFunctionConfigurationCommand, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { parseArn, partitionOf } from '../core/arn.ts';
import type { GuardConfig } from '../core/config.ts';
import { checkKeyUsable, findGuardKey } from '../core/key.ts';
import {
  admitsLogs,
  GUARD_ADMIN_ACTIONS,
  missingCallerAccess,
  namesRoleFor,
  type PolicyDocument,
  parsePolicy,
  QUERY_RESULTS_STATEMENT_SID,
  VIA_LOGS_ACTIONS,
} from '../core/policy.ts';
import { type CliClients, type ClientFactory, describeAwsError, resolveAccount } from './aws.ts';
import type { Io, Printer } from './io.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  region: string;
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

interface DoctorCtx {
  io: Io;
  printer: Printer;
  config: GuardConfig;
  regions: string[];
  clients: ClientFactory;
  flags: { json?: boolean; quiet?: boolean };
}

export interface DoctorOptions {
  rule?: string;
  rulePrefix?: string;
  function?: string;
}

/** Runs every check in every region; exit code 1 when one fails. */
export async function runDoctor(ctx: DoctorCtx, opts: DoctorOptions): Promise<number> {
  const checks: Check[] = [];
  for (const region of ctx.regions) {
    const found = await doctorRegion(
      ctx.clients(region),
      ctx.config,
      region,
      opts,
      ctx.io.clock?.now() ?? Date.now(),
    );
    checks.push(...found);
    if (!ctx.flags.json) for (const c of found) ctx.io.stdout.write(`${formatCheck(c, ctx.printer)}\n`);
  }
  if (ctx.flags.json) ctx.io.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`);
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  ctx.printer.info(`${checks.length} check(s): ${fails} fail, ${warns} warn`);
  return fails > 0 ? 1 : 0;
}

export function formatCheck(c: Check, printer: Printer): string {
  const s = printer.style;
  const label = { ok: s.green('ok  '), warn: s.yellow('warn'), fail: s.red('fail') }[c.status];
  return `${label}  ${c.region}  ${c.check}: ${c.detail}${c.fix ? s.dim(` (fix: ${c.fix})`) : ''}`;
}

/** The checks of one region, each independent: a check that cannot run says so as a warning. */
export async function doctorRegion(
  clients: CliClients,
  config: GuardConfig,
  region: string,
  opts: DoctorOptions,
  now: number,
): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (check: string, status: CheckStatus, detail: string, fix?: string) =>
    checks.push({ region, check, status, detail, ...(fix ? { fix } : {}) });
  const couldNot = (check: string, err: unknown) =>
    add(check, 'warn', `could not check: ${describeAwsError(err)}`);

  // Credentials and account.
  let account: string | undefined;
  try {
    const id = await clients.sts().send(new GetCallerIdentityCommand({}));
    account = id.Account;
    add('credentials', 'ok', `account ${id.Account} as ${id.Arn}`);
  } catch (err) {
    try {
      account = await resolveAccount(clients, config);
      add(
        'credentials',
        'warn',
        `STS did not answer (${describeAwsError(err)}); account ${account} read from an ARN`,
      );
    } catch {
      add('credentials', 'fail', describeAwsError(err), 'pass --profile or configure credentials');
      return checks;
    }
  }

  // CloudTrail: without a trail logging management write events here, no CreateLogGroup event arrives.
  try {
    const trails =
      (await clients.cloudtrail().send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ??
      [];
    const here = trails.filter((t) => t.IsMultiRegionTrail || t.HomeRegion === region);
    const good: string[] = [];
    const notes: string[] = [];
    for (const trail of here) {
      const id = trail.TrailARN ?? trail.Name ?? '';
      const status = await clients.cloudtrail().send(new GetTrailStatusCommand({ Name: id }));
      if (!status.IsLogging) {
        notes.push(`${trail.Name} is not logging`);
        continue;
      }
      const selectors = await clients.cloudtrail().send(new GetEventSelectorsCommand({ TrailName: id }));
      if (logsManagementWrites(selectors)) good.push(trail.Name ?? id);
      else notes.push(`${trail.Name} does not log management write events`);
    }
    if (good.length > 0)
      add('cloudtrail', 'ok', `trail ${good.join(', ')} logs management write events here`);
    else {
      add(
        'cloudtrail',
        'fail',
        `no trail logs management write events in ${region}${notes.length ? ` (${notes.join('; ')})` : ''}: CreateLogGroup events never reach EventBridge; only the scheduled sweep finds new groups`,
        'create a multi-region trail with management events (read/write: All or WriteOnly) and start logging',
      );
    }
  } catch (err) {
    couldNot('cloudtrail', err);
  }

  // EventBridge rule → SQS queue → DLQ → enforce function.
  let queueArn: string | undefined;
  try {
    let rules: { Name?: string; State?: string; EventPattern?: string; Arn?: string }[];
    if (opts.rule) rules = [await clients.eventbridge().send(new DescribeRuleCommand({ Name: opts.rule }))];
    else {
      const out = await clients
        .eventbridge()
        .send(new ListRulesCommand({ NamePrefix: opts.rulePrefix ?? 'logs-kms-guard' }));
      rules = (out.Rules ?? []).filter((r) => (r.EventPattern ?? '').includes('CreateLogGroup'));
    }
    const rule = rules[0];
    if (!rule) {
      add(
        'rule',
        'fail',
        `no EventBridge rule for CreateLogGroup (looked for names starting "${opts.rulePrefix ?? 'logs-kms-guard'}")`,
        'deploy the stack in this region, or pass --rule NAME',
      );
    } else if (rule.State !== 'ENABLED') {
      add(
        'rule',
        'fail',
        `rule ${rule.Name} is ${rule.State}`,
        `aws events enable-rule --name ${rule.Name} --region ${region}`,
      );
    } else {
      const pattern = rule.EventPattern ?? '';
      const dropsFailed = /errorCode/.test(pattern);
      add(
        'rule',
        dropsFailed ? 'ok' : 'warn',
        `rule ${rule.Name} is enabled${dropsFailed ? '' : ' but does not drop failed calls (errorCode exists:false)'}`,
      );
      const targets = await clients.eventbridge().send(new ListTargetsByRuleCommand({ Rule: rule.Name }));
      queueArn = targets.Targets?.find((t) => t.Arn?.includes(':sqs:'))?.Arn;
      if (!queueArn) add('queue', 'fail', `rule ${rule.Name} has no SQS target`, 'redeploy the stack');
    }
  } catch (err) {
    couldNot('rule', err);
  }

  if (queueArn) {
    try {
      const { url, attrs } = await queueAttributes(clients, queueArn);
      add(
        'queue',
        'ok',
        `${url} (${attrs.ApproximateNumberOfMessages ?? '?'} waiting, ${attrs.ApproximateNumberOfMessagesNotVisible ?? '?'} in flight)`,
      );
      const redrive = attrs.RedrivePolicy
        ? (JSON.parse(attrs.RedrivePolicy) as { deadLetterTargetArn?: string })
        : undefined;
      if (!redrive?.deadLetterTargetArn)
        add(
          'dlq',
          'warn',
          'the queue has no dead-letter queue: failures are retried until they expire',
          'redeploy the stack',
        );
      else {
        const dlq = await queueAttributes(clients, redrive.deadLetterTargetArn);
        const depth = Number(dlq.attrs.ApproximateNumberOfMessages ?? 0);
        if (depth > 0) {
          add(
            'dlq',
            'warn',
            `${depth} message(s) in ${dlq.url}: log groups the guard could not encrypt`,
            'read them (aws sqs receive-message), fix the cause, then redrive them (aws sqs start-message-move-task)',
          );
        } else add('dlq', 'ok', `${dlq.url} is empty`);
      }
    } catch (err) {
      couldNot('queue', err);
    }
  }

  // The key.
  let keyArn: string | undefined;
  let keyPolicy: PolicyDocument | undefined;
  try {
    const meta = await findGuardKey(clients, config);
    keyArn = meta?.Arn;
    if (!meta) {
      add(
        'key',
        'warn',
        `${config.keyArn ?? config.keyAlias} does not exist yet (the first event or the sweep creates it)`,
        `logs-kms-guard key setup --region ${region}`,
      );
    } else {
      let usable = true;
      try {
        checkKeyUsable(meta, region);
      } catch (err) {
        usable = false;
        add(
          'key',
          'fail',
          (err as Error).message,
          'enable the key or point the guard at a usable one (never delete a key log groups use)',
        );
      }
      if (usable) add('key', 'ok', `${meta.Arn} is enabled and symmetric`);
      try {
        const rotation = await clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: meta.Arn }));
        if (rotation.KeyRotationEnabled) add('key rotation', 'ok', 'automatic rotation is on');
        else
          add(
            'key rotation',
            'warn',
            'automatic rotation is off',
            `aws kms enable-key-rotation --key-id ${meta.Arn} --region ${region}`,
          );
      } catch (err) {
        couldNot('key rotation', err);
      }
      try {
        const policy = await clients.kms.send(
          new GetKeyPolicyCommand({ KeyId: meta.Arn, PolicyName: 'default' }),
        );
        keyPolicy = parsePolicy(policy.Policy ?? '');
        const admits =
          account !== undefined && admitsLogs(keyPolicy, { partition: partitionOf(region), region, account });
        if (admits) add('key policy', 'ok', `admits logs.${region} for this account's log groups`);
        else
          add(
            'key policy',
            'fail',
            `does not let CloudWatch Logs in ${region} use the key: associations fail`,
            `logs-kms-guard key setup --region ${region}`,
          );
      } catch (err) {
        couldNot('key policy', err);
      }
    }
  } catch (err) {
    couldNot('key', err);
  }

  // Recent failures of the enforce function (its structured decision logs).
  let enforceFunction: string | undefined = opts.function;
  try {
    let fn = opts.function;
    if (!fn && queueArn) {
      const mappings = await clients
        .lambda()
        .send(new ListEventSourceMappingsCommand({ EventSourceArn: queueArn }));
      const m = mappings.EventSourceMappings?.[0];
      fn = m?.FunctionArn
        ? parseArn(m.FunctionArn)
            ?.resource.replace(/^function:/, '')
            .split(':')[0]
        : undefined;
      if (m && m.State !== 'Enabled')
        add(
          'consumer',
          'fail',
          `the queue's event source mapping is ${m.State}`,
          'enable it (aws lambda update-event-source-mapping --enabled)',
        );
    }
    enforceFunction = fn;
    if (!fn)
      add(
        'recent failures',
        'warn',
        'could not check: the enforce function is unknown (pass --function NAME)',
      );
    else {
      const out = await clients.logs.send(
        new FilterLogEventsCommand({
          logGroupName: `/aws/lambda/${fn}`,
          startTime: now - 24 * 3600_000,
          filterPattern: '{ $.outcome = "failed" }',
          limit: 50,
        }),
      );
      const events = out.events ?? [];
      if (events.length === 0) add('recent failures', 'ok', `no failed decision by ${fn} in the last 24 h`);
      else {
        let reason = '';
        try {
          reason = (JSON.parse(events.at(-1)?.message ?? '{}') as { reason?: string }).reason ?? '';
        } catch {}
        add(
          'recent failures',
          'warn',
          `${events.length}${out.nextToken ? '+' : ''} failed decision(s) by ${fn} in the last 24 h${reason ? `; latest: ${reason}` : ''}`,
          'see the function logs; run logs-kms-guard audit to find groups left unencrypted',
        );
      }
    }
  } catch (err) {
    couldNot('recent failures', err);
  }

  // Insights query results: AWS has no call to read their key association back; the guard key's policy tells
  // whether the deployment set it up (EncryptQueryResults=true writes that statement and associates them).
  if (keyPolicy) {
    const admitsQueries = keyPolicy.Statement.some((s) => s.Sid === QUERY_RESULTS_STATEMENT_SID);
    if (admitsQueries) {
      add(
        'query results',
        'ok',
        'the key admits CloudWatch Logs for Insights query results: the deployment associated them (AWS offers no call to read it back; see the stack output reason)',
      );
    } else {
      add(
        'query results',
        'warn',
        'Insights query results are not encrypted with this key',
        'deploy with EncryptQueryResults=true (optional)',
      );
    }
  }

  // May the enforce function's role use and repair the key? CloudWatch Logs calls KMS with the caller's
  // credentials when it associates a key, and the guard's authority over its own key is that key's policy.
  if (keyArn && keyPolicy && account) {
    try {
      let role = config.guardRoleArn;
      if (!role && enforceFunction) {
        const fnConfig = await clients
          .lambda()
          .send(new GetFunctionConfigurationCommand({ FunctionName: enforceFunction }));
        role = fnConfig.Role;
      }
      const ctx = { partition: partitionOf(region), region, account };
      if (!role) {
        add(
          'function role',
          'warn',
          'could not check: the enforce function role is unknown (pass --function-role ARN)',
        );
      } else if (config.keyArn) {
        const missing = missingCallerAccess(keyPolicy, ctx, role);
        if (missing.length === 0)
          add('function role', 'ok', `${role} may use ${keyArn} through CloudWatch Logs`);
        else
          add(
            'function role',
            'fail',
            `the key policy lets ${role} use ${missing.join(', ')} neither itself nor through IAM: every AssociateKmsKey fails`,
            'add the account-root statement to the key policy, or a statement naming the role (docs/DEPLOY.md)',
          );
      } else {
        const named = namesRoleFor(keyPolicy, role, [...GUARD_ADMIN_ACTIONS, ...VIA_LOGS_ACTIONS]);
        if (named) add('function role', 'ok', `the guard key's policy names ${role}`);
        else
          add(
            'function role',
            'fail',
            `the guard key's policy does not name ${role}: the function can neither use nor repair the key`,
            `logs-kms-guard key setup --region ${region} --function-role ${role}`,
          );
      }
    } catch (err) {
      couldNot('function role', err);
    }
  }
  return checks;
}

function logsManagementWrites(out: {
  EventSelectors?: { IncludeManagementEvents?: boolean; ReadWriteType?: string }[];
  AdvancedEventSelectors?: { FieldSelectors?: { Field?: string; Equals?: string[] }[] }[];
}): boolean {
  if (out.EventSelectors?.some((s) => s.IncludeManagementEvents !== false && s.ReadWriteType !== 'ReadOnly'))
    return true;
  return (
    out.AdvancedEventSelectors?.some((a) => {
      const fields = a.FieldSelectors ?? [];
      const management = fields.some((f) => f.Field === 'eventCategory' && f.Equals?.includes('Management'));
      const readOnly = fields.some((f) => f.Field === 'readOnly' && f.Equals?.includes('true'));
      return management && !readOnly;
    }) ?? false
  );
}

async function queueAttributes(clients: CliClients, arn: string) {
  const parts = parseArn(arn);
  const name = parts?.resource ?? arn;
  const { QueueUrl: url } = await clients.sqs().send(
    new GetQueueUrlCommand({
      QueueName: name,
      ...(parts?.account ? { QueueOwnerAWSAccountId: parts.account } : {}),
    }),
  );
  const out = await clients
    .sqs()
    .send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return { url: url ?? name, attrs: out.Attributes ?? {} };
}
