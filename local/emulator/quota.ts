/**
 * Request quotas as token buckets, one per (region, operation), as AWS applies them per account and region.
 * Rates are real transactions per second multiplied by the time scale; the burst is one second's worth.
 */

/** CloudWatch Logs quotas (Service Quotas console / CloudWatch Logs quotas page). */
export const LOGS_TPS: Record<string, number> = {
  AssociateKmsKey: 5,
  DisassociateKmsKey: 5,
  CreateLogGroup: 10,
  DeleteLogGroup: 10,
  DescribeLogGroups: 10,
  ListTagsForResource: 10,
  ListTagsLogGroup: 10,
  TagResource: 10,
  UntagResource: 10,
  TagLogGroup: 10,
  UntagLogGroup: 10,
};
export const LOGS_DEFAULT_TPS = 10;

/**
 * KMS request quotas as the KMS quotas page lists them for these operations (control-plane calls are 5 TPS,
 * reads are far higher). Operations not listed here get KMS_DEFAULT_TPS.
 */
export const KMS_TPS: Record<string, number> = {
  CreateKey: 5,
  CreateAlias: 5,
  UpdateAlias: 5,
  DeleteAlias: 5,
  PutKeyPolicy: 5,
  EnableKey: 5,
  DisableKey: 5,
  EnableKeyRotation: 5,
  DisableKeyRotation: 5,
  ScheduleKeyDeletion: 5,
  CancelKeyDeletion: 5,
  TagResource: 10,
  UntagResource: 10,
  DescribeKey: 2000,
  GetKeyPolicy: 1000,
  GetKeyRotationStatus: 1000,
  ListAliases: 500,
  ListResourceTags: 500,
};
export const KMS_DEFAULT_TPS = 50;

export function quotaFor(
  service: 'kms' | 'logs',
  operation: string,
  overrides: Partial<Record<string, number>>,
) {
  return (
    overrides[operation] ??
    (service === 'kms' ? (KMS_TPS[operation] ?? KMS_DEFAULT_TPS) : (LOGS_TPS[operation] ?? LOGS_DEFAULT_TPS))
  );
}

export class TokenBucket {
  readonly rate: number;
  readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(ratePerSecond: number, now: number) {
    this.rate = ratePerSecond;
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
    this.last = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class Quotas {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly enabled: boolean;
  private readonly timeScale: number;
  private readonly overrides: Partial<Record<string, number>>;

  constructor(options: { enabled: boolean; timeScale: number; overrides: Partial<Record<string, number>> }) {
    this.enabled = options.enabled;
    this.timeScale = options.timeScale;
    this.overrides = options.overrides;
  }

  /** True when the call is within quota (and consumes a token). */
  admit(service: 'kms' | 'logs', region: string, operation: string, now: number): boolean {
    if (!this.enabled) return true;
    const id = `${service}/${region}/${operation}`;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      bucket = new TokenBucket(quotaFor(service, operation, this.overrides) * this.timeScale, now);
      this.buckets.set(id, bucket);
    }
    return bucket.take(now);
  }
}
