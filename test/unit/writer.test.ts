import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AbortedError } from '../../src/errors.js';
import { ensureDir, firstMissingFolder, removeEmptyFolders } from '../../src/folders.js';
import { commitAll, prepareFile, removeStaleTemporaries, writeFileAtomic } from '../../src/report/writer.js';
import { rejection, tempDir } from '../support/files.js';

describe('committing prepared reports', () => {
  it('commits nothing once the run is stopped: the prepared files are discarded and the old ones stay', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'parity.csv'), 'old parity');
    const prepared = [
      await prepareFile(path.join(dir, 'missing.csv'), ['new missing']),
      await prepareFile(path.join(dir, 'parity.csv'), ['new parity']),
    ];
    const controller = new AbortController();
    controller.abort();
    expect(await rejection(commitAll(prepared, controller.signal))).toBeInstanceOf(AbortedError);
    expect(await readdir(dir)).toEqual(['parity.csv']);
    expect(await readFile(path.join(dir, 'parity.csv'), 'utf8')).toBe('old parity');
  });

  it('writes a single file atomically unless the run is stopped before its rename', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'report.html');
    await writeFile(target, 'old');
    const controller = new AbortController();
    controller.abort();
    expect(await rejection(writeFileAtomic(target, ['new'], controller.signal))).toBeInstanceOf(AbortedError);
    expect(await readdir(dir)).toEqual(['report.html']);
    await writeFileAtomic(target, ['new']);
    expect(await readFile(target, 'utf8')).toBe('new');
  });

  it('creates missing folders one level at a time, and refuses a file in the way', async () => {
    const dir = await tempDir();
    await ensureDir(path.join(dir, 'a', 'b', 'c'));
    expect(await readdir(path.join(dir, 'a', 'b'))).toEqual(['c']);
    await writeFile(path.join(dir, 'file'), '');
    expect(((await rejection(ensureDir(path.join(dir, 'file')))) as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });

  it('removes the folders it made while they are empty, and nothing above them or holding a file', async () => {
    const dir = await tempDir();
    const deep = path.join(dir, 'x', 'y', 'z');
    expect(await firstMissingFolder(deep)).toBe(path.join(dir, 'x'));
    expect(await firstMissingFolder(dir)).toBeUndefined();
    await ensureDir(deep);
    await removeEmptyFolders(deep, path.join(dir, 'x'));
    expect(await readdir(dir)).toEqual([]);
    // A file in one of them: only the empty ones below it go.
    await ensureDir(deep);
    await writeFile(path.join(dir, 'x', 'kept'), '');
    await removeEmptyFolders(deep, path.join(dir, 'x'));
    expect(await readdir(path.join(dir, 'x'))).toEqual(['kept']);
    // A top that is not above the folder removes nothing.
    await ensureDir(deep);
    await removeEmptyFolders(deep, path.join(dir, 'other'));
    expect(await readdir(path.join(dir, 'x', 'y'))).toEqual(['z']);
  });
});

describe('leftovers of killed runs', () => {
  it("removes a temporary with this process's pid only when it is older than the process (a reused pid)", async () => {
    const out = await tempDir();
    const scratch = await tempDir();
    const old = `.parity-2025-04-16.csv.${process.pid}.0a1b2c3d.tmp`;
    const fresh = `.missing-2025-04-16.csv.${process.pid}.0a1b2c3d.tmp`;
    await writeFile(path.join(out, old), 'partial');
    await writeFile(path.join(out, fresh), 'being written');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(path.join(out, old), anHourAgo, anHourAgo);
    await mkdir(path.join(scratch, `audit-parity-${process.pid}-AbC123`));
    await utimes(path.join(scratch, `audit-parity-${process.pid}-AbC123`), anHourAgo, anHourAgo);
    const removed = await removeStaleTemporaries(out, scratch);
    expect(removed.sort()).toEqual(
      [path.join(out, old), path.join(scratch, `audit-parity-${process.pid}-AbC123`)].sort(),
    );
    expect(await readdir(out)).toEqual([fresh]);
  });
});
