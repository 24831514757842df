/**
 * The BigQuery tier (src/tiers/bigquery.ts) with the real @google-cloud/bigquery client: against
 * goccy/bigquery-emulator for reading, dry runs and history writes, and against a small stub of the
 * BigQuery REST API for what the emulator cannot produce (403, bytesBilledLimitExceeded, 503, a job
 * that never finishes). See notes/bq-emulator.md for the emulator's quirks.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BigQuery, type TableField } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import type { StreamedRow } from '../../src/domain.js';
import { AbortedError, TierError } from '../../src/errors.js';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { createHistoryWriter } from '../../src/report/history-writer.js';
import { createBigqueryTier, type BigqueryTier, type BigqueryTierOptions } from '../../src/tiers/bigquery.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, startBqEmulator, type BqEmulator } from '../support/bq-emulator.js';
import { rejection } from '../support/files.js';

/** A cold build of the emulator takes about 5 minutes; with the binary present, setup takes < 1 s. */
const SETUP_TIMEOUT_MS = BQ_EMULATOR_INSTALL_TIMEOUT_MS + 60_000;
const TEST_TIMEOUT_MS = 60_000;

const PROJECT = 'parity-bq-tier';
const RUN = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const DATASET = `bq_tier_${RUN}`;
const EVENTS = 'events';
/** Small, so that one day's result spans several pages. */
const PAGE_SIZE = 7;

const EVENTS_SCHEMA: TableField[] = [
  { name: 'event_ts', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'rid', type: 'STRING' },
  { name: 'site_id', type: 'STRING' },
  { name: 'dt', type: 'DATE' },
];

interface Fixture {
  ts: string;
  rid: string | null;
  site: string | null;
  dt: string;
}

const DAYS = ['2025-03-08', '2025-03-09', '2025-03-10'] as const;
const SITES = ['US', 'CA', 'us', null, 'MX', ''] as const;
/** Partitioned by arrival, a day after its own date: read only with partitionMarginDays >= 1. */
const LATE = {
  ts: '2025-03-09T12:34:56.789Z',
  rid: 'late-partitioned',
  site: 'US',
  dt: '2025-03-10',
} satisfies Fixture;

/** Partitioned two days after its own date: beyond the default margin, read by no day, however wide the read. */
const FAR = {
  ts: '2025-03-09T08:00:00.000Z',
  rid: 'far-partitioned',
  site: 'US',
  dt: '2025-03-11',
} satisfies Fixture;

/** Three days of landed rows with duplicates, NULL request ids, every kind of site, and rows on the midnights. */
function fixture(): Fixture[] {
  const rows: Fixture[] = [];
  for (const day of DAYS) {
    const start = Date.parse(`${day}T00:00:00.000Z`);
    for (let i = 0; i < 40; i++) {
      const row = {
        ts: new Date(start + 1_000 + i * 35 * 60 * 1000 + i).toISOString(),
        rid: `${day}-r${i}`,
        site: SITES[i % SITES.length]!,
        dt: day,
      };
      rows.push(row);
      if (i % 7 === 0) rows.push({ ...row }); // an exact duplicate: one result row with n = 2
      if (i % 11 === 0) rows.push({ ...row, ts: new Date(Date.parse(row.ts) + 5_000).toISOString() }); // the same id again later
    }
    const nullAt = new Date(start + 6 * 3600 * 1000).toISOString();
    rows.push(
      { ts: nullAt, rid: null, site: 'US', dt: day },
      { ts: nullAt, rid: null, site: 'US', dt: day },
      { ts: nullAt, rid: null, site: null, dt: day },
    );
    rows.push({ ts: `${day}T00:00:00.000Z`, rid: `${day}-first`, site: 'CA', dt: day });
    rows.push({ ts: `${day}T23:59:59.999Z`, rid: `${day}-last`, site: 'CA', dt: day });
  }
  rows.push(LATE, FAR);
  return rows;
}

const FIXTURE = fixture();

/** "ts|rid|site" → rows, for the fixture rows in [startMs, endMs). */
function expectedGroups(startMs: number, endMs: number, marginDays = 1): Map<string, number> {
  const groups = new Map<string, number>();
  for (const r of FIXTURE) {
    const t = Date.parse(r.ts);
    if (t < startMs || t >= endMs) continue;
    if (Math.abs(Date.parse(r.dt) - Date.parse(r.ts.slice(0, 10))) > marginDays * DAY_MS) continue;
    const key = `${t}|${r.rid}|${r.site}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return groups;
}

function groupsOf(rows: StreamedRow[]): Map<string, number> {
  const groups = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.timestampMs}|${r.requestId}|${r.siteHeader}`;
    groups.set(key, (groups.get(key) ?? 0) + r.n);
  }
  return groups;
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const dayStart = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);
const DAY_MS = 24 * 3600 * 1000;

let emu: BqEmulator | undefined;
let bq: BigQuery;

function tierOptions(overrides: Partial<BigqueryTierOptions> = {}): BigqueryTierOptions {
  return {
    table: `${PROJECT}.${DATASET}.${EVENTS}`,
    columns: { timestamp: 'event_ts', request_id: 'rid', site: 'site_id', partition: 'dt' },
    apiEndpoint: emu!.endpoint,
    maximumBytesBilled: '10737418240',
    partitionMarginDays: 1,
    pageSize: PAGE_SIZE,
    ...overrides,
  };
}

/** Reads [startMs, endMs) and keeps every batch. */
async function readAll(
  tier: BigqueryTier,
  startMs: number,
  endMs: number,
  signal?: AbortSignal,
): Promise<{ batches: StreamedRow[][]; result: Awaited<ReturnType<BigqueryTier['readRange']>> }> {
  const batches: StreamedRow[][] = [];
  const result = await tier.readRange(
    startMs,
    endMs,
    [],
    async (rows) => {
      batches.push(rows);
    },
    signal,
  );
  return { batches, result };
}

beforeAll(async () => {
  emu = await startBqEmulator(PROJECT);
  bq = createBigqueryClient({ projectId: PROJECT, apiEndpoint: emu.endpoint });
  const [dataset] = await bq.createDataset(DATASET, { location: 'US' });
  const [table] = await dataset.createTable(EVENTS, {
    schema: { fields: EVENTS_SCHEMA },
    timePartitioning: { type: 'DAY', field: 'dt' },
  });
  await table.insert(FIXTURE.map((r) => ({ event_ts: r.ts, rid: r.rid, site_id: r.site, dt: r.dt })));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
});

describe('BigQuery tier against the emulator', () => {
  test(
    'the fixture is in the table as generated',
    async () => {
      const [rows] = await bq.query(
        `SELECT COUNT(*) AS n, COUNTIF(rid IS NULL) AS null_ids FROM \`${PROJECT}.${DATASET}.${EVENTS}\``,
      );
      expect(rows).toEqual([{ n: FIXTURE.length, null_ids: FIXTURE.filter((r) => r.rid === null).length }]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'readRange over one day streams exactly its rows, one per timestamp × request id × site with its count, a page per batch',
    async () => {
      const tier = createBigqueryTier(tierOptions());
      const start = dayStart('2025-03-09');
      const { batches, result } = await readAll(tier, start, start + DAY_MS);
      const rows = batches.flat();
      const expected = expectedGroups(start, start + DAY_MS);

      expect(sorted(groupsOf(rows))).toEqual(sorted(expected));
      // One result row per group: the GROUP BY happened in BigQuery.
      expect(rows).toHaveLength(expected.size);
      expect(result.rows).toBe(expected.size);
      expect(rows.reduce((s, r) => s + r.n, 0)).toBe(
        FIXTURE.filter((r) => Date.parse(r.ts) >= start && Date.parse(r.ts) < start + DAY_MS && r !== FAR).length,
      );
      expect(rows.every((r) => r.region === null && r.inFlight === false)).toBe(true);
      expect(typeof result.bytesProcessed).toBe('number');

      // Paged: more than one batch, none larger than a page.
      expect(batches.length).toBeGreaterThan(1);
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(PAGE_SIZE);

      // The midnights: 00:00:00.000 of the day is in, 23:59:59.999 of the day before and 00:00:00.000 of the next are not.
      const has = (ts: string): boolean => rows.some((r) => r.timestampMs === Date.parse(ts));
      expect(has('2025-03-09T00:00:00.000Z')).toBe(true);
      expect(has('2025-03-09T23:59:59.999Z')).toBe(true);
      expect(has('2025-03-08T23:59:59.999Z')).toBe(false);
      expect(has('2025-03-10T00:00:00.000Z')).toBe(false);

      // NULL request ids are returned (the engine counts them as malformed), grouped like any other.
      expect(
        rows
          .filter((r) => r.requestId === null)
          .map((r) => [r.siteHeader, r.n])
          .sort(),
      ).toEqual(
        [
          ['US', 2],
          [null, 1],
        ].sort(),
      );
      // Sites come back as stored: lower case, empty and missing included.
      expect(new Set(rows.map((r) => r.siteHeader))).toEqual(new Set(['US', 'CA', 'us', null, 'MX', '']));
      // Exact duplicates are one row with n = 2; the same id at another time is another row.
      expect(
        rows
          .filter((r) => r.requestId === '2025-03-09-r0')
          .map((r) => r.n)
          .sort(),
      ).toEqual([1, 2]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "rows without a timestamp are read from the partitions of the read's days only, each with its partition's date",
    async () => {
      const [table] = await bq.dataset(DATASET).createTable('untimed', {
        schema: { fields: EVENTS_SCHEMA },
        timePartitioning: { type: 'DAY', field: 'dt' },
      });
      await table.insert([
        { event_ts: '2025-03-09T12:00:00.000Z', rid: 'timed', site_id: 'US', dt: '2025-03-09' },
        { event_ts: null, rid: 'untimed-9', site_id: 'CA', dt: '2025-03-09' },
        { event_ts: null, rid: 'untimed-9', site_id: 'CA', dt: '2025-03-09' },
        { event_ts: null, rid: 'untimed-10', site_id: 'US', dt: '2025-03-10' },
      ]);
      const tier = createBigqueryTier(tierOptions({ table: `${PROJECT}.${DATASET}.untimed` }));
      const start = dayStart('2025-03-09');
      const read = async (days?: string[]) => {
        const rows: StreamedRow[] = [];
        await tier.readRange(start, start + DAY_MS, days ?? [], async (b) => void rows.push(...b));
        return rows.map((r) => [r.requestId, r.timestampMs, r.untimedDay ?? null, r.n]).sort();
      };
      const timed = ['timed', Date.parse('2025-03-09T12:00:00.000Z'), null, 1];
      expect(await read(['2025-03-09'])).toEqual([timed, ['untimed-9', null, '2025-03-09', 2]].sort());
      expect(await read()).toEqual([timed]);
      expect(await read(['2025-03-10'])).toEqual([timed, ['untimed-10', null, '2025-03-10', 1]].sort());
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a row in the NULL partition (a NULL partition column, a streaming buffer) is read by the day of its timestamp',
    async () => {
      const [table] = await bq.dataset(DATASET).createTable('null_partition', {
        schema: { fields: EVENTS_SCHEMA },
        timePartitioning: { type: 'DAY', field: 'dt' },
      });
      await table.insert([
        { event_ts: '2025-03-09T12:00:00.000Z', rid: 'dated', site_id: 'US', dt: '2025-03-09' },
        { event_ts: '2025-03-09T13:00:00.000Z', rid: 'undated-9', site_id: 'US', dt: null },
        { event_ts: '2025-03-10T13:00:00.000Z', rid: 'undated-10', site_id: 'US', dt: null },
        // Neither a timestamp nor a partition: no day is its day.
        { event_ts: null, rid: 'nowhere', site_id: 'US', dt: null },
      ]);
      const tier = createBigqueryTier(tierOptions({ table: `${PROJECT}.${DATASET}.null_partition` }));
      const read = async (day: string) => {
        const rows: StreamedRow[] = [];
        const start = dayStart(day);
        await tier.readRange(start, start + DAY_MS, [day], async (b) => void rows.push(...b));
        return rows.map((r) => r.requestId).sort();
      };
      // Before 0.3.2 the partition filter left the NULL partition out: undated-9 read as missing.
      expect(await read('2025-03-09')).toEqual(['dated', 'undated-9']);
      expect(await read('2025-03-10')).toEqual(['undated-10']);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a row partitioned a day late is read only when partitionMarginDays admits its partition',
    async () => {
      const start = dayStart('2025-03-09');
      const late = (rows: StreamedRow[]): StreamedRow[] => rows.filter((r) => r.requestId === LATE.rid);
      const withMargin = await readAll(
        createBigqueryTier(tierOptions({ partitionMarginDays: 1 })),
        start,
        start + DAY_MS,
      );
      expect(late(withMargin.batches.flat())).toEqual([
        {
          region: null,
          timestampMs: Date.parse(LATE.ts),
          requestId: LATE.rid,
          siteHeader: 'US',
          inFlight: false,
          n: 1,
        },
      ]);
      const noMargin = await readAll(
        createBigqueryTier(tierOptions({ partitionMarginDays: 0 })),
        start,
        start + DAY_MS,
      );
      expect(late(noMargin.batches.flat())).toEqual([]);
      expect(noMargin.result.rows).toBe(withMargin.result.rows - 1);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a row partitioned further than the margin from its own date is read by no range, however wide',
    async () => {
      const far = (rows: StreamedRow[]) => rows.filter((r) => r.requestId === FAR.rid);
      const start = dayStart('2025-03-09');
      // Its day alone, and a range whose partition filter holds its partition: the same rows for the 9th.
      const alone = await readAll(createBigqueryTier(tierOptions()), start, start + DAY_MS);
      const wide = await readAll(createBigqueryTier(tierOptions()), start, start + 3 * DAY_MS);
      expect(far(alone.batches.flat())).toEqual([]);
      expect(far(wide.batches.flat())).toEqual([]);
      const ofDay = (rows: StreamedRow[]) => rows.filter((r) => (r.timestampMs ?? 0) < start + DAY_MS);
      expect(sorted(groupsOf(ofDay(wide.batches.flat())))).toEqual(sorted(groupsOf(alone.batches.flat())));
      // A margin that admits it reads it.
      const admitted = await readAll(
        createBigqueryTier(tierOptions({ partitionMarginDays: 2 })),
        start,
        start + DAY_MS,
      );
      expect(far(admitted.batches.flat())).toHaveLength(1);
      // It is read, with its partition's date, by the read whose days hold that date: out of window there (before
      // 0.3.7 by none). Not by its time: a read of the 11th alone, whose time range it is not in, returns it too.
      const rows: StreamedRow[] = [];
      const onTheEleventh = async (from: number) => {
        rows.length = 0;
        await createBigqueryTier(tierOptions()).readRange(from, dayStart('2025-03-12'), ['2025-03-11'], async (b) => {
          rows.push(...b);
        });
        return far(rows).map((r) => [r.timestampMs, r.untimedDay, r.n]);
      };
      const placed = [[Date.parse(FAR.ts), FAR.dt, 1]];
      expect(await onTheEleventh(dayStart('2025-03-11'))).toEqual(placed);
      expect(await onTheEleventh(start)).toEqual(placed);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a range of several days is read by one query',
    async () => {
      const start = dayStart('2025-03-08');
      const { batches } = await readAll(createBigqueryTier(tierOptions({ pageSize: 1000 })), start, start + 3 * DAY_MS);
      expect(batches).toHaveLength(1);
      expect(sorted(groupsOf(batches.flat()))).toEqual(sorted(expectedGroups(start, start + 3 * DAY_MS)));
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'dryRun returns the SQL readRange runs, with its partition filter and parameters, and a byte estimate',
    async () => {
      const tier = createBigqueryTier(tierOptions({ partitionMarginDays: 2 }));
      // A day in America/Chicago: 06:00Z to 06:00Z, touching two UTC dates.
      const start = Date.parse('2025-03-09T06:00:00.000Z');
      const plan = await tier.dryRun(start, start + DAY_MS, ['2025-03-09']);
      expect(plan.sql).toContain('`dt` BETWEEN @from_date AND @to_date');
      // Rows without a timestamp are read from the partitions of the read's days.
      expect(plan.sql).toContain("`event_ts` IS NULL AND FORMAT_DATE('%F', `dt`) IN UNNEST(@untimed_days)");
      expect(plan.sql).toContain(`FROM \`${PROJECT}.${DATASET}.${EVENTS}\``);
      expect(plan.sql).toContain('`event_ts` >= @start');
      expect(plan.sql).toContain('`event_ts` < @end');
      expect(plan.sql).toContain('GROUP BY 1, 2, 3, 4');
      expect(plan.params).toEqual({
        start: '2025-03-09T06:00:00.000Z',
        end: '2025-03-10T06:00:00.000Z',
        from_date: '2025-03-07',
        to_date: '2025-03-12',
        margin_days: '2',
        untimed_days: ['2025-03-09'],
      });
      // Each row's own partition within the margin of its timestamp's date: a day counts the same rows
      // whatever other days are read with it.
      expect(plan.sql).toContain('ABS(DATE_DIFF(`dt`, DATE(`event_ts`), DAY)) <= @margin_days');
      expect(Number.isInteger(plan.bytes)).toBe(true);
      expect(plan.bytes).toBeGreaterThanOrEqual(0);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a window ending at midnight UTC does not widen the partition filter to the next date',
    async () => {
      const start = dayStart('2025-03-09');
      const plan = await createBigqueryTier(tierOptions({ partitionMarginDays: 0 })).dryRun(start, start + DAY_MS, []);
      expect(plan.params).toEqual(expect.objectContaining({ from_date: '2025-03-09', to_date: '2025-03-09' }));
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a missing table or dataset is a non-retriable TierError naming the table, from readRange and dryRun',
    async () => {
      const start = dayStart('2025-03-09');
      for (const table of [`${PROJECT}.${DATASET}.no_such_table`, `${PROJECT}.no_such_dataset_${RUN}.${EVENTS}`]) {
        const tier = createBigqueryTier(tierOptions({ table }));
        // One at a time: a second promise started early would reject before anything awaits it.
        for (const attempt of [
          () => tier.readRange(start, start + DAY_MS, [], async () => undefined),
          () => tier.dryRun(start, start + DAY_MS, []),
        ]) {
          const e = await rejection(attempt());
          expect(e).toBeInstanceOf(TierError);
          expect(e).toMatchObject({ tier: 'bigquery', object: table, retriable: false });
          expect((e as TierError).message).toContain(`table ${table} or its dataset does not exist`);
        }
      }
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'an aborted signal stops readRange between pages with AbortedError, and an aborted one reads nothing',
    async () => {
      const tier = createBigqueryTier(tierOptions());
      const start = dayStart('2025-03-09');
      const controller = new AbortController();
      let batches = 0;
      const e = await rejection(
        tier.readRange(
          start,
          start + DAY_MS,
          [],
          async () => {
            batches++;
            controller.abort();
          },
          controller.signal,
        ),
      );
      expect(e).toBeInstanceOf(AbortedError);
      expect(batches).toBe(1);
      await expect(
        tier.readRange(start, start + DAY_MS, [], async () => undefined, AbortSignal.abort()),
      ).rejects.toBeInstanceOf(AbortedError);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'an error thrown by onBatch comes back as it was, not as a BigQuery TierError',
    async () => {
      const start = dayStart('2025-03-09');
      const failure = new Error('engine: out of memory');
      const e = await rejection(
        createBigqueryTier(tierOptions()).readRange(start, start + DAY_MS, [], async () => {
          throw failure;
        }),
      );
      expect(e).toBe(failure);
    },
    TEST_TIMEOUT_MS,
  );

  describe('writeHistory', () => {
    const HISTORY = `${PROJECT}.${DATASET}.history`;
    const row = (
      date: string,
      site: string,
      n: number,
      extra: Record<string, string | number | null> = {},
    ): Record<string, string | number | null> => ({
      date,
      site,
      bq_rows: n,
      kafka_records: null,
      parity_pct: '99.5000',
      ratio: 0.25,
      status: 'PASS',
      as_of: '2025-03-11T06:00:00.000Z',
      ...extra,
    });
    /** A written row as historyRows reads it back: `row` without as_of, which it does not select. */
    const stored = (...args: Parameters<typeof row>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(row(...args)).filter(([column]) => column !== 'as_of'));
    /** A table made by hand before the job met it (`name TYPE` per column); returns its id. */
    async function tableOf(id: string, ...columns: string[]): Promise<string> {
      const fields = columns.map((c) => ({ name: c.split(' ')[0]!, type: c.split(' ')[1]! }));
      await bq.dataset(DATASET).createTable(id, { schema: { fields } });
      return id;
    }
    async function historyRows(): Promise<Record<string, unknown>[]> {
      const [rows] = await bq.query(
        `SELECT FORMAT_DATE('%F', \`date\`) AS date, site, bq_rows, kafka_records, parity_pct, ratio, status FROM \`${HISTORY}\` ORDER BY date, site`,
      );
      return rows as Record<string, unknown>[];
    }

    test(
      'with the types the caller gives, a count that is NULL on the first day written is INT64 all the same',
      async () => {
        const table = `${HISTORY}_typed`;
        const tier = createHistoryWriter(tierOptions());
        await tier.writeHistory(table, [row('2025-03-09', 'US', 10)], undefined, {
          kafka_records: 'INT64',
          kafka_expired: 'STRING',
        });
        await tier.writeHistory(table, [row('2025-03-10', 'US', 11, { kafka_records: 40 })], undefined, {
          kafka_records: 'INT64',
        });
        const [md] = await bq.dataset(DATASET).table('history_typed').getMetadata();
        expect((md.schema.fields as TableField[]).map((f) => `${f.name}:${f.type}`)).toContain('kafka_records:INT64');
        const [sum] = await bq.query(`SELECT SUM(kafka_records) AS n FROM \`${table}\``);
        expect(Number((sum[0] as { n: unknown }).n)).toBe(40);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'creates the table: DATE date, INT64 and FLOAT64 for numbers, STRING for the rest, partitioned by date',
      async () => {
        const tier = createHistoryWriter(tierOptions());
        await tier.writeHistory(HISTORY, [row('2025-03-09', 'US', 10), row('2025-03-09', 'ALL', 12)]);
        const [md] = await bq.dataset(DATASET).table('history').getMetadata();
        expect((md.schema.fields as TableField[]).map((f) => `${f.name}:${f.type}`)).toEqual([
          'date:DATE',
          'site:STRING',
          'bq_rows:INT64',
          'kafka_records:STRING', // all NULL so far
          'parity_pct:STRING',
          'ratio:FLOAT64',
          'status:STRING',
          'as_of:STRING',
        ]);
        expect(md.timePartitioning).toEqual(expect.objectContaining({ type: 'DAY', field: 'date' }));
        expect(await historyRows()).toEqual([stored('2025-03-09', 'ALL', 12), stored('2025-03-09', 'US', 10)]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "run twice for the same day leaves one set of rows; another day's rows are kept; a re-run replaces only its day",
      async () => {
        const tier = createHistoryWriter(tierOptions());
        const day9 = [row('2025-03-09', 'US', 10), row('2025-03-09', 'ALL', 12)];
        await tier.writeHistory(HISTORY, day9);
        await tier.writeHistory(HISTORY, day9);
        await tier.writeHistory(HISTORY, [row('2025-03-10', 'US', 20, { kafka_records: 21 })]);
        expect(await historyRows()).toEqual([
          stored('2025-03-09', 'ALL', 12),
          stored('2025-03-09', 'US', 10),
          // A number into the column that was created STRING: its decimal text.
          stored('2025-03-10', 'US', 20, { kafka_records: '21' }),
        ]);
        // Restating 03-09 with fewer sites drops the old rows of that day only.
        await tier.writeHistory(HISTORY, [row('2025-03-09', 'ALL', 13, { status: 'WARN' })]);
        expect(await historyRows()).toEqual([
          stored('2025-03-09', 'ALL', 13, { status: 'WARN' }),
          stored('2025-03-10', 'US', 20, { kafka_records: '21' }),
        ]);
        // No staging table is left behind.
        const [tables] = await bq.dataset(DATASET).getTables();
        expect(tables.map((t) => t.id).filter((id) => id?.includes('stage'))).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'several days in one call: each day replaced, the days between kept',
      async () => {
        const tier = createHistoryWriter(tierOptions());
        await tier.writeHistory(HISTORY, [
          row('2025-03-11', 'US', 30),
          row('2025-03-12', 'US', 40),
          row('2025-03-12', 'CA', 41),
        ]);
        await tier.writeHistory(HISTORY, [row('2025-03-11', 'US', 31), row('2025-03-12', 'US', 42)]);
        const [rows] = await bq.query(
          `SELECT FORMAT_DATE('%F', \`date\`) AS date, site, bq_rows FROM \`${HISTORY}\` WHERE \`date\` >= '2025-03-10' ORDER BY date, site`,
        );
        expect(rows).toEqual([
          { date: '2025-03-10', site: 'US', bq_rows: 20 },
          { date: '2025-03-11', site: 'US', bq_rows: 31 },
          { date: '2025-03-12', site: 'US', bq_rows: 42 },
        ]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'a run that finishes later with older rows of a day (an earlier as_of) leaves the newer ones; newer rows replace them',
      async () => {
        const tier = createHistoryWriter(tierOptions());
        const at = (asOf: string, n: number) => row('2025-03-21', 'US', n, { as_of: asOf });
        const day21 = async () =>
          (await bq.query(`SELECT bq_rows, as_of FROM \`${HISTORY}\` WHERE \`date\` = '2025-03-21' ORDER BY as_of`))[0];
        await tier.writeHistory(HISTORY, [at('2025-03-14T06:00:00.000Z', 50)]);
        // A backfill begun at 05:00 finishes after the 06:00 daily that restated the day.
        await tier.writeHistory(HISTORY, [
          at('2025-03-14T05:00:00.000Z', 49),
          row('2025-03-22', 'US', 43, { as_of: '2025-03-14T05:00:00.000Z' }),
        ]);
        expect(await day21()).toEqual([{ bq_rows: 50, as_of: '2025-03-14T06:00:00.000Z' }]);
        // The call's other day, which nothing newer holds, is written.
        const [day22] = await bq.query(`SELECT bq_rows FROM \`${HISTORY}\` WHERE \`date\` = '2025-03-22'`);
        expect(day22).toEqual([{ bq_rows: 43 }]);
        await tier.writeHistory(HISTORY, [at('2025-03-15T06:00:00.000Z', 51)]);
        expect(await day21()).toEqual([{ bq_rows: 51, as_of: '2025-03-15T06:00:00.000Z' }]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'known gap: a column a later run brings is added to the schema, but the emulator cannot write it (BigQuery can); the failed write changes nothing',
      async () => {
        const [before] = await bq.query(`SELECT COUNT(*) AS n FROM \`${HISTORY}\``);
        const e = await rejection(
          createHistoryWriter(tierOptions()).writeHistory(HISTORY, [row('2025-03-10', 'US', 99, { kafka_eus2: 7 })]),
        );
        const [md] = await bq.dataset(DATASET).table('history').getMetadata();
        expect((md.schema.fields as TableField[]).map((f) => `${f.name}:${f.type}`)).toContain('kafka_eus2:INT64');
        // tables.patch updates the emulator's metadata, not its storage (ALTER TABLE ADD COLUMN is a silent no-op there too).
        expect(e).toBeInstanceOf(TierError);
        expect((e as TierError).message).toContain('Column kafka_eus2 is not present');
        const [after] = await bq.query(`SELECT COUNT(*) AS n FROM \`${HISTORY}\``);
        expect(after).toEqual(before);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'a value that does not fit an existing column is a TierError naming the column',
      async () => {
        const e = await rejection(
          createHistoryWriter(tierOptions()).writeHistory(HISTORY, [
            row('2025-03-13', 'US', 'many' as unknown as number),
          ]),
        );
        expect(e).toBeInstanceOf(TierError);
        expect((e as TierError).message).toContain('column bq_rows: "many" does not fit');
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'a table of other data (the audited table named by mistake) is refused, and left as it was',
      async () => {
        const id = await tableOf('history_not_ours', 'date DATE', 'request_id STRING', 'site STRING');
        const e = await rejection(
          createHistoryWriter(tierOptions()).writeHistory(`${PROJECT}.${DATASET}.${id}`, [row('2025-03-09', 'US', 1)]),
        );
        expect(e).toBeInstanceOf(TierError);
        expect((e as TierError).message).toContain(
          'is not a history table: it has columns (date, request_id, site) but neither as_of nor parity_pct',
        );
        const [md] = await bq.dataset(DATASET).table(id).getMetadata();
        expect((md.schema.fields as TableField[]).map((f) => f.name)).toEqual(['date', 'request_id', 'site']);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'an as_of column of type TIMESTAMP is compared as time: a re-check of a day replaces it, an older run does not',
      async () => {
        const id = await tableOf('history_ts', 'date DATE', 'site STRING', 'bq_rows INT64', 'as_of TIMESTAMP');
        const table = `${PROJECT}.${DATASET}.${id}`;
        const tier = createHistoryWriter(tierOptions());
        const at = (asOf: string, n: number) => ({ date: '2025-03-09', site: 'US', bq_rows: n, as_of: asOf });
        const stored = async () =>
          (await bq.query(`SELECT bq_rows FROM \`${table}\` WHERE \`date\` = '2025-03-09'`))[0];
        expect(await tier.writeHistory(table, [at('2025-03-10T06:00:00.000Z', 1)])).toEqual([]);
        // The next morning's re-check: newer, written (it was refused for good: the client's timestamp
        // object, as text "[object Object]", sorted after every ISO time).
        expect(await tier.writeHistory(table, [at('2025-03-11T06:00:00.000Z', 2)])).toEqual([]);
        expect(await stored()).toEqual([{ bq_rows: 2 }]);
        expect(await tier.writeHistory(table, [at('2025-03-10T07:00:00.000Z', 3)])).toEqual(['2025-03-09']);
        expect(await stored()).toEqual([{ bq_rows: 2 }]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'a column of a type history rows cannot fill is a TierError naming it, before any staging table is made',
      async () => {
        const id = await tableOf('history_bool', 'date DATE', 'site STRING', 'status BOOLEAN', 'as_of STRING');
        const e = await rejection(
          createHistoryWriter(tierOptions()).writeHistory(`${PROJECT}.${DATASET}.${id}`, [row('2025-03-09', 'US', 1)]),
        );
        expect(e).toBeInstanceOf(TierError);
        expect((e as TierError).message).toContain(
          'column status has type BOOLEAN, which history rows cannot fill — use another table',
        );
        const [tables] = await bq.dataset(DATASET).getTables();
        expect(tables.map((t) => t.id).filter((t) => t?.startsWith(`${id}__stage`))).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      'a missing dataset is a TierError naming the history table and the dataset to create',
      async () => {
        const table = `${PROJECT}.no_history_dataset_${RUN}.history`;
        const e = await rejection(createHistoryWriter(tierOptions()).writeHistory(table, [row('2025-03-09', 'US', 1)]));
        expect(e).toBeInstanceOf(TierError);
        expect(e).toMatchObject({ tier: 'bigquery', object: table, retriable: false });
        expect((e as TierError).message).toContain(`create dataset ${PROJECT}.no_history_dataset_${RUN}`);
      },
      TEST_TIMEOUT_MS,
    );
  });
});

// ---- what the emulator cannot produce: a stub of the REST API, with the real client ----------

interface StubRequest {
  method: string;
  path: string;
  body: unknown;
}
type Scenario = (req: StubRequest, res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const apiError = (res: ServerResponse, status: number, reason: string, message: string): void =>
  json(res, status, { error: { code: status, message, errors: [{ reason, message, domain: 'global' }] } });

describe('BigQuery tier errors, against a stub of the BigQuery API', () => {
  const STUB_PROJECT = 'stub-project';
  const TABLE = 'data-project.landing.events';
  let server: Server;
  let endpoint: string;
  let scenario: Scenario;
  let requests: StubRequest[] = [];

  const jobOf = (req: StubRequest, state: string, extra: Record<string, unknown> = {}): Record<string, unknown> => {
    const id =
      (req.body as { jobReference?: { jobId?: string } } | undefined)?.jobReference?.jobId ??
      req.path.split('/jobs/')[1]?.split('/')[0] ??
      'job';
    return {
      kind: 'bigquery#job',
      jobReference: { projectId: STUB_PROJECT, jobId: id, location: 'US' },
      status: { state },
      ...extra,
    };
  };

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (text += c));
      req.on('end', () => {
        const r: StubRequest = {
          method: req.method ?? '',
          path: (req.url ?? '').split('?')[0]!,
          body: text ? JSON.parse(text) : undefined,
        };
        requests.push(r);
        scenario(r, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  beforeEach(() => {
    requests = [];
  });

  /** The client without its own retries, so that a 503 surfaces at once. */
  function stubTier(overrides: Partial<BigqueryTierOptions> = {}): BigqueryTier {
    const client = new BigQuery({
      projectId: STUB_PROJECT,
      apiEndpoint: endpoint,
      authClient: new OAuth2Client({ credentials: { access_token: 'stub' } }),
      autoRetry: false,
    });
    return createBigqueryTier(
      {
        table: TABLE,
        columns: { timestamp: 'ts', request_id: 'request_id', site: 'site', partition: 'dt' },
        projectId: STUB_PROJECT,
        maximumBytesBilled: '1000',
        partitionMarginDays: 1,
        ...overrides,
      },
      client,
    );
  }
  const start = Date.parse('2025-03-09T00:00:00.000Z');
  const read = (tier: BigqueryTier, signal?: AbortSignal): Promise<unknown> =>
    tier.readRange(start, start + DAY_MS, [], async () => undefined, signal);
  const inserted = (): StubRequest[] => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs'));
  const cancelled = (): StubRequest[] => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/cancel'));

  test(
    'every job carries the byte guard, a server-side timeout, the partition filter and its parameters',
    async () => {
      scenario = (req, res) => json(res, 200, jobOf(req, 'DONE', { statistics: { totalBytesProcessed: '0' } }));
      await stubTier().dryRun(start, start + DAY_MS, []);
      const body = inserted()[0]!.body as {
        configuration: {
          dryRun?: boolean;
          query: { maximumBytesBilled: string; query: string; queryParameters: unknown[] };
        };
      };
      expect(body.configuration.dryRun).toBe(true);
      expect(body.configuration.query.maximumBytesBilled).toBe('1000');
      expect(body.configuration.query.query).toContain('`dt` BETWEEN @from_date AND @to_date');
      expect(body.configuration.query.queryParameters).toEqual(
        expect.arrayContaining([
          { name: 'from_date', parameterType: { type: 'DATE' }, parameterValue: { value: '2025-03-08' } },
          { name: 'to_date', parameterType: { type: 'DATE' }, parameterValue: { value: '2025-03-10' } },
          {
            name: 'start',
            parameterType: { type: 'TIMESTAMP' },
            parameterValue: { value: '2025-03-09T00:00:00.000Z' },
          },
          { name: 'end', parameterType: { type: 'TIMESTAMP' }, parameterValue: { value: '2025-03-10T00:00:00.000Z' } },
        ]),
      );
      requests = [];
      scenario = (req, res) => {
        if (req.path.includes('/queries/'))
          json(res, 200, {
            jobComplete: true,
            totalRows: '0',
            schema: { fields: [] },
            jobReference: { projectId: STUB_PROJECT, jobId: 'x' },
          });
        else json(res, 200, jobOf(req, 'DONE', { statistics: { totalBytesProcessed: '123' } }));
      };
      await expect(read(stubTier({ location: 'EU' }))).resolves.toEqual({ bytesProcessed: 123, rows: 0 });
      const run = inserted()[0]!.body as {
        jobReference: { location: string };
        configuration: { jobTimeoutMs: string; labels: Record<string, string>; query: { maximumBytesBilled: string } };
      };
      expect(run.configuration.query.maximumBytesBilled).toBe('1000');
      expect(Number(run.configuration.jobTimeoutMs)).toBeGreaterThan(0);
      expect(run.configuration.labels).toEqual({ tool: 'audit-parity' });
      expect(run.jobReference.location).toBe('EU');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    '403 accessDenied names the roles to grant, not retriable',
    async () => {
      scenario = (_req, res) =>
        apiError(
          res,
          403,
          'accessDenied',
          'Access Denied: Project stub-project: User does not have bigquery.jobs.create permission',
        );
      const e = await rejection(read(stubTier()));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ object: TABLE, retriable: false });
      expect((e as TierError).message).toContain('roles/bigquery.jobUser on project stub-project');
      expect((e as TierError).message).toContain(`roles/bigquery.dataViewer on table ${TABLE}`);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'engine bigquery: 403 names the scratch dataset and dataEditor too; a proxy table is the proxy tier; the guard names its key',
    async () => {
      const { BigqueryEngine } = await import('../../src/engine/bigquery-engine.js');
      const client = new BigQuery({
        projectId: STUB_PROJECT,
        apiEndpoint: endpoint,
        authClient: new OAuth2Client({ credentials: { access_token: 'stub' } }),
        autoRetry: false,
      });
      const engine = await BigqueryEngine.open(
        {
          dataset: `${STUB_PROJECT}.scratch`,
          jobProject: STUB_PROJECT,
          maximumBytesBilled: '1000',
          timezone: 'UTC',
          tempDirectory: os.tmpdir(),
        },
        client,
      );
      await engine.setWindows([{ day: '2025-03-09', startMs: start, endMs: start + DAY_MS }]);
      const proxy = createBigqueryTier(
        {
          kind: 'proxy',
          table: TABLE,
          columns: { timestamp: 'ts', request_id: 'request_id', site: 'site', status: 'status', partition: 'dt' },
          projectId: STUB_PROJECT,
          maximumBytesBilled: '1000',
          partitionMarginDays: 1,
        },
        client,
      );
      try {
        // The status column's type is looked up first: INT64 here.
        const tableMetadata = (res: ServerResponse) =>
          json(res, 200, { kind: 'bigquery#table', schema: { fields: [{ name: 'status', type: 'INTEGER' }] } });
        scenario = (req, res) =>
          req.method === 'GET' && req.path.includes('/tables/')
            ? tableMetadata(res)
            : apiError(
                res,
                403,
                'accessDenied',
                'Access Denied: Dataset stub-project:scratch: Permission bigquery.tables.create denied',
              );
        const denied = await rejection(engine.loadTable('proxy', proxy, start, start + DAY_MS, ['US']));
        expect(denied).toMatchObject({ name: 'TierError', tier: 'proxy', object: TABLE, retriable: false });
        expect((denied as TierError).message).toContain(`roles/bigquery.dataEditor on dataset ${STUB_PROJECT}.scratch`);
        const statement = (
          inserted()[0]!.body as { configuration: { query: { query: string; maximumBytesBilled: string } } }
        ).configuration.query;
        expect(statement.query).toMatch(
          /^CREATE OR REPLACE TABLE `stub-project\.scratch\.audit_parity_[0-9a-f]+_agg_proxy`/m,
        );
        // An INT64 column is read as it is (no text parse), but past a 32-bit integer it is no status.
        expect(statement.query).toContain('IF(`status` BETWEEN -2147483648 AND 2147483647, `status`, NULL) AS status');
        expect(statement.maximumBytesBilled).toBe('1000');

        const errorResult = {
          reason: 'bytesBilledLimitExceeded',
          message: 'Query exceeded limit for bytes billed: 1000.',
        };
        scenario = (req, res) =>
          req.method === 'GET' && req.path.includes('/tables/')
            ? tableMetadata(res)
            : json(res, 200, jobOf(req, 'DONE', { status: { state: 'DONE', errorResult, errors: [errorResult] } }));
        const guarded = await rejection(engine.loadTable('proxy', proxy, start, start + DAY_MS, ['US']));
        expect((guarded as TierError).message).toContain('raise tiers.proxy.bigquery.maximumBytesBilled');
      } finally {
        await engine.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a job over the byte guard (bytesBilledLimitExceeded) names maximumBytesBilled, not retriable',
    async () => {
      const errorResult = {
        reason: 'bytesBilledLimitExceeded',
        message: 'Query exceeded limit for bytes billed: 1000. 10485760 or higher required.',
      };
      scenario = (req, res) =>
        json(res, 200, jobOf(req, 'DONE', { status: { state: 'DONE', errorResult, errors: [errorResult] } }));
      const e = await rejection(read(stubTier()));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ retriable: false });
      expect((e as TierError).message).toContain('maximumBytesBilled = 1000 bytes');
      // The same when the failure shows only once the job is polled.
      let polls = 0;
      scenario = (req, res) => {
        if (req.method === 'GET' && ++polls > 1)
          json(res, 200, jobOf(req, 'DONE', { status: { state: 'DONE', errorResult } }));
        else json(res, 200, jobOf(req, 'RUNNING'));
      };
      const polled = await rejection(read(stubTier()));
      expect((polled as TierError).message).toContain('bytesBilledLimitExceeded');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    '503 backendError and 403 rateLimitExceeded are retriable',
    async () => {
      scenario = (_req, res) => apiError(res, 503, 'backendError', 'Service unavailable');
      await expect(read(stubTier())).rejects.toMatchObject({ name: 'TierError', retriable: true });
      scenario = (_req, res) =>
        apiError(res, 403, 'rateLimitExceeded', 'Exceeded rate limits: too many api requests per user per method');
      await expect(read(stubTier())).rejects.toMatchObject({ name: 'TierError', retriable: true });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    '404 notFound from BigQuery itself is a TierError naming the table',
    async () => {
      scenario = (_req, res) =>
        apiError(res, 404, 'notFound', 'Not found: Table data-project:landing.events was not found in location US');
      const e = await rejection(read(stubTier()));
      expect(e).toMatchObject({ name: 'TierError', object: TABLE, retriable: false });
      expect((e as TierError).message).toContain(`table ${TABLE} or its dataset does not exist`);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a job still running at the deadline is cancelled: retriable TierError',
    async () => {
      scenario = (req, res) =>
        json(
          res,
          200,
          req.path.endsWith('/cancel')
            ? { kind: 'bigquery#jobCancelResponse', job: jobOf(req, 'RUNNING') }
            : jobOf(req, 'RUNNING'),
        );
      const e = await rejection(read(stubTier({ queryDeadlineMs: 600 })));
      expect(e).toMatchObject({ name: 'TierError', retriable: true });
      expect((e as TierError).message).toContain('did not finish within 600 ms');
      expect(cancelled()).toHaveLength(1);
      const jobId = (inserted()[0]!.body as { jobReference: { jobId: string } }).jobReference.jobId;
      expect(cancelled()[0]!.path).toContain(`/jobs/${jobId}/cancel`);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'an insert that is never answered fails at the deadline as a retriable TierError, never hangs the process',
    async () => {
      // The client's retry helper can leave a request unsettled for good; the deadline still ends the read.
      scenario = (req, res) => {
        if (req.path.endsWith('/cancel'))
          json(res, 200, { kind: 'bigquery#jobCancelResponse', job: jobOf(req, 'RUNNING') });
        // else: no answer at all
      };
      const e = await rejection(read(stubTier({ queryDeadlineMs: 600 })));
      expect(e).toMatchObject({ name: 'TierError', retriable: true });
      expect((e as TierError).message).toContain('did not finish within 600 ms');
      expect(cancelled()).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'an abort while the job runs cancels it and throws AbortedError',
    async () => {
      scenario = (req, res) =>
        json(
          res,
          200,
          req.path.endsWith('/cancel')
            ? { kind: 'bigquery#jobCancelResponse', job: jobOf(req, 'RUNNING') }
            : jobOf(req, 'RUNNING'),
        );
      const e = await rejection(read(stubTier(), AbortSignal.timeout(300)));
      expect(e).toBeInstanceOf(AbortedError);
      expect(cancelled()).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );
});
