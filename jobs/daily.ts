import { addDays, dayOf } from '../src/dates.js';
import type { DayKey } from '../src/domain.js';
import { type SiteZoning, zonesOf } from '../src/site-zones.js';
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
 * Today for the daily run: the earliest day `now` falls on in any zone a site's day is cut in, so that
 * yesterday is over for every site. With one zone, today there.
 */
export function todayOf(now: Date, zoning: SiteZoning): DayKey {
  return zonesOf(zoning)
    .map((zone) => dayOf(now.getTime(), zone))
    .reduce((a, b) => (b < a ? b : a));
}

/** The CronJob's run: yesterday, plus a re-check of the days before it for records that landed late. */
export async function runDaily(
  opts: Omit<ReconcileRequest, 'days' | 'sites'> & {
    now: Date;
    /** Today in the configured zone; by default, the day `now` falls on there. */
    today?: DayKey;
  },
): Promise<DailyResult> {
  const days = dailyDays(opts.today ?? todayOf(opts.now, opts.config), opts.config.jobs.lateDays);
  const yesterday = days.at(-1)!;
  const result = await runReconcile({ ...opts, days });
  // Each restated day's log line (a WARNING) said so as it was written, so a run stopped later has said it too.
  const restated = result.days.filter((d) => d.day !== yesterday && d.change === 'restated').map((d) => d.day);
  return { ...result, yesterday, restated };
}
