import { BigQuery, type TableField } from '@google-cloud/bigquery';
import { DAY_MS } from '../domain.js';
import { InternalError } from '../errors.js';
import { abortable } from '../errors.js';
import { quote, type TableRef } from './names.js';
import { loadFragment } from '../queries.js';

/**
 * The {{status_value}} of a proxy table's queries: its status column as an INT64 — as it is when
 * the column is one (parsing every value as text would cost as much as the rest of the query),
 * else parsed from its text (a value that is no integer becomes NULL: a malformed row).
 */
export async function statusValue(
  bq: BigQuery,
  table: TableRef,
  column: string,
  signal?: AbortSignal,
): Promise<string> {
  const [md] = await abortable(
    bq.dataset(table.dataset, { projectId: table.project }).table(table.tableId).getMetadata(),
    signal,
  );
  const fields = (md as { schema?: { fields?: TableField[] } }).schema?.fields ?? [];
  const type = fields.find((f) => f.name?.toLowerCase() === column.toLowerCase())?.type?.toUpperCase();
  // NULLIF(…, ''): the emulator's SAFE_CAST turns an empty string column value into 0, BigQuery's into NULL.
  // As a log line's status is read (queries/duckdb/parse-lines.sql): a whole number written with a point
  // or an exponent ('200.0', '2e2') is that number, one with a fraction ('200.5') is none; BIGNUMERIC holds
  // every such text exactly, where INT64's cast refuses them all and FLOAT64 would round a fraction away.
  const text = `NULLIF(TRIM(CAST(${quote(column)} AS STRING)), '')`;
  // Rounded to 18 places as the files' DECIMAL(38, 18) rounds (half away from zero), so '200.0…01' with
  // more places is 200 in both.
  const exact = `ROUND(SAFE_CAST(${text} AS BIGNUMERIC), 18)`;
  // Only a decimal number's characters: BigQuery's casts also take hex ('0xC8' is 200), which no log line's is.
  const value =
    type === 'INTEGER' || type === 'INT64'
      ? quote(column)
      : `IF(NOT REGEXP_CONTAINS(${text}, r'^[-+.0-9eE]+$'), NULL, ` +
        `IF(REGEXP_CONTAINS(${text}, r'[.eE]'), IF(${exact} = TRUNC(${exact}), SAFE_CAST(${exact} AS INT64), NULL), ` +
        `SAFE_CAST(${text} AS INT64)))`;
  // Past a 32-bit integer it is no status, as for the files and the embedded engine (an INTEGER there).
  return `IF(${value} BETWEEN -2147483648 AND 2147483647, ${value}, NULL)`;
}

/**
 * The parameters of a read of [startMs, endMs): the time range, the partition filter's dates (the
 * range's UTC dates widened by `marginDays`), and `margin_days` for each row's own check (its partition
 * within `marginDays` of its timestamp's UTC date), which makes what a day counts independent of the
 * other days read with it. `printable` for --dry-run.
 */
export function rangeParams(
  startMs: number,
  endMs: number,
  marginDays: number,
): { params: Record<string, unknown>; types: Record<string, string>; printable: Record<string, string> } {
  if (!Number.isSafeInteger(startMs) || !Number.isSafeInteger(endMs) || startMs >= endMs) {
    throw new InternalError(`bigquery: invalid range [${startMs}, ${endMs})`);
  }
  const margin = marginDays * DAY_MS;
  const start = new Date(startMs).toISOString();
  const end = new Date(endMs).toISOString();
  // endMs is exclusive: a window ending at midnight UTC touches no row of the next date.
  const fromDate = new Date(startMs - margin).toISOString().slice(0, 10);
  const toDate = new Date(endMs - 1 + margin).toISOString().slice(0, 10);
  return {
    // DATE and TIMESTAMP values must be wrapped: the client sends no value for a plain string of those types.
    params: {
      start: BigQuery.timestamp(start),
      end: BigQuery.timestamp(end),
      from_date: BigQuery.date(fromDate),
      to_date: BigQuery.date(toDate),
      margin_days: BigQuery.int(marginDays),
    },
    types: { start: 'TIMESTAMP', end: 'TIMESTAMP', from_date: 'DATE', to_date: 'DATE', margin_days: 'INT64' },
    printable: { start, end, from_date: fromDate, to_date: toDate, margin_days: String(marginDays) },
  };
}

/**
 * The `rows_window` and `placed_day` identifiers of a table's row query (queries/bigquery/rows-window.sql and
 * placed-day.sql: one text for the tier's queries and the engine's), from the table's validated `ts` and
 * `partition` identifiers; `days`: the parameter naming the read's report days.
 */
export function tableRowsWindow(
  identifiers: Readonly<Record<string, string>>,
  days: '@untimed_days' | '@days',
): { rows_window: string; placed_day: string } {
  const ids = { ts: identifiers.ts!, partition: identifiers.partition!, days };
  return {
    rows_window: loadFragment('bigquery', 'rows-window', ids),
    placed_day: loadFragment('bigquery', 'placed-day', ids),
  };
}
