import type { RecordFields } from '../config.js';
import type { StagedObject } from '../domain.js';
import { isUtf8 } from 'node:buffer';
import { ResourceError } from '../errors.js';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { loadQuery, loadQueryText } from '../queries.js';
import { type CompareSql, duckdbColumnTags } from './compare-sql.js';
import { type DuckDBAppender, type DuckDBType, type DuckDBValue, LIST, listValue, VARCHAR } from './duckdb-api.js';
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
  /** An appender of rows to a table of the connection (a temporary one included). */
  appender(table: string): Promise<Pick<DuckDBAppender, 'appendVarchar' | 'appendNull' | 'endRow' | 'closeSync'>>;
  run(sql: string, values?: Record<string, DuckDBValue>, types?: Record<string, DuckDBType>): Promise<void>;
  rows(
    sql: string,
    values?: Record<string, DuckDBValue>,
    types?: Record<string, DuckDBType>,
  ): Promise<Record<string, unknown>[]>;
}

/** The text of the line check's queries, as they are in queries/duckdb: part of the cache's entry names. */
export const lineCheckText = (): string =>
  ['line-json', 'line-rejects', 'line-text', 'read-lines', 'lines-sums', 'lines-differ', 'read-lines-object']
    .map((q) => loadQueryText('duckdb', q))
    .join('\n');

/** The identifiers the line queries take: the field columns, their expressions, the structure and the tags. */
function lineIdentifiers(tier: 'proxy' | 'gcs', fields: RecordFields, compare?: CompareSql) {
  const { columns, structure, expr, extraExpr } = buildRecordColumns(fields, `tiers.${tier}.fields`, compare?.paths);
  return { line_fields: lineFieldsSql(expr), columns, structure, tags: duckdbColumnTags(compare, extraExpr) };
}

/**
 * Reads `objects` one line at a time and returns the paths of those whose lines read_ndjson reads
 * otherwise (the reader's names: each object's path as it is); the lines of those are then in this
 * connection's parity_lines, until dropLines. First a screen in the engine (read_csv: fast, but not
 * byte-exact: it cuts a line at a NUL byte, ends one at a lone CR, rejects one over 16 MiB), then, for
 * the objects the screen finds different, the exact reading (objectLines). A difference either misses
 * needs two 64-bit sums of hashes and the row count of an object to agree while its rows differ.
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
  const lines = (structs: string) =>
    loadQuery('duckdb', 'read-lines', { ...ids, structs: loadQuery('duckdb', structs, ids) });
  const sums = (source: string) => loadQuery('duckdb', 'lines-sums', { source });
  const paths = (of: readonly Pick<StagedObject, 'path'>[]) => ({
    values: { paths: listValue(of.map((o) => duckdbPath(o.path))) },
    types: { paths: LIST(VARCHAR) },
  });
  // Of `of` only: parity_lines may also hold objects read exactly before (loadCheckingLines' unreadable ones).
  const differ = async (of: readonly Pick<StagedObject, 'path'>[]) => {
    const { values, types } = paths(of);
    const rows = await conn.rows(loadQuery('duckdb', 'lines-differ', ids), values, types);
    const names = new Set(of.map((o) => o.path));
    return new Set(rows.map((r) => String(r.file)).filter((f) => names.has(f)));
  };
  // The screen. The reader adds to its rejects tables: start them empty, so that only these objects' count.
  await conn.run('DROP TABLE IF EXISTS parity_line_rejects');
  await conn.run('DROP TABLE IF EXISTS parity_line_scans');
  const { values, types } = paths(objects);
  await conn.run(`CREATE OR REPLACE TEMP TABLE parity_line_sums AS ${sums(lines('line-json'))}`, values, types);
  await conn.run(`INSERT INTO parity_line_sums ${sums(lines('line-rejects'))}`);
  const screened = await differ(objects);
  await conn.run('DROP TABLE parity_line_rejects');
  await conn.run('DROP TABLE parity_line_scans');
  if (screened.size === 0) return await dropLines(conn).then(() => screened);
  // The exact reading of the objects the screen found different.
  const suspects = objects.filter((o) => screened.has(o.path));
  await readExactly(conn, suspects, tier, fields, compare);
  await conn.run(`CREATE OR REPLACE TEMP TABLE parity_line_sums AS ${sums('SELECT * FROM parity_lines')}`);
  const differing = await differ(suspects);
  if (differing.size === 0) await dropLines(conn);
  return differing;
}

/**
 * Adds the lines of `objects` to this connection's parity_lines, each split off by objectLines and
 * parsed alone by the same struct as the fast read's columns.
 */
export async function readExactly(
  conn: Connection,
  objects: readonly Pick<StagedObject, 'path'>[],
  tier: 'proxy' | 'gcs',
  fields: RecordFields,
  compare?: CompareSql,
): Promise<void> {
  const ids = lineIdentifiers(tier, fields, compare);
  const parsed = (table: string) =>
    loadQuery('duckdb', 'read-lines', {
      ...ids,
      structs: loadQuery('duckdb', 'line-text', { ...ids, text_table: table }),
    });
  const text = 'parity_line_text';
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${text} (line VARCHAR, source_file VARCHAR)`);
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS parity_lines AS SELECT * FROM (${parsed(text)}) WHERE false`);
  // A long line is parsed in a statement of its own: the JSON functions' memory grows with every long
  // line of a batch (a 33 and a 40 MiB line together ran out of 512 MiB; either alone did not). One the
  // engine cannot parse within its memory limit (a valid 50 MiB record at 512 MiB) is malformed: false.
  const alone = `INSERT INTO parity_lines ${parsed('(SELECT $line AS line, $source AS source_file)')}`;
  const parsedAlone = (line: string, source: string): Promise<boolean> =>
    conn.run(alone, { line, source }).then(
      () => true,
      (e: unknown) => {
        if (e instanceof ResourceError) return false;
        throw e;
      },
    );
  const appender = await conn.appender(text);
  try {
    for (const o of objects)
      for await (const line of objectLines(o.path)) {
        const long = line !== null && line.length > LONG_LINE;
        if (long && (await parsedAlone(line, o.path))) continue;
        if (line === null || long) appender.appendNull();
        else appender.appendVarchar(line);
        appender.appendVarchar(o.path);
        appender.endRow();
      }
  } finally {
    appender.closeSync();
  }
  await conn.run(`INSERT INTO parity_lines ${parsed(text)}`);
  await conn.run(`DROP TABLE ${text}`);
}

/** Past this many characters a line is parsed alone (readExactly). */
const LONG_LINE = 1 << 20;
/**
 * The longest line read as a record, in bytes: read_ndjson reads lines of up to about 32 MiB (twice its
 * 16 MiB maximum_object_size) and fails on longer ones, so an object with one is read exactly; a line
 * longer than this is a row of NULLs (malformed), so that one line never holds the whole object in memory.
 */
const MAX_LINE_BYTES = 64 << 20;

/**
 * The object a failed fast read names, when it failed on JSON it could not recover from: that object is
 * then read exactly instead. A line such as `[` makes the reader take the next lines as one array, and
 * it throws at the end of the data instead of counting them; a line longer than the reader's buffer
 * (maximum_object_size, 16 MiB: a huge record, or a writer that died mid-line and never wrote the
 * newline's neighbour) makes it throw too. Undefined for any other failure.
 */
export function unreadableJsonObject(e: unknown): string | undefined {
  const message = e instanceof Error ? e.message : '';
  const m =
    /^Invalid Input Error: Malformed JSON in file "(.*)", at byte \d+ in line \d+/.exec(message) ??
    /^Invalid Input Error: "maximum_object_size" of \d+ bytes exceeded while reading file "(.*)" \(>\d+ bytes\)/.exec(
      message,
    );
  return m?.[1];
}

/**
 * DuckDB's gzip reader takes nothing after a gzip member but another member: zero bytes of padding, which
 * gzip, zcat and zlib (the gzip check) take, fail the whole read with this, naming no file.
 */
const gzipStreamFailure = (e: unknown): boolean =>
  e instanceof Error && /^IO Error: Input is not a GZIP stream/.test(e.message);

/**
 * Why the engine failed to read `object` alone, when the failure is one the line check answers: the JSON
 * reader named it (`unreadable`), or a gzip object's bytes after its data (`gzip-tail`); else null.
 */
export function unreadableObjectOf(
  e: unknown,
  object: Pick<StagedObject, 'path'>,
): Exclude<ReadByLine['why'], 'misread'> | null {
  if (unreadableJsonObject(e) === object.path) return 'unreadable';
  return object.path.endsWith('.gz') && gzipStreamFailure(e) ? 'gzip-tail' : null;
}

/**
 * After a read of many objects failed so (gzipStreamFailure): the gzip objects of `candidates` that the engine's
 * reader cannot read, each found by a read of its own (a rare failure, so the cost of reading them again).
 */
async function unreadableGzip(conn: Connection, candidates: readonly StagedObject[]): Promise<StagedObject[]> {
  const out: StagedObject[] = [];
  for (const o of candidates.filter((c) => c.path.endsWith('.gz'))) {
    await conn
      .run(
        `SELECT count(*) FROM read_ndjson($path, columns = {x: 'VARCHAR'}, ignore_errors = true, hive_partitioning = false)`,
        {
          path: duckdbPath(o.path),
        },
      )
      .catch((e: unknown) => {
        if (unreadableObjectOf(e, o)) out.push(o);
      });
  }
  return out;
}

/** Drops what linesDiffering left on the connection (parity_lines once read, and the sums). */
export async function dropLines(conn: Connection): Promise<void> {
  for (const t of ['parity_lines', 'parity_line_sums', 'parity_line_text']) await conn.run(`DROP TABLE IF EXISTS ${t}`);
}

/** Bytes a line of only these is blank to read_ndjson (JSON's whitespace, and C's: VT and FF too): no row. */
const BLANK = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Each line of a staged object (gzip when its path ends in .gz), split at every newline byte as
 * read_ndjson splits it: a blank line left out, the file's UTF-8 BOM dropped, a line with a NUL byte or
 * that is not UTF-8 given as null (no JSON text holds either: read_ndjson reads it as a row of NULLs).
 */
export async function* objectLines(file: string): AsyncGenerator<string | null> {
  // 1 MiB reads and inflated chunks, as the gzip check reads (src/tiers/gzip-check.ts: the 16 KiB default
  // made the round trips to zlib's thread most of the time).
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream: AsyncIterable<Buffer> = file.endsWith('.gz') ? input.pipe(createGunzip({ chunkSize: 1 << 20 })) : input;
  // The line so far, in the chunks it came in (one copy when it ends, not one per chunk); past
  // MAX_LINE_BYTES the rest of it is only skipped to its newline, and it is read as NULL.
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let first = true;
  const line = (b: Buffer): string | null | undefined => {
    if (first) {
      first = false;
      if (b.subarray(0, 3).equals(BOM)) b = b.subarray(3);
    }
    if (tooLong) return null;
    if (b.every((c) => BLANK.has(c))) return undefined;
    return b.includes(0) || !isUtf8(b) ? null : b.toString('utf8');
  };
  const end = (tail: Buffer): string | null | undefined => {
    if (size + tail.length > MAX_LINE_BYTES) tooLong = true;
    const l = line(tooLong ? Buffer.alloc(0) : parts.length === 0 ? tail : Buffer.concat([...parts, tail]));
    parts = [];
    size = 0;
    tooLong = false;
    return l;
  };
  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const l = end(chunk.subarray(start, nl));
      if (l !== undefined) yield l;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    size += rest.length;
    if (size > MAX_LINE_BYTES) {
      tooLong = true;
      parts = [];
    } else if (rest.length > 0) {
      parts.push(Buffer.from(rest));
    }
  }
  if (size > 0 || tooLong) {
    const l = end(Buffer.alloc(0));
    if (l !== undefined) yield l;
  }
}

/**
 * An object whose lines were read one at a time, and why (see FileCounting.loadFiles): `misread`, a broken
 * line the fast reader read on past; `unreadable`, one it could not read at all (a line past its size limit,
 * or one it cannot get past); `gzip-tail`, bytes after the gzip data it does not take (zero padding).
 */
export interface ReadByLine {
  url: string;
  why: 'misread' | 'unreadable' | 'gzip-tail';
}

/**
 * A file tier's table by `load` (load-records.sql, `byLine` its objects read from parity_lines): the
 * fast read, then the objects it could not read at all (unreadableJsonObject) or mis-read (a row with
 * none of the fields, then linesDiffering) read exactly, the table made again with them. Returns those,
 * each with why.
 */
export async function loadCheckingLines(
  conn: Connection,
  load: (byLine: readonly StagedObject[]) => Promise<void>,
  table: string,
  staged: readonly StagedObject[],
  tier: 'proxy' | 'gcs',
  fields: RecordFields,
  compare?: CompareSql,
): Promise<{ object: StagedObject; why: ReadByLine['why'] }[]> {
  let unreadable: StagedObject[] = [];
  const padded = new Set<StagedObject>();
  for (;;) {
    try {
      await load(unreadable);
      break;
    } catch (e) {
      const left = staged.filter((o) => !unreadable.includes(o));
      const file = unreadableJsonObject(e);
      const gzipTail = file === undefined && gzipStreamFailure(e);
      const objects = gzipTail ? await unreadableGzip(conn, left) : left.filter((o) => o.path === file).slice(0, 1);
      if (objects.length === 0) throw e;
      if (gzipTail) for (const o of objects) padded.add(o);
      unreadable = [...unreadable, ...objects];
      await readExactly(conn, objects, tier, fields, compare);
    }
  }
  // The objects it read a line of with none of the fields: load-records.sql wrote their paths in `rid`
  // of those malformed rows (the table is one the engine made, a constant name, never text from a file).
  if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
  const clear = `UPDATE ${table} SET rid = NULL WHERE kind = 'malformed' AND rid IS NOT NULL`;
  const tagged = await conn.rows(
    `SELECT DISTINCT rid AS file FROM ${table} WHERE kind = 'malformed' AND rid IS NOT NULL`,
  );
  if (tagged.length > 0) await conn.run(clear);
  const files = new Set(tagged.map((r) => String(r.file)));
  const suspects = staged.filter((o) => files.has(o.path) && !unreadable.includes(o));
  // Those that differ have their lines in parity_lines now, beside the unreadable ones'.
  const differing = await linesDiffering(conn, tier, suspects, fields, compare);
  const misread = suspects.filter((o) => differing.has(o.path));
  const byLine = [...unreadable, ...misread];
  if (misread.length > 0) {
    await load(byLine);
    await conn.run(clear);
  }
  await dropLines(conn);
  return [
    ...unreadable.map((o) => ({ object: o, why: padded.has(o) ? ('gzip-tail' as const) : ('unreadable' as const) })),
    ...misread.map((o) => ({ object: o, why: 'misread' as const })),
  ];
}
