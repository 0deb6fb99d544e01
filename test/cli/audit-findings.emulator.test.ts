/**
 * `audit --format asff` and `--format ocsf` through the CLI as a user runs it, against the emulator: one
 * document per log group in a JSON array, each valid against the published format (the Security Hub model,
 * the OCSF 1.3.0 Compliance Finding requirements), with each group's compliance: the guard key or another
 * customer-managed key PASSED, unencrypted in scope FAILED, left out of scope WARNING, reserved NOT_AVAILABLE,
 * on a key pending deletion FAILED and HIGH.
 */
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { credentials, GUARD_ALIAS, REGION, startWorld } from '../../local/world.ts';
import { validateAsff, validateOcsf } from '../core/findings/format-validators.ts';
import { testIo } from './helpers.ts';

let emu: Emulator;

function cli() {
  return testIo({
    clients: defaultClientFactory({ endpoint: emu.endpoint, credentials }),
    env: { AWS_REGION: REGION },
  });
}

const EXPECTED: Record<string, string> = {
  '/app/guarded': 'PASSED',
  '/team/own-key': 'PASSED',
  '/app/plain': 'FAILED',
  '/legacy/old': 'WARNING',
  'aws/spans': 'NOT_AVAILABLE',
  '/app/doomed': 'FAILED',
};

describe('audit --format asff|ocsf (emulator)', () => {
  beforeAll(async () => {
    clearKeyCache();
    const world = await startWorld({ emulator: { throttle: false, propagationDelayMs: 0 } });
    emu = world.emulator;
    const policy = JSON.stringify(
      defaultKeyPolicy({ partition: 'aws', region: REGION, account: emu.account }),
    );
    const created = await world.kms.send(new CreateKeyCommand({ Policy: policy }));
    const guard = created.KeyMetadata?.Arn ?? '';
    await world.kms.send(new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: guard }));
    const own = emu.state.createKeyDirect(REGION, { policy }).arn;
    const doomed = emu.state.createKeyDirect(REGION, { policy }).arn;
    emu.state.putLogGroup(REGION, '/app/guarded', { kmsKeyId: guard });
    emu.state.putLogGroup(REGION, '/team/own-key', { kmsKeyId: own });
    emu.state.putLogGroup(REGION, '/app/plain');
    emu.state.putLogGroup(REGION, '/legacy/old');
    emu.state.putLogGroup(REGION, 'aws/spans');
    emu.state.putLogGroup(REGION, '/app/doomed', { kmsKeyId: doomed });
    emu.state.setKeyState(REGION, doomed, 'PendingDeletion');
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('asff: a JSON array of valid AwsSecurityFindings, one per group, with each compliance', async () => {
    const t = cli();
    const code = await run(['audit', '--format', 'asff', '--exclude', '/legacy/'], t.io);
    expect(code).toBe(1);
    const docs = JSON.parse(t.stdout()) as Record<string, any>[];
    expect(docs).toHaveLength(Object.keys(EXPECTED).length);
    for (const doc of docs) expect(validateAsff(doc), doc.Id).toEqual([]);
    const byGroup = Object.fromEntries(docs.map((d) => [d.Resources[0].Id.split(':log-group:')[1], d]));
    for (const [group, status] of Object.entries(EXPECTED))
      expect(byGroup[group]?.Compliance.Status, group).toBe(status);
    expect(byGroup['/app/doomed']?.Severity.Label).toBe('HIGH');
    expect(byGroup['/app/plain']?.Remediation.Recommendation.Text).toContain('enforce');
    expect(new Set(docs.map((d) => d.Id)).size).toBe(docs.length);
  }, 60_000);

  it('ocsf: a JSON array of valid OCSF 1.3.0 Compliance Findings, one per group', async () => {
    const t = cli();
    const code = await run(['audit', '--format', 'ocsf', '--exclude', '/legacy/'], t.io);
    expect(code).toBe(1);
    const events = JSON.parse(t.stdout()) as Record<string, any>[];
    expect(events).toHaveLength(Object.keys(EXPECTED).length);
    for (const e of events) expect(validateOcsf(e), e.finding_info.uid).toEqual([]);
    const byGroup = Object.fromEntries(events.map((e) => [e.resources[0].name, e]));
    expect(byGroup['/app/guarded']?.compliance.status_id).toBe(1);
    expect(byGroup['/legacy/old']?.compliance.status_id).toBe(2);
    expect(byGroup['/app/plain']?.compliance.status_id).toBe(3);
    expect(byGroup['aws/spans']?.compliance.status_id).toBe(99);
  }, 60_000);

  it('--unencrypted keeps only the gaps, still a valid array; an empty result is []', async () => {
    const t = cli();
    await run(['audit', '--format', 'asff', '--unencrypted', '--exclude', '/legacy/'], t.io);
    const docs = JSON.parse(t.stdout()) as Record<string, any>[];
    expect(docs.map((d) => d.Compliance.Status).sort()).toEqual(['FAILED', 'FAILED']);
    const none = cli();
    await run(['audit', '--format', 'ocsf', '--prefix', '/nothing/'], none.io);
    expect(JSON.parse(none.stdout())).toEqual([]);
  }, 60_000);

  it('an unknown format is a usage error naming the choices', async () => {
    const t = cli();
    expect(await run(['audit', '--format', 'sarif'], t.io)).toBe(2);
    expect(t.stderr()).toMatch(/asff.*ocsf/);
  });
});
