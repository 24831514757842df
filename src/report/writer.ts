import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface WriteResult {
  /** sha256 of what was written. */
  sha256: string;
  /** sha256 of the file it replaced, or null when there was none: tells a restated day from an unchanged one. */
  previousSha256: string | null;
}

/** A file written beside its target, not yet in place. */
export interface PreparedFile extends WriteResult {
  target: string;
  /** Renames it over the target. */
  commit(): Promise<void>;
  /** Removes it, leaving the target as it was. */
  discard(): Promise<void>;
}

/**
 * Writes chunks to a temporary file beside `target`, flushed to disk, without touching the
 * target: several files are prepared, then committed together, so that a failure while writing
 * any of them leaves every old file in place.
 */
export async function prepareFile(target: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<PreparedFile> {
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w');
  const hash = createHash('sha256');
  try {
    let buffered = '';
    for await (const chunk of chunks) {
      buffered += chunk;
      if (buffered.length >= WRITE_BUFFER_CHARS) {
        hash.update(buffered);
        await handle.write(buffered);
        buffered = '';
      }
    }
    if (buffered) {
      hash.update(buffered);
      await handle.write(buffered);
    }
    await handle.sync();
    await handle.close();
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  return {
    target,
    sha256: hash.digest('hex'),
    previousSha256: await sha256OfFile(target),
    commit: () => rename(tmp, target),
    discard: () => rm(tmp, { force: true }),
  };
}

/** Renames prepared files into place, in the order given. */
export async function commitAll(files: readonly PreparedFile[]): Promise<void> {
  for (const f of files) await f.commit();
}

/**
 * Writes a file so that a reader sees the old or the new content, never a part: chunks go to a
 * temporary file beside it, which is flushed to disk and renamed over the target. An error or an
 * abort removes the temporary file and leaves the old content in place.
 */
export async function writeFileAtomic(target: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<WriteResult> {
  const prepared = await prepareFile(target, chunks);
  await prepared.commit();
  return { sha256: prepared.sha256, previousSha256: prepared.previousSha256 };
}

/** sha256 of a file's bytes, or null when it does not exist. */
export async function sha256OfFile(file: string): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return hash.digest('hex');
}

/** Characters gathered before a write: large enough to keep syscalls few, small enough to hold. */
const WRITE_BUFFER_CHARS = 1024 * 1024;
