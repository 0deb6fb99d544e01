/**
 * Request quotas as token buckets, one per (region, operation), as AWS applies them per account and region.
 * Rates are real transactions per second multiplied by the time scale; the burst is one second's worth.
 */

/**
 * CloudWatch Logs quotas as AWS publishes them ("CloudWatch Logs quotas",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html, "<Op> throttle limit in
 * transactions per second", each supported Region): AssociateKmsKey 5 (not adjustable), CreateLogGroup 10,
 * DeleteLogGroup 10, DescribeLogGroups 10 (adjustable), ListTagsForResource, ListTagsLogGroup, TagResource,
 * UntagResource, TagLogGroup, UntagLogGroup, PutRetentionPolicy, DeleteRetentionPolicy 5 (not adjustable).
 * DisassociateKmsKey is not on the page: 5, as AssociateKmsKey (DESIGN.md), until AWS publishes it.
 */
export const LOGS_TPS: Record<string, number> = {
  AssociateKmsKey: 5,
  DisassociateKmsKey: 5,
  CreateLogGroup: 10,
  DeleteLogGroup: 10,
  DescribeLogGroups: 10,
  ListTagsForResource: 5,
  ListTagsLogGroup: 5,
  TagResource: 5,
  UntagResource: 5,
  TagLogGroup: 5,
  UntagLogGroup: 5,
  PutRetentionPolicy: 5,
  DeleteRetentionPolicy: 5,
};
/** Most control-plane operations on the page are 5; what is not listed here gets 5. */
const LOGS_DEFAULT_TPS = 5;

/**
 * KMS request quotas as AWS publishes them ("Request quotas", AWS KMS Developer Guide,
 * https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html, "Default value (requests per
 * second)"). Every one is adjustable. The cryptographic operations on symmetric keys (Encrypt, Decrypt,
 * GenerateDataKey*, ReEncrypt, GenerateRandom) share one quota in AWS (10,000, or 20,000 / 100,000 in some
 * Regions); the emulator keeps a bucket per operation, each at 10,000. Operations not listed get
 * KMS_DEFAULT_TPS.
 */
const KMS_TPS: Record<string, number> = {
  CancelKeyDeletion: 5,
  CreateAlias: 5,
  CreateGrant: 50,
  CreateKey: 5,
  DeleteAlias: 15,
  DescribeKey: 2000,
  DisableKey: 5,
  DisableKeyRotation: 5,
  EnableKey: 5,
  EnableKeyRotation: 15,
  GetKeyPolicy: 1000,
  GetKeyRotationStatus: 1000,
  ListAliases: 500,
  ListKeys: 500,
  ListResourceTags: 2000,
  PutKeyPolicy: 15,
  ScheduleKeyDeletion: 15,
  TagResource: 10,
  UntagResource: 5,
  UpdateAlias: 5,
  Encrypt: 10_000,
  Decrypt: 10_000,
  GenerateDataKey: 10_000,
  GenerateDataKeyWithoutPlaintext: 10_000,
  ReEncrypt: 10_000,
  GenerateRandom: 10_000,
};
const KMS_DEFAULT_TPS = 5;

function quotaFor(service: 'kms' | 'logs', operation: string, overrides: Partial<Record<string, number>>) {
  return (
    overrides[operation] ??
    (service === 'kms' ? (KMS_TPS[operation] ?? KMS_DEFAULT_TPS) : (LOGS_TPS[operation] ?? LOGS_DEFAULT_TPS))
  );
}

/** A bucket that refuses (never waits) when empty: burst one second's worth. */
class TokenBucket {
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

/** Every (service, region, operation)'s bucket, made on first use. */
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
