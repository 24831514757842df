import { dayWindow } from '../../src/dates.js';
import { prng } from '../../src/demo/generator.js';
import type { BigqueryRangeReader, LossWindow, StreamedRow, TimedStreamedRow } from '../../src/domain.js';
import type { CountingEngine } from '../../src/engine/engine.js';

/**
 * An injected 20-minute outage comes back as exactly its quarter hours. Each scenario is a day of
 * traffic for two sites through two Kafka regions, everything landing, except inside a window of 20
 * minutes starting at a random instant (on a quarter hour or not: a window starting at :07 touches
 * two buckets, one at :14 three), where for some sites either
 * - every accepted request was lost before Kafka (no Kafka copy, nothing landed), or
 * - the requests routed to one region reached its cluster and never landed (the region's sink was down),
 *   while the other region's landed.
 * Rejected lines (413, 502) fall everywhere, the outage included: they were never accepted, so they
 * lose nothing. The expected windows are computed from the injected ids (bucket of the id's accepted
 * line, counts, cause); the engine's loss windows must equal them exactly.
 */

export const DAY = '2025-03-09';
export const SITES = ['US', 'CA'];
const REGIONS = ['EUS2', 'SCUS'];
const QUARTER_MS = 15 * 60 * 1000;
const OUTAGE_MS = 20 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
/** Ids are a client's: quotes, `=`, `+`, markup and a newline must not matter. */
const HOSTILE_PREFIX = '=x"+<script>\n';

export type Kind = 'lost before Kafka' | 'lost in one region';

export interface Scenario {
  proxy: StreamedRow[];
  kafka: TimedStreamedRow[];
  final: StreamedRow[];
  /** What the engine must give back, computed from the injected ids. */
  expected: LossWindow[];
  outageStartMs: number;
}

const row = (ts: number, requestId: string, site: string, region: string | null = null, status?: number) => ({
  region,
  timestampMs: ts,
  requestId,
  siteHeader: site,
  inFlight: false,
  n: 1,
  ...(status === undefined ? {} : { status }),
});

export function outageScenario(seed: number, zone: string, kind: Kind, startOffsetMinutes: number | null): Scenario {
  const rand = prng(seed);
  const { startMs, endMs } = dayWindow(DAY, zone);
  const minutes = (endMs - startMs) / MINUTE_MS;
  // A start minute of the day (random unless given), plus random seconds when not given.
  const startMinute = startOffsetMinutes ?? Math.floor(rand() * (minutes - 20));
  const seconds = startOffsetMinutes === null ? Math.floor(rand() * 60) : 0;
  const outageStartMs = startMs + startMinute * MINUTE_MS + seconds * 1000;
  const outageEndMs = outageStartMs + OUTAGE_MS;
  const hit = SITES.filter((_, i) => i === 0 || rand() < 0.6);
  const downRegion = REGIONS[Math.floor(rand() * REGIONS.length)]!;
  const proxy: StreamedRow[] = [];
  const kafka: TimedStreamedRow[] = [];
  const final: StreamedRow[] = [];
  const facts = new Map<string, { site: string; bucket: number; landed: boolean; cause: LossWindow['leadingCause'] }>();
  let n = 0;
  const request = (ts: number, site: string) => {
    const id = `${n % 7 === 0 ? HOSTILE_PREFIX : ''}${site}-${n++}`;
    const region = REGIONS[Math.floor(rand() * REGIONS.length)]!;
    const roll = rand();
    if (roll < 0.04) {
      // Rejected and never landed: not accepted, so no window counts it.
      proxy.push(row(ts, id, site, null, roll < 0.02 ? 413 : 502));
      return;
    }
    proxy.push(row(ts, id, site, null, 200));
    const inOutage = ts >= outageStartMs && ts < outageEndMs && hit.includes(site);
    const lostBeforeKafka = inOutage && kind === 'lost before Kafka';
    const lostDownstream = inOutage && kind === 'lost in one region' && region === downRegion;
    if (!lostBeforeKafka) kafka.push(row(ts + 1000, id, site, region));
    if (!lostBeforeKafka && !lostDownstream) final.push(row(ts + 2000, id, site));
    facts.set(id, {
      site,
      bucket: Math.floor(ts / QUARTER_MS) * QUARTER_MS,
      landed: !lostBeforeKafka && !lostDownstream,
      cause: lostBeforeKafka ? 'lost_before_kafka' : 'unexplained',
    });
  };
  // Sparse traffic over the whole day, dense around the outage so that every bucket it touches holds ids.
  for (const site of SITES) {
    for (let i = 0; i < 150; i++) request(startMs + Math.floor(rand() * (endMs - startMs - 5000)), site);
    const from = Math.max(startMs, outageStartMs - 30 * MINUTE_MS);
    const to = Math.min(endMs - 5000, outageEndMs + 30 * MINUTE_MS);
    for (let ts = from + Math.floor(rand() * 20_000); ts < to; ts += 5_000 + Math.floor(rand() * 25_000))
      request(ts, site);
  }
  const byBucket = new Map<
    string,
    { site: string; startMs: number; accepted: number; landed: number; causes: Map<string, number> }
  >();
  for (const f of facts.values()) {
    const key = `${f.site} ${f.bucket}`;
    const b = byBucket.get(key) ?? { site: f.site, startMs: f.bucket, accepted: 0, landed: 0, causes: new Map() };
    b.accepted++;
    if (f.landed) b.landed++;
    else b.causes.set(f.cause, (b.causes.get(f.cause) ?? 0) + 1);
    byBucket.set(key, b);
  }
  const expected = [...byBucket.values()]
    .filter((b) => b.accepted > b.landed)
    .sort((a, b) => SITES.indexOf(a.site) - SITES.indexOf(b.site) || a.startMs - b.startMs)
    .map((b) => ({
      site: b.site,
      startMs: b.startMs,
      accepted: b.accepted,
      landed: b.landed,
      missing: b.accepted - b.landed,
      // One cause is injected per scenario.
      leadingCause: [...b.causes.keys()][0] as LossWindow['leadingCause'],
    }));
  return { proxy, kafka, final, expected, outageStartMs };
}

/** The scenario's table tiers in an engine's medium: served from memory, or loaded into BigQuery. */
export interface ScenarioTables {
  proxy: BigqueryRangeReader;
  final: BigqueryRangeReader;
}

/** The engine's loss windows of the scenario's day, fed in the order a run feeds a batch. */
export async function engineWindows(
  engine: CountingEngine,
  s: Scenario,
  zone: string,
  tables: ScenarioTables,
): Promise<LossWindow[]> {
  const window = dayWindow(DAY, zone);
  await engine.setWindows([window]);
  await engine.loadTable('proxy', tables.proxy, window.startMs, window.endMs, SITES);
  await engine.files?.loadEmpty('gcs');
  await engine.beginStreamed('kafka');
  await engine.appendStreamed('kafka', s.kafka);
  await engine.finishStreamed('kafka', SITES);
  await engine.loadTable('bigquery', tables.final, window.startMs, window.endMs, SITES);
  await engine.joinIds([DAY], true);
  if (!engine.windows) throw new Error('the engine counts no loss windows');
  return engine.windows.lossWindows(DAY, SITES);
}

const KINDS: Kind[] = ['lost before Kafka', 'lost in one region'];
/** Random start instants per kind, over zones with and without DST and one off the hour. */
const RANDOM_CASES = 12;
const ZONES = ['America/Chicago', 'UTC', 'Asia/Kolkata'];
export const OUTAGE_CASES = KINDS.flatMap((kind, k) =>
  [
    // On a quarter hour (two buckets), at :07 (two), at :14 (three), then random instants.
    { start: 14 * 60, zone: 'UTC' },
    { start: 9 * 60 + 7, zone: 'America/Chicago' },
    { start: 17 * 60 + 14, zone: 'Asia/Kolkata' },
    { start: 0, zone: 'America/Chicago' },
    ...Array.from({ length: RANDOM_CASES }, (_, i) => ({ start: null, zone: ZONES[i % ZONES.length]! })),
  ].map((c, i) => ({
    kind,
    ...c,
    at:
      c.start === null
        ? 'a random instant'
        : `minute ${c.start} of the day (:${String(c.start % 60).padStart(2, '0')})`,
    seed: 7000 + 100 * k + i,
  })),
);

/**
 * The engine's windows are exactly the injected ones; they lie in the outage's quarter hours (all of
 * them at a fixed start, 2 or 3) and carry the injected cause.
 */
export function expectOutageWindows(got: LossWindow[], s: Scenario, kind: Kind, start: number | null): void {
  expect(got).toEqual(s.expected);
  // The outage's own quarter hours: 2 or 3 of them, each holding lost ids of a hit site.
  const touched = new Set<number>();
  for (let t = s.outageStartMs; t < s.outageStartMs + OUTAGE_MS; t += MINUTE_MS)
    touched.add(Math.floor(t / QUARTER_MS) * QUARTER_MS);
  touched.add(Math.floor((s.outageStartMs + OUTAGE_MS - 1) / QUARTER_MS) * QUARTER_MS);
  const buckets = new Set(got.map((w) => w.startMs));
  expect([...buckets].filter((b) => !touched.has(b))).toEqual([]);
  // At a fixed start every bucket it touches holds lost ids (a random one may overlap a bucket by
  // seconds in which no request came: the ids decide, above).
  if (start !== null) {
    expect(buckets).toEqual(touched);
    expect(touched.size).toBe(start % 15 > 10 ? 3 : 2);
  }
  const cause = kind === 'lost before Kafka' ? 'lost_before_kafka' : 'unexplained';
  expect(got.map((w) => w.leadingCause)).toEqual(got.map(() => cause));
  expect(got.length).toBeGreaterThan(0);
  // One region down: the other region's ids in the same quarter hours landed.
  if (kind === 'lost in one region') expect(got.some((w) => w.landed > 0)).toBe(true);
}
