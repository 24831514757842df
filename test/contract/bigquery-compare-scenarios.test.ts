import { rm } from 'node:fs/promises';
import type { TableField } from '@google-cloud/bigquery';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { dayWindow } from '../../src/dates.js';
import type { ContentMismatch } from '../../src/engine/compare.js';
import { BigqueryEngine } from '../../src/engine/bigquery-engine.js';
import { createBigqueryTier } from '../../src/tiers/bigquery.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, startBqEmulator } from '../support/bq-emulator.js';
import { createDataset, LANDED_SCHEMA, loadTable, type TableRow } from '../support/bq-tables.js';
import { compareScenario, SCENARIO_COMPARE, SCENARIO_DAY, SCENARIO_SITES } from '../support/compare-scenario.js';
import { tempDir } from '../support/files.js';

const BYTES = '10737418240';
const SCHEMA: TableField[] = [
  ...LANDED_SCHEMA,
  {
    name: 'body',
    type: 'RECORD',
    fields: [
      { name: 'amount', type: 'STRING' },
      { name: 'note', type: 'STRING' },
      { name: 'qty', type: 'STRING' },
    ],
  },
  { name: 'user', type: 'RECORD', fields: [{ name: 'id', type: 'STRING' }] },
  { name: 'trace', type: 'STRING' },
];

// The same generated scenarios as test/property/compare-payloads.test.ts, hashed and compared in
// BigQuery (the emulator): the engines must agree on every injected alteration.
describe('compare over generated scenarios: the BigQuery engine gives back exactly the injected alterations', () => {
  it.each([7, 2024])(
    'seed %i',
    async (seed) => {
      const s = compareScenario(seed);
      const project = `parity-compare-${seed}`;
      const emu = await startBqEmulator(project);
      const dir = await tempDir('parity-compare-scenario-');
      try {
        const bq = createBigqueryClient({ projectId: project, apiEndpoint: emu.endpoint });
        const data = await createDataset(bq, 'audit');
        await createDataset(bq, 'scratch');
        const rows = s.final.map(
          (f) =>
            ({
              ts: new Date(f.ts).toISOString(),
              request_id: f.request_id,
              site: f.site,
              dt: SCENARIO_DAY,
              body: f.body ?? null,
              user: f.user ?? null,
              trace: f.trace ?? null,
            }) as unknown as TableRow,
        );
        await loadTable(data, 'landed', SCHEMA, rows);
        const final = createBigqueryTier(
          {
            kind: 'landed',
            table: `${project}.audit.landed`,
            columns: { timestamp: 'ts', request_id: 'request_id', site: 'site', partition: 'dt' },
            maximumBytesBilled: BYTES,
            partitionMarginDays: 1,
          },
          bq,
        );
        const engine = await BigqueryEngine.open(
          {
            dataset: `${project}.scratch`,
            jobProject: project,
            apiEndpoint: emu.endpoint,
            maximumBytesBilled: BYTES,
            timezone: 'UTC',
            tempDirectory: dir,
            compare: SCENARIO_COMPARE,
          },
          bq,
        );
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
      } finally {
        await emu.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
    BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
  );
});
