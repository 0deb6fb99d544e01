/**
 * The organization rollout in either order (issue 19, item 1), end to end against the multi-account emulator with
 * IAM on in every member account: the CLI (`enforce --org`, in-process through the real SDK) backfills, and the
 * organization StackSet "deploys": the EnforceRole of the packaged StackSet template (infra/stackset.mjs, its
 * policies resolved by local/roles.ts) is created in each account × region (org.createRole), the stack's
 * GuardKeyReady runs (a guard key check answered by the deployable dist/changes.mjs, which creates the key when
 * it is missing: the enforce function creates none) and the deployable bundle dist/enforce.mjs runs, both with a
 * session of that role, as Lambda runs them. Order A: backfill, then deploy (the deployment finds the CLI's key
 * and keeps it). Order B: deploy (the deployment makes the key), then backfill. Both end with the deployed
 * function of every account × region associating a new log group with the guard key the CLI made or found, with
 * no policy change and no refusal.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { enforceRoleName } from '../../functions/cli/function-role.ts';
import { run } from '../../functions/cli/program.ts';
import { keyCheckItem } from '../../functions/core/change-event.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy, statementRoles } from '../../functions/core/policy.ts';
import { scaledClock } from '../../local/clock.ts';
import { type OrgEmulator, startOrgEmulator } from '../../local/emulator/org.ts';
import {
  CHANGES_BUNDLE,
  CHANGES_FUNCTION,
  ENFORCE_BUNDLE,
  lambdaContext as functionContext,
} from '../../local/functions.ts';
import { type CfnTemplate, packagedTemplate, rolesFromTemplate } from '../../local/roles.ts';
import { associateRate, loadContainer } from '../../local/world.ts';
import { testIo } from '../cli/helpers.ts';
import { captureOutput } from '../helpers.ts';
import { createEvent, lambdaContext } from './helpers.ts';

const SCALE = 10;
const REGIONS = ['us-east-1', 'eu-west-1'];
const MGMT = '111111111111';
const MEMBERS = ['222222222222', '333333333333'];
const GUARD_ALIAS = 'alias/logs-kms-guard';
const UNENCRYPTED = 3;

let org: OrgEmulator;
let stackset: CfnTemplate;

/** The organization StackSet template, built from the packaged template as infra/stackset.mjs builds it. */
async function stackSetTemplate(): Promise<CfnTemplate> {
  const { toStackSetTemplate } = await import('../../infra/stackset.mjs' as string);
  const artifacts = {
    enforce: { key: 'logs-kms-guard/enforce-0.zip' },
    changes: { key: 'logs-kms-guard/changes-0.zip' },
    sweep: { key: 'logs-kms-guard/sweep-0.zip' },
    findings: { key: 'logs-kms-guard/findings-0.zip' },
  };
  const sources = Object.fromEntries(
    REGIONS.map((r) => [
      r,
      { bucket: `b-${r}`, versions: { enforce: 'v1', changes: 'v1', sweep: 'v1', findings: 'v1' } },
    ]),
  );
  return toStackSetTemplate(packagedTemplate(), artifacts, sources) as CfnTemplate;
}

function cli() {
  return testIo({
    clients: defaultClientFactory({
      endpoint: org.endpoint,
      credentials: { accessKeyId: 'management', secretAccessKey: 'test' },
    }),
    clock: scaledClock(SCALE),
    env: { AWS_REGION: REGIONS[0] as string },
  });
}

/** `enforce --org` over the member accounts and both regions; its exit code and stderr. */
async function backfill(): Promise<{ code: number; stderr: string; report: any }> {
  const t = cli();
  const code = await run(
    [
      'enforce',
      '--accounts',
      MEMBERS.join(','),
      '--regions',
      REGIONS.join(','),
      '--yes',
      '--json',
      '--rate',
      '5',
    ],
    t.io,
  );
  return { code, stderr: t.stderr(), report: JSON.parse(t.stdout() || '{}') };
}

/**
 * Deploys the StackSet's stack instance of one account × region, as far as the guard key is concerned: its
 * EnforceRole is created (the template's name and policies); GuardKeyReady runs: the changes function (a fresh
 * container, with a session of that role) answers a guard key check, which finds the guard key or creates it;
 * then the enforce function runs with a session of the same role. Returns the enforce function's handler (a
 * fresh container), its role ARN and the key check's answer.
 */
async function deploy(account: string, region: string) {
  const role = rolesFromTemplate(stackset, { account, region }).EnforceRole;
  if (!role) throw new Error('the StackSet template has no EnforceRole');
  org.createRole(account, role);
  const sts = new STSClient({
    region,
    endpoint: org.endpoint,
    credentials: { accessKeyId: 'management', secretAccessKey: 'test' },
  });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: `enforce-${region}` }),
  );
  const env = {
    AWS_ENDPOINT_URL: org.endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: c?.AccessKeyId as string,
    AWS_SECRET_ACCESS_KEY: c?.SecretAccessKey as string,
    AWS_SESSION_TOKEN: c?.SessionToken as string,
    // What the template sets: !GetAtt EnforceRole.Arn.
    GUARD_ROLE_ARN: role.arn,
    ASSOCIATE_RATE: associateRate(SCALE),
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
  const where = { account, region };
  const changes = await loadContainer(CHANGES_BUNDLE, env);
  const keyCheck = (await changes(
    keyCheckItem({ ...where, id: `deploy-${account}-${region}` }),
    functionContext(where, CHANGES_FUNCTION, 60_000),
  )) as { outcome?: string; keyArn?: string };
  const handler = await loadContainer(ENFORCE_BUNDLE, env);
  return { handler, roleArn: role.arn, keyCheck };
}

/** A new log group in one account × region, and the deployed function's answer to its CreateLogGroup event. */
async function newGroup(
  deployed: Awaited<ReturnType<typeof deploy>>,
  account: string,
  region: string,
  name: string,
) {
  org.account(account).state.putLogGroup(region, name, {});
  const where = { account, region };
  // The first call signs with the container's credentials (read from process.env when it first signs).
  return deployed.handler(createEvent(where, name), lambdaContext(where));
}

/** The guard key of one account × region (behind the alias), with its policy. */
function guardKey(account: string, region: string) {
  const state = org.account(account).state;
  const key = state.key(region, GUARD_ALIAS);
  if (!key) return undefined;
  return { arn: key.arn, policy: JSON.parse(key.policy) as { Statement: Record<string, unknown>[] } };
}

const denials = (account: string) =>
  org
    .account(account)
    .authorizations.filter((a) => a.decision !== 'Allowed')
    .map((a) => `${a.operation}: ${a.action} on ${a.resource} ${a.decision}`);

let output: ReturnType<typeof captureOutput>;

beforeEach(async () => {
  clearKeyCache();
  stackset ??= await stackSetTemplate();
  output = captureOutput();
  org = await startOrgEmulator({
    management: MGMT,
    timeScale: SCALE,
    propagationDelayMs: 2000,
    accounts: MEMBERS.map((id) => ({ id, options: { iam: { principals: {} } } })),
  });
  for (const account of MEMBERS) {
    const state = org.account(account).state;
    for (const region of REGIONS) {
      // A key of the account's own, which some groups already use (the guard leaves them alone).
      const owned = state.createKeyDirect(region, {
        policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region, account })),
      }).arn;
      for (let i = 0; i < 5; i++)
        state.putLogGroup(region, `/app/g-${i}`, i < UNENCRYPTED ? {} : { kmsKeyId: owned });
    }
  }
});
afterEach(async () => {
  output.restore();
  await org?.stop();
});

describe('organization rollout (issue 19, item 1)', () => {
  it('order A: backfill first, then deploy: every deployed function uses the key the CLI made', async () => {
    // Act: the backfill, before any stack exists (no enforce role in any account).
    const first = await backfill();

    // Assess: every account × region backfilled, its key naming the role the StackSet will create there; no
    // "invalid principals" refusal and no warning that the key names no function role.
    expect(first.code, first.stderr).toBe(0);
    expect(first.report.totals.encrypted).toBe(MEMBERS.length * REGIONS.length * UNENCRYPTED);
    expect(first.stderr).not.toContain('without a function role');
    for (const account of MEMBERS)
      for (const region of REGIONS) {
        const key = guardKey(account, region);
        const roles = new Set(key?.policy.Statement.flatMap((s) => statementRoles(s)));
        expect([...roles]).toEqual([`arn:aws:iam::${account}:role/${enforceRoleName(region)}`]);
      }

    // Act: the StackSet deploys; a group is created in every account × region.
    for (const account of MEMBERS)
      for (const region of REGIONS) {
        const before = guardKey(account, region);
        const deployed = await deploy(account, region);
        const out = await newGroup(deployed, account, region, '/app/after-deploy');

        // Assess: the deployment's key check found the CLI's key (made none); the function used it, without
        // repairing it or being refused.
        expect(deployed.keyCheck.keyArn, `${account} ${region}`).toBe(before?.arn);
        expect(deployed.keyCheck.outcome).not.toBe('key-created');
        expect(out, `${account} ${region}`).toMatchObject({ outcome: 'encrypted' });
        expect(org.account(account).state.logGroup(region, '/app/after-deploy')?.kmsKeyId).toBe(before?.arn);
        expect(guardKey(account, region)?.policy).toEqual(before?.policy);
      }
    for (const account of MEMBERS) expect(denials(account)).toEqual([]);
  });

  it('order B: deploy first, then backfill: the CLI finds and keeps each function key', async () => {
    // Act: the StackSet deploys; each stack instance's GuardKeyReady makes its key (the key check), and the
    // function encrypts its first group with it.
    const made = new Map<string, string>();
    for (const account of MEMBERS)
      for (const region of REGIONS) {
        const deployed = await deploy(account, region);
        expect(deployed.keyCheck, `${account} ${region}`).toMatchObject({ outcome: 'key-created' });
        expect(deployed.keyCheck.keyArn).toBe(guardKey(account, region)?.arn);
        const out = await newGroup(deployed, account, region, '/app/first');
        expect(out, `${account} ${region}`).toMatchObject({
          outcome: 'encrypted',
          keyArn: deployed.keyCheck.keyArn,
        });
        made.set(`${account}/${region}`, guardKey(account, region)?.arn as string);
      }
    const policies = new Map(
      [...made.keys()].map((k) => {
        const [account, region] = k.split('/') as [string, string];
        return [k, guardKey(account, region)?.policy];
      }),
    );

    // Act: the backfill.
    const second = await backfill();

    // Assess: the same keys, the rest of the groups encrypted with them, nothing refused.
    expect(second.code, second.stderr).toBe(0);
    expect(second.report.totals.encrypted).toBe(MEMBERS.length * REGIONS.length * UNENCRYPTED);
    expect(second.stderr).not.toContain('without a function role');
    for (const account of MEMBERS)
      for (const region of REGIONS) {
        const key = guardKey(account, region);
        expect(key?.arn).toBe(made.get(`${account}/${region}`));
        expect(org.account(account).state.logGroup(region, '/app/g-0')?.kmsKeyId).toBe(key?.arn);

        // Act: the deployed function (a fresh container, after a stack update's key check) on a group created
        // after the backfill.
        const deployed = await deploy(account, region);
        const out = await newGroup(deployed, account, region, '/app/after-backfill');
        expect(deployed.keyCheck.keyArn).toBe(key?.arn);
        expect(out, `${account} ${region}`).toMatchObject({ outcome: 'encrypted', keyArn: key?.arn });
        expect(org.account(account).state.logGroup(region, '/app/after-backfill')?.kmsKeyId).toBe(key?.arn);
        // The backfill kept the function's key as it was: no policy change.
        expect(guardKey(account, region)?.policy).toEqual(policies.get(`${account}/${region}`));
      }
    for (const account of MEMBERS) expect(denials(account)).toEqual([]);
  });
});
