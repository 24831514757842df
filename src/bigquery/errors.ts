import { AbortedError, ConfigError, InternalError, TierError } from '../errors.js';

/** The shape of the client's errors: ApiError (HTTP) or a failed job's status, and gaxios/system errors. */
export interface ApiErrorLike {
  code?: number | string;
  message?: string;
  errors?: { reason?: string | null; message?: string | null }[];
}

/** What a BigQuery failure is about: how toTierError explains it and which TierError it becomes. */
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

/** A 404 notFound (or the emulator's way of saying it). */
export function isNotFound(e: unknown): boolean {
  return notFound(factsOf(e));
}

/** A 409: the job or table exists already. */
export function isConflict(e: unknown): boolean {
  return (e as ApiErrorLike | undefined)?.code === 409;
}

const notFound = (f: ErrorFacts): boolean => f.status === 404 || f.reasons.includes('notFound') || emulatorNotFound(f);

/**
 * goccy/bigquery-emulator v0.8.1 answers a query over a missing table with reason jobInternalError
 * and "failed to analyze: Table not found: …" where BigQuery says 404 notFound (notes/bq-emulator.md).
 * The one place we look at message text, and only for that documented quirk.
 */
function emulatorNotFound(f: ErrorFacts): boolean {
  return f.reasons.includes('jobInternalError') && f.message.includes('Table not found');
}

const datasetOf = (table: string): string => table.split('.').slice(0, 2).join('.');

/** The classification table: the first rule that matches explains the error and says whether a retry can help. */
const ERROR_RULES: readonly {
  matches: (f: ErrorFacts) => boolean;
  retriable: boolean;
  explain: (f: ErrorFacts, c: ErrorContext) => string;
}[] = [
  {
    matches: notFound,
    retriable: false,
    explain: (f, c) => {
      if (c.op === 'history') {
        return (
          `the history table's dataset does not exist (404 notFound) — create dataset ${datasetOf(c.table)} ` +
          `(the job creates the table, not the dataset): ${f.message}`
        );
      }
      if (c.op === 'engine') {
        return (
          `the engine's dataset ${c.engineDataset ?? c.table} or a table it reads does not exist (404 notFound) — ` +
          `create the dataset named in engine.dataset, in the location of the tables it reads: ${f.message}`
        );
      }
      const scratch = c.engineDataset ? `, or the engine's dataset ${c.engineDataset} (engine.dataset),` : '';
      return (
        `table ${c.table} or its dataset${scratch} does not exist (404 notFound) — ` +
        `check ${c.key}.table and ${c.key}.location: ${f.message}`
      );
    },
  },
  {
    matches: (f) => f.reasons.includes('bytesBilledLimitExceeded'),
    retriable: false,
    explain: (f, c) =>
      `the query would bill more than maximumBytesBilled = ${c.maximumBytesBilled} bytes ` +
      `(bytesBilledLimitExceeded) — check the estimate with --dry-run, then narrow the range or raise ` +
      `${c.key}.maximumBytesBilled: ${f.message}`,
  },
  {
    // Before the 403 rule: BigQuery's rate limits come as 403 rateLimitExceeded.
    matches: (f) => f.network || RETRIABLE_STATUS.has(f.status ?? 0) || f.reasons.some((r) => RETRIABLE_REASONS.has(r)),
    retriable: true,
    explain: (f) =>
      `BigQuery is unavailable or rate-limited (${[f.status, ...f.reasons].filter(Boolean).join(' ') || 'network'}) ` +
      `— retry later: ${f.message}`,
  },
  {
    matches: (f) => f.status === 403 || f.reasons.includes('accessDenied'),
    retriable: false,
    explain: (f, c) => {
      const jobUser = `roles/bigquery.jobUser on project ${c.jobProject} (to run query jobs)`;
      const scratch = c.engineDataset
        ? ` and roles/bigquery.dataEditor on dataset ${c.engineDataset} (the engine's scratch tables)`
        : '';
      const denied = 'permission denied (403 accessDenied): the credentials need';
      if (c.op === 'history')
        return (
          `${denied} ${jobUser} and roles/bigquery.dataEditor on dataset ${datasetOf(c.table)} ` +
          `(to create and write the history table): ${f.message}`
        );
      if (c.op === 'engine') return `${denied} ${jobUser}${scratch}: ${f.message}`;
      return `${denied} ${jobUser}, roles/bigquery.dataViewer on table ${c.table} (to read it)${scratch}: ${f.message}`;
    },
  },
  {
    matches: (f) => f.reasons.includes('invalidQuery'),
    retriable: false,
    explain: (f, c) =>
      c.op === 'read'
        ? `the query is invalid for this table — check ${c.key}.columns ` +
          `(partition must be a DATE column): ${f.message}`
        : `invalid statement: ${f.message}`,
  },
];

/** A client or job error as a TierError that says what to do; our own errors pass through unchanged. */
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

/** A job (or one of its pages) past its deadline: retriable, the job has been cancelled. */
export function timeoutError(context: ErrorContext, deadlineMs: number, jobId: string | undefined): TierError {
  return new TierError(
    context.tier,
    context.object,
    `query job ${jobId ?? ''} did not finish within ${deadlineMs} ms and was cancelled — ` +
      'retry, or read fewer days per query',
    true,
  );
}

/** A job that ended DONE with an errorResult: shaped like the client's ApiError, so one classifier reads both. */
export class JobFailedError extends Error {
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
