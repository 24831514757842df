import { TZDate } from '@date-fns/tz';
import { addDays as addCalendarDays, differenceInCalendarDays, format, isValid, parse } from 'date-fns';
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

/** The calendar day (in `zone`) of an instant. */
export function dayOf(epochMs: number, zone: string): DayKey {
  return format(new TZDate(epochMs, zone), 'yyyy-MM-dd');
}
