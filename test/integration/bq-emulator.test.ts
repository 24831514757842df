/**
 * What the BigQuery emulator (goccy/bigquery-emulator, see test/support/bq-emulator.ts) does for the
 * real @google-cloud/bigquery client, feature by feature, for the BigQuery tier (issue #5).
 * Tests named "known gap" assert the emulator's current wrong or missing behaviour, so that a new
 * emulator version that changes it fails here and notes/bq-emulator.md gets updated.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BigQuery, type TableField } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import {
  BQ_EMULATOR_INSTALL_SCRIPT,
  BQ_EMULATOR_INSTALL_TIMEOUT_MS,
  BQ_EMULATOR_VERSION,
  NO_GCS_MESSAGE,
  startBqEmulator,
  type BqEmulator,
} from '../support/bq-emulator.js';
import { startFakeGcs, type FakeGcs } from '../support/fake-gcs.js';

/** A cold build of the emulator takes about 5 minutes; with the binary present, setup takes < 1 s. */
const SETUP_TIMEOUT_MS = BQ_EMULATOR_INSTALL_TIMEOUT_MS + 60_000;
const TEST_TIMEOUT_MS = 60_000;

/**
 * The client construction that works against the emulator without credentials and without reading
 * any environment variable of ours: a static bearer token. Without `authClient`, google-auth-library
 * looks for Application Default Credentials and probes the GCE metadata server (a non-loopback
 * address) before giving up. Note: the client library itself still honours BIGQUERY_EMULATOR_HOST
 * (it then takes precedence over `apiEndpoint` for the base URL); it must be unset.
 */
function emulatorClient(emu: { endpoint: string; projectId: string }): BigQuery {
  return new BigQuery({
    projectId: emu.projectId,
    apiEndpoint: emu.endpoint,
    authClient: new OAuth2Client({ credentials: { access_token: 'bq-emulator' } }),
    autoRetry: false,
  });
}

interface ApiErrorLike {
  code?: number;
  message: string;
  errors?: Array<{ reason?: string; message?: string }>;
}

async function errorOf(p: Promise<unknown>): Promise<ApiErrorLike> {
  try {
    await p;
  } catch (e) {
    return e as ApiErrorLike;
  }
  throw new Error('expected a rejection');
}

const DATASET = 'parity_it';
const EVENTS = 'events';
const SEEN = 'seen';
const HISTORY = 'history';
const STAGE = 'history_stage';
const EVENTS_SCHEMA: TableField[] = [
  { name: 'ts', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'request_id', type: 'STRING' },
  { name: 'site', type: 'STRING' },
  { name: 'status', type: 'INT64' },
  { name: 'dt', type: 'DATE' },
];
const HISTORY_SCHEMA: TableField[] = [
  { name: 'day', type: 'DATE' },
  { name: 'site', type: 'STRING' },
  { name: 'n', type: 'INT64' },
];

/** Streamed with table.insert: day 2025-03-09 (r1 twice) and one row on the next day. */
const INSERTED = [
  { ts: '2025-03-09T05:30:00Z', request_id: 'r1', site: 'a', status: 200, dt: '2025-03-09' },
  { ts: '2025-03-09T06:30:00Z', request_id: 'r1', site: 'a', status: 200, dt: '2025-03-09' },
  { ts: '2025-03-09T07:30:00Z', request_id: 'r2', site: 'a', status: 500, dt: '2025-03-09' },
  { ts: '2025-03-09T08:30:00Z', request_id: 'r3', site: 'b', status: 200, dt: '2025-03-09' },
  { ts: '2025-03-09T09:30:00Z', request_id: 'r5', site: 'c', status: 200, dt: '2025-03-09' },
  { ts: '2025-03-10T08:30:00Z', request_id: 'r4', site: 'b', status: 200, dt: '2025-03-10' },
];
/** Loaded from an NDJSON file. */
const LOADED = [
  { ts: '2025-03-09T10:00:00Z', request_id: 'r6', site: 'a', status: 200, dt: '2025-03-09' },
  { ts: '2025-03-09T11:00:00Z', request_id: 'r7', site: 'b', status: 404, dt: '2025-03-09' },
];

let tmp: string;
let emu: BqEmulator | undefined;
let bq: BigQuery;
const table = (name: string): string => `\`${emu!.projectId}.${DATASET}.${name}\``;

async function count(name: string): Promise<number> {
  const [rows] = await bq.query(`SELECT COUNT(*) AS n FROM ${table(name)}`);
  return (rows as Array<{ n: number }>)[0]!.n;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'parity-bq-it-'));
  emu = await startBqEmulator('parity-it');
  bq = emulatorClient(emu);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the pinned version matches scripts/install-bq-emulator.sh', async () => {
  const script = await readFile(BQ_EMULATOR_INSTALL_SCRIPT, 'utf8');
  expect(script).toContain(`BQ_EMULATOR_VERSION="${BQ_EMULATOR_VERSION}"`);
});

// The tests below build on each other, in order: dataset, tables, rows, then queries over them.
describe('BigQuery emulator with the real client', () => {
  test(
    'creates a dataset and a DAY-partitioned table with a schema',
    async () => {
      const [dataset] = await bq.createDataset(DATASET, { location: 'US' });
      expect(dataset.id).toBe(DATASET);
      const [created] = await dataset.createTable(EVENTS, {
        schema: EVENTS_SCHEMA,
        timePartitioning: { type: 'DAY', field: 'dt' },
      });
      const [md] = await created.getMetadata();
      expect(md.timePartitioning).toEqual(expect.objectContaining({ type: 'DAY', field: 'dt' }));
      expect((md.schema.fields as TableField[]).map((f) => `${f.name}:${f.type}`)).toEqual([
        'ts:TIMESTAMP',
        'request_id:STRING',
        'site:STRING',
        'status:INT64',
        'dt:DATE',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'table.insert streams rows',
    async () => {
      await bq.dataset(DATASET).table(EVENTS).insert(INSERTED);
      expect(await count(EVENTS)).toBe(INSERTED.length);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'table.load appends an NDJSON file',
    async () => {
      const file = path.join(tmp, 'rows.ndjson');
      await writeFile(file, LOADED.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const [job] = await bq
        .dataset(DATASET)
        .table(EVENTS)
        .load(file, { sourceFormat: 'NEWLINE_DELIMITED_JSON', writeDisposition: 'WRITE_APPEND' });
      expect(job.status?.state).toBe('DONE');
      expect(job.status?.errorResult).toBeUndefined();
      expect(await count(EVENTS)).toBe(INSERTED.length + LOADED.length);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'named parameters @day DATE, @start/@end TIMESTAMP, @sites ARRAY<STRING>: per-site COUNT and COUNT(DISTINCT) with a partition filter',
    async () => {
      const [rows] = await bq.query({
        query: `SELECT site, COUNT(*) AS records, COUNT(DISTINCT request_id) AS requests
              FROM ${table(EVENTS)}
              WHERE dt = @day AND ts >= @start AND ts < @end AND site IN UNNEST(@sites)
              GROUP BY site ORDER BY site`,
        params: {
          day: BigQuery.date('2025-03-09'),
          start: BigQuery.timestamp('2025-03-09T00:00:00Z'),
          end: BigQuery.timestamp('2025-03-10T00:00:00Z'),
          sites: ['a', 'b'],
        },
        types: { sites: ['STRING'] },
      });
      expect(rows).toEqual([
        { site: 'a', records: 4, requests: 3 },
        { site: 'b', records: 2, requests: 2 },
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'client quirk: a plain string for a DATE/TIMESTAMP param is sent as NULL even with `types`; wrap it',
    async () => {
      const [job] = await bq.createQueryJob({
        query: `SELECT COUNT(*) AS n FROM ${table(EVENTS)} WHERE dt = @day`,
        params: { day: '2025-03-09' },
        types: { day: 'DATE' },
      });
      const [rows] = await job.getQueryResults();
      // The client takes `value.value` for DATE/TIME/TIMESTAMP types: no parameterValue goes out.
      expect(job.metadata.configuration.query.queryParameters).toEqual([
        { name: 'day', parameterType: { type: 'DATE' } },
      ]);
      expect(rows).toEqual([{ n: 0 }]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'known gap: an INT64 param given as a JS number is rejected (400); pass a string or BigQuery.int()',
    async () => {
      const err = await errorOf(
        bq.query({ query: `SELECT COUNT(*) AS n FROM ${table(EVENTS)} WHERE status = @s`, params: { s: 200 } }),
      );
      expect(err.code).toBe(400);
      expect(err.message).toContain('cannot unmarshal number');
      const [asString] = await bq.query({
        query: `SELECT COUNT(*) AS n FROM ${table(EVENTS)} WHERE status = @s`,
        params: { s: '200' },
        types: { s: 'INT64' },
      });
      const [asInt] = await bq.query({
        query: `SELECT COUNT(*) AS n FROM ${table(EVENTS)} WHERE status = @s`,
        params: { s: BigQuery.int('200') },
      });
      expect(asString).toEqual([{ n: 6 }]);
      expect(asInt).toEqual([{ n: 6 }]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'anti-join: LEFT JOIN … WHERE x IS NULL and NOT EXISTS agree',
    async () => {
      await bq.dataset(DATASET).createTable(SEEN, { schema: [{ name: 'request_id', type: 'STRING' }] });
      await bq
        .dataset(DATASET)
        .table(SEEN)
        .insert([{ request_id: 'r1' }, { request_id: 'r3' }]);
      const [leftJoin] = await bq.query(
        `SELECT DISTINCT e.request_id FROM ${table(EVENTS)} e
       LEFT JOIN ${table(SEEN)} s ON e.request_id = s.request_id
       WHERE s.request_id IS NULL ORDER BY 1`,
      );
      const [notExists] = await bq.query(
        `SELECT DISTINCT e.request_id FROM ${table(EVENTS)} e
       WHERE NOT EXISTS (SELECT 1 FROM ${table(SEEN)} s WHERE s.request_id = e.request_id) ORDER BY 1`,
      );
      const expected = ['r2', 'r4', 'r5', 'r6', 'r7'].map((request_id) => ({ request_id }));
      expect(leftJoin).toEqual(expected);
      expect(notExists).toEqual(expected);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'MERGE into a history table from a staging table: updates matched rows, inserts the rest',
    async () => {
      await bq.dataset(DATASET).createTable(HISTORY, { schema: HISTORY_SCHEMA });
      await bq.query(
        `INSERT INTO ${table(HISTORY)} (day, site, n) VALUES (DATE '2025-03-09', 'a', 1), (DATE '2025-03-08', 'a', 7)`,
      );
      // The source must be a plain table (see the next test): stage the aggregate first.
      await bq.query({
        query: `CREATE OR REPLACE TABLE ${table(STAGE)} AS
              SELECT dt AS day, site, COUNT(*) AS n FROM ${table(EVENTS)} WHERE dt = @day GROUP BY dt, site`,
        params: { day: BigQuery.date('2025-03-09') },
      });
      const [job] = await bq.createQueryJob(
        `MERGE ${table(HISTORY)} h USING ${table(STAGE)} s ON h.day = s.day AND h.site = s.site
       WHEN MATCHED THEN UPDATE SET n = s.n
       WHEN NOT MATCHED THEN INSERT (day, site, n) VALUES (s.day, s.site, s.n)`,
      );
      await job.getQueryResults();
      const [rows] = await bq.query(
        `SELECT CAST(day AS STRING) AS day, site, n FROM ${table(HISTORY)} ORDER BY day, site`,
      );
      expect(rows).toEqual([
        { day: '2025-03-08', site: 'a', n: 7 },
        { day: '2025-03-09', site: 'a', n: 4 },
        { day: '2025-03-09', site: 'b', n: 2 },
        { day: '2025-03-09', site: 'c', n: 1 },
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'known gap: MERGE with a subquery source fails',
    async () => {
      const err = await errorOf(
        bq.query(
          `MERGE ${table(HISTORY)} h USING (SELECT * FROM ${table(STAGE)}) s ON h.day = s.day AND h.site = s.site
         WHEN MATCHED THEN UPDATE SET n = s.n WHEN NOT MATCHED THEN INSERT ROW`,
        ),
      );
      expect(err.code).toBe(400);
      expect(err.message).toContain('MERGE: source must be a single-table reference');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'known gap: query parameters inside MERGE are silently not bound (ON never matches)',
    async () => {
      const before = await count(HISTORY);
      await bq.query({
        query: `MERGE ${table(HISTORY)} h USING ${table(STAGE)} s ON h.day = s.day AND h.site = s.site AND s.day = @day
              WHEN MATCHED THEN UPDATE SET n = s.n WHEN NOT MATCHED THEN INSERT (day, site, n) VALUES (s.day, s.site, s.n)`,
        params: { day: BigQuery.date('2025-03-09') },
      });
      // Real BigQuery matches all 3 staged rows and inserts none; the emulator inserts all 3 again.
      expect(await count(HISTORY)).toBe(before + 3);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "DATETIME(ts, 'America/Chicago') and DATE(ts, 'America/Chicago'), across DST and midnight",
    async () => {
      const [rows] = await bq.query(
        `SELECT
         FORMAT_DATETIME('%F %T', DATETIME(TIMESTAMP '2026-03-08 07:59:59+00', 'America/Chicago')) AS before_dst,
         FORMAT_DATETIME('%F %T', DATETIME(TIMESTAMP '2026-03-08 08:00:00+00', 'America/Chicago')) AS after_dst,
         CAST(DATE(TIMESTAMP '2025-03-09 05:30:00+00', 'America/Chicago') AS STRING) AS previous_day,
         CAST(DATE(TIMESTAMP '2025-07-01 05:30:00+00', 'America/Chicago') AS STRING) AS same_day,
         FORMAT_TIMESTAMP('%FT%T%Ez', TIMESTAMP '2025-03-09 20:30:00+00', 'America/Chicago') AS formatted,
         UNIX_SECONDS(TIMESTAMP(DATETIME '2025-03-09 00:00:00', 'America/Chicago')) AS chicago_midnight,
         CAST(DATE(TIMESTAMP '2025-03-09 23:30:00+00') AS STRING) AS utc_day`,
      );
      expect(rows).toEqual([
        {
          before_dst: '2026-03-08 01:59:59',
          after_dst: '2026-03-08 03:00:00',
          previous_day: '2025-03-08',
          same_day: '2025-07-01',
          formatted: '2025-03-09T15:30:00-05:00',
          chicago_midnight: Date.parse('2025-03-09T06:00:00Z') / 1000,
          // Only because startBqEmulator pins TZ=UTC: the emulator's zone-less DATE(ts) uses its local zone.
          utc_day: '2025-03-09',
        },
      ]);
      // On a column, the client returns BigQueryDate / BigQueryDatetime objects.
      const [onColumn] = await bq.query(
        `SELECT DATE(ts, 'America/Chicago') AS d, DATETIME(ts, 'America/Chicago') AS dt FROM ${table(EVENTS)} WHERE request_id = 'r1' ORDER BY ts`,
      );
      expect(JSON.parse(JSON.stringify(onColumn))).toEqual([
        { d: { value: '2025-03-08' }, dt: { value: '2025-03-08T23:30:00' } },
        { d: { value: '2025-03-09' }, dt: { value: '2025-03-09T00:30:00' } },
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'known gap: TIMESTAMP <-> STRING casts use America/Los_Angeles, CAST(DATETIME AS STRING) has a T',
    async () => {
      const [rows] = await bq.query(
        `SELECT
         CAST(TIMESTAMP '2025-03-09 05:30:00+00' AS STRING) AS ts_to_string,
         UNIX_SECONDS(CAST('2025-03-09 20:30:00' AS TIMESTAMP)) AS string_to_ts,
         UNIX_SECONDS(TIMESTAMP('2025-03-09 20:30:00')) AS timestamp_fn,
         CAST(DATETIME(TIMESTAMP '2025-03-09 20:30:00+00', 'America/Chicago') AS STRING) AS datetime_to_string`,
      );
      expect(rows).toEqual([
        {
          ts_to_string: '2025-03-08 21:30:00-08', // BigQuery: '2025-03-09 05:30:00+00'
          string_to_ts: Date.parse('2025-03-10T03:30:00Z') / 1000, // BigQuery: 2025-03-09T20:30:00Z
          timestamp_fn: Date.parse('2025-03-09T20:30:00Z') / 1000, // right
          datetime_to_string: '2025-03-09T15:30:00', // BigQuery: '2025-03-09 15:30:00'
        },
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'dry run returns totalBytesProcessed and executes nothing',
    async () => {
      const [job] = await bq.createQueryJob({
        query: `SELECT site, request_id FROM ${table(EVENTS)} WHERE dt = @day AND site IN UNNEST(@sites)`,
        params: { day: BigQuery.date('2025-03-09'), sites: ['a'] },
        types: { sites: ['STRING'] },
        dryRun: true,
      });
      const bytes = job.metadata.statistics.totalBytesProcessed;
      expect(bytes).toMatch(/^\d+$/);
      expect(Number(bytes)).toBeGreaterThan(0);
      const before = await count(HISTORY);
      await bq.createQueryJob({ query: `DELETE FROM ${table(HISTORY)} WHERE TRUE`, dryRun: true });
      expect(await count(HISTORY)).toBe(before);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'maximumBytesBilled is accepted and kept on the job (not enforced: a 1-byte cap still runs)',
    async () => {
      const [job] = await bq.createQueryJob({
        query: `SELECT COUNT(*) AS n FROM ${table(EVENTS)}`,
        maximumBytesBilled: '1',
      });
      const [rows] = await job.getQueryResults();
      expect(rows).toEqual([{ n: INSERTED.length + LOADED.length }]);
      const [md] = await job.getMetadata();
      expect(md.configuration.query.maximumBytesBilled).toBe('1');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a missing table: 404 notFound from the table/dataset APIs',
    async () => {
      const missingTable = await errorOf(bq.dataset(DATASET).table('nope').getMetadata());
      expect(missingTable.code).toBe(404);
      expect(missingTable.errors?.[0]?.reason).toBe('notFound');
      const missingDataset = await errorOf(bq.dataset('no_such_dataset').getMetadata());
      expect(missingDataset.code).toBe(404);
      expect(missingDataset.errors?.[0]?.reason).toBe('notFound');
      const insertMissing = await errorOf(
        bq
          .dataset(DATASET)
          .table('nope')
          .insert([{ a: 1 }]),
      );
      expect(insertMissing.code).toBe(404);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'known gap: a query over a missing table is 400 jobInternalError, not 404 notFound as in BigQuery',
    async () => {
      const viaQuery = await errorOf(bq.query(`SELECT * FROM ${table('nope')}`));
      expect(viaQuery.code).toBe(400);
      expect(viaQuery.errors?.[0]?.reason).toBe('jobInternalError');
      expect(viaQuery.message).toContain('Table not found');
      // Through jobs.insert the job fails instead: the error has no HTTP code at all.
      const viaJob = await errorOf(
        bq.createQueryJob(`SELECT * FROM ${table('nope')}`).then(([job]) => job.getQueryResults()),
      );
      expect(viaJob.code).toBeUndefined();
      expect(viaJob.errors?.[0]?.reason).toBe('jobInternalError');
      expect(viaJob.message).toContain('Table not found');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'gs:// URIs fail at once when no GCS emulator is given (nothing leaves loopback)',
    async () => {
      const err = await errorOf(
        bq.dataset(DATASET).createTable('ext_nowhere', {
          externalDataConfiguration: {
            sourceUris: ['gs://no-bucket/x/*.json'],
            sourceFormat: 'NEWLINE_DELIMITED_JSON',
            schema: { fields: EVENTS_SCHEMA },
          },
        }),
      );
      expect(err.code).toBe(400);
      expect(err.message).toContain(NO_GCS_MESSAGE);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('BigQuery emulator reading GCS through fake-gcs-server', () => {
  let gcs: FakeGcs | undefined;
  let withGcs: BqEmulator | undefined;
  let bqGcs: BigQuery;
  const BUCKET = 'parity-bq-ext';

  beforeAll(async () => {
    const data = path.join(tmp, 'gcs');
    await mkdir(path.join(data, BUCKET, 'dt=2025-03-09'), { recursive: true });
    await writeFile(
      path.join(data, BUCKET, 'dt=2025-03-09', 'part-0.json'),
      LOADED.map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    gcs = await startFakeGcs({ dataDir: data });
    withGcs = await startBqEmulator('parity-gcs', { storageEmulatorHost: gcs.endpoint });
    bqGcs = emulatorClient(withGcs);
    await bqGcs.createDataset(DATASET);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await withGcs?.stop();
    await gcs?.stop();
  });

  test(
    'an external table over gs:// is created, typed EXTERNAL, and queryable, but as a snapshot taken at creation',
    async () => {
      await bqGcs.dataset(DATASET).createTable('ext', {
        externalDataConfiguration: {
          sourceUris: [`gs://${BUCKET}/dt=2025-03-09/*.json`],
          sourceFormat: 'NEWLINE_DELIMITED_JSON',
          schema: { fields: EVENTS_SCHEMA },
        },
      });
      const [md] = await bqGcs.dataset(DATASET).table('ext').getMetadata();
      expect(md.type).toBe('EXTERNAL');
      const query = `SELECT request_id FROM \`${withGcs!.projectId}.${DATASET}.ext\` ORDER BY 1`;
      expect((await bqGcs.query(query))[0]).toEqual([{ request_id: 'r6' }, { request_id: 'r7' }]);
      // An object added later is not seen: the emulator copied the data into a plain table.
      const body = JSON.stringify({ ...LOADED[0], request_id: 'r8' });
      const res = await fetch(
        `${gcs!.endpoint}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${encodeURIComponent('dt=2025-03-09/part-1.json')}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        },
      );
      expect(res.ok).toBe(true);
      expect((await bqGcs.query(query))[0]).toEqual([{ request_id: 'r6' }, { request_id: 'r7' }]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a load job from gs:// works',
    async () => {
      await bqGcs.dataset(DATASET).createTable('loaded', { schema: EVENTS_SCHEMA });
      const [job] = await bqGcs.createJob({
        configuration: {
          load: {
            sourceUris: [`gs://${BUCKET}/dt=2025-03-09/part-0.json`],
            sourceFormat: 'NEWLINE_DELIMITED_JSON',
            destinationTable: { projectId: withGcs!.projectId, datasetId: DATASET, tableId: 'loaded' },
            writeDisposition: 'WRITE_APPEND',
          },
        },
      });
      await job.promise();
      const [rows] = await bqGcs.query(`SELECT COUNT(*) AS n FROM \`${withGcs!.projectId}.${DATASET}.loaded\``);
      expect(rows).toEqual([{ n: LOADED.length }]);
    },
    TEST_TIMEOUT_MS,
  );
});
