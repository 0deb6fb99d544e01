/**
 * `--external-id` is a shared secret (issue 20, item 6): never printed (resume command on stderr, JSON
 * `resumeCommand`, verbose log, errors), and accepted from LOGS_KMS_GUARD_EXTERNAL_ID instead of the flag. Runs
 * functions/cli/program.ts in-process through the real SDK against the organization emulator, whose STS refuses
 * AssumeRole without the account's external id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { type OrgEmulator, startOrgEmulator } from '../../local/emulator/org.ts';
import { testIo } from './helpers.ts';

const MGMT = '111111111111';
const GUARDED = '222222222222';
const LOCKED = '333333333333';
const SECRET = 'Sekr3t-ext-id-42';

let org: OrgEmulator;

function cli(env: Record<string, string> = {}) {
  return testIo({
    clients: defaultClientFactory({
      endpoint: org.endpoint,
      credentials: { accessKeyId: 'management', secretAccessKey: 'test' },
    }),
    env: { AWS_REGION: 'us-east-1', ...env },
  });
}

beforeAll(async () => {
  clearKeyCache();
  org = await startOrgEmulator({
    management: MGMT,
    accounts: [
      { id: GUARDED, name: 'guarded', externalId: SECRET },
      // A refused role leaves work to resume: the run prints a resume command.
      { id: LOCKED, name: 'locked', refuseRole: true },
    ],
  });
  for (const a of [MGMT, GUARDED]) org.account(a).state.putLogGroup('us-east-1', '/app/x', {});
});
afterAll(async () => {
  await org?.stop();
});

describe('--external-id is never printed', () => {
  it('the JSON resumeCommand, the stderr resume command and -v say "$LOGS_KMS_GUARD_EXTERNAL_ID", never the id', async () => {
    const json = cli();
    expect(await run(['audit', '--org', '--external-id', SECRET, '--json', '-v'], json.io)).toBe(3);
    const report = JSON.parse(json.stdout());
    expect(report.pairs.find((p: { account: string }) => p.account === GUARDED).status).toBe('done');
    expect(report.resumeCommand).toMatch(
      /^logs-kms-guard audit --org --json -v --external-id "\$LOGS_KMS_GUARD_EXTERNAL_ID" --resume-token 2\./,
    );
    const table = cli();
    expect(await run(['audit', '--org', `--external-id=${SECRET}`], table.io)).toBe(3);
    expect(table.stderr()).toMatch(
      /resume with:\n\(the command reads the external ID from LOGS_KMS_GUARD_EXTERNAL_ID: set it first, e\.g\. read -rs LOGS_KMS_GUARD_EXTERNAL_ID; export LOGS_KMS_GUARD_EXTERNAL_ID\)\n {2}logs-kms-guard audit --org --external-id "\$LOGS_KMS_GUARD_EXTERNAL_ID" --resume-token 2\./,
    );
    for (const text of [json.stdout(), json.stderr(), table.stdout(), table.stderr()])
      expect(text).not.toContain(SECRET);
  });

  it('LOGS_KMS_GUARD_EXTERNAL_ID stands for the flag; the resume command then needs no flag', async () => {
    const t = cli({ LOGS_KMS_GUARD_EXTERNAL_ID: SECRET });
    expect(await run(['audit', '--org', '--json', '-q'], t.io)).toBe(3);
    const report = JSON.parse(t.stdout());
    expect(report.pairs.find((p: { account: string }) => p.account === GUARDED).status).toBe('done');
    expect(report.resumeCommand).not.toContain('--external-id');
    expect(report.resumeCommand).not.toContain(SECRET);
    // Without it, the account that asks for the external id refuses the role.
    const without = cli();
    expect(await run(['audit', '--org', '--json', '-q'], without.io)).toBe(3);
    const refused = JSON.parse(without.stdout());
    expect(refused.pairs.find((p: { account: string }) => p.account === GUARDED).status).toBe('failed');
  });

  it('the resume command run with the variable unset (--external-id "") is refused, saying to set it (exit 2)', async () => {
    const t = cli();
    expect(await run(['audit', '--org', '--external-id', '', '--json'], t.io)).toBe(2);
    expect(t.stderr()).toBe(
      'error: --external-id is empty: a printed resume command reads it from $LOGS_KMS_GUARD_EXTERNAL_ID; set that variable to the external id\n',
    );
    const bad = cli({ LOGS_KMS_GUARD_EXTERNAL_ID: 'x' });
    expect(await run(['audit', '--org', '--json'], bad.io)).toBe(2);
    expect(bad.stderr()).toContain('error: LOGS_KMS_GUARD_EXTERNAL_ID: 2 to 1224 characters');
  });
});
