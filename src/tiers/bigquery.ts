import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BigQuery,
  type Dataset,
  type Job,
  type JobMetadata,
  type Query,
  type TableField,
} from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import type { BigqueryTableSpec, StreamedRow } from '../domain.js';
import { loadQuery } from '../queries.js';
import { AbortedError, ConfigError, InternalError, TierError, throwIfAborted } from '../errors.js';

/** Result rows asked for per page: a page is about 100 bytes a row, well under the API's 10 MB response limit. */
export const BIGQUERY_PAGE_ROWS = 50_000;
/** How long one query job may take, from insert to its last page; also sent as the job's own jobTimeoutMs. */
export const QUERY_DEADLINE_MS = 30 * 60 * 1000;
/** Job status polling: first wait, doubled up to the longest. */
const POLL_FIRST_MS = 200;
const POLL_MAX_MS = 5_000;
/** How long a cancel request is waited for before giving up on it (the job's jobTimeoutMs still ends it). */
const CANCEL_WAIT_MS = 10_000;
/** History rows per staging INSERT: keeps each request far below BigQuery's 10 MB request limit. */
const HISTORY_ROWS_PER_INSERT = 500;
/** A staging table left behind by a crash expires by itself after this long. */
const STAGE_TABLE_LIFETIME_MS = 6 * 60 * 60 * 1000;
/** Labels on every job, so billing exports can attribute the bytes. */
const JOB_LABELS = { tool: 'audit-parity' };
/** The static bearer sent to a plain-http endpoint (an emulator): never a real credential over cleartext. */
const EMULATOR_ACCESS_TOKEN = 'bq-emulator';
const DAY_MS = 24 * 60 * 60 * 1000;

/** project.dataset.table, each part BigQuery's own pattern (the same as the config's): they become backquoted identifiers. */
const BQ_TABLE = /^([a-z][a-z0-9-]{4,61}[a-z0-9])\.([A-Za-z0-9_]{1,1024})\.([A-Za-z0-9_-]{1,1024})$/;
const BQ_COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export interface BigqueryTierOptions {
  /** The table, `project.dataset.table`: the landed records, or (kind proxy) the proxy's access log. */
  table: string;
  /** landed (default): the final tier's records; proxy: access-log rows, with a status column. */
  kind?: 'landed' | 'proxy';
  /** Column names in that table; `partition` is a DATE column (the table's partitioning column); `status` for kind proxy. */
  columns: { timestamp: string; request_id: string; site: string; partition: string; status?: string };
  /** The project that runs (and pays for) the queries. Default: the table's project. */
  projectId?: string;
  location?: string;
  /** An emulator (`http://…`: no credentials are looked up) or a private endpoint (`https://…`). */
  apiEndpoint?: string;
  /** A query that would bill more bytes than this (a decimal string) fails instead of running. */
  maximumBytesBilled: string;
  /** Days before/after the window's UTC dates that the partition filter admits (late/early partitioning). */
  partitionMarginDays: number;
  /** Result rows per page, i.e. per onBatch call at most. Default {@link BIGQUERY_PAGE_ROWS}. */
  pageSize?: number;
  /** Default {@link QUERY_DEADLINE_MS}: a job still running then is cancelled and the read fails (retriable). */
  queryDeadlineMs?: number;
}

export interface BigqueryReadResult {
  /** The job's totalBytesProcessed; null when BigQuery did not report it. */
  bytesProcessed: number | null;
  /** Result rows handed to onBatch (one per timestamp × request id × site), not table rows. */
  rows: number;
}

export type { BigqueryTableSpec };

export interface BigqueryTier {
  readonly spec: BigqueryTableSpec;
  /**
   * Streams, for [startMs, endMs), rows `{ region: null, timestampMs, requestId, siteHeader, inFlight: false, n }`,
   * one per (timestamp, request_id, site) with n = COUNT(*) (kind proxy: per status too, in `status`), a page at a time to onBatch (awaited
   * before the next page is fetched). Throws TierError (naming the table), or AbortedError when the
   * signal fires (a running job is cancelled).
   */
  readRange(
    startMs: number,
    endMs: number,
    onBatch: (rows: StreamedRow[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<BigqueryReadResult>;
  /**
   * The exact SQL and parameters readRange would run, with the bytes a dry run estimates. `params`
   * is printable: timestamps as ISO-8601 UTC strings, dates as YYYY-MM-DD.
   */
  dryRun(startMs: number, endMs: number): Promise<{ sql: string; params: Record<string, unknown>; bytes: number }>;
  /**
   * Replaces the history rows of every `date` present in `rows` with `rows`, in one MERGE: re-running
   * a day leaves one set of rows for it, other days are kept. Every row needs `date` (YYYY-MM-DD).
   * The table (DAY-partitioned on `date`) is created when missing, its dataset is not. Column types:
   * `date` DATE; a column whose values are all numbers INT64 (all integers) or FLOAT64; every other
   * column STRING, including one that is all NULL so far (a number later written to it is stored as
   * its decimal text). A column the table lacks is added (NULLABLE); an existing column keeps its type.
   */
  writeHistory(
    historyTable: string,
    rows: Record<string, string | number | null>[],
    signal?: AbortSignal,
  ): Promise<void>;
}

export interface BigqueryClientOptions {
  projectId?: string;
  apiEndpoint?: string;
  location?: string;
}

/**
 * A BigQuery client. An `http://` apiEndpoint is an emulator: it gets a static bearer token, so no
 * Application Default Credentials are looked up (that would probe the GCE metadata server) and no
 * real token ever travels over cleartext. Otherwise credentials are Application Default Credentials.
 * The client library itself honours BIGQUERY_EMULATOR_HOST over apiEndpoint: keep it unset.
 */
export function createBigqueryClient(options: BigqueryClientOptions): BigQuery {
  const endpoint = options.apiEndpoint?.replace(/\/+$/, '');
  const emulator = endpoint?.startsWith('http://') ?? false;
  return new BigQuery({
    ...(options.projectId ? { projectId: options.projectId } : {}),
    ...(options.location ? { location: options.location } : {}),
    ...(endpoint ? { apiEndpoint: endpoint } : {}),
    ...(emulator
      ? {
          authClient: new OAuth2Client({ credentials: { access_token: EMULATOR_ACCESS_TOKEN } }),
          // An emulator answers jobs.insert only once the query has run, which on a million-row
          // table takes minutes: the client's 60 s request timeout would cut it and retry the insert.
          timeout: QUERY_DEADLINE_MS,
          retryOptions: { totalTimeout: QUERY_DEADLINE_MS / 1000 },
        }
      : {}),
  });
}

export interface TableRef {
  name: string;
  project: string;
  dataset: string;
  tableId: string;
  /** `project.dataset.table`, backquoted for SQL. */
  sql: string;
}

export function parseTable(table: string, path: string): TableRef {
  const m = BQ_TABLE.exec(table);
  if (!m)
    throw new ConfigError(
      path,
      `"${table}" is not project.dataset.table (lower-case project id, dataset and table of letters, digits and _)`,
    );
  return { name: table, project: m[1]!, dataset: m[2]!, tableId: m[3]!, sql: `\`${table}\`` };
}

const quote = (column: string): string => `\`${column}\``;

/** The {{…}} identifiers of a table's queries: the table and its columns, validated and backquoted. */
export function tableIdentifiers(table: TableRef, columns: BigqueryTableSpec['columns']): Record<string, string> {
  return {
    table: table.sql,
    ts: quote(columns.timestamp),
    request_id: quote(columns.request_id),
    site: quote(columns.site),
    partition: quote(columns.partition),
    ...(columns.status ? { status: quote(columns.status) } : {}),
  };
}

/**
 * The {{status_value}} of a proxy table's queries: its status column as an INT64 — as it is when
 * the column is one (parsing every value as text would cost as much as the rest of the query),
 * else parsed from its text (a value that is no integer becomes NULL: a malformed row).
 */
export async function statusValue(
  bq: BigQuery,
  table: TableRef,
  column: string,
  signal?: AbortSignal,
): Promise<string> {
  const [md] = await abortable(
    bq.dataset(table.dataset, { projectId: table.project }).table(table.tableId).getMetadata(),
    signal,
  );
  const fields = (md as { schema?: { fields?: TableField[] } }).schema?.fields ?? [];
  const type = fields.find((f) => f.name?.toLowerCase() === column.toLowerCase())?.type?.toUpperCase();
  // NULLIF(…, ''): the emulator's SAFE_CAST turns an empty string column value into 0, BigQuery's into NULL.
  return type === 'INTEGER' || type === 'INT64'
    ? quote(column)
    : `SAFE_CAST(NULLIF(TRIM(CAST(${quote(column)} AS STRING)), '') AS INT64)`;
}

/**
 * The parameters of a read of [startMs, endMs): the time range, and the partition filter's dates
 * (the range's UTC dates widened by `marginDays`). `printable` for --dry-run.
 */
export function rangeParams(
  startMs: number,
  endMs: number,
  marginDays: number,
): { params: Record<string, unknown>; types: Record<string, string>; printable: Record<string, string> } {
  if (!Number.isSafeInteger(startMs) || !Number.isSafeInteger(endMs) || startMs >= endMs) {
    throw new InternalError(`bigquery: invalid range [${startMs}, ${endMs})`);
  }
  const margin = marginDays * DAY_MS;
  const start = new Date(startMs).toISOString();
  const end = new Date(endMs).toISOString();
  // endMs is exclusive: a window ending at midnight UTC touches no row of the next date.
  const fromDate = new Date(startMs - margin).toISOString().slice(0, 10);
  const toDate = new Date(endMs - 1 + margin).toISOString().slice(0, 10);
  return {
    // DATE and TIMESTAMP values must be wrapped: the client sends no value for a plain string of those types.
    params: {
      start: BigQuery.timestamp(start),
      end: BigQuery.timestamp(end),
      from_date: BigQuery.date(fromDate),
      to_date: BigQuery.date(toDate),
    },
    types: { start: 'TIMESTAMP', end: 'TIMESTAMP', from_date: 'DATE', to_date: 'DATE' },
    printable: { start, end, from_date: fromDate, to_date: toDate },
  };
}

/** Builds the BigQuery tier. Without `client`, one is made by {@link createBigqueryClient} from the options. */
export function createBigqueryTier(options: BigqueryTierOptions, client?: BigQuery): BigqueryTier {
  const kind = options.kind ?? 'landed';
  const key = kind === 'proxy' ? 'tiers.proxy.bigquery' : 'tiers.bigquery';
  const landed = parseTable(options.table, `${key}.table`);
  for (const [name, column] of Object.entries(options.columns)) {
    if (!BQ_COLUMN.test(column))
      throw new ConfigError(`${key}.columns.${name}`, `"${column}" is not a BigQuery column name`);
  }
  if (kind === 'proxy' && !options.columns.status)
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

  async function plan(
    startMs: number,
    endMs: number,
    signal?: AbortSignal,
  ): Promise<{ query: Query; printable: Record<string, string> }> {
    const range = rangeParams(startMs, endMs, options.partitionMarginDays);
    return {
      query: { query: await querySql(signal), params: range.params, types: range.types },
      printable: range.printable,
    };
  }

  return {
    spec: {
      kind,
      table: landed.name,
      columns: { ...options.columns },
      partitionMarginDays: options.partitionMarginDays,
    },
    async readRange(startMs, endMs, onBatch, signal) {
      rangeParams(startMs, endMs, options.partitionMarginDays); // a bad range is our bug, not BigQuery's
      throwIfAborted(signal);
      const deadline = Date.now() + deadlineMs;
      try {
        const { query } = await plan(startMs, endMs, signal);
        const { job, metadata } = await jobs.run(query, readContext, deadline, signal);
        let rows = 0;
        for await (const page of resultPages(
          job,
          pageSize,
          deadline,
          () => timeoutError(readContext, deadlineMs, job.id),
          signal,
        )) {
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

    async dryRun(startMs, endMs) {
      rangeParams(startMs, endMs, options.partitionMarginDays);
      try {
        const { query, printable } = await plan(startMs, endMs);
        const [job] = await bq.createQueryJob({
          ...query,
          dryRun: true,
          maximumBytesBilled: options.maximumBytesBilled,
          ...(options.location ? { location: options.location } : {}),
        });
        return { sql: query.query ?? '', params: printable, bytes: bytesOf(job.metadata as JobMetadata) ?? 0 };
      } catch (e) {
        throw toTierError(e, readContext);
      }
    },

    async writeHistory(historyTable, rows, signal) {
      const target = parseTable(historyTable, 'tiers.bigquery.history.table');
      const context: ErrorContext = {
        op: 'history',
        tier: 'bigquery',
        key: 'tiers.bigquery.history',
        object: target.name,
        table: target.name,
        jobProject,
        maximumBytesBilled: options.maximumBytesBilled,
      };
      if (rows.length === 0) return;
      const columns = historyColumns(rows, target.name);
      throwIfAborted(signal);
      const dataset = bq.dataset(target.dataset, { projectId: target.project });
      let stage: TableRef | undefined;
      try {
        const types = await ensureHistoryTable(dataset, target, columns, signal);
        stage = await createStageTable(dataset, target, columns, types, signal);
        const stageColumns = columns.map((c) => quote(c.name)).join(', ');
        const insert = loadQuery('bigquery', 'history-stage', {
          stage: stage.sql,
          columns: stageColumns,
          values: columns.map((c, i) => jsonValueAs(types.get(c.name)!, i)).join(', '),
        });
        for (let i = 0; i < rows.length; i += HISTORY_ROWS_PER_INSERT) {
          const lines = rows
            .slice(i, i + HISTORY_ROWS_PER_INSERT)
            .map((row) => encodeHistoryRow(row, columns, types, target.name));
          await jobs.run(
            { query: insert, params: { rows: lines }, types: { rows: ['STRING'] } },
            context,
            Date.now() + deadlineMs,
            signal,
          );
        }
        const merge = loadQuery('bigquery', 'history-merge', {
          history: target.sql,
          stage: stage.sql,
          columns: stageColumns,
          source_columns: columns.map((c) => `s.${quote(c.name)}`).join(', '),
        });
        await jobs.run({ query: merge }, context, Date.now() + deadlineMs, signal);
      } catch (e) {
        throw toTierError(e, context);
      } finally {
        // Best effort: the table expires by itself when this fails.
        if (stage)
          await dataset
            .table(stage.tableId)
            .delete()
            .catch(() => undefined);
      }
    },
  };
}

/** Runs query jobs with the byte guard, a deadline, and cancellation. */
export class JobRunner {
  constructor(
    private readonly bq: BigQuery,
    private readonly options: { maximumBytesBilled: string; location?: string },
    private readonly deadlineMs: number,
  ) {}

  /** Inserts the job and waits until it is DONE; throws the job's error as the client shapes it. */
  async run(
    query: Query,
    context: ErrorContext,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<{ job: Job; metadata: JobMetadata }> {
    throwIfAborted(signal);
    // Our own job id, so that a job whose insert was interrupted by an abort can still be cancelled.
    const jobId = `audit_parity_${randomUUID().replaceAll('-', '')}`;
    const location = this.options.location;
    const request: Query = {
      ...query,
      jobId,
      maximumBytesBilled: this.options.maximumBytesBilled,
      // Server-side too, so that a job outlives no crash of ours by more than the deadline.
      jobTimeoutMs: this.deadlineMs,
      labels: JOB_LABELS,
      ...(location ? { location } : {}),
    };
    let job: Job;
    try {
      [job] = await bounded(abortable(this.bq.createQueryJob(request), signal), deadline, () =>
        timeoutError(context, this.deadlineMs, jobId),
      );
    } catch (e) {
      if (e instanceof AbortedError || e instanceof TierError) {
        // Aborted, or no answer by the deadline: the insert may still have created the job.
        await cancel(this.bq.job(jobId, location ? { location } : {}));
        throw e;
      }
      // With our own job id the client does not absorb a 409 from its retry of an insert that had succeeded.
      if ((e as ApiErrorLike).code !== 409) throw e;
      job = this.bq.job(jobId, location ? { location } : {});
      [job.metadata] = await job.getMetadata();
    }
    let metadata = job.metadata as JobMetadata;
    let wait = POLL_FIRST_MS;
    while (metadata.status?.state !== 'DONE') {
      if (signal?.aborted) {
        await cancel(job);
        throw new AbortedError();
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        await cancel(job);
        throw timeoutError(context, this.deadlineMs, job.id);
      }
      try {
        await sleep(Math.min(wait, left), undefined, signal ? { signal } : {});
        const [md] = await bounded(abortable(job.getMetadata(), signal), deadline, () =>
          timeoutError(context, this.deadlineMs, job.id),
        );
        metadata = md as JobMetadata;
      } catch (e) {
        if (signal?.aborted) continue; // cancelled at the top of the loop
        if (e instanceof TierError) await cancel(job); // the deadline passed during the poll
        throw e;
      }
      wait = Math.min(wait * 2, POLL_MAX_MS);
    }
    if (metadata.status?.errorResult) {
      throw new JobFailedError(job.id ?? jobId, metadata.status.errorResult, metadata.status.errors ?? []);
    }
    return { job, metadata };
  }
}

/**
 * A finished query job's result rows, a page at a time (non-empty pages only), each fetched when
 * the caller asks for it. Throws `onDeadline()` once `deadline` has passed.
 */
export async function* resultPages(
  job: Job,
  pageSize: number,
  deadline: number,
  onDeadline: () => Error,
  signal: AbortSignal | undefined,
): AsyncGenerator<Record<string, unknown>[]> {
  let pageToken: string | undefined;
  do {
    throwIfAborted(signal);
    if (Date.now() > deadline) throw onDeadline();
    const [page, , response] = await bounded(
      abortable(
        job.getQueryResults({ maxResults: pageSize, autoPaginate: false, ...(pageToken ? { pageToken } : {}) }),
        signal,
      ),
      deadline,
      onDeadline,
    );
    if (response?.jobComplete === false)
      throw new InternalError(`bigquery: job ${job.id} reported DONE, then incomplete`);
    if (page.length > 0) yield page as Record<string, unknown>[];
    pageToken = response?.pageToken ?? undefined;
  } while (pageToken);
  // The last page, or a read cut short: an abort meanwhile is never taken for the end of the results.
  throwIfAborted(signal);
}

/** Carries an error thrown by onBatch past the classification of BigQuery errors. */
export class ConsumerError {
  constructor(readonly error: unknown) {}
}

/** A job that ended DONE with an errorResult: shaped like the client's ApiError, so one classifier reads both. */
class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  readonly code = undefined;
  readonly errors: { reason?: string | null; message?: string | null }[];
  constructor(
    jobId: string,
    errorResult: { reason?: string | null; message?: string | null },
    errors: { reason?: string | null; message?: string | null }[],
  ) {
    super(`job ${jobId} failed: ${errorResult.message ?? errorResult.reason ?? 'no message'}`);
    this.errors = [errorResult, ...errors];
  }
}

async function cancel(job: Job): Promise<void> {
  await Promise.race([job.cancel().catch(() => undefined), sleep(CANCEL_WAIT_MS, undefined, { ref: false })]);
}

/**
 * `p`, or `onDeadline()` once `deadline` passes. The timer holds the process open: the client's
 * retry helper (retry-request) never settles a request whose retries outlast its totalTimeout,
 * and an unsettled await with nothing else pending would end the process with exit 13.
 */
export function bounded<T>(p: Promise<T>, deadline: number, onDeadline: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onDeadline()), Math.max(0, deadline - Date.now()));
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Resolves or rejects with `p`, or rejects with AbortedError as soon as the signal fires (p is left to settle unobserved). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function bytesOf(metadata: JobMetadata | undefined): number | null {
  const bytes = metadata?.statistics?.totalBytesProcessed ?? metadata?.statistics?.query?.totalBytesProcessed;
  if (bytes === undefined || bytes === null) return null;
  const n = Number(bytes);
  return Number.isFinite(n) ? n : null;
}

function toStreamedRow(r: Record<string, unknown>, table: string): StreamedRow {
  const { ts_ms: ts, request_id: requestId, site, n, status } = r;
  if (
    typeof ts !== 'number' ||
    typeof n !== 'number' ||
    (requestId !== null && typeof requestId !== 'string') ||
    (site !== null && typeof site !== 'string') ||
    (status !== undefined && status !== null && typeof status !== 'number')
  ) {
    throw new TierError(
      'bigquery',
      table,
      `unexpected result row ${JSON.stringify(r)}: expected ts_ms and n numbers, request_id and site strings or null, status a number or null`,
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
  };
}

// ---- history --------------------------------------------------------------------------------

interface HistoryColumn {
  name: string;
  /** The type a new column gets: from the row values (see BigqueryTier.writeHistory). */
  inferred: 'DATE' | 'INT64' | 'FLOAT64' | 'STRING';
}

function historyColumns(rows: readonly Record<string, string | number | null>[], table: string): HistoryColumn[] {
  const seen = new Map<string, { numbers: number; integers: number; others: number }>();
  for (const row of rows) {
    const date = row.date;
    if (typeof date !== 'string' || !ISO_DATE.test(date)) {
      throw new TierError(
        'bigquery',
        table,
        `history row without a YYYY-MM-DD date: ${JSON.stringify(row).slice(0, 200)}`,
      );
    }
    for (const [name, value] of Object.entries(row)) {
      let s = seen.get(name);
      if (!s) {
        if (!BQ_COLUMN.test(name))
          throw new TierError(
            'bigquery',
            table,
            `"${name}" is not a BigQuery column name: rename it (letters, digits and _, not starting with a digit)`,
          );
        s = { numbers: 0, integers: 0, others: 0 };
        seen.set(name, s);
      }
      if (typeof value === 'number') {
        s.numbers++;
        if (Number.isSafeInteger(value)) s.integers++;
      } else if (value !== null && value !== undefined) {
        s.others++;
      }
    }
  }
  return [...seen].map(([name, s]) => ({
    name,
    inferred:
      name === 'date'
        ? 'DATE'
        : s.others === 0 && s.numbers > 0
          ? s.integers === s.numbers
            ? 'INT64'
            : 'FLOAT64'
          : 'STRING',
  }));
}

/** The history table's column types (existing columns keep theirs), after creating the table or adding missing columns. */
async function ensureHistoryTable(
  dataset: Dataset,
  target: TableRef,
  columns: readonly HistoryColumn[],
  signal: AbortSignal | undefined,
): Promise<Map<string, string>> {
  const table = dataset.table(target.tableId);
  let fields: TableField[] | undefined;
  try {
    const [md] = await abortable(table.getMetadata(), signal);
    fields = (md as { schema?: { fields?: TableField[] } }).schema?.fields ?? [];
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  if (fields === undefined) {
    fields = columns.map((c) => ({ name: c.name, type: c.inferred, mode: 'NULLABLE' }));
    try {
      await abortable(
        dataset.createTable(target.tableId, {
          schema: { fields },
          timePartitioning: { type: 'DAY', field: 'date' },
          description: "audit-parity: one row per day × site and run; a re-run of a day replaces that day's rows",
        }),
        signal,
      );
    } catch (e) {
      if ((e as ApiErrorLike).code !== 409) throw e;
      // Created meanwhile by another run: use its schema.
      return ensureHistoryTable(dataset, target, columns, signal);
    }
  }
  const types = new Map(fields.map((f) => [f.name ?? '', (f.type ?? 'STRING').toUpperCase()]));
  if (types.get('date') !== 'DATE') {
    throw new TierError(
      'bigquery',
      target.name,
      `the history table's date column is ${types.get('date') ?? 'missing'}, not DATE: use another table`,
    );
  }
  const added = columns
    .filter((c) => !types.has(c.name))
    .map((c): TableField => ({ name: c.name, type: c.inferred, mode: 'NULLABLE' }));
  if (added.length > 0) {
    await abortable(table.setMetadata({ schema: { fields: [...fields, ...added] } }), signal);
    for (const f of added) types.set(f.name!, f.type!);
  }
  return types;
}

async function createStageTable(
  dataset: Dataset,
  target: TableRef,
  columns: readonly HistoryColumn[],
  types: ReadonlyMap<string, string>,
  signal: AbortSignal | undefined,
): Promise<TableRef> {
  const tableId = `${target.tableId}__stage_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await abortable(
    dataset.createTable(tableId, {
      schema: { fields: columns.map((c) => ({ name: c.name, type: types.get(c.name)!, mode: 'NULLABLE' })) },
      expirationTime: String(Date.now() + STAGE_TABLE_LIFETIME_MS),
    }),
    signal,
  );
  return parseTable(`${target.project}.${target.dataset}.${tableId}`, 'tiers.bigquery.history.table');
}

/** The staging SELECT's expression for column i: JSON text to the column's type (a closed set of templates). */
function jsonValueAs(type: string, i: number): string {
  const value = `JSON_VALUE(r, '$.c${i}')`;
  switch (type) {
    case 'STRING':
      return value;
    case 'INT64':
    case 'INTEGER':
      return `CAST(${value} AS INT64)`;
    case 'FLOAT64':
    case 'FLOAT':
      return `CAST(${value} AS FLOAT64)`;
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return `CAST(${value} AS ${type})`;
    case 'DATE':
      return `CAST(${value} AS DATE)`;
    case 'TIMESTAMP':
      // TIMESTAMP(text), not CAST: the emulator reads a CAST zone-less text as Los Angeles time.
      return `TIMESTAMP(${value})`;
    default:
      throw new InternalError(`bigquery: no staging expression for type ${type}`);
  }
}

/** One history row as the JSON line history-stage.sql reads: values as text under c0, c1, … in column order. */
function encodeHistoryRow(
  row: Record<string, string | number | null>,
  columns: readonly HistoryColumn[],
  types: ReadonlyMap<string, string>,
  table: string,
): string {
  const out: Record<string, string | null> = {};
  columns.forEach((c, i) => {
    out[`c${i}`] = encodeValue(row[c.name] ?? null, types.get(c.name)!, c.name, table);
  });
  return JSON.stringify(out);
}

function encodeValue(value: string | number | null, type: string, column: string, table: string): string | null {
  if (value === null) return null;
  const misfit = (): TierError =>
    new TierError(
      'bigquery',
      table,
      `column ${column}: ${JSON.stringify(value)} does not fit the history table's ${type} column — change the column's type or use another table`,
    );
  /** A number that passes `fits`, or its text matching `text`; '' is NULL. */
  const numeric = (fits: (n: number) => boolean, text: RegExp): string | null => {
    if (typeof value === 'number') {
      if (!fits(value)) throw misfit();
      return String(value);
    }
    if (value === '') return null;
    if (!text.test(value)) throw misfit();
    return value;
  };
  switch (type) {
    case 'STRING':
      return String(value);
    case 'INT64':
    case 'INTEGER':
      return numeric(Number.isSafeInteger, INTEGER_TEXT);
    case 'FLOAT64':
    case 'FLOAT':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return numeric(Number.isFinite, DECIMAL_TEXT);
    case 'DATE':
      if (typeof value !== 'string' || !ISO_DATE.test(value)) throw misfit();
      return value;
    case 'TIMESTAMP':
      if (typeof value === 'number') return new Date(value).toISOString();
      if (Number.isNaN(Date.parse(value))) throw misfit();
      return value;
    default:
      throw new TierError(
        'bigquery',
        table,
        `column ${column} has type ${type}, which history rows cannot fill — use another table`,
      );
  }
}

// ---- errors ---------------------------------------------------------------------------------

/** The shape of the client's errors: ApiError (HTTP) or a failed job's status, and gaxios/system errors. */
interface ApiErrorLike {
  code?: number | string;
  message?: string;
  errors?: { reason?: string | null; message?: string | null }[];
}

export interface ErrorContext {
  /** read: a table tier's query; history: the history MERGE; engine: the bigquery engine's own scratch work. */
  op: 'read' | 'history' | 'engine';
  /** The tier the TierError names. */
  tier: 'proxy' | 'bigquery';
  /** The config key of the table read, e.g. tiers.proxy.bigquery. */
  key: string;
  /** The bigquery engine's scratch dataset, when the statement writes there. */
  engineDataset?: string;
  /** The TierError's object. */
  object: string;
  table: string;
  jobProject: string;
  maximumBytesBilled: string;
}

interface ErrorFacts {
  status: number | undefined;
  reasons: string[];
  /** A connection-level failure (ECONNRESET, ETIMEDOUT, …). */
  network: boolean;
  message: string;
}

/** Reasons BigQuery documents as transient: https://cloud.google.com/bigquery/docs/error-messages */
const RETRIABLE_REASONS = new Set([
  'backendError',
  'internalError',
  'rateLimitExceeded',
  'jobRateLimitExceeded',
  'jobBackendError',
  'tableUnavailable',
]);
const RETRIABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRIABLE_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);

function factsOf(e: unknown): ErrorFacts {
  const a = (typeof e === 'object' && e !== null ? e : {}) as ApiErrorLike;
  const reasons = (a.errors ?? []).map((x) => x?.reason ?? '').filter((r) => r !== '');
  const message =
    [a.message, ...(a.errors ?? []).map((x) => x?.message)].find(
      (m): m is string => typeof m === 'string' && m !== '',
    ) ?? String(e);
  return {
    status: typeof a.code === 'number' ? a.code : undefined,
    reasons,
    network: typeof a.code === 'string' && RETRIABLE_NETWORK.has(a.code),
    message,
  };
}

function isNotFound(e: unknown): boolean {
  const f = factsOf(e);
  return f.status === 404 || f.reasons.includes('notFound') || emulatorNotFound(f);
}

/**
 * goccy/bigquery-emulator v0.8.1 answers a query over a missing table with reason jobInternalError
 * and "failed to analyze: Table not found: …" where BigQuery says 404 notFound (notes/bq-emulator.md).
 * The one place we look at message text, and only for that documented quirk.
 */
function emulatorNotFound(f: ErrorFacts): boolean {
  return f.reasons.includes('jobInternalError') && f.message.includes('Table not found');
}

const ERROR_RULES: readonly {
  matches: (f: ErrorFacts) => boolean;
  retriable: boolean;
  explain: (f: ErrorFacts, c: ErrorContext) => string;
}[] = [
  {
    matches: (f) => f.status === 404 || f.reasons.includes('notFound') || emulatorNotFound(f),
    retriable: false,
    explain: (f, c) => {
      if (c.op === 'history') {
        return `the history table's dataset does not exist (404 notFound) — create dataset ${datasetOf(c.table)} (the job creates the table, not the dataset): ${f.message}`;
      }
      if (c.op === 'engine') {
        return `the engine's dataset ${c.engineDataset ?? c.table} or a table it reads does not exist (404 notFound) — create the dataset named in engine.dataset, in the location of the tables it reads: ${f.message}`;
      }
      const scratch = c.engineDataset ? `, or the engine's dataset ${c.engineDataset} (engine.dataset),` : '';
      return `table ${c.table} or its dataset${scratch} does not exist (404 notFound) — check ${c.key}.table and ${c.key}.location: ${f.message}`;
    },
  },
  {
    matches: (f) => f.reasons.includes('bytesBilledLimitExceeded'),
    retriable: false,
    explain: (f, c) =>
      `the query would bill more than maximumBytesBilled = ${c.maximumBytesBilled} bytes (bytesBilledLimitExceeded) — check the estimate with --dry-run, then narrow the range or raise ${c.key}.maximumBytesBilled: ${f.message}`,
  },
  {
    // Before the 403 rule: BigQuery's rate limits come as 403 rateLimitExceeded.
    matches: (f) => f.network || RETRIABLE_STATUS.has(f.status ?? 0) || f.reasons.some((r) => RETRIABLE_REASONS.has(r)),
    retriable: true,
    explain: (f) =>
      `BigQuery is unavailable or rate-limited (${[f.status, ...f.reasons].filter(Boolean).join(' ') || 'network'}) — retry later: ${f.message}`,
  },
  {
    matches: (f) => f.status === 403 || f.reasons.includes('accessDenied'),
    retriable: false,
    explain: (f, c) => {
      const jobUser = `roles/bigquery.jobUser on project ${c.jobProject} (to run query jobs)`;
      const scratch = c.engineDataset
        ? ` and roles/bigquery.dataEditor on dataset ${c.engineDataset} (the engine's scratch tables)`
        : '';
      if (c.op === 'history')
        return `permission denied (403 accessDenied): the credentials need ${jobUser} and roles/bigquery.dataEditor on dataset ${datasetOf(c.table)} (to create and write the history table): ${f.message}`;
      if (c.op === 'engine')
        return `permission denied (403 accessDenied): the credentials need ${jobUser}${scratch}: ${f.message}`;
      return `permission denied (403 accessDenied): the credentials need ${jobUser}, roles/bigquery.dataViewer on table ${c.table} (to read it)${scratch}: ${f.message}`;
    },
  },
  {
    matches: (f) => f.reasons.includes('invalidQuery'),
    retriable: false,
    explain: (f, c) =>
      c.op === 'read'
        ? `the query is invalid for this table — check ${c.key}.columns (partition must be a DATE column): ${f.message}`
        : `invalid statement: ${f.message}`,
  },
];

const datasetOf = (table: string): string => table.split('.').slice(0, 2).join('.');

export function toTierError(e: unknown, context: ErrorContext): Error {
  if (e instanceof TierError || e instanceof AbortedError || e instanceof ConfigError || e instanceof InternalError)
    return e;
  const facts = factsOf(e);
  const rule = ERROR_RULES.find((r) => r.matches(facts));
  const what = rule
    ? rule.explain(facts, context)
    : `${[facts.status, ...facts.reasons].filter(Boolean).join(' ') || 'error'}: ${facts.message}`;
  return new TierError(context.tier, context.object, what, rule?.retriable ?? false, { cause: e });
}

export function timeoutError(context: ErrorContext, deadlineMs: number, jobId: string | undefined): TierError {
  return new TierError(
    context.tier,
    context.object,
    `query job ${jobId ?? ''} did not finish within ${deadlineMs} ms and was cancelled — retry, or read fewer days per query`,
    true,
  );
}
