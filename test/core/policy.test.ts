/**
 * The key policy rules (functions/core/policy.ts): the guard's policy, merging into a foreign one, whether a
 * policy admits CloudWatch Logs, role and query-results statements, and the queue and topic statements of
 * MessageKmsKey=guard. Examples, then fast-check properties over 1,000 generated policies: a merge never loses
 * a foreign statement, is idempotent, and never takes CloudWatch Logs' access away.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../functions/core/arn.ts';
import {
  admitsLogs,
  defaultKeyPolicy,
  GUARD_ADMIN_ACTIONS,
  GUARD_ADMIN_SID,
  GUARD_RETIRE_SID,
  GUARD_TAG_SID,
  GUARD_VIA_LOGS_SID,
  grantsRootAdmin,
  hasQueryResultsStatement,
  LOGS_STATEMENT_SID,
  logsStatement,
  MESSAGES_ALARMS_SID,
  MESSAGES_EVENTBRIDGE_SID,
  MESSAGES_SQS_SID,
  type MessageResources,
  mergeKeyPolicy,
  messageStatements,
  missingCallerAccess,
  namesRoleFor,
  type PolicyContext,
  PolicyParseError,
  parsePolicy,
  QUERY_RESULTS_STATEMENT_SID,
  ROOT_STATEMENT_SID,
  rootStatement,
  type Statement,
  statementRoles,
  VIA_LOGS_ACTIONS,
} from '../../functions/core/policy.ts';

const ctx: PolicyContext = { partition: 'aws', region: 'us-east-1', account: '123456789012' };

describe('defaultKeyPolicy', () => {
  it('has the root statement and the Logs statement with the encryption-context condition', () => {
    const policy = defaultKeyPolicy(ctx);
    expect(policy.Statement.some((s) => grantsRootAdmin(s, ctx))).toBe(true);
    expect(policy.Statement.find((s) => s.Sid === LOGS_STATEMENT_SID)).toEqual({
      Sid: 'AllowCloudWatchLogs',
      Effect: 'Allow',
      Principal: { Service: 'logs.us-east-1.amazonaws.com' },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:123456789012:log-group:*' },
      },
    });
    expect(admitsLogs(policy, ctx)).toBe(true);
  });

  it.each([
    ['cn-north-1', 'aws-cn', 'logs.cn-north-1.amazonaws.com.cn'],
    ['us-gov-west-1', 'aws-us-gov', 'logs.us-gov-west-1.amazonaws.com'],
  ] as const)('uses the partition of %s', (region, partition, principal) => {
    const c = { partition: partitionOf(region), region, account: '123456789012' };
    const s = logsStatement(c);
    expect(c.partition).toBe(partition);
    expect(s.Principal).toEqual({ Service: principal });
    expect(JSON.stringify(s.Condition)).toContain(`arn:${partition}:logs:${region}:123456789012:log-group:*`);
    expect(defaultKeyPolicy(c).Statement[0]?.Principal).toEqual({
      AWS: `arn:${partition}:iam::123456789012:root`,
    });
  });
});

describe('parsePolicy', () => {
  it('accepts a single statement object', () => {
    const p = parsePolicy(
      JSON.stringify({ Version: '2012-10-17', Statement: { Sid: 'a', Effect: 'Allow' } }),
    );
    expect(p.Statement).toEqual([{ Sid: 'a', Effect: 'Allow' }]);
  });
  it.each(['not json', '[]', '{"Statement": 3}', '{"Statement": [1]}'])('refuses %s', (text) => {
    expect(() => parsePolicy(text)).toThrow(PolicyParseError);
  });
});

describe('mergeKeyPolicy', () => {
  it('adds the Logs statement to the AWS default policy and keeps the root statement', () => {
    const aws = parsePolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Id: 'key-default-1',
        Statement: [
          {
            Sid: 'Enable IAM User Permissions',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::123456789012:root' },
            Action: 'kms:*',
            Resource: '*',
          },
        ],
      }),
    );
    const { policy, changed } = mergeKeyPolicy(aws, ctx);
    expect(changed).toBe(true);
    expect(policy.Statement).toHaveLength(2);
    expect(policy.Statement[0]).toEqual(aws.Statement[0]);
    expect(policy.Id).toBe('key-default-1');
    expect(admitsLogs(policy, ctx)).toBe(true);
  });

  it('repairs a narrowed Logs statement in place', () => {
    const base = defaultKeyPolicy(ctx);
    const broken = {
      ...base,
      Statement: base.Statement.map((s) =>
        s.Sid === LOGS_STATEMENT_SID ? { ...s, Action: ['kms:Describe*'] } : s,
      ),
    };
    expect(admitsLogs(broken, ctx)).toBe(false);
    const { policy, changed } = mergeKeyPolicy(broken, ctx);
    expect(changed).toBe(true);
    expect(policy).toEqual(base);
  });

  it('reports no change for a correct policy, whatever the key order', () => {
    const base = defaultKeyPolicy(ctx);
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverseKeys)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverseKeys(x)]),
            )
          : v;
    const reordered = reverseKeys(base);
    expect(Object.keys(reordered as object)[0]).toBe('Statement');
    const { changed } = mergeKeyPolicy({ ...base, Statement: base.Statement.map((s) => ({ ...s })) }, ctx);
    expect(changed).toBe(false);
    expect(mergeKeyPolicy(parsePolicy(JSON.stringify(reordered)), ctx).changed).toBe(false);
  });

  it('puts the root statement back when it is missing', () => {
    const { policy } = mergeKeyPolicy({ Version: '2012-10-17', Statement: [] }, ctx);
    expect(policy.Statement.some((s) => grantsRootAdmin(s, ctx))).toBe(true);
  });
});

describe('admitsLogs', () => {
  const withStatements = (...s: Statement[]) => ({ Version: '2012-10-17', Statement: s });
  const good = logsStatement(ctx);
  it.each([
    [
      'the wrong region principal',
      { ...good, Principal: { Service: 'logs.eu-west-1.amazonaws.com' } },
      false,
    ],
    [
      'a condition for another account',
      {
        ...good,
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:999999999999:log-group:*',
          },
        },
      },
      false,
    ],
    [
      'an unknown condition key',
      { ...good, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } },
      false,
    ],
    ['no condition', { ...good, Condition: undefined }, true],
    [
      'kms:* and a principal list',
      {
        ...good,
        Action: 'kms:*',
        Principal: { Service: ['x.amazonaws.com', 'logs.us-east-1.amazonaws.com'] },
      },
      true,
    ],
    [
      'missing GenerateDataKey',
      { ...good, Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:Describe*'] },
      false,
    ],
  ])('with %s: %s', (_label, statement, expected) => {
    const s = Object.fromEntries(Object.entries(statement).filter(([, v]) => v !== undefined));
    expect(admitsLogs(withStatements(s), ctx)).toBe(expected);
  });

  it('refuses when a Deny statement names the Logs principal', () => {
    const deny = {
      Effect: 'Deny',
      Principal: { Service: 'logs.us-east-1.amazonaws.com' },
      Action: 'kms:Decrypt',
      Resource: '*',
    };
    expect(admitsLogs(withStatements(good, deny), ctx)).toBe(false);
  });
});

// ---- property tests ----------------------------------------------------------------------------

const regionArb = fc.constantFrom(
  'us-east-1',
  'eu-west-1',
  'ap-southeast-2',
  'cn-north-1',
  'us-gov-west-1',
  'sa-east-1',
);
const accountArb = fc.stringMatching(/^\d{12}$/);
const ctxArb = fc
  .record({ region: regionArb, account: accountArb })
  .map((c) => ({ ...c, partition: partitionOf(c.region) }));
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const foreignStatementArb: fc.Arbitrary<Statement> = fc
  .record(
    {
      Sid: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(undefined)),
      Effect: fc.constantFrom('Allow', 'Deny'),
      Principal: fc.oneof(
        fc.constant('*'),
        fc.record({ AWS: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })) }),
        fc.record({ Service: fc.oneof(fc.string(), fc.constant('logs.us-east-1.amazonaws.com')) }),
      ),
      Action: fc.oneof(
        fc.constantFrom('kms:*', 'kms:Decrypt', 'kms:CreateGrant'),
        fc.array(fc.string(), { maxLength: 4 }),
      ),
      Resource: fc.constantFrom('*', 'arn:aws:kms:us-east-1:123456789012:key/abc'),
      Condition: fc.option(
        fc.dictionary(fc.string({ maxLength: 12 }), fc.dictionary(fc.string({ maxLength: 12 }), jsonValue)),
        { nil: undefined },
      ),
      Extra: jsonValue,
    },
    { requiredKeys: ['Effect'] },
  )
  .map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined && v !== null)))
  // Foreign statements never carry the guard's Sid: that one is ours to repair.
  .filter((s) => s.Sid !== LOGS_STATEMENT_SID);
const policyArb = fc.record({
  Version: fc.constantFrom('2012-10-17', '2008-10-17'),
  Id: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
  Statement: fc.array(foreignStatementArb, { maxLength: 8 }),
});

const RUNS = { numRuns: 1000 };

describe('mergeKeyPolicy (properties, 1,000 generated policies each)', () => {
  it('never drops, changes or reorders a foreign statement', () => {
    fc.assert(
      fc.property(policyArb, ctxArb, (input, c) => {
        const before = JSON.stringify(input);
        const { policy } = mergeKeyPolicy(input, c);
        expect(JSON.stringify(input)).toBe(before); // the input is not mutated
        const kept = policy.Statement.filter((s) => input.Statement.includes(s));
        expect(kept).toEqual(input.Statement);
        // every other top-level field survives
        expect(policy.Version).toBe(input.Version);
        expect(policy.Id).toBe(input.Id);
      }),
      RUNS,
    );
  });

  it('on the guard key (own, with its role) never drops, changes or reorders a foreign statement, and is idempotent', () => {
    const role = 'arn:aws:iam::123456789012:role/logs-kms-guard-prod-us-east-1-EnforceRole';
    fc.assert(
      fc.property(policyArb, ctxArb, (input, c) => {
        const withRole = { ...c, guardRoles: [role] };
        const { policy } = mergeKeyPolicy(input, withRole, { own: true });
        const kept = policy.Statement.filter((s) => input.Statement.includes(s));
        expect(kept).toEqual(input.Statement);
        const again = mergeKeyPolicy(parsePolicy(JSON.stringify(policy)), withRole, { own: true });
        expect(again.changed).toBe(false);
      }),
      RUNS,
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(policyArb, ctxArb, (input, c) => {
        const once = mergeKeyPolicy(input, c).policy;
        const twice = mergeKeyPolicy(parsePolicy(JSON.stringify(once)), c);
        expect(twice.changed).toBe(false);
        expect(JSON.parse(JSON.stringify(twice.policy))).toEqual(JSON.parse(JSON.stringify(once)));
      }),
      RUNS,
    );
  });

  it('always keeps or restores the root statement', () => {
    fc.assert(
      fc.property(policyArb, ctxArb, (input, c) => {
        const { policy } = mergeKeyPolicy(input, c);
        expect(policy.Statement.some((s) => grantsRootAdmin(s, c))).toBe(true);
        for (const s of input.Statement.filter((x) => grantsRootAdmin(x, c)))
          expect(policy.Statement).toContain(s);
      }),
      RUNS,
    );
  });

  it('admits Logs for exactly that region and account', () => {
    fc.assert(
      fc.property(policyArb, ctxArb, regionArb, (input, c, otherRegion) => {
        const { policy } = mergeKeyPolicy(input, c);
        const ours = policy.Statement.filter((s) => s.Sid === LOGS_STATEMENT_SID);
        expect(ours).toEqual([logsStatement(c)]);
        const denied = input.Statement.some((s) => s.Effect === 'Deny');
        if (!denied) expect(admitsLogs(policy, c)).toBe(true);
        // The guard's statement alone never admits another region's Logs or another account's groups.
        const onlyOurs = { Statement: ours };
        if (otherRegion !== c.region) {
          expect(
            admitsLogs(onlyOurs, { ...c, region: otherRegion, partition: partitionOf(otherRegion) }),
          ).toBe(false);
        }
        const otherAccount = c.account === '000000000000' ? '000000000001' : '000000000000';
        expect(admitsLogs(onlyOurs, { ...c, account: otherAccount })).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('guard role statements (the guard key names its function role)', () => {
  const role = 'arn:aws:iam::123456789012:role/logs-kms-guard-prod-us-east-1-EnforceRole';
  const withRole: PolicyContext = { ...ctx, guardRoles: [role] };
  const foreign: Statement = {
    Sid: 'TeamAdmins',
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::123456789012:role/Admins' },
    Action: 'kms:*',
    Resource: '*',
  };

  it('a candidate key carries the retire statement; the active policy does not', () => {
    // Act
    const candidate = defaultKeyPolicy(withRole, { candidate: true });
    const active = defaultKeyPolicy(withRole);

    // Assess
    expect(candidate.Statement.map((s) => s.Sid)).toContain(GUARD_RETIRE_SID);
    expect(active.Statement.map((s) => s.Sid)).not.toContain(GUARD_RETIRE_SID);
    // The role is named by condition, not as Principal (a role that does not exist yet is no invalid principal).
    expect(active.Statement.find((s) => s.Sid === GUARD_VIA_LOGS_SID)).toMatchObject({
      Principal: { AWS: '*' },
      Condition: {
        StringEquals: { 'kms:ViaService': 'logs.us-east-1.amazonaws.com' },
        ArnEquals: { 'aws:PrincipalArn': role },
      },
    });
  });

  it('without a role nothing names it (the CLI without --function-role)', () => {
    expect(defaultKeyPolicy(ctx, { candidate: true })).toEqual(defaultKeyPolicy(ctx));
    expect(defaultKeyPolicy(ctx).Statement).toHaveLength(2);
  });

  it('merging the own key adds the role statements, drops the retire statement and keeps foreign ones', () => {
    // Prepare
    const policy = { ...defaultKeyPolicy(withRole, { candidate: true }) };
    policy.Statement = [foreign, ...policy.Statement];

    // Act
    const merged = mergeKeyPolicy(policy, withRole, { own: true });

    // Assess
    expect(merged.changed).toBe(true);
    expect(merged.policy.Statement[0]).toEqual(foreign);
    expect(merged.policy.Statement.map((s) => s.Sid)).not.toContain(GUARD_RETIRE_SID);
    expect(mergeKeyPolicy(merged.policy, withRole, { own: true }).changed).toBe(false);
  });

  it('keeps roles the key already names and adds this one (another stage of the guard)', () => {
    // Prepare
    const other = 'arn:aws:iam::123456789012:role/logs-kms-guard-dev-us-east-1-EnforceRole';
    const policy = defaultKeyPolicy({ ...ctx, guardRoles: [other] });

    // Act
    const merged = mergeKeyPolicy(policy, withRole, { own: true });

    // Assess
    const admin = merged.policy.Statement.find((s) => s.Sid === GUARD_ADMIN_SID);
    expect(admin?.Principal).toEqual({ AWS: '*' });
    expect(admin?.Condition).toEqual({ ArnEquals: { 'aws:PrincipalArn': [other, role].sort() } });
  });

  it('names every role by aws:PrincipalArn under Principal "*", the retire statement too', () => {
    const candidate = defaultKeyPolicy(withRole, { candidate: true });
    const named = candidate.Statement.filter((s) => String(s.Sid).startsWith('LogsKmsGuard'));
    expect(named.map((s) => s.Sid).sort()).toEqual(
      [GUARD_ADMIN_SID, GUARD_RETIRE_SID, GUARD_TAG_SID, GUARD_VIA_LOGS_SID].sort(),
    );
    for (const s of named) {
      expect(s.Principal).toEqual({ AWS: '*' });
      expect(statementRoles(s)).toEqual([role]);
    }
    expect(JSON.stringify(candidate)).not.toContain(`"AWS":"${role}"`);
  });

  it('accepts a key written in the Principal form: same roles, nothing rewritten; a new role, all rewritten', () => {
    // Prepare: the guard statements as versions before the conditional form wrote them.
    const old = defaultKeyPolicy(withRole);
    old.Statement = old.Statement.map((s) => {
      const roles = statementRoles(s);
      if (roles.length === 0) return s;
      const { ArnEquals: _named, ...condition } = s.Condition as Record<string, unknown>;
      return {
        ...s,
        Principal: { AWS: roles[0] },
        ...(Object.keys(condition).length ? { Condition: condition } : { Condition: undefined }),
      };
    });
    old.Statement = JSON.parse(JSON.stringify(old.Statement));

    // Act / Assess: the same role: the function sees its key as it is (no policy update it could not make).
    expect(namesRoleFor(old, role, [...GUARD_ADMIN_ACTIONS, ...VIA_LOGS_ACTIONS])).toBe(true);
    expect(mergeKeyPolicy(old, withRole, { own: true }).changed).toBe(false);

    // Act: another role joins (the CLI names the predictable role of a stack not deployed yet).
    const next = 'arn:aws:iam::123456789012:role/logs-kms-guard-prod-enforce-us-east-1';
    const merged = mergeKeyPolicy(old, { ...ctx, guardRoles: [next] }, { own: true });

    // Assess: both named, in the conditional form; both pass the function's own check.
    expect(merged.changed).toBe(true);
    for (const r of [role, next])
      expect(namesRoleFor(merged.policy, r, [...GUARD_ADMIN_ACTIONS, ...VIA_LOGS_ACTIONS])).toBe(true);
    expect(JSON.stringify(merged.policy)).not.toContain(`"AWS":"${role}"`);
  });

  it('a principal added to a guard statement (another account, the old form) is corrected away, not kept', () => {
    const stranger = 'arn:aws:iam::999999999999:role/Stranger';
    const policy = defaultKeyPolicy(withRole);
    const admin = policy.Statement.find((s) => s.Sid === GUARD_ADMIN_SID) as Statement;
    admin.Condition = { ArnEquals: { 'aws:PrincipalArn': [role, stranger] } };
    const via = policy.Statement.find((s) => s.Sid === GUARD_VIA_LOGS_SID) as Statement;
    via.Principal = { AWS: [role, 'arn:aws:iam::999999999999:root'] };
    delete (via.Condition as Record<string, unknown>).ArnEquals;
    const merged = mergeKeyPolicy(policy, withRole, { own: true });
    expect(merged.changes).toEqual([
      "the enforce role's statement to manage the key corrected",
      "the enforce role's statement to use the key through CloudWatch Logs corrected",
    ]);
    expect(JSON.stringify(merged.policy)).not.toContain('999999999999');
  });

  it('drops what is no role ARN: the unique id KMS shows for a deleted role, a bare "*"', () => {
    const gone = 'AROAEXAMPLEEXAMPLEEXA';
    const policy = defaultKeyPolicy(withRole);
    const admin = policy.Statement.find((s) => s.Sid === GUARD_ADMIN_SID) as Statement;
    admin.Condition = { ArnEquals: { 'aws:PrincipalArn': [role, gone] } };
    expect(statementRoles(admin)).toEqual([role]);
    const merged = mergeKeyPolicy(policy, withRole, { own: true });
    expect(merged.changed).toBe(true);
    expect(JSON.stringify(merged.policy)).not.toContain(gone);
    expect(mergeKeyPolicy(merged.policy, withRole, { own: true }).changed).toBe(false);
    expect(statementRoles({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*' })).toEqual([]);
    expect(statementRoles(rootStatement(ctx))).toEqual([]);
  });

  it('a configured key is never given role statements', () => {
    const merged = mergeKeyPolicy({ Statement: [foreign] }, withRole);
    expect(merged.policy.Statement.map((s) => s.Sid)).toEqual([
      ROOT_STATEMENT_SID,
      'TeamAdmins',
      LOGS_STATEMENT_SID,
    ]);
  });
});

describe('missingCallerAccess (configured key: may the function role use it through Logs?)', () => {
  const role = 'arn:aws:iam::123456789012:role/R';

  it('nothing is missing when the policy delegates to IAM (the root statement)', () => {
    expect(missingCallerAccess(defaultKeyPolicy(ctx), ctx, role)).toEqual([]);
  });

  it('nothing is missing when the policy names the role for the via-Logs actions', () => {
    const policy = defaultKeyPolicy({ ...ctx, guardRoles: [role] });
    policy.Statement = policy.Statement.filter((s) => s.Sid !== ROOT_STATEMENT_SID);
    expect(missingCallerAccess(policy, ctx, role)).toEqual([]);
  });

  it('names what is missing when neither', () => {
    const policy = {
      Statement: [
        logsStatement(ctx),
        { Effect: 'Allow', Principal: { AWS: role }, Action: 'kms:Decrypt', Resource: '*' },
      ],
    };
    expect(missingCallerAccess(policy, ctx, role)).toEqual(['kms:Encrypt', 'kms:GenerateDataKey']);
    expect(missingCallerAccess(policy, ctx, undefined)).toEqual([
      'kms:Encrypt',
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ]);
  });

  it('a conditional root statement is not delegation', () => {
    const root = { ...rootStatement(ctx), Condition: { Bool: { 'aws:SecureTransport': 'true' } } };
    expect(missingCallerAccess({ Statement: [root] }, ctx, role)).toHaveLength(3);
  });
});

describe('EncryptQueryResults', () => {
  it('the guard key admits Logs for the query results and lets the role use the key for them through Logs', () => {
    // Prepare
    const role = 'arn:aws:iam::123456789012:role/R';
    const withQueries: PolicyContext = { ...ctx, guardRoles: [role], encryptQueryResults: true };

    // Act
    const policy = defaultKeyPolicy(withQueries);
    const merged = mergeKeyPolicy(defaultKeyPolicy({ ...ctx, guardRoles: [role] }), withQueries, {
      own: true,
    });

    // Assess
    const queries = policy.Statement.find((s) => s.Sid === QUERY_RESULTS_STATEMENT_SID);
    expect(queries?.Condition).toEqual({
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:123456789012:query-result:*' },
    });
    expect(JSON.stringify(policy.Statement.find((s) => s.Sid === GUARD_VIA_LOGS_SID))).toContain(
      ':query-result:*',
    );
    expect(merged.changed).toBe(true);
    expect(merged.policy.Statement.map((s) => s.Sid)).toContain(QUERY_RESULTS_STATEMENT_SID);
    expect(defaultKeyPolicy(ctx).Statement.map((s) => s.Sid)).not.toContain(QUERY_RESULTS_STATEMENT_SID);
  });
});

describe('hasQueryResultsStatement', () => {
  it('is true only for a policy written with EncryptQueryResults', () => {
    // Prepare
    const withQueries = defaultKeyPolicy({ ...ctx, encryptQueryResults: true });
    const without = defaultKeyPolicy(ctx);

    // Act
    const found = [hasQueryResultsStatement(withQueries), hasQueryResultsStatement(without)];

    // Assess
    expect(found).toEqual([true, false]);
  });

  it('goes by the Sid, wherever the statement sits', () => {
    // Prepare
    const policy = { Statement: [{ Sid: 'Other' }, { Sid: QUERY_RESULTS_STATEMENT_SID }] };

    // Act
    const found = hasQueryResultsStatement(policy);

    // Assess
    expect(found).toBe(true);
  });
});

describe('queue and topic statements (MessageKmsKey=guard)', () => {
  const messages: MessageResources = {
    queueArns: [
      'arn:aws:sqs:us-east-1:123456789012:logs-kms-guard-prod-EnforceQueue-A1',
      'arn:aws:sqs:us-east-1:123456789012:logs-kms-guard-prod-EnforceDlq-B2',
    ],
    ruleArns: ['arn:aws:events:us-east-1:123456789012:rule/logs-kms-guard-prod-CreateLogGroupRule-C3'],
    alarmArnPattern: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:logs-kms-guard-prod-*',
  };
  const withMessages: PolicyContext = { ...ctx, messages };
  const role = 'arn:aws:iam::123456789012:role/logs-kms-guard-prod-us-east-1-EnforceRole';

  it('admit EventBridge for the rules, SQS for the queues only, CloudWatch for the alarms only', () => {
    expect(messageStatements(withMessages)).toEqual([
      {
        Sid: MESSAGES_EVENTBRIDGE_SID,
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: { ArnEquals: { 'aws:SourceArn': messages.ruleArns } },
      },
      {
        Sid: MESSAGES_SQS_SID,
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:root' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: {
          StringEquals: {
            'kms:ViaService': 'sqs.us-east-1.amazonaws.com',
            'kms:CallerAccount': '123456789012',
          },
          ArnEquals: { 'kms:EncryptionContext:aws:sqs:arn': [...messages.queueArns].sort() },
        },
      },
      {
        Sid: MESSAGES_ALARMS_SID,
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': '123456789012' },
          ArnLike: { 'aws:SourceArn': messages.alarmArnPattern },
        },
      },
    ]);
    // every one is conditioned: none is a second account-root grant
    for (const st of messageStatements(withMessages)) {
      expect(st.Condition).toBeDefined();
      expect(grantsRootAdmin(st, ctx)).toBe(false);
    }
    expect(messageStatements(ctx)).toEqual([]);
  });

  it('are in the policy of a key the guard creates, beside the Logs statement', () => {
    const policy = defaultKeyPolicy({ ...withMessages, guardRoles: [role] });
    const sids = policy.Statement.map((st) => st.Sid);
    expect(sids).toEqual(expect.arrayContaining([LOGS_STATEMENT_SID, MESSAGES_SQS_SID, MESSAGES_ALARMS_SID]));
    expect(admitsLogs(policy, ctx)).toBe(true);
    expect(defaultKeyPolicy(ctx).Statement.map((st) => st.Sid)).not.toContain(MESSAGES_SQS_SID);
  });

  it('are added to the guard key by the same merge, and put back when narrowed; never to a configured key', () => {
    // Prepare: the guard key as an older version left it, then someone narrowed the SQS statement
    const old = defaultKeyPolicy({ ...ctx, guardRoles: [role] });
    const withRole = { ...withMessages, guardRoles: [role] };

    // Act
    const added = mergeKeyPolicy(old, withRole, { own: true });
    const narrowed = {
      ...added.policy,
      Statement: added.policy.Statement.map((st) =>
        st.Sid === MESSAGES_SQS_SID ? { ...st, Condition: { StringEquals: { 'kms:ViaService': 'x' } } } : st,
      ),
    };
    const repaired = mergeKeyPolicy(narrowed, withRole, { own: true });
    const configured = mergeKeyPolicy(defaultKeyPolicy(ctx), withMessages);

    // Assess
    expect(added.changed).toBe(true);
    expect(added.policy.Statement.slice(-3)).toEqual(messageStatements(withMessages));
    expect(admitsLogs(added.policy, ctx)).toBe(true);
    expect(repaired.changed).toBe(true);
    expect(repaired.policy.Statement.find((st) => st.Sid === MESSAGES_SQS_SID)).toEqual(
      messageStatements(withMessages)[1],
    );
    expect(configured.policy.Statement.map((st) => st.Sid)).not.toContain(MESSAGES_SQS_SID);
  });

  it('property: on the guard key the merge keeps foreign statements, keeps Logs admitted, and is idempotent', () => {
    fc.assert(
      fc.property(policyArb, ctxArb, (input, c) => {
        const full = { ...c, guardRoles: [role], messages };
        const { policy } = mergeKeyPolicy(input, full, { own: true });
        expect(policy.Statement.filter((st) => input.Statement.includes(st))).toEqual(input.Statement);
        expect(policy.Statement.filter((st) => st.Sid === LOGS_STATEMENT_SID)).toEqual([logsStatement(c)]);
        const withoutMessages = mergeKeyPolicy(input, { ...c, guardRoles: [role] }, { own: true }).policy;
        expect(admitsLogs(policy, c)).toBe(admitsLogs(withoutMessages, c));
        for (const st of messageStatements(full)) expect(policy.Statement).toContainEqual(st);
        expect(mergeKeyPolicy(parsePolicy(JSON.stringify(policy)), full, { own: true }).changed).toBe(false);
      }),
      RUNS,
    );
  });
});
