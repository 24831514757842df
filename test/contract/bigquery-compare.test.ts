import { compareLandedSchema, landedFieldsRow, startEngineEmulator } from '../support/bq-engine-case.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS } from '../support/bq-emulator.js';
import { loadTable } from '../support/bq-tables.js';
import { openEmbeddedEngine } from '../support/embedded-engine.js';
import { COMPARE, compareContract, DAY, finalRecords, ZONE } from './compare-contract.js';

const PROJECT = 'parity-compare';

const SCHEMA = compareLandedSchema(COMPARE);

/** The emulator with the fixture's landed table loaded, and the landed tier reading it (compare on). */
async function landedTable(project: string) {
  const c = await startEngineEmulator(project, { dirPrefix: 'parity-compare-contract-' });
  try {
    await loadTable(
      c.audit,
      'landed',
      SCHEMA,
      finalRecords().map((r) => landedFieldsRow(r, DAY, SCHEMA)),
    );
    return { c, final: c.tier('landed', 'landed', { compare: COMPARE }) };
  } catch (e) {
    await c.stop();
    throw e;
  }
}

// The BigQuery engine hashes Kafka's loaded values and the landed table's columns in BigQuery.
compareContract(
  'BigQuery on goccy/bigquery-emulator',
  async () => {
    const { c, final } = await landedTable(PROJECT);
    const engine = await c.openEngine({ timezone: ZONE, compare: COMPARE }).catch(async (e: unknown) => {
      await c.stop();
      throw e;
    });
    return { engine, final, close: c.stop };
  },
  BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
);

// The embedded engine reads the same table through the landed tier, which hands it the compared
// columns as each row's JSON payload: it hashes them as it hashes Kafka's values.
compareContract(
  'embedded DuckDB reading the landed table from goccy/bigquery-emulator',
  async () => {
    const { c, final } = await landedTable(`${PROJECT}-embedded`);
    const engine = await openEmbeddedEngine(c.dir, COMPARE).catch(async (e: unknown) => {
      await c.stop();
      throw e;
    });
    return { engine, final, close: c.stop };
  },
  BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
);
