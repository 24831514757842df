import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeConfig, writeNdjson } from '../support/files.js';
import { csvs, reconcileDays, setUpCacheScenario } from '../support/cache-scenario.js';

/**
 * Each report day's rows kept whole in the cache (src/engine/day-slices.ts): a day whose folders'
 * objects are all unchanged is read back instead of merged again; any new, changed or removed object in
 * a folder that can hold the day makes that day again, and only that day. Reports are byte-identical to a
 * run without the cache in every case. The days are Kolkata's (UTC+05:30), so each spans two UTC dates.
 */

/** The "tier: N of M days from cache" lines, proxy's then gcs's. */
const daysFromCache = (stderr: string) => [...stderr.matchAll(/\w+: \d+ of \d+ days from cache/g)].map((m) => m[0]);

/** A run without the cache over the same data, for the reports every cached run must equal. */
async function expected(dir: string, plain: string, out: string) {
  await reconcileDays(plain, path.join(dir, out));
  return csvs(path.join(dir, out));
}

describe("each day's rows in the cache", () => {
  test('an unchanged day is read back whole on the next run, with the same reports', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    const first = await reconcileDays(cached, path.join(dir, 'first'));
    const second = await reconcileDays(cached, path.join(dir, 'second'));
    expect(daysFromCache(first.stderr)).toEqual(['proxy: 0 of 3 days from cache', 'gcs: 0 of 3 days from cache']);
    expect(daysFromCache(second.stderr)).toEqual(['proxy: 3 of 3 days from cache', 'gcs: 3 of 3 days from cache']);
    expect(second.code).toBe(first.code);
    const none = await expected(dir, plain, 'none');
    expect(Object.keys(none)).toHaveLength(9);
    // Hostile ids come back from the day entries as the lines gave them, and are written guarded.
    const missing = none['missing-2025-03-08.csv']!;
    for (const id of [`'=1054+2`, `'@SUM(1006)`, '"line\nbreak-10', '"r=1024+x""<script>"', '{00001030-'])
      expect(missing).toContain(id);
    expect(await csvs(path.join(dir, 'first'))).toEqual(none);
    expect(await csvs(path.join(dir, 'second'))).toEqual(none);
    // Thresholds and the engine's settings change no day's rows: their entries serve (before 0.3.7 the whole
    // config named them, so a backfill with its own memoryLimit shared none with the cron's).
    const tuned = await writeConfig(
      dir,
      {
        timezone: 'Asia/Kolkata',
        thresholds: { warnPct: 99.99, failPct: 50 },
        engine: { batchDays: 3, threads: 1, memoryLimit: '300MiB' },
        cache: { location: 'cache' },
      },
      'tuned.json',
    );
    const third = await reconcileDays(tuned, path.join(dir, 'third'));
    expect(daysFromCache(third.stderr)).toEqual(['proxy: 3 of 3 days from cache', 'gcs: 3 of 3 days from cache']);
  });

  test('a new object makes again exactly the days its folder can hold, and they count it', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    await reconcileDays(cached, path.join(dir, 'first'));
    // Folder 2025-03-09 can hold records of Kolkata's 03-08 (its UTC span ends on 03-08 18:30, a day late)
    // and 03-09, never of 03-07, whose folders run to 03-08.
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/c.jsonl'), [
      { timestamp: '2025-03-08T10:00:00Z', request_id: 'new-on-08', site: 'US', status: 200 },
      { timestamp: '2025-03-09T10:00:00Z', request_id: 'new-on-09', site: 'US', status: 413 },
      'a junk line, counted on its folder day',
    ]);
    const after = await reconcileDays(cached, path.join(dir, 'after'));
    expect(daysFromCache(after.stderr)).toEqual(['proxy: 1 of 3 days from cache', 'gcs: 3 of 3 days from cache']);
    const none = await expected(dir, plain, 'none');
    expect(none['missing-2025-03-08.csv']).toContain('new-on-08');
    expect(await csvs(path.join(dir, 'after'))).toEqual(none);
  });

  test('a removed object makes its days again', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    await reconcileDays(cached, path.join(dir, 'first'));
    // Folder 2025-03-10 can hold only 03-09's records (a day late) among the three days.
    await rm(path.join(dir, 'landed/dt=2025-03-10/late-2025-03-09.jsonl'));
    const after = await reconcileDays(cached, path.join(dir, 'after'));
    expect(daysFromCache(after.stderr)).toEqual(['proxy: 3 of 3 days from cache', 'gcs: 2 of 3 days from cache']);
    expect(await csvs(path.join(dir, 'after'))).toEqual(await expected(dir, plain, 'none'));
  });

  test('a damaged day entry is never trusted: it is made again, with a warning, and kept whole', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    await reconcileDays(cached, path.join(dir, 'first'));
    const slices = (await readdir(path.join(dir, 'cache'))).filter((n) => /^day-.*\.parquet$/.test(n)).sort();
    expect(slices).toHaveLength(6);
    const damaged = path.join(dir, 'cache', slices[0]!);
    const bytes = await readFile(damaged);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    await writeFile(damaged, bytes);
    const again = await reconcileDays(cached, path.join(dir, 'again'));
    expect(again.stderr).toMatch(/cache: the entry of the (proxy|gcs) rows of 2025-03-0\d is unreadable/);
    expect(daysFromCache(again.stderr).join(' ')).toMatch(/2 of 3 days/);
    expect(await csvs(path.join(dir, 'again'))).toEqual(await expected(dir, plain, 'none'));
    const third = await reconcileDays(cached, path.join(dir, 'third'));
    expect(third.stderr).not.toMatch(/unreadable/);
    expect(daysFromCache(third.stderr)).toEqual(['proxy: 3 of 3 days from cache', 'gcs: 3 of 3 days from cache']);
  });
});
