import { rm } from 'node:fs/promises';
import { openEmbeddedEngine } from '../support/embedded-engine.js';
import { memoryTable } from '../contract/engine-contract.js';
import { tempDir } from '../support/files.js';
import { engineWindows, expectOutageWindows, OUTAGE_CASES, outageScenario } from '../support/outage-scenario.js';

/**
 * An injected 20-minute outage comes back from the embedded engine as exactly its quarter hours
 * (the scenarios and what they must give back: test/support/outage-scenario.ts; the BigQuery engine
 * runs the same scenarios in test/contract/bigquery-outage-windows.test.ts).
 */

describe('an injected 20-minute outage comes back from the embedded engine as exactly its buckets', () => {
  it.each(OUTAGE_CASES)('$kind, from $at, zone $zone, seed $seed', async ({ kind, start, zone, seed }) => {
    const s = outageScenario(seed, zone, kind, start);
    const tables = { proxy: memoryTable(s.proxy), final: memoryTable(s.final) };
    const dir = await tempDir('parity-outage-');
    const engine = await openEmbeddedEngine(dir);
    try {
      expectOutageWindows(await engineWindows(engine, s, zone, tables), s, kind, start);
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
