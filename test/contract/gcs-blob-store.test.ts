import { randomBytes } from 'node:crypto';
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
