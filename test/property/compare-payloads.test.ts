import { rm } from 'node:fs/promises';
import { dayWindow } from '../../src/dates.js';
import type { ContentMismatch } from '../../src/engine/compare.js';
import { memoryTable } from '../contract/engine-contract.js';
import {
  compareScenario,
  SCENARIO_COMPARE,
  SCENARIO_DAY,
  SCENARIO_SITES,
  scenarioFinalRows,
} from '../support/compare-scenario.js';
import { openEmbeddedEngine } from '../support/embedded-engine.js';
import { tempDir } from '../support/files.js';

const SEEDS = [1, 7, 42, 2024, 99_991];

describe('compare over generated scenarios: the embedded engine gives back exactly the injected alterations', () => {
  it.each(SEEDS)('seed %i', async (seed) => {
    const s = compareScenario(seed);
    const dir = await tempDir('parity-compare-property-');
    const engine = await openEmbeddedEngine(dir, SCENARIO_COMPARE);
    try {
      const window = dayWindow(SCENARIO_DAY, 'UTC');
      await engine.setWindows([window]);
      await engine.loadEmpty('proxy');
      await engine.loadEmpty('gcs');
      await engine.beginStreamed('kafka');
      // In batches, as the reader hands them over.
      for (let i = 0; i < s.kafka.length; i += 37) await engine.appendStreamed('kafka', s.kafka.slice(i, i + 37));
      await engine.finishStreamed('kafka', SCENARIO_SITES);
      await engine.loadTable(
        'bigquery',
        memoryTable(scenarioFinalRows(s)),
        window.startMs,
        window.endMs,
        SCENARIO_SITES,
      );
      await engine.joinIds([SCENARIO_DAY], true);
      await engine.compare!.compareIds(true, SCENARIO_SITES);
      const got: ContentMismatch[] = [];
      for await (const chunk of engine.compare!.mismatches(SCENARIO_DAY)) got.push(...chunk);
      // Every kind of alteration was drawn, so the scenario tests what it says.
      expect(new Set(s.alterations.values()).size).toBe(11);
      expect(got).toEqual(s.expected);
      const counts = await engine.compare!.mismatchCounts();
      expect(counts.reduce((n, c) => n + c.ids, 0)).toBe(s.expected.length);
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
