import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { File, type FileMetadata, Storage } from '@google-cloud/storage';
import { nativeCrc32cGenerator } from './crc32c.js';
import pLimit, { type LimitFunction } from 'p-limit';
import type { GcsOptions } from '../config.js';
import { TierError, throwIfAborted } from '../errors.js';
import { type BlobObject, type BlobStore, RECORD_OBJECT, type StoredObject } from './blob-store.js';
import {
  DownloadError,
  describeDownloadFailure,
  describeFailure,
  describeListFailure,
  type Failure,
  namingEndpoint,
  type RetryPolicy,
  retrying,
  retryPolicy,
  STALLED,
} from './gcs-failures.js';
import { GCS_DOWNLOAD_CONCURRENCY } from '../limits.js';

export { GCS_DOWNLOAD_CONCURRENCY };
export { GCS_RETRY_ATTEMPTS, GCS_RETRY_BASE_DELAY_MS, GCS_RETRY_MAX_DELAY_MS } from './gcs-failures.js';
/**
 * A download that receives no byte for this long is abandoned and retried. Needed, not just prudent:
 * the client (teeny-request on node-fetch 2) neither errors nor ends a response whose connection drops
 * mid-body, so without it such a download hangs forever (googleapis/nodejs-storage#1822).
 */
export const GCS_DOWNLOAD_STALL_TIMEOUT_MS = 30_000;
/** One single-request upload, body and answer included (the client's default is 60 s). */
export const GCS_UPLOAD_TIMEOUT_MS = 10 * 60 * 1000;
/** Objects per listing request: the API's maximum. */
export const GCS_LIST_PAGE_SIZE = 1000;
/** Only what `list` needs; a full object resource is about five times larger. */
const LIST_FIELDS = 'items(name,generation,size,contentEncoding),nextPageToken';

export interface GcsStoreOptions {
  /** Downloads at once through this store, when no downloadLimit is given. Default {@link GCS_DOWNLOAD_CONCURRENCY}. */
  downloadConcurrency?: number;
  /** The run's download limit, shared by every store of the run (see StoreRegistry). */
  downloadLimit?: LimitFunction;
  retryAttempts?: number;
  retryBaseDelayMs?: number;
  stallTimeoutMs?: number;
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
    ...(endpoint ? { apiEndpoint: endpoint, useAuthWithCustomEndpoint: !/^http:/i.test(endpoint) } : {}),
    retryOptions: { autoRetry: false },
    crc32cGenerator: nativeCrc32cGenerator,
  });
}

/**
 * The BlobStore for one bucket of `gs://` locations, on `storage` (the run's client: see
 * StoreRegistry), else on a client of its own made from the options.
 */
export async function openGcsStore(
  tier: string,
  bucket: string,
  options: GcsOptions,
  storage: Storage = createStorageClient(options),
  downloadLimit?: LimitFunction,
): Promise<BlobStore> {
  return new GcsBlobStore(tier, bucket, storage, {
    downloadConcurrency: options.downloadConcurrency,
    ...(downloadLimit ? { downloadLimit } : {}),
  });
}

/**
 * Objects of one bucket. `root` and `prefix` are object-name prefixes inside the bucket
 * (`dt=2025-03-09/`, or `` for the whole bucket); object URLs are `gs://bucket/name`.
 * Takes its client from the caller, so tests can point a real client at an emulator.
 */
export class GcsBlobStore implements BlobStore {
  private readonly limit: LimitFunction;
  private readonly policy: RetryPolicy;
  private readonly stallTimeoutMs: number;

  constructor(
    private readonly tier: string,
    private readonly bucket: string,
    private readonly storage: Storage,
    options: GcsStoreOptions = {},
  ) {
    this.limit = options.downloadLimit ?? pLimit(options.downloadConcurrency ?? GCS_DOWNLOAD_CONCURRENCY);
    this.policy = retryPolicy(options);
    this.stallTimeoutMs = options.stallTimeoutMs ?? GCS_DOWNLOAD_STALL_TIMEOUT_MS;
  }

  /**
   * A bucket has no folders, so only the bucket must exist. Checked with a one-object listing, which
   * needs storage.objects.list (which reading needs anyway), not storage.buckets.get (which
   * roles/storage.objectViewer does not grant).
   */
  async assertRootExists(root: string, signal?: AbortSignal, keyPath?: string): Promise<void> {
    const bucketUrl = `gs://${this.bucket}`;
    await this.retrying(bucketUrl, signal, describeListFailure(this.bucket, keyPath), () =>
      this.storage
        .bucket(this.bucket)
        .getFiles({ prefix: root, maxResults: 1, autoPaginate: false, fields: 'items(name),nextPageToken' }),
    );
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<BlobObject> {
    const bucket = this.storage.bucket(this.bucket);
    // A location names a folder or an object, as a local path does: `dt=2025-03-09` is not `dt=2025-03-09-bak/`.
    const within = (name: string) =>
      prefix === '' || prefix.endsWith('/') || name === prefix || name.startsWith(`${prefix}/`);
    let pageToken: string | undefined;
    do {
      throwIfAborted(signal);
      const token = pageToken;
      const [files, next] = await this.retrying(
        `gs://${this.bucket}/${prefix}`,
        signal,
        describeListFailure(this.bucket),
        () =>
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
        if (!name || !RECORD_OBJECT.test(name) || !within(name)) continue;
        const size = meta.size === undefined ? undefined : Number(meta.size);
        const gzip = name.toLowerCase().endsWith('.gz') || meta.contentEncoding === 'gzip';
        yield {
          url: `gs://${this.bucket}/${name}`,
          gzip,
          ...(meta.generation !== undefined ? { generation: String(meta.generation) } : {}),
          ...(size !== undefined && Number.isFinite(size) ? { size } : {}),
          // A generation names one content of one object for ever: the per-object cache's key, with how it is
          // read (`Content-Encoding: gzip` set on it later, as `gsutil setmeta` does, keeps the generation).
          ...(meta.generation !== undefined
            ? { identity: `gs://${this.bucket}/${name}#${String(meta.generation)}${gzip ? ':gzip' : ''}` }
            : {}),
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

  /**
   * Downloads the object's bytes as stored, pinned to its listed generation, without decompressing:
   * into `scratchPath` (which should end in .gz) when they are gzip, else into it without the .gz.
   * Retried like `stage`; the caller checks the gzip.
   */
  fetchStored(object: BlobObject, scratchPath: string, signal?: AbortSignal): Promise<StoredObject> {
    const parsed = parseGsUrl(object.url);
    if (!parsed || parsed.bucket !== this.bucket || parsed.name === '') {
      return Promise.reject(new TierError(this.tier, object.url, `is not an object of gs://${this.bucket}`));
    }
    return this.limit(() =>
      this.retrying(object.url, signal, describeDownloadFailure(this.bucket, object), () =>
        this.downloadOnce(parsed.name, object, scratchPath, signal, true),
      ),
    );
  }

  private async downloadOnce(
    name: string,
    object: BlobObject,
    scratchPath: string,
    signal?: AbortSignal,
    stored = false,
  ): Promise<StoredObject> {
    const file = this.storage
      .bucket(this.bucket)
      .file(name, object.generation ? { generation: object.generation } : {});
    const source = file.createReadStream({ decompress: false });
    const counter = new ByteCounter(this.stallTimeoutMs, () => {
      source.destroy(Object.assign(new Error(`no data for ${this.stallTimeoutMs} ms`), { code: STALLED }));
    });
    try {
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
      // Decompressive transcoding: stored gzip but served plain, so the listed size is not what arrives.
      const transcoded = headers['x-goog-stored-content-encoding'] === 'gzip' && !sentGzip;
      const gzip = sentGzip || (object.gzip && !transcoded);
      const gunzip = gzip && !stored;
      const expected = transcoded ? undefined : object.size;
      // Stored bytes keep a name that says whether they are gzip: the engine tells compression by it.
      const out = stored && !gzip ? scratchPath.replace(/\.gz$/i, '') : scratchPath;
      try {
        await pipeline(
          [source, counter, ...(gunzip ? [createGunzip()] : []), createWriteStream(out, { flags: 'w' })],
          signal ? { signal } : {},
        );
      } catch (e) {
        throw new DownloadError(e, counter.bytes, expected);
      }
      // A body that ended while the run was being stopped is not taken for the whole object.
      throwIfAborted(signal);
      if (expected !== undefined && counter.bytes !== expected) {
        throw new DownloadError(undefined, counter.bytes, expected);
      }
      return { path: out, gzip: stored && gzip };
    } finally {
      counter.stopWatching();
    }
  }

  private retrying<T>(
    url: string,
    signal: AbortSignal | undefined,
    describe: (e: unknown) => Failure,
    request: () => Promise<T>,
  ): Promise<T> {
    return retrying(this.tier, url, this.policy, signal, namingEndpoint(this.storage.apiEndpoint, describe), request);
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
  const { signal } = options;
  const file = storage.bucket(bucket).file(name);
  const describe = (e: unknown): Failure => {
    const failure = describeFailure(e, {
      403:
        'permission denied (403) — the credentials need storage.objects.create ' +
        `(and storage.objects.delete to replace) on bucket "${bucket}"`,
      404: `bucket "${bucket}" does not exist (404) — check the --out location`,
    });
    return { ...failure, message: `cannot write: ${failure.message}` };
  };
  await retrying('--out', url, retryPolicy(options), signal, describe, () =>
    pipeline(
      createReadStream(localFile),
      file.createWriteStream({
        resumable: false,
        timeout: GCS_UPLOAD_TIMEOUT_MS,
        validation: 'crc32c',
        contentType: options.contentType ?? contentTypeOf(name),
        // Reports are rewritten in place; a cached copy would show yesterday's run.
        metadata: { cacheControl: 'no-cache' },
      }),
      signal ? { signal } : {},
    ),
  );
  return url;
}

/** Removes the object `name` where it is (an absent one is no error): a report a re-run no longer has. */
export async function deleteGcsObject(
  storage: Storage,
  bucket: string,
  name: string,
  options: { signal?: AbortSignal; retryAttempts?: number; retryBaseDelayMs?: number } = {},
): Promise<void> {
  const describe = (e: unknown): Failure => {
    const failure = describeFailure(e, {
      403: `permission denied (403) — the credentials need storage.objects.delete on bucket "${bucket}"`,
    });
    return { ...failure, message: `cannot remove: ${failure.message}` };
  };
  const file = storage.bucket(bucket).file(name);
  await retrying('--out', `gs://${bucket}/${name}`, retryPolicy(options), options.signal, describe, () =>
    file.delete({ ignoreNotFound: true }).then(() => undefined),
  );
}

function contentTypeOf(name: string): string {
  const ext = path.extname(name).toLowerCase();
  if (ext === '.csv') return 'text/csv; charset=utf-8';
  if (ext === '.html') return 'text/html; charset=utf-8';
  if (ext === '.json') return 'application/json';
  return 'application/octet-stream';
}

/** With `fields` set, the client hands back the raw object resource instead of a File. */
function resourceOf(file: File | FileMetadata): FileMetadata {
  return file instanceof File ? file.metadata : file;
}

/**
 * Counts the raw (possibly compressed) bytes that arrive, to tell a dropped connection from a corrupt
 * object, and calls `onStall` when none has arrived for `stallTimeoutMs` (from creation on, so a
 * response whose headers never come is caught too).
 */
class ByteCounter extends Transform {
  bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stallTimeoutMs: number,
    private readonly onStall: () => void,
  ) {
    super();
    this.watch();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.watch();
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.stopWatching();
    callback();
  }

  stopWatching(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private watch(): void {
    this.stopWatching();
    // Not unref'd: a download waiting on a dead connection must keep the process alive until it is retried.
    this.timer = setTimeout(this.onStall, this.stallTimeoutMs);
  }
}
