import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { dayOf } from '../../src/dates.js';
import { tempDir, writeConfig, writeNdjson } from '../support/files.js';
import { MemoryKafkaReader } from '../support/memory-kafka.js';
import {
  configSites,
  expectParityFiles,
  type Injected,
  kafkaMessages,
  REGIONS,
  siteZonesScenario,
} from '../support/site-zones-scenario.js';

/**
 * Each site's business day, over generated scenarios (test/support/site-zones-scenario.ts): sites
 * with random zones (whole, half and quarter-hour offsets, with and without DST, DST days included),
 * and requests at random instants near the midnights of every zone. Each site's row must count
 * exactly the injected records whose instant falls on the day in that site's zone (UNKNOWN and
 * unconfigured sites: the configured zone), for the proxy, Kafka (read a day at a time: each message
 * once) and the landed tier (whose folders are the union of what each site's day needs); ALL sums
 * the rows. test/contract/bigquery-site-zones.test.ts holds the BigQuery engine to a few of them.
 */

const SCENARIOS = 20;

describe("each site's business day over generated scenarios", () => {
  it.each(Array.from({ length: SCENARIOS }, (_, i) => i + 1))(
    'scenario %i: every site counts exactly the injected records of its own day',
    async (seed) => {
      const s = siteZonesScenario(seed);
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
      const config = await loadConfig(
        await writeConfig(dir, {
          timezone: s.timezone,
          sites: configSites(s),
          tiers: {
            proxy: { locations: ['proxy/dt={date}/'], lateArrivalDays: 0 },
            gcs: { locations: ['landed/dt={date}/'], lateArrivalDays: 0 },
          },
        }),
      );
      const out = path.join(dir, 'out');
      const kafka = new MemoryKafkaReader(REGIONS, kafkaMessages(s));
      await runReconcile({ config, days: s.days, outDir: out, kafka });

      await expectParityFiles(s, out, 'gcs_records');
    },
    60_000,
  );
});
