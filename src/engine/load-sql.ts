import { BIGINT, BOOLEAN, type DuckDBType, type DuckDBValue, LIST, listValue, VARCHAR } from './duckdb-api.js';
import type { RecordFields } from '../config.js';
import type { DayKey, StagedObject } from '../domain.js';
import { loadQuery } from '../queries.js';
import { type CompareSql, duckdbColumnTags, duckdbHashesAgg } from './compare-sql.js';
import { type DayLookup, lookupParams, reportDaysParam } from './day-lookup.js';
import { buildRecordColumns } from './record-columns.js';

/** A statement and its named parameters, ready for the engine to run. */
export interface Statement {
  sql: string;
  values: Record<string, DuckDBValue>;
  types: Record<string, DuckDBType>;
}

/**
 * The most folders a file tier's lines are read with one scan each (read-source.sql, the folder a
 * constant); a batch of more is read in one scan joined to its objects' folders (read-source-joined.sql).
 */
export const MAX_FOLDER_SCANS = 4;

/**
 * A file's path as DuckDB's readers take it: they read a path with `*`, `?` or `[` in it as a glob,
 * so `r[ab].ndjson` would read `ra.ndjson` and `a*.ndjson` every file it matches. Each such character
 * is put in brackets of its own, which match exactly it (the reader's `filename` is the real path).
 */
export const duckdbPath = (file: string): string => file.replace(/[[*?]/g, (c) => `[${c}]`);

/** A line's four fields as the text columns every reader of lines gives (line-fields.sql), from their expressions. */
export const lineFieldsSql = (expr: Record<keyof RecordFields, string>): string =>
  loadQuery('duckdb', 'line-fields', expr);

/**
 * parse-lines.sql's `keep` in a count of lines: line-keep.sql on a line of its own. (The per-object cache's
 * is empty, and leaves the statement's text, part of its entries' names, as it was before the filter.)
 */
export const lineKeep = (): string => `\n  ${loadQuery('duckdb', 'line-keep')}`;

/** A text as a SQL string literal: for what DuckDB takes no parameter for (a path in COPY or a query text). */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** What one file tier's load reads and how. */
export interface LoadSpec {
  tier: 'proxy' | 'gcs';
  /** The table it makes. */
  table: string;
  fields: RecordFields;
  sites: string[];
  /** How many days after a record's UTC date its folder may be dated (lateArrivalDays), and before (clockSkewDays). */
  lateDays: number;
  clockSkewDays: number;
  lookup: DayLookup;
  /** The landed tier's compared fields, when compare is on. */
  compare?: CompareSql;
}

/**
 * The statement that makes a file tier's table from its objects: their lines (load-records.sql), or,
 * with `cached`, their aggregates (load-cached.sql), leaving out the rows of `skipDays` (days whose rows
 * come from elsewhere: src/engine/day-slices.ts). One source per folder date, so that each line's folder
 * is a constant rather than a join on its file name. `byLine`: objects of `objects` whose lines are read
 * from parity_lines instead, one at a time (src/engine/line-check.ts). Pure.
 */
export function loadStatement(
  spec: LoadSpec,
  objects: readonly StagedObject[],
  cached: boolean,
  skipDays: readonly DayKey[] = [],
  byLine: readonly StagedObject[] = [],
): Statement {
  const { tier, fields, compare: cmp } = spec;
  const folders = new Map<DayKey | null, string[]>();
  const fast = objects.filter((o) => !byLine.includes(o));
  for (const s of fast) folders.set(s.folderDay, [...(folders.get(s.folderDay) ?? []), s.path]);
  const { columns, expr, extraExpr } = buildRecordColumns(fields, `tiers.${tier}.fields`, cmp?.paths);
  // The sources' own parameters; the count's come with its statement below.
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  const epochDay = (day: DayKey | null) => (day === null ? null : BigInt(Date.parse(`${day}T00:00:00Z`) / 86_400_000));
  const tags = duckdbColumnTags(cmp, extraExpr);
  // Each object's name and folder date, as `prefix`_names, _folder_days, _folder_epoch_days (list parameters).
  const objectLists = (prefix: 'path' | 'line', of: readonly StagedObject[]) => {
    values[`${prefix}_names`] = listValue(of.map((o) => o.path));
    values[`${prefix}_folder_days`] = listValue(of.map((o) => o.folderDay));
    values[`${prefix}_folder_epoch_days`] = listValue(of.map((o) => epochDay(o.folderDay)));
    Object.assign(types, {
      [`${prefix}_names`]: LIST(VARCHAR),
      [`${prefix}_folder_days`]: LIST(VARCHAR),
      [`${prefix}_folder_epoch_days`]: LIST(BIGINT),
    });
  };
  let sources: string;
  if (fast.length === 0) {
    sources = '';
  } else if (!cached && folders.size > MAX_FOLDER_SCANS) {
    // One scan of every object (read-source-joined.sql): past a few folders, a scan per folder runs out of memory.
    values.paths = listValue(fast.map((o) => duckdbPath(o.path)));
    types.paths = LIST(VARCHAR);
    objectLists('path', fast);
    sources = loadQuery('duckdb', 'read-source-joined', { columns, line_fields: lineFieldsSql(expr), tags });
  } else {
    sources = [...folders]
      .map(([folderDay, paths], i) => {
        values[`paths_${i}`] = listValue(paths.map(duckdbPath));
        values[`folder_day_${i}`] = folderDay;
        values[`folder_epoch_day_${i}`] = epochDay(folderDay);
        Object.assign(types, {
          [`paths_${i}`]: LIST(VARCHAR),
          [`folder_day_${i}`]: VARCHAR,
          [`folder_epoch_day_${i}`]: BIGINT,
        });
        return cached
          ? loadQuery('duckdb', 'read-cached-source', { i: String(i) })
          : loadQuery('duckdb', 'read-source', { i: String(i), columns, line_fields: lineFieldsSql(expr), tags });
      })
      .join('\n  UNION ALL\n  ');
  }
  if (byLine.length > 0) {
    objectLists('line', byLine);
    const lines = loadQuery('duckdb', 'read-lines-source');
    sources = sources ? `${sources}\n  UNION ALL\n  ${lines}` : lines;
  }
  const aggregates = aggregatesSql(spec, cached);
  const count = cached
    ? cachedStatement(spec, sources, aggregates, skipDays)
    : linesStatement({ ...spec, statusRequired: tier === 'proxy' }, sources, aggregates);
  return { sql: count.sql, values: { ...count.values, ...values }, types: { ...count.types, ...types } };
}

/** What a count of a tier's records needs besides its sources. */
type CountSpec = Pick<LoadSpec, 'table' | 'sites' | 'lateDays' | 'clockSkewDays' | 'lookup'>;

/** The parameters every count of records takes (load-records.sql and load-cached.sql). */
function countParams(spec: CountSpec): Statement {
  const lookup = lookupParams(spec.lookup, spec.sites);
  return {
    sql: '',
    values: {
      ...lookup.values,
      sites: listValue(spec.sites),
      late_days: BigInt(spec.lateDays),
      clock_skew_days: BigInt(spec.clockSkewDays),
    },
    types: { ...lookup.types, sites: LIST(VARCHAR), late_days: BIGINT, clock_skew_days: BIGINT },
  };
}

/**
 * load-records.sql over `sources` (whose own parameters the caller adds): each line parsed, those that
 * cannot count on a report day dropped once their timestamp is (line-keep.sql), and aggregated. The one
 * statement of a count of lines, from files or from a proxy table's rows.
 */
export function linesStatement(
  spec: CountSpec & { statusRequired: boolean },
  sources: string,
  aggregates: string,
): Statement {
  const { values, types } = countParams(spec);
  const report = reportDaysParam(spec.lookup);
  return {
    sql: loadQuery('duckdb', 'load-records', {
      table: spec.table,
      sources,
      aggregates,
      parse_lines: loadQuery('duckdb', 'parse-lines', { keep: lineKeep() }),
    }),
    values: { ...values, ...report.values, status_required: spec.statusRequired },
    types: { ...types, ...report.types, status_required: BOOLEAN },
  };
}

/** load-cached.sql over `sources`, leaving out the rows of `skipDays`: the objects' aggregates already tell a malformed line. */
function cachedStatement(spec: CountSpec, sources: string, aggregates: string, skipDays: readonly DayKey[]): Statement {
  const { values, types } = countParams(spec);
  return {
    sql: loadQuery('duckdb', 'load-cached', { table: spec.table, sources, aggregates }),
    values: { ...values, skip_days: listValue([...skipDays]) },
    types: { ...types, skip_days: LIST(VARCHAR) },
  };
}

/** The tier's aggregate columns: aggregates-proxy.sql or aggregates-landed.sql, of lines or of cached aggregates. */
export function aggregatesSql(spec: Pick<LoadSpec, 'tier' | 'compare'>, cached: boolean): string {
  return loadQuery('duckdb', `aggregates-${spec.tier === 'proxy' ? 'proxy' : 'landed'}${cached ? '-cached' : ''}`, {
    hashes: duckdbHashesAgg(spec.compare, cached ? 'hashes' : 'tags'),
  });
}

/** A file tier's table with no rows: what stands for a tier with nothing to read. */
export const emptyTable = (table: string): string => `CREATE OR REPLACE TABLE ${table} AS
  SELECT NULL::VARCHAR AS kind, NULL::DATE AS day, NULL::VARCHAR AS site, NULL::VARCHAR AS rid, 0::BIGINT AS n,
         0::BIGINT AS ok_lines, 0::BIGINT AS lines_413, 0::BIGINT AS lines_502, false AS unroutable,
         NULL::INTEGER AS last_reject, 0::BIGINT AS late, NULL::BIGINT AS accepted_ms, NULL::VARCHAR[] AS hashes
  WHERE false`;
