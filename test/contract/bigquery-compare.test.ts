import { compareLandedSchema, landedFieldsRow, startEngineEmulator } from '../support/bq-engine-case.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS } from '../support/bq-emulator.js';
import { loadTable } from '../support/bq-tables.js';
import { openEmbeddedEngine } from '../support/embedded-engine.js';
import { bigqueryComparing, type BigqueryPort } from '../../src/engine/compare-bigquery.js';
import type { CompareSql } from '../../src/engine/compare-sql.js';
import {
  COMPARE,
  compareContract,
  DAY,
  expectedMismatches,
  finalRecords,
  listMismatches,
  loadCompareFixture,
  ZONE,
} from './compare-contract.js';

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

// The list a row at a time, with CA left out of the listing's order (a --sites US run): CA shares the last
// place with UNKNOWN, and the page after a CA row must start after that site's row, not skip a tie.
describe('compare on engine bigquery, a page of one row at a time', () => {
  it(
    'lists every mismatch once, whatever the page size and the sites sharing a place',
    async () => {
      const { c, final } = await landedTable(`${PROJECT}-paged`);
      try {
        const engine = await c.openEngine({ timezone: ZONE, compare: COMPARE });
        try {
          const inner = engine as unknown as { cmp: CompareSql; compare: unknown };
          inner.compare = bigqueryComparing(inner.cmp, engine as unknown as BigqueryPort, 1);
          const e = { engine, final, close: c.stop };
          await loadCompareFixture(e);
          await engine.compare!.compareIds(true, ['US']);
          const key = (m: { site: string; requestId: string }) => `${m.site} ${m.requestId}`;
          const listed = (await listMismatches(engine, DAY)).map(key);
          expect(listed.sort()).toEqual(expectedMismatches().map(key).sort());
        } finally {
          await engine.close();
        }
      } finally {
        await c.stop();
      }
    },
    BQ_EMULATOR_INSTALL_TIMEOUT_MS + 180_000,
  );
});
