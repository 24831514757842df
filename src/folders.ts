// Folders on the local disk: made one level at a time, since Node's own recursive mkdir can hang.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

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

/** An error's errno code (ENOENT, EEXIST, …), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}
