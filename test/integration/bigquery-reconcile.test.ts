/**
 * The whole job with BigQuery as the final tier, read from goccy/bigquery-emulator through the
 * real client: the same generated fixture lands in GCS folders and in a partitioned table, and
 * BigQuery's counts, the attribution on top of them and the missing list must be exactly the
 * injected ones — the contract suite of landed tiers: files, GCS and BigQuery count alike.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { daysInRange } from '../../src/dates.js';
import { DEFAULT_MIX, type LandedCopy, ScenarioGenerator } from '../../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../../src/demo/write-scenario.js';
import { identityViolations } from '../../src/reconcile/attribute.js';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { createBigqueryTier } from '../../src/tiers/bigquery.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, type BqEmulator, startBqEmulator } from '../support/bq-emulator.js';
import { expectReportsMatch } from '../support/expect-report.js';
import { tempDir } from '../support/files.js';

const PROJECT = 'parity-bq-job';
const DATASET = `audit_${Date.now().toString(36)}`;

describe('the bigquery tier as the final tier', () => {
  let emu: BqEmulator;
  beforeAll(async () => {
    emu = await startBqEmulator(PROJECT);
  }, BQ_EMULATOR_INSTALL_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('counts the generated fixture exactly, with BigQuery deciding what is missing', async () => {
    const dir = await tempDir();
    const days = daysInRange('2025-03-08', '2025-03-09');
    const gen = new ScenarioGenerator({
      seed: 99,
      days,
      timezone: 'America/Chicago',
      sites: ['US', 'CA', 'MX'],
      eventsPerDay: 300,
      mix: DEFAULT_MIX,
      malformedPerDay: 2,
      regions: ['EUS2', 'SCUS'],
    });
    const landed: LandedCopy[] = [];
    const written = await writeScenario(gen, dir, { gzipShare: 0.5, onLanded: (c) => void landed.push(...c) });
    const configFile = path.join(dir, 'config.json');
    await writeScenarioConfig(configFile, gen, written);

    const bq = createBigqueryClient({ projectId: PROJECT, apiEndpoint: emu.endpoint });
    const [dataset] = await bq.createDataset(DATASET, { location: 'US' });
    const [table] = await dataset.createTable('landed', {
      schema: {
        fields: [
          { name: 'ts', type: 'TIMESTAMP' },
          { name: 'request_id', type: 'STRING' },
          { name: 'site', type: 'STRING' },
          { name: 'dt', type: 'DATE' },
        ],
      },
      timePartitioning: { type: 'DAY', field: 'dt' },
    });
    // Partitioned by the date of the folder the sink wrote, as a table loaded from those folders is.
    for (let i = 0; i < landed.length; i += 500) {
      await table.insert(
        landed.slice(i, i + 500).map((c) => ({
          ts: new Date(c.ts).toISOString(),
          request_id: c.request_id,
          site: c.site ?? null,
          dt: c.folderDay,
        })),
      );
    }
    const bigquery = createBigqueryTier({
      table: `${PROJECT}.${DATASET}.landed`,
      columns: { timestamp: 'ts', request_id: 'request_id', site: 'site', partition: 'dt' },
      apiEndpoint: emu.endpoint,
      maximumBytesBilled: '10737418240',
      partitionMarginDays: 1,
    });
    const out = path.join(dir, 'out');
    const result = await runReconcile({ config: await loadConfig(configFile), days, outDir: out, bigquery });
    expect(result.errors).toEqual([]);
    await expectReportsMatch(gen, out, days, { kafka: null, bigquery: true });
    for (const d of result.days) for (const row of d.rows) expect(identityViolations(row)).toEqual([]);

    // The same day with GCS as the final tier gives the same missing list, byte for byte.
    const gcsOut = path.join(dir, 'out-gcs');
    await runReconcile({ config: await loadConfig(configFile), days, outDir: gcsOut });
    for (const day of days) {
      const [a, b] = await Promise.all([
        readFile(path.join(out, `missing-${day}.csv`)),
        readFile(path.join(gcsOut, `missing-${day}.csv`)),
      ]);
      expect(a.equals(b)).toBe(true);
    }
  }, 180_000);
});
