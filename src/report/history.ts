import type { DaySummary } from '../domain.js';
import { CONTENT_MISMATCH_COLUMN, PARITY_HEADER, regionColumn } from './columns.js';
import type { RunMetadata } from './manifest.js';

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
      ...Object.fromEntries(regions.map((g) => [regionColumn(g), r.regions?.[g] ?? null])),
      // Only from a run that compares (`compare`): a run that does not adds no such column to the table.
      ...(r.content_mismatch !== undefined ? { [CONTENT_MISMATCH_COLUMN]: r.content_mismatch } : {}),
      as_of: run.asOf,
      version: run.version,
      config_hash: run.configHash,
    })),
  );
}
