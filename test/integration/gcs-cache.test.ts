import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createStorageClient } from '../../src/storage/gcs-store.js';
import { counted, csvs, fromCache, reconcileDays, writeData } from '../support/cache-scenario.js';
import { type FakeGcs, startFakeGcs } from '../support/fake-gcs.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { tempDir, writeConfig } from '../support/files.js';

/**
 * The per-object cache under a gs:// prefix, on fake-gcs-server with the real client: entries are
 * written there, read back by the next run, and a damaged or unreachable one costs speed only.
 */
describe('the per-object cache in GCS', () => {
  let fake: FakeGcs;
  const BUCKET = 'parity-cache';
  const PREFIX = 'entries/';

  beforeAll(async () => {
    fake = await startFakeGcs();
  }, 300_000);

  afterAll(async () => {
    await fake?.stop();
  });

  const storage = () => createStorageClient({ projectId: 'parity-it', apiEndpoint: fake.endpoint });

  async function setUp(bucket: string, apiEndpoint = fake.endpoint) {
    const dir = await tempDir();
    await writeData(dir);
    const gcs = { locations: ['landed/dt={date}/'], apiEndpoint, projectId: 'parity-it' };
    // The three days in one pass, so that each tier logs what came from the cache once.
    const base = {
      timezone: 'Asia/Kolkata',
      engine: { batchDays: 3 },
      tiers: { proxy: { locations: ['proxy/dt={date}/'] }, gcs },
    };
    const plain = await writeConfig(dir, base, 'plain.json');
    const cached = await writeConfig(dir, { ...base, cache: { location: `gs://${bucket}/${PREFIX}` } }, 'cached.json');
    return { dir, plain, cached };
  }

  const reconcile = reconcileDays;

  const entries = async (bucket: string) => {
    const [files] = await storage().bucket(bucket).getFiles({ prefix: PREFIX });
    return files.map((f) => f.name).sort();
  };

  it('keeps each object’s entry under the prefix, and the next run reads them all with the same reports', async () => {
    await storage().createBucket(BUCKET);
    const { dir, plain, cached } = await setUp(BUCKET);
    const none = await reconcile(plain, path.join(dir, 'none'));
    const first = await reconcile(cached, path.join(dir, 'first'));
    const [proxy, gcs] = counted(first.stderr);
    expect(fromCache(first.stderr)).toEqual([
      `proxy: 0 of ${proxy} objects from cache`,
      `gcs: 0 of ${gcs} objects from cache`,
    ]);
    const all = await entries(BUCKET);
    // A Parquet file and its manifest per object, flat under the prefix; and per tier and report day its rows
    // (src/engine/day-slices.ts), 3 days of 2 tiers.
    const names = all.filter((n) => /^entries\/[0-9a-f]{64}\.(parquet|json)$/.test(n));
    expect(names).toHaveLength(2 * (proxy! + gcs!));
    expect(all.filter((n) => /^entries\/day-[0-9a-f]{64}\.(parquet|json)$/.test(n))).toHaveLength(2 * 6);
    expect(all).toHaveLength(names.length + 2 * 6);

    const second = await reconcile(cached, path.join(dir, 'second'));
    expect(fromCache(second.stderr)).toEqual([
      `proxy: ${proxy} of ${proxy} objects from cache`,
      `gcs: ${gcs} of ${gcs} objects from cache`,
    ]);
    expect(second.code).toBe(none.code);
    const expected = await csvs(path.join(dir, 'none'));
    expect(Object.keys(expected)).toHaveLength(9);
    expect(await csvs(path.join(dir, 'first'))).toEqual(expected);
    expect(await csvs(path.join(dir, 'second'))).toEqual(expected);

    // A damaged entry in the bucket is never trusted: it is logged, deleted, parsed again and kept anew.
    const parquet = names.find((n) => n.endsWith('.parquet'))!;
    await storage().bucket(BUCKET).file(parquet).save(Buffer.from('not parquet'), { resumable: false });
    const third = await reconcile(cached, path.join(dir, 'third'));
    expect(third.stderr).toMatch(/cache: the entry of .* is unreadable \(its content does not match its manifest\)/);
    expect(await csvs(path.join(dir, 'third'))).toEqual(expected);
    const [rebuilt] = await storage().bucket(BUCKET).file(parquet).download();
    expect(rebuilt.subarray(0, 4).toString()).toBe('PAR1');
  });

  it('asks the bucket once per object on a cold run: the lookup made when objects are listed is not repeated', async () => {
    const bucket = 'parity-cache-count';
    await storage().createBucket(bucket);
    const counter = await startFaultProxy(fake.endpoint);
    try {
      const { dir, cached } = await setUp(bucket, counter.endpoint);
      counter.reset();
      const cold = await reconcile(cached, path.join(dir, 'cold'));
      const [proxy, gcs] = counted(cold.stderr);
      // One manifest looked for (absent) per object and per tier's report day (6), none read back once made.
      expect(counter.mediaRequests).toBe(proxy! + gcs! + 6);
      counter.reset();
      const warm = await reconcile(cached, path.join(dir, 'warm'));
      expect(fromCache(warm.stderr)).toEqual([
        `proxy: ${proxy} of ${proxy} objects from cache`,
        `gcs: ${gcs} of ${gcs} objects from cache`,
      ]);
      // Warm: each entry's manifest and Parquet file, once: the objects' and the days'.
      expect(counter.mediaRequests).toBe(2 * (proxy! + gcs! + 6));
    } finally {
      await counter.close();
    }
  });

  it('a cache bucket that does not exist costs speed only: every object is parsed, the reports are whole', async () => {
    const { dir, plain, cached } = await setUp('no-such-cache-bucket');
    const none = await reconcile(plain, path.join(dir, 'none'));
    const run = await reconcile(cached, path.join(dir, 'cached'));
    expect(run.code).toBe(none.code);
    // One warning, naming the cache and what to check, for the run: not one per object (the cron's bucket
    // would have said it hundreds of times every morning).
    expect(run.stderr.match(/cache: gs:\/\/no-such-cache-bucket\/entries\/ cannot be used/g)).toHaveLength(1);
    expect(run.stderr).toContain('check that the bucket or folder exists and that the job may read, create');
    expect(await csvs(path.join(dir, 'cached'))).toEqual(await csvs(path.join(dir, 'none')));
    // Nothing to read it from either: a second run parses everything again, without failing.
    const again = await reconcile(cached, path.join(dir, 'again'));
    const [proxy] = counted(again.stderr);
    expect(fromCache(again.stderr)[0]).toBe(`proxy: 0 of ${proxy} objects from cache`);
  });

  it('a warm run downloads no object that has its entry: the entry stands for it', async () => {
    const LANDED = 'landed-objects';
    await storage().createBucket(LANDED);
    const dir = await tempDir();
    await writeData(dir);
    // The landed objects in GCS, reached through a proxy that counts media downloads.
    const root = path.join(dir, 'landed');
    for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const file = path.join(e.parentPath, e.name);
      await storage()
        .bucket(LANDED)
        .upload(file, { destination: path.relative(dir, file), resumable: false });
    }
    const counter = await startFaultProxy(fake.endpoint);
    try {
      const gcs = { locations: [`gs://${LANDED}/landed/dt={date}/`], apiEndpoint: counter.endpoint, projectId: 'p' };
      // The three days in one pass, so that each tier logs what came from the cache once.
      const base = {
        timezone: 'Asia/Kolkata',
        engine: { batchDays: 3 },
        tiers: { proxy: { locations: ['proxy/dt={date}/'] }, gcs },
      };
      const plain = await writeConfig(dir, base, 'plain.json');
      const cached = await writeConfig(dir, { ...base, cache: { location: 'cache' } }, 'cached.json');
      await reconcile(plain, path.join(dir, 'none'));
      counter.reset();
      const cold = await reconcile(cached, path.join(dir, 'cold'));
      const [, objects] = counted(cold.stderr);
      expect(objects).toBeGreaterThanOrEqual(6);
      expect(counter.mediaRequests).toBe(objects);
      counter.reset();
      const warm = await reconcile(cached, path.join(dir, 'warm'));
      expect(fromCache(warm.stderr)[1]).toBe(`gcs: ${objects} of ${objects} objects from cache`);
      expect(counter.mediaRequests).toBe(0);
      const expected = await csvs(path.join(dir, 'none'));
      expect(await csvs(path.join(dir, 'cold'))).toEqual(expected);
      expect(await csvs(path.join(dir, 'warm'))).toEqual(expected);
    } finally {
      await counter.close();
    }
  });
});
