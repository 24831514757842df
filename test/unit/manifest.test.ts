import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { intactManifest } from '../../jobs/backfill.js';
import { readManifest } from '../../src/report/day-writer.js';
import { type DayManifest, parseManifest } from '../../src/report/manifest.js';

const HASH = 'ab'.repeat(32);
const good: DayManifest = {
  asOf: '2025-03-10T06:00:00.000Z',
  version: '0.3.5',
  revision: null,
  configHash: 'c'.repeat(64),
  command: 'daily',
  day: '2025-03-09',
  status: 'WARN',
  sites: ['US', 'CA'],
  change: 'restated',
  baseline: { parity: HASH, missing: null },
  durationMs: 1200,
  files: {
    parity: { name: 'parity-2025-03-09.csv', sha256: HASH },
    missing: { name: 'missing-2025-03-09.csv', sha256: HASH },
    windows: null,
  },
};
const text = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });

describe('a manifest read back', () => {
  it('is taken whole when every field a reader trusts has its shape (older ones without sites or baseline too)', () => {
    expect(parseManifest(JSON.stringify(good))).toEqual(good);
    expect(parseManifest(text({ sites: undefined, baseline: undefined }))).not.toBeNull();
    expect(parseManifest(text({ baseline: null }))).not.toBeNull();
  });

  it.each([
    ['a file entry without a name', { files: { ...good.files, missing: 'missing-2025-03-09.csv' } }],
    ['a parity entry whose sha256 is no hash', { files: { ...good.files, parity: { name: 'p.csv', sha256: 'x' } } }],
    ['no parity entry', { files: { missing: null } }],
    ['a day that is no date', { day: '2025-3-9' }],
    ['a status of no verdict', { status: 'GREEN' }],
    ['sites that are not names', { sites: 'US' }],
    ['a baseline that is no hash', { baseline: { parity: 'x', missing: null } }],
    ['no version', { version: undefined }],
  ])('is no manifest of ours with %s (backfill crashed on the first, exit 4)', (_, patch) => {
    expect(parseManifest(text(patch))).toBeNull();
  });

  it('is no manifest of ours when it is not JSON, or JSON of another kind', () => {
    for (const t of ['', '{', 'null', '[]', '"x"', '42']) expect(parseManifest(t)).toBeNull();
  });

  it("is another day's when copied over this day's name: not this day's (judged restated against it before)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parity-test-manifest-'));
    const file = path.join(dir, 'manifest-2025-03-10.json');
    await writeFile(file, JSON.stringify(good));
    expect(await readManifest(file, '2025-03-10')).toBeNull();
    expect(await readManifest(file, '2025-03-09')).toEqual(good);
  });

  it("is vouched for only when the files it names are the day's own, beside it and as written", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parity-test-manifest-'));
    const parity = 'date,site\r\n';
    await writeFile(path.join(dir, 'parity-2025-03-09.csv'), parity);
    await writeFile(path.join(dir, '..', 'outside.csv'), parity);
    const sha256 = createHash('sha256').update(parity).digest('hex');
    const write = (files: Record<string, unknown>) =>
      writeFile(path.join(dir, 'manifest-2025-03-09.json'), JSON.stringify({ ...good, files }));
    await write({ parity: { name: 'parity-2025-03-09.csv', sha256 }, missing: null });
    expect(await intactManifest(dir, '2025-03-09')).toMatchObject({ day: '2025-03-09' });
    // An entry of no kind the job writes, without a name: ignored (backfill crashed on it, exit 4).
    await write({ parity: { name: 'parity-2025-03-09.csv', sha256 }, missing: null, extra: { sha256 } });
    expect(await intactManifest(dir, '2025-03-09')).toMatchObject({ day: '2025-03-09' });
    // A file elsewhere, or another day's, or one edited since: not vouched for.
    await write({ parity: { name: '../outside.csv', sha256 }, missing: null });
    expect(await intactManifest(dir, '2025-03-09')).toBeNull();
    await write({ parity: { name: 'parity-2025-03-08.csv', sha256 }, missing: null });
    expect(await intactManifest(dir, '2025-03-09')).toBeNull();
    await write({ parity: { name: 'parity-2025-03-09.csv', sha256: HASH }, missing: null });
    expect(await intactManifest(dir, '2025-03-09')).toBeNull();
    // A file that cannot be read (here a folder in its place; EACCES alike): not intact, not a crash (exit 4).
    await mkdir(path.join(dir, 'missing-2025-03-09.csv'));
    await write({
      parity: { name: 'parity-2025-03-09.csv', sha256 },
      missing: { name: 'missing-2025-03-09.csv', sha256 },
    });
    expect(await intactManifest(dir, '2025-03-09')).toBeNull();
  });
});
