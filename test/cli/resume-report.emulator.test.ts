/**
 * A resumed audit never destroys the report of the run it resumes (issue 20, item 2): the resume command of an
 * interrupted `audit --format html|csv|json --out FILE` keeps FILE as it was and writes its own report to
 * `FILE.resumed.<ext>`, saying so. functions/cli/program.ts in-process through the real SDK against the emulator;
 * functions/cli/resume-out.ts's naming on its own.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { resumedPath } from '../../functions/cli/resume-out.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { credentials, REGION, startWorld } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let emu: Emulator;
const dir = mkdtempSync(join(tmpdir(), 'lkg-resume-report-'));

const cli = (signal?: AbortSignal) =>
  testIo({
    clients: defaultClientFactory({ endpoint: emu.endpoint, credentials }),
    env: { AWS_REGION: REGION },
    ...(signal ? { signal } : {}),
  });

describe('resuming an interrupted audit --out keeps its report', () => {
  beforeAll(async () => {
    clearKeyCache();
    ({ emulator: emu } = await startWorld({ emulator: { throttle: true } }));
    const owned = emu.state.createKeyDirect(REGION, {
      policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: emu.account })),
    }).arn;
    // 1,000 groups on the team's own key, then 3 unencrypted ones the interrupted run never reaches.
    for (let i = 0; i < 1000; i++)
      emu.state.putLogGroup(REGION, `/app/${String(i).padStart(4, '0')}`, { kmsKeyId: owned });
    for (const n of ['/zz/a', '/zz/b', '/zz/c']) emu.state.putLogGroup(REGION, n);
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it.each(['html', 'csv', 'json'])(
    '--format %s: the report is kept, the resumed run writes a new file and says so',
    async (format) => {
      const out = join(dir, `report.${format}`);
      const args = ['audit', '--format', format, '--out', out];
      // Interrupted once the first page of groups is listed: the second DescribeLogGroups (the first looks up the
      // enforce function's log group for its fight records, functions/cli/fights.ts).
      const controller = new AbortController();
      const before = emu.calls.length;
      const watch = setInterval(() => {
        const listed = emu.calls.slice(before).filter((c) => c.operation === 'DescribeLogGroups' && !c.error);
        if (listed.length >= 2) controller.abort();
      }, 1);
      const t = cli(controller.signal);
      const first = await run(args, t.io);
      clearInterval(watch);
      expect(first).toBe(130);
      const kept = readFileSync(out, 'utf8');
      expect(kept.length).toBeGreaterThan(0);
      const token = /--resume-token (\S+)/.exec(t.stderr())?.[1];
      expect(token).toBeTruthy();

      // The resume command as printed: the same --out.
      const t2 = cli();
      const second = await run([...args, '--resume-token', token as string], t2.io);
      expect(second).toBe(1); // the three unencrypted groups
      const resumed = join(dir, `report.resumed.${format}`);
      expect(readFileSync(out, 'utf8')).toBe(kept);
      expect(statSync(resumed).size).toBeGreaterThan(0);
      expect(t2.stderr()).toContain(`${out} holds the report of the interrupted run: kept as it is`);
      expect(t2.stderr()).toContain(`report written to ${resumed}`);
      const text = readFileSync(resumed, 'utf8');
      expect(text).toContain('/zz/c');
      // The resumed report says in itself that it is a part, and where the first part is.
      expect(text).toContain('continues an interrupted audit');
      expect(text).toContain(`the interrupted run's report is ${out}`);
      if (format === 'json') {
        const first = JSON.parse(kept);
        expect(first.interrupted).toBe(true);
        expect(first.groups.length).toBeGreaterThan(0);
        expect(JSON.parse(text).groups.map((g: { logGroup: string }) => g.logGroup)).toContain('/zz/a');
      }
    },
    60_000,
  );
});

describe('resumedPath', () => {
  it('the first free name next to the report, its extension kept', () => {
    const taken = new Set(['/r/report.resumed.html', '/r/report.resumed-2.html']);
    expect(resumedPath('/r/report.html', (p) => taken.has(p))).toBe('/r/report.resumed-3.html');
    expect(resumedPath('/r/out.csv', () => false)).toBe('/r/out.resumed.csv');
    expect(resumedPath('groups', () => false)).toBe('groups.resumed');
  });
});
