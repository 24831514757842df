import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { TableField } from '@google-cloud/bigquery';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { BigqueryEngine } from '../../src/engine/bigquery-engine.js';
import { DuckDbEngine } from '../../src/engine/duckdb-engine.js';
import { createBigqueryTier } from '../../src/tiers/bigquery.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, startBqEmulator } from '../support/bq-emulator.js';
import { createDataset, LANDED_SCHEMA, loadTable, type TableRow } from '../support/bq-tables.js';
import { tempDir } from '../support/files.js';
import { COMPARE, compareContract, DAY, finalRecords, ZONE } from './compare-contract.js';

const PROJECT = 'parity-compare';
const BYTES = '10737418240';

/** The landed table with the compared fields as the columns a sink writes: `body.amount` is column body's field. */
const SCHEMA: TableField[] = [
  ...LANDED_SCHEMA,
  {
    name: 'body',
    type: 'RECORD',
    fields: [
      { name: 'amount', type: 'STRING' },
      { name: 'note', type: 'STRING' },
    ],
  },
  { name: 'user', type: 'RECORD', fields: [{ name: 'id', type: 'STRING' }] },
];

type Emulator = Awaited<ReturnType<typeof startBqEmulator>>;

/** The emulator with the fixture's landed table loaded, and the landed tier reading it (compare on). */
async function landedTable(project: string) {
  const emu: Emulator = await startBqEmulator(project);
  try {
    const bq = createBigqueryClient({ projectId: project, apiEndpoint: emu.endpoint });
    const data = await createDataset(bq, 'audit');
    await createDataset(bq, 'scratch');
    const rows = finalRecords().map(
      (r) =>
        ({
          ts: new Date(r.ts).toISOString(),
          request_id: r.request_id,
          site: r.site,
          dt: DAY,
          body: r.body ?? null,
          user: r.user ?? null,
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
        compare: COMPARE,
      },
      bq,
    );
    return { emu, bq, final };
  } catch (e) {
    await emu.stop();
    throw e;
  }
}

// The BigQuery engine hashes Kafka's loaded values and the landed table's columns in BigQuery.
compareContract(
  'BigQuery on goccy/bigquery-emulator',
  async () => {
    const { emu, bq, final } = await landedTable(PROJECT);
    const dir = await tempDir('parity-compare-contract-');
    const engine = await BigqueryEngine.open(
      {
        dataset: `${PROJECT}.scratch`,
        jobProject: PROJECT,
        apiEndpoint: emu.endpoint,
        maximumBytesBilled: BYTES,
        timezone: ZONE,
        tempDirectory: dir,
        compare: COMPARE,
      },
      bq,
    ).catch(async (e: unknown) => {
      await emu.stop();
      throw e;
    });
    return {
      engine,
      final,
      close: async () => {
        await emu.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
);

// The embedded engine reads the same table through the landed tier, which hands it the compared
// columns as each row's JSON payload: it hashes them as it hashes Kafka's values.
compareContract(
  'embedded DuckDB reading the landed table from goccy/bigquery-emulator',
  async () => {
    const { emu, final } = await landedTable(`${PROJECT}-embedded`);
    const dir = await tempDir('parity-compare-contract-');
    const engine = await DuckDbEngine.open({
      memoryLimit: '256MB',
      threads: 1,
      tempDirectory: path.join(dir, 'spill'),
      compare: COMPARE,
    });
    return {
      engine,
      final,
      close: async () => {
        await emu.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
);
