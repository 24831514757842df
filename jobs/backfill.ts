import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Config } from '../src/config.js';
import { addDays } from '../src/dates.js';
import type { DayKey, RowStatus } from '../src/domain.js';
import type { Logger } from '../src/log/logger.js';
import type { BigqueryRangeReader } from '../src/tiers/bigquery-reader.js';
import type { KafkaTierReader } from '../src/tiers/kafka-reader.js';
import { parseManifest, type RunMetadata } from '../src/report/manifest.js';
import { sha256OfFile } from '../src/report/writer.js';
import { type DaySummary, type ReconcileResult, runReconcile } from './reconcile.js';

/** Batches reconciled at once; each holds its own engine and memory limit. */
export const MAX_BACKFILL_CONCURRENCY = 4;

export interface BackfillResult extends ReconcileResult {
  skipped: DayKey[];
}

/**
 * A day's reports are current when its manifest says they were made, without ERROR, by this
 * version under this config, and the files on disk are the ones it names.
 */
export async function currentStatus(outDir: string, day: DayKey, run: RunMetadata): Promise<RowStatus | null> {
  let text: string;
  try {
    text = await readFile(path.join(outDir, `manifest-${day}.json`), 'utf8');
  } catch {
    return null;
  }
  const m = parseManifest(text);
  if (!m || m.status === 'ERROR' || m.configHash !== run.configHash || m.version !== run.version) return null;
  if ((await sha256OfFile(path.join(outDir, m.files.parity.name))) !== m.files.parity.sha256) return null;
  if (m.files.missing !== null && (await sha256OfFile(path.join(outDir, m.files.missing.name))) !== m.files.missing.sha256) return null;
  return m.status;
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

/** Long ranges, resumable: days whose reports are current are skipped unless `force`. */
export async function runBackfill(opts: {
  config: Config;
  days: DayKey[];
  outDir: string;
  force: boolean;
  concurrency: number;
  run: RunMetadata;
  signal?: AbortSignal;
  log?: Logger;
  onDay?: (s: DaySummary) => void;
  kafka?: KafkaTierReader;
  bigquery?: BigqueryRangeReader;
  publish?: (files: string[]) => Promise<void>;
}): Promise<BackfillResult> {
  const skipped: DayKey[] = [];
  const todo: DayKey[] = [];
  let skippedFail = false;
  for (const day of opts.days) {
    const status = opts.force ? null : await currentStatus(opts.outDir, day, opts.run);
    if (status === null) todo.push(day);
    else {
      skipped.push(day);
      skippedFail ||= status === 'FAIL';
    }
  }
  if (skipped.length > 0) opts.log?.info(`skipping ${skipped.length} days whose reports are current (--force to redo them)`, { skipped: skipped.length });
  const limit = pLimit(Math.min(Math.max(1, opts.concurrency), MAX_BACKFILL_CONCURRENCY));
  const results = await Promise.all(
    contiguousBatches(todo, opts.config.engine.batchDays).map((days) => limit(() => runReconcile({ ...opts, days }))),
  );
  const days = results.flatMap((r) => r.days).sort((a, b) => (a.day < b.day ? -1 : 1));
  const exitCode = results.reduce<0 | 1 | 3>((worst, r) => (r.exitCode === 3 || worst === 3 ? 3 : r.exitCode === 1 ? 1 : worst), skippedFail ? 1 : 0);
  return { days, exitCode, errors: results.flatMap((r) => r.errors), skipped };
}
