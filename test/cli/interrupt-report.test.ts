/**
 * A second Ctrl-C during an audit (review of issue 20, finding 4): the process quits at once, but the report
 * written so far is first closed as a valid document that says it was cut short (JSON: the groups so far,
 * `interrupted: true`, `complete: false`, the totals so far; CSV: a `#` line), and the message says an audit
 * changes nothing (enforce keeps its own wording). In-process: the run fills in `io.interrupt.closeReport`,
 * which functions/cli.ts calls on the second Ctrl-C before exiting 130.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type InterruptHooks, secondInterruptText } from '../../functions/cli/io.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, listedGroup as group, KEY_ARN, logGroupPage } from '../helpers.ts';
import { testIo } from './helpers.ts';

const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const all = Array.from({ length: 120 }, (_, i) => group(`/g/${String(i).padStart(3, '0')}`));

/** 120 unencrypted groups; at the 60th tag read `cut` runs (the second Ctrl-C) and the run is aborted. */
function serve(cut: () => void, controller: AbortController) {
  logs
    .on(DescribeLogGroupsCommand)
    .callsFake((input: { nextToken?: string }) => logGroupPage(all, input.nextToken, 50));
  let reads = 0;
  logs.on(ListTagsForResourceCommand).callsFake(() => {
    reads++;
    if (reads === 60) {
      cut();
      controller.abort();
    }
    return { tags: {} };
  });
}

describe('a second Ctrl-C during an audit', () => {
  beforeEach(() => {
    logs.reset();
    kms.reset();
    sts.reset();
    clearKeyCache();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: { Arn: KEY_ARN, KeyId: 'k', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT' },
    });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
  });

  it('--json on stdout: what was written by then is a valid, interrupted, incomplete document', async () => {
    // Prepare
    const interrupt: InterruptHooks = {};
    const controller = new AbortController();
    const t = testIo({ signal: controller.signal, interrupt, clock: fakeClock() });
    let cutShort = '';
    serve(() => {
      interrupt.closeReport?.();
      cutShort = t.stdout();
    }, controller);

    // Act
    await run(['audit', '--region', REGION, '--json'], t.io);

    // Assess: the document at the moment of the second Ctrl-C parses, and says it is not complete.
    const doc = JSON.parse(cutShort);
    expect(doc.interrupted).toBe(true);
    expect(doc.complete).toBe(false);
    expect(doc.totals.complete).toBe(false);
    expect(doc.groups.length).toBeGreaterThan(0);
    expect(doc.totals.listed).toBeGreaterThanOrEqual(doc.groups.length);
    expect(interrupt.readOnly).toBe(true);
    // Once the run is over there is nothing left to close.
    expect(interrupt.closeReport).toBeUndefined();
  });

  it('--format csv --out: the file ends with a line that says it was interrupted', async () => {
    const interrupt: InterruptHooks = {};
    const controller = new AbortController();
    const out = join(mkdtempSync(join(tmpdir(), 'lkg-cut-')), 'report.csv');
    const t = testIo({ signal: controller.signal, interrupt, clock: fakeClock() });
    let cutShort = '';
    serve(() => {
      interrupt.closeReport?.();
      cutShort = readFileSync(out, 'utf8');
    }, controller);

    await run(['audit', '--region', REGION, '--format', 'csv', '--out', out], t.io);

    const lines = cutShort.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.at(-1)).toMatch(/^# interrupted \(second Ctrl-C\): INCOMPLETE/);
  });

  it('the message of an audit says it changes nothing; enforce keeps its own', () => {
    const audit = secondInterruptText('logs-kms-guard audit --resume-token X', { readOnly: true });
    expect(audit).toMatch(/an audit changes nothing/);
    expect(audit).not.toMatch(/may or may not/);
    expect(audit).toMatch(/Resume with:\n {2}logs-kms-guard audit --resume-token X\n$/);
    expect(secondInterruptText('logs-kms-guard enforce --resume-token X')).toMatch(
      /may or may not have been changed/,
    );
  });
});
