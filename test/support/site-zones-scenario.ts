import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { addDays, dayOf, dayWindow, daysInRange } from '../../src/dates.js';
import { type KafkaMessage, prng } from '../../src/demo/generator.js';
import { parseCsv } from './files.js';

/**
 * Generated scenarios for each site's business day, held to both engines (the embedded one in
 * test/property/site-zones.test.ts, the BigQuery one in test/contract/bigquery-site-zones.test.ts):
 * sites with random zones (from a fixed list with whole, half and quarter-hour offsets, with and
 * without DST, DST days included), and requests at random instants near the midnights of every zone.
 * Each site's row must count exactly the injected records whose instant falls on the day in that
 * site's zone (UNKNOWN and unconfigured sites: the configured zone); ALL sums the rows.
 */

export const ZONES = [
  'UTC',
  'America/Chicago',
  'America/Mexico_City',
  'America/Toronto',
  'America/St_Johns',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
];
/** Batches around DST changes (US spring and fall, Lord Howe's half hour, Chatham) and a July day. */
const FIRST_DAYS = ['2025-03-08', '2025-11-01', '2025-04-05', '2025-09-27', '2025-07-14'];
export const REGIONS = ['EUS2', 'SCUS'];

export interface Injected {
  id: string;
  site: string;
  ts: number;
  inKafka: boolean;
  landed: boolean;
}

export interface SiteZonesScenario {
  /** The configured zone: UNKNOWN's and every site's without a zone of its own. */
  timezone: string;
  codes: string[];
  /** The sites with a zone of their own. */
  own: Record<string, string>;
  days: string[];
  records: Injected[];
}

/** The same seed, the same scenario. */
export function siteZonesScenario(seed: number): SiteZonesScenario {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const timezone = pick(ZONES);
  const codes = ['US', 'CA', 'MX', 'AU'].slice(0, 2 + Math.floor(rand() * 3));
  const own: Record<string, string> = {};
  for (const c of codes) if (rand() < 0.75) own[c] = pick(ZONES);
  const first = pick(FIRST_DAYS);
  const days = daysInRange(first, addDays(first, Math.floor(rand() * 3)));
  const records: Injected[] = [];
  // Near every zone's midnights from the day before the batch to the day after it, within 90 minutes.
  for (const day of daysInRange(addDays(days[0]!, -1), addDays(days.at(-1)!, 1))) {
    for (let i = 0; i < 12; i++) {
      const midnight = dayWindow(day, pick(ZONES)).startMs;
      const ts = midnight + Math.round((rand() * 2 - 1) * 90 * 60_000);
      const site = rand() < 0.1 ? pick(['BR', '']) : pick(codes);
      records.push({ id: `r-${seed}-${records.length}`, site, ts, inKafka: rand() < 0.9, landed: rand() < 0.8 });
    }
  }
  return { timezone, codes, own, days, records };
}

/** The config's `sites`: a code, or a code and its own zone. */
export function configSites(s: SiteZonesScenario): (string | { code: string; timezone: string })[] {
  return s.codes.map((code) => (s.own[code] ? { code, timezone: s.own[code] } : code));
}

/** The records Kafka holds, spread over the two regions. */
export function kafkaMessages(s: SiteZonesScenario): KafkaMessage[] {
  return s.records
    .filter((r) => r.inKafka)
    .map((r, i) => ({ region: REGIONS[i % 2]!, ts: r.ts, request_id: r.id, site: r.site, inFlight: false }));
}

/** The zones the scenario's days are cut in: each site's own, and the configured one. */
export function zonesInUse(s: SiteZonesScenario): string[] {
  return [...new Set([s.timezone, ...Object.values(s.own)])];
}

/** A day of the batch on which one of the scenario's zones changes its offset (not 24 hours long). */
export function hasDstDay(s: SiteZonesScenario): boolean {
  return zonesInUse(s).some((z) =>
    s.days.some((d) => {
      const w = dayWindow(d, z);
      return w.endMs - w.startMs !== 24 * 3_600_000;
    }),
  );
}

/** One of the scenario's zones is off the whole hour (:30 or :45) on a day of the batch. */
export function hasOffHourZone(s: SiteZonesScenario): boolean {
  return zonesInUse(s).some((z) => s.days.some((d) => dayWindow(d, z).startMs % 3_600_000 !== 0));
}

/** Counts of one site's row: proxy requests, Kafka records (both regions), landed records. */
export type SiteCounts = [number, number, number];

/** What each site's row must count, from the injected records and each site's zone alone. */
export function expectedCounts(s: SiteZonesScenario, day: string): Map<string, SiteCounts> {
  const out = new Map<string, SiteCounts>();
  for (const site of [...s.codes, 'UNKNOWN']) out.set(site, [0, 0, 0]);
  for (const r of s.records) {
    const site = s.codes.includes(r.site) ? r.site : 'UNKNOWN';
    if (dayOf(r.ts, s.own[site] ?? s.timezone) !== day) continue;
    const c = out.get(site)!;
    c[0]++;
    if (r.inKafka) c[1]++;
    if (r.landed) c[2]++;
  }
  return out;
}

/**
 * A day's report rows (site → counts, ALL included) are exactly the injected records of each site's
 * own day, and ALL sums them.
 */
export function expectDayCounts(s: SiteZonesScenario, day: string, got: Map<string, number[]>): void {
  const expected = expectedCounts(s, day);
  const bySite = (m: Map<string, number[]>) => [...expected.keys()].map((k) => [k, m.get(k) ?? [0, 0, 0]]);
  expect({ day, counts: bySite(got) }).toEqual({ day, counts: bySite(expected) });
  // ALL sums the sites' rows, each over its own day.
  const sum = [0, 1, 2].map((i) => [...expected.values()].reduce((a, c) => a + c[i]!, 0));
  expect({ day, all: got.get('ALL') }).toEqual({ day, all: sum });
}

/**
 * Holds each day's parity file in `out` to {@link expectDayCounts}: per site the proxy's requests,
 * Kafka's records (both regions) and the final tier's column (`gcs_records` or `bq_rows`).
 */
export async function expectParityFiles(
  s: SiteZonesScenario,
  out: string,
  finalColumn: 'gcs_records' | 'bq_rows',
): Promise<void> {
  for (const day of s.days) {
    const rows = parseCsv(await readFile(path.join(out, `parity-${day}.csv`), 'utf8'));
    const got = new Map(
      rows.map((r) => [
        r.site!,
        [Number(r.proxy_requests), Number(r.kafka_eus2) + Number(r.kafka_scus), Number(r[finalColumn])],
      ]),
    );
    expectDayCounts(s, day, got);
  }
}
