import { type DuckDBValue, LIST, listValue, utf8OfBlob, VARCHAR } from './duckdb-api.js';
import type { DayKey } from '../domain.js';
import { loadQuery } from '../queries.js';
import {
  MISMATCH_PAGE_ROWS,
  type MismatchCursor,
  mismatchCountsOf,
  mismatchPages,
  type PayloadComparing,
} from './compare.js';
import type { CompareSql } from './compare-sql.js';

/** What the embedded engine lends its compare queries: its statement runners (errors already classified). */
export interface DuckdbPort {
  run(sql: string, values?: Record<string, DuckDBValue>, types?: Record<string, never>): Promise<void>;
  rows(sql: string, values?: Record<string, DuckDBValue>): Promise<Record<string, unknown>[]>;
}

/** `compare` in the embedded engine: the tags were aggregated with each tier; these queries compare them. */
export function duckdbComparing(c: CompareSql, db: DuckdbPort, pageRows = MISMATCH_PAGE_ROWS): PayloadComparing {
  return {
    paths: c.paths,
    async compareIds(finalIsBigquery, sites) {
      await db.run(
        loadQuery('duckdb', 'compare-ids', { final_agg: finalIsBigquery ? 'agg_bigquery' : 'agg_gcs' }),
        { sites: listValue([...sites]) },
        { sites: LIST(VARCHAR) } as never,
      );
    },
    async mismatchCounts() {
      return mismatchCountsOf(await db.rows(loadQuery('duckdb', 'compare-counts')));
    },
    mismatches(day: DayKey) {
      const sql = loadQuery('duckdb', 'compare-page', { page_rows: String(pageRows) });
      const page = async (after: MismatchCursor) =>
        (
          await db.rows(sql, {
            day,
            after_no: BigInt(after?.siteNo ?? 0),
            after_site: after?.site ?? '',
            after_rid: after?.requestId ?? '',
          })
        ).map((r) => ({ ...r, request_id: utf8OfBlob(r.request_id) }));
      return mismatchPages(page, c.paths, pageRows);
    },
  };
}
