// The parity columns and row type live in the domain (attribution and the demo use them too); the
// renderers keep importing them from here.
export { PARITY_COLUMNS, PARITY_HEADER, type ParityColumn, type ParityRow } from '../domain.js';

/** The column of one Kafka cluster's message count: `kafka_eus2`. */
export function regionColumn(region: string): string {
  return `kafka_${region.toLowerCase()}`;
}

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
