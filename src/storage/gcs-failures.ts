import { setTimeout as sleep } from 'node:timers/promises';
import { abortable, AbortedError, TierError, throwIfAborted } from '../errors.js';
import type { BlobObject } from './blob-store.js';

/**
 * How the GCS store retries and explains a failed request: the retry policy, and the classification
 * of list, download and upload failures by HTTP status or error code (never by message text).
 */

/** Attempts per request (listing page, download, upload), the first one included. */
export const GCS_RETRY_ATTEMPTS = 5;
/** Backoff before attempt n+1 is `GCS_RETRY_BASE_DELAY_MS × 2^(n-1)`, plus up to as much again of jitter. */
export const GCS_RETRY_BASE_DELAY_MS = 200;
export const GCS_RETRY_MAX_DELAY_MS = 10_000;
/** The code of the error a download gets when no byte arrives for the stall timeout. */
export const STALLED = 'GCS_DOWNLOAD_STALLED';
/** node-fetch's `FetchError.type` for a request or response body that took longer than the client's timeout. */
const TIMEOUT_FETCH_TYPES = new Set(['request-timeout', 'body-timeout']);
/** Network failures where the same request may well succeed a moment later. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  // An unresolved name: a cluster's DNS answers NXDOMAIN for a moment while it restarts, and a misspelt host
  // fails the same after five quick attempts (the README's "unresolved").
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  STALLED,
  // The client's own crc32c check: the bytes that arrived are not the bytes stored.
  'CONTENT_DOWNLOAD_MISMATCH',
]);

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
}

export function retryPolicy(options: { retryAttempts?: number; retryBaseDelayMs?: number }): RetryPolicy {
  return {
    attempts: Math.max(1, options.retryAttempts ?? GCS_RETRY_ATTEMPTS),
    baseDelayMs: options.retryBaseDelayMs ?? GCS_RETRY_BASE_DELAY_MS,
  };
}

/**
 * Runs `request` until it succeeds, fails for good, or the attempts run out, waiting with exponential
 * backoff and jitter between attempts; then throws TierError naming `url`. Abort wins over everything.
 */
export async function retrying<T>(
  tier: string,
  url: string,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  describe: (e: unknown) => Failure,
  request: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      // A stop ends the wait on a request an endpoint never answers (the client's own timeout is 60 s an attempt).
      return await abortable(request(), signal);
    } catch (e) {
      if (signal?.aborted) throw new AbortedError();
      const failure = describe(e);
      if (!failure.retry || attempt >= policy.attempts) {
        const suffix = failure.retry ? ` (gave up after ${attempt} attempts)` : '';
        throw new TierError(tier, url, `${failure.message}${suffix}`, failure.retriable, { cause: e });
      }
    }
    const delayMs = Math.min(GCS_RETRY_MAX_DELAY_MS, policy.baseDelayMs * 2 ** (attempt - 1));
    try {
      await sleep(delayMs + Math.random() * delayMs, undefined, signal ? { signal } : {});
    } catch {
      throw new AbortedError();
    }
  }
}

/** What a failed attempt means: `retry` now, and whether the run as a whole is `retriable` later. */
export interface Failure {
  message: string;
  retry: boolean;
  retriable: boolean;
}

/** A download attempt that failed, with how far it got. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    override readonly cause: unknown,
    readonly received: number,
    readonly expected: number | undefined,
  ) {
    super(cause instanceof Error ? cause.message : `received ${received} of ${expected ?? '?'} bytes`);
  }
}

export function describeListFailure(bucket: string, keyPath?: string): (e: unknown) => Failure {
  return (e) =>
    describeFailure(e, {
      404: `bucket does not exist (404) — check the bucket name${keyPath ? ` in ${keyPath}` : ''}`,
      403:
        `permission denied (403) — the credentials need storage.objects.list on bucket "${bucket}" ` +
        '(e.g. roles/storage.objectViewer)',
    });
}

export function describeDownloadFailure(bucket: string, object: BlobObject): (e: unknown) => Failure {
  return (e) => {
    if (!(e instanceof DownloadError)) return describeFailure(e, {});
    const { cause, received, expected } = e;
    const short = expected !== undefined && received < expected;
    if (cause === undefined) {
      // The stream ended cleanly but early (or late): the connection, not the object, is at fault.
      return {
        message: `connection dropped mid-object: received ${received} of ${expected} bytes`,
        retry: true,
        retriable: true,
      };
    }
    const code = errorCode(cause);
    if (code === STALLED) {
      return {
        message:
          `connection stalled or dropped mid-object: received ${received} of ${expected ?? '?'} bytes, ` +
          `then ${(cause as Error).message}`,
        retry: true,
        retriable: true,
      };
    }
    if (typeof code === 'string' && code.startsWith('Z_')) {
      // gzip that ends early because fewer bytes arrived than are stored is a dropped connection;
      // gzip that is bad in bytes that did arrive is a corrupt object, and reading it again will not help.
      if (short && code === 'Z_BUF_ERROR') {
        return {
          message: `connection dropped mid-object: received ${received} of ${expected} bytes`,
          retry: true,
          retriable: true,
        };
      }
      return {
        message:
          `not valid gzip (${code}) — the object is corrupt or truncated` +
          (object.generation ? ` (generation ${object.generation})` : ''),
        retry: false,
        retriable: false,
      };
    }
    const failure = describeFailure(cause, {
      404:
        `object not found at generation ${object.generation ?? '(latest)'} (404) — ` +
        'it was deleted or replaced after listing; run again',
      403: `permission denied (403) — the credentials need storage.objects.get on bucket "${bucket}"`,
    });
    // A replaced object is found at its new generation by the next run's listing.
    if (code === 404) return { ...failure, retriable: true };
    if (failure.retry && short)
      return { ...failure, message: `${failure.message} after ${received} of ${expected} bytes` };
    return failure;
  };
}

/**
 * A request that never reached the service (refused, unresolved, timed out: a system error code)
 * names the endpoint it was sent to: a wrong `apiEndpoint` and an outage look alike otherwise.
 */
export function namingEndpoint(endpoint: string, describe: (e: unknown) => Failure): (e: unknown) => Failure {
  return (e) => {
    const failure = describe(e);
    const cause = e instanceof DownloadError ? e.cause : e;
    const code = errorCode(cause);
    return typeof code === 'string' && code.startsWith('E') && !tokenHost(cause)
      ? { ...failure, message: `${failure.message} at endpoint ${endpoint}` }
      : failure;
  };
}

/**
 * The host of the token service a failed request went to, when the failure is the auth library's getting an access
 * token (Application Default Credentials) rather than the storage request's: its error carries the token URL.
 */
function tokenHost(e: unknown): string | undefined {
  const url = (e as { config?: { url?: unknown } } | null)?.config?.url;
  if (typeof url !== 'string' || !URL.canParse(url)) return undefined;
  const { hostname, pathname } = new URL(url);
  // A service account key's token comes from www.googleapis.com/oauth2/v4/token (the storage client's auth library).
  const token =
    /^(oauth2|sts|iamcredentials)\.googleapis\.com$|^metadata\.google\.internal$|^169\.254\.169\.254$/.test(hostname) ||
    (hostname === 'www.googleapis.com' && pathname.startsWith('/oauth2/'));
  return token ? hostname : undefined;
}

/**
 * Classifies by HTTP status or error code, never by message text; a failure to get an access token says so, naming
 * the token service (before 0.3.7 it read as the storage endpoint's: `connection failed (ENOTFOUND) at endpoint …`).
 */
export function describeFailure(e: unknown, byStatus: Partial<Record<number, string>>): Failure {
  const token = tokenHost(e);
  if (token) {
    const failure = describeStorageFailure(e, {});
    return {
      ...failure,
      message: `cannot get an access token from ${token} for Application Default Credentials: ${failure.message}`,
    };
  }
  return describeStorageFailure(e, byStatus);
}

function describeStorageFailure(e: unknown, byStatus: Partial<Record<number, string>>): Failure {
  const code = errorCode(e);
  if (typeof code === 'number') {
    const known = byStatus[code];
    if (known) return { message: known, retry: false, retriable: false };
    if (code === 401) {
      return {
        message:
          'not authenticated (401) — check Application Default Credentials ' +
          '(gcloud auth application-default login, or the workload identity)',
        retry: false,
        retriable: false,
      };
    }
    const transient = code === 408 || code === 429 || code >= 500;
    return { message: `request failed (HTTP ${code})`, retry: transient, retriable: transient };
  }
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) {
    return { message: `connection failed (${code})`, retry: true, retriable: true };
  }
  const detail = e instanceof Error ? e.message : String(e);
  return {
    message: `request failed${typeof code === 'string' ? ` (${code})` : ''}: ${detail}`,
    retry: false,
    retriable: false,
  };
}

/** An HTTP status (ApiError), a Node or zlib error code, or ETIMEDOUT for the client's own timeouts. */
function errorCode(e: unknown): number | string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, type } = e as { code?: unknown; type?: unknown };
  if (typeof code === 'number' || (typeof code === 'string' && code !== '')) return code;
  if (typeof type === 'string' && TIMEOUT_FETCH_TYPES.has(type)) return 'ETIMEDOUT';
  return undefined;
}
