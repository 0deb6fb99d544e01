/**
 * The checks of what the user typed that need no AWS call, made before the first one: region names against the
 * built-in list (with a suggestion for a typo), a key of the run's region, an `--out` path that can be written,
 * a profile the shared files define, a log group name AWS does not reserve, and messages in the user's terms (the
 * flag typed, else the environment variable). Each returns the problem as text (undefined when none), so that
 * it is tested without AWS and without mocks; context.ts and the commands turn it into a UsageError (exit 2).
 */
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isReservedLogGroupName, RESERVED_REASON } from '../core/scope.ts';

/** Edit distance (Levenshtein) between two strings: insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (d[i - 1]?.[j] ?? 0) + 1,
        (d[i]?.[j - 1] ?? 0) + 1,
        (d[i - 1]?.[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (d[i - 2]?.[j - 2] ?? 0) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return d[a.length]?.[b.length] ?? 0;
}

/** The known region nearest to `typed` (at most 3 edits away), for "did you mean …?". */
export function nearestRegion(typed: string, known: readonly string[]): string | undefined {
  let best: { region: string; distance: number } | undefined;
  for (const region of known) {
    const distance = editDistance(typed.toLowerCase(), region);
    if (distance <= 3 && (!best || distance < best.distance)) best = { region, distance };
  }
  return best?.region;
}

/** Why `region` (given through `source`, e.g. `--region`) is not a region the CLI knows, with a suggestion. */
export function regionProblem(region: string, source: string, known: readonly string[]): string | undefined {
  if (known.includes(region)) return undefined;
  const near = nearestRegion(region, known);
  return `${source}: "${region}" is not an AWS region${near ? `; did you mean ${near}?` : ` (known regions: ${known.join(', ')})`}`;
}

/**
 * Why a key ARN cannot serve the run's regions: a KMS key lives in one region and CloudWatch Logs only uses a
 * key of the log group's own region, so a key of another region would fail once per group at run time.
 */
export function keyRegionProblem(
  keyArn: string,
  source: string,
  regions: readonly string[],
): string | undefined {
  const keyRegion = keyArn.split(':')[3] ?? '';
  const others = regions.filter((r) => r !== keyRegion);
  if (others.length === 0) return undefined;
  return (
    `${source} names a key of region ${keyRegion}, but this run covers ${others.join(', ')}: CloudWatch Logs uses ` +
    `only a key of the log group's own region. Pass --region ${keyRegion}, or leave ${source} out to use the ` +
    'guard key (--key-alias), found or created in each region'
  );
}

/**
 * Why a report cannot be written to `path`, checked up front: a missing folder, a folder, no write permission, a
 * symbolic link (never followed: the report would land wherever it points), or an existing file unless
 * `overwrite` (`--force`, or a resumed run, which writes next to an existing report: resume-out.ts).
 */
export function outPathProblem(path: string, options: { overwrite?: boolean } = {}): string | undefined {
  const full = resolve(path);
  const folder = dirname(full);
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(full);
  } catch {}
  if (existing?.isSymbolicLink())
    return `--out ${path}: is a symbolic link; a report is never written through one (name the file itself)`;
  if (existing?.isDirectory()) return `--out ${path}: is a folder; name a file`;
  let folderStat: ReturnType<typeof statSync> | undefined;
  try {
    folderStat = statSync(folder);
  } catch {}
  if (!folderStat) return `--out ${path}: the folder ${folder} does not exist`;
  if (!folderStat.isDirectory()) return `--out ${path}: ${folder} is not a folder`;
  if (existing && !options.overwrite)
    return `--out ${path}: the file exists; pass --force to overwrite it, or name another file`;
  try {
    accessSync(existing ? full : folder, constants.W_OK);
  } catch {
    return `--out ${path}: ${existing ? 'the file' : `the folder ${folder}`} is not writable`;
  }
  return undefined;
}

/** The shared config and credentials files the SDK reads (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws). */
export function sharedFiles(env: Record<string, string | undefined>): {
  config: string;
  credentials: string;
} {
  const home = env.HOME || env.USERPROFILE || homedir();
  return {
    config: env.AWS_CONFIG_FILE || join(home, '.aws', 'config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'),
  };
}

/** The profile names an INI file defines: `[profile x]` or `[default]` in config, `[x]` in credentials. */
export function profilesIn(text: string, kind: 'config' | 'credentials'): string[] {
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line);
    if (!m?.[1]) continue;
    const section = m[1];
    if (kind === 'credentials') names.push(section);
    else if (section === 'default') names.push('default');
    else {
      const p = /^profile\s+(.+)$/.exec(section);
      if (p?.[1]) names.push(p[1].trim());
    }
  }
  return names;
}

/**
 * Why `profile` (given through `source`) cannot be used: no shared file defines it. `files` are the files read,
 * each with its text (undefined when missing).
 */
export function profileProblem(
  profile: string,
  source: string,
  files: { path: string; kind: 'config' | 'credentials'; text: string | undefined }[],
): string | undefined {
  if (files.some((f) => f.text !== undefined && profilesIn(f.text, f.kind).includes(profile)))
    return undefined;
  const read = files.map((f) => `${f.path}${f.text === undefined ? ' (missing)' : ''}`).join(', ');
  return `${source}: profile "${profile}" is not in the shared config or credentials files (read: ${read}); check the name (aws configure list-profiles) or the files`;
}

/** Why `name` cannot be associated with a key: AWS reserves `aws/…` names, and CloudWatch Logs refuses them. */
export function reservedGroupProblem(name: string): string | undefined {
  return isReservedLogGroupName(name) ? `--log-group ${name}: ${RESERVED_REASON}` : undefined;
}

/** The flags that stand for an environment variable of the guard's configuration. */
export const FLAG_OF_ENV: Readonly<Record<string, string>> = {
  KMS_KEY_ARN: '--key-arn',
  KMS_KEY_ALIAS: '--key-alias',
  GUARD_ROLE_ARN: '--function-role',
  INCLUDE_LOG_GROUPS: '--include',
  EXCLUDE_LOG_GROUPS: '--exclude',
  DRY_RUN: '--dry-run',
};

/**
 * A configuration message in the user's terms: each environment variable named in it whose value came from a
 * flag (`fromFlags`) is replaced by that flag; the others stay, as the user set them in the environment.
 */
export function inUserTerms(message: string, fromFlags: ReadonlySet<string>): string {
  let text = message;
  for (const [env, flag] of Object.entries(FLAG_OF_ENV)) {
    if (fromFlags.has(env)) text = text.replace(new RegExp(`\\b${env}\\b`, 'g'), flag);
  }
  return text;
}
