/**
 * A history row's values as the staging SELECT reads them (history-stage.sql): each as text in a JSON
 * line, cast there to the history table's column type, from a closed set of types and templates. Pure.
 */
import { InternalError, TierError } from '../errors.js';

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A history column's type, as a new column gets it. */
export type HistoryType = 'DATE' | 'INT64' | 'FLOAT64' | 'STRING';

export interface HistoryColumn {
  name: string;
  /** The type a new column gets: the caller's, else from the row values (see HistoryWriter.writeHistory). */
  inferred: HistoryType;
}

/** The types a history column may have, which the staging SELECT fills (jsonValueAs) from a row's text. */
const FILLABLE = new Set([
  'STRING',
  'INT64',
  'INTEGER',
  'FLOAT64',
  'FLOAT',
  'NUMERIC',
  'BIGNUMERIC',
  'DATE',
  'TIMESTAMP',
]);

/** Throws the TierError that names `column` when the history table's `type` for it is not FILLABLE. */
export function fillable(type: string, column: string, table: string): void {
  if (!FILLABLE.has(type))
    throw new TierError(
      'bigquery',
      table,
      `column ${column} has type ${type}, which history rows cannot fill — use another table`,
    );
}

/** The staging SELECT's expression for column i: JSON text to the column's type (a closed set of templates). */
export function jsonValueAs(type: string, i: number): string {
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
export function encodeHistoryRow(
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
      `column ${column}: ${typeof value === 'string' ? `"${value}"` : JSON.stringify(value)} does not fit ` +
        `the history table's ${type} column — ` +
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
      fillable(type, column, table);
      throw new InternalError(`bigquery: no encoding for type ${type}`);
  }
}
