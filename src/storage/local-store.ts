import { type BigIntStats, createReadStream, createWriteStream } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { AbortedError, TierError } from '../errors.js';
import { type BlobObject, type BlobStore, RECORD_OBJECT, type StoredObject } from './blob-store.js';

/** Files the job itself writes in a folder, by their paths below it (`/`-separated): never a tier's objects. */
export interface JobFiles {
  folder: string;
  paths: RegExp;
}

/** Local files, `file:///…` and relative locations. */
export class LocalBlobStore implements BlobStore {
  constructor(
    private readonly tier: string,
    /**
     * The job's own files this store never lists, however reached: the per-object cache's manifests and the
     * reports' (both .json), each by its folder and its path there. A cache or an --out inside a location is
     * refused; through a symlink only this sees them. Nothing else of those folders is skipped (the demo's data
     * lies below its --out: a data file there named as a manifest is data).
     */
    unread: readonly JobFiles[] = [],
  ) {
    this.unread = Promise.all(
      unread.map(async (u) => ({ ...u, folder: await realpath(u.folder).catch(() => path.resolve(u.folder)) })),
    );
  }

  private readonly unread: Promise<JobFiles[]>;

  async assertRootExists(root: string, _signal?: AbortSignal, keyPath?: string): Promise<void> {
    const check = `check ${keyPath ?? 'the location'}`;
    try {
      const s = await stat(root);
      if (!s.isDirectory()) throw new TierError(this.tier, root, `is not a folder — ${check}`);
    } catch (e) {
      if (e instanceof TierError) throw e;
      throw new TierError(
        this.tier,
        root,
        `folder does not exist (${(e as NodeJS.ErrnoException).code ?? 'error'}) — ${check}`,
      );
    }
  }

  async *list(prefix: string): AsyncIterable<BlobObject> {
    let s;
    try {
      s = await stat(prefix, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // a day with no folder counts zero
      throw new TierError(this.tier, prefix, `cannot read: ${(e as NodeJS.ErrnoException).code}`);
    }
    if (s.isFile()) {
      if (RECORD_OBJECT.test(prefix)) {
        const real = await resolved(prefix, this.tier);
        yield {
          url: prefix,
          key: fileKey(s),
          gzip: prefix.toLowerCase().endsWith('.gz'),
          size: Number(s.size),
          // stat follows the links realpath resolves: the same file
          identity: fileIdentity(real, s),
        };
      }
      return;
    }
    // Sorted so that staging order, and so any message about the first bad object, is stable.
    const files: { path: string; real: string }[] = [];
    const unread = await this.unread;
    const inUnread = (real: string) =>
      unread.some(
        (u) =>
          real.startsWith(u.folder + path.sep) && u.paths.test(path.relative(u.folder, real).split(path.sep).join('/')),
      );
    await walk(prefix, files, this.tier);
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    // A symlink or a hard link to a file read under another name is the same object: counted once, under its
    // first name.
    const seen = new Set<string>();
    for (const f of files) {
      if (inUnread(f.real)) continue; // a cache entry's or a report's file, reached through a link
      // gone since the walk: staging reports it; nothing is cached under no identity
      const st = await stat(f.real, { bigint: true }).catch(() => undefined);
      const key = st ? fileKey(st) : f.real;
      if (seen.has(key)) continue;
      seen.add(key);
      const identity = st ? fileIdentity(f.real, st) : undefined;
      yield { url: f.path, key, gzip: f.path.toLowerCase().endsWith('.gz'), ...(identity ? { identity } : {}) };
    }
  }

  /** A local file is read where it lies, compressed or not. */
  fetchStored(object: BlobObject): Promise<StoredObject> {
    return Promise.resolve({ path: object.url, gzip: object.gzip });
  }

  async stage(object: BlobObject, scratchPath: string, signal?: AbortSignal): Promise<string> {
    if (!object.gzip) return object.url;
    try {
      await pipeline(createReadStream(object.url), createGunzip(), createWriteStream(scratchPath), { signal });
    } catch (e) {
      if (signal?.aborted) throw new AbortedError();
      const code = (e as NodeJS.ErrnoException).code;
      // zlib's codes are Z_*: the bytes are bad; any other code is the file system failing to read or write them.
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new TierError(
          this.tier,
          object.url,
          `cannot be decompressed: the scratch folder is full (${code}) — free space in engine.tempDirectory`,
          true,
          { cause: e },
        );
      }
      if (typeof code === 'string' && !code.startsWith('Z_')) {
        throw new TierError(
          this.tier,
          object.url,
          `cannot be read (${code}) — check the file and the disk it is on`,
          false,
          { cause: e },
        );
      }
      throw new TierError(
        this.tier,
        object.url,
        `not valid gzip (${code ?? (e as Error).message}) — the object is corrupt or truncated`,
      );
    }
    return scratchPath;
  }
}

/** The file a path names once every symlink is followed: the identity of a local object. */
async function resolved(file: string, tier: string): Promise<string> {
  try {
    return await realpath(file);
  } catch (e) {
    throw new TierError(
      tier,
      file,
      `cannot resolve the path (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

/** What names one file however it is reached (a symlink, a hard link): its device and inode. */
const fileKey = (s: BigIntStats): string => `inode:${s.dev}:${s.ino}`;

/**
 * A file's content, as far as the cache can tell without reading it: where it really is, its inode, size,
 * mtime and ctime (in nanoseconds). The mtime alone can be put back (`cp -p`, `rsync -t`, `touch -d`) over
 * new content of the same size; the ctime cannot be set, and changes with every write, rename or chmod
 * (a change that only costs a parse), and a file replaced by a rename has a new inode.
 */
function fileIdentity(real: string, s: BigIntStats): string {
  return `file:${real}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

async function walk(
  dir: string,
  out: { path: string; real: string }[],
  tier: string,
  seen = new Set<string>(),
): Promise<void> {
  // Symbolic links are followed (a day folder is often a link), and each real folder read once.
  let real: string;
  let entries;
  try {
    real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    entries = await opendir(dir);
  } catch (e) {
    throw new TierError(
      tier,
      dir,
      `cannot read the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  for await (const entry of entries) {
    const full = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(full);
        isDir = target.isDirectory();
        isFile = target.isFile();
      } catch (e) {
        throw new TierError(tier, full, `broken link (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (isDir) await walk(full, out, tier, seen);
    else if (isFile && RECORD_OBJECT.test(entry.name))
      out.push({ path: full, real: entry.isSymbolicLink() ? await resolved(full, tier) : path.join(real, entry.name) });
  }
}
