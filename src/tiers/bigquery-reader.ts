import type { StreamedRow } from '../engine/engine.js';
import type { BigqueryTableSpec } from './bigquery.js';

/**
 * A BigQuery table tier as the job sees it: the table's rows of a time range, handed over in
 * batches (one row per timestamp, request id and site — and status, for a proxy table — with its
 * count) as the query's pages arrive. `spec` names the table for the bigquery engine, which
 * aggregates it in place instead of reading its rows.
 */
export interface BigqueryRangeReader {
  readonly spec?: BigqueryTableSpec;
  readRange(
    startMs: number,
    endMs: number,
    onBatch: (rows: StreamedRow[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<{ bytesProcessed: number | null; rows: number }>;
}
