import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { daysInRange } from '../../src/dates.js';
import { type CauseMix, DEFAULT_MIX, type KafkaMessage, type LandedCopy, ScenarioGenerator } from '../../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../../src/demo/write-scenario.js';
import { identityViolations } from '../../src/reconcile/attribute.js';
import { PARITY_HEADER } from '../../src/report/columns.js';
import { parseCsv, tempDir } from '../support/files.js';
import { MemoryBigqueryReader, MemoryKafkaReader } from '../support/memory-kafka.js';

const KAFKA_COLUMNS = ['kafka_records', 'cross_region_duplicates', 'unroutable', 'lost_before_kafka', 'in_flight', 'kafka_malformed'];
/** Columns the generator knows from its injected causes; the rest are derived, ALL-only or not configured. */
const KNOWN = (kafka: boolean) =>
  PARITY_HEADER.filter(
    (c) => !['date', 'site', 'bq_rows', 'bq_distinct', 'bq_malformed', 'unexplained', 'parity_pct', 'status', 'error', 'kafka_offset_records'].includes(c) && (kafka || !KAFKA_COLUMNS.includes(c)),
  );

const MIXES: Record<string, CauseMix> = {
  default: DEFAULT_MIX,
  'heavy 413 before the limit was raised': { ...DEFAULT_MIX, rejected413: 0.07 },
  'every cause at 5%': {
    rejected413: 0.05, rejected502: 0.05, retried502: 0.05, rejectedOther: 0.05, lostUnexplained: 0.05, lostBeforeKafka: 0.05,
    inFlight: 0.05, landedAfterReject: 0.05, landedWithoutProxy: 0.05, duplicate: 0.05, crossRegion: 0.05, late: 0.05,
    unroutableHeader: 0.05, missingHeader: 0.05, messyHeader: 0.05,
  },
  'no losses at all': {
    rejected413: 0, rejected502: 0, retried502: 0, rejectedOther: 0, lostUnexplained: 0, lostBeforeKafka: 0, inFlight: 0,
    landedAfterReject: 0, landedWithoutProxy: 0, duplicate: 0, crossRegion: 0, late: 0, unroutableHeader: 0, missingHeader: 0,
    messyHeader: 0,
  },
  'duplicates and late arrivals only': { ...DEFAULT_MIX, rejected413: 0, rejected502: 0, lostUnexplained: 0, duplicate: 0.3, late: 0.3 },
};

const CASES = Object.entries(MIXES).flatMap(([name, mix], i) =>
  [1, 2, 3].map((k) => ({
    name,
    mix,
    seed: 1000 * (i + 1) + k,
    timezone: k === 1 ? 'America/Chicago' : i % 2 ? 'Asia/Kolkata' : 'UTC',
    kafka: k !== 2,
    bigquery: k === 3,
  })),
);

describe('attribution returns exactly the injected causes', () => {
  it.each(CASES)('$name, seed $seed, zone $timezone, kafka $kafka, bigquery $bigquery', async ({ mix, seed, timezone, kafka, bigquery }) => {
    const dir = await tempDir();
    const days = daysInRange('2025-03-08', '2025-03-10');
    const regions = ['EUS2', 'SCUS'];
    const gen = new ScenarioGenerator({ seed, days, timezone, sites: ['US', 'CA', 'MX'], eventsPerDay: 600, mix, malformedPerDay: 2, regions, kafka });
    const messages: KafkaMessage[] = [];
    const landed: LandedCopy[] = [];
    const written = await writeScenario(gen, dir, 0.5, (m) => void messages.push(...m), (c) => void landed.push(...c));
    const configFile = path.join(dir, 'config.json');
    await writeScenarioConfig(configFile, gen, written, { engine: { batchDays: 2 } });
    const out = path.join(dir, 'out');
    const reader = kafka ? new MemoryKafkaReader(regions, messages) : undefined;
    const result = await runReconcile({
      config: await loadConfig(configFile),
      days,
      outDir: out,
      ...(reader ? { kafka: reader } : {}),
      ...(bigquery ? { bigquery: new MemoryBigqueryReader(landed) } : {}),
    });
    const known = KNOWN(kafka);

    for (const day of days) {
      const rows = parseCsv(await readFile(path.join(out, `parity-${day}.csv`), 'utf8'));
      const expectedRows = gen.expected.rows.get(day) ?? new Map();
      const siteRows = rows.filter((r) => r.site !== 'ALL');
      expect(siteRows.map((r) => r.site)).toEqual([...['US', 'CA', 'MX'], ...(expectedRows.has('UNKNOWN') ? ['UNKNOWN'] : [])]);
      for (const row of siteRows) {
        const want = expectedRows.get(row.site!) ?? {};
        const got = Object.fromEntries(known.map((c) => [c, Number(row[c])]));
        const expected = Object.fromEntries(known.map((c) => [c, want[c] ?? 0]));
        if (bigquery) {
          // The table holds what landed: BigQuery, now the final tier, must count what GCS does.
          Object.assign(got, { bq_rows: Number(row.bq_rows), bq_distinct: Number(row.bq_distinct), bq_malformed: Number(row.bq_malformed) });
          Object.assign(expected, { bq_rows: want.gcs_records ?? 0, bq_distinct: want.gcs_distinct ?? 0, bq_malformed: 0 });
        } else {
          expect([row.bq_rows, row.bq_distinct]).toEqual(['', '']);
        }
        if (kafka) {
          for (const r of regions) {
            got[`kafka_${r.toLowerCase()}`] = Number(row[`kafka_${r.toLowerCase()}`]);
            expected[`kafka_${r.toLowerCase()}`] = want.regions?.[r] ?? 0;
          }
        }
        expect({ day, site: row.site, ...got }).toEqual({ day, site: row.site, ...expected });
      }
      const all = rows.find((r) => r.site === 'ALL')!;
      const offsets = [...expectedRows.values()].reduce((n, r) => n + (r.kafka_offset_records ?? 0), 0);
      expect(all.kafka_offset_records).toBe(kafka ? String(offsets) : '');
      const missing = parseCsv(await readFile(path.join(out, `missing-${day}.csv`), 'utf8'));
      const wantMissing = (gen.expected.missing.get(day) ?? []).map((m) => `${m.site},${m.requestId},${m.cause}`).sort();
      expect(missing.map((m) => `${m.site},${m.request_id},${m.cause}`).sort()).toEqual(wantMissing);
      const lastTier = new Map((gen.expected.missing.get(day) ?? []).map((m) => [m.requestId, m.cause === 'lost_before_kafka' || !kafka ? 'proxy' : 'kafka']));
      expect(missing.map((m) => [m.request_id, m.last_tier])).toEqual(missing.map((m) => [m.request_id, lastTier.get(m.request_id!)]));
    }
    for (const summary of result.days) {
      for (const row of summary.rows) expect(identityViolations(row)).toEqual([]);
    }
  });
});
