/**
 * The session policies of functions/cli/session-policy.ts end to end: `audit`, `doctor`, `enforce` and `rollback`
 * with `--org`, in-process through the real SDK against the multi-account emulator whose member accounts authorize
 * every call (iam: the assumed OrganizationAccountAccessRole has AdministratorAccess, limited by the session policy
 * AssumeRole was given). Each command does its work with no refusal, and its session can do nothing else: an audit
 * session cannot associate, delete a group or schedule a key's deletion.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DeleteLogGroupCommand,
  DisassociateKmsKeyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { type AcrossCommand, sessionPolicy } from '../../functions/cli/session-policy.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { scaledClock } from '../../local/clock.ts';
import { type OrgEmulator, startOrgEmulator } from '../../local/emulator/org.ts';
import type { OrgSession } from '../../local/emulator/sts.ts';
import { testIo } from './helpers.ts';

const SCALE = 10;
const REGION = 'us-east-1';
const MGMT = '111111111111';
const MEMBERS = ['222222222222', '333333333333'];
const GROUPS = 6;
const UNENCRYPTED = 3;

let org: OrgEmulator;
const owned = new Map<string, string>();

function cli() {
  return testIo({
    clients: defaultClientFactory({
      endpoint: org.endpoint,
      credentials: { accessKeyId: 'management', secretAccessKey: 'test' },
    }),
    clock: scaledClock(SCALE),
    env: { AWS_REGION: REGION },
  });
}

/** The sessions a command's AssumeRole calls opened (session name `logs-kms-guard-<command>`). */
const sessionsOf = (command: AcrossCommand) =>
  [...org.sessions.values()].filter((s) => s.sessionName === `logs-kms-guard-${command}`);

/** Every IAM decision a member account made for the sessions of `command`. */
const decisionsOf = (command: AcrossCommand) => {
  const keys = new Set(sessionsOf(command).map((s) => s.accessKeyId));
  return MEMBERS.flatMap((a) => org.account(a).authorizations.filter((r) => keys.has(r.accessKeyId)));
};

/** SDK clients signed with one of the CLI's sessions, as someone who got hold of its credentials would use them. */
function signedAs(session: OrgSession) {
  const config = {
    region: REGION,
    endpoint: org.endpoint,
    maxAttempts: 1,
    credentials: {
      accessKeyId: session.accessKeyId,
      secretAccessKey: session.secretAccessKey,
      sessionToken: session.sessionToken,
    },
  };
  return { logs: new CloudWatchLogsClient(config), kms: new KMSClient(config) };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

beforeEach(async () => {
  clearKeyCache();
  org = await startOrgEmulator({
    management: MGMT,
    timeScale: SCALE,
    propagationDelayMs: 3000,
    accounts: MEMBERS.map((id) => ({ id, options: { iam: { principals: {} } } })),
  });
  for (const account of [MGMT, ...MEMBERS]) {
    const state = org.account(account).state;
    const key = state.createKeyDirect(REGION, {
      policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account })),
    }).arn;
    owned.set(account, key);
    for (let i = 0; i < GROUPS; i++)
      state.putLogGroup(REGION, `/app/g-${i}`, i < UNENCRYPTED ? {} : { kmsKeyId: key });
  }
});
afterEach(async () => {
  await org?.stop();
});

describe('--org sessions carry the command session policy', () => {
  it('audit --org audits every member account, and its sessions can write nothing', async () => {
    // Act
    const t = cli();
    const code = await run(['audit', '--org', '--region', REGION, '--json', '-q'], t.io);

    // Assess: the audit itself went through (exit 1: unencrypted groups found), with no refused call.
    expect(code, t.stderr()).toBe(1);
    const report = JSON.parse(t.stdout());
    expect(report.pairs.map((p: { status: string }) => p.status)).toEqual(['done', 'done', 'done']);
    expect(report.totals.candidates).toBe(3 * UNENCRYPTED);
    const sessions = sessionsOf('audit');
    expect(sessions).toHaveLength(MEMBERS.length);
    const expected = JSON.parse(
      sessionPolicy('audit', {
        partition: 'aws',
        keyAlias: 'alias/logs-kms-guard',
        skipTagKey: 'logs-kms-guard:skip',
      }),
    );
    for (const s of sessions) expect(s.policy).toEqual(expected);
    expect(decisionsOf('audit').length).toBeGreaterThan(0);
    expect(decisionsOf('audit').filter((d) => d.decision !== 'Allowed')).toEqual([]);

    // Act: the audit session's own credentials, trying to write.
    const session = sessions.find((s) => s.account === MEMBERS[0]) as OrgSession;
    const { logs, kms } = signedAs(session);
    const key = owned.get(session.account) as string;
    const associate = await refusal(
      logs.send(new AssociateKmsKeyCommand({ logGroupName: '/app/g-0', kmsKeyId: key })),
    );
    const deleted = await refusal(logs.send(new DeleteLogGroupCommand({ logGroupName: '/app/g-5' })));
    const scheduled = await refusal(
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 })),
    );

    // Assess: each refused by the session policy (the role itself is AdministratorAccess), nothing changed.
    for (const [err, action] of [
      [associate, 'logs:AssociateKmsKey'],
      [deleted, 'logs:DeleteLogGroup'],
      [scheduled, 'kms:ScheduleKeyDeletion'],
    ] as const) {
      expect(err?.name).toBe('AccessDeniedException');
      expect(err?.message).toContain(`because no session policy allows the ${action} action`);
    }
    const state = org.account(session.account).state;
    expect(state.logGroup(REGION, '/app/g-0')?.kmsKeyId).toBeFalsy();
    expect(state.logGroup(REGION, '/app/g-5')).toBeDefined();
    expect(state.key(REGION, key)?.state).toBe('Enabled');
  }, 60_000);

  it('enforce --org creates the guard key and encrypts under its policy; rollback --org under its own; doctor reads', async () => {
    // Act
    const enforce = cli();
    const enforced = await run(['enforce', '--org', '--region', REGION, '--yes', '--json', '-q'], enforce.io);

    // Assess: every group of every member account is encrypted, every call of the sessions allowed.
    expect(enforced, enforce.stderr()).toBe(0);
    for (const a of MEMBERS) {
      const groups = org.account(a).state.logGroups(REGION);
      expect(groups.filter((g) => !g.kmsKeyId)).toEqual([]);
    }
    const calls = decisionsOf('enforce');
    expect(calls.filter((d) => d.decision !== 'Allowed')).toEqual([]);
    for (const action of ['kms:CreateKey', 'kms:CreateAlias', 'logs:AssociateKmsKey', 'kms:Encrypt'])
      expect(calls.map((d) => d.action)).toContain(action);
    // ... and nothing else: the enforce session may not schedule the deletion of the key it created.
    const session = sessionsOf('enforce')[0] as OrgSession;
    const guard = org.account(session.account).state.logGroup(REGION, '/app/g-0')?.kmsKeyId as string;
    const scheduled = await refusal(
      signedAs(session).kms.send(new ScheduleKeyDeletionCommand({ KeyId: guard, PendingWindowInDays: 7 })),
    );
    const removed = await refusal(
      signedAs(session).logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/app/g-0' })),
    );
    expect(scheduled?.message).toContain(
      'because no session policy allows the kms:ScheduleKeyDeletion action',
    );
    expect(removed?.message).toContain('because no session policy allows the logs:DisassociateKmsKey action');

    // Act: rollback and doctor, each with its own session policy.
    const rollback = cli();
    const rolledBack = await run(
      ['rollback', '--org', '--region', REGION, '--yes', '--json', '-q'],
      rollback.io,
    );
    const doctor = cli();
    await run(['doctor', '--org', '--region', REGION, '-q'], doctor.io);

    // Assess
    expect(rolledBack, rollback.stderr()).toBe(0);
    for (const a of MEMBERS) {
      const state = org.account(a).state;
      expect(state.logGroup(REGION, '/app/g-0')?.kmsKeyId).toBeFalsy();
      expect(state.logGroup(REGION, '/app/g-0')?.tags?.['logs-kms-guard:skip']).toBe('rollback');
      // Groups on another key are never touched.
      expect(state.logGroup(REGION, '/app/g-5')?.kmsKeyId).toBe(owned.get(a));
    }
    expect(decisionsOf('rollback').filter((d) => d.decision !== 'Allowed')).toEqual([]);
    expect(decisionsOf('rollback').map((d) => d.action)).toContain('logs:DisassociateKmsKey');
    expect(sessionsOf('doctor')).toHaveLength(MEMBERS.length);
    expect(decisionsOf('doctor').length).toBeGreaterThan(0);
    expect(decisionsOf('doctor').filter((d) => d.decision !== 'Allowed')).toEqual([]);
  }, 120_000);
});
