import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BigQuery, Job, JobMetadata, Query } from '@google-cloud/bigquery';
import { abortable, AbortedError, InternalError, TierError, throwIfAborted } from '../errors.js';
import { type ErrorContext, isConflict, JobFailedError, timeoutError } from './errors.js';

/** Result rows asked for per page: a page is about 100 bytes a row, well under the API's 10 MB response limit. */
export const BIGQUERY_PAGE_ROWS = 50_000;
/** How long one query job may take, from insert to its last page; also sent as the job's own jobTimeoutMs. */
export const QUERY_DEADLINE_MS = 30 * 60 * 1000;
/** Job status polling: first wait, doubled up to the longest. */
const POLL_FIRST_MS = 200;
const POLL_MAX_MS = 5_000;
/** How long a cancel request is waited for before giving up on it (the job's jobTimeoutMs still ends it). */
const CANCEL_WAIT_MS = 10_000;
/** Labels on every job, so billing exports can attribute the bytes. */
const JOB_LABELS = { tool: 'audit-parity' };

export interface JobRunnerOptions {
  /** A query that would bill more bytes than this (a decimal string) fails instead of running. */
  maximumBytesBilled: string;
  location?: string;
}

/** A job run to its end, and its result rows a page at a time (fetched as the caller asks for them). */
export interface PagedJob {
  job: Job;
  metadata: JobMetadata;
  pages: AsyncGenerator<Record<string, unknown>[]>;
}

/** Runs query jobs with the byte guard, a deadline, and cancellation. Errors are the client's: see toTierError. */
export class JobRunner {
  constructor(
    private readonly bq: BigQuery,
    private readonly options: JobRunnerOptions,
    /** How long one job may take, from insert to its last page. */
    readonly deadlineMs: number = QUERY_DEADLINE_MS,
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
      if (!isConflict(e)) throw e;
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

  /**
   * Runs `query` to its end (see run), then hands over its result pages: one deadline, from `deadline`
   * (default now + deadlineMs), for the job and every page.
   */
  async runPaged(
    query: Query,
    context: ErrorContext,
    pageSize: number,
    signal: AbortSignal | undefined,
    deadline = Date.now() + this.deadlineMs,
  ): Promise<PagedJob> {
    const { job, metadata } = await this.run(query, context, deadline, signal);
    const onDeadline = (): Error => timeoutError(context, this.deadlineMs, job.id);
    return { job, metadata, pages: resultPages(job, pageSize, deadline, onDeadline, signal) };
  }

  /** The statement `query` would run, estimated by a dry run (nothing is billed): its SQL and bytes. */
  async dryRun(query: Query): Promise<{ sql: string; bytes: number }> {
    const [job] = await this.bq.createQueryJob({
      ...query,
      dryRun: true,
      maximumBytesBilled: this.options.maximumBytesBilled,
      ...(this.options.location ? { location: this.options.location } : {}),
    });
    return { sql: query.query ?? '', bytes: bytesOf(job.metadata as JobMetadata) ?? 0 };
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

/** A job's totalBytesProcessed; null when BigQuery did not report it. */
export function bytesOf(metadata: JobMetadata | undefined): number | null {
  const bytes = metadata?.statistics?.totalBytesProcessed ?? metadata?.statistics?.query?.totalBytesProcessed;
  if (bytes === undefined || bytes === null) return null;
  const n = Number(bytes);
  return Number.isFinite(n) ? n : null;
}
