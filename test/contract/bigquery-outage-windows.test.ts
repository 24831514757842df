import { dayOf } from '../../src/dates.js';
import type { StreamedRow } from '../../src/domain.js';
import { type EmulatorCase, startEngineEmulator } from '../support/bq-engine-case.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, ensureBqEmulatorBinary } from '../support/bq-emulator.js';
import { LANDED_SCHEMA, loadTable, PROXY_SCHEMA } from '../support/bq-tables.js';
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
const CASE_TIMEOUT_MS = 180_000;
/** Random starts per kind run here (one per zone: with DST, without, off the hour). */
const RANDOM_CASES_HERE = 3;
const CASES = OUTAGE_CASES.filter((c) => c.start !== null || c.seed % 100 < 4 + RANDOM_CASES_HERE);

let c: EmulatorCase | undefined;

// One emulator per case: after a dozen of these runs one emulator's SQL parser fails every query
// ("slice bounds out of range"), whatever the query.
beforeAll(async () => {
  await ensureBqEmulatorBinary();
}, BQ_EMULATOR_INSTALL_TIMEOUT_MS);

beforeEach(async () => {
  c = await startEngineEmulator(PROJECT, { dirPrefix: 'parity-outage-bq-' });
}, 120_000);

afterEach(async () => {
  await c?.stop();
  c = undefined;
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const proxyRow = (r: StreamedRow) => ({
  ts: iso(r.timestampMs),
  request_id: r.requestId,
  site: r.siteHeader,
  status: r.status ?? null,
  dt: r.timestampMs === null ? r.untimedDay! : dayOf(r.timestampMs, 'UTC'),
});
const landedRow = (r: StreamedRow) => ({
  ts: iso(r.timestampMs),
  request_id: r.requestId,
  site: r.siteHeader,
  dt: DAY,
});

/** The scenario's tiers as tables of their own, and readers of them. */
async function loadScenario(seed: number, proxy: StreamedRow[], final: StreamedRow[]): Promise<ScenarioTables> {
  await loadTable(c!.audit, `proxy_${seed}`, PROXY_SCHEMA, proxy.map(proxyRow));
  await loadTable(c!.audit, `landed_${seed}`, LANDED_SCHEMA, final.map(landedRow));
  return { proxy: c!.tier('proxy', `proxy_${seed}`), final: c!.tier('landed', `landed_${seed}`) };
}

describe('an injected 20-minute outage comes back from the BigQuery engine as exactly its buckets', () => {
  it.each(CASES)(
    '$kind, from $at, zone $zone, seed $seed',
    async ({ kind, start, zone, seed }) => {
      const s = outageScenario(seed, zone, kind, start);
      const tables = await loadScenario(seed, s.proxy, s.final);
      const engine = await c!.openEngine({ timezone: zone });
      try {
        expectOutageWindows(await engineWindows(engine, s, zone, tables), s, kind, start);
      } finally {
        await engine.close();
      }
    },
    CASE_TIMEOUT_MS,
  );
});
