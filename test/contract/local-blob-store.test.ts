import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalBlobStore } from '../../src/storage/local-store.js';
import { tempDir } from '../support/files.js';
import { blobStoreContract } from './blob-store-contract.js';

blobStoreContract('local files', async (objects) => {
  const dir = await tempDir('parity-local-contract-');
  for (const [name, bytes] of objects) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), bytes);
  }
  const store = new LocalBlobStore('gcs');
  return {
    store,
    root: dir,
    prefix: (folder) => path.join(dir, folder),
    url: (name) => path.join(dir, name),
    missing: { store, root: path.join(dir, 'no-such-folder') },
    remove: (name) => rm(path.join(dir, name)),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});
