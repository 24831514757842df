import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { addDays, dayOf, dayWindow, daysInRange } from '../../src/dates.js';
import type { KafkaMessage } from '../../src/demo/generator.js';
import { parseCsv, tempDir, writeConfig, writeNdjson } from '../support/files.js';
import { MemoryKafkaReader } from '../support/memory-kafka.js';

/**
 * Each site's business day, over generated scenarios: sites with random zones (from a fixed list
 * with whole, half and quarter-hour offsets, with and without DST, DST days included), and requests
 * at random instants near the midnights of every zone. Each site's row must count exactly the
 * injected records whose instant falls on the day in that site's zone (UNKNOWN and unconfigured
 * sites: the configured zone), for the proxy, Kafka (read a day at a time: each message once) and
 * the landed tier (whose folders are the union of what each site's day needs); ALL sums the rows.
 */

const ZONES = [
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
const REGIONS = ['EUS2', 'SCUS'];
const SCENARIOS = 20;

/** A small seeded generator (mulberry32): the same seed, the same scenario. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Injected {
  id: string;
  site: string;
  ts: number;
  inKafka: boolean;
  landed: boolean;
}

function scenario(seed: number) {
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

type Scenario = ReturnType<typeof scenario>;

/** What each site's row must count, from the injected records and each site's zone alone. */
function expectedCounts(s: Scenario, day: string): Map<string, [number, number, number]> {
  const out = new Map<string, [number, number, number]>();
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

describe("each site's business day over generated scenarios", () => {
  it.each(Array.from({ length: SCENARIOS }, (_, i) => i + 1))(
    'scenario %i: every site counts exactly the injected records of its own day',
    async (seed) => {
      const s = scenario(seed);
      const dir = await tempDir('parity-site-zones-');
      const utcDay = (ts: number) => dayOf(ts, 'UTC');
      for (const folder of new Set(s.records.map((r) => utcDay(r.ts)))) {
        const here = s.records.filter((r) => utcDay(r.ts) === folder);
        const line = (r: Injected) => ({
          timestamp: new Date(r.ts).toISOString(),
          request_id: r.id,
          site: r.site,
        });
        await writeNdjson(
          path.join(dir, `proxy/dt=${folder}/a.jsonl`),
          here.map((r) => ({ ...line(r), status: 200 })),
        );
        await writeNdjson(path.join(dir, `landed/dt=${folder}/a.jsonl`), here.filter((r) => r.landed).map(line));
      }
      const messages: KafkaMessage[] = s.records
        .filter((r) => r.inKafka)
        .map((r, i) => ({ region: REGIONS[i % 2]!, ts: r.ts, request_id: r.id, site: r.site, inFlight: false }));
      const sites = s.codes.map((code) => (s.own[code] ? { code, timezone: s.own[code] } : code));
      const config = await loadConfig(
        await writeConfig(dir, {
          timezone: s.timezone,
          sites,
          tiers: {
            proxy: { locations: ['proxy/dt={date}/'], lateArrivalDays: 0 },
            gcs: { locations: ['landed/dt={date}/'], lateArrivalDays: 0 },
          },
        }),
      );
      const out = path.join(dir, 'out');
      await runReconcile({ config, days: s.days, outDir: out, kafka: new MemoryKafkaReader(REGIONS, messages) });

      for (const day of s.days) {
        const rows = parseCsv(await readFile(path.join(out, `parity-${day}.csv`), 'utf8'));
        const got = new Map(
          rows.map((r) => [
            r.site!,
            [Number(r.proxy_requests), Number(r.kafka_eus2) + Number(r.kafka_scus), Number(r.gcs_records)],
          ]),
        );
        const expected = expectedCounts(s, day);
        const bySite = (m: Map<string, number[]>) => [...expected.keys()].map((k) => [k, m.get(k) ?? [0, 0, 0]]);
        expect({ day, counts: bySite(got) }).toEqual({ day, counts: bySite(expected) });
        // ALL sums the sites' rows, each over its own day.
        const sum = [0, 1, 2].map((i) => [...expected.values()].reduce((a, c) => a + c[i]!, 0));
        expect({ day, all: got.get('ALL') }).toEqual({ day, all: sum });
      }
    },
    60_000,
  );
});
