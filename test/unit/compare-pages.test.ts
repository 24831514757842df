import { DuckDBInstance } from '../../src/engine/duckdb-api.js';
import { duckdbComparing } from '../../src/engine/compare-duckdb.js';
import { compareSqlOf } from '../../src/engine/compare-sql.js';

const DAY = '2025-03-09';

describe("a day's content mismatches, a page at a time (embedded engine)", () => {
  it('lists every one at any page size, also where sites share a place in the order (UNKNOWN and those --sites left out)', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      // Each id in three sites, its payload different on each side: 21 mismatches.
      const ids = ['a', 'a\u0000z', 'a\u0000b', 'b', 'x', 'é', 'c'];
      const sites = ['US', 'MX', 'UNKNOWN'];
      for (const [table, tag] of [
        ['agg_kafka', '0:k'],
        ['agg_gcs', '0:f'],
      ] as const) {
        await db.run(`CREATE TABLE ${table} (kind VARCHAR, day DATE, site VARCHAR, rid VARCHAR, hashes VARCHAR[])`);
        for (const site of sites)
          for (const rid of ids)
            await db.run(`INSERT INTO ${table} VALUES ('record', DATE '${DAY}', $site, $rid, ['${tag}'])`, {
              site,
              rid,
            });
      }
      const port = {
        run: async (sql: string, values?: never, types?: never) => void (await db.run(sql, values, types)),
        rows: async (sql: string, values?: never) =>
          (await db.runAndReadAll(sql, values)).getRowObjectsJS() as Record<string, unknown>[],
      };
      const listed = async (reportSites: string[], pageRows: number) => {
        const c = duckdbComparing(compareSqlOf(['body.a'])!, port as never, pageRows);
        await c.compareIds(false, reportSites);
        const out: string[] = [];
        for await (const page of c.mismatches(DAY)) out.push(...page.map((m) => `${m.site}:${m.requestId}`));
        return out;
      };
      for (const reportSites of [['US', 'MX'], ['US']])
        for (const pageRows of [1, 2, 3, 10_000]) {
          const out = await listed(reportSites, pageRows);
          expect({ reportSites, pageRows, n: out.length, distinct: new Set(out).size }).toEqual({
            reportSites,
            pageRows,
            n: 21,
            distinct: 21,
          });
        }
      // --sites US: US first, then the sites that share the last place, each in turn (MX before UNKNOWN).
      const order = (await listed(['US'], 2)).map((s) => s.split(':')[0]);
      expect(order.indexOf('MX')).toBeGreaterThan(order.lastIndexOf('US'));
      expect(order.indexOf('UNKNOWN')).toBeGreaterThan(order.lastIndexOf('MX'));
    } finally {
      db.closeSync();
    }
  });
});
