import type { BigQuery, Query } from '@google-cloud/bigquery';
import { createBigqueryClient } from '../bigquery/client.js';
import { type ErrorContext, toTierError } from '../bigquery/errors.js';
import { BIGQUERY_PAGE_ROWS, bytesOf, JobRunner, QUERY_DEADLINE_MS } from '../bigquery/jobs.js';
import { assertColumnNames, parseTable, tableIdentifiers } from '../bigquery/names.js';
import { rangeParams, statusValue, tableRowsWindow } from '../bigquery/table-query.js';
import type { BigqueryTableSpec, StreamedRow } from '../domain.js';
import { ConfigError, TierError, throwIfAborted } from '../errors.js';
import { loadQuery } from '../queries.js';
import { bigqueryPayloadJson, compareSqlOf } from '../engine/compare-sql.js';

export interface BigqueryTierOptions {
  /** The table, `project.dataset.table`: the landed records, or (kind proxy) the proxy's access log. */
  table: string;
  /** landed (default): the final tier's records; proxy: access-log rows, with a status column. */
  kind?: 'landed' | 'proxy';
  /** Column names; `partition` is a DATE column (the table's partitioning column); `status` for kind proxy. */
  columns: BigqueryTableSpec['columns'];
  /** The project that runs the jobs (default: the table's), where, and (a client of its own only) the endpoint. */
  projectId?: string;
  location?: string;
  apiEndpoint?: string;
  /** A query that would bill more bytes than this (a decimal string) fails instead of running. */
  maximumBytesBilled: string;
  /** Days before/after the window's UTC dates that the partition filter admits (late/early partitioning). */
  partitionMarginDays: number;
  /** Result rows per page, i.e. per onBatch call at most. Default {@link BIGQUERY_PAGE_ROWS}. */
  pageSize?: number;
  /** Default {@link QUERY_DEADLINE_MS}: a job still running then is cancelled and the read fails (retriable). */
  queryDeadlineMs?: number;
  /** kind landed: the compared fields (`compare`), handed over as each row's `payload` for the engine to hash. */
  compare?: readonly string[];
}

/** bytesProcessed: the job's totalBytesProcessed, or null; rows: result rows handed to onBatch, not table rows. */
export interface BigqueryReadResult {
  bytesProcessed: number | null;
  rows: number;
}

export interface BigqueryTier {
  readonly spec: BigqueryTableSpec;
  /**
   * Streams, for [startMs, endMs), rows `{ region: null, timestampMs, requestId, siteHeader, inFlight: false, n }`,
   * one per (timestamp, request_id, site) with n = COUNT(*) (kind proxy: per status too, in `status`), a page
   * at a time to onBatch (awaited before the next page is fetched); and the rows without a timestamp of the
   * partitions dated on `untimedDays`, with `timestampMs: null` and the partition's date as `untimedDay`.
   * Throws TierError (naming the table), or AbortedError when the signal fires (a running job is cancelled).
   */
  readRange(
    startMs: number,
    endMs: number,
    /** The report days whose partitions' rows without a timestamp are read too (`untimedDay`). */
    untimedDays: readonly string[],
    onBatch: (rows: StreamedRow[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<BigqueryReadResult>;
  /**
   * The exact SQL and parameters readRange would run, with the bytes a dry run estimates. `params`
   * is printable: timestamps as ISO-8601 UTC strings, dates as YYYY-MM-DD.
   */
  dryRun(
    startMs: number,
    endMs: number,
    untimedDays: readonly string[],
  ): Promise<{ sql: string; params: Record<string, unknown>; bytes: number }>;
}

/**
 * Builds the BigQuery tier on the run's `client` (see BigqueryClients); without one, a client of
 * its own is made from the options (tests, one-off use).
 */
export function createBigqueryTier(options: BigqueryTierOptions, client?: BigQuery): BigqueryTier {
  const kind = options.kind ?? 'landed';
  const key = kind === 'proxy' ? 'tiers.proxy.bigquery' : 'tiers.bigquery';
  const landed = parseTable(options.table, `${key}.table`);
  validate(options, key);
  const pageSize = options.pageSize ?? BIGQUERY_PAGE_ROWS;
  const deadlineMs = options.queryDeadlineMs ?? QUERY_DEADLINE_MS;
  const jobProject = options.projectId ?? landed.project;
  const bq =
    client ??
    createBigqueryClient({
      projectId: jobProject,
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(options.location ? { location: options.location } : {}),
    });
  let sql: string | undefined;
  /** The query, once: a proxy table's depends on its status column's type. */
  const querySql = async (signal?: AbortSignal): Promise<string> => {
    if (sql === undefined) {
      const identifiers = tableIdentifiers(landed, options.columns);
      if (kind === 'proxy') identifiers.status_value = await statusValue(bq, landed, options.columns.status!, signal);
      const cmp = kind === 'landed' ? compareSqlOf(options.compare) : undefined;
      identifiers.payload = cmp ? `\n  ${bigqueryPayloadJson(cmp)} AS payload,` : '';
      identifiers.payload_group = cmp ? ', 5' : '';
      Object.assign(identifiers, tableRowsWindow(identifiers, '@untimed_days'));
      sql = loadQuery('bigquery', kind === 'proxy' ? 'proxy-rows' : 'landed-rows', identifiers);
    }
    return sql;
  };
  const readContext: ErrorContext = {
    op: 'read',
    tier: kind === 'proxy' ? 'proxy' : 'bigquery',
    key,
    object: landed.name,
    table: landed.name,
    jobProject,
    maximumBytesBilled: options.maximumBytesBilled,
  };
  const jobs = new JobRunner(bq, options, deadlineMs);

  async function plan(startMs: number, endMs: number, untimedDays: readonly string[], signal?: AbortSignal) {
    const range = rangeParams(startMs, endMs, options.partitionMarginDays);
    const query: Query = {
      query: await querySql(signal),
      params: { ...range.params, untimed_days: [...untimedDays] },
      types: { ...range.types, untimed_days: ['STRING'] },
    };
    return { query, printable: { ...range.printable, untimed_days: [...untimedDays] } };
  }

  return {
    spec: {
      kind,
      table: landed.name,
      columns: { ...options.columns },
      partitionMarginDays: options.partitionMarginDays,
    },
    async readRange(startMs, endMs, untimedDays, onBatch, signal) {
      rangeParams(startMs, endMs, options.partitionMarginDays); // a bad range is our bug, not BigQuery's
      throwIfAborted(signal);
      const deadline = Date.now() + deadlineMs;
      try {
        const { query } = await plan(startMs, endMs, untimedDays, signal);
        const { metadata, pages } = await jobs.runPaged(query, readContext, pageSize, signal, deadline);
        let rows = 0;
        for await (const page of pages) {
          const batch = page.map((r) => toStreamedRow(r, landed.name));
          try {
            await onBatch(batch);
          } catch (e) {
            throw new ConsumerError(e);
          }
          rows += batch.length;
        }
        throwIfAborted(signal);
        return { bytesProcessed: bytesOf(metadata), rows };
      } catch (e) {
        // The consumer's own failure (the engine's, say) is not BigQuery's: rethrown as it was.
        if (e instanceof ConsumerError) throw e.error;
        throw toTierError(e, readContext);
      }
    },

    async dryRun(startMs, endMs, untimedDays) {
      rangeParams(startMs, endMs, options.partitionMarginDays);
      try {
        const { query, printable } = await plan(startMs, endMs, untimedDays);
        return { ...(await jobs.dryRun(query)), params: printable };
      } catch (e) {
        throw toTierError(e, readContext);
      }
    },
  };
}

function validate(options: BigqueryTierOptions, key: string): void {
  assertColumnNames(options.columns, `${key}.columns`);
  if ((options.kind ?? 'landed') === 'proxy' && !options.columns.status)
    throw new ConfigError(`${key}.columns.status`, 'a proxy table needs its status column');
  if (!/^\d+$/.test(options.maximumBytesBilled)) {
    throw new ConfigError(
      `${key}.maximumBytesBilled`,
      `"${options.maximumBytesBilled}" is not a whole number of bytes`,
    );
  }
  if (!Number.isInteger(options.partitionMarginDays) || options.partitionMarginDays < 0) {
    throw new ConfigError(
      `${key}.partitionMarginDays`,
      `${options.partitionMarginDays} is not a whole number of days >= 0`,
    );
  }
}

/** Carries an error thrown by onBatch past the classification of BigQuery errors. */
class ConsumerError {
  constructor(readonly error: unknown) {}
}

function toStreamedRow(r: Record<string, unknown>, table: string): StreamedRow {
  const { ts_ms: ts, request_id: requestId, site, n, status, payload, untimed_day: untimedDay } = r;
  if (
    !(typeof ts === 'number' || (ts === null && typeof untimedDay === 'string')) ||
    typeof n !== 'number' ||
    (requestId !== null && typeof requestId !== 'string') ||
    (site !== null && typeof site !== 'string') ||
    (status !== undefined && status !== null && typeof status !== 'number') ||
    (payload !== undefined && payload !== null && typeof payload !== 'string') ||
    (untimedDay !== undefined && untimedDay !== null && typeof untimedDay !== 'string')
  ) {
    throw new TierError(
      'bigquery',
      table,
      `unexpected result row ${JSON.stringify(r)}: expected ts_ms a number (or null with an untimed_day), ` +
        'n a number, request_id and site strings or null, status a number or null',
    );
  }
  return {
    region: null,
    timestampMs: ts,
    requestId,
    siteHeader: site,
    inFlight: false,
    n,
    ...(status !== undefined ? { status } : {}),
    ...(typeof payload === 'string' ? { payload } : {}),
    // Without a timestamp: malformed on its partition's date; with one, partitioned beyond the margin: out of
    // window there.
    ...(typeof untimedDay === 'string' ? { untimedDay } : {}),
  };
}
