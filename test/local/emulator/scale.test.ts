/**
 * DescribeLogGroups at scale through the real SDK, and the sorted name index behind it
 * (local/emulator/state.ts GroupTable): paging order, tokens across changes, prefixes and patterns; with a
 * fast-check property comparing the index to filter-and-sort.
 */
import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandInput,
  InvalidParameterException,
} from '@aws-sdk/client-cloudwatch-logs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compare, GroupRecord, GroupTable } from '../../../local/emulator/state.ts';
import { REGION } from '../../../local/world.ts';
import { rejection, setup } from './helpers.ts';

const pad = (i: number) => String(i).padStart(5, '0');

/** What DescribeLogGroups answered before the name index: filter and sort every group, then slice. */
function referencePage(
  names: Iterable<string>,
  q: { prefix?: string; needle?: string; after?: string; limit: number },
): { names: string[]; more: boolean } {
  const all = [...names]
    .filter((n) => q.prefix === undefined || n.startsWith(q.prefix))
    .filter((n) => q.needle === undefined || n.toLowerCase().includes(q.needle))
    .filter((n) => q.after === undefined || compare(n, q.after) > 0)
    .sort(compare);
  return { names: all.slice(0, q.limit), more: all.length > q.limit };
}

/** Every name of a listing, page by page through the API, each page's names. */
async function listAll(
  logs: Awaited<ReturnType<typeof setup>>['logs'],
  input: DescribeLogGroupsCommandInput,
  between?: (page: number) => Promise<void>,
): Promise<string[][]> {
  const pages: string[][] = [];
  let nextToken: string | undefined;
  do {
    const out = await logs.send(
      new DescribeLogGroupsCommand({ ...input, ...(nextToken ? { nextToken } : {}) }),
    );
    pages.push((out.logGroups ?? []).map((g) => g.logGroupName ?? ''));
    nextToken = out.nextToken;
    if (nextToken) await between?.(pages.length);
  } while (nextToken);
  return pages;
}

describe('CloudWatch Logs at scale: the sorted name index of DescribeLogGroups', () => {
  it('pages a region seeded in bulk in name order, every group exactly once', async () => {
    // Prepare: 5,000 groups put in reverse order, in bulk; every tenth unencrypted.
    const { logs, emulator } = await setup({ throttle: false });
    const names = Array.from({ length: 5_000 }, (_, i) => `/app/g-${pad(i)}`);
    const count = emulator.state.putLogGroups(REGION, [...names].reverse(), (_name, i) =>
      i % 10 === 0 ? undefined : { kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k' },
    );
    // Act
    const pages = await listAll(logs, {});
    // Assess
    expect(count).toBe(5_000);
    expect(pages).toHaveLength(100);
    expect(pages.flat()).toEqual(names);
    expect(emulator.state.logGroups(REGION).map((g) => g.name)).toEqual(names);
    expect(emulator.state.logGroup(REGION, '/app/g-04999')).toMatchObject({
      arn: 'arn:aws:logs:us-east-1:123456789012:log-group:/app/g-04999',
      tags: {},
    });
    expect(emulator.state.logGroup(REGION, '/app/g-04999')?.kmsKeyId).toBeUndefined();
    expect(emulator.state.logGroup(REGION, '/app/g-04998')?.kmsKeyId).toContain('key/k');
  });

  it('continues after its token across groups created and deleted between pages', async () => {
    // Prepare
    const { logs, emulator } = await setup({ throttle: false });
    const names = Array.from({ length: 300 }, (_, i) => `/g/${pad(i * 2)}`);
    emulator.state.putLogGroups(REGION, names);
    const created: string[] = [];
    const deleted: string[] = [];
    // Act: after page 1 (up to /g/00098), create one group before the token and one after it, delete one
    // not listed yet and the token's own group; after page 3, delete every group above /g/00400.
    const pages = await listAll(logs, { limit: 50 }, async (page) => {
      if (page === 1) {
        for (const n of ['/g/00001', '/g/00151']) {
          await logs.send(new CreateLogGroupCommand({ logGroupName: n }));
          created.push(n);
        }
        for (const n of ['/g/00200', '/g/00098']) {
          await logs.send(new DeleteLogGroupCommand({ logGroupName: n }));
          deleted.push(n);
        }
      }
      if (page === 3) {
        for (const n of names.slice(201)) {
          await logs.send(new DeleteLogGroupCommand({ logGroupName: n }));
          deleted.push(n);
        }
      }
    });
    // Assess: what the listing saw is what filter-and-sort answers page by page.
    const seen = pages.flat();
    expect(seen.slice(0, 50)).toEqual(names.slice(0, 50));
    expect(seen).not.toContain('/g/00001');
    expect(seen).toContain('/g/00151');
    expect(seen).not.toContain('/g/00200');
    expect(seen.filter((n) => n === '/g/00098')).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
    const after51 = [...names.slice(50, 201), '/g/00151'].filter((n) => n !== '/g/00200').sort(compare);
    expect(seen.slice(50)).toEqual(after51);
    expect(created).toHaveLength(2);
    expect(emulator.state.logGroups(REGION).map((g) => g.name)).toEqual(
      [...names.filter((n) => !deleted.includes(n)), ...created].sort(compare),
    );
  });

  it('a prefix lists exactly its run of the index, whatever sorts next to it', async () => {
    // Prepare: names around the prefix `/a/` in code-unit order ('.' < '/' < '0' < 'A' < '_' < 'a').
    const { logs, emulator } = await setup({ throttle: false });
    const names = [
      '/a',
      '/a.',
      '/a/',
      '/a/b',
      '/a/b/c',
      '/a/Z',
      '/a/_',
      '/a0',
      '/aa',
      '/A/x',
      '/a/z',
      '/b/a/',
    ];
    emulator.state.putLogGroups(REGION, names);
    // Act
    const pages = await listAll(logs, { logGroupNamePrefix: '/a/', limit: 2 });
    const none = await listAll(logs, { logGroupNamePrefix: '/a/zz' });
    const past = await listAll(logs, { logGroupNamePrefix: '/zzz' });
    // Assess
    expect(pages).toEqual([
      ['/a/', '/a/Z'],
      ['/a/_', '/a/b'],
      ['/a/b/c', '/a/z'],
    ]);
    expect(none).toEqual([[]]);
    expect(past).toEqual([[]]);
  });

  it('a pattern matches case-insensitively; a token only when another match follows', async () => {
    // Prepare: 2,000 groups, three of which contain "needle" in some case, far apart.
    const { logs, emulator } = await setup({ throttle: false });
    const names = Array.from({ length: 2_000 }, (_, i) => `/svc/${pad(i)}`);
    names[3] = '/svc/00003-NEEDLE';
    names[4] = '/svc/00004-needle';
    names[1_500] = '/svc/01500-NeEdLe-x';
    emulator.state.putLogGroups(REGION, names);
    // Act
    const two = await listAll(logs, { logGroupNamePattern: 'needle', limit: 2 });
    const three = await listAll(logs, { logGroupNamePattern: 'NEEDLE', limit: 3 });
    const nothing = await listAll(logs, { logGroupNamePattern: 'absent' });
    // Assess
    expect(two).toEqual([['/svc/00003-NEEDLE', '/svc/00004-needle'], ['/svc/01500-NeEdLe-x']]);
    expect(three).toEqual([['/svc/00003-NEEDLE', '/svc/00004-needle', '/svc/01500-NeEdLe-x']]);
    expect(nothing).toEqual([[]]);
  });

  it('a token naming a group that sorts anywhere (or no longer exists) continues after that name', async () => {
    // Prepare
    const { logs, emulator } = await setup({ throttle: false });
    emulator.state.putLogGroups(REGION, ['/a', '/b', '/c', '/d']);
    const token = (after: string) => Buffer.from(`after:${after}`).toString('base64url');
    // Act
    const fromGone = await logs.send(new DescribeLogGroupsCommand({ nextToken: token('/bb') }));
    const fromEnd = await logs.send(new DescribeLogGroupsCommand({ nextToken: token('/d') }));
    const bad = await rejection(logs.send(new DescribeLogGroupsCommand({ nextToken: 'bm90LWEtdG9rZW4' })));
    // Assess
    expect(fromGone.logGroups?.map((g) => g.logGroupName)).toEqual(['/c', '/d']);
    expect(fromGone.nextToken).toBeUndefined();
    expect(fromEnd.logGroups).toEqual([]);
    expect(bad).toBeInstanceOf(InvalidParameterException);
  });
});

interface Query {
  prefix: string | undefined;
  needle: string | undefined;
  after: string | undefined;
  limit: number;
}

describe('GroupTable: the index against filter-and-sort', () => {
  const arb = {
    name: fc
      .constantFrom('/a', '/a/', '/a/b', '/ab', '/b', '/B', '/a.', '/a0')
      .chain((p) => fc.integer({ min: 0, max: 3_000 }).map((i) => `${p}${i % 7 === 0 ? 'X' : ''}${i}`)),
    query: fc.record({
      prefix: fc.option(fc.constantFrom('', '/a', '/a/', '/ab', '/b', '/a/b1', '/zz'), { nil: undefined }),
      needle: fc.option(fc.constantFrom('x', '1', '/a', '99'), { nil: undefined }),
      after: fc.option(fc.constantFrom('/a', '/a/15', '/a/b', '/ab2', '/b', '/c', '/'), { nil: undefined }),
      limit: fc.integer({ min: 1, max: 50 }),
    }),
  };
  // Batches of changes between listings: few (splice), some (merge) and many (rebuild from the keys).
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), names: fc.array(arb.name, { maxLength: 40 }) }),
    fc.record({ kind: fc.constant('delete' as const), names: fc.array(arb.name, { maxLength: 40 }) }),
    fc.record({ kind: fc.constant('bulk' as const), count: fc.integer({ min: 1_000, max: 2_500 }) }),
    fc.record({ kind: fc.constant('clear' as const) }),
    fc.record({ kind: fc.constant('list' as const), query: arb.query }),
  );

  it('answers every page as filter-and-sort does, across adds, deletes, bulk loads and clears', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 30 }),
        fc.array(arb.query, { minLength: 1, maxLength: 5 }),
        (ops, finals) => {
          const table = new GroupTable('arn:aws:logs:us-east-1:123456789012:log-group:');
          const model = new Set<string>();
          const put = (name: string) => {
            table.set(name, new GroupRecord(table.arnPrefix, name, 0));
            model.add(name);
          };
          const check = (q: Query) => {
            const query = {
              limit: q.limit,
              ...(q.prefix !== undefined ? { prefix: q.prefix } : {}),
              ...(q.needle !== undefined ? { needle: q.needle } : {}),
              ...(q.after !== undefined ? { after: q.after } : {}),
            };
            const got = table.page(query);
            expect({ names: got.groups.map((g) => g.name), more: got.more }).toEqual(
              referencePage(model, query),
            );
          };
          for (const o of ops) {
            if (o.kind === 'add') for (const n of o.names) put(n);
            else if (o.kind === 'delete')
              for (const n of o.names) expect(table.delete(n)).toBe(model.delete(n));
            else if (o.kind === 'bulk') for (let i = 0; i < o.count; i++) put(`/a/b${i}`);
            else if (o.kind === 'clear') {
              table.clear();
              model.clear();
            } else check(o.query);
          }
          for (const q of finals) check(q);
          expect(table.names()).toEqual([...model].sort(compare));
          expect(table.size).toBe(model.size);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('re-adding a deleted name, or deleting a name not yet indexed, leaves the index exact', () => {
    // Prepare
    const table = new GroupTable('p:');
    const put = (n: string) => table.set(n, new GroupRecord(table.arnPrefix, n, 0));
    for (const n of ['c', 'a', 'b']) put(n);
    expect(table.names()).toEqual(['a', 'b', 'c']);
    // Act
    table.delete('b');
    put('b');
    put('d');
    table.delete('d');
    put('a'); // an existing name: replaced, not indexed twice
    // Assess
    expect(table.names()).toEqual(['a', 'b', 'c']);
    expect(table.get('a')?.arn).toBe('p:a');
  });
});
