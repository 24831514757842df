import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that a reader sees the old or the new content, never a part: chunks go to a
 * temporary file beside it, which is flushed to disk and renamed over the target.
 */
export async function writeFileAtomic(target: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    let buffered = '';
    for await (const chunk of chunks) {
      buffered += chunk;
      if (buffered.length >= WRITE_BUFFER_CHARS) {
        await handle.write(buffered);
        buffered = '';
      }
    }
    if (buffered) await handle.write(buffered);
    await handle.sync();
    await handle.close();
    await rename(tmp, target);
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Characters gathered before a write: large enough to keep syscalls few, small enough to hold. */
const WRITE_BUFFER_CHARS = 1024 * 1024;
