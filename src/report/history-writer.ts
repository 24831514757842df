import { randomUUID } from 'node:crypto';
import type { BigQuery, Dataset, TableField } from '@google-cloud/bigquery';
import { createBigqueryClient } from '../bigquery/client.js';
import { type ErrorContext, isConflict, isNotFound, toTierError } from '../bigquery/errors.js';
import { abortable, JobRunner, QUERY_DEADLINE_MS } from '../bigquery/jobs.js';
import { BQ_COLUMN, parseTable, quote, type TableRef } from '../bigquery/names.js';
import { InternalError, TierError, throwIfAborted } from '../errors.js';
import { loadQuery } from '../queries.js';

/** History rows per staging INSERT: keeps each request far below BigQuery's 10 MB request limit. */
const HISTORY_ROWS_PER_INSERT = 500;
/** A staging table left behind by a crash expires by itself after this long. */
const STAGE_TABLE_LIFETIME_MS = 6 * 60 * 60 * 1000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const HISTORY_KEY = 'tiers.bigquery.history';

export interface HistoryWriterOptions {
  /** The project that runs (and pays for) the jobs. Default: the history table's project. */
  projectId?: string;
  location?: string;
  /** Only without a client: an emulator (`http://…`) or a private endpoint. */
  apiEndpoint?: string;
  /** A statement that would bill more bytes than this (a decimal string) fails instead of running. */
  maximumBytesBilled: string;
  /** Default {@link QUERY_DEADLINE_MS}. */
  queryDeadlineMs?: number;
}

export interface HistoryWriter {
  /**
   * Replaces the history rows of every `date` present in `rows` with `rows`, in one MERGE: re-running
   * a day leaves one set of rows for it, other days are kept. Every row needs `date` (YYYY-MM-DD).
   * The table (DAY-partitioned on `date`) is created when missing, its dataset is not. Column types:
   * `date` DATE; a column `types` names, that type; any other column whose values are all numbers INT64
   * (all integers) or FLOAT64, else STRING, including one that is all NULL so far (a number later
   * written to it is stored as its decimal text). A column the table lacks is added (NULLABLE); an
   * existing column keeps its type. The rows of a date the table holds newer rows of (a later `as_of`)
   * are not written: returns those dates.
   */
  writeHistory(
    historyTable: string,
    rows: Record<string, string | number | null>[],
    signal?: AbortSignal,
    types?: Readonly<Record<string, HistoryType>>,
  ): Promise<string[]>;
}

/**
 * The BigQuery history table's writer (tiers.bigquery.history), on the run's `client`; without one,
 * a client of its own is made on the first write (its job project: projectId, else the table's).
 */
export function createHistoryWriter(options: HistoryWriterOptions, client?: BigQuery): HistoryWriter {
  const deadlineMs = options.queryDeadlineMs ?? QUERY_DEADLINE_MS;
  let bq = client;
  let jobs: JobRunner | undefined;
  return {
    async writeHistory(historyTable, given, signal, columnTypes = {}) {
      let rows = given;
      const target = parseTable(historyTable, `${HISTORY_KEY}.table`);
      const jobProject = options.projectId ?? target.project;
      const context: ErrorContext = {
        op: 'history',
        tier: 'bigquery',
        key: HISTORY_KEY,
        object: target.name,
        table: target.name,
        jobProject,
        maximumBytesBilled: options.maximumBytesBilled,
      };
      if (rows.length === 0) return [];
      const columns = historyColumns(rows, target.name, columnTypes);
      throwIfAborted(signal);
      bq ??= createBigqueryClient({
        projectId: jobProject,
        ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
        ...(options.location ? { location: options.location } : {}),
      });
      jobs ??= new JobRunner(bq, options, deadlineMs);
      const dataset = bq.dataset(target.dataset, { projectId: target.project });
      let stage: TableRef | undefined;
      let refused: string[] = [];
      try {
        const types = await ensureHistoryTable(dataset, target, columns, signal);
        // Rows older than the table's of their date (as_of) are not written: a run that finishes later with
        // older rows (a backfill begun before the morning's daily, which restated a day) must not put them
        // back over newer ones. Checked before staging: the emulator takes no join of the two tables.
        if (types.has('as_of')) {
          const newest = await newestAsOf(jobs, target, rows, context, deadlineMs, signal);
          const older = (r: (typeof rows)[number]) => String(r.as_of ?? '') < (newest.get(String(r.date)) ?? '');
          refused = [...new Set(rows.filter(older).map((r) => String(r.date)))].sort();
          rows = rows.filter((r) => !older(r));
          if (rows.length === 0) return refused;
        }
        stage = await createStageTable(dataset, target, columns, types, signal);
        const stageColumns = columns.map((c) => quote(c.name)).join(', ');
        const insert = loadQuery('bigquery', 'history-stage', {
          stage: stage.sql,
          columns: stageColumns,
          values: columns.map((c, i) => jsonValueAs(types.get(c.name)!, i)).join(', '),
        });
        for (let i = 0; i < rows.length; i += HISTORY_ROWS_PER_INSERT) {
          const lines = rows
            .slice(i, i + HISTORY_ROWS_PER_INSERT)
            .map((row) => encodeHistoryRow(row, columns, types, target.name));
          await jobs.run(
            { query: insert, params: { rows: lines }, types: { rows: ['STRING'] } },
            context,
            Date.now() + deadlineMs,
            signal,
          );
        }
        const merge = loadQuery('bigquery', 'history-merge', {
          history: target.sql,
          stage: stage.sql,
          columns: stageColumns,
          source_columns: columns.map((c) => `s.${quote(c.name)}`).join(', '),
        });
        await jobs.run({ query: merge }, context, Date.now() + deadlineMs, signal);
        return refused;
      } catch (e) {
        throw toTierError(e, context);
      } finally {
        // Best effort: the table expires by itself when this fails.
        if (stage)
          await dataset
            .table(stage.tableId)
            .delete()
            .catch(() => undefined);
      }
    },
  };
}

/** The newest `as_of` the history holds for each date of `rows` (dates it holds none of are absent). */
async function newestAsOf(
  jobs: JobRunner,
  target: TableRef,
  rows: readonly Record<string, string | number | null>[],
  context: ErrorContext,
  deadlineMs: number,
  signal: AbortSignal | undefined,
): Promise<Map<string, string>> {
  const days = [...new Set(rows.map((r) => String(r.date)))];
  const query = loadQuery('bigquery', 'history-newest', { history: target.sql });
  const { pages } = await jobs.runPaged(
    { query, params: { days }, types: { days: ['STRING'] } },
    context,
    1000,
    signal,
    Date.now() + deadlineMs,
  );
  const newest = new Map<string, string>();
  for await (const page of pages) for (const r of page) newest.set(String(r.day), String(r.newest));
  return newest;
}

/** A history column's type, as a new column gets it. */
export type HistoryType = 'DATE' | 'INT64' | 'FLOAT64' | 'STRING';

interface HistoryColumn {
  name: string;
  /** The type a new column gets: the caller's, else from the row values (see HistoryWriter.writeHistory). */
  inferred: HistoryType;
}

function historyColumns(
  rows: readonly Record<string, string | number | null>[],
  table: string,
  types: Readonly<Record<string, HistoryType>>,
): HistoryColumn[] {
  const seen = new Map<string, { numbers: number; integers: number; others: number }>();
  for (const row of rows) {
    const date = row.date;
    if (typeof date !== 'string' || !ISO_DATE.test(date)) {
      throw new TierError(
        'bigquery',
        table,
        `history row without a YYYY-MM-DD date: ${JSON.stringify(row).slice(0, 200)}`,
      );
    }
    for (const [name, value] of Object.entries(row)) {
      let s = seen.get(name);
      if (!s) {
        if (!BQ_COLUMN.test(name))
          throw new TierError(
            'bigquery',
            table,
            `"${name}" is not a BigQuery column name: rename it (letters, digits and _, not starting with a digit)`,
          );
        s = { numbers: 0, integers: 0, others: 0 };
        seen.set(name, s);
      }
      if (typeof value === 'number') {
        s.numbers++;
        if (Number.isSafeInteger(value)) s.integers++;
      } else if (value !== null && value !== undefined) {
        s.others++;
      }
    }
  }
  return [...seen].map(([name, s]) => ({
    name,
    inferred:
      name === 'date'
        ? 'DATE'
        : Object.hasOwn(types, name)
          ? types[name]!
          : s.others === 0 && s.numbers > 0
            ? s.integers === s.numbers
              ? 'INT64'
              : 'FLOAT64'
            : 'STRING',
  }));
}

/** The history table's column types (existing columns keep theirs), once the table or its missing columns are made. */
async function ensureHistoryTable(
  dataset: Dataset,
  target: TableRef,
  columns: readonly HistoryColumn[],
  signal: AbortSignal | undefined,
): Promise<Map<string, string>> {
  const table = dataset.table(target.tableId);
  let fields: TableField[] | undefined;
  try {
    const [md] = await abortable(table.getMetadata(), signal);
    fields = (md as { schema?: { fields?: TableField[] } }).schema?.fields ?? [];
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  if (fields === undefined) {
    fields = columns.map((c) => ({ name: c.name, type: c.inferred, mode: 'NULLABLE' }));
    try {
      await abortable(
        dataset.createTable(target.tableId, {
          schema: { fields },
          timePartitioning: { type: 'DAY', field: 'date' },
          description: "audit-parity: one row per day × site and run; a re-run of a day replaces that day's rows",
        }),
        signal,
      );
    } catch (e) {
      if (!isConflict(e)) throw e;
      // Created meanwhile by another run: use its schema.
      return ensureHistoryTable(dataset, target, columns, signal);
    }
  }
  const types = new Map(fields.map((f) => [f.name ?? '', (f.type ?? 'STRING').toUpperCase()]));
  if (types.get('date') !== 'DATE') {
    throw new TierError(
      'bigquery',
      target.name,
      `the history table's date column is ${types.get('date') ?? 'missing'}, not DATE: use another table`,
    );
  }
  const added = columns
    .filter((c) => !types.has(c.name))
    .map((c): TableField => ({ name: c.name, type: c.inferred, mode: 'NULLABLE' }));
  if (added.length > 0) {
    await abortable(table.setMetadata({ schema: { fields: [...fields, ...added] } }), signal);
    for (const f of added) types.set(f.name!, f.type!);
  }
  return types;
}

async function createStageTable(
  dataset: Dataset,
  target: TableRef,
  columns: readonly HistoryColumn[],
  types: ReadonlyMap<string, string>,
  signal: AbortSignal | undefined,
): Promise<TableRef> {
  const tableId = `${target.tableId}__stage_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await abortable(
    dataset.createTable(tableId, {
      schema: { fields: columns.map((c) => ({ name: c.name, type: types.get(c.name)!, mode: 'NULLABLE' })) },
      expirationTime: String(Date.now() + STAGE_TABLE_LIFETIME_MS),
    }),
    signal,
  );
  return parseTable(`${target.project}.${target.dataset}.${tableId}`, `${HISTORY_KEY}.table`);
}

/** The staging SELECT's expression for column i: JSON text to the column's type (a closed set of templates). */
function jsonValueAs(type: string, i: number): string {
  const value = `JSON_VALUE(r, '$.c${i}')`;
  switch (type) {
    case 'STRING':
      return value;
    case 'INT64':
    case 'INTEGER':
      return `CAST(${value} AS INT64)`;
    case 'FLOAT64':
    case 'FLOAT':
      return `CAST(${value} AS FLOAT64)`;
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return `CAST(${value} AS ${type})`;
    case 'DATE':
      return `CAST(${value} AS DATE)`;
    case 'TIMESTAMP':
      // TIMESTAMP(text), not CAST: the emulator reads a CAST zone-less text as Los Angeles time.
      return `TIMESTAMP(${value})`;
    default:
      throw new InternalError(`bigquery: no staging expression for type ${type}`);
  }
}

/** One history row as the JSON line history-stage.sql reads: values as text under c0, c1, … in column order. */
function encodeHistoryRow(
  row: Record<string, string | number | null>,
  columns: readonly HistoryColumn[],
  types: ReadonlyMap<string, string>,
  table: string,
): string {
  const out: Record<string, string | null> = {};
  columns.forEach((c, i) => {
    out[`c${i}`] = encodeValue(row[c.name] ?? null, types.get(c.name)!, c.name, table);
  });
  return JSON.stringify(out);
}

function encodeValue(value: string | number | null, type: string, column: string, table: string): string | null {
  if (value === null) return null;
  const misfit = (): TierError =>
    new TierError(
      'bigquery',
      table,
      `column ${column}: ${JSON.stringify(value)} does not fit the history table's ${type} column — ` +
        "change the column's type or use another table",
    );
  /** A number that passes `fits`, or its text matching `text`; '' is NULL. */
  const numeric = (fits: (n: number) => boolean, text: RegExp): string | null => {
    if (typeof value === 'number') {
      if (!fits(value)) throw misfit();
      return String(value);
    }
    if (value === '') return null;
    if (!text.test(value)) throw misfit();
    return value;
  };
  switch (type) {
    case 'STRING':
      return String(value);
    case 'INT64':
    case 'INTEGER':
      return numeric(Number.isSafeInteger, INTEGER_TEXT);
    case 'FLOAT64':
    case 'FLOAT':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return numeric(Number.isFinite, DECIMAL_TEXT);
    case 'DATE':
      if (typeof value !== 'string' || !ISO_DATE.test(value)) throw misfit();
      return value;
    case 'TIMESTAMP':
      if (typeof value === 'number') return new Date(value).toISOString();
      if (Number.isNaN(Date.parse(value))) throw misfit();
      return value;
    default:
      throw new TierError(
        'bigquery',
        table,
        `column ${column} has type ${type}, which history rows cannot fill — use another table`,
      );
  }
}
