import { randomBytes } from 'node:crypto';
import { copyFile, link, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir, noHardLinks } from '../folders.js';

/**
 * Where the per-object cache keeps its entry files (src/engine/object-cache.ts): a local folder the cron
 * mounts, or a gs:// prefix. Names are flat (`<digest>.parquet`, `<digest>.json`); every write is whole
 * or absent to a reader (a temporary file renamed into place, or one single-request upload).
 */
export interface CacheStore {
  /** The location as configured, for messages. */
  readonly where: string;
  /**
   * The entry file as a local path: the file itself in a local folder, or downloaded into `scratch`.
   * Undefined when there is no such entry; throws when it exists but cannot be read.
   */
  fetch(name: string, scratch: string): Promise<string | undefined>;
  /** Keeps `localFile` as the entry `name`, replacing any. */
  put(name: string, localFile: string): Promise<void>;
  /** Removes the entry; an absent one is no error. */
  remove(name: string): Promise<void>;
}

/** A local folder (created on first write). */
export class LocalCacheStore implements CacheStore {
  constructor(readonly where: string) {}

  /**
   * The entry hard-linked into `scratch` when the two share a file system, so that what the run checks
   * and later reads stays that file even if another run sharing the folder replaces or removes the entry
   * meanwhile (a rename puts a new file under the name; the link keeps the old one). Across file systems
   * (a mounted cache folder, scratch on /tmp: the CronJob's layout), a copy, for the same reason: the entry
   * read where it lay could be removed between the check and the read (another run discarding it, a prune
   * by age), and the run then failed as a bug, exit 4, where a cache can only cost speed.
   */
  async fetch(name: string, scratch: string): Promise<string | undefined> {
    const file = path.join(this.where, name);
    const linked = path.join(scratch, name);
    // Fetched before in this run: the entry may have been rebuilt since, so link it again.
    await unlink(linked).catch(() => {});
    try {
      await link(file, linked);
      return linked;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (!noHardLinks(e)) throw e;
    }
    try {
      await copyFile(file, linked);
      return linked;
    } catch (e) {
      await unlink(linked).catch(() => {});
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(name: string, localFile: string): Promise<void> {
    await ensureDir(this.where);
    // Unique to this write: two batches of one run (backfill --concurrency) may keep the same entry at once.
    const tmp = path.join(this.where, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await copyFile(localFile, tmp);
      await rename(tmp, path.join(this.where, name));
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  async remove(name: string): Promise<void> {
    await unlink(path.join(this.where, name)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}
