// The parity columns and row type live in the domain (attribution and the demo use them too); the
// renderers keep importing them from here.
export { PARITY_COLUMNS, PARITY_HEADER, type ParityColumn, type ParityRow, regionColumn } from '../domain.js';

/** The parity columns that hold text (parity_pct's four decimals included); every other one is a whole number. */
export const PARITY_TEXT_COLUMNS: ReadonlySet<string> = new Set([
  'date',
  'site',
  'status',
  'parity_pct',
  'error',
  'status_reason',
  'volume_drop',
]);

export const MISSING_HEADER = ['date', 'site', 'request_id', 'last_tier', 'cause', 'accepted_at'] as const;

/** mismatch-DAY.csv: `fields` names the differing compared fields, `;`-joined in config order. */
export const MISMATCH_HEADER = ['date', 'site', 'request_id', 'fields'] as const;

/** After every other parity column, the kafka_<region> ones included: compare's count (empty when off). */
export const CONTENT_MISMATCH_COLUMN = 'content_mismatch';

export const WINDOWS_HEADER = [
  'date',
  'site',
  'window_start',
  'accepted',
  'landed',
  'missing',
  'leading_cause',
] as const;
