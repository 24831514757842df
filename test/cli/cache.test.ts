import { readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir, writeConfig } from '../support/files.js';
import {
  counted,
  csvs,
  DAYS,
  fromCache,
  reconcileDays,
  setUpCacheScenario,
  writeData,
} from '../support/cache-scenario.js';

describe('the per-object cache', () => {
  test('a second run reads every object from the cache and writes the same reports as a run without it', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    const none = await reconcileDays(plain, path.join(dir, 'none'));
    const first = await reconcileDays(cached, path.join(dir, 'first'));
    const second = await reconcileDays(cached, path.join(dir, 'second'));
    expect(none.code).toBe(first.code);
    const [proxy, gcs] = counted(first.stderr);
    expect(proxy).toBeGreaterThanOrEqual(6);
    expect(gcs).toBeGreaterThanOrEqual(6);
    expect(fromCache(first.stderr)).toEqual([
      `proxy: 0 of ${proxy} objects from cache`,
      `gcs: 0 of ${gcs} objects from cache`,
    ]);
    expect(fromCache(second.stderr)).toEqual([
      `proxy: ${proxy} of ${proxy} objects from cache`,
      `gcs: ${gcs} of ${gcs} objects from cache`,
    ]);
    const expected = await csvs(path.join(dir, 'none'));
    expect(Object.keys(expected)).toHaveLength(9); // parity, missing and windows for each of the 3 days
    expect(await csvs(path.join(dir, 'first'))).toEqual(expected);
    expect(await csvs(path.join(dir, 'second'))).toEqual(expected);
  });

  test('a cache below /proc, where no folder can be made, costs speed only: warnings, and the same reports', async () => {
    const { dir, plain } = await setUpCacheScenario();
    const config = await writeConfig(
      dir,
      { timezone: 'Asia/Kolkata', engine: { batchDays: 1 }, cache: { location: '/proc/no-such-cache/entries' } },
      'proc.json',
    );
    // Node's recursive mkdir walks up and down /proc forever there: the run must end, and by itself.
    const run = await reconcileDays(config, path.join(dir, 'proc'));
    // One warning for the run, not one per object, nor one per batch (three here; before 0.3.7, three warnings).
    expect(run.stderr.match(/cannot be used \(keeping the aggregate of/g)).toHaveLength(1);
    await reconcileDays(plain, path.join(dir, 'none'));
    expect(await csvs(path.join(dir, 'proc'))).toEqual(await csvs(path.join(dir, 'none')));
  }, 60_000);

  test("a cache folder linked into a data folder is never read as the tier's objects", async () => {
    const { dir, plain } = await setUpCacheScenario();
    // The config refuses proxy/dt=2025-03-08/cache; through a link (a day folder is often one) only the listing
    // sees it.
    await symlink(path.join(dir, 'proxy/dt=2025-03-08'), path.join(dir, 'day'));
    const config = await writeConfig(
      dir,
      { timezone: 'Asia/Kolkata', engine: { batchDays: 3 }, cache: { location: 'day/cache' } },
      'linked.json',
    );
    await reconcileDays(plain, path.join(dir, 'none'));
    const expected = await csvs(path.join(dir, 'none'));
    // Its manifests (.json) were read as malformed records, more each run (before 0.3.7).
    for (const run of ['first', 'second', 'third']) {
      await reconcileDays(config, path.join(dir, run));
      expect([run, await csvs(path.join(dir, run))]).toEqual([run, expected]);
    }
    expect((await readdir(path.join(dir, 'proxy/dt=2025-03-08/cache'))).length).toBeGreaterThan(0);
  }, 60_000);

  test('a modified file is parsed again and counted as it now is', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    await reconcileDays(cached, path.join(dir, 'first'));
    const file = path.join(dir, 'proxy/dt=2025-03-08/a.jsonl');
    const extra = { timestamp: '2025-03-08T12:00:00Z', request_id: 'added', site: 'US', status: 200 };
    await writeFile(file, (await readFile(file, 'utf8')) + JSON.stringify(extra) + '\n');
    const after = await reconcileDays(cached, path.join(dir, 'after'));
    expect(fromCache(after.stderr)).toContain('proxy: 5 of 6 objects from cache');
    await reconcileDays(plain, path.join(dir, 'none'));
    const expected = await csvs(path.join(dir, 'none'));
    expect(expected['missing-2025-03-08.csv']).toContain('added');
    expect(await csvs(path.join(dir, 'after'))).toEqual(expected);
  });

  test('new content of the same size with its mtime put back (cp -p, rsync -t) is parsed again', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    const file = path.join(dir, 'proxy/dt=2025-03-08/a.jsonl');
    // A whole second, which utimes puts back exactly.
    const when = new Date('2025-03-09T06:00:00Z');
    await utimes(file, when, when);
    await reconcileDays(cached, path.join(dir, 'first'));
    const before = await stat(file, { bigint: true });
    const text = await readFile(file, 'utf8');
    // One request id changed, byte for byte as long: a restored backup, say, of another version of the object.
    const id = /"request_id":"([^"]+)"/.exec(text)![1]!;
    const changed = text.replace(`"request_id":"${id}"`, `"request_id":"${'z'.repeat(id.length)}"`);
    expect(changed).not.toBe(text);
    expect(BigInt(Buffer.byteLength(changed))).toBe(before.size);
    await writeFile(file, changed);
    await utimes(file, when, when);
    const now = await stat(file, { bigint: true });
    expect([now.size, now.mtimeNs, now.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    const after = await reconcileDays(cached, path.join(dir, 'after'));
    expect(fromCache(after.stderr)).toContain('proxy: 5 of 6 objects from cache');
    await reconcileDays(plain, path.join(dir, 'none'));
    const expected = await csvs(path.join(dir, 'none'));
    expect(await csvs(path.join(dir, 'after'))).toEqual(expected);
    expect(await csvs(path.join(dir, 'after'))).not.toEqual(await csvs(path.join(dir, 'first')));
  });

  test('a corrupted cache entry is rebuilt with a warning, never trusted', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    const first = await reconcileDays(cached, path.join(dir, 'first'));
    const [proxy, gcs] = counted(first.stderr);
    // The objects' entries (the days' rows, day-*.parquet, are test/cli/day-slices.test.ts's).
    const entries = (await readdir(path.join(dir, 'cache')))
      .filter((n) => n.endsWith('.parquet') && !n.startsWith('day-'))
      .sort();
    expect(entries).toHaveLength(proxy! + gcs!);
    // One entry cut short, one with a byte changed in the middle.
    const cut = path.join(dir, 'cache', entries[0]!);
    await writeFile(cut, (await readFile(cut)).subarray(0, 40));
    const flipped = path.join(dir, 'cache', entries[1]!);
    const bytes = await readFile(flipped);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0xff;
    await writeFile(flipped, bytes);
    const again = await reconcileDays(cached, path.join(dir, 'again'));
    expect(again.stderr.match(/cache: the entry of .* is unreadable/g)).toHaveLength(2);
    const hits = fromCache(again.stderr).map((s) => Number(/(\d+) of/.exec(s)![1]));
    expect(hits[0]! + hits[1]!).toBe(proxy! + gcs! - 2);
    await reconcileDays(plain, path.join(dir, 'none'));
    expect(await csvs(path.join(dir, 'again'))).toEqual(await csvs(path.join(dir, 'none')));
    // Rebuilt: the next run finds every entry whole.
    const third = await reconcileDays(cached, path.join(dir, 'third'));
    expect(third.stderr).not.toMatch(/unreadable/);
    expect(fromCache(third.stderr)).toEqual([
      `proxy: ${proxy} of ${proxy} objects from cache`,
      `gcs: ${gcs} of ${gcs} objects from cache`,
    ]);
  });

  test('a gzip object has its entry too', async () => {
    const { dir, cached } = await setUpCacheScenario();
    await reconcileDays(cached, path.join(dir, 'first'));
    const manifests = await Promise.all(
      (await readdir(path.join(dir, 'cache')))
        .filter((n) => n.endsWith('.json'))
        .map(async (n) => JSON.parse(await readFile(path.join(dir, 'cache', n), 'utf8')) as { object: string }),
    );
    expect(manifests.filter((m) => m.object.endsWith('.jsonl.gz'))).toHaveLength(3);
  });

  test("daily's re-checks of earlier days reuse the entries an earlier morning made", async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    const daily = (config: string, asOf: string, out: string) =>
      runCli(['daily', '--config', config, '--as-of', asOf, '--out', path.join(dir, out)]);
    await daily(cached, '2025-03-09', 'd1');
    const next = await daily(cached, '2025-03-10', 'd2');
    const hits = fromCache(next.stderr).map((s) => /(\d+) of (\d+)/.exec(s)!.slice(1).map(Number));
    // The folders the earlier morning read are all reused; only the newest day's are parsed.
    expect(hits.reduce((n, [h]) => n + h!, 0)).toBeGreaterThan(0);
    await daily(plain, '2025-03-10', 'd3');
    expect(await csvs(path.join(dir, 'd2'))).toEqual(await csvs(path.join(dir, 'd3')));
  });

  test('a cut gzip object is still an error naming it, on the run that caches and on the next', async () => {
    const { dir, plain, cached } = await setUpCacheScenario();
    const gz = path.join(dir, 'proxy/dt=2025-03-08/b.jsonl.gz');
    const bytes = await readFile(gz);
    await writeFile(gz, bytes.subarray(0, bytes.length >> 1));
    const none = await reconcileDays(plain, path.join(dir, 'none'));
    const first = await reconcileDays(cached, path.join(dir, 'first'));
    const second = await reconcileDays(cached, path.join(dir, 'second'));
    expect(none.code).toBe(3);
    for (const run of [first, second]) {
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('b.jsonl.gz');
    }
    const expected = await csvs(path.join(dir, 'none'));
    expect(await csvs(path.join(dir, 'first'))).toEqual(expected);
    expect(await csvs(path.join(dir, 'second'))).toEqual(expected);
  });
});

describe('the config hash that backfill compares', () => {
  it('does not change when only the cache or the engine resources change, so current days stay skipped', async () => {
    const dir = await tempDir();
    await writeData(dir);
    const out = path.join(dir, 'out');
    const range = ['--from', DAYS[0]!, '--to', DAYS[2]!, '--out', out, '--log-format', 'json'];
    const plain = await writeConfig(dir, { sites: ['US', 'CA', 'MX'] }, 'plain.json');
    const first = await runCli(['backfill', '--config', plain, ...range]);
    expect([0, 1]).toContain(first.code);
    const tuned = await writeConfig(
      dir,
      { sites: ['US', 'CA', 'MX'], cache: { location: 'cache' }, engine: { memoryLimit: '300MiB', threads: 1 } },
      'tuned.json',
    );
    const again = await runCli(['backfill', '--config', tuned, ...range]);
    expect(again.code).toBe(first.code);
    expect(again.stderr).toContain(`"skipped":${DAYS.length}`);
    // A setting that changes what is reported still makes the days stale.
    const other = await writeConfig(dir, { sites: ['US', 'CA'] }, 'other.json');
    const redo = await runCli(['backfill', '--config', other, ...range]);
    expect(redo.stderr).not.toContain('"skipped"');
  });
});
