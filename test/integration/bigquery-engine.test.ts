/**
 * The contract suite across engines and sources, on goccy/bigquery-emulator through the real
 * client: one generated fixture (Kafka's messages included) is read
 *   A  from files (proxy), GCS-laid-out files (landed) and BigQuery (final), embedded engine;
 *   A' the same with the proxy read from a BigQuery table;
 *   B  files (proxy) and BigQuery (final), no file landed tier, embedded engine;
 *   C  the proxy table and BigQuery, embedded engine;
 *   D  the proxy table and BigQuery with engine: bigquery (every per-id step runs in BigQuery).
 * A and A' must match byte for byte and say exactly what was injected; B, C and D must match byte
 * for byte; every missing list must be the injected one.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { planQueries, renderPlan } from '../../jobs/dry-run.js';
import { runReconcile } from '../../jobs/reconcile.js';
import { type Config, parseConfig } from '../../src/config.js';
import { daysInRange } from '../../src/dates.js';
import {
  DEFAULT_MIX,
  type KafkaMessage,
  type LandedCopy,
  type ProxyLine,
  ScenarioGenerator,
} from '../../src/demo/generator.js';
import { writeScenario, type WrittenScenario } from '../../src/demo/write-scenario.js';
import type { DayKey } from '../../src/domain.js';
import { TierError } from '../../src/errors.js';
import { identityViolations } from '../../src/reconcile/attribute.js';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { createBigqueryTier } from '../../src/tiers/bigquery.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, type BqEmulator, startBqEmulator } from '../support/bq-emulator.js';
import {
  createDataset,
  LANDED_SCHEMA,
  landedRow,
  loadTable,
  PROXY_SCHEMA,
  proxyRow,
  type TableRow,
} from '../support/bq-tables.js';
import { expectReportsMatch } from '../support/expect-report.js';
import { parseCsv, runCli, tempDir } from '../support/files.js';
import { MemoryKafkaReader } from '../support/memory-kafka.js';

const PROJECT = 'parity-bq-engine';
const DATA = 'audit';
const SCRATCH = 'scratch';
const REGIONS = ['EUS2', 'SCUS'];
const SITES = ['US', 'CA', 'MX'];
const ZONE = 'America/Chicago';
/** 2025-03-09 is 23 hours long in Chicago: the engines must cut days alike across DST. */
const DAYS = daysInRange('2025-03-08', '2025-03-10');

describe('engine bigquery and the proxy table: the same reports as the embedded engine and files', () => {
  let emu: BqEmulator;
  let bq: BigQuery;
  let dataset: Dataset;
  let dir: string;
  let gen: ScenarioGenerator;
  let written: WrittenScenario;
  const proxy: ProxyLine[] = [];
  const landed: LandedCopy[] = [];
  const messages: KafkaMessage[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    gen = new ScenarioGenerator({
      seed: 4242,
      days: DAYS,
      timezone: ZONE,
      sites: SITES,
      eventsPerDay: 400,
      mix: DEFAULT_MIX,
      malformedPerDay: 0,
      regions: REGIONS,
      kafka: true,
    });
    written = await writeScenario(gen, dir, {
      gzipShare: 0.5,
      onProxy: (l) => void proxy.push(...l),
      onLanded: (c) => void landed.push(...c),
      onKafka: (m) => void messages.push(...m),
    });
  });
  // A fresh emulator for every test: its in-memory database lives in 32-bit WebAssembly memory,
  // which a long sequence of runs can exhaust ("slice bounds out of range"), and tests stay apart.
  beforeEach(async () => {
    emu = await startBqEmulator(PROJECT);
    bq = createBigqueryClient({ projectId: PROJECT, apiEndpoint: emu.endpoint });
    dataset = await createDataset(bq, DATA);
    await createDataset(bq, SCRATCH);
    await loadTable(dataset, 'proxy', PROXY_SCHEMA, proxy.map(proxyRow));
    await loadTable(dataset, 'landed', LANDED_SCHEMA, landed.map(landedRow));
  }, BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000);
  afterEach(async () => {
    await emu?.stop();
  });

  const tables = (proxyTable = 'proxy', landedTable = 'landed') => ({
    proxyTable: createBigqueryTier({
      kind: 'proxy',
      table: `${PROJECT}.${DATA}.${proxyTable}`,
      columns: { timestamp: 'ts', request_id: 'request_id', site: 'site', status: 'status', partition: 'dt' },
      apiEndpoint: emu.endpoint,
      maximumBytesBilled: '10737418240',
      partitionMarginDays: 1,
    }),
    bigquery: createBigqueryTier({
      table: `${PROJECT}.${DATA}.${landedTable}`,
      columns: { timestamp: 'ts', request_id: 'request_id', site: 'site', partition: 'dt' },
      apiEndpoint: emu.endpoint,
      maximumBytesBilled: '10737418240',
      partitionMarginDays: 1,
    }),
  });

  /** A config over the fixture: proxy from files or a table, landed files or not, either engine. */
  function config(o: ConfigChoice): Config {
    return parseConfig(configDocument(o), dir);
  }

  type ConfigChoice = {
    proxy: 'files' | 'table';
    gcs: boolean;
    engine: 'embedded' | 'bigquery';
    proxyTable?: string;
    landedTable?: string;
  };

  function configDocument(o: ConfigChoice) {
    return {
      timezone: ZONE,
      sites: SITES,
      tiers: {
        proxy:
          o.proxy === 'files'
            ? { locations: [written.proxyLocation] }
            : {
                bigquery: {
                  table: `${PROJECT}.${DATA}.${o.proxyTable ?? 'proxy'}`,
                  columns: { timestamp: 'ts', status: 'status' },
                },
              },
        ...(o.gcs ? { gcs: { locations: written.landedLocations } } : {}),
        bigquery: {
          table: `${PROJECT}.${DATA}.${o.landedTable ?? 'landed'}`,
          columns: { timestamp: 'ts' },
          apiEndpoint: emu.endpoint,
        },
      },
      engine: o.engine === 'bigquery' ? { kind: 'bigquery', dataset: `${PROJECT}.${SCRATCH}` } : 'embedded',
    };
  }

  async function run(name: string, cfg: Config, readers = tables()) {
    const out = path.join(dir, name);
    const result = await runReconcile({
      config: cfg,
      days: DAYS,
      outDir: out,
      kafka: new MemoryKafkaReader(REGIONS, messages),
      bigquery: readers.bigquery,
      ...(cfg.tiers.proxyBigquery ? { proxyTable: readers.proxyTable } : {}),
    });
    for (const d of result.days) for (const row of d.rows) expect(identityViolations(row)).toEqual([]);
    return { out, result };
  }

  async function expectSameFiles(a: string, b: string, days: DayKey[] = DAYS): Promise<void> {
    for (const day of days) {
      for (const file of [`parity-${day}.csv`, `missing-${day}.csv`]) {
        const [x, y] = await Promise.all([readFile(path.join(a, file), 'utf8'), readFile(path.join(b, file), 'utf8')]);
        expect({ file, text: y }).toEqual({ file, text: x });
      }
    }
  }

  test('files, the proxy table and both engines give the injected numbers, byte for byte alike', async () => {
    const a = await run('a-files', config({ proxy: 'files', gcs: true, engine: 'embedded' }));
    expect(a.result.errors).toEqual([]);
    await expectReportsMatch(gen, a.out, DAYS, { kafka: REGIONS, bigquery: true });

    const a2 = await run('a-proxy-table', config({ proxy: 'table', gcs: true, engine: 'embedded' }));
    await expectSameFiles(a.out, a2.out);

    const b = await run('b-files', config({ proxy: 'files', gcs: false, engine: 'embedded' }));
    const c = await run('c-tables', config({ proxy: 'table', gcs: false, engine: 'embedded' }));
    const d = await run('d-engine', config({ proxy: 'table', gcs: false, engine: 'bigquery' }));
    expect([b.result.exitCode, c.result.exitCode, d.result.exitCode, d.result.errors]).toEqual([
      a.result.exitCode,
      a.result.exitCode,
      a.result.exitCode,
      [],
    ]);
    await expectSameFiles(b.out, c.out);
    await expectSameFiles(b.out, d.out);
    // Batches of two days: the scratch tables are replaced batch by batch.
    const batched = config({ proxy: 'table', gcs: false, engine: 'bigquery' });
    batched.engine.batchDays = 2;
    await expectSameFiles(b.out, (await run('d-engine-batched', batched)).out);
    // Without a file landed tier the missing list is the same: BigQuery decides it in every run.
    let missing = 0;
    for (const day of DAYS) {
      const [x, y] = await Promise.all([
        readFile(path.join(a.out, `missing-${day}.csv`), 'utf8'),
        readFile(path.join(d.out, `missing-${day}.csv`), 'utf8'),
      ]);
      expect(y).toBe(x);
      missing += parseCsv(x).length;
    }
    // Something was injected, so the comparisons mean something.
    expect(missing).toBeGreaterThan(0);
    // The engine's scratch tables are gone at the end of the run.
    const [left] = await bq.dataset(SCRATCH).getTables();
    expect(left.map((t) => t.id)).toEqual([]);
  }, 300_000);

  test('malformed rows of either table are counted alike by both engines, never dropped', async () => {
    const day = DAYS[1]!;
    const noon = Date.parse(`${day}T18:00:00Z`);
    const at = (minutes: number) => new Date(noon + minutes * 60_000).toISOString();
    const utc = day;
    const proxyRows: TableRow[] = [
      ...proxy.map(proxyRow),
      { ts: at(1), request_id: null, site: 'US', status: 200, dt: utc },
      { ts: at(2), request_id: '  ', site: 'CA', status: 200, dt: utc },
      { ts: at(3), request_id: 'no-status-1', site: 'MX', status: null, dt: utc },
      { ts: at(4), request_id: 'unroutable-1', site: 'zz', status: 200, dt: utc },
      // No timestamp: malformed on its partition's date, as a log line without one is on its folder's;
      // one of a partition dated on no day of the run is counted by none.
      { ts: null, request_id: 'no-ts-1', site: 'CA', status: 200, dt: utc },
      { ts: null, request_id: 'no-ts-2', site: 'MX', status: 502, dt: DAYS[2]! },
      { ts: null, request_id: 'no-ts-3', site: 'US', status: 200, dt: '2025-03-12' },
      // Partitioned two days after its time (the margin is 1): out of window on its partition's date, as a file
      // record in a folder that cannot hold its date (before 0.3.7 counted nowhere, an accepted id in no report).
      { ts: `${DAYS[0]}T10:00:00Z`, request_id: 'far-1', site: 'US', status: 200, dt: DAYS[2]! },
    ];
    const landedRows: TableRow[] = [
      ...landed.map(landedRow),
      { ts: at(5), request_id: null, site: 'US', dt: utc },
      { ts: at(6), request_id: 'unroutable-1', site: 'zz', dt: utc },
      { ts: null, request_id: 'no-ts-1', site: 'US', dt: utc },
      { ts: null, request_id: 'no-ts-4', site: 'US', dt: '2025-03-12' },
      // The same in the final tier, which has no out-of-window column: malformed on its partition's date.
      { ts: `${DAYS[0]}T11:00:00Z`, request_id: 'far-2', site: 'CA', dt: DAYS[2]! },
    ];
    await loadTable(dataset, 'proxy_bad', PROXY_SCHEMA, proxyRows);
    await loadTable(dataset, 'landed_bad', LANDED_SCHEMA, landedRows);
    const readers = tables('proxy_bad', 'landed_bad');
    const tablesBad = { proxy: 'table', gcs: false, proxyTable: 'proxy_bad', landedTable: 'landed_bad' } as const;
    const c = await run('c-bad', config({ ...tablesBad, engine: 'embedded' }), readers);
    const d = await run('d-bad', config({ ...tablesBad, engine: 'bigquery' }), readers);
    await expectSameFiles(c.out, d.out);
    // A day at a time too: each row without a timestamp is read by the one batch that holds its partition's date.
    const single = config({ ...tablesBad, engine: 'bigquery' });
    single.engine.batchDays = 1;
    await expectSameFiles(c.out, (await run('d-bad-daily', single, readers)).out);
    const b = await run('b-good', config({ proxy: 'table', gcs: false, engine: 'bigquery' }));
    const rowsOf = async (out: string, on = day) =>
      new Map(parseCsv(await readFile(path.join(out, `parity-${on}.csv`), 'utf8')).map((r) => [r.site!, r]));
    const [bad, good] = await Promise.all([rowsOf(d.out), rowsOf(b.out)]);
    const [lastBad, lastGood] = await Promise.all([rowsOf(d.out, DAYS[2]), rowsOf(b.out, DAYS[2])]);
    const lastDelta = (site: string, column: string) =>
      Number(lastBad.get(site)![column]) - Number(lastGood.get(site)![column]);
    expect([
      lastDelta('MX', 'proxy_malformed'),
      lastDelta('ALL', 'proxy_malformed'),
      lastDelta('US', 'proxy_out_of_window'),
      lastDelta('CA', 'bq_malformed'),
      lastDelta('ALL', 'bq_malformed'),
    ]).toEqual([1, 1, 1, 1, 1]);
    expect([lastDelta('ALL', 'proxy_requests'), lastDelta('ALL', 'rejected_502')]).toEqual([0, 0]);
    const delta = (site: string, column: string) => Number(bad.get(site)![column]) - Number(good.get(site)![column]);
    // No request id (NULL or blank), no status or no timestamp: malformed, on its own site's row; the
    // unroutable site header goes to UNKNOWN, in the proxy and in BigQuery alike.
    expect([
      delta('US', 'proxy_malformed'),
      delta('CA', 'proxy_malformed'),
      delta('MX', 'proxy_malformed'),
      delta('US', 'bq_malformed'),
    ]).toEqual([1, 2, 1, 2]);
    expect([
      delta('ALL', 'proxy_requests'),
      delta('ALL', 'proxy_malformed'),
      delta('ALL', 'bq_rows'),
      delta('ALL', 'bq_malformed'),
    ]).toEqual([1, 4, 1, 2]);
    expect(Number(bad.get('UNKNOWN')?.proxy_accepted ?? 0) - Number(good.get('UNKNOWN')?.proxy_accepted ?? 0)).toBe(1);
  }, 300_000);

  test('a STRING status column is parsed as log lines are (trimmed; 200.0 and 2e2 are 200; 200.5 and 0xC8 are malformed), alike in both engines', async () => {
    const day = DAYS[1]!;
    const at = (minutes: number) => new Date(Date.parse(`${day}T18:00:00Z`) + minutes * 60_000).toISOString();
    const rows: TableRow[] = [
      { ts: at(1), request_id: 's-ok', site: 'US', status: '200', dt: day },
      { ts: at(2), request_id: 's-413', site: 'US', status: ' 413 ', dt: day },
      { ts: at(3), request_id: 's-502', site: 'US', status: '502', dt: day },
      { ts: at(4), request_id: 's-bad', site: 'US', status: 'OK', dt: day },
      { ts: at(5), request_id: 's-empty', site: 'US', status: '', dt: day },
      // As in a log line: a whole number with a point or an exponent is that number, a fraction is none.
      { ts: at(6), request_id: 's-point', site: 'US', status: '200.0', dt: day },
      { ts: at(7), request_id: 's-exp', site: 'US', status: '2e2', dt: day },
      { ts: at(8), request_id: 's-413e', site: 'US', status: ' 4.13E2 ', dt: day },
      { ts: at(9), request_id: 's-502p', site: 'US', status: '502.000', dt: day },
      { ts: at(10), request_id: 's-frac', site: 'US', status: '200.5', dt: day },
      // Past 18 places a fraction is rounded away, as the files' DECIMAL(38, 18) does: 200.
      { ts: at(11), request_id: 's-tiny', site: 'US', status: '200.0000000000000000001', dt: day },
      // Decimal digits only: BigQuery's cast takes hex, DuckDB's hex, binary and underscores; no log line's does.
      { ts: at(12), request_id: 's-hex', site: 'US', status: '0xC8', dt: day },
      { ts: at(13), request_id: 's-under', site: 'US', status: '2_00', dt: day },
    ];
    await loadTable(
      dataset,
      'proxy_text',
      PROXY_SCHEMA.map((f) => (f.name === 'status' ? { ...f, type: 'STRING' } : f)),
      rows,
    );
    const readers = tables('proxy_text');
    const c = await run(
      'c-text',
      config({ proxy: 'table', gcs: false, engine: 'embedded', proxyTable: 'proxy_text' }),
      readers,
    );
    const d = await run(
      'd-text',
      config({ proxy: 'table', gcs: false, engine: 'bigquery', proxyTable: 'proxy_text' }),
      readers,
    );
    await expectSameFiles(c.out, d.out);
    const us = parseCsv(await readFile(path.join(d.out, `parity-${day}.csv`), 'utf8')).find((r) => r.site === 'US')!;
    expect([us.proxy_requests, us.proxy_accepted, us.rejected_413, us.rejected_502, us.proxy_malformed]).toEqual([
      '8',
      '4',
      '2',
      '2',
      '5',
    ]);
  }, 120_000);

  test("Kafka's rows go up in several load jobs when a batch has more than rowsPerLoad, and count as the embedded engine counts them", async () => {
    const { BigqueryEngine } = await import('../../src/engine/bigquery-engine.js');
    const { DuckDbEngine } = await import('../../src/engine/duckdb-engine.js');
    const { dayWindow } = await import('../../src/dates.js');
    const windows = DAYS.map((d) => dayWindow(d, ZONE));
    const rows = messages.map((m) => ({
      region: m.region,
      timestampMs: m.ts,
      requestId: m.request_id,
      siteHeader: m.site ?? null,
      inFlight: m.inFlight,
      n: 1,
    }));
    expect(rows.length).toBeGreaterThan(1000);
    const bqEngine = await BigqueryEngine.open({
      dataset: `${PROJECT}.${SCRATCH}`,
      jobProject: PROJECT,
      apiEndpoint: emu.endpoint,
      maximumBytesBilled: '10737418240',
      timezone: ZONE,
      tempDirectory: await tempDir(),
      rowsPerLoad: 400,
    });
    const embedded = await DuckDbEngine.open({ memoryLimit: '256MiB', tempDirectory: await tempDir() });
    try {
      const counts = [];
      for (const engine of [embedded, bqEngine]) {
        await engine.setWindows(windows);
        await engine.beginStreamed('kafka');
        for (let i = 0; i < rows.length; i += 250) await engine.appendStreamed('kafka', rows.slice(i, i + 250));
        await engine.finishStreamed('kafka', SITES);
        const sorted = (await engine.streamedCounts('kafka')).map((r) => JSON.stringify(r)).sort();
        counts.push(sorted);
      }
      expect(counts[1]).toEqual(counts[0]);
      expect(counts[0]!.length).toBeGreaterThan(10);
    } finally {
      await Promise.all([bqEngine.close(), embedded.close()]);
    }
    const [left] = await bq.dataset(SCRATCH).getTables();
    expect(left).toEqual([]);
  }, 120_000);

  test('a missing proxy table is an ERROR row naming it; a missing engine dataset fails the run naming the dataset', async () => {
    const missing = await run(
      'e-missing',
      config({ proxy: 'table', gcs: false, engine: 'bigquery', proxyTable: 'nope' }),
      tables('nope'),
    );
    expect(missing.result.exitCode).toBe(3);
    expect(missing.result.errors.join('\n')).toContain(`${PROJECT}.${DATA}.nope`);
    for (const d of missing.result.days) {
      for (const row of d.rows) {
        expect(row.status).toBe('ERROR');
        expect(row.proxy_requests).toBeNull();
      }
      expect(d.missingFile).toBeNull();
    }

    const cfg = config({ proxy: 'table', gcs: false, engine: 'bigquery' });
    cfg.engine.dataset = `${PROJECT}.no_such_dataset`;
    const failed = runReconcile({ config: cfg, days: DAYS.slice(0, 1), outDir: path.join(dir, 'f'), ...tables() });
    await expect(failed).rejects.toBeInstanceOf(TierError);
    await expect(failed).rejects.toThrow(/no_such_dataset/);
  }, 120_000);

  test('--dry-run plans each table query per batch, with its partition filter and estimate, for either engine, and writes nothing', async () => {
    for (const engine of ['embedded', 'bigquery'] as const) {
      const cfg = config({ proxy: 'table', gcs: false, engine });
      cfg.engine.batchDays = 2;
      const plans = await planQueries({ config: cfg, days: DAYS, ...tables() });
      expect(plans.map((p) => [p.table, p.days.first, p.days.last])).toEqual([
        ['tiers.proxy.bigquery', DAYS[0], DAYS[1]],
        ['tiers.bigquery', DAYS[0], DAYS[1]],
        ['tiers.proxy.bigquery', DAYS[2], DAYS[2]],
        ['tiers.bigquery', DAYS[2], DAYS[2]],
      ]);
      for (const p of plans) {
        expect(p.sql).toMatch(/`dt` BETWEEN @from_date AND @to_date/);
        expect(p.sql).toContain(
          p.table === 'tiers.proxy.bigquery' ? `\`${PROJECT}.${DATA}.proxy\`` : `\`${PROJECT}.${DATA}.landed\``,
        );
        expect(p.sql.includes('CREATE OR REPLACE TABLE')).toBe(engine === 'bigquery');
        expect(Number.isInteger(p.bytes)).toBe(true);
        // 2025-03-08 00:00 in Chicago is 06:00 UTC; one margin day before it for the partition filter.
        if (p.days.first === DAYS[0])
          expect(p.params).toMatchObject({ start: '2025-03-08T06:00:00.000Z', from_date: '2025-03-07' });
        // Rows without a timestamp are read from the partitions of the batch's days, as the run reads them.
        const batch = DAYS.filter((d) => d >= p.days.first && d <= p.days.last);
        expect(p.params[engine === 'bigquery' ? 'days' : 'untimed_days']).toEqual(batch);
      }
      expect(renderPlan(plans, engine)).toContain('bytes estimated');
    }
    const [left] = await bq.dataset(SCRATCH).getTables();
    expect(left).toEqual([]);
    await expect(
      planQueries({
        config: config({ proxy: 'table', gcs: false, engine: 'bigquery', proxyTable: 'nope' }),
        days: DAYS,
        ...tables('nope'),
      }),
    ).rejects.toThrow(/nope/);
  }, 120_000);

  test('the CLI runs engine bigquery from its config alone (tables, endpoint, scratch dataset), as the embedded engine does', async () => {
    const runs = [];
    for (const engine of ['embedded', 'bigquery'] as const) {
      const file = path.join(dir, `cli-${engine}.json`);
      await writeFile(file, JSON.stringify(configDocument({ proxy: 'table', gcs: false, engine })));
      const out = path.join(dir, `cli-out-${engine}`);
      const run = await runCli([
        'reconcile',
        '--config',
        file,
        '--from',
        DAYS[0]!,
        '--to',
        DAYS.at(-1)!,
        '--out',
        out,
        '--log-format',
        'json',
      ]);
      expect({ engine, stderr: run.stderr.split('\n').filter((l) => l.includes('"error"')) }).toEqual({
        engine,
        stderr: [],
      });
      runs.push({ code: run.code, out });
      const dry = await runCli(['reconcile', '--config', file, '--date', DAYS[0]!, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout.match(/bytes estimated/g)).toHaveLength(2);
    }
    expect(runs[1]!.code).toBe(runs[0]!.code);
    expect([0, 1]).toContain(runs[0]!.code);
    await expectSameFiles(runs[0]!.out, runs[1]!.out);
  }, 300_000);

  test("--no-history leaves the history table alone (an incident's run into a folder of its own); without it the run writes its days", async () => {
    const doc = configDocument({ proxy: 'table', gcs: false, engine: 'embedded' });
    doc.tiers.bigquery = { ...doc.tiers.bigquery, history: { table: `${PROJECT}.${SCRATCH}.history` } } as never;
    const file = path.join(dir, 'cli-history.json');
    await writeFile(file, JSON.stringify(doc));
    const reconcile = (out: string, ...extra: string[]) =>
      runCli(['reconcile', '--config', file, '--date', DAYS[0]!, '--out', path.join(dir, out), ...extra]);
    const tableIds = async () => (await bq.dataset(SCRATCH).getTables())[0].map((t) => t.id);
    const incident = await reconcile('cli-incident', '--no-history', '--log-format', 'json');
    expect([0, 1]).toContain(incident.code);
    expect(incident.stderr).toContain(`history: not written to ${PROJECT}.${SCRATCH}.history (--no-history)`);
    expect(await tableIds()).not.toContain('history');
    const scheduled = await reconcile('cli-scheduled');
    expect(scheduled.code).toBe(incident.code);
    const [rows] = await bq.query(
      `SELECT DISTINCT FORMAT_DATE('%F', \`date\`) AS d FROM \`${PROJECT}.${SCRATCH}.history\``,
    );
    expect(rows).toEqual([{ d: DAYS[0] }]);
  }, 300_000);
});
