import { DuckDBInstance } from '../../src/engine/duckdb-api.js';
import { appendStreamedRows } from '../../src/engine/duckdb-append.js';
import { loadQuery } from '../../src/queries.js';

describe("appendStreamedRows: a table tier's rows into the embedded engine", () => {
  it('takes a status past a 32-bit integer as none (a malformed proxy row, as a file line), where it threw', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      await db.run(loadQuery('duckdb', 'streamed-raw', { raw_table: 'raw_proxy' }));
      const row = (rid: string, status: number | null) => ({
        region: null,
        timestampMs: 1_741_500_000_000,
        requestId: rid,
        siteHeader: 'US',
        inFlight: false,
        n: 1,
        status,
      });
      await appendStreamedRows(db, 'raw_proxy', [
        row('a', 200),
        row('b', 3_000_000_000),
        row('c', -2_147_483_649),
        row('d', null),
      ]);
      const rows = (await db.runAndReadAll('SELECT rid, status FROM raw_proxy ORDER BY rid')).getRowObjectsJS();
      expect(rows).toEqual([
        { rid: 'a', status: 200 },
        { rid: 'b', status: null },
        { rid: 'c', status: null },
        { rid: 'd', status: null },
      ]);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });
});
