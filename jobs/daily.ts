import path from 'node:path';
import type { Config } from '../src/config.js';
import { addDays, FIRST_DAY } from '../src/dates.js';
import { UsageError } from '../src/errors.js';
import type { DayKey } from '../src/domain.js';
import type { Logger } from '../src/log/logger.js';
import { readManifest } from '../src/report/day-writer.js';
import { todayOf } from '../src/site-zones.js';
import { intactManifest, readEarlierDays } from './backfill.js';
import { type ReconcileRequest, type ReconcileResult, runReconcile } from './reconcile.js';

export interface DailyResult extends ReconcileResult {
  yesterday: DayKey;
  /** Earlier days whose reports late records changed. */
  restated: DayKey[];
}

/** The days the morning run covers: `lateDays` days before yesterday, then yesterday, in the configured zone. */
export function dailyDays(today: DayKey, lateDays: number): DayKey[] {
  const yesterday = addDays(today, -1);
  return Array.from({ length: lateDays + 1 }, (_, i) => addDays(yesterday, i - lateDays));
}

/**
 * Every day the morning run may cover, oldest first: the `catchUpDays` days before its re-check window,
 * then the window (dailyDays). The run reads the reports of all of them; it reconciles the window, and of
 * the days before it only those catchUp picks.
 */
export function dailyReach(today: DayKey, jobs: Config['jobs']): DayKey[] {
  const window = dailyDays(today, jobs.lateDays);
  if (window[0]! < FIRST_DAY)
    throw new UsageError(
      '--as-of',
      `"${today}" would re-check ${window[0]}, before ${FIRST_DAY}, the first day the job can count ` +
        '(jobs.lateDays days before yesterday)',
    );
  const span = Array.from({ length: jobs.catchUpDays }, (_, i) => addDays(window[0]!, i - jobs.catchUpDays));
  return [...span.filter((d) => d >= FIRST_DAY), ...window];
}

/** Why a day before the re-check window is reconciled again. */
export interface CatchUp {
  day: DayKey;
  /**
   * ERROR: its last report could not read a tier; unreported: it has none, though a day before it has one;
   * incomplete: a file its manifest names is missing or not as written (deleted from the bucket, say).
   */
  why: 'ERROR' | 'unreported' | 'incomplete';
}

/**
 * The days of `span` (oldest first, the days before the re-check window) whose report in `outDir` needs
 * making again: its last report is ERROR (a tier could not be read, say for a failure that has passed since:
 * no morning's re-check would reach it again), or it has none while a day before it in the span has one (the
 * CronJob did not run, or failed before writing, for longer than the re-check window). A day with no report
 * before any day of the span has one is not taken: it may precede the job's first run. A day whose report is
 * not whole (a file its manifest names is gone or changed) is taken too: its HTML could not show it.
 */
export async function catchUp(outDir: string, span: readonly DayKey[]): Promise<CatchUp[]> {
  const picked: CatchUp[] = [];
  let reported = false;
  for (const day of span) {
    const m = await readManifest(path.join(outDir, `manifest-${day}.json`), day);
    if (m) {
      reported = true;
      if (m.status === 'ERROR') picked.push({ day, why: 'ERROR' });
      else if (!(await intactManifest(outDir, day))) picked.push({ day, why: 'incomplete' });
    } else if (reported) picked.push({ day, why: 'unreported' });
  }
  return picked;
}

/**
 * The CronJob's run: yesterday, plus a re-check of the days before it for records that landed late, plus
 * the earlier days catchUp picks (their reports ERROR or missing).
 */
export async function runDaily(
  opts: Omit<ReconcileRequest, 'days' | 'sites'> & {
    now: Date;
    /** Today in the configured zone; by default, the day `now` falls on there. */
    today?: DayKey;
    /** Told the days the run will reconcile, before it reads any (for a progress bar). */
    onPlan?: (days: readonly DayKey[]) => void;
  },
): Promise<DailyResult> {
  const { jobs } = opts.config;
  const reach = dailyReach(opts.today ?? todayOf(opts.now, opts.config), jobs);
  const span = reach.length - (jobs.lateDays + 1);
  const caught = await catchUp(opts.outDir, reach.slice(0, span));
  if (caught.length > 0) logCatchUp(opts.log, caught, span);
  const days = [...caught.map((c) => c.day), ...reach.slice(span)];
  opts.onPlan?.(days);
  const yesterday = days.at(-1)!;
  const result = await runReconcile({ ...opts, days });
  // Each restated day's log line (a WARNING) said so as it was written, so a run stopped later has said it too.
  const restated = result.days.filter((d) => d.day !== yesterday && d.change === 'restated').map((d) => d.day);
  const between = await daysBetween(opts, reach.slice(0, span), caught);
  return { ...result, yesterday, restated, ...(between.length > 0 ? { between } : {}) };
}

/**
 * The days of the span after the first caught-up one that the run did not redo, read back from their
 * reports: the run's HTML report (report-FIRST_LAST.html) then holds every day from the first it caught up
 * to yesterday, not a gapped set under a range's name. A day without a report is left out.
 */
async function daysBetween(
  opts: Pick<ReconcileRequest, 'outDir' | 'config' | 'log' | 'run'>,
  span: readonly DayKey[],
  caught: readonly CatchUp[],
): Promise<NonNullable<ReconcileResult['between']>> {
  if (caught.length === 0) return [];
  const redone = new Set(caught.map((c) => c.day));
  const manifests = [];
  for (const day of span.slice(span.indexOf(caught[0]!.day)).filter((d) => !redone.has(d))) {
    // Only a report whose files are the day's own and as written: its HTML shows what the manifest vouches for.
    const m = await intactManifest(opts.outDir, day);
    // And made under this config: one cut in other zones (a site's zone changed) would be drawn in this one's.
    if (m && opts.run && m.configHash !== opts.run.configHash)
      opts.log?.warn(`${day}: its report was made under another config; it is left out of the run's HTML report`);
    else if (m) manifests.push(m);
  }
  return readEarlierDays(opts.outDir, manifests, opts.config, opts.log);
}

function logCatchUp(log: Logger | undefined, caught: readonly CatchUp[], span: number): void {
  const list = (why: CatchUp['why']) => caught.filter((c) => c.why === why).map((c) => c.day);
  const [errored, unreported, incomplete] = [list('ERROR'), list('unreported'), list('incomplete')];
  const parts = [
    ...(errored.length > 0 ? [`${errored.join(', ')} (last report ERROR)`] : []),
    ...(unreported.length > 0 ? [`${unreported.join(', ')} (no report)`] : []),
    ...(incomplete.length > 0
      ? [`${incomplete.join(', ')} (report not whole: a file its manifest names is gone or changed)`]
      : []),
  ];
  log?.warn(
    `catching up ${caught.length} earlier day${caught.length === 1 ? '' : 's'} of the ${span} before the ` +
      `re-check window (jobs.catchUpDays): ${parts.join('; ')}`,
    { catch_up_error: errored, catch_up_unreported: unreported, catch_up_incomplete: incomplete },
  );
}
