import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ScenarioGenerator } from '../../src/demo/generator.js';
import type { DayKey } from '../../src/domain.js';
import { PARITY_HEADER } from '../../src/report/columns.js';
import { parseCsv } from './files.js';

const KAFKA_COLUMNS = [
  'kafka_records',
  'cross_region_duplicates',
  'unroutable',
  'lost_before_kafka',
  'in_flight',
  'kafka_malformed',
];
/** Columns the generator knows from its injected causes; the rest are derived, ALL-only or not configured. */
const KNOWN = (kafka: boolean) =>
  PARITY_HEADER.filter(
    (c) =>
      ![
        'date',
        'site',
        'bq_rows',
        'bq_distinct',
        'bq_malformed',
        'unexplained',
        'parity_pct',
        'status',
        'error',
        'kafka_offset_records',
        'status_reason',
        'volume_drop',
      ].includes(c) &&
      (kafka || !KAFKA_COLUMNS.includes(c)),
  );

/**
 * The reports in `out` say exactly what the generator injected: every known column of every row,
 * the offsets fast path, and the missing ids with their cause and last tier.
 */
export async function expectReportsMatch(
  gen: ScenarioGenerator,
  out: string,
  days: DayKey[],
  { kafka: regions, bigquery }: { kafka: readonly string[] | null; bigquery: boolean },
): Promise<void> {
  const known = KNOWN(regions !== null);
  const kafka = regions !== null;

  for (const day of days) {
    const rows = parseCsv(await readFile(path.join(out, `parity-${day}.csv`), 'utf8'));
    const expectedRows = gen.expected.rows.get(day) ?? new Map();
    const siteRows = rows.filter((r) => r.site !== 'ALL');
    expect(siteRows.map((r) => r.site)).toEqual([
      ...gen.options.sites,
      ...(expectedRows.has('UNKNOWN') ? ['UNKNOWN'] : []),
    ]);
    for (const row of siteRows) {
      const want = expectedRows.get(row.site!) ?? {};
      const got = Object.fromEntries(known.map((c) => [c, Number(row[c])]));
      const expected = Object.fromEntries(known.map((c) => [c, want[c] ?? 0]));
      if (bigquery) {
        // The table holds what landed: BigQuery, now the final tier, must count what GCS does.
        Object.assign(got, {
          bq_rows: Number(row.bq_rows),
          bq_distinct: Number(row.bq_distinct),
          bq_malformed: Number(row.bq_malformed),
        });
        Object.assign(expected, {
          bq_rows: want.gcs_records ?? 0,
          bq_distinct: want.gcs_distinct ?? 0,
          bq_malformed: 0,
        });
      } else {
        expect([row.bq_rows, row.bq_distinct]).toEqual(['', '']);
      }
      if (kafka) {
        for (const r of regions!) {
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
    const lastTier = new Map(
      (gen.expected.missing.get(day) ?? []).map((m) => [
        m.requestId,
        m.cause === 'lost_before_kafka' || !kafka ? 'proxy' : 'kafka',
      ]),
    );
    expect(missing.map((m) => [m.request_id, m.last_tier])).toEqual(
      missing.map((m) => [m.request_id, lastTier.get(m.request_id!)]),
    );
  }
}
