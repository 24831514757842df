import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Storage } from '@google-cloud/storage';
import { AbortedError, TierError } from '../../src/errors.js';
import type { BlobObject } from '../../src/storage/blob-store.js';
import {
  createStorageClient,
  GcsBlobStore,
  openGcsStore,
  parseGsUrl,
  writeGcsObject,
} from '../../src/storage/gcs-store.js';
import { FAKE_GCS_SERVER_VERSION, REPO_ROOT, startFakeGcs, type FakeGcs } from '../support/fake-gcs.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { rejection } from '../support/files.js';

/** Installing the emulator on a cold Go cache takes about a minute; the tests themselves take seconds. */
const SETUP_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = 120_000;

const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const BIG_BUCKET = `parity-it-big-${RUN}`;
const OBJECTS_BUCKET = `parity-it-objects-${RUN}`;
const MISSING_BUCKET = `parity-it-missing-${RUN}`;
const DAY_PREFIX = 'dt=2025-03-09/';
/** More than ten pages of GCS_LIST_PAGE_SIZE. */
const RECORD_OBJECTS = 10_050;
/**
 * Fast retries for the fault tests; production uses GCS_RETRY_BASE_DELAY_MS and
 * GCS_DOWNLOAD_STALL_TIMEOUT_MS. The stall timeout is what notices a connection cut mid-body.
 */
const FAST_RETRY = { retryAttempts: 5, retryBaseDelayMs: 10, stallTimeoutMs: 500 };

/** NDJSON of `lines` landed records, unique per `seed`. */
function ndjson(seed: string, lines: number): Buffer {
  let out = '';
  for (let i = 0; i < lines; i++) {
    out += `${JSON.stringify({ timestamp: '2025-03-09T12:00:00.000Z', request_id: `${seed}-${i}`, site: 'US' })}\n`;
  }
  return Buffer.from(out);
}

let tmp: string;
/** Holds only the large bucket, on the filesystem backend, which loads 10k objects in seconds. */
let bigFake: FakeGcs | undefined;
let fake: FakeGcs | undefined;
let proxy: FaultProxy | undefined;
let storage: Storage;
let proxied: Storage;
const expectedBig = new Set<string>();

const PLAIN = `${DAY_PREFIX}plain/part-0.ndjson`;
const GZ_BY_NAME = `${DAY_PREFIX}gz/part-0.jsonl.gz`;
const GZ_BY_ENCODING = `${DAY_PREFIX}encoded/part-0.ndjson`;
const TRUNCATED_GZ = `${DAY_PREFIX}bad/part-0.json.gz`;
const PLAIN_BODY = ndjson('plain', 3000);
const GZ_BODY = ndjson('gz', 3000);
const ENCODED_BODY = ndjson('encoded', 3000);

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'parity-gcs-it-'));

  // The large bucket is preloaded from disk through the emulator's -data folder: one file per object.
  const data = path.join(tmp, 'data');
  const writes: Array<[string, string]> = [];
  const exts = ['ndjson', 'jsonl', 'json', 'ndjson.gz'];
  for (let i = 0; i < RECORD_OBJECTS; i++) {
    const name = `${DAY_PREFIX}hour=${String(i % 24).padStart(2, '0')}/part-${String(i).padStart(5, '0')}.${exts[i % exts.length]}`;
    expectedBig.add(`gs://${BIG_BUCKET}/${name}`);
    writes.push([name, '{}\n']);
  }
  // Below the prefix but not record objects, and record objects outside the prefix: none listed.
  for (const name of [
    `${DAY_PREFIX}_SUCCESS`,
    `${DAY_PREFIX}hour=00/part-1.ndjson.tmp`,
    `${DAY_PREFIX}README.txt`,
    `${DAY_PREFIX}x.csv`,
    `${DAY_PREFIX}x.gz`,
  ]) {
    writes.push([name, 'x']);
  }
  for (let i = 0; i < 20; i++)
    writes.push([`dt=2025-03-10/part-${i}.ndjson`, '{}\n'], [`dt=2025-03-09-backup/part-${i}.ndjson`, '{}\n']);
  const dirs = new Set(writes.map(([name]) => path.dirname(path.join(data, BIG_BUCKET, name))));
  await Promise.all([...dirs].map((d) => mkdir(d, { recursive: true })));
  for (let i = 0; i < writes.length; i += 256) {
    await Promise.all(
      writes.slice(i, i + 256).map(([name, body]) => writeFile(path.join(data, BIG_BUCKET, name), body)),
    );
  }

  [bigFake, fake] = await Promise.all([startFakeGcs({ dataDir: data, backend: 'filesystem' }), startFakeGcs()]);
  proxy = await startFaultProxy(fake.endpoint);
  // Creating a bucket needs a project; reading never does.
  storage = createStorageClient({ apiEndpoint: fake.endpoint, projectId: 'parity-it' });
  proxied = createStorageClient({ apiEndpoint: proxy.endpoint });

  await storage.createBucket(OBJECTS_BUCKET);
  const bucket = storage.bucket(OBJECTS_BUCKET);
  await bucket.file(PLAIN).save(PLAIN_BODY, { resumable: false, contentType: 'application/x-ndjson' });
  await bucket.file(GZ_BY_NAME).save(gzipSync(GZ_BODY), { resumable: false, contentType: 'application/gzip' });
  await bucket.file(GZ_BY_ENCODING).save(gzipSync(ENCODED_BODY), {
    resumable: false,
    contentType: 'application/x-ndjson',
    metadata: { contentEncoding: 'gzip' },
  });
  const whole = gzipSync(ndjson('truncated', 3000));
  await bucket.file(TRUNCATED_GZ).save(whole.subarray(0, Math.floor(whole.length / 2)), { resumable: false });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await proxy?.close();
  await fake?.stop();
  await bigFake?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

afterEach(() => proxy?.reset());

/** The listed object, as the job would stage it. */
async function listed(store: GcsBlobStore, name: string): Promise<BlobObject> {
  for await (const object of store.list(name)) {
    if (object.url === `gs://${OBJECTS_BUCKET}/${name}`) return object;
  }
  throw new Error(`${name} was not listed`);
}

describe('GcsBlobStore against fake-gcs-server', () => {
  it(
    'lists every record object below a day prefix across more than ten pages, and nothing else',
    async () => {
      const store = await openGcsStore('gcs', BIG_BUCKET, { apiEndpoint: bigFake!.endpoint, downloadConcurrency: 4 });
      await store.assertRootExists(DAY_PREFIX);
      const first = new Set<string>();
      let count = 0;
      for await (const object of store.list(DAY_PREFIX)) {
        count++;
        first.add(object.url);
        expect(object.gzip).toBe(object.url.endsWith('.gz'));
        expect(object.generation).toMatch(/^\d+$/);
        expect(object.size).toBe(3);
      }
      expect(count).toBe(RECORD_OBJECTS);
      expect(first).toEqual(expectedBig);

      const second = new Set<string>();
      for await (const object of store.list(DAY_PREFIX)) second.add(object.url);
      expect(second).toEqual(first);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'lists nothing, without error, for a prefix that holds nothing',
    async () => {
      const store = new GcsBlobStore('gcs', BIG_BUCKET, createStorageClient({ apiEndpoint: bigFake!.endpoint }));
      const urls: string[] = [];
      for await (const object of store.list('dt=2024-01-01/')) urls.push(object.url);
      expect(urls).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'names the bucket when it does not exist',
    async () => {
      const store = await openGcsStore('gcs', MISSING_BUCKET, {
        apiEndpoint: `${fake!.endpoint}/`,
        downloadConcurrency: 4,
      });
      const e = await rejection(store.assertRootExists(DAY_PREFIX));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ tier: 'gcs', object: `gs://${MISSING_BUCKET}`, retriable: false });
      expect((e as Error).message).toBe(
        `gcs: gs://${MISSING_BUCKET}: bucket does not exist (404) — check the bucket name`,
      );

      const listing = await rejection(
        (async () => {
          for await (const _ of store.list(DAY_PREFIX)) void _;
        })(),
      );
      expect(listing).toBeInstanceOf(TierError);
      expect((listing as Error).message).toContain(`gs://${MISSING_BUCKET}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'names the bucket and the missing permission when listing is denied',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      proxy!.failNext(1, 403, 'any');
      const e = await rejection(store.assertRootExists(DAY_PREFIX));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ object: `gs://${OBJECTS_BUCKET}`, retriable: false });
      expect((e as Error).message).toContain(`storage.objects.list on bucket "${OBJECTS_BUCKET}"`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'retries a listing page that fails with 503 or 429 and lists every object once',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      const expected: string[] = [];
      for await (const object of store.list(DAY_PREFIX)) expected.push(object.url);
      for (const status of [503, 429]) {
        proxy!.failNext(2, status, 'any');
        const urls: string[] = [];
        for await (const object of store.list(DAY_PREFIX)) urls.push(object.url);
        expect(urls.sort()).toEqual([...expected].sort());
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stages a plain object byte for byte',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, storage);
      const object = await listed(store, PLAIN);
      expect(object).toMatchObject({ gzip: false, size: PLAIN_BODY.length });
      const scratch = path.join(tmp, 'plain.ndjson');
      await expect(store.stage(object, scratch)).resolves.toBe(scratch);
      expect((await readFile(scratch)).equals(PLAIN_BODY)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stages a .gz object as its exact uncompressed bytes',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, storage);
      const object = await listed(store, GZ_BY_NAME);
      expect(object.gzip).toBe(true);
      const scratch = path.join(tmp, 'gz.ndjson');
      await expect(store.stage(object, scratch)).resolves.toBe(scratch);
      expect((await readFile(scratch)).equals(GZ_BODY)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stages a Content-Encoding: gzip object as its exact uncompressed bytes',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, storage);
      const object = await listed(store, GZ_BY_ENCODING);
      expect(object).toMatchObject({ gzip: true, size: gzipSync(ENCODED_BODY).length });
      const scratch = path.join(tmp, 'encoded.ndjson');
      await expect(store.stage(object, scratch)).resolves.toBe(scratch);
      expect((await readFile(scratch)).equals(ENCODED_BODY)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'rejects a truncated gzip object with a TierError naming it, not retriable',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      const object = await listed(store, TRUNCATED_GZ);
      const e = await rejection(store.stage(object, path.join(tmp, 'truncated.ndjson')));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ tier: 'gcs', object: `gs://${OBJECTS_BUCKET}/${TRUNCATED_GZ}`, retriable: false });
      expect((e as Error).message).toContain(`gs://${OBJECTS_BUCKET}/${TRUNCATED_GZ}: not valid gzip`);
      // Corrupt in storage: reading it again cannot help, so it was read once.
      expect(proxy!.mediaRequests).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'retries a burst of 503s and then stages the exact bytes',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      const object = await listed(store, GZ_BY_NAME);
      proxy!.failNext(3);
      const scratch = path.join(tmp, 'burst.ndjson');
      await expect(store.stage(object, scratch)).resolves.toBe(scratch);
      expect((await readFile(scratch)).equals(GZ_BODY)).toBe(true);
      expect(proxy!.mediaRequests).toBe(4);
    },
    TEST_TIMEOUT_MS,
  );

  it.each([
    ['a plain object', PLAIN, PLAIN_BODY],
    ['a .gz object', GZ_BY_NAME, GZ_BODY],
    ['a Content-Encoding: gzip object', GZ_BY_ENCODING, ENCODED_BODY],
  ])(
    'restarts %s from byte 0 when the connection drops half-way, with nothing counted twice',
    async (_label, name, body) => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      const object = await listed(store, name);
      proxy!.cutNext(2);
      const scratch = path.join(tmp, `cut-${path.basename(name)}.ndjson`);
      await expect(store.stage(object, scratch)).resolves.toBe(scratch);
      const staged = await readFile(scratch);
      expect(staged.length).toBe(body.length);
      expect(staged.equals(body)).toBe(true);
      expect(proxy!.mediaRequests).toBe(3);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'checks each download against the CRC32C GCS stores with it: a body with a byte changed is read again',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      const object = await listed(store, PLAIN);
      proxy!.corruptNext(1);
      const scratch = path.join(tmp, 'corrupt.ndjson');
      await expect(store.stage(object, scratch)).resolves.toBe(scratch);
      expect((await readFile(scratch)).equals(PLAIN_BODY)).toBe(true);
      expect(proxy!.mediaRequests).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives up after GCS_RETRY_ATTEMPTS on a permanent failure with a retriable TierError',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      const object = await listed(store, PLAIN);
      proxy!.failNext(Infinity);
      const e = await rejection(store.stage(object, path.join(tmp, 'permanent.ndjson')));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ tier: 'gcs', object: `gs://${OBJECTS_BUCKET}/${PLAIN}`, retriable: true });
      expect((e as Error).message).toContain('HTTP 503');
      expect(proxy!.mediaRequests).toBe(FAST_RETRY.retryAttempts);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'does not retry an object replaced after listing, and says to run again',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, FAST_RETRY);
      const name = `${DAY_PREFIX}replaced/part-0.ndjson`;
      await storage.bucket(OBJECTS_BUCKET).file(name).save(ndjson('v1', 10), { resumable: false });
      const object = await listed(store, name);
      await storage.bucket(OBJECTS_BUCKET).file(name).save(ndjson('v2', 10), { resumable: false });
      const e = await rejection(store.stage(object, path.join(tmp, 'replaced.ndjson')));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ object: `gs://${OBJECTS_BUCKET}/${name}`, retriable: true });
      expect((e as Error).message).toContain('(404)');
      expect(proxy!.mediaRequests).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stops waiting between retries when the run is aborted',
    async () => {
      const store = new GcsBlobStore('gcs', OBJECTS_BUCKET, proxied, { retryAttempts: 5, retryBaseDelayMs: 5_000 });
      const object = await listed(store, PLAIN);
      proxy!.failNext(Infinity);
      const controller = new AbortController();
      const staged = store.stage(object, path.join(tmp, 'aborted.ndjson'), controller.signal);
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      await expect(staged).rejects.toBeInstanceOf(AbortedError);
      expect(Date.now() - started).toBeLessThan(4_000);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'writes a report object in one request that reads back byte for byte',
    async () => {
      const local = path.join(tmp, 'parity-2025-03-09.csv');
      const body = 'date,site\n2025-03-09,US\n';
      await writeFile(local, body);
      const out = parseGsUrl(`gs://${OBJECTS_BUCKET}/reports/`);
      expect(out).toEqual({ bucket: OBJECTS_BUCKET, name: 'reports/' });
      const url = await writeGcsObject(proxied, out!.bucket, `${out!.name}parity-2025-03-09.csv`, local);
      expect(url).toBe(`gs://${OBJECTS_BUCKET}/reports/parity-2025-03-09.csv`);
      const [contents] = await storage.bucket(OBJECTS_BUCKET).file('reports/parity-2025-03-09.csv').download();
      expect(contents.toString('utf8')).toBe(body);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('parseGsUrl', () => {
  it('splits a bucket from its object prefix and refuses what is not a gs URL', () => {
    expect(parseGsUrl('gs://audit-api-logs-us-prod/dt=2025-03-09/')).toEqual({
      bucket: 'audit-api-logs-us-prod',
      name: 'dt=2025-03-09/',
    });
    expect(parseGsUrl('gs://audit-api-logs-us-prod')).toEqual({ bucket: 'audit-api-logs-us-prod', name: '' });
    expect(parseGsUrl('file:///data/x')).toBeUndefined();
    expect(parseGsUrl('gs://Bad_Bucket/x')).toBeUndefined();
  });
});

describe('fake-gcs-server install', () => {
  it('pins the same version in the shell installer as in the test support', async () => {
    const script = await readFile(path.join(REPO_ROOT, 'scripts', 'install-fake-gcs.sh'), 'utf8');
    expect(script).toContain(`FAKE_GCS_SERVER_VERSION="${FAKE_GCS_SERVER_VERSION}"`);
  });
});
