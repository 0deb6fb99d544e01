/**
 * The emulator's data: KMS keys and aliases, log groups, per region of one account.
 * Every change to a key's state or policy is kept as a version so that CloudWatch Logs can be given
 * the stale view of KMS it has in AWS (see `Store.logsView`).
 */
import { randomUUID } from 'node:crypto';
import { partitionOf } from './policy-eval.ts';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport';
export const KEY_STATES: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport'];

export interface KeyVersion {
  /** When this version came into effect (ms since epoch; -Infinity: "since long ago"). */
  at: number;
  state: KeyState;
  policy: string;
}

/** What a key's tags and aliases were from `at` on, for authorization (aws:ResourceTag, kms:ResourceAliases). */
export interface AttributeVersion {
  at: number;
  tags: Record<string, string>;
  aliases: string[];
}

export interface KeyRecord {
  keyId: string;
  arn: string;
  region: string;
  description: string;
  keySpec: string;
  keyUsage: string;
  state: KeyState;
  policy: string;
  tags: Record<string, string>;
  rotation: boolean;
  createdAt: number;
  deletionDate?: number;
  history: KeyVersion[];
  /** Tag and alias changes, so that authorization can see them late (see `Store.attributesForAuthorization`). */
  attributeHistory: AttributeVersion[];
}

export interface AliasRecord {
  name: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

export interface GroupRecord {
  name: string;
  /** The log group ARN without the trailing `:*` (what tags, policies and ListTagsForResource use). */
  arn: string;
  kmsKeyId?: string;
  tags: Record<string, string>;
  createdAt: number;
  associatedAt?: number;
  /** Log streams by name, with their creation time (the sweep's lease lives in its own group's streams). */
  streams?: Map<string, number>;
}

/** What `state.keys(region)` returns: the emulator's own (current, never stale) view of a key. */
export interface KeyInfo {
  keyId: string;
  arn: string;
  state: KeyState;
  keySpec: string;
  keyUsage: string;
  description: string;
  policy: string;
  tags: Record<string, string>;
  rotation: boolean;
  aliases: string[];
  createdAt: number;
  deletionDate?: number;
}

export interface LogGroupInfo {
  name: string;
  /** `arn:<partition>:logs:<region>:<account>:log-group:<name>` (no trailing `:*`). */
  arn: string;
  kmsKeyId?: string;
  tags: Record<string, string>;
  createdAt: number;
  associatedAt?: number;
}

export interface CreateKeyDirectInput {
  keySpec?: string;
  keyUsage?: string;
  description?: string;
  policy?: string;
  tags?: Record<string, string>;
  state?: KeyState;
  rotation?: boolean;
}

/** Read-only inspection and direct set-up for tests. Direct mutators bypass quotas, faults and events. */
export interface EmulatorState {
  /** Every key of the region, oldest first, as KMS itself sees it now. */
  keys(region: string): KeyInfo[];
  /** One key by key id, key ARN, alias name or alias ARN. */
  key(region: string, keyIdOrAlias: string): KeyInfo | undefined;
  /** The key as CloudWatch Logs sees it now (propagation delay applied); undefined if not visible yet. */
  logsViewOfKey(region: string, keyIdOrArn: string): { state: KeyState; policy: string } | undefined;
  logGroup(region: string, name: string): LogGroupInfo | undefined;
  /** Log groups of the region sorted by name. */
  logGroups(region: string): LogGroupInfo[];
  /** The key ARN the account's Insights query results are associated with in `region`, if any. */
  queryResultsKey(region: string): string | undefined;
  putLogGroup(
    region: string,
    name: string,
    init?: { kmsKeyId?: string; tags?: Record<string, string> },
  ): LogGroupInfo;
  /**
   * A key that has existed "for a long time": visible to CloudWatch Logs immediately.
   * The policy defaults to the KMS default policy (account root `kms:*`).
   */
  createKeyDirect(region: string, init?: CreateKeyDirectInput): KeyInfo;
  /** Sets the state as if long ago (CloudWatch Logs sees it at once). Use the KMS API to test propagation. */
  setKeyState(region: string, keyId: string, state: KeyState): KeyInfo;
  /** Sets the policy as if long ago (CloudWatch Logs sees it at once). Use the KMS API to test propagation. */
  setKeyPolicy(region: string, keyId: string, policy: string): KeyInfo;
}

export function defaultPolicy(account: string, partition: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:${partition}:iam::${account}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}

interface KmsRegion {
  keys: Map<string, KeyRecord>;
  aliases: Map<string, AliasRecord>;
}

export class Store {
  readonly account: string;
  /** Real-time ms by which CloudWatch Logs' view of KMS lags. */
  readonly propagationMs: number;
  private readonly kmsRegions = new Map<string, KmsRegion>();
  private readonly logsRegions = new Map<string, Map<string, GroupRecord>>();

  constructor(account: string, propagationMs: number) {
    this.account = account;
    this.propagationMs = propagationMs;
  }

  kms(region: string): KmsRegion {
    let r = this.kmsRegions.get(region);
    if (!r) {
      r = { keys: new Map(), aliases: new Map() };
      this.kmsRegions.set(region, r);
    }
    return r;
  }

  /** The key the account's CloudWatch Logs Insights query results are associated with, by region. */
  readonly queryResultKeys = new Map<string, string>();

  groups(region: string): Map<string, GroupRecord> {
    let r = this.logsRegions.get(region);
    if (!r) {
      r = new Map();
      this.logsRegions.set(region, r);
    }
    return r;
  }

  keyArn(region: string, keyId: string): string {
    return `arn:${partitionOf(region)}:kms:${region}:${this.account}:key/${keyId}`;
  }

  aliasArn(region: string, aliasName: string): string {
    return `arn:${partitionOf(region)}:kms:${region}:${this.account}:${aliasName}`;
  }

  groupArn(region: string, name: string): string {
    return `arn:${partitionOf(region)}:logs:${region}:${this.account}:log-group:${name}`;
  }

  /** Creates a key; `visibleSince` is when its first version takes effect for CloudWatch Logs. */
  addKey(
    region: string,
    init: Required<Omit<CreateKeyDirectInput, 'rotation'>> & { rotation?: boolean },
    now: number,
    visibleSince: number,
  ): KeyRecord {
    const keyId = randomUUID();
    const key: KeyRecord = {
      keyId,
      arn: this.keyArn(region, keyId),
      region,
      description: init.description,
      keySpec: init.keySpec,
      keyUsage: init.keyUsage,
      state: init.state,
      policy: init.policy,
      tags: { ...init.tags },
      rotation: init.rotation ?? false,
      createdAt: now,
      history: [{ at: visibleSince, state: init.state, policy: init.policy }],
      // A new key has had no tags for authorization until its creation has propagated like any tag change.
      attributeHistory: [
        { at: Number.NEGATIVE_INFINITY, tags: {}, aliases: [] },
        { at: visibleSince, tags: { ...init.tags }, aliases: [] },
      ],
    };
    this.kms(region).keys.set(keyId, key);
    return key;
  }

  /** Records a state or policy change; CloudWatch Logs sees it after the propagation delay. */
  changeKey(key: KeyRecord, change: { state?: KeyState; policy?: string }, now: number): void {
    key.state = change.state ?? key.state;
    key.policy = change.policy ?? key.policy;
    key.history.push({ at: now, state: key.state, policy: key.policy });
  }

  /** Rewrites history: the key has looked like this since long ago (direct test set-up). */
  resetKeyHistory(key: KeyRecord): void {
    key.history = [{ at: Number.NEGATIVE_INFINITY, state: key.state, policy: key.policy }];
    key.attributeHistory = [{ at: Number.NEGATIVE_INFINITY, ...this.currentAttributes(key) }];
  }

  /** Records the key's current tags and aliases after a change; authorization sees them after its lag. */
  noteAttributes(key: KeyRecord, now: number): void {
    key.attributeHistory.push({ at: now, ...this.currentAttributes(key) });
  }

  /** The key's tags and aliases as authorization sees them: the latest version at or before `now - lagMs`. */
  attributesForAuthorization(key: KeyRecord, now: number, lagMs: number): Omit<AttributeVersion, 'at'> {
    let seen: AttributeVersion | undefined;
    for (const v of key.attributeHistory) if (v.at <= now - lagMs) seen = v;
    return { tags: { ...seen?.tags }, aliases: [...(seen?.aliases ?? [])] };
  }

  private currentAttributes(key: KeyRecord): Omit<AttributeVersion, 'at'> {
    return { tags: { ...key.tags }, aliases: this.aliasesOf(key.region, key.keyId).sort() };
  }

  /** The latest version of the key at or before `now - propagation delay`, or undefined if none yet. */
  logsView(region: string, keyId: string, now: number): KeyVersion | undefined {
    const key = this.kms(region).keys.get(keyId);
    if (!key) return undefined;
    const horizon = now - this.propagationMs;
    let seen: KeyVersion | undefined;
    for (const v of key.history) if (v.at <= horizon) seen = v;
    return seen;
  }

  aliasesOf(region: string, keyId: string): string[] {
    return [...this.kms(region).aliases.values()].filter((a) => a.keyId === keyId).map((a) => a.name);
  }

  keyInfo(key: KeyRecord): KeyInfo {
    return {
      keyId: key.keyId,
      arn: key.arn,
      state: key.state,
      keySpec: key.keySpec,
      keyUsage: key.keyUsage,
      description: key.description,
      policy: key.policy,
      tags: { ...key.tags },
      rotation: key.rotation,
      aliases: this.aliasesOf(key.region, key.keyId).sort(),
      createdAt: key.createdAt,
      ...(key.deletionDate !== undefined ? { deletionDate: key.deletionDate } : {}),
    };
  }

  /** Finds a key by id, key ARN, alias name or alias ARN of this region and account (no errors). */
  findKey(region: string, id: string): KeyRecord | undefined {
    const kms = this.kms(region);
    const prefix = `arn:${partitionOf(region)}:kms:${region}:${this.account}:`;
    const local = id.startsWith(prefix) ? id.slice(prefix.length) : id.startsWith('arn:') ? undefined : id;
    if (local === undefined) return undefined;
    if (local.startsWith('key/')) return kms.keys.get(local.slice(4));
    if (local.startsWith('alias/')) {
      const alias = kms.aliases.get(local);
      return alias ? kms.keys.get(alias.keyId) : undefined;
    }
    return id === local ? kms.keys.get(local) : undefined;
  }
}

export function groupInfo(g: GroupRecord): LogGroupInfo {
  return {
    name: g.name,
    arn: g.arn,
    ...(g.kmsKeyId !== undefined ? { kmsKeyId: g.kmsKeyId } : {}),
    tags: { ...g.tags },
    createdAt: g.createdAt,
    ...(g.associatedAt !== undefined ? { associatedAt: g.associatedAt } : {}),
  };
}

/** The inspection and set-up API over a store. */
export function stateApi(store: Store, now: () => number): EmulatorState {
  const mustFind = (region: string, keyId: string): KeyRecord => {
    const key = store.findKey(region, keyId);
    if (!key) throw new Error(`emulator: no key ${keyId} in ${region}`);
    return key;
  };
  return {
    keys: (region) => [...store.kms(region).keys.values()].map((k) => store.keyInfo(k)),
    key: (region, id) => {
      const key = store.findKey(region, id);
      return key ? store.keyInfo(key) : undefined;
    },
    logsViewOfKey: (region, id) => {
      const key = store.findKey(region, id);
      const v = key ? store.logsView(region, key.keyId, now()) : undefined;
      return v ? { state: v.state, policy: v.policy } : undefined;
    },
    logGroup: (region, name) => {
      const g = store.groups(region).get(name);
      return g ? groupInfo(g) : undefined;
    },
    queryResultsKey: (region) => store.queryResultKeys.get(region),
    logGroups: (region) =>
      [...store.groups(region).values()].sort((a, b) => compare(a.name, b.name)).map(groupInfo),
    putLogGroup: (region, name, init = {}) => {
      const at = now();
      const g: GroupRecord = {
        name,
        arn: store.groupArn(region, name),
        tags: { ...init.tags },
        createdAt: at,
        ...(init.kmsKeyId !== undefined ? { kmsKeyId: init.kmsKeyId, associatedAt: at } : {}),
      };
      store.groups(region).set(name, g);
      return groupInfo(g);
    },
    createKeyDirect: (region, init = {}) => {
      const keySpec = init.keySpec ?? 'SYMMETRIC_DEFAULT';
      const key = store.addKey(
        region,
        {
          keySpec,
          keyUsage: init.keyUsage ?? (keySpec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY'),
          description: init.description ?? '',
          policy: init.policy ?? defaultPolicy(store.account, partitionOf(region)),
          tags: init.tags ?? {},
          state: init.state ?? 'Enabled',
          ...(init.rotation !== undefined ? { rotation: init.rotation } : {}),
        },
        now(),
        Number.NEGATIVE_INFINITY,
      );
      return store.keyInfo(key);
    },
    setKeyState: (region, keyId, state) => {
      const key = mustFind(region, keyId);
      key.state = state;
      if (state === 'PendingDeletion' && key.deletionDate === undefined)
        key.deletionDate = now() + 30 * 86_400_000;
      if (state !== 'PendingDeletion') delete key.deletionDate;
      store.resetKeyHistory(key);
      return store.keyInfo(key);
    },
    setKeyPolicy: (region, keyId, policy) => {
      const key = mustFind(region, keyId);
      key.policy = policy;
      store.resetKeyHistory(key);
      return store.keyInfo(key);
    },
  };
}

/** Code-point order (what AWS list APIs use for names), independent of locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
