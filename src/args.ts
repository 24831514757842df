import { daysInRange, daysBetween, explainBadDay, MAX_RANGE_DAYS, parseDay } from './dates.js';
import type { DayKey } from './domain.js';
import { UsageError } from './errors.js';

/** The days a run covers, from --date or --from/--to. Pure; throws UsageError naming the flag. */
export function resolveDays(opts: { date?: string; from?: string; to?: string }): DayKey[] {
  const day = (flag: string, value: string): DayKey => {
    const d = parseDay(value);
    if (!d) throw new UsageError(flag, explainBadDay(value)!);
    return d;
  };
  if (opts.date !== undefined) {
    if (opts.from !== undefined || opts.to !== undefined)
      throw new UsageError('--date', 'give either --date or --from and --to, not both');
    return [day('--date', opts.date)];
  }
  if (opts.from === undefined && opts.to === undefined)
    throw new UsageError('--date', 'give --date, or --from and --to');
  if (opts.from === undefined) throw new UsageError('--from', 'missing: --to needs --from');
  if (opts.to === undefined) throw new UsageError('--to', 'missing: --from needs --to');
  const from = day('--from', opts.from);
  const to = day('--to', opts.to);
  if (from > to) throw new UsageError('--from', `${from} is after --to ${to}`);
  if (daysBetween(from, to) >= MAX_RANGE_DAYS)
    throw new UsageError('--to', `the range is longer than ${MAX_RANGE_DAYS} days`);
  return daysInRange(from, to);
}

/** --sites as a subset of the configured sites, in config order. */
export function resolveSites(value: string | undefined, configured: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  const wanted = value
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  if (wanted.length === 0) throw new UsageError('--sites', 'name at least one site, e.g. US,CA');
  const unknown = wanted.filter((s) => !configured.includes(s));
  if (unknown.length > 0)
    throw new UsageError(
      '--sites',
      `${unknown.join(',')} is not a configured site (configured: ${configured.join(',')})`,
    );
  return configured.filter((s) => wanted.includes(s));
}

/** Batches a backfill reconciles at once; each holds its own engine and memory limit. */
export const MAX_BACKFILL_CONCURRENCY = 4;

/** --concurrency as a whole number from 1 to {@link MAX_BACKFILL_CONCURRENCY}. Pure; throws UsageError. */
export function resolveConcurrency(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BACKFILL_CONCURRENCY)
    throw new UsageError('--concurrency', `"${value}" is not a whole number from 1 to ${MAX_BACKFILL_CONCURRENCY}`);
  return n;
}
