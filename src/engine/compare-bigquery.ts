import type { Query } from '@google-cloud/bigquery';
import type { ErrorContext } from '../bigquery/errors.js';
import type { TableRef } from '../bigquery/names.js';
import type { DayKey } from '../domain.js';
import { loadQuery } from '../queries.js';
import {
  MISMATCH_PAGE_ROWS,
  type MismatchCursor,
  mismatchCountsOf,
  mismatchPages,
  type PayloadComparing,
} from './compare.js';
import { bigqueryColumnTags, bigqueryHashesAgg, bigqueryPayloadTags, type CompareSql } from './compare-sql.js';

type Role = 'agg_kafka' | 'agg_bigquery' | 'content_mismatch';

/** What the bigquery engine lends its compare queries: its scratch tables and job runners. */
export interface BigqueryPort {
  /** The run's scratch table of a role. */
  table(role: Role): TableRef;
  context(op: 'engine', tier: 'bigquery'): ErrorContext;
  /** Runs a statement that creates (or replaces) `target`. */
  create(target: TableRef, query: Query, context: ErrorContext): Promise<unknown>;
  /** Runs queries/bigquery/engine/<name>.sql and reads its (small) result whole. */
  select(name: string, ids: Record<string, string>, params?: Query['params']): Promise<Record<string, unknown>[]>;
}

/** The identifiers that put the compared fields' tags into agg-bigquery.sql (column) and agg-kafka.sql (payload). */
export function bigqueryTagIds(c: CompareSql | undefined): Record<'column' | 'payload', Record<string, string>> {
  return {
    column: { tags: bigqueryColumnTags(c), hashes: bigqueryHashesAgg(c) },
    payload: { tags: bigqueryPayloadTags(c), hashes: bigqueryHashesAgg(c) },
  };
}

/** `compare` in the bigquery engine: the tags were aggregated with each tier in BigQuery; these compare them there. */
export function bigqueryComparing(c: CompareSql, bq: BigqueryPort, pageRows = MISMATCH_PAGE_ROWS): PayloadComparing {
  const mismatch = () => bq.table('content_mismatch').sql;
  return {
    paths: c.paths,
    async compareIds(_finalIsBigquery, sites) {
      const query = loadQuery('bigquery', 'engine/compare-ids', {
        target: mismatch(),
        agg_kafka: bq.table('agg_kafka').sql,
        agg_bigquery: bq.table('agg_bigquery').sql,
      });
      const statement = { query, params: { sites: [...sites] }, types: { sites: ['STRING'] } };
      await bq.create(bq.table('content_mismatch'), statement, bq.context('engine', 'bigquery'));
    },
    async mismatchCounts() {
      return mismatchCountsOf(await bq.select('compare-counts', { mismatch: mismatch() }, {}));
    },
    mismatches(day: DayKey) {
      const ids = { mismatch: mismatch(), page_rows: String(pageRows) };
      const page = (after: MismatchCursor) =>
        bq.select('compare-page', ids, {
          day,
          after_no: String(after?.siteNo ?? 0),
          after_site: after?.site ?? '',
          after_rid: after?.requestId ?? '',
        });
      return mismatchPages(page, c.paths, pageRows);
    },
  };
}
