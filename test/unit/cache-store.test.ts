import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalCacheStore } from '../../src/storage/cache-store.js';
import { withTempDir } from '../support/files.js';

describe('LocalCacheStore', () => {
  it('hands out an entry that stays what it was while another run replaces or removes it', () =>
    withTempDir('parity-cache-store-', async (dir) => {
      const store = new LocalCacheStore(path.join(dir, 'cache'));
      const scratch = path.join(dir, 'scratch');
      await mkdir(scratch);
      const made = path.join(dir, 'made');
      await writeFile(made, 'first');
      await store.put('e.parquet', made);
      const held = await store.fetch('e.parquet', scratch);
      expect(held).toBe(path.join(scratch, 'e.parquet'));
      // Another run keeps a new entry under the name, then a third removes it: the held file is unchanged.
      await writeFile(made, 'second');
      await store.put('e.parquet', made);
      expect(await readFile(held!, 'utf8')).toBe('first');
      await store.remove('e.parquet');
      expect(await readFile(held!, 'utf8')).toBe('first');
      expect(await store.fetch('e.parquet', scratch)).toBeUndefined();
      // Fetched again after it was rebuilt: the new entry, not the one held before.
      await store.put('e.parquet', made);
      expect(await readFile((await store.fetch('e.parquet', scratch))!, 'utf8')).toBe('second');
    }));

  it('keeps one whole entry when writes of the same name run at once (the batches of one run)', () =>
    withTempDir('parity-cache-store-', async (dir) => {
      const store = new LocalCacheStore(path.join(dir, 'cache'));
      const made = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const file = path.join(dir, `made-${i}`);
          await writeFile(file, `entry ${i} `.repeat(10_000));
          return file;
        }),
      );
      await Promise.all(made.map((file) => store.put('e.parquet', file)));
      const kept = await readFile(path.join(dir, 'cache', 'e.parquet'), 'utf8');
      expect(made.map((_, i) => `entry ${i} `.repeat(10_000))).toContain(kept);
      expect(await readdir(path.join(dir, 'cache'))).toEqual(['e.parquet']);
    }));

  it('copies an entry into scratch when the cache is on another file system, so that its removal cannot fail the read', async () => {
    // /dev/shm is a tmpfs of its own on Linux: a hard link to the scratch folder cannot cross to it.
    const where = await mkdtemp('/dev/shm/parity-cache-');
    try {
      await withTempDir('parity-cache-scratch-', async (scratch) => {
        const store = new LocalCacheStore(where);
        const made = path.join(os.tmpdir(), `parity-made-${process.pid}`);
        await writeFile(made, 'entry');
        await store.put('e.json', made);
        await rm(made);
        const held = await store.fetch('e.json', scratch);
        expect(held).toBe(path.join(scratch, 'e.json'));
        // A prune by age (find -delete), or another run discarding the entry, before the run reads it.
        await store.remove('e.json');
        expect(await readFile(held!, 'utf8')).toBe('entry');
        expect(await store.fetch('e.json', scratch)).toBeUndefined();
        expect(await store.fetch('absent.json', scratch)).toBeUndefined();
      });
    } finally {
      await rm(where, { recursive: true, force: true });
    }
  });
});
