/**
 * The line filter of a count (queries/duckdb/line-keep.sql) changes no report: on generated objects of
 * folders before, inside and after a batch (and an undated one), with timestamps of every shape, broken
 * lines, sites in their own zones around a DST change, one to four report days, both tiers, either read
 * (a scan per folder, or one joined scan), and several late and clock-skew allowances, the table counted
 * with the filter differs from the one counted without it only by malformed and out-of-window rows of
 * folders that are no report day, and the line issues of the report days are the same.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dayWindow } from '../../src/dates.js';
import { prng } from '../../src/demo/generator.js';
import type { DayKey, StagedObject } from '../../src/domain.js';
import { dayLookupOf } from '../../src/engine/day-lookup.js';
import { DuckDBInstance, LIST, listValue, VARCHAR, type DuckDBConnection } from '../../src/engine/duckdb-api.js';
import { lineKeep, loadStatement, type LoadSpec } from '../../src/engine/load-sql.js';
import { DEFAULT_FIELDS } from '../../src/engine/record-columns.js';
import { loadQuery } from '../../src/queries.js';
import { tempDir } from '../support/files.js';

const FOLDERS: (DayKey | null)[] = [
  '2025-03-06',
  '2025-03-07',
  '2025-03-08',
  '2025-03-09',
  '2025-03-10',
  '2025-03-11',
  '2025-03-12',
  '2025-03-13',
  '2025-03-14',
  null,
];
const ZONING = { timezone: 'America/New_York', siteZones: { JP: 'Asia/Tokyo', HI: 'Pacific/Honolulu' } };
const SITES = ['US', 'JP', 'HI'];
const DAY_MS = 86_400_000;

/** 2,000 lines per folder, stamped anywhere in 13 days around the batches, in every shape a log may hold. */
async function writeObjects(dir: string): Promise<StagedObject[]> {
  // Seeded, so that a failure can be run again as it was.
  const rnd = prng(12345);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const base = Date.parse('2025-03-04T00:00:00Z');
  const objects: StagedObject[] = [];
  let id = 0;
  for (const folder of FOLDERS) {
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = base + Math.floor(rnd() * 13 * DAY_MS);
      const shape = rnd();
      const ts =
        shape < 0.6
          ? t
          : shape < 0.7
            ? String(t)
            : shape < 0.78
              ? new Date(t).toISOString()
              : shape < 0.82
                ? `${t}.7`
                : shape < 0.85
                  ? 'garbage'
                  : shape < 0.87
                    ? -5
                    : shape < 0.89
                      ? 1e20
                      : shape < 0.92
                        ? null
                        : shape < 0.95
                          ? Math.floor(t / 1000)
                          : t;
      const r = rnd();
      if (r < 0.02) {
        lines.push('not json at all');
        continue;
      }
      if (r < 0.03) {
        lines.push('{}');
        continue;
      }
      const rec: Record<string, unknown> = {};
      if (ts !== null) rec.timestamp = ts;
      if (rnd() > 0.05) rec.request_id = `id-${id++ % 3000}`;
      const site = pick(['US', 'JP', 'HI', 'XX', ' jp ', null]);
      if (site !== null) rec.site = site;
      if (rnd() > 0.05) rec.status = pick([200, 201, 413, 502, 500, '200.0', '200.5']);
      lines.push(JSON.stringify(rec));
    }
    const file = path.join(dir, `${folder ?? 'undated'}.ndjson`);
    await writeFile(file, `${lines.join('\n')}\n`);
    objects.push({ path: file, url: file, folderDay: folder } as StagedObject);
  }
  return objects;
}

const plain = (v: unknown): unknown => (typeof v === 'bigint' ? String(v) : v instanceof Date ? v.toISOString() : v);
async function rows(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const read = await db.runAndReadAll(sql);
  return read.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
}

const BATCHES: DayKey[][] = [
  ['2025-03-09'],
  ['2025-03-09', '2025-03-10'],
  ['2025-03-08', '2025-03-09', '2025-03-10', '2025-03-11'],
];
const REACHES = [
  { lateDays: 3, clockSkewDays: 1 },
  { lateDays: 1, clockSkewDays: 0 },
];

describe('the line filter of a count', () => {
  let objects: StagedObject[];
  let instance: DuckDBInstance;
  let db: DuckDBConnection;
  beforeAll(async () => {
    objects = await writeObjects(await tempDir('parity-line-keep-'));
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
  });
  afterAll(() => {
    db?.closeSync();
    instance?.closeSync();
  });

  const cases = BATCHES.flatMap((batch) =>
    (['proxy', 'gcs'] as const).flatMap((tier) =>
      REACHES.flatMap((reach) =>
        // Four objects: a scan per folder; all ten: one scan joined to the objects' folders.
        [4, 10].map((n) => ({ batch, tier, reach, n })),
      ),
    ),
  );

  let dropped = 0;
  test.each(cases)(
    'changes no report: $tier, days $batch, $reach, $n objects',
    async ({ batch, tier, reach, n }) => {
      const lookup = dayLookupOf(
        batch.map((d) => dayWindow(d, ZONING.timezone)),
        ZONING,
      );
      const of =
        n === 4 ? objects.filter((o) => o.folderDay === null || o.folderDay >= batch[0]!).slice(0, 4) : objects;
      const spec: LoadSpec = { tier, table: 't_keep', fields: DEFAULT_FIELDS, sites: SITES, ...reach, lookup };
      const kept = loadStatement(spec, of, false);
      expect(kept.sql).toContain(lineKeep());
      await db.run(kept.sql, kept.values, kept.types);
      const values = { ...kept.values };
      const types = { ...kept.types };
      delete values.report_days;
      delete types.report_days;
      await db.run(kept.sql.replace(lineKeep(), '').replace('t_keep', 't_all'), values, types);
      await db.run(
        'CREATE OR REPLACE TABLE windows AS SELECT CAST(unnest($d) AS DATE) AS day',
        { d: listValue(batch) },
        {
          d: LIST(VARCHAR),
        },
      );
      const differ = await rows(
        db,
        `SELECT * EXCLUDE (hashes) FROM t_all EXCEPT ALL SELECT * EXCLUDE (hashes) FROM t_keep
         UNION ALL
         (SELECT * EXCLUDE (hashes) FROM t_keep EXCEPT ALL SELECT * EXCLUDE (hashes) FROM t_all)`,
      );
      // Only what no report shows: malformed or out-of-window rows (never a record, never a broken line's
      // marker) of a dated folder that is no report day.
      const shown = differ.filter(
        (r) =>
          !(r.kind === 'malformed' || r.kind === 'out_of_window') ||
          r.day === null ||
          batch.includes(String(r.day).slice(0, 10)) ||
          r.rid !== null,
      );
      expect(shown).toEqual([]);
      const issues = (table: string) => rows(db, loadQuery('duckdb', 'line-issues', { agg_table: table }));
      expect(await issues('t_keep')).toEqual(await issues('t_all'));
      dropped += differ.length;
    },
    60_000,
  );

  // Reads what the cases above counted: it runs after them, and alone (-t) it fails.
  test('drops something at all: the cases above compared two different tables', () => {
    expect(dropped).toBeGreaterThan(0);
  });
});
