import { link, mkdir, realpath, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { TierError } from '../../src/errors.js';
import type { BlobObject } from '../../src/storage/blob-store.js';
import { LocalBlobStore } from '../../src/storage/local-store.js';
import { rejection, tempDir } from '../support/files.js';

const RECORD = '{"timestamp":"2025-03-09T12:00:00Z","request_id":"a-1","site":"US"}\n';

/** What names a file however it is reached: its device and inode. */
async function keyOf(file: string): Promise<string> {
  const { dev, ino } = await stat(file, { bigint: true });
  return `inode:${dev}:${ino}`;
}

async function put(dir: string, name: string, body: string | Buffer = RECORD): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, body);
  return file;
}

async function listAll(store: LocalBlobStore, prefix: string): Promise<BlobObject[]> {
  const out: BlobObject[] = [];
  for await (const object of store.list(prefix)) out.push(object);
  return out;
}

const store = new LocalBlobStore('proxy');

describe('LocalBlobStore listing', () => {
  it('lists the record objects of nested folders, at any depth, in path order', async () => {
    const dir = await tempDir();
    const names = ['b/part-1.ndjson', 'a/x/y/z/part-2.jsonl', 'a/part-0.json', 'c/d/part-3.ndjson.gz'];
    for (const n of names) await put(dir, n);
    const listed = await listAll(store, dir);
    expect(listed.map((o) => path.relative(dir, o.url))).toEqual([
      'a/part-0.json',
      'a/x/y/z/part-2.jsonl',
      'b/part-1.ndjson',
      'c/d/part-3.ndjson.gz',
    ]);
  });

  it('lists no object whose name is not a record extension, and takes the extensions in any case', async () => {
    const dir = await tempDir();
    for (const n of [
      '_SUCCESS',
      'README.txt',
      'x.csv',
      'part.ndjson.tmp',
      'part.gz',
      'part.gzip',
      'ndjson',
      'p.json.bak',
    ])
      await put(dir, n);
    await put(dir, 'UPPER.JSONL');
    await put(dir, 'upper.NDJSON.GZ', gzipSync(RECORD));
    const listed = await listAll(store, dir);
    expect(listed.map((o) => [path.basename(o.url), o.gzip])).toEqual([
      ['UPPER.JSONL', false],
      ['upper.NDJSON.GZ', true],
    ]);
  });

  it('counts a file once when a symlink or a hard link names it too, under its first name, keyed by its inode', async () => {
    const dir = await tempDir();
    const target = await put(dir, 'b/part-0.ndjson');
    await mkdir(path.join(dir, 'a'), { recursive: true });
    await symlink(target, path.join(dir, 'a', 'link.ndjson'));
    await link(target, path.join(dir, 'c.ndjson'));
    const listed = await listAll(store, dir);
    expect(listed.map((o) => path.relative(dir, o.url))).toEqual(['a/link.ndjson']);
    expect(listed[0]!.key).toBe(await keyOf(target));
  });

  it('follows a symlinked day folder, and reads a folder reached twice only once', async () => {
    const dir = await tempDir();
    await put(dir, 'data/real/part-0.ndjson');
    await put(dir, 'data/real/part-1.ndjson');
    await mkdir(path.join(dir, 'root'), { recursive: true });
    await symlink(path.join(dir, 'data', 'real'), path.join(dir, 'root', 'dt=2025-03-09'));
    await symlink(path.join(dir, 'data', 'real'), path.join(dir, 'root', 'again'));
    const listed = await listAll(store, path.join(dir, 'root'));
    // Under whichever link the walk reached first (the folder's own order): never under both.
    const folders = new Set(listed.map((o) => path.relative(dir, path.dirname(o.url))));
    expect(folders.size).toBe(1);
    expect(['root/again', 'root/dt=2025-03-09']).toContain([...folders][0]);
    expect(listed.map((o) => path.basename(o.url))).toEqual(['part-0.ndjson', 'part-1.ndjson']);
    const real = path.join(dir, 'data', 'real');
    expect(listed.map((o) => o.key)).toEqual([
      await keyOf(path.join(real, 'part-0.ndjson')),
      await keyOf(path.join(real, 'part-1.ndjson')),
    ]);
  });

  it('fails with a TierError naming a broken symlink', async () => {
    const dir = await tempDir();
    await symlink(path.join(dir, 'nowhere.ndjson'), path.join(dir, 'broken.ndjson'));
    const e = await rejection(listAll(store, dir));
    expect(e).toBeInstanceOf(TierError);
    expect(e).toMatchObject({ tier: 'proxy', object: path.join(dir, 'broken.ndjson') });
    expect((e as Error).message).toContain('broken link');
  });

  it('lists a prefix that is itself a record file as that one object, and a non-record file as nothing', async () => {
    const dir = await tempDir();
    const file = await put(dir, 'one.ndjson');
    const other = await put(dir, 'notes.txt');
    const listed = await listAll(store, file);
    const real = await realpath(file);
    const { ino, mtimeNs, ctimeNs } = await stat(file, { bigint: true });
    // The identity the per-object cache keys on: where the file really is, its inode, size, mtime and ctime.
    const identity = `file:${real}:${ino}:${RECORD.length}:${mtimeNs}:${ctimeNs}`;
    expect(listed).toEqual([{ url: file, key: await keyOf(file), gzip: false, size: RECORD.length, identity }]);
    await expect(listAll(store, other)).resolves.toEqual([]);
  });

  it('lists nothing, without error, for a day folder that does not exist', async () => {
    const dir = await tempDir();
    await expect(listAll(store, path.join(dir, 'dt=2025-03-09'))).resolves.toEqual([]);
  });
});

describe('LocalBlobStore roots', () => {
  it('refuses a missing root with a TierError that names it', async () => {
    const dir = await tempDir();
    const missing = path.join(dir, 'no-such-folder');
    const e = await rejection(store.assertRootExists(missing));
    expect(e).toBeInstanceOf(TierError);
    expect(e).toMatchObject({ tier: 'proxy', object: missing });
    expect((e as Error).message).toContain('folder does not exist (ENOENT)');
  });

  it('refuses a root that is a file, not a folder', async () => {
    const dir = await tempDir();
    const file = await put(dir, 'part-0.ndjson');
    const e = await rejection(store.assertRootExists(file));
    expect(e).toBeInstanceOf(TierError);
    expect((e as Error).message).toContain('is not a folder');
  });

  it('accepts a root that is a symlink to a folder', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'real'));
    await symlink(path.join(dir, 'real'), path.join(dir, 'link'));
    await expect(store.assertRootExists(path.join(dir, 'link'))).resolves.toBeUndefined();
  });
});

describe('LocalBlobStore staging', () => {
  it('hands a plain file on as itself, and decompresses a gzip file into the scratch path', async () => {
    const dir = await tempDir();
    const plain = await put(dir, 'p.ndjson');
    const gz = await put(dir, 'g.ndjson.gz', gzipSync(RECORD));
    await expect(store.stage({ url: plain, gzip: false }, path.join(dir, 'unused'))).resolves.toBe(plain);
    const scratch = path.join(dir, 'staged.ndjson');
    await expect(store.stage({ url: gz, gzip: true }, scratch)).resolves.toBe(scratch);
    await expect(readFile(scratch, 'utf8')).resolves.toBe(RECORD);
  });

  it('fails with a TierError naming a corrupt gzip file', async () => {
    const dir = await tempDir();
    const whole = gzipSync(RECORD.repeat(100));
    const bad = await put(dir, 'bad.json.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const e = await rejection(store.stage({ url: bad, gzip: true }, path.join(dir, 'staged.ndjson')));
    expect(e).toBeInstanceOf(TierError);
    expect(e).toMatchObject({ object: bad });
    expect((e as Error).message).toContain('not valid gzip');
  });
});

describe('LocalBlobStore identity', () => {
  const store = new LocalBlobStore('proxy');

  it('gives a file a new identity when it changes, the same one when it does not, and one per real file', async () => {
    const dir = await tempDir();
    const file = await put(dir, 'a.ndjson');
    await symlink(file, path.join(dir, 'link.ndjson'));
    const first = (await listAll(store, dir)).map((o) => o.identity);
    expect(first).toHaveLength(1);
    expect((await listAll(store, dir)).map((o) => o.identity)).toEqual(first);
    await writeFile(file, RECORD + RECORD);
    const changed = (await listAll(store, dir)).map((o) => o.identity);
    expect(changed[0]).not.toBe(first[0]);
  });
});
