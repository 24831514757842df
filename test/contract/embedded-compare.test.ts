import path from 'node:path';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { ContentMismatch } from '../../src/engine/compare.js';
import { DuckDbEngine } from '../../src/engine/duckdb-engine.js';
import { duckdbComparing } from '../../src/engine/compare-duckdb.js';
import { compareSqlOf } from '../../src/engine/compare-sql.js';
import { readdir, rm } from 'node:fs/promises';
import { dayWindow } from '../../src/dates.js';
import { ObjectCache } from '../../src/engine/object-cache.js';
import { silentLogger } from '../../src/log/logger.js';
import { LocalCacheStore } from '../../src/storage/cache-store.js';
import { openEmbeddedEngine } from '../support/embedded-engine.js';
import { tempDir, withTempDir, writeNdjson } from '../support/files.js';
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

// The embedded engine streams a table's rows in: the fixture's final table is served from memory.
compareContract('embedded DuckDB', async () => {
  const dir = await tempDir('parity-compare-contract-');
  return {
    engine: await openEmbeddedEngine(dir, COMPARE),
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
  const engine = await openEmbeddedEngine(dir, compare);
  try {
    await engine.setWindows([dayWindow(DAY, ZONE)]);
    await engine.loadEmpty('proxy');
    await engine.beginStreamed('kafka');
    await engine.appendStreamed('kafka', kafkaRows());
    await engine.finishStreamed('kafka', SITES);
    await engine.loadEmpty('bigquery');
    const staged = [{ path: file, url: file, folderDay: DAY, identity: 'part-0 v1' }];
    await engine.loadFiles('gcs', staged, FIELDS, SITES, { lateDays: 1, clockSkewDays: 0 }, cache);
    await engine.joinIds([DAY], false);
    await engine.compare!.compareIds(false, SITES);
    return await listMismatches(engine, DAY);
  } finally {
    await engine.close();
  }
}

describe('compare in the embedded engine with the gcs files as the final tier', () => {
  it('finds the same mismatches in NDJSON files as in streamed rows', () =>
    withTempDir('parity-compare-files-', async (dir) => {
      await expect(compareWithFiles(dir)).resolves.toEqual(expectedMismatches());
    }));

  it('finds the same mismatches from the per-object cache, cold and warm', () =>
    withTempDir('parity-compare-cache-', async (dir) => {
      const cache = cacheIn(dir);
      await expect(compareWithFiles(dir, cache)).resolves.toEqual(expectedMismatches());
      const entries = await readdir(path.join(dir, 'cache'));
      await expect(compareWithFiles(dir, cache)).resolves.toEqual(expectedMismatches());
      expect(await readdir(path.join(dir, 'cache'))).toEqual(entries);
    }));

  it('never reuses a cache entry made with other compared fields, or none', () =>
    withTempDir('parity-compare-cache-key-', async (dir) => {
      const cache = cacheIn(dir);
      const plain = await openEmbeddedEngine(dir);
      try {
        await plain.setWindows([dayWindow(DAY, ZONE)]);
        const file = path.join(dir, 'landed', 'part-0.ndjson');
        await writeNdjson(file, finalRecords());
        await plain.loadFiles(
          'gcs',
          [{ path: file, url: file, folderDay: DAY, identity: 'part-0 v1' }],
          FIELDS,
          SITES,
          { lateDays: 1, clockSkewDays: 0 },
          cache,
        );
      } finally {
        await plain.close();
      }
      // The objects' entries (each day's rows have their own, day-*, named by the same settings).
      const objectEntries = async () => (await readdir(path.join(dir, 'cache'))).filter((n) => !n.startsWith('day-'));
      const withoutCompare = await objectEntries();
      // Entries made without hashes would compare nothing: with compare on, the object is parsed again.
      await expect(compareWithFiles(dir, cache)).resolves.toEqual(expectedMismatches());
      const withCompare = await objectEntries();
      expect(withCompare.length).toBe(withoutCompare.length + 2);
      await expect(compareWithFiles(dir, cache, ['user.id'])).resolves.toEqual(
        expectedMismatches()
          .filter((m) => m.fields.includes('user.id'))
          .map((m) => ({ ...m, fields: ['user.id'] })),
      );
      expect((await objectEntries()).length).toBe(withCompare.length + 2);
    }));
});

describe("compare holds no day of Kafka's values", () => {
  it(
    'takes the tags of each batch as it comes: 60 messages of 2 MB pass a 256MiB engine, and compare',
    () =>
      withTempDir('parity-compare-large-', async (dir) => {
        const ids = Array.from({ length: 60 }, (_, i) => `big-${i}`);
        const pad = 'y'.repeat(2 * 1024 * 1024);
        const file = path.join(dir, 'landed', 'part-0.ndjson');
        // Each landed as sent but the last, whose amount a sink rewrote.
        await writeNdjson(
          file,
          ids.map((rid, i) => ({
            ts: Date.parse(`${DAY}T10:00:00Z`) + i,
            request_id: rid,
            site: 'US',
            body: { amount: i === 59 ? '6' : '5', note: 'n' },
            user: { id: 'u-1' },
          })),
        );
        const engine = await DuckDbEngine.open({
          memoryLimit: '256MiB',
          threads: 1,
          tempDirectory: path.join(dir, 'spill'),
          compare: COMPARE,
        });
        try {
          await engine.setWindows([dayWindow(DAY, ZONE)]);
          await engine.loadEmpty('proxy');
          await engine.beginStreamed('kafka');
          for (const [i, rid] of ids.entries())
            await engine.appendStreamed('kafka', [
              {
                region: 'EUS2',
                timestampMs: Date.parse(`${DAY}T10:00:00Z`) + i,
                requestId: rid,
                siteHeader: 'US',
                inFlight: false,
                n: 1,
                payload: JSON.stringify({ body: { amount: '5', note: 'n' }, user: { id: 'u-1' }, pad }),
              },
            ]);
          await engine.finishStreamed('kafka', SITES);
          await engine.loadEmpty('bigquery');
          const staged = [{ path: file, url: file, folderDay: DAY, identity: 'part-0 v1' }];
          await engine.loadFiles('gcs', staged, FIELDS, SITES, { lateDays: 1, clockSkewDays: 0 });
          await engine.joinIds([DAY], false);
          await engine.compare!.compareIds(false, SITES);
          const listed = await listMismatches(engine, DAY);
          expect(listed.map((m) => [m.requestId, m.fields])).toEqual([['big-59', ['body.amount']]]);
        } finally {
          await engine.close();
        }
      }),
    120_000,
  );
});

describe('the embedded engine lists a day of mismatches a page at a time', () => {
  it('gives every mismatch once, in report order, across page boundaries, sites and UNKNOWN', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const ids = ['US', 'CA', 'UNKNOWN'].flatMap((site) => ['b', 'a', 'c"', 'd\n'].map((rid) => ({ site, rid })));
      const values = (side: 'k' | 'f') =>
        ids.map(({ site, rid }) => `('record', DATE '${DAY}', '${site}', '${rid.replace("'", "''")}', ['0:${side}'])`);
      for (const [table, side] of [
        ['agg_kafka', 'k'],
        ['agg_bigquery', 'f'],
      ] as const)
        await db.run(
          `CREATE TABLE ${table} AS SELECT * FROM (VALUES ${values(side).join(', ')}) t(kind, day, site, rid, hashes)`,
        );
      const rows = async (sql: string, v?: Record<string, DuckDBValue>) =>
        (await db.runAndReadAll(sql, v)).getRowObjectsJS() as Record<string, unknown>[];
      const comparing = duckdbComparing(
        compareSqlOf(['a.b'])!,
        { run: (sql, v, t) => db.run(sql, v, t).then(() => {}), rows },
        5,
      );
      await comparing.compareIds(true, SITES);
      const pages: ContentMismatch[][] = [];
      for await (const page of comparing.mismatches(DAY)) pages.push(page);
      expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
      const order = ['US', 'CA', 'UNKNOWN'];
      const sorted = [...ids].sort(
        (x, y) => order.indexOf(x.site) - order.indexOf(y.site) || (x.rid < y.rid ? -1 : x.rid > y.rid ? 1 : 0),
      );
      expect(pages.flat()).toEqual(sorted.map(({ site, rid }) => ({ site, requestId: rid, fields: ['a.b'] })));
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });
});
