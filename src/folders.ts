// Folders on the local disk: made one level at a time, since Node's own recursive mkdir can hang.
import { mkdir, realpath, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * Creates `dir` and the folders above it that are missing, one level at a time. Not
 * `mkdir({ recursive: true })`: Node's loops forever below /proc (ENOENT there never ends its walk
 * up), in a thread no signal reaches.
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EEXIST') return assertFolder(dir);
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    await ensureDir(parent);
  }
  try {
    await mkdir(dir);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return assertFolder(dir);
    throw e;
  }
}

async function assertFolder(dir: string): Promise<void> {
  if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
}

/**
 * Whether link(2) failed because the file system (or a crossing between two) has no hard links: a FUSE
 * mount of a bucket, vfat, some SMB shares, two mounts. The caller then copies or creates instead.
 */
export function noHardLinks(e: unknown): boolean {
  return ['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK', 'ENOSYS'].includes(errnoOf(e) ?? '');
}

/** An error's errno code (ENOENT, EEXIST, …), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * Whether the process that made `file` is gone: no process has its pid (ESRCH), or the pid is this
 * process's and the file is older than it (a container's pid 1, say, reused by each run).
 */
export async function ownerGone(pid: number, file: string): Promise<boolean> {
  return processGone(pid, pid === process.pid ? (await stat(file)).mtimeMs : 0);
}

/**
 * Whether the process `pid` of this machine, which last wrote something at `writtenMs` (epoch ms), is gone:
 * no process has the pid, or it is this process's and that write came before this process began.
 */
export function processGone(pid: number, writtenMs: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return writtenMs < performance.timeOrigin;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return errnoOf(e) === 'ESRCH';
  }
}

/**
 * The outermost folder of `dir` that does not exist yet (`dir` itself when only it is missing), or
 * undefined when `dir` exists (or cannot be looked at): what ensureDir(dir) would make.
 */
export async function firstMissingFolder(dir: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      await stat(at);
      return missing;
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') return missing;
      missing = at;
      if (path.dirname(at) === at) return missing;
    }
  }
}

/**
 * Removes `dir` and the folders above it up to `top` (included) while each is empty: what ensureDir made
 * for a run that then wrote nothing. A folder holding anything, or gone, ends it quietly.
 */
export async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  const end = path.resolve(top);
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (at !== end && !at.startsWith(end + path.sep)) return;
    try {
      await rmdir(at);
    } catch {
      return;
    }
    if (at === end) return;
  }
}

/**
 * `p` as the file system resolves it: the real path of its nearest part that exists (every symlink followed), with
 * the parts below it that do not exist yet. For comparing where two paths lead before either is made.
 */
export async function realPlace(p: string): Promise<string> {
  const rest: string[] = [];
  for (let at = path.resolve(p); ; at = path.dirname(at)) {
    try {
      return path.join(await realpath(at), ...rest.reverse());
    } catch {
      if (path.dirname(at) === at) return path.resolve(p);
      rest.push(path.basename(at));
    }
  }
}
