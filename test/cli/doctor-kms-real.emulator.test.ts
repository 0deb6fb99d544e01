/**
 * `doctor` in-process (functions/cli/program.ts `run`) against the emulator, for issue 21 items 3 and 4: a
 * guard key pending deletion (KMS reads its rotation as off) is never met with "enable rotation", and an
 * organization centralization rule with EncryptedLogGroupStrategy=SKIP given by `--centralization-rules` fails
 * the run; an unreadable file is a usage error (exit 2).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { credentials, REGION, startWorld, type World } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let world: World;
let keyArn: string;
const dir = mkdtempSync(join(tmpdir(), 'doctor-central-'));

function cli() {
  const endpoint = world.emulator.endpoint;
  return testIo({
    clients: defaultClientFactory({ endpoint, credentials }),
    env: { AWS_REGION: REGION, AWS_ENDPOINT_URL: endpoint },
  });
}

type Found = { check: string; status: string; detail: string; fix?: string };

beforeAll(async () => {
  clearKeyCache();
  world = await startWorld();
  keyArn = (
    await world.createGuardKey({
      rotation: true,
      policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: world.account })),
    })
  ).arn;
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

describe('doctor: organization centralization rules', () => {
  it('fails on a rule that skips encrypted log groups in the region, naming it', async () => {
    const file = join(dir, 'rules.json');
    writeFileSync(
      file,
      JSON.stringify([
        {
          RuleName: 'central-logs',
          RuleArn:
            'arn:aws:observabilityadmin:us-east-1:111111111111:organization-centralization-rule/central-logs',
          CentralizationRule: {
            Source: {
              Regions: [REGION],
              SourceLogsConfiguration: { LogGroupSelectionCriteria: '*', EncryptedLogGroupStrategy: 'SKIP' },
            },
            Destination: { Region: REGION, Account: '222222222222' },
          },
        },
      ]),
    );
    const t = cli();
    const code = await run(['doctor', '--json', '--centralization-rules', file], t.io);
    const checks = JSON.parse(t.stdout()).checks as Found[];
    expect(checks.find((c) => c.check === 'centralization')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/central-logs has EncryptedLogGroupStrategy=SKIP/),
    });
    expect(code).toBe(1);
  }, 60_000);

  it('a file it cannot read is a usage error naming the flag', async () => {
    const t = cli();
    const code = await run(['doctor', '--centralization-rules', join(dir, 'missing.json')], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toMatch(/--centralization-rules .*missing\.json: cannot read it/);
  });
});

describe('doctor: a guard key pending deletion', () => {
  it('does not suggest enabling rotation; it says to cancel the deletion', async () => {
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }));
    const t = cli();
    await run(['doctor', '--json'], t.io);
    const checks = JSON.parse(t.stdout()).checks as Found[];
    const rotation = checks.find((c) => c.check === 'key rotation');
    expect(checks.find((c) => c.check === 'key')?.status).toBe('fail');
    expect(rotation?.status).toBe('info');
    expect(rotation?.fix).toMatch(/cancel-key-deletion/);
    expect(JSON.stringify(checks)).not.toMatch(/enable-key-rotation/);
  }, 60_000);
});
