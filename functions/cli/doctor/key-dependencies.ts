/**
 * The `key-dependencies` check (issue 21 item 1): no log group's retained data depends on a PREVIOUS key that is
 * disabled or pending deletion (the guard's records on the groups, and CloudTrail's last 90 days, best effort:
 * cli/key-history.ts). Bounded in time: the groups whose tags were not read in time are named as unread.
 */
import { previousKeyLines, previousKeyRisks } from '../key-history.ts';
import { type CheckInput, type CheckResult, couldNot, finding } from './check.ts';

/** How long the check reads groups' tags (inside the runner's bound on one check). */
const TAG_READS_MS = 15_000;

/** `key-dependencies`: groups whose old data needs a previous key that is not usable. */
export async function checkKeyDependencies({
  clients,
  region,
  account,
}: Pick<CheckInput, 'clients' | 'region' | 'account'>): Promise<CheckResult> {
  try {
    const view = await previousKeyRisks({
      clients,
      region,
      account,
      readTags: true,
      deadline: Date.now() + TAG_READS_MS,
    });
    const { risks, notes } = previousKeyLines(view);
    const seen = `${view.groupsRead} group(s) read${view.trail.read ? ', CloudTrail 90 days' : ''}`;
    if (risks.length === 0) {
      return {
        findings: [
          finding(
            'key-dependencies',
            notes.length ? 'warn' : 'ok',
            `no log group depends on a previous key that is disabled or pending deletion (${seen})${notes.length ? `; ${notes.join('; ')}` : ''}`,
          ),
        ],
      };
    }
    const keys = [...new Set(view.risks.map((r) => r.key))];
    return {
      findings: [
        finding(
          'key-dependencies',
          'fail',
          `${risks.length} log group(s) hold data under a previous key that is disabled or pending deletion: ${risks.join('; ')}`,
          keys
            .map((k) =>
              view.risks.find((r) => r.key === k)?.keyState === 'Disabled'
                ? `aws kms enable-key --key-id ${k}`
                : `aws kms cancel-key-deletion --key-id ${k} && aws kms enable-key --key-id ${k}`,
            )
            .join('; '),
        ),
      ],
    };
  } catch (err) {
    return { findings: [couldNot('key-dependencies', err)] };
  }
}
