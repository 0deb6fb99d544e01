/**
 * The doctor's `centralization` check (functions/cli/doctor/centralization.ts) on fixtures shaped as the
 * observabilityadmin API answers (GetCentralizationRuleForOrganization; test/cli/fixtures/centralization/): a
 * rule with EncryptedLogGroupStrategy=SKIP over the region fails, with the fix; ALLOW, or SKIP in other regions
 * only, is ok; the file forms `--centralization-rules` accepts, and what it refuses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkCentralization,
  parseRulesFile,
  skipsEncryptedGroups,
  staticRulesSource,
} from '../../../functions/cli/doctor/centralization.ts';
import { UsageError } from '../../../functions/cli/errors.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/centralization/${name}`, import.meta.url), 'utf8');

describe('centralization rules that skip encrypted log groups', () => {
  it('fails for a SKIP rule over the region, naming the rule, the destination and the fix', async () => {
    const rules = parseRulesFile(fixture('skip-rule.json'), 'skip-rule.json');
    const result = await checkCentralization(staticRulesSource(rules), 'eu-west-1');
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ check: 'centralization', status: 'fail' });
    expect(result.findings[0]?.detail).toMatch(
      /rule central-logs has EncryptedLogGroupStrategy=SKIP: every log group the guard encrypts in eu-west-1 stops being centralized to account 222222222222/,
    );
    expect(result.findings[0]?.fix).toMatch(/EncryptedLogGroupStrategy to ALLOW/);
  });

  it('is ok with ALLOW, and with SKIP only in other regions', async () => {
    const rules = parseRulesFile(fixture('rules.json'), 'rules.json');
    const result = await checkCentralization(staticRulesSource(rules), 'us-east-1');
    expect(result.findings).toEqual([
      {
        check: 'centralization',
        status: 'ok',
        detail: '2 organization centralization rule(s): none skips encrypted log groups in us-east-1',
      },
    ]);
    const eu = await checkCentralization(staticRulesSource(rules), 'eu-west-1');
    expect(eu.findings.map((f) => f.status)).toEqual(['fail']);
  });

  it('says nothing when no rules were given', async () => {
    expect((await checkCentralization(undefined, 'us-east-1')).findings).toEqual([]);
  });

  it('a rule without Regions covers every region', () => {
    const rule = {
      CentralizationRule: { Source: { SourceLogsConfiguration: { EncryptedLogGroupStrategy: 'SKIP' } } },
    };
    expect(skipsEncryptedGroups(rule, 'ap-south-1')).toBe(true);
  });

  it('accepts one Get answer, a list, or {CentralizationRules}; refuses anything else as a usage error', () => {
    const one = fixture('skip-rule.json');
    expect(parseRulesFile(one, 'f')).toHaveLength(1);
    expect(parseRulesFile(`[${one},${one}]`, 'f')).toHaveLength(2);
    expect(parseRulesFile(fixture('rules.json'), 'f')).toHaveLength(2);
    expect(() => parseRulesFile('{"RuleName": "x"}', 'r.json')).toThrow(UsageError);
    expect(() => parseRulesFile('not json', 'r.json')).toThrow(/--centralization-rules r.json: not JSON/);
  });
});
