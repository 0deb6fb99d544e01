/**
 * The finding → EventBridge event mapping (functions/core/findings/finding-event.ts) and the PutEvents batching
 * of the sink: pure, no emulator.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GuardFinding } from '../../../functions/core/finding.ts';
import { batchEntries, entrySize } from '../../../functions/core/findings/eventbridge-sink.ts';
import {
  DETAIL_TYPES,
  EVENT_SOURCE,
  findingEventDetail,
  findingEventEntry,
  MAX_DEPENDENTS,
} from '../../../functions/core/findings/finding-event.ts';
import { validate } from './json-schema.ts';
import { SAMPLE_FINDINGS } from './sample-findings.ts';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'events.schema.json'), 'utf8'));
const doc = readFileSync(path.join(root, 'docs', 'EVENTS.md'), 'utf8');

describe('finding events', () => {
  it('every kind has a detail-type, listed in the schema and documented in docs/EVENTS.md', () => {
    // Act
    const types = Object.values(DETAIL_TYPES);

    // Assess
    expect(schema.properties['detail-type'].enum).toEqual(types);
    expect(schema.definitions.Detail.properties.kind.enum).toEqual(Object.keys(DETAIL_TYPES));
    for (const type of types) expect(doc).toContain(`\`${type}\``);
    expect(doc).toContain(`\`${EVENT_SOURCE}\``);
  });

  it('the detail names the group or the key, the date and the fix', () => {
    // Act
    const [group, key] = SAMPLE_FINDINGS.map((f) => findingEventDetail(f));

    // Assess
    expect(group).toMatchObject({ logGroup: '/app/orders', account: '123456789012', region: 'eu-west-1' });
    expect(group?.fix).toContain('logs:AssociateKmsKey');
    expect(group).not.toHaveProperty('keyArn');
    expect(key).toMatchObject({ keyArn: expect.stringContaining(':key/'), dependentCount: 3 });
    expect(key?.unreadableFrom).toBe('2026-12-14T18:00:00.000Z');
  });

  it('a key with thousands of dependents still fits one event: 200 names and the full count', () => {
    // Prepare
    const many = Array.from({ length: 5000 }, (_, i) => `/app/group-${'x'.repeat(200)}-${i}`);
    const finding = { ...(SAMPLE_FINDINGS[1] as GuardFinding), dependents: many };

    // Act
    const entry = findingEventEntry(finding);
    const detail = JSON.parse(entry.Detail);

    // Assess
    expect(detail.dependents).toHaveLength(MAX_DEPENDENTS);
    expect(detail.dependentCount).toBe(5000);
    expect(entrySize(entry)).toBeLessThan(256 * 1024);
    expect(validate(detail, schema.definitions.Detail, schema)).toEqual([]);
  });

  it('batches hold at most 10 entries and 256 KB, in order', () => {
    // Prepare
    const small = Array.from({ length: 23 }, (_, i) =>
      findingEventEntry({ ...(SAMPLE_FINDINGS[0] as GuardFinding), title: `t${i}` }),
    );
    const big = Array.from({ length: 4 }, () =>
      findingEventEntry({ ...(SAMPLE_FINDINGS[0] as GuardFinding), description: 'd'.repeat(100_000) }),
    );

    // Act
    const smallBatches = batchEntries(small);
    const bigBatches = batchEntries(big);

    // Assess
    expect(smallBatches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(smallBatches.flat()).toEqual(small);
    expect(bigBatches.map((b) => b.length)).toEqual([2, 2]);
    for (const b of bigBatches)
      expect(b.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(256 * 1024);
  });

  it('the schema checker refuses what the schema forbids (a test of the test)', () => {
    // Prepare
    const detail = findingEventDetail(SAMPLE_FINDINGS[0] as GuardFinding);

    // Act
    const problems = validate({ ...detail, kind: 'nope', extra: 1 }, schema.definitions.Detail, schema);

    // Assess
    expect(problems).toEqual(['$.kind: "nope" not in enum', '$.extra: not allowed']);
  });
});
