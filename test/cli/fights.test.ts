/**
 * How `audit` reads the fight records back and prints them (functions/cli/fights.ts): the report cell, the lines
 * after the report with each fix, and a refused read that leaves the audit going.
 */
import { describe, expect, it } from 'vitest';
import { fightsText, foughtLines, readFights } from '../../functions/cli/fights.ts';
import type { AuditRow } from '../../functions/cli/report.ts';
import { KEY_ARN } from '../helpers.ts';

describe('what audit prints of them', () => {
  const records = [
    {
      tool: 'terraform' as const,
      logGroupName: '/platform/audit',
      since: '2026-12-07T10:00:00.000Z',
      last: '2026-12-09T08:00:00.000Z',
    },
  ];
  it('one cell per group: tool, since, last', () => {
    expect(fightsText(records)).toBe('terraform since 2026-12-07 (last 2026-12-09)');
    expect(fightsText(undefined)).toBe('');
  });

  it('a headline, then each group with the fix for its tool and its key', () => {
    const row = {
      account: '123456789012',
      region: 'us-east-1',
      logGroup: '/platform/audit',
      kmsKeyId: KEY_ARN,
    } as AuditRow;
    const lines = foughtLines([{ row, records }]);
    expect(lines[0]).toMatch(/^1 log group\(s\) fought over by infrastructure as code/);
    expect(lines[1]).toContain(`/platform/audit: Terraform:`);
    expect(lines[1]).toContain(`kms_key_id = "${KEY_ARN}"`);
    expect(foughtLines([])).toEqual([]);
  });
});

describe('readFights', () => {
  it('a refusal is reported, not thrown: the audit goes on without the records', async () => {
    const denied = Object.assign(new Error('not authorized to perform: logs:DescribeLogStreams'), {
      name: 'AccessDeniedException',
    });
    const clients = {
      logs: {
        send: async (command: { constructor: { name: string } }) => {
          if (command.constructor.name === 'DescribeLogGroupsCommand') {
            return { logGroups: [{ logGroupName: '/aws/lambda/logs-kms-guard-prod-enforce' }] };
          }
          throw denied;
        },
      },
    } as unknown as Parameters<typeof readFights>[0];
    const read = await readFights(clients);
    expect(read.byGroup.size).toBe(0);
    expect(read.error).toMatch(/^AccessDeniedException: not authorized/);
  });
});
