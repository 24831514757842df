import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createStorageClient, GcsBlobStore } from '../../src/storage/gcs-store.js';
import { type FakeGcs, startFakeGcs } from '../support/fake-gcs.js';
import { blobStoreContract } from './blob-store-contract.js';

/** Installing the emulator on a cold Go cache takes minutes; startFakeGcs fails (never skips) without it. */
const SETUP_TIMEOUT_MS = 300_000;
/** Fast retries: a deleted object's 404 is retried before it is reported. */
const FAST_RETRY = { retryAttempts: 2, retryBaseDelayMs: 10 };

blobStoreContract(
  'GCS on fake-gcs-server',
  async (objects) => {
    const fake: FakeGcs = await startFakeGcs();
    try {
      const storage = createStorageClient({ apiEndpoint: fake.endpoint, projectId: 'parity-contract' });
      const run = randomBytes(4).toString('hex');
      const bucketName = `parity-contract-${run}`;
      await storage.createBucket(bucketName);
      const bucket = storage.bucket(bucketName);
      for (const [name, bytes] of objects) await bucket.file(name).save(bytes, { resumable: false });
      return {
        store: new GcsBlobStore('gcs', bucketName, storage, FAST_RETRY),
        root: '',
        prefix: (folder) => `${folder}/`,
        url: (name) => `gs://${bucketName}/${name}`,
        missing: { store: new GcsBlobStore('gcs', `parity-contract-missing-${run}`, storage, FAST_RETRY), root: '' },
        remove: async (name) => {
          await bucket.file(name).delete();
        },
        close: () => fake.stop(),
      };
    } catch (e) {
      await fake.stop();
      throw e;
    }
  },
  SETUP_TIMEOUT_MS,
);

describe('a GCS object read by its metadata', () => {
  let fake: FakeGcs;
  beforeAll(async () => {
    fake = await startFakeGcs();
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await fake?.stop();
  });

  it('gets a new cache identity when Content-Encoding: gzip is set on it later, which keeps its generation', async () => {
    const storage = createStorageClient({ apiEndpoint: fake.endpoint, projectId: 'parity-contract' });
    const bucketName = `parity-meta-${randomBytes(4).toString('hex')}`;
    await storage.createBucket(bucketName);
    const file = storage.bucket(bucketName).file('dt=2025-03-09/part-0.jsonl');
    await file.save(gzipSync('{"timestamp":"2025-03-09T12:00:00Z","request_id":"a"}\n'), { resumable: false });
    const store = new GcsBlobStore('gcs', bucketName, storage, FAST_RETRY);
    const list = async () => {
      const out = [];
      for await (const o of store.list('dt=2025-03-09/')) out.push(o);
      return out;
    };
    const [before] = await list();
    // The usual repair of gzip uploaded without its header (gsutil setmeta): the generation stays.
    await file.setMetadata({ contentEncoding: 'gzip' });
    const [after] = await list();
    expect(after!.generation).toBe(before!.generation);
    expect([before!.gzip, after!.gzip]).toEqual([false, true]);
    // The entry parsed as plain text (one malformed line) is not taken for the gzip it is read as now.
    expect(after!.identity).not.toBe(before!.identity);
  });
});
