import { spawnSync } from 'node:child_process';
import type { Storage } from '@google-cloud/storage';
import { OutputError } from '../../src/errors.js';
import { createStorageClient } from '../../src/storage/gcs-store.js';
import { acquireGcsLease, LEASE_NAME, leaseHolder } from '../../src/storage/output-lease.js';
import { type FakeGcs, startFakeGcs } from '../support/fake-gcs.js';
import { startFaultProxy } from '../support/fault-proxy.js';

/** The lease on a gs:// --out prefix, on fake-gcs-server through the storage client. */
describe('the lease on a gs:// --out prefix', () => {
  let fake: FakeGcs;
  let storage: Storage;

  beforeAll(async () => {
    fake = await startFakeGcs();
    storage = createStorageClient({ apiEndpoint: fake.endpoint, projectId: 'parity-it' });
    await storage.createBucket('parity-lease');
  }, 120_000);

  afterAll(async () => {
    await fake?.stop();
  });

  const names = async (prefix: string) =>
    (await storage.bucket('parity-lease').getFiles({ prefix }))[0].map((f) => f.name);
  const acquire = (prefix: string, command: string, staleMs?: number, host?: string) =>
    acquireGcsLease(
      storage,
      'parity-lease',
      prefix,
      { ...leaseHolder(command, '2025-03-10T05:30:00.000Z'), ...(host ? { host } : {}) },
      { ...(staleMs === undefined ? {} : { staleMs }), retryBaseDelayMs: 1 },
    );

  it('is held by one run at a time: a second, on another machine, is refused naming the first', async () => {
    const lease = await acquire('a/', 'daily');
    expect(await names('a/')).toEqual([`a/${LEASE_NAME}`]);
    const second = acquire('a/', 'reconcile');
    await expect(second).rejects.toBeInstanceOf(OutputError);
    await expect(second).rejects.toThrow(/another run is writing its reports there \(pid \d+ on .*, daily, started/);
    // Another prefix is another output.
    const elsewhere = await acquire('b/', 'reconcile');
    await expect(lease.confirm()).resolves.toBeUndefined();
    await lease.release();
    await elsewhere.release();
    expect(await names('a/')).toEqual([]);
    const again = await acquire('a/', 'reconcile');
    await again.release();
  });

  it('a lease not renewed for staleMs is taken over, and its run then writes no more days', async () => {
    // Another machine's run: on this one a live pid holds its lease however long it is frozen.
    const frozen = await acquire('c/', 'backfill', 100, 'pod-1');
    await new Promise((r) => setTimeout(r, 1500));
    const other = await acquire('c/', 'daily', 100);
    // Checked before an upload of a day written before the freeze: by a read, which writes nothing.
    const generation = async () =>
      (await storage.bucket('parity-lease').file(`c/${LEASE_NAME}`).getMetadata())[0].generation;
    const before = await generation();
    await expect(frozen.check()).rejects.toThrow(/lease on --out was taken over by another run/);
    await expect(other.check()).resolves.toBeUndefined();
    expect(await generation()).toBe(before);
    await expect(frozen.confirm()).rejects.toThrow(/lease on --out was taken over by another run/);
    await frozen.release(); // leaves the other's lease alone
    const [body] = await storage.bucket('parity-lease').file(`c/${LEASE_NAME}`).download();
    expect(JSON.parse(body.toString())).toMatchObject({ command: 'daily' });
    await expect(other.confirm()).resolves.toBeUndefined();
    await other.release();
    expect(await names('c/')).toEqual([]);
  });

  it('a renewal the bucket stored but whose answer was lost is still ours: the run goes on, and releases it', async () => {
    const proxy = await startFaultProxy(fake.endpoint);
    try {
      const viaProxy = createStorageClient({ apiEndpoint: proxy.endpoint, projectId: 'parity-it' });
      const lease = await acquireGcsLease(viaProxy, 'parity-lease', 'e/', leaseHolder('daily', 'x'), {
        retryBaseDelayMs: 1,
      });
      proxy.loseUploadAnswers(1);
      // The renewal is sent again over the generation it already replaced: refused (412), yet it is ours.
      await expect(lease.confirm()).resolves.toBeUndefined();
      await expect(lease.confirm()).resolves.toBeUndefined();
      await lease.release();
      expect(await names('e/')).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("a lease of this machine's run that is gone (its pid) is taken over at once", async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await storage
      .bucket('parity-lease')
      .file(`d/${LEASE_NAME}`)
      .save(JSON.stringify({ ...leaseHolder('daily', 'x'), pid: Number(dead) }));
    const lease = await acquire('d/', 'reconcile');
    await lease.release();
    expect(await names('d/')).toEqual([]);
  });
});
