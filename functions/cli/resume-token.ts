/**
 * The opaque `--resume-token` of an interrupted run, and the command line that resumes it: what is left to do
 * travels in the token, so the resumed run needs no state file. Version 1 names regions of one account (still
 * read), version 2 the account × region pairs of a run across accounts.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { UsageError } from './errors.ts';
import { shellQuote } from './shell.ts';

/** The opaque `--resume-token`: region, DescribeLogGroups token, the regions still to do. */
export interface ResumePoint {
  command: string;
  region: string;
  nextToken?: string;
  rest: string[];
}

/** The token for a resume point (base64url JSON, versioned). */
export function encodeResume(point: ResumePoint): string {
  const raw = { v: 1, c: point.command, r: point.region, t: point.nextToken, rest: point.rest };
  return Buffer.from(JSON.stringify(raw)).toString('base64url');
}

/** The resume point of a token, refused when it is not one this tool printed or belongs to another command. */
export function decodeResume(token: string, command: string): ResumePoint {
  let raw: { v?: number; c?: string; r?: string; t?: string; rest?: unknown };
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new UsageError('--resume-token is not a token this tool printed');
  }
  if (raw.v !== 1 || typeof raw.r !== 'string' || !Array.isArray(raw.rest)) {
    throw new UsageError('--resume-token is not a token this tool printed');
  }
  if (raw.c !== command) throw new UsageError(`--resume-token was printed by "${raw.c}", not "${command}"`);
  return {
    command,
    region: raw.r,
    ...(typeof raw.t === 'string' ? { nextToken: raw.t } : {}),
    rest: raw.rest.filter((r): r is string => typeof r === 'string'),
  };
}

/** The variable `--external-id` may come from instead: the id then stays out of shell history and printed commands. */
export const EXTERNAL_ID_ENV = 'LOGS_KMS_GUARD_EXTERNAL_ID';

/**
 * The command line to resume: the original arguments, without any old token, plus the new one. An
 * `--external-id` is a shared secret and is never printed: it becomes `--external-id "$LOGS_KMS_GUARD_EXTERNAL_ID"`,
 * which says where to put it (an unset variable is refused with that advice, see org.ts).
 */
export function resumeCommand(argv: string[], token: string): string {
  const kept: string[] = [];
  let externalId = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--resume-token' || a === '--external-id') {
      externalId ||= a === '--external-id';
      i++;
      continue;
    }
    if (a.startsWith('--external-id=')) externalId = true;
    if (a.startsWith('--resume-token=') || a.startsWith('--external-id=')) continue;
    kept.push(a);
  }
  const secret = externalId ? ` --external-id "$${EXTERNAL_ID_ENV}"` : '';
  return `${['logs-kms-guard', ...kept].map(shellQuote).join(' ')}${secret} --resume-token ${shellQuote(token)}`;
}

/**
 * The resume command as printed after `label` ("resume with"): a command that reads the external ID from
 * LOGS_KMS_GUARD_EXTERNAL_ID is preceded by a line saying to set that variable first (the ID is never printed).
 */
export function resumeText(label: string, command: string): string {
  const note = command.includes(`"$${EXTERNAL_ID_ENV}"`)
    ? `(the command reads the external ID from ${EXTERNAL_ID_ENV}: set it first, e.g. read -rs ${EXTERNAL_ID_ENV}; export ${EXTERNAL_ID_ENV})\n`
    : '';
  return `${label}:\n${note}  ${command}`;
}

/** What a resumed run that listed nothing says instead of a new resume command: its own token still holds. */
export const RERUN_SAME_TOKEN =
  'nothing was listed, so no new resume command: after fixing that, run the same command again (its --resume-token still holds what is left)';

/** One account × region still to do, in a token: account, region, DescribeLogGroups token. */
export interface TokenPair {
  a: string;
  r: string;
  t?: string;
}

/** The resume token of a run over pairs: compressed, since an organization can leave thousands to do. */
export function encodeAcross(command: string, pairs: TokenPair[]): string {
  const raw = JSON.stringify({ v: 2, c: command, p: pairs.map((p) => (p.t ? [p.a, p.r, p.t] : [p.a, p.r])) });
  return `2.${deflateRawSync(raw).toString('base64url')}`;
}

/** Reads a token of `encodeAcross` (or a single-account token of earlier versions, for `account`). */
export async function decodeAcross(
  token: string,
  command: string,
  account: () => Promise<string>,
): Promise<TokenPair[]> {
  if (!token.startsWith('2.')) {
    const point = decodeResume(token, command);
    const a = await account();
    return [
      { a, r: point.region, ...(point.nextToken ? { t: point.nextToken } : {}) },
      ...point.rest.map((r) => ({ a, r })),
    ];
  }
  let raw: { v?: number; c?: string; p?: unknown };
  try {
    raw = JSON.parse(inflateRawSync(Buffer.from(token.slice(2), 'base64url')).toString('utf8'));
  } catch {
    throw new UsageError('--resume-token is not a token this tool printed');
  }
  if (raw.v !== 2 || !Array.isArray(raw.p))
    throw new UsageError('--resume-token is not a token this tool printed');
  if (raw.c !== command) throw new UsageError(`--resume-token was printed by "${raw.c}", not "${command}"`);
  return raw.p
    .filter((x): x is string[] => Array.isArray(x) && typeof x[0] === 'string' && typeof x[1] === 'string')
    .map(([a, r, t]) => ({ a: a as string, r: r as string, ...(typeof t === 'string' ? { t } : {}) }));
}
