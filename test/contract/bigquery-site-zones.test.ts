import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { parseConfig } from '../../src/config.js';
import { dayOf } from '../../src/dates.js';
import { createBigqueryTier } from '../../src/tiers/bigquery.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, ensureBqEmulatorBinary, startBqEmulator } from '../support/bq-emulator.js';
import { createDataset, LANDED_SCHEMA, loadTable, PROXY_SCHEMA } from '../support/bq-tables.js';
import { parseCsv, tempDir } from '../support/files.js';
import { MemoryKafkaReader } from '../support/memory-kafka.js';
import {
  configSites,
  expectDayCounts,
  hasDstDay,
  hasOffHourZone,
  type Injected,
  kafkaMessages,
  REGIONS,
  siteZonesScenario,
} from '../support/site-zones-scenario.js';

/**
 * The BigQuery twin of test/property/site-zones.test.ts: a few of the same generated scenarios (sites
 * with zones of their own, requests near every zone's midnights), the whole job with engine bigquery
 * on goccy/bigquery-emulator: the proxy and the landed tier as partitioned tables (dt: the request's
 * UTC date, as a sink writes them), Kafka's messages streamed in as the engine takes them. Each
 * site's row must count exactly the injected records of its own day in its own zone; ALL sums them.
 *
 * The seeds: each has a day on which one of its zones changes offset (US spring: Toronto; US fall:
 * St John's; Chatham's spring; Lord Howe's half hour in the fall) and a zone off the whole hour
 * (Kathmandu +05:45, Kolkata +05:30, St John's -03:30, Chatham +13:45): checked below, so that a
 * change to the generator cannot quietly take them away.
 */

const SEEDS = [5, 9, 16, 20];
const BYTES = '10737418240';
const CASE_TIMEOUT_MS = 60_000;

beforeAll(async () => {
  await ensureBqEmulatorBinary();
}, BQ_EMULATOR_INSTALL_TIMEOUT_MS);

describe("each site's business day over generated scenarios, with the BigQuery engine", () => {
  it('the chosen scenarios hold DST days and zones off the whole hour', () => {
    const scenarios = SEEDS.map(siteZonesScenario);
    expect(scenarios.map((s) => [hasDstDay(s), hasOffHourZone(s)])).toEqual(SEEDS.map(() => [true, true]));
  });

  it.each(SEEDS)(
    'scenario %i: every site counts exactly the injected records of its own day',
    async (seed) => {
      const s = siteZonesScenario(seed);
      const project = `parity-zones-${seed}`;
      // One emulator per scenario: after a dozen runs one emulator's SQL parser fails every query.
      const emu = await startBqEmulator(project);
      try {
        const bq = createBigqueryClient({ projectId: project, apiEndpoint: emu.endpoint });
        const audit = await createDataset(bq, 'audit');
        await createDataset(bq, 'scratch');
        const row = (r: Injected) => ({
          ts: new Date(r.ts).toISOString(),
          request_id: r.id,
          site: r.site,
          dt: dayOf(r.ts, 'UTC'),
        });
        await loadTable(
          audit,
          'proxy',
          PROXY_SCHEMA,
          s.records.map((r) => ({ ...row(r), status: 200 })),
        );
        await loadTable(audit, 'landed', LANDED_SCHEMA, s.records.filter((r) => r.landed).map(row));

        const dir = await tempDir('parity-site-zones-bq-');
        const table = (kind: 'proxy' | 'landed') => `${project}.audit.${kind}`;
        const config = parseConfig(
          {
            timezone: s.timezone,
            sites: configSites(s),
            tiers: {
              proxy: { bigquery: { table: table('proxy'), columns: { timestamp: 'ts' } } },
              bigquery: { table: table('landed'), columns: { timestamp: 'ts' }, apiEndpoint: emu.endpoint },
            },
            engine: { kind: 'bigquery', dataset: `${project}.scratch` },
          },
          dir,
        );
        const reader = (kind: 'proxy' | 'landed') =>
          createBigqueryTier(
            {
              kind,
              table: table(kind),
              columns: {
                timestamp: 'ts',
                request_id: 'request_id',
                site: 'site',
                partition: 'dt',
                ...(kind === 'proxy' ? { status: 'status' } : {}),
              },
              maximumBytesBilled: BYTES,
              partitionMarginDays: 1,
            },
            bq,
          );
        const out = path.join(dir, 'out');
        const result = await runReconcile({
          config,
          days: s.days,
          outDir: out,
          proxyTable: reader('proxy'),
          bigquery: reader('landed'),
          kafka: new MemoryKafkaReader(REGIONS, kafkaMessages(s)),
        });
        expect(result.errors).toEqual([]);

        for (const day of s.days) {
          const rows = parseCsv(await readFile(path.join(out, `parity-${day}.csv`), 'utf8'));
          const got = new Map(
            rows.map((r) => [
              r.site!,
              [Number(r.proxy_requests), Number(r.kafka_eus2) + Number(r.kafka_scus), Number(r.bq_rows)],
            ]),
          );
          expectDayCounts(s, day, got);
        }
      } finally {
        await emu.stop();
      }
    },
    CASE_TIMEOUT_MS,
  );
});
