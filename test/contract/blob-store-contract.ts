/**
 * The one BlobStore contract: every store (local files, GCS) is given the same objects and must list,
 * stage and refuse them alike, so that the same data gives the same reports from either. A store's
 * test file only says how to lay the objects out in its medium (see {@link MakeStore}) and calls
 * {@link blobStoreContract}.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { TierError } from '../../src/errors.js';
import type { BlobObject, BlobStore } from '../../src/storage/blob-store.js';
import { rejection, tempDir } from '../support/files.js';

/** A record line; the request id is a client's, so hostile. */
const line = (id: string) => `${JSON.stringify({ timestamp: '2025-03-09T12:00:00Z', request_id: id, site: 'US' })}\n`;

/** The records each fixture object holds, uncompressed; `.gz` objects are stored gzipped. */
export const FIXTURE_TEXT: ReadonlyMap<string, string> = new Map([
  ['dt=2025-03-09/part-0.ndjson', line('a-1') + line('a-2')],
  ['dt=2025-03-09/hour=01/part-1.jsonl.gz', line('b-1') + line('b="2"+<script>')],
  ['dt=2025-03-09/hour=01/deeper/part-2.json', line('c-1')],
  ['dt=2025-03-09/hour=02/part-3.NDJSON.GZ', line('d-1')],
  // Below the day but not record objects: never listed.
  ['dt=2025-03-09/_SUCCESS', ''],
  ['dt=2025-03-09/README.txt', 'not records\n'],
  ['dt=2025-03-09/hour=01/part-9.ndjson.tmp', line('tmp')],
  ['dt=2025-03-09/export.csv', 'a,b\n'],
  // Another day: listed under its own prefix only.
  ['dt=2025-03-10/part-0.ndjson', line('e-1')],
  // A folder whose name begins with the day's: never the day's.
  ['dt=2025-03-09-bak/part-0.ndjson', line('a-3')],
]);

/** The fixture as stored: `.gz` names gzipped. */
export function fixtureObjects(): Map<string, Buffer> {
  return new Map(
    [...FIXTURE_TEXT].map(([name, text]) => [
      name,
      name.toLowerCase().endsWith('.gz') ? gzipSync(Buffer.from(text)) : Buffer.from(text),
    ]),
  );
}

const DAY = 'dt=2025-03-09';
const RECORD_OBJECTS_OF_DAY = [
  'dt=2025-03-09/hour=01/deeper/part-2.json',
  'dt=2025-03-09/hour=01/part-1.jsonl.gz',
  'dt=2025-03-09/hour=02/part-3.NDJSON.GZ',
  'dt=2025-03-09/part-0.ndjson',
];

/** A store holding {@link fixtureObjects}, and how its locations and object URLs are spelled. */
export interface StoreUnderTest {
  store: BlobStore;
  /** The root the fixture lies in, as `assertRootExists` takes it. */
  root: string;
  /** The prefix `list` takes for a folder of the fixture (`dt=2025-03-09`). */
  prefix(folder: string): string;
  /** The URL the store gives the fixture object `name`. */
  url(name: string): string;
  /** A store and root that do not exist (a missing folder; a missing bucket). */
  missing: { store: BlobStore; root: string };
  /** Deletes the fixture object `name` from the medium. */
  remove(name: string): Promise<void>;
  close(): Promise<void>;
}

export type MakeStore = (objects: ReadonlyMap<string, Buffer>) => Promise<StoreUnderTest>;

async function listAll(store: BlobStore, prefix: string): Promise<BlobObject[]> {
  const out: BlobObject[] = [];
  for await (const object of store.list(prefix)) out.push(object);
  return out;
}

/** Registers the contract's tests for one store. `timeoutMs` covers starting an emulator. */
export function blobStoreContract(name: string, makeStore: MakeStore, timeoutMs = 60_000): void {
  describe(`BlobStore contract: ${name}`, () => {
    let s: StoreUnderTest;
    let scratch: string;

    beforeAll(async () => {
      scratch = await tempDir('parity-store-contract-');
      s = await makeStore(fixtureObjects());
    }, timeoutMs);
    afterAll(async () => {
      await s?.close();
    });

    it('lists every record object below a day prefix, nested folders included, and nothing else', async () => {
      const listed = await listAll(s.store, s.prefix(DAY));
      expect(listed.map((o) => o.url).sort()).toEqual(RECORD_OBJECTS_OF_DAY.map((n) => s.url(n)).sort());
    });

    it('marks the objects whose names end in .gz as gzip, in any case, and no other', async () => {
      const listed = await listAll(s.store, s.prefix(DAY));
      const gzip = Object.fromEntries(listed.map((o) => [o.url, o.gzip]));
      expect(gzip).toEqual(
        Object.fromEntries(RECORD_OBJECTS_OF_DAY.map((n) => [s.url(n), n.toLowerCase().endsWith('.gz')])),
      );
    });

    it('lists a folder named without a trailing slash as that folder, not the folders whose names begin so', async () => {
      const listed = await listAll(s.store, s.prefix(DAY).replace(/\/$/, ''));
      expect(listed.map((o) => o.url).sort()).toEqual(RECORD_OBJECTS_OF_DAY.map((n) => s.url(n)).sort());
    });

    it("keeps each day's prefix to its own objects", async () => {
      const listed = await listAll(s.store, s.prefix('dt=2025-03-10'));
      expect(listed.map((o) => o.url)).toEqual([s.url('dt=2025-03-10/part-0.ndjson')]);
    });

    it('lists nothing, without error, for a prefix that holds nothing', async () => {
      await expect(listAll(s.store, s.prefix('dt=2024-01-01'))).resolves.toEqual([]);
    });

    it('lists the same objects twice in a row', async () => {
      const first = (await listAll(s.store, s.prefix(DAY))).map((o) => o.url).sort();
      const second = (await listAll(s.store, s.prefix(DAY))).map((o) => o.url).sort();
      expect(second).toEqual(first);
    });

    it('stages every listed object as a local file of its records, plain or decompressed, byte for byte', async () => {
      const listed = await listAll(s.store, s.prefix(DAY));
      const staged: Record<string, string> = {};
      for (const [i, object] of listed.entries()) {
        const file = await s.store.stage(object, path.join(scratch, `staged-${i}.ndjson`));
        staged[object.url] = await readFile(file, 'utf8');
      }
      expect(staged).toEqual(Object.fromEntries(RECORD_OBJECTS_OF_DAY.map((n) => [s.url(n), FIXTURE_TEXT.get(n)])));
    });

    it('accepts the root the objects lie in', async () => {
      await expect(s.store.assertRootExists(s.root)).resolves.toBeUndefined();
    });

    it('refuses a root that does not exist with a TierError', async () => {
      const e = await rejection(s.missing.store.assertRootExists(s.missing.root));
      expect(e).toBeInstanceOf(TierError);
    });

    it('fails with a TierError naming the object when a listed gzip object is gone before it is staged', async () => {
      const gone = 'dt=2025-03-09/hour=02/part-3.NDJSON.GZ';
      const object = (await listAll(s.store, s.prefix(DAY))).find((o) => o.url === s.url(gone));
      expect(object).toBeDefined();
      await s.remove(gone);
      const e = await rejection(s.store.stage(object!, path.join(scratch, 'gone.ndjson')));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ object: s.url(gone) });
    });
  });
}
