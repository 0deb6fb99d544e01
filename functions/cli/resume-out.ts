/**
 * Where a resumed run writes its report: never over the report of the run it resumes. An interrupted
 * `audit --out report.html` left a report of every group it listed; its resume command names the same file,
 * and the resumed run lists only what is left, so writing there would shrink the report (issue 20, item 2).
 * The resumed run writes a new file next to it instead, and says so.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/** The first free `<name>.resumed[-N]<ext>` next to `path` (`exists` says whether a path is taken). */
export function resumedPath(path: string, exists: (p: string) => boolean): string {
  const ext = extname(path);
  const stem = basename(path, ext);
  for (let n = 1; ; n++) {
    const candidate = join(dirname(path), `${stem}.resumed${n === 1 ? '' : `-${n}`}${ext}`);
    if (!exists(candidate)) return candidate;
  }
}

/** The `--out` a run writes to: `out` itself, unless this is a resumed run and `out` already holds a report. */
export function reportPath(out: string | undefined, resuming: boolean): string | undefined {
  if (!out || !resuming) return out;
  const holdsReport = existsSync(out) && statSync(out).isFile() && statSync(out).size > 0;
  return holdsReport ? resumedPath(out, existsSync) : out;
}
