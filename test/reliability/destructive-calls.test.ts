/**
 * Reliability suite, static: scans the project's source text for calls that could destroy or narrow a key;
 * no AWS, no emulator.
 *
 * Promise: a key the guard uses is never disabled, deleted or given a narrower policy by anything in the
 * project. Every place in the shipped code (functions/: both Lambdas and the CLI) and in the project's
 * tools (scripts/, infra/, local/ except the emulator, which answers these calls rather than making them)
 * that could disable a key, delete it, move or drop its alias, rewrite its policy or hand out grants is
 * listed below (REVIEWED) with the reason it is safe. A new call site fails this test until it is reviewed
 * here. The dynamic side is in race.test.ts and key-safety.test.ts (the retire path never hits the alias
 * key).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { figures } from './rig.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const SCANNED = ['functions', 'scripts', 'infra', 'local'];
const SKIPPED = new Set(['local/emulator']);

const OPERATIONS = [
  'DisableKey',
  'ScheduleKeyDeletion',
  'PutKeyPolicy',
  'DeleteAlias',
  'UpdateAlias',
  'CreateGrant',
  'RetireGrant',
  'RevokeGrant',
  'DeleteImportedKeyMaterial',
  'DisableKeyRotation',
];
const lower = (op: string) => `${op[0]?.toLowerCase()}${op.slice(1)}`;
const PATTERN = new RegExp(
  `\\b(${OPERATIONS.join('|')})(Command)?\\b|\\.(${OPERATIONS.map(lower).join('|')})\\(|kms:(${OPERATIONS.join('|')})\\b`,
);

interface Site {
  file: string;
  fn: string;
  operation: string;
}

/** Reviewed call sites: file, enclosing function, operation, and why the guard's key is safe from it. */
const REVIEWED: (Site & { why: string })[] = [
  {
    file: 'functions/core/change-event.ts',
    fn: 'keyCheckItem',
    operation: 'DeleteAlias',
    why: 'the name of a CloudTrail event the guard reads (KMS_CHANGES, top level after keyCheckItem): parsed, never called',
  },
  {
    file: 'functions/core/change-event.ts',
    fn: 'keyCheckItem',
    operation: 'DisableKey',
    why: 'the name of a CloudTrail event the guard reads (KMS_CHANGES, top level after keyCheckItem): parsed, never called',
  },
  {
    file: 'functions/core/change-event.ts',
    fn: 'keyCheckItem',
    operation: 'DisableKeyRotation',
    why: 'the name of a CloudTrail event the guard reads (KMS_CHANGES, top level after keyCheckItem): parsed, never called',
  },
  {
    file: 'functions/core/change-event.ts',
    fn: 'keyCheckItem',
    operation: 'PutKeyPolicy',
    why: 'the name of a CloudTrail event the guard reads (KMS_CHANGES, top level after keyCheckItem): parsed, never called',
  },
  {
    file: 'functions/core/change-event.ts',
    fn: 'keyCheckItem',
    operation: 'ScheduleKeyDeletion',
    why: 'the name of a CloudTrail event the guard reads (KMS_CHANGES, top level after keyCheckItem): parsed, never called',
  },
  {
    file: 'functions/core/change-event.ts',
    fn: 'keyCheckItem',
    operation: 'UpdateAlias',
    why: 'the name of a CloudTrail event the guard reads (KMS_CHANGES, top level after keyCheckItem): parsed, never called',
  },
  {
    file: 'functions/core/config.ts',
    fn: 'assertKeyInAccount',
    operation: 'PutKeyPolicy',
    why: 'named in the refusal message of a key in another account (KMS has no cross-account PutKeyPolicy): no call',
  },
  {
    file: 'functions/core/key.ts',
    fn: 'ensureKeyPolicy',
    operation: 'PutKeyPolicy',
    why:
      'writes only mergeKeyPolicy output (statements added or corrected by Sid; no statement the guard did not ' +
      'write is removed or changed: test/core/policy.test.ts properties; from its own key in use it drops only ' +
      'its own retire statement, which narrows what the guard may do, not what Logs may), only when it admits ' +
      'Logs; a configured key only with ALLOW_KEY_POLICY_UPDATE',
  },
  {
    file: 'functions/core/key-create.ts',
    fn: 'createKey',
    operation: 'PutKeyPolicy',
    why:
      'the alias winner writes defaultKeyPolicy (the policy it created the key with, minus the retire statement) ' +
      'to the key it created moments ago: Logs and root statements unchanged',
  },
  {
    file: 'functions/core/policy.ts',
    fn: '(top level)',
    operation: 'PutKeyPolicy',
    why:
      'grants, not calls: GUARD_ADMIN_ACTIONS lets the guard role merge the policy of the one key whose policy ' +
      'names it (its own); IAM grants PutKeyPolicy on no other key',
  },
  {
    file: 'infra/cli-policies.mjs',
    fn: '(top level)',
    operation: 'PutKeyPolicy',
    why:
      'grants, not calls: the enforce statements of the CLI across accounts (its session policy, and the optional ' +
      "StackSet CLI enforce role) keep kms:PutKeyPolicy without the lockout bypass, for the CLI's own " +
      'ensureKeyPolicy (mergeKeyPolicy output only); as a session policy it narrows the role',
  },
  {
    file: 'functions/core/policy.ts',
    fn: 'retireStatement',
    operation: 'ScheduleKeyDeletion',
    why:
      'a grant written only into a key the guard creates, removed when that key wins the alias (mergeKeyPolicy ' +
      'drops it too); IAM denies deletion of any aliased key besides',
  },
  {
    file: 'functions/core/key-protection.ts',
    fn: '(top level)',
    operation: 'DisableKey',
    why: 'Deny statements, not calls (issue 21 item 2): the key protection refuses this action to every principal but the break-glass roles; it narrows who may destroy the key, never what Logs may do',
  },
  {
    file: 'functions/core/key-protection.ts',
    fn: '(top level)',
    operation: 'ScheduleKeyDeletion',
    why: 'Deny statements, not calls (issue 21 item 2): the key protection refuses this action to every principal but the break-glass roles; it narrows who may destroy the key, never what Logs may do',
  },
  {
    file: 'functions/core/key-protection.ts',
    fn: '(top level)',
    operation: 'PutKeyPolicy',
    why: 'Deny statements, not calls (issue 21 item 2): the key protection refuses this action to every principal but the break-glass roles; it narrows who may destroy the key, never what Logs may do',
  },
  {
    file: 'functions/core/key-protection.ts',
    fn: 'deny',
    operation: 'PutKeyPolicy',
    why: 'Deny statements, not calls (issue 21 item 2): the key protection refuses this action to every principal but the break-glass roles; it narrows who may destroy the key, never what Logs may do',
  },
  {
    file: 'functions/core/key-protection.ts',
    fn: 'check',
    operation: 'PutKeyPolicy',
    why: 'reads a policy back (protectionStatus): no call',
  },
  {
    file: 'functions/cli/doctor/key-protection.ts',
    fn: 'protectionFinding',
    operation: 'DisableKey',
    why: "words of doctor's finding (who may delete or disable the key): no call",
  },
  {
    file: 'functions/cli/doctor/key-protection.ts',
    fn: 'protectionFinding',
    operation: 'ScheduleKeyDeletion',
    why: "words of doctor's finding (who may delete or disable the key): no call",
  },
  {
    file: 'functions/core/key.ts',
    fn: 'lockedOutByProtection',
    operation: 'PutKeyPolicy',
    why: "explains KMS's refusal of a PutKeyPolicy made in ensureKeyPolicy (reviewed above): no call of its own",
  },
  {
    file: 'infra/scp-protect-log-keys.mjs',
    fn: 'except',
    operation: 'DisableKey',
    why: 'an optional SCP that denies this action on guard keys to all but break-glass roles: a Deny, not a call',
  },
  {
    file: 'infra/scp-protect-log-keys.mjs',
    fn: 'except',
    operation: 'ScheduleKeyDeletion',
    why: 'an optional SCP that denies this action on guard keys to all but break-glass roles: a Deny, not a call',
  },
  {
    file: 'functions/core/key-create.ts',
    fn: 'schedule',
    operation: 'ScheduleKeyDeletion',
    why:
      'inside retireKey: only the key this invocation just created, when DescribeKey shows the alias holds another ' +
      'key or no key (never on a failed lookup), or such a key whose retiring failed before (KeyCache.orphans, ' +
      'filled by retireKey alone); IAM also denies it for any aliased key',
  },
  {
    file: 'functions/core/key-policy-finding.ts',
    fn: 'keyPolicyRepairedFinding',
    operation: 'PutKeyPolicy',
    why: 'the text of a finding telling people to look up CloudTrail PutKeyPolicy on the key: a word, not a call',
  },
  {
    file: 'scripts/bench/sections/record.ts',
    fn: 'recordFigures',
    operation: 'DisableKey',
    why: 'the benchmark disables a key of its own emulated account to measure the KeyAtRisk path: never AWS',
  },
];

function files(dir: string): string[] {
  const rel = path.relative(root, dir);
  if (SKIPPED.has(rel)) return [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : files(full);
    return /\.(ts|mts|mjs|js|cjs|ya?ml|json)$/.test(name) ? [full] : [];
  });
}

/** Call sites (imports and comments aside) with the function they are in. */
function scan(): Site[] {
  const sites: Site[] = [];
  for (const file of SCANNED.flatMap((d) => files(path.join(root, d)))) {
    const rel = path.relative(root, file);
    let fn = '(top level)';
    let inImport = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const decl =
        /^\s*(?:export\s+)?(?:async\s+)?function\s*\*?\s*(\w+)|^\s*(?:export\s+)?const\s+(\w+)\s*=\s*(?:async\s*)?\(/.exec(
          line,
        );
      if (decl) fn = (decl[1] ?? decl[2]) as string;
      if (/^\s*import\b/.test(line)) inImport = !/from\s+['"]|^\s*import\s+['"]/.test(line);
      const isImport = inImport || /^\s*import\b/.test(line) || /^\s*}\s*from\s+['"]/.test(line);
      if (/^\s*}\s*from\s+['"]/.test(line)) inImport = false;
      const code = line
        .replace(/\/\/.*$/, '')
        .replace(/^\s*\*.*$/, '')
        .replace(/^\s*#.*$/, '');
      if (isImport || !code.trim()) continue;
      for (const m of code.matchAll(new RegExp(PATTERN, 'g'))) {
        const operation = (m[1] ?? m[4] ?? OPERATIONS.find((op) => lower(op) === m[3])) as string;
        sites.push({ file: rel, fn, operation });
      }
    }
  }
  return sites;
}

describe('destructive KMS calls in the project', () => {
  it('each call site that could disable, delete, re-point or narrow a key is reviewed, and no other exists', () => {
    // Act
    const sites = scan();
    const key = (s: Site) => `${s.file} ${s.fn} ${s.operation}`;
    const found = [...new Set(sites.map(key))].sort();
    figures(
      `destructive calls: ${sites.length} call sites of ${OPERATIONS.length} KMS operations in ${SCANNED.join(', ')} ` +
        `(emulator excluded): ${found.join('; ')}; all reviewed`,
    );

    // Assess
    expect(found).toEqual(REVIEWED.map(key).sort());
    for (const r of REVIEWED) expect(r.why.length).toBeGreaterThan(40);
  });

  it('the retire path is reached only from createKey, after the alias holder is known', () => {
    // Prepare: key creation and retiring live in key-create.ts (the key's creators: the changes function, the CLI).
    const source = readFileSync(path.join(root, 'functions/core/key-create.ts'), 'utf8');
    const createKey = source.slice(
      source.indexOf('export async function createKey'),
      source.indexOf('async function retireKey'),
    );

    // Assess: one call inside createKey, guarded by the holder comparison (a failed lookup throws first), and one
    // in retireOrphans, over the keys retireKey itself recorded when their retiring failed (KeyCache.orphans).
    expect(source.match(/retireKey\(/g)).toHaveLength(3); // two calls and the definition
    expect(source.match(/orphans\?\.add\(/g)).toHaveLength(1);
    const retire = source.slice(
      source.indexOf('async function retireKey'),
      source.indexOf('async function retireOrphans'),
    );
    expect(retire).toMatch(/orphans\?\.add\(keyId\)/);
    expect(source).toMatch(
      /for \(const keyId of \[\.\.\.orphans\]\) await retireKey\(options, keyId, false\)/,
    );
    expect(createKey).toMatch(
      /if \(holder\?\.KeyId !== mine\.KeyId\) \{[^}]*retireKey\(options, mine\.KeyId\)/,
    );
    expect(createKey).not.toMatch(/describeKey\([^)]*\)\.catch\(/);
  });

  it('the scanner finds a new call site (it is not blind)', () => {
    // Prepare
    const probe = [
      'await kms.send(new DisableKeyCommand({ KeyId: k }));',
      'client.scheduleKeyDeletion({ KeyId: k });',
      "const actions = ['kms:UpdateAlias'];",
    ];

    // Assess
    for (const line of probe) expect(PATTERN.test(line)).toBe(true);
    expect(PATTERN.test("import { DisableKeyCommand } from '@aws-sdk/client-kms';")).toBe(true); // filtered by scan, not by the pattern
    expect(PATTERN.test('await kms.send(new DescribeKeyCommand({ KeyId: k }));')).toBe(false);
  });
});
