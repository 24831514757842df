import type { StreamedRow } from '../engine/duckdb-engine.js';

/**
 * The BigQuery tier as the job sees it: the landed table's rows of a time range, handed over in
 * batches (one row per timestamp, request id and site, with its count) as the query's pages arrive.
 */
export interface BigqueryRangeReader {
  readRange(startMs: number, endMs: number, onBatch: (rows: StreamedRow[]) => Promise<void>, signal?: AbortSignal): Promise<{ bytesProcessed: number | null; rows: number }>;
}
