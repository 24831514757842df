import type { Storage } from '@google-cloud/storage';
import pLimit, { type LimitFunction } from 'p-limit';
import type { GcsOptions } from '../config.js';
import type { ParsedLocation } from '../locations.js';
import type { BlobStore } from './blob-store.js';
import { type CacheStore, LocalCacheStore } from './cache-store.js';
import { type JobFiles, LocalBlobStore } from './local-store.js';

/**
 * The run's one GCS client and its one download limit: the client is made on first use (a run over
 * local files never loads the cloud SDK), then shared by every bucket the run reads — every batch
 * of a backfill too — and by the `--out gs://` upload.
 */
export class GcsConnection {
  /** Downloads at once across the run (gcs.downloadConcurrency). */
  readonly downloads: LimitFunction;
  private client: Promise<Storage> | undefined;

  constructor(readonly options: GcsOptions) {
    this.downloads = pLimit(options.downloadConcurrency);
  }

  storage(): Promise<Storage> {
    return (this.client ??= import('./gcs-store.js').then(({ createStorageClient }) =>
      createStorageClient(this.options),
    ));
  }
}

/** The store behind a location: one per tier and bucket, all of a scheme on the run's client. */
export class StoreRegistry {
  private readonly stores = new Map<string, Promise<BlobStore>>();
  constructor(
    private readonly gcs: GcsConnection,
    /** The job's own files no tier reads, however they are reached (a symlink): the cache's, the reports'. */
    private readonly unread: readonly JobFiles[] = [],
  ) {}

  storeFor(tier: string, location: ParsedLocation): Promise<BlobStore> {
    const key = `${tier}|${location.scheme}|${location.bucket}`;
    let store = this.stores.get(key);
    if (!store) {
      store =
        location.scheme === 'gs'
          ? this.openGcs(tier, location.bucket)
          : Promise.resolve(new LocalBlobStore(tier, this.unread));
      this.stores.set(key, store);
    }
    return store;
  }

  private readonly caches = new Map<string, Promise<CacheStore>>();

  /**
   * The per-object cache's store: a local folder, or a gs:// prefix on the run's client. One a location for the
   * registry's run, so that a store found unusable is said once for the run (ObjectCache), not once a batch.
   */
  cacheStore(location: ParsedLocation): Promise<CacheStore> {
    const key = `${location.scheme}|${location.bucket}|${location.template}`;
    let store = this.caches.get(key);
    if (!store) this.caches.set(key, (store = this.openCache(location)));
    return store;
  }

  private async openCache(location: ParsedLocation): Promise<CacheStore> {
    if (location.scheme === 'file') return new LocalCacheStore(location.template);
    const [{ GcsCacheStore }, storage] = await Promise.all([import('./gcs-cache-store.js'), this.gcs.storage()]);
    const prefix =
      location.template === '' || location.template.endsWith('/') ? location.template : `${location.template}/`;
    return new GcsCacheStore(storage, location.bucket, prefix);
  }

  private async openGcs(tier: string, bucket: string): Promise<BlobStore> {
    const [{ openGcsStore }, storage] = await Promise.all([import('./gcs-store.js'), this.gcs.storage()]);
    return openGcsStore(tier, bucket, this.gcs.options, storage, this.gcs.downloads);
  }
}
