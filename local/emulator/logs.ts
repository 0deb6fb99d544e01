/**
 * CloudWatch Logs (`Logs_20140328.*`): log groups, their tags and their KMS association.
 * Key checks run against Logs' stale view of KMS (Store.logsView), as in AWS.
 */
import { fail } from './errors.ts';
import { type Ctx, type Input, noteKeyUse } from './kms.ts';
import { partitionOf, policyAdmitsLogs } from './policy-eval.ts';
import { compare, GroupRecord, LOG_GROUP_CLASSES, type LogGroupClass } from './state.ts';

type Handler = (ctx: Ctx, input: Input) => unknown;

/** The Logs operations that change something: the ones `faultRate` may fail. */
export const LOGS_MUTATING = new Set([
  'CreateLogGroup',
  'DeleteLogGroup',
  'AssociateKmsKey',
  'DisassociateKmsKey',
  'TagResource',
  'UntagResource',
  'TagLogGroup',
  'UntagLogGroup',
  'CreateLogStream',
  'DeleteLogStream',
  'PutLogGroupDeletionProtection',
]);

/** CloudWatch Logs' error messages (README, "Messages chosen"). */
export const MESSAGES = {
  groupMissing: 'The specified log group does not exist.',
  groupExists: 'The specified log group already exists',
  keyNotFound: 'The specified KMS Key Id could not be found.',
  keyDisabled: 'The specified KMS key is disabled.',
  keyPendingDeletion: 'The specified KMS key is pending deletion.',
  keyPendingImport: 'The specified KMS key is pending import.',
  keyNotSymmetric: 'The specified KMS key is not a symmetric encryption key.',
  accessDenied: (groupArn: string) =>
    `The specified KMS key does not exist or is not allowed to be used with Arn '${groupArn}'`,
  /** Assumed wording (AWS's is not documented): the guard recognises the log class being named. */
  classRefusesKms: (logClass: string) =>
    `KMS key association is not supported for log groups in the ${logClass} log class.`,
  /** Assumed wording of DeleteLogGroup refused by deletion protection. */
  deletionProtected:
    'The log group has deletion protection enabled. Disable it before deleting the log group.',
};

/**
 * The classes that take no KMS key. DELIVERY: "Use the Delivery log class only for delivering Lambda logs to
 * store in Amazon S3 or Amazon Data Firehose. Log events in log groups in the Delivery class are kept in
 * CloudWatch Logs for only one day. This log class doesn't offer rich CloudWatch Logs capabilities"
 * (CreateLogGroup API reference, logGroupClass). That it refuses a customer-managed key is this emulator's
 * assumption (the "Log classes" user-guide page lists the features per class; not verified here): the guard
 * does not rely on it, it classifies the refusal AWS answers (associate.ts). STANDARD, INFREQUENT_ACCESS and
 * ESSENTIALS take a key.
 */
export const CLASSES_WITHOUT_KMS: ReadonlySet<LogGroupClass> = new Set<LogGroupClass>(['DELIVERY']);

/** The logGroupClass parameter: one of the SDK's LogGroupClass values (default STANDARD). */
function logGroupClass(value: unknown): LogGroupClass {
  if (value === undefined) return 'STANDARD';
  if (typeof value !== 'string' || !(LOG_GROUP_CLASSES as readonly string[]).includes(value)) {
    fail(
      'InvalidParameterException',
      `1 validation error detected: Value '${String(value)}' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [${LOG_GROUP_CLASSES.join(', ')}]`,
    );
  }
  return value as LogGroupClass;
}

const NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;

function validName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    fail(
      'InvalidParameterException',
      `1 validation error detected: Value '${String(name)}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
    );
  }
  return name as string;
}

function streamName(name: unknown): string {
  if (typeof name !== 'string' || !/^[^:*]{1,512}$/.test(name)) {
    fail('InvalidParameterException', `Invalid log stream name: ${String(name)}`);
  }
  return name as string;
}

function existing(ctx: Ctx, name: string): GroupRecord {
  return ctx.store.groups(ctx.region).get(name) ?? fail('ResourceNotFoundException', MESSAGES.groupMissing);
}

/** The group named by logGroupName, or by resourceIdentifier (a name or a log group ARN). */
function target(ctx: Ctx, input: Input): GroupRecord {
  const name = input.logGroupName ?? input.resourceIdentifier;
  if (typeof name !== 'string')
    fail('InvalidParameterException', 'Either logGroupName or resourceIdentifier is required.');
  return existing(ctx, groupNameFromArn(ctx, name as string) ?? (name as string));
}

function groupNameFromArn(ctx: Ctx, arn: string): string | undefined {
  if (!arn.startsWith('arn:')) return undefined;
  const prefix = `arn:${partitionOf(ctx.region)}:logs:${ctx.region}:${ctx.store.account}:log-group:`;
  if (!arn.startsWith(prefix) || arn.endsWith(':*')) fail('ResourceNotFoundException', MESSAGES.groupMissing);
  return arn.slice(prefix.length);
}

/**
 * What CloudWatch Logs checks before it uses a key for a group, on its stale view of KMS:
 * a full key ARN of this region and account, a key it can see, enabled, symmetric, and a policy that admits it.
 */
function checkKeyForGroup(ctx: Ctx, kmsKeyId: unknown, groupName: string, resourceArn?: string): string {
  const { key, seen, groupArn } = keyVisibleToLogs(ctx, kmsKeyId, groupName, resourceArn);
  if (
    !policyAdmitsLogs(seen.policy, { region: ctx.region, keyArn: key.arn, logGroupArn: groupArn }).admitted
  ) {
    fail('AccessDeniedException', MESSAGES.accessDenied(groupArn));
  }
  // CloudWatch Logs encrypts with the key when it is associated (GenerateDataKey): the key counts as used
  // (KMS API reference, GetKeyLastUsage: any successful cryptographic operation).
  noteKeyUse(key, 'GenerateDataKey', ctx.now);
  return key.arn;
}

/** The checks of `checkKeyForGroup` that come before the key-policy admission of the Logs service principal. */
function keyVisibleToLogs(ctx: Ctx, kmsKeyId: unknown, groupName: string, resourceArn?: string) {
  const { store, region } = ctx;
  if (typeof kmsKeyId !== 'string') return fail('InvalidParameterException', MESSAGES.keyNotFound);
  const match = /^arn:([^:]+):kms:([^:]+):(\d{12}):key\/([^/]+)$/.exec(kmsKeyId);
  if (!match || match[1] !== partitionOf(region) || match[2] !== region || match[3] !== store.account) {
    return fail('InvalidParameterException', MESSAGES.keyNotFound);
  }
  const keyId = match[4] as string;
  const seen = store.logsView(region, keyId, ctx.now);
  const key = store.kms(region).keys.get(keyId);
  if (!seen || !key) return fail('InvalidParameterException', MESSAGES.keyNotFound);
  if (seen.state === 'Disabled') fail('InvalidParameterException', MESSAGES.keyDisabled);
  if (seen.state === 'PendingDeletion') fail('InvalidParameterException', MESSAGES.keyPendingDeletion);
  if (seen.state === 'PendingImport') fail('InvalidParameterException', MESSAGES.keyPendingImport);
  if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT') {
    fail('InvalidParameterException', MESSAGES.keyNotSymmetric);
  }
  return { key, seen, groupArn: resourceArn ?? store.groupArn(region, groupName) };
}

/**
 * `resourceIdentifier` naming the stored results of CloudWatch Logs Insights queries of the account
 * (`arn:<p>:logs:<region>:<account>:query-result:*`, AssociateKmsKey API reference); undefined otherwise.
 */
function queryResultArn(ctx: Ctx, input: Input): string | undefined {
  const id = input.resourceIdentifier;
  const arn = `arn:${partitionOf(ctx.region)}:logs:${ctx.region}:${ctx.store.account}:query-result:*`;
  return id === arn ? arn : undefined;
}

/**
 * For IAM authorization of the KMS calls Logs makes with the caller's credentials: runs the checks that
 * CreateLogGroup (with kmsKeyId) or AssociateKmsKey make before the key-policy admission, changing nothing,
 * and returns the key with the policy version Logs sees; undefined when the call uses no key. Throws the
 * handler's own error where a check fails (the handler then fails the same way).
 */
export function keyUseByLogs(
  ctx: Ctx,
  operation: string,
  input: Input,
): { keyArn: string; policySeen: string; groupArn: string } | undefined {
  let groupName: string;
  const queryResults = operation === 'AssociateKmsKey' ? queryResultArn(ctx, input) : undefined;
  if (queryResults) {
    const { key, seen } = keyVisibleToLogs(ctx, input.kmsKeyId, '', queryResults);
    return { keyArn: key.arn, policySeen: seen.policy, groupArn: queryResults };
  }
  if (operation === 'AssociateKmsKey') {
    groupName = target(ctx, input).name;
  } else if (operation === 'CreateLogGroup' && input.kmsKeyId !== undefined) {
    groupName = validName(input.logGroupName);
    if (ctx.store.groups(ctx.region).has(groupName))
      fail('ResourceAlreadyExistsException', MESSAGES.groupExists);
    tagMap(input.tags);
  } else {
    return undefined;
  }
  const { key, seen, groupArn } = keyVisibleToLogs(ctx, input.kmsKeyId, groupName);
  return { keyArn: key.arn, policySeen: seen.policy, groupArn };
}

function tagMap(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('InvalidParameterException', 'tags must be a map of strings.');
  }
  const entries = Object.entries(value);
  if (entries.length > 50) fail('InvalidParameterException', 'A log group can have at most 50 tags.');
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length === 0 || k.length > 128 || k.startsWith('aws:')) {
      fail('InvalidParameterException', `Invalid tag: ${k}`);
    }
  }
  return { ...(value as Record<string, string>) };
}

/** The values PutRetentionPolicy accepts (CloudWatch Logs API reference, PutRetentionPolicy). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

function describe(g: GroupRecord) {
  return {
    logGroupName: g.name,
    creationTime: g.createdAt,
    metricFilterCount: 0,
    arn: `${g.arn}:*`,
    storedBytes: 0,
    ...(g.kmsKeyId !== undefined ? { kmsKeyId: g.kmsKeyId } : {}),
    ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
    logGroupClass: g.logGroupClass,
    logGroupArn: g.arn,
    // Shown when on (the field is optional in the API reference's LogGroup shape).
    ...(g.deletionProtection ? { deletionProtectionEnabled: true } : {}),
  };
}

function groupByResourceArn(ctx: Ctx, input: Input): GroupRecord {
  const arn = input.resourceArn;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) {
    fail('InvalidParameterException', 'resourceArn must be a log group ARN.');
  }
  return existing(ctx, groupNameFromArn(ctx, arn as string) as string);
}

/** The emulated CloudWatch Logs operations, by name. */
export const logsHandlers: Record<string, Handler> = {
  CreateLogGroup(ctx, input) {
    const name = validName(input.logGroupName);
    const groups = ctx.store.groups(ctx.region);
    if (groups.has(name)) fail('ResourceAlreadyExistsException', MESSAGES.groupExists);
    const tags = tagMap(input.tags);
    const cls = logGroupClass(input.logGroupClass);
    if (input.kmsKeyId !== undefined && CLASSES_WITHOUT_KMS.has(cls)) {
      fail('InvalidParameterException', MESSAGES.classRefusesKms(cls));
    }
    const kmsKeyId = input.kmsKeyId === undefined ? undefined : checkKeyForGroup(ctx, input.kmsKeyId, name);
    groups.set(
      name,
      new GroupRecord(groups.arnPrefix, name, ctx.now, {
        tags,
        ...(kmsKeyId ? { kmsKeyId } : {}),
        logGroupClass: cls,
        deletionProtection: input.deletionProtectionEnabled === true,
      }),
    );
    return {};
  },

  DeleteLogGroup(ctx, input) {
    const name = validName(input.logGroupName);
    const groups = ctx.store.groups(ctx.region);
    if (groups.get(name)?.deletionProtection) fail('InvalidOperationException', MESSAGES.deletionProtected);
    if (!groups.delete(name)) fail('ResourceNotFoundException', MESSAGES.groupMissing);
    return {};
  },

  /** Deletion protection (CloudWatch Logs API reference, PutLogGroupDeletionProtection, 2025-11). */
  PutLogGroupDeletionProtection(ctx, input) {
    const id = input.logGroupIdentifier;
    if (typeof id !== 'string') fail('InvalidParameterException', 'logGroupIdentifier is required.');
    if (typeof input.deletionProtectionEnabled !== 'boolean') {
      fail('InvalidParameterException', 'deletionProtectionEnabled is required.');
    }
    const group = existing(ctx, groupNameFromArn(ctx, (id as string).replace(/:\*$/, '')) ?? (id as string));
    group.deletionProtection = input.deletionProtectionEnabled as boolean;
    return {};
  },

  // Log streams: only what the sweep's lease needs (name and creation time; no events are stored).
  // CreateLogStream is atomic per name (ResourceAlreadyExistsException, CloudWatch Logs API reference).
  CreateLogStream(ctx, input) {
    const group = existing(ctx, validName(input.logGroupName));
    const name = streamName(input.logStreamName);
    group.streams ??= new Map();
    if (group.streams.has(name))
      fail('ResourceAlreadyExistsException', 'The specified log stream already exists');
    group.streams.set(name, ctx.now);
    return {};
  },

  DeleteLogStream(ctx, input) {
    const group = existing(ctx, validName(input.logGroupName));
    const name = streamName(input.logStreamName);
    if (!group.streams?.delete(name))
      fail('ResourceNotFoundException', 'The specified log stream does not exist.');
    return {};
  },

  /** By name (the only order emulated), `limit` ≤ 50, nextToken. */
  DescribeLogStreams(ctx, input) {
    const group = existing(ctx, validName(input.logGroupName));
    const prefix = typeof input.logStreamNamePrefix === 'string' ? input.logStreamNamePrefix : '';
    const limit = input.limit === undefined ? 50 : Number(input.limit);
    const after =
      input.nextToken === undefined
        ? undefined
        : Buffer.from(String(input.nextToken), 'base64url').toString();
    const all = [...(group.streams ?? new Map<string, number>()).entries()]
      .filter(([n]) => n.startsWith(prefix) && (after === undefined || compare(n, after) > 0))
      .sort(([a], [b]) => compare(a, b));
    const slice = all.slice(0, limit);
    const last = slice.at(-1);
    return {
      logStreams: slice.map(([logStreamName, creationTime]) => ({
        logStreamName,
        creationTime,
        arn: `${group.arn}:log-stream:${logStreamName}`,
      })),
      ...(all.length > limit && last ? { nextToken: Buffer.from(last[0]).toString('base64url') } : {}),
    };
  },

  DescribeLogGroups(ctx, input) {
    const prefix = input.logGroupNamePrefix;
    const pattern = input.logGroupNamePattern;
    if (prefix !== undefined && pattern !== undefined) {
      fail(
        'InvalidParameterException',
        'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.',
      );
    }
    const limit = input.limit === undefined ? 50 : Number(input.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      fail(
        'InvalidParameterException',
        `1 validation error detected: Value '${String(input.limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50`,
      );
    }
    let after: string | undefined;
    if (input.nextToken !== undefined) {
      const decoded = Buffer.from(String(input.nextToken), 'base64url').toString();
      if (!decoded.startsWith('after:'))
        fail('InvalidParameterException', 'The specified nextToken is invalid.');
      after = decoded.slice('after:'.length);
    }
    // The region's sorted name index (state.ts GroupTable): O(log n + limit) a page, whatever the region's size.
    const { groups, more } = ctx.store.groups(ctx.region).page({
      ...(typeof prefix === 'string' ? { prefix } : {}),
      ...(after !== undefined ? { after } : {}),
      ...(typeof pattern === 'string' ? { needle: pattern.toLowerCase() } : {}),
      limit,
    });
    const last = groups.at(-1);
    return {
      logGroups: groups.map(describe),
      ...(more && last ? { nextToken: Buffer.from(`after:${last.name}`).toString('base64url') } : {}),
    };
  },

  AssociateKmsKey(ctx, input) {
    const queryResults = queryResultArn(ctx, input);
    if (queryResults) {
      // The account's Insights query results, encrypted with the key for new queries (the context is their ARN).
      ctx.store.queryResultKeys.set(ctx.region, checkKeyForGroup(ctx, input.kmsKeyId, '', queryResults));
      return {};
    }
    const group = target(ctx, input);
    // AWS-reserved names (X-Ray's aws/spans): refused whatever the key (awslabs/landing-zone-accelerator-on-aws
    // #751, whose error text this is). Checked after the group exists, before the key: the order AWS uses is
    // not documented.
    if (/^aws\//i.test(group.name)) {
      fail('InvalidParameterException', 'Log groups starting with AWS/ are reserved for AWS');
    }
    if (CLASSES_WITHOUT_KMS.has(group.logGroupClass)) {
      fail('InvalidParameterException', MESSAGES.classRefusesKms(group.logGroupClass));
    }
    group.kmsKeyId = checkKeyForGroup(ctx, input.kmsKeyId, group.name);
    group.associatedAt = ctx.now;
    return {};
  },

  // Retention (CloudWatch Logs API reference, PutRetentionPolicy: retentionInDays one of the listed values;
  // DeleteRetentionPolicy: kept forever again). The key-dependency record reads it (functions/core/key-record.ts).
  PutRetentionPolicy(ctx, input) {
    const group = existing(ctx, validName(input.logGroupName));
    const days = Number(input.retentionInDays);
    if (!RETENTION_DAYS.includes(days)) {
      fail('InvalidParameterException', `Invalid retentionInDays value: ${String(input.retentionInDays)}`);
    }
    group.retentionInDays = days;
    return {};
  },

  DeleteRetentionPolicy(ctx, input) {
    existing(ctx, validName(input.logGroupName)).retentionInDays = undefined;
    return {};
  },

  DisassociateKmsKey(ctx, input) {
    const group = target(ctx, input);
    group.kmsKeyId = undefined;
    group.associatedAt = undefined;
    return {};
  },

  ListTagsForResource(ctx, input) {
    return { tags: groupByResourceArn(ctx, input).tagsCopy() };
  },

  ListTagsLogGroup(ctx, input) {
    return { tags: existing(ctx, validName(input.logGroupName)).tagsCopy() };
  },

  TagResource(ctx, input) {
    const group = groupByResourceArn(ctx, input);
    Object.assign(group.tags, tagMap(input.tags));
    return {};
  },

  UntagResource(ctx, input) {
    const group = groupByResourceArn(ctx, input);
    for (const k of Array.isArray(input.tagKeys) ? input.tagKeys : []) delete group.tags[String(k)];
    return {};
  },

  TagLogGroup(ctx, input) {
    const group = existing(ctx, validName(input.logGroupName));
    Object.assign(group.tags, tagMap(input.tags));
    return {};
  },

  UntagLogGroup(ctx, input) {
    const group = existing(ctx, validName(input.logGroupName));
    for (const k of Array.isArray(input.tags) ? input.tags : []) delete group.tags[String(k)];
    return {};
  },
};
