/**
 * The rates the sweep paces its calls at: AWS's published CloudWatch Logs quotas (per account and region), the
 * sweep's defaults under them, and the token buckets that hold every run to both.
 */
import { type Clock, systemClock } from '../clock.ts';
import { type AdaptiveOptions, AdaptiveTokenBucket, type TokenBucket } from '../token-bucket.ts';

/**
 * AWS's published quotas (calls per second per account and region) of the calls the sweep paces, from
 * "CloudWatch Logs quotas" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html):
 * DescribeLogGroups 10 (adjustable), AssociateKmsKey 5 (not adjustable), ListTagsForResource 5 (not
 * adjustable). DisassociateKmsKey is not on that page: 5, as AssociateKmsKey (DESIGN.md). Every rate is
 * capped at these; the emulator's table (local/emulator/quota.ts) is the same.
 */
export const LOGS_QUOTA_TPS: Readonly<SweepRates> = { describe: 10, associate: 5, tags: 5, disassociate: 5 };

/** Calls per second the sweep allows itself at most: under the account quotas, to leave room for others. */
export interface SweepRates {
  describe: number;
  associate: number;
  tags: number;
  disassociate: number;
}

// Listing runs at the DescribeLogGroups quota: a million-group account is listed at the floor (issue 14), and the
// adaptive bucket halves its rate at the first throttle, so the enforce function's own calls get through.
export const DEFAULT_SWEEP_RATES: SweepRates = { describe: 10, associate: 4, tags: 4, disassociate: 4 };

/**
 * How the buckets of the calls whose quota other automation shares without adapting (AssociateKmsKey,
 * DisassociateKmsKey: 5 TPS, not adjustable) pace: each token released up to one interval late at random, so
 * that a neighbour's throttles are met by ours too and the bucket slows down (AdaptiveTokenBucket `dither`).
 */
export const SHARED_QUOTA_PACING: AdaptiveOptions = { dither: 1 };

/** One token bucket per paced call. */
export interface SweepBuckets {
  describe: TokenBucket;
  associate: TokenBucket;
  tags: TokenBucket;
  disassociate: TokenBucket;
}

/**
 * One set of buckets per account and region (quotas are per account and region). Each is adaptive: its rate
 * is the ceiling, capped at the published quota, and it slows down when AWS throttles it anyway (another
 * caller is drawing from the same quota) and speeds back up once it is quiet.
 */
export function sweepBuckets(rates: Partial<SweepRates> = {}, clock: Clock = systemClock): SweepBuckets {
  const r = { ...DEFAULT_SWEEP_RATES, ...rates };
  const bucket = (which: keyof SweepRates) => {
    const rate = Math.min(r[which], LOGS_QUOTA_TPS[which]);
    const shared = which === 'associate' || which === 'disassociate';
    return new AdaptiveTokenBucket(
      rate,
      Math.max(1, Math.floor(rate)),
      clock,
      shared ? SHARED_QUOTA_PACING : {},
    );
  };
  return {
    describe: bucket('describe'),
    associate: bucket('associate'),
    tags: bucket('tags'),
    disassociate: bucket('disassociate'),
  };
}
