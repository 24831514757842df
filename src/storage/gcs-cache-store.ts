import path from 'node:path';
import { ApiError, type Storage } from '@google-cloud/storage';
import type { CacheStore } from './cache-store.js';

/**
 * The per-object cache under a gs:// prefix (`cache.location: gs://bucket/prefix/`), on the run's
 * client: an entry is downloaded into the run's scratch folder to be read, and written in one
 * single-request upload, so a reader sees a whole entry or none.
 */
export class GcsCacheStore implements CacheStore {
  readonly where: string;

  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {
    this.where = `gs://${bucket}/${prefix}`;
  }

  private file(name: string) {
    return this.storage.bucket(this.bucket).file(`${this.prefix}${name}`);
  }

  async fetch(name: string, scratch: string): Promise<string | undefined> {
    const destination = path.join(scratch, `cache-${name}`);
    try {
      await this.file(name).download({ destination, validation: 'crc32c' });
      return destination;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  async put(name: string, localFile: string): Promise<void> {
    // One request (not resumable): the object appears whole when it completes, or not at all.
    await this.storage.bucket(this.bucket).upload(localFile, {
      destination: `${this.prefix}${name}`,
      resumable: false,
      validation: 'crc32c',
      contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    });
  }

  async remove(name: string): Promise<void> {
    await this.file(name).delete({ ignoreNotFound: true });
  }
}
