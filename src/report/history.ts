import type { DaySummary } from '../domain.js';
import { PARITY_HEADER, regionColumn } from './columns.js';
import type { RunMetadata } from './manifest.js';

/**
 * The rows a run adds to the BigQuery history table: every parity row of every day, keyed by the
 * report's column names, with the run's metadata. Pure.
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
      as_of: run.asOf,
      version: run.version,
      config_hash: run.configHash,
    })),
  );
}
