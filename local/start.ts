/**
 * `npm start`: the whole job on one machine. Starts the emulator, wires its CloudTrail events through a
 * local queue into the real enforce bundle (dist/enforce.mjs), plays a realistic scene and prints what
 * the emulator shows at the end. Exit 0 only when every in-scope group is encrypted and the DLQ is empty.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXCLUDE_PATTERNS, type GroupResult, runScene } from './scene.ts';

const HELP = `Usage: npm start -- [options]

Plays a realistic scene against the bundled AWS emulator: log groups created the way Lambda, ECS,
CloudFormation and CodeBuild create them, a few excluded by configuration, one opted out by tag, one
created with its own key, one deleted before its event is handled; KMS propagation delay and the real
API quotas on. Shows progress, then a table of what the emulator shows for each group.

Options:
  --groups N                 log groups to create (default 25)
  --time-scale N             emulator time scale: quotas x N, delays / N (default 1: real time)
  --propagation-delay-ms N   how long CloudWatch Logs takes to see KMS changes (default 3000)
  --event-delay-ms N         CloudTrail -> EventBridge delivery delay (default 500)
  --duplicate-rate X         fraction of events delivered twice (default 0)
  --fault-rate X             fraction of Logs calls failing with injected transient errors (default 0)
  --concurrency N            enforce containers, as the queue's maximumConcurrency (default 2)
  --timeout-s N              give up after N seconds (default 300)
  --log FILE                 where the enforce function's JSON logs and metrics go (default .local/enforce.log)
  --allow-real-account       required to run against anything but the bundled emulator (never needed here)
  -h, --help                 this text

Examples:
  npm start
  npm start -- --groups 1000 --time-scale 20
  npm start -- --propagation-delay-ms 60000 --time-scale 30`;

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        groups: { type: 'string', default: '25' },
        'time-scale': { type: 'string', default: '1' },
        'propagation-delay-ms': { type: 'string', default: '3000' },
        'event-delay-ms': { type: 'string', default: '500' },
        'duplicate-rate': { type: 'string', default: '0' },
        'fault-rate': { type: 'string', default: '0' },
        concurrency: { type: 'string', default: '2' },
        'timeout-s': { type: 'string', default: '300' },
        log: { type: 'string', default: '.local/enforce.log' },
        'allow-real-account': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
})();
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

function num(name: keyof typeof values, min: number, max: number): number {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < min || v > max) fail(`--${name} must be a number from ${min} to ${max}`);
  return v;
}
const groups = num('groups', 5, 100_000);
const timeScale = num('time-scale', 0.1, 1000);
const propagationDelayMs = num('propagation-delay-ms', 0, 3_600_000);
const eventDelayMs = num('event-delay-ms', 0, 3_600_000);
const duplicateRate = num('duplicate-rate', 0, 1);
const faultRate = num('fault-rate', 0, 0.9);
const concurrency = num('concurrency', 1, 50);
const timeoutS = num('timeout-s', 1, 86_400);

// The scene creates log groups. It only ever talks to the in-process emulator; an AWS_ENDPOINT_URL or
// real credentials in the environment are ignored, and pointing it elsewhere needs an explicit flag.
if (process.env.AWS_ENDPOINT_URL && !values['allow-real-account']) {
  process.stderr.write(
    `npm start: ignoring AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL}: the scene creates log groups and runs only ` +
      'against the bundled emulator (pass --allow-real-account to acknowledge; it still uses the emulator).\n',
  );
}
for (const k of ['AWS_ENDPOINT_URL', 'AWS_PROFILE', 'AWS_SESSION_TOKEN']) delete process.env[k];

// The enforce function writes JSON logs and EMF metrics to stdout, as in Lambda: send them to a file.
mkdirSync('.local', { recursive: true });
const logFile = createWriteStream(values.log as string);
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  if (text.startsWith('{')) return logFile.write(text);
  return write(chunk as string, ...(rest as []));
}) as typeof process.stdout.write;
const tty = process.stderr.isTTY;

process.stderr.write(
  `logs-kms-guard local run: ${groups} log groups, time scale ${timeScale}, propagation delay ${propagationDelayMs} ms, ` +
    `exclude ${EXCLUDE_PATTERNS}\nenforce logs: ${values.log}\n`,
);
let lastLine = '';
const result = await runScene({
  groups,
  timeScale,
  propagationDelayMs,
  eventDelayMs,
  duplicateRate,
  faultRate,
  concurrency,
  timeoutMs: timeoutS * 1000,
  onProgress: ({ created, encrypted, expected, dlq }) => {
    const line = `created ${created}/${groups}  encrypted ${encrypted}/${expected}  dlq ${dlq}`;
    if (tty) process.stderr.write(`\r${line}   `);
    else if (line !== lastLine && (encrypted === expected || created % 25 === 0))
      process.stderr.write(`${line}\n`);
    lastLine = line;
  },
});
if (tty) process.stderr.write('\n');

const short = (arn?: string) => (arn ? `…${arn.slice(-12)}` : '-');
const seconds = (r: GroupResult) =>
  r.encryptedAt !== undefined ? ((r.encryptedAt - r.createdAt) / 1000).toFixed(2) : '-';
const rows = result.groups.map((r) => [
  r.name,
  short(r.keyArn),
  r.expect,
  r.actual,
  seconds(r),
  r.ok ? 'ok' : 'WRONG',
]);
const header = ['log group', 'key', 'expected', 'emulator shows', 'to encrypted (s)', ''];
const shown = groups > 60 ? [...rows.filter((r) => r[5] !== 'ok').slice(0, 40), ...rows.slice(0, 20)] : rows;
const widths = header.map((h, i) => Math.max(h.length, ...shown.map((r) => String(r[i]).length)));
const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
process.stdout.write(`${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
for (const r of shown) process.stdout.write(`${fmt(r)}\n`);
if (shown.length < rows.length) process.stdout.write(`… ${rows.length - shown.length} more rows not shown\n`);

const times = result.groups
  .filter((r) => r.encryptedAt !== undefined)
  .map((r) => (r.encryptedAt as number) - r.createdAt)
  .sort((a, b) => a - b);
const pct = (p: number) =>
  times.length ? (times[Math.min(times.length - 1, Math.floor(p * times.length))] as number) / 1000 : 0;
const count = (f: (r: GroupResult) => boolean) => result.groups.filter(f).length;
process.stdout.write(
  `\ntotals: ${count((r) => r.actual === 'encrypted-guard-key')} encrypted by the guard, ` +
    `${count((r) => r.expect === 'excluded' || r.expect === 'skip-tag')} left alone by configuration or tag, ` +
    `${count((r) => r.actual === 'own-key')} kept their own key, ${count((r) => r.actual === 'gone')} deleted; ` +
    `${count((r) => !r.ok)} wrong\n` +
    `time to encrypted: median ${pct(0.5).toFixed(2)} s, p95 ${pct(0.95).toFixed(2)} s, max ${pct(1).toFixed(2)} s\n` +
    `guard keys live: ${result.liveGuardKeys}; DLQ: ${result.dlq}; invocations: ${result.invocations}; ` +
    `API calls: ${result.apiCalls} (${result.throttled} throttled); wall time ${(result.elapsedMs / 1000).toFixed(1)} s\n` +
    `${result.ok ? 'OK: every in-scope group is encrypted and nothing is in the DLQ' : 'FAILED: see the rows marked WRONG and the enforce log'}\n`,
);
logFile.end();
process.exit(result.ok ? 0 : 1);
