import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { File, type FileMetadata, Storage } from '@google-cloud/storage';
import pLimit, { type LimitFunction } from 'p-limit';
import type { GcsOptions } from '../config.js';
import { AbortedError, TierError, throwIfAborted } from '../errors.js';
import { type BlobObject, type BlobStore, RECORD_OBJECT } from './blob-store.js';

/** Attempts per request (listing page, download, upload), the first one included. */
export const GCS_RETRY_ATTEMPTS = 5;
/** Backoff before attempt n+1 is `GCS_RETRY_BASE_DELAY_MS × 2^(n-1)`, plus up to as much again of jitter. */
export const GCS_RETRY_BASE_DELAY_MS = 200;
export const GCS_RETRY_MAX_DELAY_MS = 10_000;
/** Objects downloaded at once through one client when the caller sets no limit. */
export const GCS_DOWNLOAD_CONCURRENCY = 8;
/** Objects per listing request: the API's maximum. */
export const GCS_LIST_PAGE_SIZE = 1000;
/** Only what `list` needs; a full object resource is about five times larger. */
const LIST_FIELDS = 'items(name,generation,size,contentEncoding),nextPageToken';

/** Network failures where the same request may well succeed a moment later. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  // The client's own crc32c check: the bytes that arrived are not the bytes stored.
  'CONTENT_DOWNLOAD_MISMATCH',
]);

export interface GcsStoreOptions {
  /** Downloads at once through this store; shared by every store made on the same client. */
  downloadConcurrency?: number;
  retryAttempts?: number;
  retryBaseDelayMs?: number;
}

/** `gs://bucket/name` split; `name` may be empty or end in `/` (a prefix). */
export interface GsUrl {
  bucket: string;
  name: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** Splits `gs://bucket/name`. Pure. Returns undefined for anything that is not a gs URL with a valid bucket name. */
export function parseGsUrl(url: string): GsUrl | undefined {
  if (!url.startsWith('gs://')) return undefined;
  const rest = url.slice('gs://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const name = slash < 0 ? '' : rest.slice(slash + 1);
  return BUCKET_NAME.test(bucket) ? { bucket, name } : undefined;
}

/**
 * A storage client for the job. Credentials come from Application Default Credentials only.
 *
 * `apiEndpoint` is `scheme://host[:port]` with no path (the client appends `/storage/v1`). An
 * `http://` endpoint is taken to be an emulator and gets no credentials (the client's default for a
 * custom endpoint); an `https://` endpoint (Private Service Connect, say) is sent ADC tokens.
 *
 * The client's own retries are off: this module retries every request itself with one policy, and
 * the client's retry of a download that fails mid-stream cannot restart it from byte 0.
 */
export function createStorageClient(options: Pick<GcsOptions, 'projectId' | 'apiEndpoint'>): Storage {
  const endpoint = options.apiEndpoint?.replace(/\/+$/, '');
  return new Storage({
    ...(options.projectId ? { projectId: options.projectId } : {}),
    ...(endpoint ? { apiEndpoint: endpoint, useAuthWithCustomEndpoint: !endpoint.startsWith('http:') } : {}),
    retryOptions: { autoRetry: false },
  });
}

/** One client per option set, so that every bucket of a run shares its connections and download limit. */
const clients = new WeakMap<GcsOptions, Storage>();
const downloadLimits = new WeakMap<Storage, LimitFunction>();

/** The BlobStore for one bucket of `gs://` locations; what `src/storage/index.ts` calls. */
export async function openGcsStore(tier: string, bucket: string, options: GcsOptions): Promise<BlobStore> {
  let storage = clients.get(options);
  if (!storage) {
    storage = createStorageClient(options);
    clients.set(options, storage);
  }
  return new GcsBlobStore(tier, bucket, storage, { downloadConcurrency: options.downloadConcurrency });
}

/**
 * Objects of one bucket. `root` and `prefix` are object-name prefixes inside the bucket
 * (`dt=2025-03-09/`, or `` for the whole bucket); object URLs are `gs://bucket/name`.
 * Takes its client from the caller, so tests can point a real client at an emulator.
 */
export class GcsBlobStore implements BlobStore {
  private readonly limit: LimitFunction;
  private readonly attempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly tier: string,
    private readonly bucket: string,
    private readonly storage: Storage,
    options: GcsStoreOptions = {},
  ) {
    let limit = downloadLimits.get(storage);
    if (!limit) {
      limit = pLimit(options.downloadConcurrency ?? GCS_DOWNLOAD_CONCURRENCY);
      downloadLimits.set(storage, limit);
    }
    this.limit = limit;
    this.attempts = Math.max(1, options.retryAttempts ?? GCS_RETRY_ATTEMPTS);
    this.baseDelayMs = options.retryBaseDelayMs ?? GCS_RETRY_BASE_DELAY_MS;
  }

  /**
   * A bucket has no folders, so only the bucket must exist. Checked with a one-object listing, which
   * needs storage.objects.list (which reading needs anyway), not storage.buckets.get (which
   * roles/storage.objectViewer does not grant).
   */
  async assertRootExists(root: string, signal?: AbortSignal): Promise<void> {
    const bucketUrl = `gs://${this.bucket}`;
    await this.retrying(bucketUrl, signal, describeListFailure(this.bucket), () =>
      this.storage.bucket(this.bucket).getFiles({ prefix: root, maxResults: 1, autoPaginate: false, fields: 'items(name),nextPageToken' }),
    );
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<BlobObject> {
    const bucket = this.storage.bucket(this.bucket);
    let pageToken: string | undefined;
    do {
      throwIfAborted(signal);
      const token = pageToken;
      const [files, next] = await this.retrying(`gs://${this.bucket}/${prefix}`, signal, describeListFailure(this.bucket), () =>
        bucket.getFiles({
          prefix,
          autoPaginate: false,
          maxResults: GCS_LIST_PAGE_SIZE,
          fields: LIST_FIELDS,
          ...(token ? { pageToken: token } : {}),
        }),
      );
      for (const file of files) {
        const meta = resourceOf(file);
        const name = meta.name;
        if (!name || !RECORD_OBJECT.test(name)) continue;
        const size = meta.size === undefined ? undefined : Number(meta.size);
        yield {
          url: `gs://${this.bucket}/${name}`,
          gzip: name.toLowerCase().endsWith('.gz') || meta.contentEncoding === 'gzip',
          ...(meta.generation !== undefined ? { generation: String(meta.generation) } : {}),
          ...(size !== undefined && Number.isFinite(size) ? { size } : {}),
        };
      }
      // The client gives null, not an empty query, after the last page.
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  /**
   * Downloads the object, pinned to its listed generation, into `scratchPath`, decompressing gzip
   * itself: the client's decompression is off so that a truncated gzip fails here instead of ending
   * early. A dropped connection, a 429 or a 5xx restarts the object from byte 0 into a truncated
   * file, so a retry never counts a line twice.
   */
  stage(object: BlobObject, scratchPath: string, signal?: AbortSignal): Promise<string> {
    const parsed = parseGsUrl(object.url);
    if (!parsed || parsed.bucket !== this.bucket || parsed.name === '') {
      return Promise.reject(new TierError(this.tier, object.url, `is not an object of gs://${this.bucket}`));
    }
    return this.limit(async () => {
      await this.retrying(object.url, signal, describeDownloadFailure(this.bucket, object), () =>
        this.downloadOnce(parsed.name, object, scratchPath, signal),
      );
      return scratchPath;
    });
  }

  private async downloadOnce(name: string, object: BlobObject, scratchPath: string, signal?: AbortSignal): Promise<void> {
    const file = this.storage.bucket(this.bucket).file(name, object.generation ? { generation: object.generation } : {});
    const source = file.createReadStream({ decompress: false });
    // The request starts on the first read; the headers decide whether there is gzip to undo.
    const response = once(source, 'response', signal ? { signal } : {});
    source.read(0);
    let res: { headers?: Record<string, string | undefined> };
    try {
      [res] = (await response) as [typeof res];
    } catch (e) {
      source.destroy();
      throw new DownloadError(e, 0, object.size);
    }
    const headers = res.headers ?? {};
    const sentGzip = headers['content-encoding'] === 'gzip';
    // Decompressive transcoding: the object is stored gzip but was served plain, and its size is not what arrives.
    const transcoded = headers['x-goog-stored-content-encoding'] === 'gzip' && !sentGzip;
    const gunzip = sentGzip || (object.gzip && !transcoded);
    const expected = transcoded ? undefined : object.size;

    const counter = new ByteCounter();
    try {
      await pipeline([source, counter, ...(gunzip ? [createGunzip()] : []), createWriteStream(scratchPath, { flags: 'w' })], signal ? { signal } : {});
    } catch (e) {
      throw new DownloadError(e, counter.bytes, expected);
    }
    if (expected !== undefined && counter.bytes !== expected) {
      throw new DownloadError(undefined, counter.bytes, expected);
    }
  }

  /** Runs `request` until it succeeds, fails for good, or the attempts run out; then throws TierError. */
  private async retrying<T>(url: string, signal: AbortSignal | undefined, describe: (e: unknown) => Failure, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      try {
        return await request();
      } catch (e) {
        if (signal?.aborted) throw new AbortedError();
        const failure = describe(e);
        if (!failure.retry || attempt >= this.attempts) {
          const suffix = failure.retry ? ` (gave up after ${attempt} attempts)` : '';
          throw new TierError(this.tier, url, `${failure.message}${suffix}`, failure.retriable, { cause: e });
        }
      }
      const delayMs = Math.min(GCS_RETRY_MAX_DELAY_MS, this.baseDelayMs * 2 ** (attempt - 1));
      try {
        await sleep(delayMs + Math.random() * delayMs, undefined, signal ? { signal } : {});
      } catch {
        throw new AbortedError();
      }
    }
  }
}

/**
 * Uploads `localFile` as `gs://bucket/name` in a single request (`resumable: false`). Atomic from a
 * reader's view: GCS makes an object visible only when its upload request completes, so a reader
 * sees the previous generation or the whole new one, never part of it; a failed upload leaves the
 * previous generation in place. Retried like downloads; throws TierError (tier `--out`) naming the URL.
 */
export async function writeGcsObject(
  storage: Storage,
  bucket: string,
  name: string,
  localFile: string,
  options: { contentType?: string; signal?: AbortSignal; retryAttempts?: number; retryBaseDelayMs?: number } = {},
): Promise<string> {
  const url = `gs://${bucket}/${name}`;
  const attempts = Math.max(1, options.retryAttempts ?? GCS_RETRY_ATTEMPTS);
  const baseDelayMs = options.retryBaseDelayMs ?? GCS_RETRY_BASE_DELAY_MS;
  const { signal } = options;
  const file = storage.bucket(bucket).file(name);
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      await pipeline(
        createReadStream(localFile),
        file.createWriteStream({
          resumable: false,
          validation: 'crc32c',
          contentType: options.contentType ?? contentTypeOf(name),
          // Reports are rewritten in place; a cached copy would show yesterday's run.
          metadata: { cacheControl: 'no-cache' },
        }),
        signal ? { signal } : {},
      );
      return url;
    } catch (e) {
      if (signal?.aborted) throw new AbortedError();
      const failure = describeFailure(e, {
        403: `permission denied (403) — the credentials need storage.objects.create (and storage.objects.delete to replace) on bucket "${bucket}"`,
        404: `bucket "${bucket}" does not exist (404) — check the --out location`,
      });
      if (!failure.retry || attempt >= attempts) {
        throw new TierError('--out', url, `cannot write: ${failure.message}`, failure.retriable, { cause: e });
      }
      const delayMs = Math.min(GCS_RETRY_MAX_DELAY_MS, baseDelayMs * 2 ** (attempt - 1));
      try {
        await sleep(delayMs + Math.random() * delayMs, undefined, signal ? { signal } : {});
      } catch {
        throw new AbortedError();
      }
    }
  }
}

function contentTypeOf(name: string): string {
  const ext = path.extname(name).toLowerCase();
  if (ext === '.csv') return 'text/csv; charset=utf-8';
  if (ext === '.html') return 'text/html; charset=utf-8';
  if (ext === '.json') return 'application/json';
  return 'application/octet-stream';
}

/** What a failed attempt means: `retry` now, and whether the run as a whole is `retriable` later. */
interface Failure {
  message: string;
  retry: boolean;
  retriable: boolean;
}

/** A download attempt that failed, with how far it got. */
class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    override readonly cause: unknown,
    readonly received: number,
    readonly expected: number | undefined,
  ) {
    super(cause instanceof Error ? cause.message : `received ${received} of ${expected ?? '?'} bytes`);
  }
}

function describeListFailure(bucket: string): (e: unknown) => Failure {
  return (e) =>
    describeFailure(e, {
      404: 'bucket does not exist (404) — check the bucket name',
      403: `permission denied (403) — the credentials need storage.objects.list on bucket "${bucket}" (e.g. roles/storage.objectViewer)`,
    });
}

function describeDownloadFailure(bucket: string, object: BlobObject): (e: unknown) => Failure {
  return (e) => {
    if (!(e instanceof DownloadError)) return describeFailure(e, {});
    const { cause, received, expected } = e;
    const short = expected !== undefined && received < expected;
    if (cause === undefined) {
      // The stream ended cleanly but early (or late): the connection, not the object, is at fault.
      return { message: `connection dropped mid-object: received ${received} of ${expected} bytes`, retry: true, retriable: true };
    }
    const code = errorCode(cause);
    if (typeof code === 'string' && code.startsWith('Z_')) {
      // gzip that ends early because fewer bytes arrived than are stored is a dropped connection;
      // gzip that is bad in bytes that did arrive is a corrupt object, and reading it again will not help.
      if (short && code === 'Z_BUF_ERROR') {
        return { message: `connection dropped mid-object: received ${received} of ${expected} bytes`, retry: true, retriable: true };
      }
      return {
        message: `not valid gzip (${code}) — the object is corrupt or truncated${object.generation ? ` (generation ${object.generation})` : ''}`,
        retry: false,
        retriable: false,
      };
    }
    const failure = describeFailure(cause, {
      404: `object not found at generation ${object.generation ?? '(latest)'} (404) — it was deleted or replaced after listing; run again`,
      403: `permission denied (403) — the credentials need storage.objects.get on bucket "${bucket}"`,
    });
    // A replaced object is found at its new generation by the next run's listing.
    if (errorCode(cause) === 404) return { ...failure, retriable: true };
    if (short && !failure.retry && typeof errorCode(cause) !== 'number') {
      return { message: `connection dropped mid-object: received ${received} of ${expected} bytes (${failure.message})`, retry: true, retriable: true };
    }
    return failure;
  };
}

/** Classifies by HTTP status or error code, never by message text. */
function describeFailure(e: unknown, byStatus: Partial<Record<number, string>>): Failure {
  const code = errorCode(e);
  if (typeof code === 'number') {
    const known = byStatus[code];
    if (known) return { message: known, retry: false, retriable: false };
    if (code === 401) {
      return {
        message: 'not authenticated (401) — check Application Default Credentials (gcloud auth application-default login, or the workload identity)',
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
  return { message: `request failed${typeof code === 'string' ? ` (${code})` : ''}: ${detail}`, retry: false, retriable: false };
}

function errorCode(e: unknown): number | string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number' || typeof code === 'string') return code;
  return undefined;
}

/** With `fields` set, the client hands back the raw object resource instead of a File. */
function resourceOf(file: File | FileMetadata): FileMetadata {
  return file instanceof File ? file.metadata : file;
}

/** Counts the raw (possibly compressed) bytes that arrived, to tell a dropped connection from a corrupt object. */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}
