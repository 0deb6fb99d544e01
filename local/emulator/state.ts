/**
 * The emulator's data: KMS keys and aliases, log groups, per region of one account.
 * Every change to a key's state or policy is kept as a version so that CloudWatch Logs can be given
 * the stale view of KMS it has in AWS (see `Store.logsView`).
 */
import { randomUUID } from 'node:crypto';
import { partitionOf } from './policy-eval.ts';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport';

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
  /** Set by CreateKey when `kmsNewKeyHiddenMs` is on: until then other KMS calls answer NotFound for it. */
  hiddenUntil?: number;
  history: KeyVersion[];
  /** Tag and alias changes, so that authorization can see them late (see `Store.attributesForAuthorization`). */
  attributeHistory: AttributeVersion[];
  /**
   * The last successful cryptographic operation with the key (KMS API reference, GetKeyLastUsage): set by the
   * emulator's Encrypt/Decrypt/GenerateDataKey and by the KMS calls CloudWatch Logs makes when it associates the
   * key; tests move it with `setKeyLastUsage`. Absent: never used since tracking began (its creation here).
   */
  lastUsage?: { at: number; operation: string };
}

export interface AliasRecord {
  name: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * The log group classes (the SDK's LogGroupClass enum, @aws-sdk/client-cloudwatch-logs): fixed at creation
 * ("The value of logGroupClass can't be changed after a log group is created", CreateLogGroup API reference).
 */
export const LOG_GROUP_CLASSES = ['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY', 'ESSENTIALS'] as const;
export type LogGroupClass = (typeof LOG_GROUP_CLASSES)[number];

/** What a log group starts with besides its name (CreateLogGroup's parameters, or direct set-up). */
export interface GroupInit {
  kmsKeyId?: string | undefined;
  tags?: Record<string, string> | undefined;
  /** Default STANDARD. */
  logGroupClass?: LogGroupClass | undefined;
  /** PutLogGroupDeletionProtection (2025-11); default off. */
  deletionProtection?: boolean | undefined;
  /** PutRetentionPolicy's days; undefined: kept forever. */
  retentionInDays?: number | undefined;
}

/**
 * One log group. A class rather than a literal so that a million of them stay small (about 100 bytes each
 * besides the name): the ARN is derived from the region's shared prefix, tags and streams are allocated on
 * first use.
 */
export class GroupRecord {
  readonly name: string;
  readonly createdAt: number;
  kmsKeyId: string | undefined;
  associatedAt: number | undefined;
  readonly logGroupClass: LogGroupClass;
  /** Deletion protection: DeleteLogGroup is refused while it is on. */
  deletionProtection: boolean;
  /** PutRetentionPolicy's days; undefined: kept forever (CloudWatch Logs' default). */
  retentionInDays: number | undefined = undefined;
  /** Log streams by name, with their creation time (the sweep's lease lives in its own group's streams). */
  streams: Map<string, number> | undefined;
  private tagMap: Record<string, string> | undefined;
  /** `arn:<partition>:logs:<region>:<account>:log-group:`, one string per region. */
  private readonly arnPrefix: string;

  constructor(arnPrefix: string, name: string, createdAt: number, init: GroupInit = {}) {
    this.arnPrefix = arnPrefix;
    this.name = name;
    this.logGroupClass = init.logGroupClass ?? 'STANDARD';
    this.deletionProtection = init.deletionProtection ?? false;
    this.createdAt = createdAt;
    this.kmsKeyId = init.kmsKeyId;
    this.associatedAt = init.kmsKeyId !== undefined ? createdAt : undefined;
    this.streams = undefined;
    this.retentionInDays = init.retentionInDays;
    this.tagMap = init.tags && Object.keys(init.tags).length > 0 ? { ...init.tags } : undefined;
  }

  /** The log group ARN without the trailing `:*` (what tags, policies and ListTagsForResource use). */
  get arn(): string {
    return this.arnPrefix + this.name;
  }

  /** The group's tags, to change in place (allocated here on first use). */
  get tags(): Record<string, string> {
    this.tagMap ??= {};
    return this.tagMap;
  }

  /** A copy of the group's tags (allocates nothing on the group). */
  tagsCopy(): Record<string, string> {
    return { ...this.tagMap };
  }
}

/** Index of the first element of `sorted` not below `name` (code-unit order, as `compare`). */
function lowerBound(sorted: readonly string[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of `sorted` above `name`. */
function upperBound(sorted: readonly string[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Changes applied one by one (binary search and splice); more are merged in one pass. */
const SPLICE_AT_MOST = 16;

/**
 * The log groups of one region by name, with a sorted name index for DescribeLogGroups, so that a page costs
 * O(log n + limit) instead of sorting every group. The index is brought up to date lazily, at the first
 * listing after groups were added or removed: a few changes by binary search and splice, more by one merge
 * (O(n + k log k)), and when more than a quarter of the groups changed (bulk set-up) by one sort of every name.
 * Order: UTF-16 code units, what `compare` and Array.prototype.sort without a comparator both use.
 */
export class GroupTable extends Map<string, GroupRecord> {
  readonly arnPrefix: string;
  /** Every name in the index, sorted; with `added` and `removed`, the map's keys. */
  private sorted: string[] = [];
  /** Names in the map, not yet in `sorted`. */
  private readonly added = new Set<string>();
  /** Names in `sorted`, no longer in the map. */
  private readonly removed = new Set<string>();
  /** Too many changes to track one by one: `sorted` is rebuilt from the map's keys. */
  private stale = false;

  constructor(arnPrefix: string) {
    super();
    this.arnPrefix = arnPrefix;
  }

  override set(name: string, group: GroupRecord): this {
    if (!this.has(name) && !this.stale) {
      if (this.removed.has(name)) this.removed.delete(name);
      else this.added.add(name);
      this.noteChange();
    }
    return super.set(name, group);
  }

  override delete(name: string): boolean {
    if (!super.delete(name)) return false;
    if (!this.stale) {
      if (this.added.has(name)) this.added.delete(name);
      else this.removed.add(name);
      this.noteChange();
    }
    return true;
  }

  override clear(): void {
    super.clear();
    this.sorted = [];
    this.added.clear();
    this.removed.clear();
    this.stale = false;
  }

  private noteChange(): void {
    if (this.added.size + this.removed.size > Math.max(1024, this.sorted.length / 4)) {
      this.stale = true;
      this.added.clear();
      this.removed.clear();
    }
  }

  /** Every name, sorted (the index itself: do not change it). */
  names(): readonly string[] {
    if (this.stale) {
      this.sorted = [...this.keys()].sort();
      this.stale = false;
    }
    if (this.removed.size > 0) {
      if (this.removed.size <= SPLICE_AT_MOST) {
        for (const name of this.removed) this.sorted.splice(lowerBound(this.sorted, name), 1);
      } else {
        const removed = this.removed;
        this.sorted = this.sorted.filter((n) => !removed.has(n));
      }
      this.removed.clear();
    }
    if (this.added.size > 0) {
      if (this.added.size <= SPLICE_AT_MOST) {
        for (const name of this.added) this.sorted.splice(lowerBound(this.sorted, name), 0, name);
      } else {
        const add = [...this.added].sort();
        const old = this.sorted;
        const merged: string[] = new Array(old.length + add.length);
        let i = 0;
        let j = 0;
        let k = 0;
        while (i < old.length && j < add.length) {
          merged[k++] = (old[i] as string) < (add[j] as string) ? (old[i++] as string) : (add[j++] as string);
        }
        while (i < old.length) merged[k++] = old[i++] as string;
        while (j < add.length) merged[k++] = add[j++] as string;
        this.sorted = merged;
      }
      this.added.clear();
    }
    return this.sorted;
  }

  /**
   * One page of groups in name order: names starting with `prefix`, above `after`, whose lower-cased name
   * contains `needle`; at most `limit`, and whether another group matches after them. Without `needle`,
   * O(log n + limit); with it, a scan that stops at the first match past the page.
   */
  page(options: { prefix?: string; after?: string; needle?: string; limit: number }): {
    groups: GroupRecord[];
    more: boolean;
  } {
    const { prefix, after, needle, limit } = options;
    const names = this.names();
    let i = prefix ? lowerBound(names, prefix) : 0;
    if (after !== undefined) i = Math.max(i, upperBound(names, after));
    const groups: GroupRecord[] = [];
    for (; i < names.length; i++) {
      const name = names[i] as string;
      // The names with a prefix are one run of the sorted index: the first one without it ends the listing.
      if (prefix && !name.startsWith(prefix)) break;
      if (needle !== undefined && !name.toLowerCase().includes(needle)) continue;
      if (groups.length === limit) return { groups, more: true };
      groups.push(this.get(name) as GroupRecord);
    }
    return { groups, more: false };
  }
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
  logGroupClass: LogGroupClass;
  deletionProtectionEnabled: boolean;
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
  putLogGroup(region: string, name: string, init?: GroupInit): LogGroupInfo;
  /**
   * Many log groups at once, as `putLogGroup` each (same creation time), without answering a `LogGroupInfo`
   * for each: set-up of a region of a million groups (about 1 s). `init` gives each one's key and tags by name
   * and position. Returns how many were put.
   */
  putLogGroups(
    region: string,
    names: Iterable<string>,
    init?: (name: string, index: number) => { kmsKeyId?: string; tags?: Record<string, string> } | undefined,
  ): number;
  /**
   * A key that has existed "for a long time": visible to CloudWatch Logs immediately.
   * The policy defaults to the KMS default policy (account root `kms:*`).
   */
  createKeyDirect(region: string, init?: CreateKeyDirectInput): KeyInfo;
  /** Sets the state as if long ago (CloudWatch Logs sees it at once). Use the KMS API to test propagation. */
  setKeyState(region: string, keyId: string, state: KeyState): KeyInfo;
  /** Sets the policy as if long ago (CloudWatch Logs sees it at once). Use the KMS API to test propagation. */
  setKeyPolicy(region: string, keyId: string, policy: string): KeyInfo;
  /**
   * The key's clock of use, for tests: its last cryptographic use at `at` (epoch ms; undefined = never used),
   * and, with `createdAt`, its creation (which also starts usage tracking). Moves kms:TrailingDaysWithoutKeyUsage.
   */
  setKeyLastUsage(
    region: string,
    keyId: string,
    at: number | undefined,
    options?: { operation?: string; createdAt?: number },
  ): KeyInfo;
}

/** The default key policy KMS gives a key created without one: the account root may do everything. */
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

/** The emulator's data, per region, with each key's versions (Logs' stale view) and each region's sorted groups. */
export class Store {
  readonly account: string;
  /** Real-time ms by which CloudWatch Logs' view of KMS lags. */
  readonly propagationMs: number;
  /** Ms (scaled) after CreateKey during which other KMS calls answer NotFound for the new key (0: off). */
  newKeyHiddenMs = 0;
  private readonly kmsRegions = new Map<string, KmsRegion>();
  private readonly logsRegions = new Map<string, GroupTable>();

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

  groups(region: string): GroupTable {
    let r = this.logsRegions.get(region);
    if (!r) {
      r = new GroupTable(`arn:${partitionOf(region)}:logs:${region}:${this.account}:log-group:`);
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

function groupInfo(g: GroupRecord): LogGroupInfo {
  return {
    name: g.name,
    arn: g.arn,
    ...(g.kmsKeyId !== undefined ? { kmsKeyId: g.kmsKeyId } : {}),
    tags: g.tagsCopy(),
    createdAt: g.createdAt,
    ...(g.associatedAt !== undefined ? { associatedAt: g.associatedAt } : {}),
    logGroupClass: g.logGroupClass,
    deletionProtectionEnabled: g.deletionProtection,
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
    logGroups: (region) => {
      const table = store.groups(region);
      return table.names().map((name) => groupInfo(table.get(name) as GroupRecord));
    },
    putLogGroup: (region, name, init = {}) => {
      const table = store.groups(region);
      const g = new GroupRecord(table.arnPrefix, name, now(), init);
      table.set(name, g);
      return groupInfo(g);
    },
    putLogGroups: (region, names, init) => {
      const table = store.groups(region);
      const at = now();
      let count = 0;
      for (const name of names) {
        table.set(name, new GroupRecord(table.arnPrefix, name, at, init?.(name, count)));
        count++;
      }
      return count;
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
    setKeyLastUsage: (region, keyId, at, options = {}) => {
      const key = mustFind(region, keyId);
      if (at === undefined) delete key.lastUsage;
      else key.lastUsage = { at, operation: options.operation ?? 'GenerateDataKey' };
      if (options.createdAt !== undefined) key.createdAt = options.createdAt;
      return store.keyInfo(key);
    },
  };
}

/** Code-point order (what AWS list APIs use for names), independent of locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
