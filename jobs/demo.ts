import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { daysInRange } from '../src/dates.js';
import { DEFAULT_MIX, ScenarioGenerator } from '../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../src/demo/write-scenario.js';
import type { Logger } from '../src/log/logger.js';
import { renderSummaryTable } from '../src/report/summary.js';
import { requireScratchFolder, requireWritableFolder } from '../src/report/writer.js';
import { UsageError } from '../src/errors.js';
import { terminalWidth, writeHtmlReport } from './finish.js';
import { runReconcile, type ReconcileResult } from './reconcile.js';

/** A fixed week that ends on a daylight-saving day in America/Chicago (23 hours long). */
export const DEMO_DAYS = daysInRange('2025-03-03', '2025-03-09');
export const DEMO_SEED = 20250309;

/** The files the demo makes in its data folder (relative paths): the tiers' objects and the config. */
const DEMO_FILE = /^(parity\.config\.json|(proxy|landed\/[\w-]+)\/dt=\d{4}-\d\d-\d\d\/[a-z0-9-]+-\d{4}\.jsonl(\.gz)?)$/;

/**
 * What in `dataDir` the demo did not make, as paths below it (the folder itself when it is a file or a link): a
 * run of the demo deletes the folder whole, to make it anew. Empty when it is not there.
 */
async function notTheDemos(dataDir: string): Promise<string[]> {
  const own = await lstat(dataDir).catch(() => undefined);
  if (own === undefined) return [];
  if (!own.isDirectory()) return [path.basename(dataDir)];
  const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
  return (
    entries
      .filter((e) => !e.isDirectory())
      // parentPath from Node 20.12; its older name before
      .map((e) =>
        path
          .relative(dataDir, path.join(e.parentPath ?? e.path, e.name))
          .split(path.sep)
          .join('/'),
      )
      .filter((rel) => !DEMO_FILE.test(rel))
      .sort()
  );
}

export interface DemoResult extends ReconcileResult {
  dataDir: string;
  configFile: string;
  outDir: string;
}

/** Makes a week of sample data with every cause present, then reconciles it like production. */
export async function runDemo(opts: {
  outDir: string;
  dataDir?: string;
  eventsPerDay?: number;
  signal?: AbortSignal;
  log?: Logger;
}): Promise<DemoResult> {
  const dataDir = opts.dataDir ?? path.join(opts.outDir, 'demo-data');
  // The folder is the demo's own: it is made anew, so anything else in it would be lost (before 0.3.7, silently).
  const foreign = await notTheDemos(dataDir);
  if (foreign.length > 0)
    throw new UsageError(
      '--out',
      `"${dataDir}" holds what the demo did not make ` +
        `(${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}), ` +
        'which making its sample data anew would delete: move it, or give demo another --out',
    );
  await rm(dataDir, { recursive: true, force: true });
  const gen = new ScenarioGenerator({
    seed: DEMO_SEED,
    days: DEMO_DAYS,
    timezone: 'America/Chicago',
    sites: ['US', 'CA', 'MX'],
    eventsPerDay: opts.eventsPerDay ?? 3000,
    mix: DEFAULT_MIX,
    malformedPerDay: 3,
    regions: ['EUS2', 'SCUS'],
  });
  const written = await writeScenario(gen, dataDir);
  const configFile = path.join(dataDir, 'parity.config.json');
  await writeScenarioConfig(configFile, gen, written);
  const config = await loadConfig(configFile);
  const result = await runReconcile({
    config,
    days: DEMO_DAYS,
    outDir: opts.outDir,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return { ...result, dataDir, configFile, outDir: opts.outDir };
}

/**
 * `parity demo`: the week reconciled, its HTML report, and what to open or run next. The sample holds
 * losses on purpose: FAIL rows are the demo working, so the exit status is 0 unless a row is ERROR (3).
 */
export async function demoCommand(outDir: string, signal: AbortSignal): Promise<number> {
  // As reconcile's --out: checked before anything is written (a path through a file, /proc).
  await requireScratchFolder(undefined);
  await requireWritableFolder(outDir, (why) => new UsageError('--out', `"${outDir}" cannot hold the demo: ${why}`));
  const result = await runDemo({ outDir, signal });
  const html = await writeHtmlReport(result, await loadConfig(result.configFile), outDir, 'demo');
  process.stdout.write(renderSummaryTable(result.days, { width: terminalWidth() }));
  process.stdout.write(`\nsample data and its config: ${result.dataDir}/ (${result.configFile})\n`);
  process.stdout.write(
    `reports: ${outDir}/parity-YYYY-MM-DD.csv, ${outDir}/missing-YYYY-MM-DD.csv, ${outDir}/windows-YYYY-MM-DD.csv ` +
      `(${result.days.length} days)\n`,
  );
  process.stdout.write(`for reading: ${html ?? '-'} (open it in a browser)\n`);
  process.stdout.write(
    `re-run on the same data: npx parity reconcile --config ${shellWord(result.configFile)} ` +
      `--from ${result.days[0]?.day} --to ${result.days.at(-1)?.day} --out ${shellWord(outDir)}\n`,
  );
  if (result.exitCode === 1)
    process.stdout.write(
      `(reconcile would exit 1 here: the rows under worst_rows FAIL, as the sample's injected losses intend)\n`,
    );
  return result.exitCode === 3 ? 3 : 0;
}

/** A path as one word of a POSIX shell command line, quoted only where it needs to be (a space, a quote, a $). */
export function shellWord(value: string): string {
  if (/^[\w/.:=@%+,-]+$/.test(value)) return value;
  const closeEscapeOpen = "'\\''"; // ' ends the quoted word, \' is a quote, ' begins the next
  return `'${value.split("'").join(closeEscapeOpen)}'`;
}
