import path from 'node:path';
import { readdir, rm } from 'node:fs/promises';
import { dayWindow } from '../../src/dates.js';
import { DuckDbEngine } from '../../src/engine/duckdb-engine.js';
import { ObjectCache } from '../../src/engine/object-cache.js';
import { silentLogger } from '../../src/log/logger.js';
import { LocalCacheStore } from '../../src/storage/cache-store.js';
import { tempDir, writeNdjson } from '../support/files.js';
import { memoryTable } from './engine-contract.js';
import {
  COMPARE,
  compareContract,
  DAY,
  expectedMismatches,
  finalRecords,
  finalRows,
  kafkaRows,
  listMismatches,
  SITES,
  ZONE,
} from './compare-contract.js';

const open = (dir: string, compare?: string[]) =>
  DuckDbEngine.open({
    memoryLimit: '256MB',
    threads: 1,
    tempDirectory: path.join(dir, 'spill'),
    ...(compare ? { compare } : {}),
  });

// The embedded engine streams a table's rows in: the fixture's final table is served from memory.
compareContract('embedded DuckDB', async () => {
  const dir = await tempDir('parity-compare-contract-');
  return {
    engine: await open(dir, COMPARE),
    final: memoryTable(finalRows()),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

const cacheIn = (dir: string) =>
  new ObjectCache(new LocalCacheStore(path.join(dir, 'cache')), silentLogger, path.join(dir, 'cache-scratch'));

const FIELDS = { timestamp: 'ts', request_id: 'request_id', site: 'site', status: 'status', region: 'region' };

/** Kafka as streamed, the final tier as the gcs tier's NDJSON files; compared with the files as final tier. */
async function compareWithFiles(dir: string, cache?: ObjectCache, compare: string[] = COMPARE) {
  const file = path.join(dir, 'landed', 'part-0.ndjson');
  await writeNdjson(file, finalRecords());
  const engine = await open(dir, compare);
  try {
    await engine.setWindows([dayWindow(DAY, ZONE)]);
    await engine.loadEmpty('proxy');
    await engine.beginStreamed('kafka');
    await engine.appendStreamed('kafka', kafkaRows());
    await engine.finishStreamed('kafka', SITES);
    await engine.loadEmpty('bigquery');
    const staged = [{ path: file, url: file, folderDay: DAY, identity: 'part-0 v1' }];
    await engine.loadFiles('gcs', staged, FIELDS, SITES, 1, cache);
    await engine.joinIds([DAY], false);
    await engine.compare!.compareIds(false, SITES);
    return await listMismatches(engine, DAY);
  } finally {
    await engine.close();
  }
}

describe('compare in the embedded engine with the gcs files as the final tier', () => {
  it('finds the same mismatches in NDJSON files as in streamed rows', async () => {
    const dir = await tempDir('parity-compare-files-');
    try {
      await expect(compareWithFiles(dir)).resolves.toEqual(expectedMismatches());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finds the same mismatches from the per-object cache, cold and warm', async () => {
    const dir = await tempDir('parity-compare-cache-');
    try {
      const cache = cacheIn(dir);
      await expect(compareWithFiles(dir, cache)).resolves.toEqual(expectedMismatches());
      const entries = await readdir(path.join(dir, 'cache'));
      await expect(compareWithFiles(dir, cache)).resolves.toEqual(expectedMismatches());
      expect(await readdir(path.join(dir, 'cache'))).toEqual(entries);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never reuses a cache entry made with other compared fields, or none', async () => {
    const dir = await tempDir('parity-compare-cache-key-');
    try {
      const cache = cacheIn(dir);
      const plain = await open(dir);
      try {
        await plain.setWindows([dayWindow(DAY, ZONE)]);
        const file = path.join(dir, 'landed', 'part-0.ndjson');
        await writeNdjson(file, finalRecords());
        await plain.loadFiles(
          'gcs',
          [{ path: file, url: file, folderDay: DAY, identity: 'part-0 v1' }],
          FIELDS,
          SITES,
          1,
          cache,
        );
      } finally {
        await plain.close();
      }
      const withoutCompare = await readdir(path.join(dir, 'cache'));
      // Entries made without hashes would compare nothing: with compare on, the object is parsed again.
      await expect(compareWithFiles(dir, cache)).resolves.toEqual(expectedMismatches());
      const withCompare = await readdir(path.join(dir, 'cache'));
      expect(withCompare.length).toBe(withoutCompare.length + 2);
      await expect(compareWithFiles(dir, cache, ['user.id'])).resolves.toEqual(
        expectedMismatches()
          .filter((m) => m.fields.includes('user.id'))
          .map((m) => ({ ...m, fields: ['user.id'] })),
      );
      expect((await readdir(path.join(dir, 'cache'))).length).toBe(withCompare.length + 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
