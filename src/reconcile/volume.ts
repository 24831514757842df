import { addDays } from '../dates.js';
import type { DayKey } from '../domain.js';

/** The per-site counts the volume guard watches: one per tier. */
export const VOLUME_COLUMNS = ['proxy_requests', 'kafka_records', 'gcs_records', 'bq_rows'] as const;
export type VolumeColumn = (typeof VOLUME_COLUMNS)[number];

/** Days before the checked one whose median is the baseline. */
export const VOLUME_TRAILING_DAYS = 14;
/**
 * Traffic is weekly: where this window holds enough of the same weekday, those alone are the baseline. Five
 * weeks, of which three will do: one missing day (an outage's NO_DATA) does not send the next four of its
 * weekday to the trailing median, which mixes weekdays and takes a normal Sunday for a drop.
 */
export const VOLUME_WEEKDAY_WINDOW_DAYS = 35;
export const VOLUME_MIN_SAME_WEEKDAY = 3;
/** Fewer earlier days than this is no baseline: one odd day must not set the bar. */
export const VOLUME_MIN_HISTORY_DAYS = 3;

/** One earlier day of one site, as its report holds it (a count is absent where the tier was empty or not read). */
export interface VolumePoint {
  day: DayKey;
  counts: Partial<Record<VolumeColumn, number>>;
}

export interface VolumeBaseline {
  median: number;
  /** How many earlier days it is the median of. */
  days: number;
  basis: 'same weekday' | 'trailing';
}

/**
 * The baseline of one count on `day`: the median of the same weekday over the trailing 35 days
 * where at least 3 of those 5 are there, else of the trailing 14 days; null with fewer than 3 earlier days. Pure.
 */
export function volumeBaseline(
  day: DayKey,
  history: readonly VolumePoint[],
  column: VolumeColumn,
): VolumeBaseline | null {
  const valueOf = (from: DayKey, keep: (p: VolumePoint) => boolean) =>
    history
      .filter((p) => p.day >= from && p.day < day && keep(p))
      .map((p) => p.counts[column])
      .filter((v): v is number => typeof v === 'number');
  const weekday = weekdayOf(day);
  const same = valueOf(addDays(day, -VOLUME_WEEKDAY_WINDOW_DAYS), (p) => weekdayOf(p.day) === weekday);
  if (same.length >= VOLUME_MIN_SAME_WEEKDAY) return { median: median(same), days: same.length, basis: 'same weekday' };
  const trailing = valueOf(addDays(day, -VOLUME_TRAILING_DAYS), () => true);
  if (trailing.length >= VOLUME_MIN_HISTORY_DAYS)
    return { median: median(trailing), days: trailing.length, basis: 'trailing' };
  return null;
}

/**
 * The counts of a site's row that fell below `dropPct` % of their baseline, each as a short text
 * naming the column, the count and the median (`gcs_records 480 < 50% of median 1000`). Empty
 * when none did, or when `dropPct` is 0 (the guard is off). Pure.
 */
export function volumeDrops(
  day: DayKey,
  counts: Partial<Record<VolumeColumn, number | string | null>>,
  history: readonly VolumePoint[],
  dropPct: number,
): string[] {
  if (dropPct <= 0) return [];
  const out: string[] = [];
  for (const column of VOLUME_COLUMNS) {
    const count = counts[column];
    if (typeof count !== 'number') continue;
    const base = volumeBaseline(day, history, column);
    // count < dropPct % of the median, exactly (32.2 % of 500 is 161, not below it: no double's rounding).
    if (base && base.median > 0 && comparePct(count, dropPct, base.median) < 0) {
      out.push(`${column} ${count} < ${dropPct}% of median ${formatMedian(base.median)}`);
    }
  }
  return out;
}

/**
 * The sign of `count` − `pct` % of `base` (−1, 0, 1), exactly: each number as the fraction of its shortest decimal
 * text, so a threshold with decimals compares as it is written (doubles put 32.2 % of 500 above 161). Pure.
 */
export function comparePct(count: number, pct: number, base: number): number {
  const [c, p, b] = [count, pct, base].map(decimalFraction) as [Fraction, Fraction, Fraction];
  const left = c.n * 100n * p.d * b.d;
  const right = p.n * b.n * c.d;
  return left < right ? -1 : left > right ? 1 : 0;
}

interface Fraction {
  n: bigint;
  d: bigint;
}

/** A finite number as the exact fraction of its shortest decimal text: 0.1 is 1/10, 1e-7 is 1/10000000. */
function decimalFraction(x: number): Fraction {
  const [mantissa, exponent = '0'] = String(x).split('e');
  const [whole, fraction = ''] = mantissa!.split('.');
  const n = BigInt(`${whole}${fraction}`);
  const shift = Number(exponent) - fraction.length;
  return shift >= 0 ? { n: n * 10n ** BigInt(shift), d: 1n } : { n, d: 10n ** BigInt(-shift) };
}

/**
 * True when some site has a baseline on `day` for some count: else the guard can flag nothing that day, and the
 * caller says so once (before 0.3.7 one earlier day, even one of no counts, passed for a history). Pure.
 */
export function hasVolumeHistory(history: ReadonlyMap<string, readonly VolumePoint[]>, day: DayKey): boolean {
  return [...history.values()].some((points) => VOLUME_COLUMNS.some((c) => volumeBaseline(day, points, c) !== null));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function formatMedian(m: number): string {
  return Number.isInteger(m) ? String(m) : m.toFixed(1);
}

/** 0 (Sunday) to 6 of a calendar day; a day key names a date, not an instant, so UTC is right here. */
function weekdayOf(day: DayKey): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay();
}
