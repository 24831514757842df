import { randomUUID } from 'node:crypto';
import type { BigQuery, Dataset, TableField } from '@google-cloud/bigquery';
import { createBigqueryClient } from '../bigquery/client.js';
import { type ErrorContext, isConflict, isNotFound, toTierError } from '../bigquery/errors.js';
import { JobRunner, QUERY_DEADLINE_MS } from '../bigquery/jobs.js';
import { BQ_COLUMN, parseTable, quote, type TableRef } from '../bigquery/names.js';
import { abortable, TierError, throwIfAborted } from '../errors.js';
import { loadQuery } from '../queries.js';
import {
  encodeHistoryRow,
  fillable,
  type HistoryColumn,
  type HistoryType,
  ISO_DATE,
  jsonValueAs,
} from './history-values.js';

/** History rows per staging INSERT: keeps each request far below BigQuery's 10 MB request limit. */
const HISTORY_ROWS_PER_INSERT = 500;
/** A staging table left behind by a crash expires by itself after this long. */
const STAGE_TABLE_LIFETIME_MS = 6 * 60 * 60 * 1000;
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
        // Every column's type checked before anything is staged: one the rows cannot fill names itself.
        for (const c of columns) fillable(types.get(c.name)!, c.name, target.name);
        // Rows older than the table's of their date (as_of) are not written: a run that finishes later with
        // older rows (a backfill begun before the morning's daily, which restated a day) must not put them
        // back over newer ones. Checked before staging: the emulator takes no join of the two tables.
        if (types.has('as_of')) {
          const newest = await newestAsOf(jobs, target, rows, context, deadlineMs, signal);
          const older = (r: (typeof rows)[number]) =>
            Date.parse(String(r.as_of ?? '')) < (newest.get(String(r.date)) ?? NaN);
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
): Promise<Map<string, number>> {
  const days = [...new Set(rows.map((r) => String(r.date)))];
  const query = loadQuery('bigquery', 'history-newest', { history: target.sql });
  const { pages } = await jobs.runPaged(
    { query, params: { days }, types: { days: ['STRING'] } },
    context,
    1000,
    signal,
    Date.now() + deadlineMs,
  );
  const newest = new Map<string, number>();
  for await (const page of pages)
    for (const r of page) {
      const ms = timeOf(r.newest);
      if (ms !== null) newest.set(String(r.day), ms);
    }
  return newest;
}

/**
 * An `as_of` as the client gives it, in epoch ms: ISO text from a STRING column, a BigQueryTimestamp
 * ({ value }) from a TIMESTAMP one; null for NULL (rows without one: no run of ours is newer) or anything
 * else. Compared as times, not as text: "null" and "[object Object]" sorted after every ISO time and
 * refused the day for good.
 */
function timeOf(v: unknown): number | null {
  const text = typeof v === 'string' ? v : (v as { value?: unknown } | null)?.value;
  const ms = typeof text === 'string' ? Date.parse(text) : NaN;
  return Number.isNaN(ms) ? null : ms;
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
  // A table of other data (the audited table named by mistake) is never changed: every history table of
  // the job has as_of or parity_pct; a table of nothing but `date` is one made ready for it by hand.
  if (!types.has('as_of') && !types.has('parity_pct') && fields.some((f) => f.name !== 'date')) {
    const some = fields
      .slice(0, 4)
      .map((f) => f.name)
      .join(', ');
    throw new TierError(
      'bigquery',
      target.name,
      `is not a history table: it has columns (${some}${fields.length > 4 ? ', …' : ''}) but neither as_of nor ` +
        `parity_pct, which a history table has — name a table of its own in ${HISTORY_KEY}.table`,
    );
  }
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
