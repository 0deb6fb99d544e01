/**
 * A second Ctrl-C (issue 20, item 4): the process quits at once, and prints the command that resumes the work
 * still to do at that moment. In-process: the run fills in `io.interrupt.resumeCommand` (what functions/cli.ts
 * calls on the second Ctrl-C); read mid-run it names each pair from its last finished page, and running it
 * finishes the job with every group encrypted exactly once. Then the message itself. interrupt.emulator.test.ts
 * interrupts the built dist/cli.mjs twice as a process.
 */

import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { InterruptHooks } from '../../functions/cli/io.ts';
import { secondInterruptText } from '../../functions/cli/io.ts';
import { run } from '../../functions/cli/program.ts';
import { decodeAcross } from '../../functions/cli/resume-token.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, listedGroup as group, KEY_ARN, logGroupPage } from '../helpers.ts';
import { testIo } from './helpers.ts';

const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);

function serve(groups: LogGroup[]) {
  logs
    .on(DescribeLogGroupsCommand)
    .callsFake((input: { nextToken?: string }) => logGroupPage(groups, input.nextToken, 50));
  logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
}

describe('a second Ctrl-C prints the resume command', () => {
  beforeEach(() => {
    logs.reset();
    kms.reset();
    sts.reset();
    clearKeyCache();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        Arn: KEY_ARN,
        KeyId: 'k',
        KeyState: 'Enabled',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
      },
    });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
  });

  it('mid-run it resumes from the last finished page; run, it finishes the job, each group once', async () => {
    // Prepare: 120 groups in pages of 50; the command is read when the 70th group (page 2) is encrypted.
    const all = Array.from({ length: 120 }, (_, i) => group(`/g/${String(i).padStart(3, '0')}`));
    serve(all);
    const interrupt: InterruptHooks = {};
    const controller = new AbortController();
    const done = new Set<string>();
    const seen: (string | undefined)[] = [];
    logs.on(AssociateKmsKeyCommand).callsFake((input: { logGroupName: string }) => {
      done.add(input.logGroupName);
      if (done.size === 1 || done.size === 70) seen.push(interrupt.resumeCommand?.());
      if (done.size === 70) controller.abort();
      return {};
    });
    const t = testIo({ signal: controller.signal, interrupt, clock: fakeClock() });

    // Act
    const code = await run(['enforce', '--yes', '--region', REGION], t.io);

    // Assess: on page 1 the pair resumes from the start, on page 2 from page 2; after the run, nothing to print.
    expect(code).toBe(130);
    const [first, second] = seen;
    expect(first).toMatch(/^logs-kms-guard enforce --yes --region us-east-1 --resume-token \S+$/);
    const tokenOf = (command: string | undefined) => /--resume-token (\S+)/.exec(command ?? '')?.[1] ?? '';
    const pairs = async (command: string | undefined) =>
      decodeAcross(tokenOf(command), 'enforce', async () => ACCOUNT);
    expect((await pairs(first)).map((p) => [p.r, p.t])).toEqual([[REGION, undefined]]);
    expect((await pairs(second)).map((p) => [p.r, p.t])).toEqual([[REGION, 'p1']]);
    expect(interrupt.resumeCommand).toBeUndefined();

    // Act: the process quit at the 70th group; the printed command is run against what was done by then.
    serve(all.map((g) => (done.has(g.logGroupName ?? '') ? { ...g, kmsKeyId: KEY_ARN } : g)));
    const again = testIo({ clock: fakeClock() });
    const code2 = await run(
      ['enforce', '--yes', '--region', REGION, '--resume-token', tokenOf(second)],
      again.io,
    );

    // Assess
    expect(code2).toBe(0);
    const names = logs.commandCalls(AssociateKmsKeyCommand).map((c) => c.args[0].input.logGroupName);
    expect(names).toHaveLength(120);
    expect(new Set(names).size).toBe(120);
  });

  it('the message says it stops now and gives the command; without one, it only stops', () => {
    expect(secondInterruptText('logs-kms-guard audit --resume-token X')).toBe(
      '\nstopping now (second Ctrl-C): the log groups in flight may or may not have been changed; a resumed run lists them again and finishes them. Resume with:\n  logs-kms-guard audit --resume-token X\n',
    );
    expect(secondInterruptText(undefined)).toBe('\nstopping now (second Ctrl-C)\n');
  });
});
