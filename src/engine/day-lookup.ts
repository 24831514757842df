import { BIGINT, type DuckDBType, type DuckDBValue, LIST, listValue, VARCHAR } from './duckdb-api.js';
import { dayBuckets, dayWindow } from '../dates.js';
import type { DayKey, DayWindow, Site } from '../domain.js';
import { type SiteZoning, zoneOfSite, zonesOf } from '../site-zones.js';

/**
 * The embedded engine's report-day lookup: the report day of each 15-minute bucket, one list per zone
 * some site's day is cut in, laid end to end in one flat list (every zone's midnight falls on a quarter
 * hour, so a list lookup replaces a range join). A record's site picks its zone's list: the SQL adds
 * `$zone_base[site position + 1]` (UNKNOWN and unconfigured sites: the configured zone, first) to the
 * record's bucket offset. With one zone this is exactly the one list of the batch's buckets. Pure.
 */
export interface DayLookup {
  /** Epoch milliseconds ÷ 900000 of the first bucket any zone's first day starts in. */
  firstBucket: number;
  /** Buckets per zone: from the earliest first bucket to the latest last one. */
  bucketCount: number;
  /** Zone after zone, each `bucketCount` long: the bucket's report day there, or null (no report day). */
  days: (DayKey | null)[];
  zones: string[];
  zoning: SiteZoning;
  /** The batch's report days, as given (a day with no instant in some zone, as Apia's 2011-12-30, too). */
  reportDays: DayKey[];
}

export const EMPTY_LOOKUP: DayLookup = {
  firstBucket: 0,
  bucketCount: 0,
  days: [],
  zones: [],
  zoning: { timezone: 'UTC' },
  reportDays: [],
};

/** The lookup of a batch's days: `windows` in the configured zone, the other zones' cut from the same days. */
export function dayLookupOf(windows: readonly DayWindow[], given: SiteZoning): DayLookup {
  // Only the zoning (a whole config may be given): a day entry's name holds it, and nothing else of the config.
  const zoning: SiteZoning = { timezone: given.timezone, ...(given.siteZones ? { siteZones: given.siteZones } : {}) };
  const zones = zonesOf(zoning);
  const reportDays = windows.map((w) => w.day);
  const perZone = zones.map((zone, i) => dayBuckets(i === 0 ? windows : windows.map((w) => dayWindow(w.day, zone))));
  if (perZone.length === 1) {
    const only = perZone[0]!;
    return { firstBucket: only.firstBucket, bucketCount: only.days.length, days: only.days, zones, zoning, reportDays };
  }
  const firstBucket = Math.min(...perZone.map((z) => z.firstBucket));
  const bucketCount = Math.max(...perZone.map((z) => z.firstBucket + z.days.length)) - firstBucket;
  const days: (DayKey | null)[] = [];
  for (const z of perZone) {
    const before = z.firstBucket - firstBucket;
    days.push(...Array<null>(before).fill(null), ...z.days);
    days.push(...Array<null>(bucketCount - before - z.days.length).fill(null));
  }
  return { firstBucket, bucketCount, days, zones, zoning, reportDays };
}

/** line-keep.sql's $report_days: the batch's report days (a folder of none of them counts little). */
export function reportDaysParam(lookup: DayLookup): {
  values: { report_days: DuckDBValue };
  types: { report_days: DuckDBType };
} {
  return {
    values: { report_days: listValue(lookup.reportDays) },
    types: { report_days: LIST(VARCHAR) },
  };
}

/** The lookup's named parameters for one query over records of `sites` (in the order the SQL's $sites has). */
export function lookupParams(
  lookup: DayLookup,
  sites: readonly Site[],
): { values: Record<string, DuckDBValue>; types: Record<string, DuckDBType> } {
  const base = (site: Site | null) =>
    BigInt(site === null ? 0 : lookup.zones.indexOf(zoneOfSite(lookup.zoning, site)) * lookup.bucketCount);
  return {
    values: {
      bucket_days: listValue(lookup.days),
      first_bucket: BigInt(lookup.firstBucket),
      bucket_count: BigInt(lookup.bucketCount),
      // One zone: one element, which the SQL reads as "no lookup per record" (as fast as before zones).
      zone_base: listValue(lookup.zones.length > 1 ? [base(null), ...sites.map(base)] : [0n]),
    },
    types: { bucket_days: LIST(VARCHAR), first_bucket: BIGINT, bucket_count: BIGINT, zone_base: LIST(BIGINT) },
  };
}
