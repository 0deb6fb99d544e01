/** KMS (`TrentService.*`): the key-management subset the guard uses, with KMS's key states and errors. */
import { randomBytes } from 'node:crypto';
import { fail } from './errors.ts';
import { parsePolicy, partitionOf, policyKeepsRootAccess } from './policy-eval.ts';
import { type AliasRecord, compare, defaultPolicy, type KeyRecord, type Store } from './state.ts';

export interface Ctx {
  store: Store;
  region: string;
  now: number;
  /** Set when IAM authorization has already run the lockout safety check for the calling principal. */
  lockoutChecked?: boolean;
}
export type Input = Record<string, unknown>;
type Handler = (ctx: Ctx, input: Input) => unknown;

/** The key specs CreateKey accepts, with the key usages each allows. */
export const KEY_SPECS: Record<string, string[]> = {
  SYMMETRIC_DEFAULT: ['ENCRYPT_DECRYPT'],
  RSA_2048: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  RSA_3072: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  RSA_4096: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  ECC_NIST_P256: ['SIGN_VERIFY', 'KEY_AGREEMENT'],
  ECC_NIST_P384: ['SIGN_VERIFY', 'KEY_AGREEMENT'],
  ECC_NIST_P521: ['SIGN_VERIFY', 'KEY_AGREEMENT'],
  ECC_SECG_P256K1: ['SIGN_VERIFY'],
  HMAC_224: ['GENERATE_VERIFY_MAC'],
  HMAC_256: ['GENERATE_VERIFY_MAC'],
  HMAC_384: ['GENERATE_VERIFY_MAC'],
  HMAC_512: ['GENERATE_VERIFY_MAC'],
};

const str = (input: Input, field: string): string | undefined =>
  typeof input[field] === 'string' ? (input[field] as string) : undefined;

const required = (input: Input, field: string): string =>
  str(input, field) ??
  fail(
    'ValidationException',
    `1 validation error detected: Value null at '${field[0]?.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`,
  );

const seconds = (ms: number) => ms / 1000;

const DAY_MS = 86_400_000;

/**
 * kms:TrailingDaysWithoutKeyUsage of a key at `now`: whole days since its last successful cryptographic
 * operation, or, never used, since its creation (tracking starts at creation here). Service Authorization
 * Reference, AWS KMS ("the number of days since the AWS KMS key was last used", Numeric, ScheduleKeyDeletion
 * and DisableKey only); KMS API reference, GetKeyLastUsage. Whole days rounded down is an assumption: AWS does
 * not say how partial days count.
 */
export function trailingDaysWithoutUse(key: KeyRecord, now: number): number {
  const since = key.lastUsage?.at ?? key.createdAt;
  return Math.max(0, Math.floor((now - since) / DAY_MS));
}

/** Records a successful cryptographic operation with the key (what GetKeyLastUsage reports). */
export function noteKeyUse(key: KeyRecord, operation: string, now: number): void {
  key.lastUsage = { at: now, operation };
}

/** Resolves a KeyId parameter. Aliases are accepted only where KMS accepts them (DescribeKey, ListAliases). */
function resolveKey(ctx: Ctx, id: string, allowAlias: boolean): KeyRecord {
  const { store, region } = ctx;
  const isAlias = id.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(id);
  if (isAlias) {
    const aliasArn = id.startsWith('arn:') ? id : store.aliasArn(region, id);
    if (!allowAlias) fail('NotFoundException', `Invalid keyId '${id}'`);
    return store.findKey(region, id) ?? fail('NotFoundException', `Alias ${aliasArn} is not found.`);
  }
  const keyArnMatch = /^arn:[^:]+:kms:[^:]*:[^:]*:key\/(.+)$/.exec(id);
  if (!keyArnMatch && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    fail('NotFoundException', `Invalid keyId '${id}'`);
  }
  const arn = keyArnMatch ? id : store.keyArn(region, id);
  const key = store.findKey(region, arn) ?? fail('NotFoundException', `Key '${arn}' does not exist`);
  // KMS is eventually consistent ("The KMS API follows an eventual consistency model", AWS KMS Developer Guide):
  // a key created moments ago may not be found by the next call (boto/botocore#2107). Off unless
  // `kmsNewKeyHiddenMs` is set (EmulatorOptions).
  if (key.hiddenUntil !== undefined && ctx.now < key.hiddenUntil) {
    fail('NotFoundException', `Key '${arn}' does not exist`);
  }
  return key;
}

/** KMS quotas (AWS KMS Developer Guide, "Resource quotas"): "Key policy document size: 32 KB (32,768 bytes)". */
export const KEY_POLICY_MAX_BYTES = 32_768;
/** KMS quotas: "Aliases per KMS key: 50". */
export const ALIASES_PER_KEY = 50;

/** LimitExceededException for a policy document over the 32 KB quota. */
function checkPolicySize(text: string): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > KEY_POLICY_MAX_BYTES) {
    fail(
      'LimitExceededException',
      `The key policy document is ${bytes} bytes, over the limit of ${KEY_POLICY_MAX_BYTES} bytes.`,
    );
  }
}

/** LimitExceededException when the key already has the 50 aliases a key may have. */
function checkAliasRoom(ctx: Ctx, key: KeyRecord): void {
  if (ctx.store.aliasesOf(ctx.region, key.keyId).length >= ALIASES_PER_KEY) {
    fail(
      'LimitExceededException',
      `${key.arn} already has ${ALIASES_PER_KEY} aliases, the most a key may have.`,
    );
  }
}

/** Raises KMSInvalidStateException when the key is in one of the given states. */
function rejectStates(key: KeyRecord, states: string[]) {
  if (!states.includes(key.state)) return;
  const what =
    key.state === 'PendingDeletion'
      ? 'is pending deletion'
      : key.state === 'PendingImport'
        ? 'is pending import'
        : `is ${key.state.toLowerCase()}`;
  fail('KMSInvalidStateException', `${key.arn} ${what}.`);
}

function keyMetadata(ctx: Ctx, key: KeyRecord) {
  const algorithms =
    key.keyUsage === 'ENCRYPT_DECRYPT'
      ? {
          EncryptionAlgorithms:
            key.keySpec === 'SYMMETRIC_DEFAULT'
              ? ['SYMMETRIC_DEFAULT']
              : ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'],
        }
      : key.keyUsage === 'SIGN_VERIFY'
        ? {
            SigningAlgorithms: key.keySpec.startsWith('RSA')
              ? ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256']
              : ['ECDSA_SHA_256'],
          }
        : key.keyUsage === 'GENERATE_VERIFY_MAC'
          ? { MacAlgorithms: [`HMAC_SHA_${key.keySpec.slice(5)}`] }
          : {};
  return {
    AWSAccountId: ctx.store.account,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: seconds(key.createdAt),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    ...(key.deletionDate !== undefined ? { DeletionDate: seconds(key.deletionDate) } : {}),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    ...algorithms,
    MultiRegion: false,
  };
}

/** MalformedPolicyDocumentException and the lockout safety check, shared by CreateKey and PutKeyPolicy. */
function checkNewPolicy(ctx: Ctx, text: string, bypass: unknown): string {
  checkPolicySize(text);
  const parsed = parsePolicy(text);
  if ('error' in parsed) fail('MalformedPolicyDocumentException', parsed.error);
  else if (
    bypass !== true &&
    !ctx.lockoutChecked &&
    !policyKeepsRootAccess(parsed.policy, ctx.store.account, partitionOf(ctx.region))
  ) {
    fail(
      'MalformedPolicyDocumentException',
      'The new key policy will not allow you to update the key policy in the future.',
    );
  }
  return text;
}

function tagsFromList(value: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  if (value === undefined) return tags;
  if (!Array.isArray(value)) fail('TagException', 'Tags must be a list of {TagKey, TagValue}.');
  for (const t of value as { TagKey?: unknown; TagValue?: unknown }[]) {
    const key = t?.TagKey;
    const tagValue = t?.TagValue;
    if (typeof key !== 'string' || typeof tagValue !== 'string' || key.length === 0) {
      return fail('TagException', 'Each tag needs a TagKey and a TagValue.');
    }
    if (key.startsWith('aws:')) fail('TagException', 'Tags beginning with aws: are reserved');
    tags[key] = tagValue;
  }
  return tags;
}

function validAliasName(ctx: Ctx, name: string) {
  if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.length > 256) {
    fail(
      'ValidationException',
      `Alias must start with the prefix "alias/" and contain only [a-zA-Z0-9/_-]: ${name}`,
    );
  }
  if (name.startsWith('alias/aws/')) {
    fail(
      'NotAuthorizedException',
      `Cannot create alias with prefix 'alias/aws/': ${ctx.store.aliasArn(ctx.region, name)}`,
    );
  }
}

/** Limit/Marker pagination over an array (Marker is the opaque offset). */
function page<T>(items: T[], input: Input, defaultLimit: number, maxLimit: number) {
  const limit = input.Limit === undefined ? defaultLimit : Number(input.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    fail('ValidationException', `Limit must be between 1 and ${maxLimit}`);
  }
  let start = 0;
  if (input.Marker !== undefined) {
    start = Number(Buffer.from(String(input.Marker), 'base64url').toString());
    if (!Number.isInteger(start) || start < 0) fail('InvalidMarkerException', 'Invalid marker');
  }
  const slice = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  return {
    slice,
    more: truncated
      ? { NextMarker: Buffer.from(String(start + limit)).toString('base64url'), Truncated: true }
      : { Truncated: false },
  };
}

/** The emulated KMS operations, by name. */
export const kmsHandlers: Record<string, Handler> = {
  CreateKey(ctx, input) {
    const keySpec = str(input, 'KeySpec') ?? str(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
    const usages = KEY_SPECS[keySpec] ?? fail('ValidationException', `KeySpec ${keySpec} is not supported.`);
    const keyUsage = str(input, 'KeyUsage') ?? (usages[0] as string);
    if (!usages.includes(keyUsage)) {
      fail('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
    }
    const origin = str(input, 'Origin') ?? 'AWS_KMS';
    if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL')
      fail('UnsupportedOperationException', `Origin ${origin} is not supported.`);
    const policy =
      input.Policy === undefined
        ? defaultPolicy(ctx.store.account, partitionOf(ctx.region))
        : checkNewPolicy(ctx, String(input.Policy), input.BypassPolicyLockoutSafetyCheck);
    const key = ctx.store.addKey(
      ctx.region,
      {
        keySpec,
        keyUsage,
        description: str(input, 'Description') ?? '',
        policy,
        tags: tagsFromList(input.Tags),
        state: origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
      },
      ctx.now,
      ctx.now,
    );
    if (ctx.store.newKeyHiddenMs > 0) key.hiddenUntil = ctx.now + ctx.store.newKeyHiddenMs;
    return { KeyMetadata: keyMetadata(ctx, key) };
  },

  DescribeKey(ctx, input) {
    return { KeyMetadata: keyMetadata(ctx, resolveKey(ctx, required(input, 'KeyId'), true)) };
  },

  CreateAlias(ctx, input) {
    const name = required(input, 'AliasName');
    validAliasName(ctx, name);
    const key = resolveKey(ctx, required(input, 'TargetKeyId'), false);
    const aliases = ctx.store.kms(ctx.region).aliases;
    if (aliases.has(name)) {
      fail(
        'AlreadyExistsException',
        `An alias with the name ${ctx.store.aliasArn(ctx.region, name)} already exists`,
      );
    }
    rejectStates(key, ['PendingDeletion']);
    checkAliasRoom(ctx, key);
    aliases.set(name, { name, keyId: key.keyId, createdAt: ctx.now, updatedAt: ctx.now });
    ctx.store.noteAttributes(key, ctx.now);
    return {};
  },

  UpdateAlias(ctx, input) {
    const name = required(input, 'AliasName');
    const alias =
      ctx.store.kms(ctx.region).aliases.get(name) ??
      fail('NotFoundException', `Alias ${ctx.store.aliasArn(ctx.region, name)} is not found.`);
    const key = resolveKey(ctx, required(input, 'TargetKeyId'), false);
    rejectStates(key, ['PendingDeletion']);
    if (key.keyId !== alias.keyId) checkAliasRoom(ctx, key);
    const previous = ctx.store.kms(ctx.region).keys.get(alias.keyId);
    alias.keyId = key.keyId;
    alias.updatedAt = ctx.now;
    if (previous) ctx.store.noteAttributes(previous, ctx.now);
    ctx.store.noteAttributes(key, ctx.now);
    return {};
  },

  DeleteAlias(ctx, input) {
    const name = required(input, 'AliasName');
    const aliases = ctx.store.kms(ctx.region).aliases;
    const keyId = aliases.get(name)?.keyId;
    if (!aliases.delete(name))
      fail('NotFoundException', `Alias ${ctx.store.aliasArn(ctx.region, name)} is not found.`);
    const key = keyId === undefined ? undefined : ctx.store.kms(ctx.region).keys.get(keyId);
    if (key) ctx.store.noteAttributes(key, ctx.now);
    return {};
  },

  ListAliases(ctx, input) {
    const keyFilter = str(input, 'KeyId');
    const keyId = keyFilter === undefined ? undefined : resolveKey(ctx, keyFilter, false).keyId;
    const all: AliasRecord[] = [...ctx.store.kms(ctx.region).aliases.values()]
      .filter((a) => keyId === undefined || a.keyId === keyId)
      .sort((a, b) => compare(a.name, b.name));
    const { slice, more } = page(all, input, 50, 100);
    return {
      Aliases: slice.map((a) => ({
        AliasName: a.name,
        AliasArn: ctx.store.aliasArn(ctx.region, a.name),
        TargetKeyId: a.keyId,
        CreationDate: seconds(a.createdAt),
        LastUpdatedDate: seconds(a.updatedAt),
      })),
      ...more,
    };
  },

  GetKeyPolicy(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    const name = str(input, 'PolicyName') ?? 'default';
    if (name !== 'default') fail('NotFoundException', `No such policy exists: ${name}`);
    return { Policy: key.policy, PolicyName: 'default' };
  },

  PutKeyPolicy(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    const name = str(input, 'PolicyName') ?? 'default';
    if (name !== 'default') fail('NotFoundException', `No such policy exists: ${name}`);
    const policy = checkNewPolicy(ctx, required(input, 'Policy'), input.BypassPolicyLockoutSafetyCheck);
    ctx.store.changeKey(key, { policy }, ctx.now);
    return {};
  },

  EnableKeyRotation(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    rotatable(key);
    key.rotation = true;
    return {};
  },

  DisableKeyRotation(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    rotatable(key);
    key.rotation = false;
    return {};
  },

  GetKeyRotationStatus(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    // KMS API reference, GetKeyRotationStatus: "Pending deletion: While a KMS key is pending deletion, its key
    // rotation status is false and AWS KMS does not rotate the key. If you cancel the deletion, the original
    // key rotation status returns to true." (Disabled: the status does not change.) Not an error.
    const on = key.rotation && key.state !== 'PendingDeletion';
    return {
      KeyRotationEnabled: on,
      KeyId: key.arn,
      ...(on ? { RotationPeriodInDays: 365 } : {}),
    };
  },

  TagResource(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    rejectStates(key, ['PendingDeletion']);
    Object.assign(key.tags, tagsFromList(input.Tags));
    ctx.store.noteAttributes(key, ctx.now);
    return {};
  },

  UntagResource(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    rejectStates(key, ['PendingDeletion']);
    const keys = Array.isArray(input.TagKeys) ? input.TagKeys : [];
    for (const k of keys) delete key.tags[String(k)];
    ctx.store.noteAttributes(key, ctx.now);
    return {};
  },

  ListResourceTags(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    const tags = Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    const { slice, more } = page(tags, input, 50, 50);
    return { Tags: slice, ...more };
  },

  DisableKey(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    rejectStates(key, ['PendingDeletion', 'PendingImport']);
    if (key.state !== 'Disabled') ctx.store.changeKey(key, { state: 'Disabled' }, ctx.now);
    return {};
  },

  EnableKey(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    rejectStates(key, ['PendingDeletion', 'PendingImport']);
    if (key.state !== 'Enabled') ctx.store.changeKey(key, { state: 'Enabled' }, ctx.now);
    return {};
  },

  ScheduleKeyDeletion(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    const days = input.PendingWindowInDays === undefined ? 30 : Number(input.PendingWindowInDays);
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      fail(
        'ValidationException',
        `1 validation error detected: Value '${String(input.PendingWindowInDays)}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30`,
      );
    }
    rejectStates(key, ['PendingDeletion']);
    key.deletionDate = ctx.now + days * 86_400_000;
    ctx.store.changeKey(key, { state: 'PendingDeletion' }, ctx.now);
    return {
      KeyId: key.arn,
      DeletionDate: seconds(key.deletionDate),
      KeyState: 'PendingDeletion',
      PendingWindowInDays: days,
    };
  },

  CancelKeyDeletion(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    if (key.state !== 'PendingDeletion')
      fail('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
    delete key.deletionDate;
    ctx.store.changeKey(key, { state: 'Disabled' }, ctx.now);
    return { KeyId: key.arn };
  },

  // The cryptographic operations and CreateGrant exist so that authorization can be tried; there is no
  // cryptography: a "ciphertext" is an opaque, unencrypted record of key, plaintext and encryption context.

  Encrypt(ctx, input) {
    const key = usableForCrypto(resolveKey(ctx, required(input, 'KeyId'), true));
    const plaintext = required(input, 'Plaintext');
    const blob = sealed({ keyArn: key.arn, plaintext, context: encryptionContext(input) });
    noteKeyUse(key, 'Encrypt', ctx.now);
    return { CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },

  Decrypt(ctx, input) {
    const opened = openSealed(required(input, 'CiphertextBlob'));
    const requested = str(input, 'KeyId');
    const key = usableForCrypto(resolveKey(ctx, requested ?? opened.keyArn, true));
    if (key.arn !== opened.keyArn) {
      fail(
        'IncorrectKeyException',
        'The key ID in the request does not identify a KMS key that can perform this operation.',
      );
    }
    if (!sameContext(opened.context, encryptionContext(input))) {
      fail('InvalidCiphertextException', '');
    }
    noteKeyUse(key, 'Decrypt', ctx.now);
    return { KeyId: key.arn, Plaintext: opened.plaintext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },

  GenerateDataKey(ctx, input) {
    const key = usableForCrypto(resolveKey(ctx, required(input, 'KeyId'), true));
    const bytes =
      input.NumberOfBytes !== undefined ? Number(input.NumberOfBytes) : input.KeySpec === 'AES_128' ? 16 : 32;
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
      fail('ValidationException', 'NumberOfBytes must be between 1 and 1024.');
    }
    const plaintext = randomBytes(bytes).toString('base64');
    const blob = sealed({ keyArn: key.arn, plaintext, context: encryptionContext(input) });
    noteKeyUse(key, 'GenerateDataKey', ctx.now);
    return { CiphertextBlob: blob, Plaintext: plaintext, KeyId: key.arn };
  },

  /**
   * KMS API reference, GetKeyLastUsage: KeyLastUsage (operation, timestamp, CloudTrail event id, request id)
   * when the key was used since TrackingStartDate, absent otherwise; KeyCreationDate. Tracking starts at the
   * key's creation here (for a key older than the feature, AWS starts it at the launch: the API reference says so).
   */
  GetKeyLastUsage(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    const used = key.lastUsage;
    return {
      KeyId: key.arn,
      ...(used
        ? {
            KeyLastUsage: {
              Operation: used.operation,
              Timestamp: seconds(used.at),
              CloudTrailEventId: `emulator-${key.keyId.slice(0, 8)}-${used.at}`,
              KmsRequestId: `emulator-${used.at}`,
            },
          }
        : {}),
      TrackingStartDate: seconds(key.createdAt),
      KeyCreationDate: seconds(key.createdAt),
    };
  },

  CreateGrant(ctx, input) {
    const key = resolveKey(ctx, required(input, 'KeyId'), false);
    rejectStates(key, ['PendingDeletion']);
    required(input, 'GranteePrincipal');
    if (!Array.isArray(input.Operations) || input.Operations.length === 0) {
      fail('ValidationException', 'Operations must name at least one grant operation.');
    }
    // Grants are not modelled: the grant is acknowledged, never stored or honoured.
    return { GrantId: randomBytes(32).toString('hex'), GrantToken: randomBytes(48).toString('base64url') };
  },
};

interface Sealed {
  keyArn: string;
  plaintext: string;
  context: Record<string, string>;
}

const SEALED_PREFIX = 'emulator-ciphertext:';

/** The opaque "ciphertext" (base64, as the JSON protocol carries blobs). */
function sealed(record: Sealed): string {
  return Buffer.from(SEALED_PREFIX + JSON.stringify(record)).toString('base64');
}

/** Reads a sealed record back; anything else is InvalidCiphertextException, as KMS answers for foreign data. */
function openSealed(blob: string): Sealed {
  const text = Buffer.from(blob, 'base64').toString('utf8');
  if (!text.startsWith(SEALED_PREFIX)) return fail('InvalidCiphertextException', '');
  try {
    return JSON.parse(text.slice(SEALED_PREFIX.length)) as Sealed;
  } catch {
    return fail('InvalidCiphertextException', '');
  }
}

/** The key ARN a ciphertext blob names, for authorizing Decrypt without KeyId; undefined if it is not ours. */
export function keyArnOfCiphertext(blob: unknown): string | undefined {
  if (typeof blob !== 'string') return undefined;
  try {
    return openSealed(blob).keyArn;
  } catch {
    return undefined;
  }
}

/** The EncryptionContext parameter as a string map (empty when absent). */
export function encryptionContext(input: Input): Record<string, string> {
  const value = input.EncryptionContext;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** Decrypt needs exactly the encryption context Encrypt was given (order of pairs does not matter). */
function sameContext(a: Record<string, string>, b: Record<string, string>): boolean {
  const canonical = (c: Record<string, string>) =>
    JSON.stringify(Object.entries(c).sort(([x], [y]) => compare(x, y)));
  return canonical(a) === canonical(b);
}

/** Cryptographic operations need an enabled symmetric encryption key (KMS API reference, Encrypt: errors). */
function usableForCrypto(key: KeyRecord): KeyRecord {
  if (key.state === 'Disabled') fail('DisabledException', `${key.arn} is disabled.`);
  rejectStates(key, ['PendingDeletion', 'PendingImport']);
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') {
    fail(
      'InvalidKeyUsageException',
      `${key.arn} key usage is ${key.keyUsage} which is not valid for this operation.`,
    );
  }
  return key;
}

/** Rotation applies to enabled symmetric encryption keys only. */
function rotatable(key: KeyRecord) {
  if (key.state === 'Disabled') fail('DisabledException', `${key.arn} is disabled.`);
  rejectStates(key, ['PendingDeletion', 'PendingImport']);
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
    fail('UnsupportedOperationException', `${key.arn} key does not support automatic rotation.`);
  }
}
