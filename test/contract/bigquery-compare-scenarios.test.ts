import { dayWindow } from '../../src/dates.js';
import type { ContentMismatch } from '../../src/engine/compare.js';
import { compareLandedSchema, landedFieldsRow, withEmulatorCase } from '../support/bq-engine-case.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS } from '../support/bq-emulator.js';
import { loadTable } from '../support/bq-tables.js';
import { compareScenario, SCENARIO_COMPARE, SCENARIO_DAY, SCENARIO_SITES } from '../support/compare-scenario.js';

/** The landed table with the compared fields as columns, and a field that is not compared. */
const SCHEMA = compareLandedSchema(SCENARIO_COMPARE, [{ name: 'trace', type: 'STRING' }]);

// The same generated scenarios as test/property/compare-payloads.test.ts, hashed and compared in
// BigQuery (the emulator): the engines must agree on every injected alteration.
describe('compare over generated scenarios: the BigQuery engine gives back exactly the injected alterations', () => {
  it.each([7, 2024])(
    'seed %i',
    async (seed) => {
      const s = compareScenario(seed);
      await withEmulatorCase(
        `parity-compare-${seed}`,
        async (c) => {
          await loadTable(
            c.audit,
            'landed',
            SCHEMA,
            s.final.map((f) => landedFieldsRow(f, SCENARIO_DAY, SCHEMA)),
          );
          const final = c.tier('landed', 'landed');
          const engine = await c.openEngine({ timezone: 'UTC', compare: SCENARIO_COMPARE });
          try {
            const window = dayWindow(SCENARIO_DAY, 'UTC');
            await engine.setWindows([window]);
            await engine.loadEmpty('proxy');
            await engine.beginStreamed('kafka');
            await engine.appendStreamed('kafka', s.kafka);
            await engine.finishStreamed('kafka', SCENARIO_SITES);
            await engine.loadTable('bigquery', final, window.startMs, window.endMs, SCENARIO_SITES);
            await engine.joinIds([SCENARIO_DAY], true);
            await engine.compare!.compareIds(true, SCENARIO_SITES);
            const got: ContentMismatch[] = [];
            for await (const chunk of engine.compare!.mismatches(SCENARIO_DAY)) got.push(...chunk);
            expect(got).toEqual(s.expected);
          } finally {
            await engine.close();
          }
        },
        { dirPrefix: 'parity-compare-scenario-' },
      );
    },
    BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
  );
});
