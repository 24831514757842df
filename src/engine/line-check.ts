import type { RecordFields } from '../config.js';
import type { StagedObject } from '../domain.js';
import { loadQuery } from '../queries.js';
import { type CompareSql, duckdbColumnTags } from './compare-sql.js';
import { type DuckDBType, type DuckDBValue, LIST, listValue, VARCHAR } from './duckdb-api.js';
import { duckdbPath, lineFieldsSql } from './load-sql.js';
import { buildRecordColumns } from './record-columns.js';

/**
 * read_ndjson with ignore_errors reads a broken line as a row of NULLs, as the job counts it (malformed),
 * but its recovery is not line by line: a line cut after a colon (`{"timestamp":`) or inside an array
 * makes it read the next line as part of the broken one, so a whole, valid record there comes out as a
 * row of NULLs too, and is counted malformed instead of accepted. Reading every line on its own is exact,
 * but a third slower, so the fast read stays, and this checks it: an object whose fast read gave a row
 * with none of the fields (every broken line gives one) is read again one line at a time
 * (read-lines.sql), and where the two readings differ (lines-differ.sql) the line-by-line one is used.
 * Objects with no such row hold no broken line, so nothing there to recover from.
 */

/** One DuckDB connection's statements: the line table is a temporary table of the connection that made it. */
export interface Connection {
  run(sql: string, values?: Record<string, DuckDBValue>, types?: Record<string, DuckDBType>): Promise<void>;
  rows(
    sql: string,
    values?: Record<string, DuckDBValue>,
    types?: Record<string, DuckDBType>,
  ): Promise<Record<string, unknown>[]>;
}

/** The identifiers the line queries take: the field columns, their expressions, the structure and the tags. */
function lineIdentifiers(tier: 'proxy' | 'gcs', fields: RecordFields, compare?: CompareSql) {
  const { columns, structure, expr, extraExpr } = buildRecordColumns(fields, `tiers.${tier}.fields`, compare?.paths);
  return { line_fields: lineFieldsSql(expr), columns, structure, tags: duckdbColumnTags(compare, extraExpr) };
}

/**
 * Reads `objects` one line at a time and returns the paths of those whose lines read_ndjson reads
 * otherwise (the reader's names: each object's path as it is); their lines are then in this
 * connection's parity_lines. A difference the check misses needs two 64-bit sums of hashes and the
 * row count of an object to agree while its rows differ.
 */
export async function linesDiffering(
  conn: Connection,
  tier: 'proxy' | 'gcs',
  objects: readonly Pick<StagedObject, 'path'>[],
  fields: RecordFields,
  compare?: CompareSql,
): Promise<Set<string>> {
  if (objects.length === 0) return new Set();
  const ids = lineIdentifiers(tier, fields, compare);
  const lines = loadQuery('duckdb', 'read-lines', { ...ids, structs: loadQuery('duckdb', 'line-json', ids) });
  const rejects = loadQuery('duckdb', 'read-lines', { ...ids, structs: loadQuery('duckdb', 'line-rejects', ids) });
  const read = async (paths: readonly Pick<StagedObject, 'path'>[], make: string[]) => {
    // The reader adds to its rejects tables: start them empty, so that only these objects' are counted.
    await conn.run('DROP TABLE IF EXISTS parity_line_rejects');
    await conn.run('DROP TABLE IF EXISTS parity_line_scans');
    const values = { paths: listValue(paths.map((o) => duckdbPath(o.path))) };
    const types = { paths: LIST(VARCHAR) };
    await conn.run(make[0]!, values, types);
    await conn.run(make[1]!);
    return { values, types };
  };
  const sums = (source: string) => loadQuery('duckdb', 'lines-sums', { source });
  const { values, types } = await read(objects, [
    `CREATE OR REPLACE TEMP TABLE parity_line_sums AS ${sums(lines)}`,
    `INSERT INTO parity_line_sums ${sums(rejects)}`,
  ]);
  const rows = await conn.rows(loadQuery('duckdb', 'lines-differ', ids), values, types);
  const differing = new Set(rows.map((r) => String(r.file)));
  if (differing.size > 0)
    await read(
      objects.filter((o) => differing.has(o.path)),
      [`CREATE OR REPLACE TEMP TABLE parity_lines AS ${lines}`, `INSERT INTO parity_lines ${rejects}`],
    );
  return differing;
}

/**
 * After load-records.sql made `table` from `staged`: the objects it read a line of with none of the
 * fields (it wrote their paths in `rid` of those malformed rows, cleared here), checked line by line.
 * Returns the objects to read one line at a time (their lines are in parity_lines): none when the fast
 * read was exact.
 */
export async function objectsToReadByLine(
  conn: Connection,
  table: string,
  staged: readonly StagedObject[],
  tier: 'proxy' | 'gcs',
  fields: RecordFields,
  compare?: CompareSql,
): Promise<StagedObject[]> {
  // The table is one the engine made (a constant name), never text from a file.
  if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
  const rows = await conn.rows(
    `SELECT DISTINCT rid AS file FROM ${table} WHERE kind = 'malformed' AND rid IS NOT NULL`,
  );
  if (rows.length === 0) return [];
  await conn.run(`UPDATE ${table} SET rid = NULL WHERE kind = 'malformed' AND rid IS NOT NULL`);
  const files = new Set(rows.map((r) => String(r.file)));
  const suspects = staged.filter((o) => files.has(o.path));
  const differing = await linesDiffering(conn, tier, suspects, fields, compare);
  return suspects.filter((o) => differing.has(o.path));
}
