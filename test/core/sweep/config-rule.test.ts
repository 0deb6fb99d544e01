/** The Config rule's pure parts (functions/core/sweep/config-rule.ts): one group's compliance, and what to put. */
import { describe, expect, it } from 'vitest';
import { compilePatterns } from '../../../functions/core/scope.ts';
import {
  evaluationsToPut,
  type GroupCompliance,
  groupCompliance,
  isConfigRuleEvent,
} from '../../../functions/core/sweep/config-rule.ts';

const config = {
  include: [],
  exclude: compilePatterns(['/tmp/'], 'EXCLUDE_LOG_GROUPS'),
  skipTagKey: 'logs-kms-guard:skip',
};
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/k';

describe('groupCompliance', () => {
  it('a key is COMPLIANT; reserved aws/ and left-alone groups NOT_APPLICABLE; the rest NON_COMPLIANT', () => {
    // Act
    const types = {
      encrypted: groupCompliance(config, '/app', KEY, undefined).type,
      reservedEvenWithKey: groupCompliance(config, 'AWS/spans', KEY, undefined).type,
      excluded: groupCompliance(config, '/tmp/x', undefined, {}).type,
      optedOut: groupCompliance(config, '/app', undefined, { 'logs-kms-guard:skip': 'yes' }).type,
      optOutFalse: groupCompliance(config, '/app', undefined, { 'logs-kms-guard:skip': 'false' }).type,
      plain: groupCompliance(config, '/app', undefined, {}).type,
    };

    // Assess
    expect(types).toEqual({
      encrypted: 'COMPLIANT',
      reservedEvenWithKey: 'NOT_APPLICABLE',
      excluded: 'NOT_APPLICABLE',
      optedOut: 'NOT_APPLICABLE',
      optOutFalse: 'NON_COMPLIANT',
      plain: 'NON_COMPLIANT',
    });
    expect(groupCompliance(config, '/app', `${KEY}${'x'.repeat(300)}`, undefined).annotation.length).toBe(
      256,
    );
  });
});

describe('evaluationsToPut', () => {
  const at = new Date('2026-12-07T00:00:00Z');
  const c = (type: GroupCompliance['type']): GroupCompliance => ({ type, annotation: type });

  it("puts what differs from Config's view and NOT_APPLICABLE for groups it knows that are gone", () => {
    // Prepare
    const current = new Map([
      ['/same', c('COMPLIANT')],
      ['/fixed', c('COMPLIANT')],
      ['/new', c('NON_COMPLIANT')],
    ]);
    const known = new Map([
      ['/same', 'COMPLIANT'],
      ['/fixed', 'NON_COMPLIANT'],
      ['/gone', 'NON_COMPLIANT'],
      ['/gone-already', 'NOT_APPLICABLE'],
    ]);

    // Act
    const put = evaluationsToPut(current, known, at);

    // Assess
    expect(put.map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      ['/fixed', 'COMPLIANT'],
      ['/new', 'NON_COMPLIANT'],
      ['/gone', 'NOT_APPLICABLE'],
    ]);
    expect(
      put.every((e) => e.ComplianceResourceType === 'AWS::Logs::LogGroup' && e.OrderingTimestamp === at),
    ).toBe(true);
  });

  it("puts everything when Config's view could not be read", () => {
    // Act
    const put = evaluationsToPut(new Map([['/a', c('COMPLIANT')]]), undefined, at);

    // Assess
    expect(put).toHaveLength(1);
  });

  it('tells a Config invocation from the schedule and continuations', () => {
    expect(isConfigRuleEvent({ configRuleName: 'r', resultToken: 't', invokingEvent: '{}' })).toBe(true);
    expect(isConfigRuleEvent({})).toBe(false);
    expect(isConfigRuleEvent({ resume: { runId: 'x' } })).toBe(false);
  });
});
