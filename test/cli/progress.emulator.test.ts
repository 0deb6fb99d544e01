/**
 * Progress that counts what it says, and summaries that agree with it (issue 20, item 3): functions/cli/program.ts
 * run in-process through the real SDK against the emulator (local/world.ts), at a time-scaled quota (SCALE), with
 * stderr's lines stamped by the run's clock. An audit's counters move and come every 5 s, none before; no ETA
 * while the listing goes on; an interrupted enforce or audit prints totals that add up (listed ≥ encrypted; the
 * JSON rows are the groups counted); `audit --skip-opt-out-check` reads no tags and its report says so, and
 * `enforce` does not take the flag. progress.test.ts covers the line's pure parts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { scaledClock } from '../../local/clock.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { credentials, REGION, startWorld } from '../../local/world.ts';
import { testIo } from './helpers.ts';

const SCALE = 100;
const dir = mkdtempSync(join(tmpdir(), 'lkg-progress-'));

let emu: Emulator;

/** The CLI on the emulator (its clock `scale` times real time), stderr stamped with it; Ctrl-C after `abortAfter` associations. */
function cli(options: { abortAfter?: number; denyAfter?: number; scale?: number } = {}) {
  const clock = scaledClock(options.scale ?? SCALE);
  const controller = new AbortController();
  const factory = defaultClientFactory({ endpoint: emu.endpoint, credentials });
  let associated = 0;
  let attempts = 0;
  factory(REGION).logs.middlewareStack.add(
    (next, context) => async (args) => {
      // An error every group would hit (the run stops: isFatalSweepError), after `denyAfter` associations tried.
      if (context.commandName === 'AssociateKmsKeyCommand' && ++attempts > (options.denyAfter ?? Infinity))
        throw Object.assign(new Error('User is not authorized to perform: logs:AssociateKmsKey'), {
          name: 'AccessDeniedException',
        });
      const out = await next(args);
      if (context.commandName === 'AssociateKmsKeyCommand' && ++associated === options.abortAfter)
        controller.abort();
      return out;
    },
    { step: 'initialize' },
  );
  const lines: { at: number; text: string }[] = [];
  const t = testIo({
    clients: factory,
    clock,
    env: { AWS_REGION: REGION },
    signal: controller.signal,
    stderr: { write: (s: string) => lines.push({ at: clock.now(), text: s }), isTTY: false },
  });
  return { ...t, stderr: () => lines.map((l) => l.text).join(''), lines, startedAt: clock.now() };
}

const tagReads = () => emu.calls.filter((c) => c.operation === 'ListTagsForResource').length;
const progressLines = (lines: { at: number; text: string }[]) =>
  lines.filter((l) => /^us-east-1: \d+ listed/.test(l.text));

describe('progress and summaries (emulator)', () => {
  beforeAll(async () => {
    ({ emulator: emu } = await startWorld({ emulator: { timeScale: SCALE, throttle: true } }));
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });
  // Each test lists only its own groups (--prefix).
  beforeEach(() => clearKeyCache());

  it('audit: counters that move, a line every 5 s and none before, no ETA before the listing ends', async () => {
    // Prepare: 300 unencrypted groups (6 pages), each one's tags read at the quota: about 60 s of the run's clock.
    for (let i = 0; i < 300; i++) emu.state.putLogGroup(REGION, `/p/${String(i).padStart(3, '0')}`);
    const t = cli();

    // Act
    const code = await run(['audit', '--format', 'json', '--prefix', '/p/'], t.io);

    // Assess: findings (exit 1); lines 5 s apart (of the run's clock), the first 5 s in.
    expect(code).toBe(1);
    const lines = progressLines(t.lines);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect((lines[0]?.at ?? 0) - t.startedAt).toBeGreaterThanOrEqual(5_000);
    // A line is stamped when stderr receives it, a moment after the progress read the clock: at ×100, 1 real ms
    // is 100 ms of the run's clock, so a loaded machine shifts a stamp by up to ~1 s (10 real ms) either way.
    const SLACK = 10 * SCALE;
    for (let i = 1; i < lines.length; i++)
      expect((lines[i]?.at ?? 0) - (lines[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(5_000 - SLACK);
    // Checked moves (every group classified counts, not only changes) and never passes what was listed.
    const parsed = lines.map((l) => {
      const m = /: (\d+) listed( so far)?, (\d+)(?:\/(\d+))? checked/.exec(l.text);
      return { listed: Number(m?.[1]), soFar: Boolean(m?.[2]), checked: Number(m?.[3]), text: l.text };
    });
    const checked = parsed.map((p) => p.checked);
    expect(new Set(checked).size).toBeGreaterThanOrEqual(3);
    expect(checked).toEqual([...checked].sort((a, b) => a - b));
    // …within a page too (each tag read counts as it ends, not 50 at a time when the page is reported).
    expect(checked.some((c) => c % 50 !== 0)).toBe(true);
    for (const p of parsed) expect(p.checked).toBeLessThanOrEqual(p.listed);
    // While the listing goes on: "so far", no ETA; an ETA only once the total is known, never "ETA 0s".
    expect(parsed.some((p) => p.soFar)).toBe(true);
    for (const p of parsed.filter((x) => x.soFar)) expect(p.text).not.toMatch(/ETA/);
    for (const p of parsed) expect(p.text).not.toMatch(/ETA 0s/);
    expect(parsed.some((p) => !p.soFar && /ETA \d/.test(p.text))).toBe(true);
    for (const p of parsed.filter((x) => !x.soFar)) expect(p.listed).toBe(300);
  }, 60_000);

  it('a short run prints no progress line (nothing stale opens it)', async () => {
    // At real time (a loaded machine at SCALE could take 5 s of the run's clock even for one group).
    emu.state.putLogGroup(REGION, '/short/one');
    const t = cli({ scale: 1 });
    expect(await run(['audit', '--format', 'json', '--prefix', '/short/'], t.io)).toBe(1);
    expect(progressLines(t.lines)).toEqual([]);
  });

  it('enforce interrupted mid-page: the totals add up (listed ≥ encrypted), the JSON and the totals line agree', async () => {
    // Prepare: 200 unencrypted groups in pages of 50; Ctrl-C at the 70th association (page 2).
    for (let i = 0; i < 200; i++) emu.state.putLogGroup(REGION, `/i/${String(i).padStart(3, '0')}`);
    const t = cli({ abortAfter: 70 });

    // Act
    const code = await run(['enforce', '--yes', '--json', '--prefix', '/i/'], t.io);

    // Assess: every number of the summary is one counting of the groups reported.
    expect(code).toBe(130);
    const out = JSON.parse(t.stdout());
    const totals = out.totals;
    expect(totals.encrypted).toBeGreaterThanOrEqual(70);
    expect(totals.listed).toBeGreaterThanOrEqual(totals.encrypted + totals.failed + totals.gone);
    expect(totals.guardKey + totals.otherKey + totals.noKey + totals.keyUnusable).toBe(totals.listed);
    expect(out.regions[REGION].encrypted).toBe(totals.encrypted);
    const line = /(\d+) log group\(s\) listed.*?, (\d+) encrypted/.exec(t.stderr());
    expect(Number(line?.[1])).toBe(totals.listed);
    expect(Number(line?.[2])).toBe(totals.encrypted);
    // What the emulator holds: exactly as many groups encrypted as the summary says.
    const encrypted = emu.state
      .logGroups(REGION)
      .filter((g) => g.name.startsWith('/i/') && g.kmsKeyId).length;
    expect(encrypted).toBe(totals.encrypted);
  }, 60_000);

  it('enforce stopped by an error mid-page: the totals add up (it said 0 listed … 38 encrypted)', async () => {
    // Prepare: 60 unencrypted groups (two pages of 50); after 38 associations tried every further one is refused.
    for (let i = 0; i < 60; i++) emu.state.putLogGroup(REGION, `/d/${String(i).padStart(3, '0')}`);
    const t = cli({ denyAfter: 38 });

    // Act
    const code = await run(['enforce', '--yes', '--json', '--prefix', '/d/'], t.io);

    // Assess: the pair failed; what the summary counts is what was reported, every number of it.
    expect(code).toBe(3);
    const totals = JSON.parse(t.stdout()).totals;
    expect(totals.encrypted).toBeGreaterThan(0);
    expect(totals.encrypted).toBeLessThanOrEqual(38);
    expect(totals.failed).toBeGreaterThanOrEqual(1);
    expect(totals.listed).toBeGreaterThanOrEqual(totals.encrypted + totals.failed);
    expect(totals.guardKey + totals.otherKey + totals.noKey + totals.keyUnusable).toBe(totals.listed);
    const line = /(\d+) log group\(s\) listed.*?, (\d+) encrypted/.exec(t.stderr());
    expect(Number(line?.[1])).toBe(totals.listed);
  }, 60_000);

  it('audit interrupted: the JSON rows are the groups its totals count', async () => {
    // Prepare: 200 unencrypted groups; Ctrl-C once 120 tag reads were answered (page 3).
    for (let i = 0; i < 200; i++) emu.state.putLogGroup(REGION, `/a/${String(i).padStart(3, '0')}`);
    const t = cli();
    const before = tagReads();
    const controller = new AbortController();
    t.io.signal = controller.signal;
    const timer = setInterval(() => {
      if (tagReads() - before >= 120) controller.abort();
    }, 2);

    // Act
    const code = await run(['audit', '--format', 'json', '--prefix', '/a/'], t.io).finally(() =>
      clearInterval(timer),
    );

    // Assess
    expect(code).toBe(130);
    const out = JSON.parse(t.stdout());
    expect(out.interrupted).toBe(true);
    expect(out.groups.length).toBe(out.totals.listed);
    expect(out.totals.candidates).toBe(
      out.groups.filter((g: { keyState: string; inScope: boolean }) => g.keyState === 'no-key' && g.inScope)
        .length,
    );
    // The page it stopped in counts the groups it had finished (an audit changes nothing, so it keeps what it
    // saw): more than the two whole pages before it, fewer than the three pages it had reached.
    expect(out.totals.listed).toBeGreaterThan(100);
    expect(out.totals.listed).toBeLessThan(150);
  }, 60_000);

  it('audit interrupted in its first page keeps the groups it had checked (it printed 0 listed)', async () => {
    // Prepare: one page of 40 unencrypted groups; Ctrl-C once 15 tag reads were answered.
    for (let i = 0; i < 40; i++) emu.state.putLogGroup(REGION, `/f/${String(i).padStart(3, '0')}`);
    const t = cli();
    const before = tagReads();
    const controller = new AbortController();
    t.io.signal = controller.signal;
    const timer = setInterval(() => {
      if (tagReads() - before >= 15) controller.abort();
    }, 2);

    // Act
    const code = await run(['audit', '--format', 'json', '--prefix', '/f/'], t.io).finally(() =>
      clearInterval(timer),
    );

    // Assess: the checked groups are in the report and its totals, the unchecked ones are not.
    expect(code).toBe(130);
    const out = JSON.parse(t.stdout());
    expect(out.totals.listed).toBeGreaterThanOrEqual(15);
    expect(out.totals.listed).toBeLessThan(40);
    expect(out.groups.length).toBe(out.totals.listed);
    expect(out.totals.candidates).toBe(out.totals.listed);
    expect(t.stderr()).toMatch(new RegExp(`partial totals: ${out.totals.listed} log group\\(s\\) listed`));
  }, 60_000);

  it('audit --skip-opt-out-check reads no tags, counts opted-out groups as gaps, and every format says so', async () => {
    // Prepare: 20 unencrypted groups, 5 of them tagged to opt out.
    for (let i = 0; i < 20; i++)
      emu.state.putLogGroup(REGION, `/s/${String(i).padStart(2, '0')}`, {
        ...(i < 5 ? { tags: { 'logs-kms-guard:skip': 'true' } } : {}),
      });
    const before = tagReads();

    // Act
    const json = cli();
    const code = await run(['audit', '--format', 'json', '--skip-opt-out-check', '--prefix', '/s/'], json.io);
    const csv = cli();
    await run(['audit', '--format', 'csv', '--skip-opt-out-check', '--prefix', '/s/'], csv.io);
    const html = cli();
    const file = join(dir, 'report.html');
    await run(
      ['audit', '--format', 'html', '--out', file, '--skip-opt-out-check', '--prefix', '/s/'],
      html.io,
    );

    // Assess: no ListTagsForResource; the 5 opted-out groups counted unencrypted in scope; recorded.
    expect(tagReads()).toBe(before);
    expect(code).toBe(1);
    const out = JSON.parse(json.stdout());
    expect(out.totals.candidates).toBe(20);
    expect(out.optOutCheck).toBe('skipped');
    expect(json.stderr()).toMatch(/opt-out check is skipped \(--skip-opt-out-check\)/);
    expect(csv.stdout()).toMatch(/\n# opt-out check: skipped \(--skip-opt-out-check\)/);
    expect(readFileSync(file, 'utf8')).toMatch(/Opt-out check<\/dt><dd>skipped \(--skip-opt-out-check\)/);

    // Act: the same audit with the check: the tags are read, the 5 are out of scope.
    const checked = cli();
    await run(['audit', '--format', 'json', '--prefix', '/s/'], checked.io);
    const full = JSON.parse(checked.stdout());
    expect(full.optOutCheck).toBe('performed');
    expect(full.totals.candidates).toBe(15);
    expect(tagReads()).toBe(before + 20);
  }, 60_000);

  it('enforce does not take --skip-opt-out-check (it would touch opted-out groups): exit 2, nothing called', async () => {
    emu.state.putLogGroup(REGION, '/e/one', { tags: { 'logs-kms-guard:skip': 'true' } });
    const calls = emu.calls.length;
    const t = cli();
    const code = await run(['enforce', '--yes', '--skip-opt-out-check'], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toMatch(
      /--skip-opt-out-check is for audit only: enforce always reads the opt-out tag/,
    );
    expect(emu.calls.length).toBe(calls);
  });
});
