import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { catchUp, dailyDays, dailyReach } from '../../jobs/daily.js';
import { addDays } from '../../src/dates.js';
import type { DayManifest } from '../../src/report/manifest.js';
import type { RowStatus } from '../../src/domain.js';

/** A manifest of ours for `day` with `status`, as a run writes it (only what catchUp and parseManifest read). */
function manifest(day: string, status: RowStatus): string {
  const m: Partial<DayManifest> = {
    day,
    status,
    configHash: 'h',
    version: '0.3.5',
    asOf: '2025-03-10T06:00:00.000Z',
    sites: ['US'],
    files: { parity: { name: `parity-${day}.csv`, sha256: sha256(parityOf(day)) }, missing: null },
  };
  return JSON.stringify(m);
}

const parityOf = (day: string) => `date,site\n${day},US\n`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A folder with these manifests, and beside each of ours its parity file as the manifest names it. */
async function outDir(manifests: Record<string, RowStatus | string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parity-test-daily-'));
  await mkdir(dir, { recursive: true });
  for (const [day, status] of Object.entries(manifests)) {
    await writeFile(path.join(dir, `parity-${day}.csv`), parityOf(day));
    await writeFile(
      path.join(dir, `manifest-${day}.json`),
      ['PASS', 'WARN', 'FAIL', 'NO_DATA', 'ERROR'].includes(status) ? manifest(day, status as RowStatus) : status,
    );
  }
  return dir;
}

const SPAN = ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06'];

describe("daily's days", () => {
  it('reaches catchUpDays before the re-check window, oldest first', () => {
    expect(dailyDays('2025-03-10', 2)).toEqual(['2025-03-07', '2025-03-08', '2025-03-09']);
    // Six days, the 4th to the 9th: three of catch-up, then the window.
    expect(dailyReach('2025-03-10', { lateDays: 2, catchUpDays: 3 })).toEqual(
      Array.from({ length: 6 }, (_, i) => addDays('2025-03-04', i)),
    );
    expect(dailyReach('2025-03-01', { lateDays: 0, catchUpDays: 0 })).toEqual(['2025-02-28']);
    // Never before the first day the job can count: the span is cut, a window that would reach it refused.
    expect(dailyReach('1970-01-05', { lateDays: 1, catchUpDays: 7 })).toEqual([
      '1970-01-02',
      '1970-01-03',
      '1970-01-04',
    ]);
    expect(() => dailyReach('1970-01-02', { lateDays: 3, catchUpDays: 7 })).toThrow(
      '--as-of: "1970-01-02" would re-check 1969-12-29, before 1970-01-02',
    );
  });
});

describe('catching up earlier days', () => {
  it('takes a day whose last report is ERROR, and a day without one after a reported day', async () => {
    const dir = await outDir({ '2025-03-02': 'PASS', '2025-03-03': 'ERROR', '2025-03-05': 'FAIL' });
    expect(await catchUp(dir, SPAN)).toEqual([
      { day: '2025-03-03', why: 'ERROR' },
      { day: '2025-03-04', why: 'unreported' },
      { day: '2025-03-06', why: 'unreported' },
    ]);
  });

  it('leaves the days before the first reported one (the job may not have run yet) and every other status', async () => {
    const dir = await outDir({ '2025-03-04': 'NO_DATA', '2025-03-05': 'WARN', '2025-03-06': 'PASS' });
    expect(await catchUp(dir, SPAN)).toEqual([]);
    expect(await catchUp(await outDir({}), SPAN)).toEqual([]);
  });

  it('takes a day whose report is not whole: a file its manifest names gone (deleted from the bucket) or changed', async () => {
    const dir = await outDir({
      '2025-03-01': 'PASS',
      '2025-03-02': 'PASS',
      '2025-03-03': 'FAIL',
      '2025-03-04': 'PASS',
    });
    await rm(path.join(dir, 'parity-2025-03-02.csv'));
    await writeFile(path.join(dir, 'parity-2025-03-04.csv'), parityOf('2025-03-04') + 'edited\n');
    expect(await catchUp(dir, SPAN.slice(0, 4))).toEqual([
      { day: '2025-03-02', why: 'incomplete' },
      { day: '2025-03-04', why: 'incomplete' },
    ]);
  });

  it('reads a manifest that is not ours, or names another day, as no report', async () => {
    const dir = await outDir({
      '2025-03-01': 'PASS',
      '2025-03-02': '{"broken',
      '2025-03-03': manifest('2025-03-09', 'PASS'),
    });
    expect(await catchUp(dir, SPAN.slice(0, 4))).toEqual([
      { day: '2025-03-02', why: 'unreported' },
      { day: '2025-03-03', why: 'unreported' },
      { day: '2025-03-04', why: 'unreported' },
    ]);
  });
});
