import { rm } from 'node:fs/promises';
import type { BigQuery } from '@google-cloud/bigquery';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { dayOf } from '../../src/dates.js';
import type { StreamedRow } from '../../src/domain.js';
import { BigqueryEngine } from '../../src/engine/bigquery-engine.js';
import { createBigqueryTier } from '../../src/tiers/bigquery.js';
import {
  BQ_EMULATOR_INSTALL_TIMEOUT_MS,
  type BqEmulator,
  ensureBqEmulatorBinary,
  startBqEmulator,
} from '../support/bq-emulator.js';
import { createDataset, LANDED_SCHEMA, loadTable, PROXY_SCHEMA } from '../support/bq-tables.js';
import { tempDir } from '../support/files.js';
import {
  DAY,
  engineWindows,
  expectOutageWindows,
  OUTAGE_CASES,
  outageScenario,
  type ScenarioTables,
} from '../support/outage-scenario.js';

/**
 * The engine: bigquery twin of test/property/outage-windows.test.ts: the same generated outages,
 * their proxy and final tiers loaded into goccy/bigquery-emulator as tables, must come back from the
 * BigQuery engine as exactly the injected windows (so byte for byte what the embedded engine gives).
 * The emulator is slower: the cases at a fixed start (on and off the quarter hour, 2 and 3 buckets)
 * and the first three random ones of each kind (one per zone).
 */

const PROJECT = 'parity-outage';
const BYTES = '10737418240';
const CASE_TIMEOUT_MS = 180_000;
/** Random starts per kind run here (one per zone: with DST, without, off the hour). */
const RANDOM_CASES_HERE = 3;
const CASES = OUTAGE_CASES.filter((c) => c.start !== null || c.seed % 100 < 4 + RANDOM_CASES_HERE);

let emu: BqEmulator | undefined;
let bq: BigQuery;

// One emulator per case: after a dozen of these runs one emulator's SQL parser fails every query
// ("slice bounds out of range"), whatever the query.
beforeAll(async () => {
  await ensureBqEmulatorBinary();
}, BQ_EMULATOR_INSTALL_TIMEOUT_MS);

beforeEach(async () => {
  emu = await startBqEmulator(PROJECT);
  bq = createBigqueryClient({ projectId: PROJECT, apiEndpoint: emu.endpoint });
  await createDataset(bq, 'audit');
}, 120_000);

afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const iso = (ms: number) => new Date(ms).toISOString();
const proxyRow = (r: StreamedRow) => ({
  ts: iso(r.timestampMs),
  request_id: r.requestId,
  site: r.siteHeader,
  status: r.status ?? null,
  dt: dayOf(r.timestampMs, 'UTC'),
});
const landedRow = (r: StreamedRow) => ({
  ts: iso(r.timestampMs),
  request_id: r.requestId,
  site: r.siteHeader,
  dt: DAY,
});

/** The scenario's tiers as tables of their own, and readers of them. */
async function loadScenario(seed: number, proxy: StreamedRow[], final: StreamedRow[]): Promise<ScenarioTables> {
  const data = bq.dataset('audit');
  await loadTable(data, `proxy_${seed}`, PROXY_SCHEMA, proxy.map(proxyRow));
  await loadTable(data, `landed_${seed}`, LANDED_SCHEMA, final.map(landedRow));
  const reader = (kind: 'proxy' | 'landed') =>
    createBigqueryTier(
      {
        kind,
        table: `${PROJECT}.audit.${kind}_${seed}`,
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
  return { proxy: reader('proxy'), final: reader('landed') };
}

describe('an injected 20-minute outage comes back from the BigQuery engine as exactly its buckets', () => {
  it.each(CASES)(
    '$kind, from $at, zone $zone, seed $seed',
    async ({ kind, start, zone, seed }) => {
      const s = outageScenario(seed, zone, kind, start);
      const tables = await loadScenario(seed, s.proxy, s.final);
      const scratch = `scratch_${seed}`;
      await createDataset(bq, scratch);
      const dir = await tempDir('parity-outage-bq-');
      const engine = await BigqueryEngine.open(
        {
          dataset: `${PROJECT}.${scratch}`,
          jobProject: PROJECT,
          apiEndpoint: emu!.endpoint,
          maximumBytesBilled: BYTES,
          timezone: zone,
          tempDirectory: dir,
        },
        bq,
      );
      try {
        expectOutageWindows(await engineWindows(engine, s, zone, tables), s, kind, start);
      } finally {
        await engine.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
    CASE_TIMEOUT_MS,
  );
});
