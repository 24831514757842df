import { createReadStream, createWriteStream } from 'node:fs';
import { open, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import pLimit from 'p-limit';
import type { TierLocations } from '../config.js';
import type { DayKey, StagedObject, TierName } from '../domain.js';
import { AbortedError, TierError, throwIfAborted } from '../errors.js';
import { expandTemplate, fixedPart, type ParsedLocation } from '../locations.js';
import type { BlobObject } from '../storage/blob-store.js';
import type { StoreRegistry } from '../storage/index.js';
import { gzipTextHead, verifyGzip } from './gzip-check.js';

export type { StagedObject };

/** An object that could not be read; it makes its tier ERROR for the days whose records it may hold. */
export interface ObjectFailure {
  error: TierError;
  folderDay: DayKey | null;
}

export interface TierRead {
  tier: TierName;
  staged: StagedObject[];
  failures: ObjectFailure[];
  /** Folders or prefixes that listed no object: the caller warns, since a mistyped path looks just like this. */
  empty: EmptyPrefix[];
  /**
   * The gzip checks of staged .gz objects, which run while the engine reads them: the objects that
   * failed (never rejects). The caller awaits it before the day's counts are used and reads the tier
   * again without them, so that a cut object counts nothing, as if it had failed to stage.
   */
  verified: Promise<ObjectFailure[]>;
}

/** A location's folder or prefix, expanded for a folder day, below which nothing was listed. */
export interface EmptyPrefix {
  /** The index of the location in the tier's config. */
  location: number;
  /** As expanded: the absolute path, or gs://bucket/prefix. */
  expanded: string;
  folderDay: DayKey | null;
}

/** Folders read at once per tier when staging local gzip or downloading. */
export const LOCAL_STAGE_CONCURRENCY = 4;

/** gzip files checked at once per tier, beside the engine's own threads. */
const GZIP_CHECK_CONCURRENCY = 2;

/** A location is read per day when it names the day; a {yyyy}/{MM}-only template is read whole per value. */
function isDayFolder(template: string): boolean {
  return /\{(date|dd)\}/.test(template);
}

/**
 * Lists and stages every record object of one tier below its locations for the given folder days.
 * Throws TierError when the tier as a whole cannot be read (a root that does not exist, a denied
 * listing); returns per-object failures (a corrupt gzip) so that other days are still counted.
 */
export async function readRecordTier(
  tier: TierName,
  cfg: TierLocations,
  folderDays: DayKey[],
  stores: StoreRegistry,
  scratchDir: string,
  concurrency: number,
  signal?: AbortSignal,
  /**
   * The object's aggregate from the per-object cache, as a local file, or undefined: an object that has
   * one is neither downloaded nor checked, since its entry was made from the very same bytes.
   */
  cached?: (object: BlobObject) => Promise<string | undefined>,
): Promise<TierRead> {
  const listed = new Map<string, { object: BlobObject; folderDay: DayKey | null; location: ParsedLocation }>();
  const empty: EmptyPrefix[] = [];
  for (const [index, location] of cfg.locations.entries()) {
    const store = await stores.storeFor(tier, location);
    await store.assertRootExists(fixedPart(location.template), signal, location.keyPath);
    const prefixes = new Map<string, DayKey | null>();
    if (isDayFolder(location.template)) {
      for (const day of folderDays) prefixes.set(expandTemplate(location.template, day), day);
    } else {
      for (const day of folderDays) prefixes.set(expandTemplate(location.template, day), null);
    }
    for (const [prefix, folderDay] of prefixes) {
      throwIfAborted(signal);
      let objects = 0;
      for await (const object of store.list(prefix, signal)) {
        objects++;
        // Two locations, or two prefixes, that reach the same object (or a symlink to it) count it once.
        const key = object.key ?? object.url;
        if (!listed.has(key)) listed.set(key, { object, folderDay, location });
      }
      if (objects === 0)
        empty.push({
          location: index,
          expanded: location.scheme === 'gs' ? `gs://${location.bucket}/${prefix}` : prefix,
          folderDay,
        });
    }
  }

  const limit = pLimit(concurrency);
  const checkLimit = pLimit(GZIP_CHECK_CONCURRENCY);
  const staged: StagedObject[] = [];
  const failures: ObjectFailure[] = [];
  const checks: Promise<ObjectFailure | null>[] = [];
  const failed = (url: string, folderDay: DayKey | null, e: unknown): ObjectFailure => ({
    // One object that cannot be read makes only the days it may hold ERROR, whatever failed.
    error: e instanceof TierError ? e : new TierError(tier, url, (e as Error).message, false, { cause: e }),
    folderDay,
  });
  let n = 0;
  await Promise.all(
    [...listed.values()].map(({ object, folderDay, location }) => {
      const scratch = path.join(scratchDir, `${tier}-${n++}.ndjson`);
      return limit(async () => {
        throwIfAborted(signal);
        try {
          const entry = cached && object.identity ? await cached(object) : undefined;
          if (entry) {
            staged.push({ path: entry, url: object.url, folderDay, identity: object.identity, aggregate: true });
            return;
          }
          const store = await stores.storeFor(tier, location);
          if (!object.gzip) {
            const file = await withoutBom(
              tier,
              object.url,
              await store.stage(object, scratch, signal),
              textCopy(scratch),
              signal,
            );
            staged.push({ path: await globSafe(file, scratch), url: object.url, folderDay, identity: object.identity });
            return;
          }
          const stored = await store.fetchStored(object, `${scratch}.gz`, signal);
          if (!stored.gzip) {
            staged.push({
              path: await withoutBom(tier, object.url, stored.path, textCopy(scratch), signal),
              url: object.url,
              folderDay,
              identity: object.identity,
            });
            return;
          }
          const head = await gzipTextHead(stored.path, UTF8_BOM.length).catch((e: unknown) => {
            throw unreadable(tier, object.url, e);
          });
          if (head.equals(UTF8_BOM)) {
            // Rare: the engine would read the mark into the first line, so this text is copied without it.
            staged.push({
              path: await inflatedWithoutBom(tier, object, stored.path, textCopy(scratch), signal),
              url: object.url,
              folderDay,
              identity: object.identity,
            });
            return;
          }
          // The engine tells gzip by a lower-case .gz; any other spelling is read through a link so named.
          const file =
            stored.path.endsWith('.gz') && !globUnsafe(stored.path)
              ? stored.path
              : await linkedAs(stored.path, `${scratch}.gz`);
          const check = checkLimit(() => verifyGzip(file, signal)).then(
            () => null,
            (e: unknown) => (signal?.aborted ? null : failed(object.url, folderDay, notGzip(tier, object, e))),
          );
          checks.push(check);
          // Whether the object proved whole: only then may its aggregate be kept in the cache.
          const checked = check.then((f) => f === null && !signal?.aborted);
          staged.push({ path: file, url: object.url, folderDay, identity: object.identity, checked });
        } catch (e) {
          if (e instanceof AbortedError || signal?.aborted) throw new AbortedError();
          failures.push(failed(object.url, folderDay, e));
        }
      });
    }),
  );
  // Completion order is not stable; the engine and messages want the same order every run.
  staged.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  failures.sort((a, b) => (a.error.object < b.error.object ? -1 : 1));
  // Staging that a stop cut short is never handed on as the tier's whole set of objects.
  throwIfAborted(signal);
  const verified = Promise.all(checks).then((all) =>
    all.filter((f): f is ObjectFailure => f !== null).sort((a, b) => (a.error.object < b.error.object ? -1 : 1)),
  );
  return { tier, staged, failures, empty, verified };
}

/** Where an object's text goes when it has to be copied (a byte-order mark to drop). */
function textCopy(scratch: string): string {
  return scratch.replace(/\.ndjson$/, '-text.ndjson');
}

/**
 * A name the engine cannot take literally: its readers glob a path with `*`, `?` or `[` (escaped in
 * brackets, src/engine/load-sql.ts), and in a glob a backslash splits the path as `/` does, so
 * `\\b*.jsonl` read `b*.jsonl` and `x\\*.jsonl` nothing. Such a file is read through a link.
 */
const globUnsafe = (file: string): boolean => file.includes('\\') && /[[*?]/.test(file);

/** `file` itself, or a link to it at `link` when the engine could not read it by its name. */
const globSafe = (file: string, link: string): Promise<string> =>
  globUnsafe(file) ? linkedAs(file, link) : Promise.resolve(file);

async function linkedAs(target: string, link: string): Promise<string> {
  await symlink(target, link);
  return link;
}

/** A gzip file's text without its leading byte-order mark, inflated into `copyPath` (which checks it whole). */
async function inflatedWithoutBom(
  tier: TierName,
  object: BlobObject,
  file: string,
  copyPath: string,
  signal?: AbortSignal,
): Promise<string> {
  let skip = UTF8_BOM.length;
  const dropMark = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const cut = Math.min(skip, chunk.length);
      skip -= cut;
      done(null, chunk.subarray(cut));
    },
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), dropMark, createWriteStream(copyPath), { signal });
  } catch (e) {
    if (signal?.aborted) throw new AbortedError();
    throw notGzip(tier, object, e);
  }
  return copyPath;
}

/**
 * A failed gzip check as the object's TierError: zlib's codes (Z_*) mean the bytes are bad; any other
 * code is the file system failing to read or write them.
 */
function notGzip(tier: TierName, object: BlobObject, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && !code.startsWith('Z_')) return unreadable(tier, object.url, e);
  return new TierError(
    tier,
    object.url,
    `not valid gzip (${code ?? (e as Error).message}) — the object is corrupt or truncated` +
      (object.generation ? ` (generation ${object.generation})` : ''),
    false,
    { cause: e },
  );
}

/**
 * UTF-8's byte-order mark: some writers put it at the start of a file, where it would make the first line malformed.
 */
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The staged file without a leading byte-order mark: the file itself when it has none, else a copy
 * from its fourth byte in `copyPath`. Reading its first bytes here is also where a local object
 * that cannot be read at all (EIO, EACCES) shows: a TierError naming the object, by errno code.
 */
async function withoutBom(
  tier: TierName,
  url: string,
  file: string,
  copyPath: string,
  signal?: AbortSignal,
): Promise<string> {
  const head = Buffer.alloc(UTF8_BOM.length);
  let bytes: number;
  try {
    const fh = await open(file, 'r');
    try {
      ({ bytesRead: bytes } = await fh.read(head, 0, head.length, 0));
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw unreadable(tier, url, e);
  }
  if (bytes < UTF8_BOM.length || !head.equals(UTF8_BOM)) return file;
  try {
    await pipeline(createReadStream(file, { start: UTF8_BOM.length }), createWriteStream(copyPath), { signal });
  } catch (e) {
    if (signal?.aborted) throw new AbortedError();
    throw unreadable(tier, url, e);
  }
  return copyPath;
}

/** A system error (by its errno code) as the TierError of the object; anything else as it is. */
function unreadable(tier: TierName, url: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return e;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new TierError(
      tier,
      url,
      `cannot be staged: the scratch folder is full (${code}) — free space in engine.tempDirectory`,
      true,
      { cause: e },
    );
  }
  return new TierError(
    tier,
    url,
    `cannot be read (${code}) — check the file and the disk it is on`,
    code === 'EAGAIN' || code === 'EBUSY' || code === 'ETIMEDOUT',
    { cause: e },
  );
}
