import { addDays, dayOf, dayWindow } from './dates.js';
import type { DayKey, DayWindow, Site } from './domain.js';

/**
 * Each site's business day: a site may cut its day in a zone of its own (`sites: [{ code, timezone }]`);
 * every other site, and UNKNOWN, uses the configured `timezone`. Pure.
 */
export interface SiteZoning {
  /** The configured zone: the day of a site without one of its own, and of UNKNOWN. */
  timezone: string;
  /** The sites that name a zone of their own (absent or empty: every site's day is cut in `timezone`). */
  siteZones?: Readonly<Record<Site, string>>;
}

/** The zone a site's day is cut in: its own, else the configured one. The one lookup every part uses. */
export function zoneOfSite(zoning: SiteZoning, site: Site): string {
  const own = zoning.siteZones;
  return own !== undefined && Object.hasOwn(own, site) ? own[site]! : zoning.timezone;
}

/** The distinct zones days are cut in, the configured one first. */
export function zonesOf(zoning: SiteZoning): string[] {
  return [...new Set([zoning.timezone, ...Object.values(zoning.siteZones ?? {})])];
}

/** True when some site cuts its day in a zone other than the configured one. */
export function hasOwnZones(zoning: SiteZoning): boolean {
  return zonesOf(zoning).length > 1;
}

/** A day's window in every zone some site uses, the configured zone's first. */
export function dayWindowsOf(day: DayKey, zoning: SiteZoning): DayWindow[] {
  return zonesOf(zoning).map((zone) => dayWindow(day, zone));
}

/** From the earliest start to the latest end of the day's windows in every zone: what any site's day covers. */
export function daySpan(day: DayKey, zoning: SiteZoning): DayWindow {
  const windows = dayWindowsOf(day, zoning);
  return {
    day,
    startMs: Math.min(...windows.map((w) => w.startMs)),
    endMs: Math.max(...windows.map((w) => w.endMs)),
  };
}

/**
 * The Kafka reads of consecutive `days`: each day from its earliest start to the next day's earliest start
 * (its `own` share, whose offsets are its fast-path count, the same whatever days the batch holds), and
 * after the last day, the rest of its span to its latest end (`own` false: read for its messages, which
 * count on their own days, but not counted by offsets, or a day's kafka_offset_records would depend on
 * whether it ended its batch). With one zone, the days' windows, and no tail.
 */
export function kafkaReadsOf(days: readonly DayKey[], zoning: SiteZoning): (DayWindow & { own: boolean })[] {
  if (days.length === 0) return [];
  const spans = [...days, addDays(days.at(-1)!, 1)].map((d) => daySpan(d, zoning));
  const reads = days.map((day, i) => ({ day, startMs: spans[i]!.startMs, endMs: spans[i + 1]!.startMs, own: true }));
  const last = spans[days.length - 1]!;
  const tailFrom = spans[days.length]!.startMs;
  if (last.endMs > tailFrom) reads.push({ day: last.day, startMs: tailFrom, endMs: last.endMs, own: false });
  return reads;
}

/** The sites with a zone of their own and those zones, pairwise: the BigQuery engine's @zone_sites, @zone_names. */
export function siteZoneParams(zoning: SiteZoning | undefined): { zone_sites: string[]; zone_names: string[] } {
  const own = Object.entries(zoning?.siteZones ?? {});
  return { zone_sites: own.map(([site]) => site), zone_names: own.map(([, zone]) => zone) };
}

/** The BigQuery types of {@link siteZoneParams} (arrays, even when empty). */
export const ZONE_PARAM_TYPES = { zone_sites: ['STRING'], zone_names: ['STRING'] };

/**
 * The days `nowMs` falls on across the zones a site's day is cut in: the earliest, whose yesterday is over for every
 * site (daily's today), and the latest, after which a day has begun in none. Pure.
 */
export function daysAt(nowMs: number, zoning: SiteZoning): { earliest: DayKey; latest: DayKey } {
  const days = zonesOf(zoning)
    .map((zone) => dayOf(nowMs, zone))
    .sort();
  return { earliest: days[0]!, latest: days.at(-1)! };
}

/** Today for the daily run: the earliest day `now` falls on in any zone, so that yesterday is over for every site. */
export function todayOf(now: Date, zoning: SiteZoning): DayKey {
  return daysAt(now.getTime(), zoning).earliest;
}
