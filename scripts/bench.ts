// npm run bench: logs-kms-guard's performance figures, each a ratio against a floor measured in the same run
// on this machine (a bare-SDK bundle, the AWS quotas, the propagation delay), over several repetitions.
// Everything runs offline against the bundled emulator; quotas and delays are time-scaled, and the guard's
// own clock is scaled by the same factor where it runs in-process. `npm run bench -- --help` for options;
// README "Performance" for the figures.
//
// This entry parses the arguments, runs the chosen sections (scripts/bench/sections/, one file per figure
// group) and prints the report; what is measured, and how, is in the sections.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type BenchArgs, parseArgs, type Section, USAGE } from './bench/args.ts';
import { ORG_USAGE, orgArgs } from './bench/org/args.ts';
import { childNodeVersion, commitId, root } from './bench/rig.ts';
import { SCALE_USAGE, scaleArgs } from './bench/scale/args.ts';
import { burstFigures } from './bench/sections/burst.ts';
import { coldAndCallFigures } from './bench/sections/cold.ts';
import { costFigures } from './bench/sections/cost.ts';
import { deployedKeyFigures } from './bench/sections/deployed.ts';
import { neighbourFigures } from './bench/sections/neighbour.ts';
import { orgFigures } from './bench/sections/org.ts';
import { propagationFigures } from './bench/sections/propagation.ts';
import { scaleFigures } from './bench/sections/scale.ts';
import { sharedFigures } from './bench/sections/shared.ts';
import { sizeFigures } from './bench/sections/size.ts';
import { sweepFigures } from './bench/sections/sweep.ts';
import { BURST_SCALE, PROPAGATION_SCALE, SHARED_SCALE, SWEEP_SCALE } from './bench/settings.ts';
import { type Figure, table } from './bench/stats.ts';
import { bundleOptions } from './esbuild-options.mjs';

// Progress goes to stderr, so that stdout holds only the report.
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Every option: the bench's own, and the scale and org sections' (taken out of argv first). */
interface CommandLine {
  args: BenchArgs;
  scale: ReturnType<typeof scaleArgs>;
  org: ReturnType<typeof orgArgs>;
}

/** One section as the entry runs it: its progress title, whether it was chosen, and what measures it. */
interface SectionRun {
  title: string;
  chosen: boolean;
  figures: () => Promise<Figure[]> | Figure[];
}

/** The command line parsed, the org and scale sections' options (scripts/bench/org/, scale/) first. */
function parseCommandLine(argv: string[]): CommandLine {
  const org = orgArgs(argv);
  const scale = scaleArgs(org.argv);
  return { args: parseArgs(scale.argv), scale, org };
}

/** The sections in the order they run, each with whether the command line chose it. */
function sectionRuns(
  { args, scale, org }: CommandLine,
  baselineBundle: string,
  tmp: string,
  collected: Figure[],
): SectionRun[] {
  const wants = (s: Section) => scale.others && org.others && (!args.only || args.only.includes(s));
  return [
    { title: 'bundle size', chosen: wants('size'), figures: () => sizeFigures(baselineBundle) },
    {
      title: 'cold start and API calls',
      chosen: wants('cold') || wants('calls'),
      figures: () => coldAndCallFigures(args, baselineBundle, wants, log),
    },
    { title: 'burst and peak memory', chosen: wants('burst'), figures: () => burstFigures(args, tmp, log) },
    { title: 'sweep', chosen: wants('sweep'), figures: () => sweepFigures(args, log) },
    { title: 'propagation', chosen: wants('propagation'), figures: () => propagationFigures(args, log) },
    { title: 'deployed key', chosen: wants('deployed'), figures: () => deployedKeyFigures(args, log) },
    { title: 'shared quota', chosen: wants('shared'), figures: () => sharedFigures(args, tmp, log) },
    {
      title: 'non-adapting neighbour',
      chosen: wants('neighbour'),
      figures: () => neighbourFigures(args, tmp, log),
    },
    // After burst and sweep: it prices the calls they measured (measuring a small sample itself when they did not run).
    { title: 'cost', chosen: wants('cost'), figures: () => costFigures(args, collected, tmp, log) },
    { title: 'scale', chosen: scale.run && org.others, figures: () => scaleFigures(scale.scale, tmp, log) },
    { title: 'org', chosen: org.run, figures: () => orgFigures(org.org, log) },
  ];
}

/** Runs the chosen sections in order, each timed on stderr, in a temp dir removed at the end. */
async function runSections(line: CommandLine): Promise<Figure[]> {
  const figures: Figure[] = [];
  // Never dist/ (deployable) nor the repository: a temp dir, removed at the end.
  const tmp = mkdtempSync(join(tmpdir(), 'logs-kms-guard-bench-'));
  try {
    const baselineBundle = join(tmp, 'baseline.mjs');
    await build(bundleOptions({ entry: join(root, 'scripts/bench/baseline.ts'), outfile: baselineBundle }));
    for (const section of sectionRuns(line, baselineBundle, tmp, figures)) {
      if (!section.chosen) continue;
      const t0 = Date.now();
      log(`${section.title}…`);
      figures.push(...(await section.figures()));
      log(`  ${section.title}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}

/** Prints the header, the settings and the table on stdout, and writes the JSON when asked. */
function report({ args, scale, org }: CommandLine, figures: Figure[], startedAt: number): void {
  const commit = commitId();
  const machine = {
    node: childNodeVersion(),
    benchNode: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
  };
  const totalS = (Date.now() - startedAt) / 1000;
  const settings = {
    reps: args.reps,
    runs: args.runs,
    propagationRuns: args.propagationRuns,
    deployRuns: args.deployRuns,
    neighbourRuns: args.neighbourRuns,
    burst: args.burst,
    sweepGroups: args.sweepGroups,
    ...(scale.run ? { scale: scale.scale } : {}),
    ...(org.run ? { org: org.org } : {}),
    timeScale: {
      burst: BURST_SCALE,
      sweep: SWEEP_SCALE,
      propagation: PROPAGATION_SCALE,
      shared: SHARED_SCALE,
    },
  };
  console.log(
    `logs-kms-guard bench · commit ${commit} · node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · ` +
      `${new Date(startedAt).toISOString()} · ${totalS.toFixed(0)} s\n` +
      `settings: ${args.reps} cold-start rounds, ${args.runs} run(s) of burst and sweep, ${args.propagationRuns} of propagation, ${args.deployRuns} of deployed key, ${args.neighbourRuns} of neighbour, burst ${args.burst}, ` +
      `sweep ${args.sweepGroups} groups; time scale ×${BURST_SCALE} burst, ×${SWEEP_SCALE} sweep, ×${PROPAGATION_SCALE} propagation, ×${SHARED_SCALE} shared quota, ×1 neighbour` +
      `${scale.run ? `; scale ${scale.scale.groups} groups (1 in ${scale.scale.every} unencrypted) ×${scale.scale.timeScale}` : ''}\n\n` +
      table(figures),
  );
  const missed = figures.filter((f) => f.met === false).map((f) => f.id);
  console.log(missed.length ? `\ngoals not met: ${missed.join(', ')}` : '\nevery goal met');
  if (args.json) {
    const doc = {
      commit,
      date: new Date(startedAt).toISOString(),
      durationS: totalS,
      machine,
      settings,
      figures,
    };
    writeFileSync(args.json, `${JSON.stringify(doc, null, 2)}\n`);
    log(`wrote ${args.json}`);
  }
}

/** The bench: 2 on a bad command line, 0 after the report (a goal not met is in the report, not the exit code). */
async function main(): Promise<number> {
  let line: CommandLine;
  try {
    line = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    return 2;
  }
  if (line.args.help) {
    console.log(`${USAGE}\n${SCALE_USAGE}\n${ORG_USAGE}`);
    return 0;
  }
  const startedAt = Date.now();
  const figures = await runSections(line);
  report(line, figures, startedAt);
  return 0;
}

process.exit(await main());
