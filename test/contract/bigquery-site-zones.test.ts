import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { parseConfig } from '../../src/config.js';
import { dayOf } from '../../src/dates.js';
import { withEmulatorCase } from '../support/bq-engine-case.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, ensureBqEmulatorBinary } from '../support/bq-emulator.js';
import { LANDED_SCHEMA, loadTable, PROXY_SCHEMA } from '../support/bq-tables.js';
import { MemoryKafkaReader } from '../support/memory-kafka.js';
import {
  configSites,
  expectParityFiles,
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
      // One emulator per scenario: after a dozen runs one emulator's SQL parser fails every query.
      await withEmulatorCase(
        `parity-zones-${seed}`,
        async (c) => {
          const row = (r: Injected) => ({
            ts: new Date(r.ts).toISOString(),
            request_id: r.id,
            site: r.site,
            dt: dayOf(r.ts, 'UTC'),
          });
          await loadTable(
            c.audit,
            'proxy',
            PROXY_SCHEMA,
            s.records.map((r) => ({ ...row(r), status: 200 })),
          );
          await loadTable(c.audit, 'landed', LANDED_SCHEMA, s.records.filter((r) => r.landed).map(row));

          const table = (kind: 'proxy' | 'landed') => `${c.project}.audit.${kind}`;
          const config = parseConfig(
            {
              timezone: s.timezone,
              sites: configSites(s),
              tiers: {
                proxy: { bigquery: { table: table('proxy'), columns: { timestamp: 'ts' } } },
                bigquery: { table: table('landed'), columns: { timestamp: 'ts' }, apiEndpoint: c.emu.endpoint },
              },
              engine: { kind: 'bigquery', dataset: c.scratch },
            },
            c.dir,
          );
          const out = path.join(c.dir, 'out');
          const result = await runReconcile({
            config,
            days: s.days,
            outDir: out,
            proxyTable: c.tier('proxy', 'proxy'),
            bigquery: c.tier('landed', 'landed'),
            kafka: new MemoryKafkaReader(REGIONS, kafkaMessages(s)),
          });
          expect(result.errors).toEqual([]);
          await expectParityFiles(s, out, 'bq_rows');
        },
        { dirPrefix: 'parity-site-zones-bq-' },
      );
    },
    CASE_TIMEOUT_MS,
  );
});
