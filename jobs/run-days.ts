// Which days a job command may count: each begun somewhere, each cut on quarter hours in every zone of the config.
import type { JobRequest } from '../src/cli.js';
import type { Config } from '../src/config.js';
import { dayWindow, onQuarterHours } from '../src/dates.js';
import type { DayKey } from '../src/domain.js';
import { ConfigError, UsageError } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';
import { daysAt, zonesOf } from '../src/site-zones.js';

/**
 * Before anything is read: every day of the run must begin and end on a quarter hour in every zone a site's
 * day is cut in, as the engines count by quarter hours. A zone whose offset was once no whole quarter hour
 * (Africa/Monrovia's −0:44:30 before 1972, Pacific/Kiritimati's −10:40 before 1979) cuts such days off that
 * grid: exit 2 naming the zone's key (`timezone`, or `sites[i].timezone`), not a bug mid-run.
 */
export function requireQuarterHours(days: readonly DayKey[], config: Config): void {
  for (const zone of zonesOf(config)) {
    const odd = days.find((day) => !onQuarterHours(dayWindow(day, zone)));
    if (odd === undefined) continue;
    const site = config.sites.findIndex((s) => config.siteZones?.[s] === zone);
    throw new ConfigError(
      zone === config.timezone || site < 0 ? 'timezone' : `sites[${site}].timezone`,
      `${zone} does not begin or end ${odd} on a quarter hour (its offset then was no whole quarter hour): ` +
        'the job cannot count that day in this zone',
    );
  }
}

/**
 * The days a job command may reconcile: daily's from today in the configured zone, with the earlier days
 * it may catch up (which of those it redoes depends on their reports, brought from a gs:// --out first).
 */
export async function daysOf(req: JobRequest, config: Config, now: Date, log: Logger): Promise<DayKey[]> {
  // After the latest day any zone a site's day is cut in has reached, a day has begun nowhere.
  const { earliest: today, latest } = daysAt(now.getTime(), config);
  const notBegun =
    `has not begun in any configured zone (today is ${latest} at the latest): ` + 'nothing of it can be counted';
  let days: DayKey[];
  if (req.command === 'daily') {
    if (req.asOf !== undefined && req.asOf > latest)
      throw new UsageError('--as-of', `${req.asOf} ${notBegun}; daily would reconcile the days before it`);
    const { dailyReach } = await import('./daily.js');
    days = dailyReach(req.asOf ?? today, config.jobs);
  } else {
    const last = req.days.at(-1)!;
    // A mistyped year would write NO_DATA reports (and history rows, and an alert) for days to come.
    const flag = req.command === 'reconcile' && req.lastDayFlag === '--date' ? '--date' : '--to';
    if (last > latest) throw new UsageError(flag, `${last} ${notBegun}`);
    days = req.days;
  }
  // Begun but not over in some zone (today; with sites in zones of their own, yesterday of the earliest too).
  const open = days.filter((d) => d >= today);
  if (open.length > 0)
    log.warn(
      `${open.join(', ')}: not over yet in every configured zone: the report counts what has happened so far, ` +
        'and records still on their way read as in flight or missing',
      { days_not_over: open },
    );
  return days;
}
