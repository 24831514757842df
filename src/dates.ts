import { TZDate } from '@date-fns/tz';
// One module, not the package's index: the index loads all of date-fns (about 300 files, ~60 ms of
// every run's start-up) for this one function.
import { format } from 'date-fns/format';
import type { DayKey, DayWindow } from './domain.js';

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** The longest range one run accepts: ten years of days. */
export const MAX_RANGE_DAYS = 3660;
/**
 * The days a run can count: a record's timestamp is read in years 1970 to 9999 (queries/duckdb/parse-lines.sql),
 * so a day must lie inside them in every zone (a day away from their ends by one, for zones either side of UTC),
 * and so must the folders it reads: up to 31 late-arrival days after it (lateArrivalDays' most) and one more
 * for a zone ahead of UTC. A folder dated in year 10000 would also sort before 9999's as text.
 */
export const FIRST_DAY: DayKey = '1970-01-02';
export const LAST_DAY: DayKey = '9999-11-29';
const DAY_MS = 86_400_000;

/**
 * Calendar arithmetic is done on UTC dates, never on the machine's own clock: date-fns's parse and
 * addDays work in the machine's zone, where a day can be missing (Pacific/Apia's 2011-12-30) or
 * doubled, and a run on a laptop in Santiago cut Sydney's days wrong.
 */
function utcMsOf(day: DayKey): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  return new Date(0).setUTCFullYear(y, m - 1, d);
}

function dayKeyOfUtcMs(ms: number): DayKey {
  const t = new Date(ms);
  const y = String(t.getUTCFullYear()).padStart(4, '0');
  return `${y}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
}

/** Parses `YYYY-MM-DD` as a real calendar day the job can count (FIRST_DAY to LAST_DAY), or returns null. Pure. */
export function parseDay(value: string): DayKey | null {
  if (!DAY_PATTERN.test(value) || value < FIRST_DAY || value > LAST_DAY) return null;
  return dayKeyOfUtcMs(utcMsOf(value)) === value ? value : null;
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
  const lastDay = new Date(new Date(0).setUTCFullYear(y, m, 0)).getUTCDate();
  if (d < 1) return `"${value}" is not a date: days start at 01`;
  if (d <= lastDay)
    return `"${value}" is a day the job cannot count: timestamps are read from 1970 to 9999, so days from ${FIRST_DAY} to ${LAST_DAY}`;
  return `"${value}" is not a date: ${MONTH_NAMES[m - 1]} ${y} has ${lastDay} days`;
}

export function addDays(day: DayKey, n: number): DayKey {
  return dayKeyOfUtcMs(utcMsOf(day) + n * DAY_MS);
}

export function daysBetween(from: DayKey, to: DayKey): number {
  return Math.round((utcMsOf(to) - utcMsOf(from)) / DAY_MS);
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

/**
 * The first instant of `day` in `zone`: the earliest whose calendar day there is `day` or later. Found
 * from the zone's own answers (dayOf), not by building the wall time: @date-fns/tz builds it through
 * the machine's clock, so a machine whose zone changes its clocks that date cut the day wrong, and where
 * midnight repeats (clocks back from 01:00 to 00:00, as Asia/Amman's) it took the second midnight and
 * gave the day's first hour to the day before. Every zone's offset lies within ±15 hours: the search
 * runs a quarter hour at a time over that span (a day entered for less than an hour, as
 * America/St_Johns's 2010-11-07 at 02:30Z for one minute, is found: its midnight is on a quarter hour),
 * then to the millisecond within the quarter hour.
 */
function startOfDayIn(day: DayKey, zone: string): number {
  const key = `${zone} ${day}`;
  const known = DAY_STARTS.get(key);
  if (known !== undefined) return known;
  if (DAY_STARTS.size > 100_000) DAY_STARTS.clear();
  const start = searchStartOfDay(day, zone);
  DAY_STARTS.set(key, start);
  return start;
}

/** Each (zone, day)'s first instant, once found: a run asks for the same days again (strips, Kafka, lookups). */
const DAY_STARTS = new Map<string, number>();

function searchStartOfDay(day: DayKey, zone: string): number {
  const utcMidnight = utcMsOf(day);
  let lo = utcMidnight - 16 * HOUR_MS;
  if (dayOf(lo, zone) >= day) throw new Error(`${zone}: ${day} starts more than 16 hours before its UTC midnight`);
  let hi = lo + STEP_MS;
  while (dayOf(hi, zone) < day) {
    lo = hi;
    hi += STEP_MS;
    if (hi > utcMidnight + 16 * HOUR_MS)
      throw new Error(`${zone}: ${day} starts more than 16 hours after its UTC midnight`);
  }
  // dayOf(lo) < day <= dayOf(hi)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (dayOf(mid, zone) < day) lo = mid;
    else hi = mid;
  }
  return hi;
}

const HOUR_MS = 3_600_000;
const STEP_MS = 15 * 60_000;

/** One formatter per zone: Intl's answer for an instant's calendar day there, whatever the machine's zone. */
const DAY_FORMATS = new Map<string, Intl.DateTimeFormat>();

/**
 * The calendar day (in `zone`) of an instant, from Intl directly, whatever the machine's zone: the day-start
 * search asks it some 150 times a day.
 */
export function dayOf(epochMs: number, zone: string): DayKey {
  let f = DAY_FORMATS.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    DAY_FORMATS.set(zone, f);
  }
  const parts = f.formatToParts(epochMs);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`;
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

/** Every IANA zone's midnight falls on a quarter hour; the engine looks days up by quarter hour. */
export const DAY_BUCKET_MS = 15 * 60 * 1000;

/**
 * Whether a day's window begins and ends on a quarter hour, as the engines count by: not where a zone's
 * offset was once no whole quarter hour (Africa/Monrovia's −0:44:30 before 1972).
 */
export function onQuarterHours(w: DayWindow): boolean {
  return w.startMs % DAY_BUCKET_MS === 0 && w.endMs % DAY_BUCKET_MS === 0;
}

/**
 * The report day of each quarter hour from the first window's start to the last one's end, for
 * the engine's list lookup. Windows must be contiguous (a batch of consecutive days). Pure.
 */
export function dayBuckets(windows: readonly DayWindow[]): { firstBucket: number; days: DayKey[] } {
  const first = windows[0];
  if (!first) return { firstBucket: 0, days: [] };
  const days: DayKey[] = [];
  for (const w of windows) {
    if (!onQuarterHours(w)) {
      throw new Error(`day ${w.day} does not start on a quarter hour in this time zone`);
    }
    if (days.length > 0 && w.startMs !== first.startMs + days.length * DAY_BUCKET_MS)
      throw new Error('windows must be consecutive days');
    for (let t = w.startMs; t < w.endMs; t += DAY_BUCKET_MS) days.push(w.day);
  }
  return { firstBucket: first.startMs / DAY_BUCKET_MS, days };
}
