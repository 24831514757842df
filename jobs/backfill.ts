import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { MAX_BACKFILL_CONCURRENCY } from '../src/args.js';
import { addDays } from '../src/dates.js';
import type { DayKey } from '../src/domain.js';
import { AbortedError } from '../src/errors.js';
import { exitCodeFor } from '../src/exit.js';
import type { Config } from '../src/config.js';
import { type Logger, silentLogger } from '../src/log/logger.js';
import { type DayManifest, MANIFEST_FILE_KINDS, type RunMetadata } from '../src/report/manifest.js';
import { readManifest, worstOf } from '../src/report/day-writer.js';
import { parseParityCsv } from '../src/report/parity-reader.js';
import { parseWindowsCsv } from '../src/report/windows-reader.js';
import { daySpan, zoneOfSite } from '../src/site-zones.js';
import { sha256OfFile } from '../src/report/writer.js';
import {
  engineMemoryOf,
  type ReconcileRequest,
  type ReconcileResult,
  runReconcile,
  volumeLedgerFor,
} from './reconcile.js';

export { MAX_BACKFILL_CONCURRENCY };

export interface BackfillResult extends ReconcileResult {
  skipped: DayKey[];
}

/**
 * A day's reports are current when its manifest says they were made, without ERROR, for every
 * configured site, by this version under this config, and the files on disk are the ones it names.
 * Returns that manifest then (its status is the day's worst), else null.
 */
export async function currentManifest(
  outDir: string,
  day: DayKey,
  run: RunMetadata,
  sites: readonly string[],
  /** When the day is over in every zone of the config: a report made before then counted part of it. */
  overMs: number,
): Promise<DayManifest | null> {
  const m = await intactManifest(outDir, day);
  if (!m || m.status === 'ERROR' || m.configHash !== run.configHash || m.version !== run.version) return null;
  // Made while the day was still running (a backfill to today): it is redone, not taken as current for good.
  if (!(Date.parse(m.asOf) >= overMs)) return null;
  // A report made for fewer sites (reconcile --sites) is not the whole day.
  if (!Array.isArray(m.sites) || m.sites.join(',') !== sites.join(',')) return null;
  return m;
}

/**
 * `day`'s manifest when the files it names are that day's own, beside it in `outDir`, each as it was
 * written (its sha256): the windows and mismatch files too, which a run's HTML report reads back. Null
 * otherwise: a manifest copied from another day, one naming a file elsewhere (`../x.csv`), or a file edited since.
 */
export async function intactManifest(outDir: string, day: DayKey): Promise<DayManifest | null> {
  const m = await readManifest(path.join(outDir, `manifest-${day}.json`), day);
  if (!m) return null;
  for (const kind of MANIFEST_FILE_KINDS) {
    const f = m.files[kind];
    if (!f) continue;
    if (f.name !== `${kind}-${day}.csv`) return null;
    // A file that cannot be read (EACCES, a folder in its place) is no intact report: the day is redone, and its
    // write then names the file (exit 5); before 0.3.7 the read's error was exit 4, a bug.
    const sha = await sha256OfFile(path.join(outDir, f.name)).catch(() => undefined);
    if (sha !== f.sha256) return null;
  }
  return m;
}

/**
 * The rows of skipped days, from their parity reports in `outDir` (current, so made under this
 * config), with their manifests' as-of time: the run's summaries, alert, HTML report and history cover
 * its whole range, not only the days it redid (a run stopped before its end sent no alert for the days it
 * finished). A report that cannot be read back is left out of them, with a warning.
 */
export async function readEarlierDays(
  outDir: string,
  manifests: DayManifest[],
  config: Config,
  log: Logger | undefined,
  unread = "the day is left out of the run's summaries and HTML report",
): Promise<NonNullable<ReconcileResult['earlier']>> {
  const regions = config.tiers.kafka ? Object.keys(config.tiers.kafka.clusters) : [];
  const formulaGuard = config.reports.csvFormulaGuard;
  const out: NonNullable<ReconcileResult['earlier']> = [];
  for (const { day, asOf, files } of manifests) {
    try {
      const rows = parseParityCsv(await readFile(path.join(outDir, files.parity.name), 'utf8'), regions, formulaGuard);
      const windows = files.windows
        ? parseWindowsCsv(await readFile(path.join(outDir, files.windows.name), 'utf8'), formulaGuard)
        : [];
      const worstWindow = worstOf(windows, (site) => zoneOfSite(config, site));
      if (rows.length > 0) out.push({ day, rows, asOf, worstWindow });
    } catch (e) {
      log?.warn(`${day}: its report could not be read back (${(e as Error).message}); ${unread}`);
    }
  }
  return out;
}

/** Consecutive runs of days, cut to at most `size` days: the units a backfill reconciles. */
export function contiguousBatches(days: DayKey[], size: number): DayKey[][] {
  const batches: DayKey[][] = [];
  for (const day of days) {
    const last = batches.at(-1);
    if (last && last.length < size && addDays(last.at(-1)!, 1) === day) last.push(day);
    else batches.push([day]);
  }
  return batches;
}

/**
 * The batches dealt out to `concurrency` lanes in turn, each lane's days one run of runReconcile: a lane opens its
 * engine once, and once a batch of it did not fit in the engine's memory, its later batches start at the size that
 * fitted (before 0.3.7 each batch was a run of its own: it opened an engine, and ran out of memory, each time). A
 * lane's batches never touch (another lane's lie between), so the lane reads them apart, as they were cut. Pure.
 */
export function lanesOf(batches: readonly DayKey[][], concurrency: number): DayKey[][] {
  const n = Math.max(1, Math.min(concurrency, MAX_BACKFILL_CONCURRENCY, batches.length));
  const lanes: DayKey[][] = Array.from({ length: n }, () => []);
  batches.forEach((batch, i) => lanes[i % n]!.push(...batch));
  return lanes.filter((lane) => lane.length > 0);
}

/** Long ranges, resumable: days whose reports are current are skipped unless `force`. */
export async function runBackfill(
  opts: Omit<ReconcileRequest, 'sites' | 'run'> & {
    force: boolean;
    concurrency: number;
    run: RunMetadata;
    /** Told the days the run will reconcile (those not skipped), before it reads any (for a progress bar). */
    onPlan?: (days: readonly DayKey[]) => void;
  },
): Promise<BackfillResult> {
  const current: DayManifest[] = [];
  const todo: DayKey[] = [];
  for (const day of opts.days) {
    const over = daySpan(day, opts.config).endMs;
    const manifest = opts.force ? null : await currentManifest(opts.outDir, day, opts.run, opts.config.sites, over);
    if (manifest === null) todo.push(day);
    else current.push(manifest);
  }
  // A skipped day counts as its report says, read back (not as its manifest's status says): one that cannot be
  // read back, or whose rows say ERROR whatever its manifest says, is redone.
  const earlier = (await readEarlierDays(opts.outDir, current, opts.config, opts.log, 'the day is redone')).filter(
    (e) => !e.rows.some((r) => r.status === 'ERROR'),
  );
  const skipped = earlier.map((e) => e.day);
  const kept = new Set(skipped);
  todo.push(...current.filter((m) => !kept.has(m.day)).map((m) => m.day));
  todo.sort();
  const skippedStatuses = earlier.flatMap((e) => e.rows.flatMap((r) => r.status ?? []));
  if (skipped.length > 0)
    opts.log?.info(`skipping ${skipped.length} days whose reports are current (--force to redo them)`, {
      skipped: skipped.length,
    });
  // The days left to do are the progress bar's.
  opts.onPlan?.(todo);
  const limit = pLimit(Math.min(Math.max(1, opts.concurrency), MAX_BACKFILL_CONCURRENCY));
  // Batches run at once: each day's volume guard reads the reports as they were before any of them wrote,
  // and the days of this run before it, as a run of the days in order would (VolumeLedger).
  const volumeLedger = await volumeLedgerFor(opts.config, opts.outDir, todo, opts.log ?? silentLogger);
  // The first batch that fails stops its siblings, and all are waited for: none is left writing.
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  const onOuterAbort = () => inner.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let settled: PromiseSettledResult<ReconcileResult>[];
  const lanes = lanesOf(contiguousBatches(todo, opts.config.engine.batchDays), opts.concurrency);
  // One limit for every lane, said once (a derived one is shared among them).
  const memory =
    lanes.length > 0 ? await engineMemoryOf(opts.config, lanes.length, opts.log ?? silentLogger) : undefined;
  try {
    settled = await Promise.allSettled(
      lanes.map((days) =>
        limit(async () => {
          if (inner.signal.aborted) throw new AbortedError();
          try {
            return await runReconcile({
              ...opts,
              days,
              signal: inner.signal,
              volumeLedger,
              ...(memory ? { memory } : {}),
            });
          } catch (e) {
            inner.abort();
            throw e;
          }
        }),
      ),
    );
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
  const rejected = settled
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as unknown);
  if (rejected.length > 0) throw rejected.find((e) => !(e instanceof AbortedError)) ?? rejected[0];
  const results = settled.map((r) => (r as PromiseFulfilledResult<ReconcileResult>).value);
  const days = results.flatMap((r) => r.days).sort((a, b) => (a.day < b.day ? -1 : 1));
  // The skipped days count with their reports' statuses (never ERROR: such a day is redone).
  const exitCode = exitCodeFor([...skippedStatuses, ...days.flatMap((d) => d.rows.flatMap((r) => r.status ?? []))]);
  return { days, exitCode, errors: results.flatMap((r) => r.errors), skipped, earlier };
}
