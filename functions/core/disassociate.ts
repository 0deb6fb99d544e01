/**
 * Taking the key back from one log group (a rollback, or the CLI's `disassociate`): the group is first tagged
 * out of the guard's scope, so neither the guard's DisassociateKmsKey handling nor the sweep encrypts it
 * again, then its key is removed, paced under the DisassociateKmsKey quota. The counterpart of associate.ts.
 */
import { DisassociateKmsKeyCommand, TagResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients } from './clients.ts';
import { type Clock, systemClock } from './clock.ts';
import { type RecordWrite, writeKeyRecord } from './key-record-store.ts';
import { retryTransient } from './retry.ts';
import { pacedCall, pacedCommand, type TokenBucket } from './token-bucket.ts';

/** The opt-out tag's value a rollback sets: the group is out of scope until someone removes the tag. */
export const ROLLBACK_TAG_VALUE = 'rollback';

/** Removes the key from one group, paced under the DisassociateKmsKey quota; `gone` when it no longer exists. */
export async function disassociateKey(
  clients: Clients,
  name: string,
  options: {
    bucket?: TokenBucket;
    clock?: Clock;
    deadline?: number;
    /**
     * The group's ARN and the opt-out tag: set (`<tag>=rollback`) before the key is removed, so neither the
     * guard's DisassociateKmsKey handling nor the sweep encrypts the group again (rollback and guard never
     * fight; remove the tag to hand the group back to the guard).
     */
    optOut?: { arn: string; tagKey: string };
    /**
     * The key the group uses now: recorded on the group (key-record.ts) in the same TagResource as the opt-out
     * tag, since the data ingested so far stays under it until retention removes it.
     */
    record?: Pick<RecordWrite, 'previousKey' | 'tags' | 'retentionInDays' | 'log'> & { arn: string };
  } = {},
): Promise<'disassociated' | 'gone'> {
  const clock = options.clock ?? systemClock;
  try {
    const optOut = options.optOut;
    const record = options.record;
    if (record) {
      await writeKeyRecord({
        ...record,
        clients,
        clock,
        ...(options.deadline ? { deadline: options.deadline } : {}),
        ...(optOut ? { extraTags: { [optOut.tagKey]: ROLLBACK_TAG_VALUE } } : {}),
      });
    } else if (optOut) {
      await retryTransient(
        () =>
          clients.logs.send(
            new TagResourceCommand({
              resourceArn: optOut.arn,
              tags: { [optOut.tagKey]: ROLLBACK_TAG_VALUE },
            }),
          ),
        { deadline: options.deadline ?? clock.now() + 60_000, clock, maxAttempts: 10 },
      );
    }
    await retryTransient(
      () =>
        pacedCall(options.bucket, () =>
          clients.logs.send(
            pacedCommand(options.bucket, new DisassociateKmsKeyCommand({ logGroupName: name })),
          ),
        ),
      { deadline: options.deadline ?? clock.now() + 60_000, clock, maxAttempts: 10 },
    );
    return 'disassociated';
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return 'gone';
    throw err;
  }
}
