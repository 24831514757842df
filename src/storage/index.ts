import type { GcsOptions } from '../config.js';
import type { ParsedLocation } from '../locations.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-store.js';

/**
 * The store behind a location. GCS is imported lazily so that a run over local files never loads
 * the cloud SDK. Clients are made once per run and shared by every location of a scheme.
 */
export class StoreRegistry {
  private readonly stores = new Map<string, Promise<BlobStore>>();
  constructor(private readonly gcs: GcsOptions) {}

  storeFor(tier: string, location: ParsedLocation): Promise<BlobStore> {
    const key = `${tier}|${location.scheme}|${location.bucket}`;
    let store = this.stores.get(key);
    if (!store) {
      store =
        location.scheme === 'gs' ? this.openGcs(tier, location.bucket) : Promise.resolve(new LocalBlobStore(tier));
      this.stores.set(key, store);
    }
    return store;
  }

  private async openGcs(tier: string, bucket: string): Promise<BlobStore> {
    const { openGcsStore } = await import('./gcs-store.js');
    return openGcsStore(tier, bucket, this.gcs);
  }
}
