import { type DaySummary, KAFKA_EXPIRED_COLUMN } from '../domain.js';
import { CONTENT_MISMATCH_COLUMN, PARITY_HEADER, PARITY_TEXT_COLUMNS, regionColumn } from './columns.js';
import type { HistoryType } from './history-values.js';
import type { RunMetadata } from './manifest.js';

// The clusters whose retention no longer held the day, comma-separated: their kafka_<region> is NULL.
export { KAFKA_EXPIRED_COLUMN };

/**
 * The history columns' types, from what each column is rather than from the first rows written: a count
 * that was NULL on the first day ever written (a tier not yet configured, or unread that day) was made
 * STRING for good, and an EXPIRED cluster's text in an INT64 column failed every later write. Pure.
 */
export function historyTypes(regions: readonly string[]): Record<string, HistoryType> {
  return {
    ...Object.fromEntries(
      PARITY_HEADER.map((c) => [c, c === 'date' ? 'DATE' : PARITY_TEXT_COLUMNS.has(c) ? 'STRING' : 'INT64']),
    ),
    ...Object.fromEntries(regions.map((g) => [regionColumn(g), 'INT64'])),
    [KAFKA_EXPIRED_COLUMN]: 'STRING',
    [CONTENT_MISMATCH_COLUMN]: 'INT64',
    as_of: 'STRING',
    version: 'STRING',
    config_hash: 'STRING',
  };
}

/**
 * The rows a run adds to the BigQuery history table: every parity row of every day, keyed by the
 * report's column names (content_mismatch with `compare` only), with the run's metadata. Pure.
 */
export function historyRows(
  days: readonly Pick<DaySummary, 'rows'>[],
  run: RunMetadata,
  regions: readonly string[],
): Record<string, string | number | null>[] {
  return days.flatMap((d) =>
    d.rows.map((r) => ({
      ...Object.fromEntries(PARITY_HEADER.map((c) => [c, r[c]])),
      // A count, or NULL: an EXPIRED cluster is named in kafka_expired instead.
      ...Object.fromEntries(
        regions.map((g) => [regionColumn(g), typeof r.regions?.[g] === 'number' ? r.regions[g] : null]),
      ),
      ...(regions.length > 0
        ? { [KAFKA_EXPIRED_COLUMN]: regions.filter((g) => r.regions?.[g] === 'EXPIRED').join(',') || null }
        : {}),
      // Only from a run that compares (`compare`): a run that does not adds no such column to the table.
      ...(r.content_mismatch !== undefined ? { [CONTENT_MISMATCH_COLUMN]: r.content_mismatch } : {}),
      as_of: run.asOf,
      version: run.version,
      config_hash: run.configHash,
    })),
  );
}
