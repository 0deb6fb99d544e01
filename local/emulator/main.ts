/**
 * `npm run emulator`: the KMS + CloudWatch Logs emulator in the foreground (with `--org FILE`: an organization of
 * several accounts behind one endpoint, org.ts).
 * Prints one line `endpoint: http://127.0.0.1:PORT` on stdout when ready; AWS's defaults unless flags say otherwise.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ApiCall, EmulatorOptions } from './emulator.ts';
import type { IamOptions } from './iam.ts';
import { startOrgEmulator } from './org.ts';
import type { OrgEmulatorOptions } from './org-model.ts';
import { startEmulator } from './server.ts';

const HELP = `Usage: npm run emulator -- [options]

A local emulator of the KMS and CloudWatch Logs APIs the guard uses (awsJson1_1, loopback only).
Point the SDK at it with AWS_ENDPOINT_URL=<endpoint> and any credentials.

  --port N                  port to listen on (default 0: a free port)
  --account ID              account id (default 123456789012)
  --time-scale N            quotas x N, delays / N (default 1: real time)
  --propagation-delay-ms N  how stale CloudWatch Logs' view of KMS is, before scaling (default 3000)
  --no-throttle             turn off the per-account quotas (default: on, at AWS's rates)
  --fault-rate X            probability of an injected fault per mutating Logs call (default 0)
  --event-delay-ms N        CloudTrail event delivery delay, before scaling (default 0)
  --seed N                  seed for faults and event delivery (default 1)
  --iam FILE                IAM authorization: a JSON file of { principals, admins?, authorizationLagMs? }
  --org FILE                an organization of several accounts behind one endpoint (Organizations, STS
                            AssumeRole, then KMS/Logs/SQS/Lambda per account): a JSON file of
                            { management, accounts: [{ id, name?, status?, ou?, roles?, externalId?,
                            refuseRole?, enabledRegions?, options? }], organizationId?, ous? } and any emulator
                            option; the flags above (but --account) apply to every account and win over the file
  --stats                   on SIGUSR2, print one line \`stats: {...}\` on stdout: the API calls received since
                            the previous such line (per account, region and operation: how many, how many
                            throttled, errors by name, first and last at), and the STS / Organizations calls
  --verbose                 log every request to stderr
  --help                    show this help
`;

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name}: expected a non-negative number, got '${value}'\n`);
    process.exit(2);
  }
  return n;
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      port: { type: 'string' },
      account: { type: 'string' },
      'time-scale': { type: 'string' },
      'propagation-delay-ms': { type: 'string' },
      'no-throttle': { type: 'boolean' },
      'fault-rate': { type: 'string' },
      'event-delay-ms': { type: 'string' },
      seed: { type: 'string' },
      iam: { type: 'string' },
      org: { type: 'string' },
      stats: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
}
try {
  parsed = parse();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (values.account !== undefined && !/^\d{12}$/.test(values.account)) {
  process.stderr.write(`--account: expected 12 digits, got '${values.account}'\n`);
  process.exit(2);
}
const timeScale = number('time-scale', values['time-scale']);
if (timeScale === 0) {
  process.stderr.write('--time-scale: must be greater than 0\n');
  process.exit(2);
}

/** The --iam file as IamOptions (exits 2 when it cannot be read or has no principals object). */
function iamOptions(file: string | undefined): IamOptions | undefined {
  if (file === undefined) return undefined;
  try {
    const options = JSON.parse(readFileSync(file, 'utf8')) as IamOptions;
    if (typeof options?.principals !== 'object' || options.principals === null)
      throw new Error('no principals');
    return options;
  } catch (err) {
    process.stderr.write(`--iam: cannot use '${file}': ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const iam = iamOptions(values.iam);

/** The --org file as OrgEmulatorOptions (exits 2 when it cannot be read or has no management / accounts). */
function orgOptions(file: string | undefined): OrgEmulatorOptions | undefined {
  if (file === undefined) return undefined;
  try {
    const options = JSON.parse(readFileSync(file, 'utf8')) as OrgEmulatorOptions;
    if (typeof options?.management !== 'string') throw new Error('no management account id');
    if (!Array.isArray(options.accounts)) throw new Error('no accounts array');
    return options;
  } catch (err) {
    process.stderr.write(`--org: cannot use '${file}': ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const org = orgOptions(values.org);
if (org && values.account !== undefined) {
  process.stderr.write('--account: not with --org (the file names the accounts)\n');
  process.exit(2);
}

// Only the flags given, so that an --org file's own settings stand unless a flag overrides them.
const faultRate = number('fault-rate', values['fault-rate']);
const seed = number('seed', values.seed);
const eventDelayMs = number('event-delay-ms', values['event-delay-ms']);
const flags: EmulatorOptions = {
  ...(timeScale !== undefined ? { timeScale } : {}),
  ...(values['propagation-delay-ms'] !== undefined
    ? { propagationDelayMs: number('propagation-delay-ms', values['propagation-delay-ms']) }
    : {}),
  ...(values['no-throttle'] ? { throttle: false } : {}),
  ...(faultRate !== undefined ? { faultRate } : {}),
  ...(seed !== undefined ? { seed } : {}),
  ...(eventDelayMs !== undefined ? { events: { delayMs: eventDelayMs } } : {}),
  ...(iam ? { iam } : {}),
  ...(values.verbose ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
};
const port = number('port', values.port);

const emulator = org
  ? await startOrgEmulator({ ...org, ...flags, port: port ?? org.port ?? 0 }).catch((err: Error) => {
      process.stderr.write(`--org: ${err.message}\n`);
      process.exit(2);
    })
  : await startEmulator({
      port: port ?? 0,
      ...(values.account ? { account: values.account } : {}),
      throttle: true,
      faultRate: 0,
      seed: 1,
      events: { delayMs: 0 },
      ...flags,
    });
process.stdout.write(`endpoint: ${emulator.endpoint}\n`);

if (values.stats) {
  // The calls since the previous stats line, counted per account, region and operation (bench: throttled share).
  const sources = (): [string, readonly ApiCall[]][] =>
    'accounts' in emulator
      ? emulator.accounts.map((id) => [id, emulator.account(id).calls])
      : [[emulator.account, emulator.calls]];
  const offsets = new Map<string, number>();
  type Tally = { n: number; throttled: number; errors: Record<string, number>; first: number; last: number };
  const tally = (t: Tally | undefined, at: number, error: string | undefined): Tally => {
    const out = t ?? { n: 0, throttled: 0, errors: {}, first: at, last: at };
    out.n++;
    out.first = Math.min(out.first, at);
    out.last = Math.max(out.last, at);
    if (error === 'ThrottlingException') out.throttled++;
    if (error) out.errors[error] = (out.errors[error] ?? 0) + 1;
    return out;
  };
  process.on('SIGUSR2', () => {
    const accounts: Record<string, Record<string, Record<string, Tally>>> = {};
    for (const [id, calls] of sources()) {
      const from = offsets.get(id) ?? 0;
      offsets.set(id, calls.length);
      for (let i = from; i < calls.length; i++) {
        const c = calls[i] as ApiCall;
        const regions = accounts[id] ?? {};
        accounts[id] = regions;
        const ops = regions[c.region] ?? {};
        regions[c.region] = ops;
        ops[c.operation] = tally(ops[c.operation], c.at, c.error);
      }
    }
    const org: Record<string, Tally> = {};
    if ('accounts' in emulator) {
      const from = offsets.get('org') ?? 0;
      offsets.set('org', emulator.calls.length);
      for (const c of emulator.calls.slice(from)) {
        const op = `${c.service}.${c.operation}`;
        org[op] = tally(org[op], c.at, c.error);
      }
    }
    process.stdout.write(`stats: ${JSON.stringify({ at: Date.now(), accounts, org })}\n`);
  });
}

const shutdown = async () => {
  await emulator.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
