/**
 * A log group an infrastructure-as-code tool keeps taking the key from (functions/core/fight.ts through
 * drift.ts handleChange), against aws-sdk-client-mock: the key is put back at every fight; the first fight
 * over a group raises IacConflict once, with one error line and one finding whose fix names the real guard
 * key ARN; later fights (also from another container, also after the tool stripped any tag) raise nothing.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ChangeRequest, parseGuardEvent } from '../../functions/core/change-event.ts';
import { loadConfig } from '../../functions/core/config.ts';
import { handleChange } from '../../functions/core/drift.ts';
import { FINDING_MESSAGE } from '../../functions/core/finding.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, KEY_ARN, loadEvent, memoryLog } from '../helpers.ts';

const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const clients = {
  kms: new KMSClient({ region: REGION }),
  logs: new CloudWatchLogsClient({ region: REGION }),
};
const OWN = '/aws/lambda/logs-kms-guard-prod-enforce';
const home = { account: ACCOUNT, region: REGION };

/** The streams of the function's own log group, shared by every "container" of a test. */
let streams: Set<string>;

function change(file: string, eventId: string): ChangeRequest {
  const event = loadEvent(file);
  event.detail.eventID = eventId;
  const parsed = parseGuardEvent(event, home);
  if (parsed.kind !== 'change') throw new Error(`not a change: ${JSON.stringify(parsed)}`);
  return parsed;
}

function deps(alerts: string[], log = memoryLog(), ownLogGroup: string | null = OWN) {
  const clock = fakeClock();
  return {
    clients,
    config: loadConfig({}),
    log,
    deadline: clock.now() + 60_000,
    clock,
    alert: (metric: string) => alerts.push(metric),
    ...(ownLogGroup ? { ownLogGroup } : {}),
  };
}

describe('a group fought over by infrastructure as code', () => {
  beforeEach(() => {
    kms.reset();
    logs.reset();
    clearKeyCache();
    streams = new Set();
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        KeyId: 'k',
        Arn: KEY_ARN,
        KeyState: 'Enabled',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
      },
    });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
    // After each apply the group has no key; the tool stripped every tag it does not declare.
    logs.on(DescribeLogGroupsCommand).callsFake(async (input: { logGroupNamePrefix: string }) => ({
      logGroups: [{ logGroupName: input.logGroupNamePrefix }],
    }));
    logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
    logs.on(AssociateKmsKeyCommand).resolves({});
    logs.on(CreateLogStreamCommand).callsFake(async (input: { logStreamName: string }) => {
      if (streams.has(input.logStreamName)) {
        throw Object.assign(new Error('The specified log stream already exists'), {
          name: 'ResourceAlreadyExistsException',
        });
      }
      streams.add(input.logStreamName);
      return {};
    });
  });

  it('the first fight alarms once, names the tool and group, and prints the fix with the real key ARN', async () => {
    // Prepare
    const alerts: string[] = [];
    const log = memoryLog();

    // Act
    const out = await handleChange(
      change('logs-disassociate-kms-key-terraform.json', 'e1'),
      deps(alerts, log),
    );

    // Assess: re-encrypted, one alarm, one line, one finding
    expect(out).toMatchObject({
      outcome: 'fight-re-encrypted',
      logGroupName: '/platform/audit',
      keyArn: KEY_ARN,
    });
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(1);
    expect(alerts).toEqual(['IacConflict']);
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('Terraform');
    expect(errors[0]?.message).toContain('/platform/audit');
    expect(errors[0]?.extra?.fix).toContain(`kms_key_id = "${KEY_ARN}"`);
    expect(errors[0]?.extra?.fix).toContain('lifecycle { ignore_changes = [kms_key_id] }');
    const findings = log.lines.filter((l) => l.message === FINDING_MESSAGE);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.extra?.finding).toMatchObject({
      kind: 'group-fought-over',
      tool: 'terraform',
      resource: { type: 'log-group', name: '/platform/audit' },
      fix: expect.stringContaining(KEY_ARN),
    });
    expect([...streams]).toEqual(['logs-kms-guard-fight/terraform//platform/audit']);
  });

  it('repeated fights (every apply, in any container) put the key back each time and alarm no more', async () => {
    // Prepare
    const alerts: string[] = [];
    const log = memoryLog();

    // Act: five applies, each handled by a fresh container (no memory but the record)
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      clearKeyCache();
      outcomes.push(
        await handleChange(change('logs-disassociate-kms-key-terraform.json', `e${i}`), deps(alerts, log)),
      );
    }

    // Assess
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(5).fill('fight-re-encrypted'));
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(5);
    expect(alerts).toEqual(['IacConflict']);
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(log.lines.filter((l) => l.message === FINDING_MESSAGE)).toHaveLength(1);
    // One call per fight for the record, none other.
    expect(logs.commandCalls(CreateLogStreamCommand)).toHaveLength(5);
  });

  it('each tool its own fix: Pulumi, CloudFormation, CDK', async () => {
    const alerts: string[] = [];
    const log = memoryLog();
    for (const [file, part] of [
      ['logs-disassociate-kms-key-pulumi.json', `kmsKeyId: "${KEY_ARN}"`],
      ['logs-disassociate-kms-key-cloudformation.json', `KmsKeyId: ${KEY_ARN}`],
      ['logs-disassociate-kms-key-cdk.json', `fromKeyArn(this, 'GuardKey', '${KEY_ARN}')`],
    ] as const) {
      clearKeyCache();
      await handleChange(change(file, file), deps(alerts, log));
      expect(log.lines.filter((l) => l.level === 'error').at(-1)?.extra?.fix).toContain(part);
    }
    expect(alerts).toEqual(['IacConflict', 'IacConflict', 'IacConflict']);
  });

  it('the AWS CLI or the console: re-encrypted as before (ReEncrypted), no fight recorded', async () => {
    const alerts: string[] = [];
    for (const file of ['logs-disassociate-kms-key.json', 'logs-disassociate-kms-key-console.json']) {
      clearKeyCache();
      const out = await handleChange(change(file, file), deps(alerts));
      expect(out.outcome).toBe('re-encrypted');
    }
    expect(alerts).toEqual([]);
    expect(streams.size).toBe(0);
  });

  it('nowhere to record (no own log group) or the record failing: the alarm still goes out, once per container', async () => {
    // Prepare
    const alerts: string[] = [];
    const noOwnGroup = () => deps(alerts, memoryLog(), null);

    // Act: no own log group, twice for one group; then the record refused for another group
    await handleChange(change('logs-disassociate-kms-key-pulumi.json', 'a'), noOwnGroup());
    clearKeyCache();
    await handleChange(change('logs-disassociate-kms-key-pulumi.json', 'b'), noOwnGroup());
    logs
      .on(CreateLogStreamCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    clearKeyCache();
    const out = await handleChange(change('logs-disassociate-kms-key-cdk.json', 'c'), deps(alerts));

    // Assess
    expect(out.outcome).toBe('fight-re-encrypted');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(3);
    expect(alerts).toEqual(['IacConflict', 'IacConflict']);
  });
});
