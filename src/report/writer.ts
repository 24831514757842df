import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import { access, type FileHandle, lstat, open, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AbortedError, ConfigError, OutputError } from '../errors.js';
import { ensureDir, errnoOf, ownerGone } from '../folders.js';

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

/** `.NAME.PID.HEX.tmp`: the temporary file process PID writes beside NAME until it renames it over NAME. */
const TEMP_FILE = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;
/** The run's scratch folder in the temp directory: `audit-parity-PID-XXXXXX` (mkdtemp's six characters). */
export const SCRATCH_PREFIX = 'audit-parity-';
const SCRATCH_FOLDER = /^audit-parity-(\d+)-[A-Za-z0-9]{6}$/;

/** The scratch folder prefix of this process, for mkdtemp: its pid tells a later run whose folder it is. */
export function scratchPrefix(tempDirectory: string): string {
  return path.join(tempDirectory, `${SCRATCH_PREFIX}${process.pid}-`);
}

/**
 * Writes chunks to a temporary file beside `target`, flushed to disk, without touching the
 * target: several files are prepared, then committed together, so that a failure while writing
 * any of them leaves every old file in place. A file-system failure (a full disk, a read-only
 * folder) is an OutputError naming `target`; the temporary file is removed.
 */
export async function prepareFile(
  target: string,
  chunks: AsyncIterable<string> | Iterable<string>,
): Promise<PreparedFile> {
  const fsCall = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      throw outputError(target, e);
    }
  };
  await fsCall(ensureDir(path.dirname(target)));
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await fsCall(open(tmp, 'w'));
  const hash = createHash('sha256');
  try {
    let buffered = '';
    for await (const chunk of chunks) {
      buffered += chunk;
      if (buffered.length >= WRITE_BUFFER_CHARS) {
        hash.update(buffered);
        await fsCall(writeAll(handle, buffered));
        buffered = '';
      }
    }
    if (buffered) {
      hash.update(buffered);
      await fsCall(writeAll(handle, buffered));
    }
    await fsCall(handle.sync());
    await fsCall(handle.close());
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  let previousSha256: string | null;
  try {
    previousSha256 = await sha256OfFile(target);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw outputError(target, e);
  }
  return {
    target,
    sha256: hash.digest('hex'),
    previousSha256,
    commit: () => fsCall(rename(tmp, target)),
    discard: () => rm(tmp, { force: true }),
  };
}

/**
 * Writes all of `text`. A write to a nearly full disk can succeed in part without an error (only the
 * next one fails with ENOSPC): a single write would lose the rest of the chunk silently.
 */
async function writeAll(handle: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw Object.assign(new Error('the file system accepted no byte'), { code: 'EIO' });
    offset += bytesWritten;
  }
}

/**
 * Renames prepared files into place, in the order given, unless `signal` has fired: then every one
 * is discarded and AbortedError thrown, so nothing prepared from a stopped run is committed. Once
 * begun, the renames run to the end (they take microseconds): a day's files are old or new together.
 */
export async function commitAll(files: readonly PreparedFile[], signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) {
    await discardAll(files);
    throw new AbortedError();
  }
  for (const [i, f] of files.entries()) {
    try {
      await f.commit();
    } catch (e) {
      await discardAll(files.slice(i));
      throw e;
    }
  }
}

/** Removes prepared files that will not be committed. */
export async function discardAll(files: readonly PreparedFile[]): Promise<void> {
  await Promise.all(files.map((f) => f.discard().catch(() => {})));
}

/**
 * Writes a file so that a reader sees the old or the new content, never a part: chunks go to a
 * temporary file beside it, which is flushed to disk and renamed over the target. An error or an
 * abort (checked right before the rename) removes the temporary file and leaves the old content in place.
 */
export async function writeFileAtomic(
  target: string,
  chunks: AsyncIterable<string> | Iterable<string>,
  signal?: AbortSignal,
): Promise<WriteResult> {
  const prepared = await prepareFile(target, chunks);
  await commitAll([prepared], signal);
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

/**
 * What would keep `dir` from holding reports, found without writing anything (a dry run's check): a file in its
 * place or in its path, or a folder (its own, else the nearest one above it that exists) the process may not
 * write. Undefined when none is found; the run's own check (assertWritableFolder) writes a probe to be sure.
 */
export async function outputFolderProblem(dir: string): Promise<string | undefined> {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const found = await stat(at).catch((e: unknown) => (errnoOf(e) === 'ENOENT' ? undefined : e));
    if (found instanceof Error)
      return `${REASONS[errnoOf(found) ?? ''] ?? 'it cannot be looked at'} (${errnoOf(found)})`;
    if (found === undefined) {
      // a link to nothing: the run's mkdir of it fails
      if (
        await lstat(at).then(
          () => true,
          () => false,
        )
      )
        return 'it is a link to nothing (ENOENT)';
      if (path.dirname(at) === at) return undefined;
      continue;
    }
    if (!(found as Stats).isDirectory()) return `${REASONS.ENOTDIR} (ENOTDIR)`;
    return access(at, constants.W_OK).then(
      () => undefined,
      (e: unknown) => `${REASONS[errnoOf(e) ?? ''] ?? 'it cannot be written'} (${errnoOf(e)})`,
    );
  }
}

/**
 * Makes sure reports can be written into `dir` before anything is read: creates it, then creates and
 * removes a probe file in it. Throws OutputError naming `dir` (a file, an unwritable or impossible path).
 */
export async function assertWritableFolder(dir: string): Promise<void> {
  try {
    await ensureDir(dir);
  } catch (e) {
    throw outputError(dir, e);
  }
  const probe = path.join(dir, `.write-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (e) {
    throw outputError(dir, e);
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}

/** assertWritableFolder, its failure as `refuse(why)`: the usage or config error that names the flag or key. */
export async function requireWritableFolder(dir: string, refuse: (why: string) => Error): Promise<void> {
  try {
    await assertWritableFolder(dir);
  } catch (e) {
    if (e instanceof OutputError) throw refuse(`${e.reason} (${e.code})`);
    throw e;
  }
}

/**
 * Removes a report file the day no longer has, once the day's new files are in place; what is in the way (a folder)
 * is an OutputError naming it (exit 5), which says what that leaves: the new files without the manifest that
 * would vouch for them, so that the next run redoes the day.
 */
export async function removeReportFile(file: string): Promise<void> {
  try {
    await rm(file, { force: true });
  } catch (e) {
    const error = outputError(file, e);
    if (!(error instanceof OutputError)) throw error;
    throw new OutputError(error.file, error.code, error.reason, {
      cause: e,
      kept: "the day's other new reports are in place, without a new manifest: the next run redoes the day",
    });
  }
}

/**
 * The folder a run's scratch files go to must take them: `engine.tempDirectory`, else the OS temp folder (TMPDIR),
 * which a container with a read-only root file system and no volume at /tmp cannot write. A ConfigError naming
 * the key, or TMPDIR where none is set (before 0.3.7 an unwritable OS temp folder was exit 4, a bug).
 */
export async function requireScratchFolder(tempDirectory: string | undefined): Promise<void> {
  const dir = tempDirectory ?? os.tmpdir();
  await requireWritableFolder(dir, (why) =>
    tempDirectory !== undefined
      ? new ConfigError('engine.tempDirectory', `"${dir}" cannot hold the run's scratch files: ${why}`)
      : new ConfigError(
          'TMPDIR',
          `the OS temp folder "${dir}" cannot hold the run's scratch files: ${why}; ` +
            'set TMPDIR or engine.tempDirectory ' +
            'to a writable folder (a container with a read-only root file system needs a volume at /tmp)',
        ),
  );
}

/**
 * Removes what this job left behind when it was killed (kill -9, an OOM kill): `.NAME.PID.HEX.tmp`
 * files in `outDir` and `audit-parity-PID-XXXXXX` scratch folders in `tempDirectory`, only those
 * names and only when process PID is gone. Call it before this process writes anything. Returns
 * what was removed; a folder that cannot be listed is skipped (the run itself will say why).
 */
export async function removeStaleTemporaries(
  outDir: string,
  tempDirectory: string,
  /** Other folders the run writes through temporary files: the local per-object cache. */
  more: readonly string[] = [],
): Promise<string[]> {
  const removed: string[] = [];
  const sweep = async (dir: string, pattern: RegExp, remove: (full: string) => Promise<void>) => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = pattern.exec(name);
      if (!m) continue;
      const full = path.join(dir, name);
      try {
        if (!(await ownerGone(Number(m[m.length - 1]), full))) continue;
        await remove(full);
        removed.push(full);
      } catch {
        // Vanished meanwhile, or not ours to remove: leave it.
      }
    }
  };
  for (const dir of [outDir, ...more]) await sweep(dir, TEMP_FILE, (f) => rm(f));
  await sweep(tempDirectory, SCRATCH_FOLDER, (f) => rm(f, { recursive: true, force: true }));
  return removed;
}

/** Why a report could not be written, in words, by errno code. */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device — free space there, then run again',
  EDQUOT: 'the disk quota is exhausted — free space there, then run again',
  EACCES: 'permission denied — give the job write access to the folder',
  EPERM: 'operation not permitted — give the job write access to the folder',
  EROFS: 'the file system is read-only — choose a writable folder',
  ENOTDIR: 'a part of the path is a file, not a folder — choose a folder',
  EISDIR: 'a folder is in the way of the report file — move it away',
  ENOENT: 'the folder does not exist and cannot be created there — choose a folder that can exist',
  EIO: 'the disk reported an I/O error — check the disk',
};

export function outputError(file: string, e: unknown): unknown {
  if (e instanceof OutputError || e instanceof AbortedError) return e;
  // rm of a folder fails with Node's own code, not an errno's
  const code = (e as { code?: unknown } | undefined)?.code === 'ERR_FS_EISDIR' ? 'EISDIR' : errnoOf(e);
  if (code === undefined) return e;
  return new OutputError(file, code, REASONS[code] ?? 'the file system refused the write', { cause: e });
}

/** Characters gathered before a write: large enough to keep syscalls few, small enough to hold. */
const WRITE_BUFFER_CHARS = 1024 * 1024;
