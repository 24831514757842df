import { TZDate } from '@date-fns/tz';
// One module each, not the package's index: the index loads all of date-fns (about 300 files, ~60 ms of
// every run's start-up) for these five functions.
import { addDays as addCalendarDays } from 'date-fns/addDays';
import { differenceInCalendarDays } from 'date-fns/differenceInCalendarDays';
import { format } from 'date-fns/format';
import { isValid } from 'date-fns/isValid';
import { parse } from 'date-fns/parse';
import type { DayKey, DayWindow } from './domain.js';

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** The longest range one run accepts: ten years of days. */
export const MAX_RANGE_DAYS = 3660;

/** Parses `YYYY-MM-DD` as a real calendar day, or returns null. Pure. */
export function parseDay(value: string): DayKey | null {
  if (!DAY_PATTERN.test(value)) return null;
  const d = parse(value, 'yyyy-MM-dd', new Date(2000, 0, 1));
  return isValid(d) && format(d, 'yyyy-MM-dd') === value ? value : null;
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Why `value` is not a day, for a message that helps: the format, a month that does not exist,
 * or a day past the month's end ("February 2025 has 28 days"). Null when it is a day. Pure.
 */
export function explainBadDay(value: string): string | null {
  if (parseDay(value) !== null) return null;
  if (!DAY_PATTERN.test(value)) return `"${value}" is not a date: use YYYY-MM-DD, e.g. 2025-03-09`;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  if (y < 1) return `"${value}" is not a date: there is no year 0 (use YYYY-MM-DD)`;
  if (m < 1 || m > 12) return `"${value}" is not a date: there is no month ${m} (use YYYY-MM-DD)`;
  const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d < 1) return `"${value}" is not a date: days start at 01`;
  return `"${value}" is not a date: ${MONTH_NAMES[m - 1]} ${y} has ${lastDay} days`;
}

function toLocalDate(day: DayKey): Date {
  return parse(day, 'yyyy-MM-dd', new Date(2000, 0, 1));
}

export function addDays(day: DayKey, n: number): DayKey {
  return format(addCalendarDays(toLocalDate(day), n), 'yyyy-MM-dd');
}

export function daysBetween(from: DayKey, to: DayKey): number {
  return differenceInCalendarDays(toLocalDate(to), toLocalDate(from));
}

/** Every day from `from` to `to`, both included. */
export function daysInRange(from: DayKey, to: DayKey): DayKey[] {
  const n = daysBetween(from, to);
  return Array.from({ length: n + 1 }, (_, i) => addDays(from, i));
}

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Midnight to midnight in `zone`, as UTC instants: 23 or 25 hours on DST days. */
export function dayWindow(day: DayKey, zone: string): DayWindow {
  const start = startOfDayIn(day, zone);
  const end = startOfDayIn(addDays(day, 1), zone);
  return { day, startMs: start, endMs: end };
}

function startOfDayIn(day: DayKey, zone: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new TZDate(y, m - 1, d, zone).getTime();
}

/** An instant as ISO-8601 in `zone`, with milliseconds and the zone's offset then: `2025-03-09T14:03:05.123-05:00`. */
export function isoInZone(epochMs: number, zone: string): string {
  const bucket = Math.floor(epochMs / DAY_BUCKET_MS);
  let byBucket = ZONE_OFFSETS.get(zone);
  if (!byBucket || byBucket.size > 100_000) ZONE_OFFSETS.set(zone, (byBucket = new Map()));
  let offset = byBucket.get(bucket);
  if (offset === undefined) {
    // One offset for the whole quarter hour, proved by the slow form at both of its ends; else every instant slow.
    const start = bucket * DAY_BUCKET_MS;
    const o = -new TZDate(start, zone).getTimezoneOffset();
    offset = [start, start + DAY_BUCKET_MS - 1].every((ms) => isoWithOffset(ms, o) === slowIsoInZone(ms, zone))
      ? o
      : null;
    byBucket.set(bucket, offset);
  }
  return (offset === null ? null : isoWithOffset(epochMs, offset)) ?? slowIsoInZone(epochMs, zone);
}

/**
 * Per zone, each quarter hour's UTC offset in minutes where one offset holds for all of it and the
 * fast form below gives exactly date-fns's text (null: it does not, so each instant goes to date-fns).
 * date-fns formats about 40,000 instants a second, too slow for a missing list of a million ids.
 */
const ZONE_OFFSETS = new Map<string, Map<number, number | null>>();

function slowIsoInZone(epochMs: number, zone: string): string {
  return format(new TZDate(epochMs, zone), "yyyy-MM-dd'T'HH:mm:ss.SSSxxx");
}

/** The instant's wall time at a whole-minute offset, ISO with that offset; null outside years 0000–9999. */
function isoWithOffset(epochMs: number, offsetMinutes: number): string | null {
  const wall = epochMs + offsetMinutes * 60_000;
  if (!Number.isInteger(offsetMinutes) || wall < -62167219200000 || wall > 253402300799999) return null;
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${new Date(wall).toISOString().slice(0, 23)}${offsetMinutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** An instant's wall-clock time in `zone`: `14:15`. */
export function timeInZone(epochMs: number, zone: string): string {
  return format(new TZDate(epochMs, zone), 'HH:mm');
}

/** The calendar day (in `zone`) of an instant. */
export function dayOf(epochMs: number, zone: string): DayKey {
  return format(new TZDate(epochMs, zone), 'yyyy-MM-dd');
}

/** Every IANA zone's midnight falls on a quarter hour; the engine looks days up by quarter hour. */
export const DAY_BUCKET_MS = 15 * 60 * 1000;

/**
 * The report day of each quarter hour from the first window's start to the last one's end, for
 * the engine's list lookup. Windows must be contiguous (a batch of consecutive days). Pure.
 */
export function dayBuckets(windows: readonly DayWindow[]): { firstBucket: number; days: DayKey[] } {
  const first = windows[0];
  if (!first) return { firstBucket: 0, days: [] };
  const days: DayKey[] = [];
  for (const w of windows) {
    if (w.startMs % DAY_BUCKET_MS !== 0 || w.endMs % DAY_BUCKET_MS !== 0) {
      throw new Error(`day ${w.day} does not start on a quarter hour in this time zone`);
    }
    if (days.length > 0 && w.startMs !== first.startMs + days.length * DAY_BUCKET_MS)
      throw new Error('windows must be consecutive days');
    for (let t = w.startMs; t < w.endMs; t += DAY_BUCKET_MS) days.push(w.day);
  }
  return { firstBucket: first.startMs / DAY_BUCKET_MS, days };
}
