import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCsv, runCli, type TestConfig, tempDir, writeConfig, writeNdjson } from '../support/files.js';

/**
 * Each site's business day: a site with a zone of its own gets a row over its own local day. Mexico
 * has had no DST since 2022 (UTC-6 all year), so on a July day its midnight is an hour after
 * Chicago's (CDT, UTC-5); on 2025-03-09 Chicago springs forward and Mexico City does not.
 */
const US_MX = [{ code: 'US', timezone: 'America/Chicago' }, 'CA', { code: 'MX', timezone: 'America/Mexico_City' }];

interface Run {
  out: string;
  code: number | null;
  stderr: string;
}

async function reconcile(config: string, out: string, range: string[]): Promise<Run> {
  const run = await runCli(['reconcile', '--config', config, ...range, '--out', out]);
  expect(run.stderr).not.toMatch(/Error|exit 4/);
  return { out, code: run.code, stderr: run.stderr };
}

async function csvOf(out: string, name: string): Promise<Record<string, string>[]> {
  return parseCsv(await readFile(path.join(out, name), 'utf8'));
}

/** site → [proxy_requests, proxy_accepted, gcs_records] of a day's parity report. */
async function countsOf(out: string, day: string): Promise<Record<string, number[]>> {
  const rows = await csvOf(out, `parity-${day}.csv`);
  return Object.fromEntries(
    rows.map((r) => [r.site!, [Number(r.proxy_requests), Number(r.proxy_accepted), Number(r.gcs_records)]]),
  );
}

/** A request accepted at `iso`, and (when `lands`) its landed record in the folder of its UTC date. */
function request(id: string, site: string, iso: string, lands: boolean) {
  const rec = { timestamp: iso, request_id: id, site };
  return { proxy: { ...rec, status: 200 }, landed: lands ? [rec] : [], folder: iso.slice(0, 10) };
}

async function writeRequests(dir: string, requests: ReturnType<typeof request>[]): Promise<void> {
  const byFolder = new Map<string, { proxy: object[]; landed: object[] }>();
  for (const r of requests) {
    const f = byFolder.get(r.folder) ?? { proxy: [], landed: [] };
    f.proxy.push(r.proxy);
    f.landed.push(...r.landed);
    byFolder.set(r.folder, f);
  }
  for (const [folder, f] of byFolder) {
    await writeNdjson(path.join(dir, `proxy/dt=${folder}/a.jsonl`), f.proxy);
    await writeNdjson(path.join(dir, `landed/dt=${folder}/a.jsonl`), f.landed);
  }
}

describe('each site’s business day', () => {
  test('on a July day a record at 23:30 in Mexico City counts for MX’s day though it is the next day in Chicago, and a Chicago record at that instant for US’s next day', async () => {
    const dir = await tempDir();
    // 2025-07-16T05:30Z is 23:30 on the 15th in Mexico City (-06:00) and 00:30 on the 16th in Chicago (-05:00).
    const instant = '2025-07-16T05:30:00.000Z';
    await writeRequests(dir, [
      request('mx-late', 'MX', instant, false),
      request('us-early', 'US', instant, false),
      // CA has no zone of its own: the configured one (UTC), where 05:30 is on the 16th.
      request('ca-early', 'CA', instant, true),
      // Both on the 15th in either zone, landed.
      request('mx-noon', 'MX', '2025-07-15T18:00:00.000Z', true),
      request('us-noon', 'US', '2025-07-15T18:00:00.000Z', true),
    ]);
    const config = await writeConfig(dir, { timezone: 'UTC', sites: US_MX });
    const run = await reconcile(config, path.join(dir, 'out'), ['--from', '2025-07-15', '--to', '2025-07-16']);

    expect(await countsOf(run.out, '2025-07-15')).toEqual({
      US: [1, 1, 1],
      CA: [0, 0, 0],
      MX: [2, 2, 1],
      ALL: [3, 3, 2],
    });
    expect(await countsOf(run.out, '2025-07-16')).toEqual({
      US: [1, 1, 0],
      CA: [1, 1, 1],
      MX: [0, 0, 0],
      ALL: [2, 2, 1],
    });
    // The missing list and the loss windows tell each instant in its site's zone.
    const missing15 = await csvOf(run.out, 'missing-2025-07-15.csv');
    expect(missing15.map((r) => [r.site, r.request_id, r.accepted_at])).toEqual([
      ['MX', 'mx-late', '2025-07-15T23:30:00.000-06:00'],
    ]);
    const missing16 = await csvOf(run.out, 'missing-2025-07-16.csv');
    expect(missing16.map((r) => [r.site, r.request_id, r.accepted_at])).toEqual([
      ['US', 'us-early', '2025-07-16T00:30:00.000-05:00'],
    ]);
    expect((await csvOf(run.out, 'windows-2025-07-15.csv')).map((r) => [r.site, r.window_start, r.missing])).toEqual([
      ['MX', '2025-07-15T23:30:00.000-06:00', '1'],
    ]);
    expect((await csvOf(run.out, 'windows-2025-07-16.csv')).map((r) => [r.site, r.window_start, r.missing])).toEqual([
      ['US', '2025-07-16T00:30:00.000-05:00', '1'],
    ]);
    // The day's log line names its worst window in that site's zone.
    expect(run.stderr).toMatch(/2025-07-15: [^\n]*worst window: MX, 1 missing between 23:30 and 23:45/);
    expect(run.stderr).toMatch(/2025-07-16: [^\n]*worst window: US, 1 missing between 00:30 and 00:45/);
  });

  test('on 2025-03-09, when Chicago springs forward and Mexico City does not, each site’s day has its own length and ends', async () => {
    const dir = await tempDir();
    // Chicago's day: 06:00Z to 05:00Z next day (23 h); Mexico City's: 06:00Z to 06:00Z (24 h).
    await writeRequests(dir, [
      request('us-first', 'US', '2025-03-09T06:00:00.000Z', true),
      request('mx-first', 'MX', '2025-03-09T06:00:00.000Z', true),
      // 23:30 CDT on the 9th in Chicago; 22:30 in Mexico City.
      request('us-last', 'US', '2025-03-10T04:30:00.000Z', true),
      request('mx-mid', 'MX', '2025-03-10T04:30:00.000Z', true),
      // 00:30 CDT on the 10th in Chicago; 23:30 on the 9th in Mexico City.
      request('us-next', 'US', '2025-03-10T05:30:00.000Z', true),
      request('mx-last', 'MX', '2025-03-10T05:30:00.000Z', true),
      // Before either day: 23:59 on the 8th in both zones.
      request('us-before', 'US', '2025-03-09T05:59:00.000Z', true),
    ]);
    const config = await writeConfig(dir, { timezone: 'America/Chicago', sites: US_MX });
    const run = await reconcile(config, path.join(dir, 'out'), ['--date', '2025-03-09']);
    const counts = await countsOf(run.out, '2025-03-09');
    expect(counts.US).toEqual([2, 2, 2]);
    expect(counts.MX).toEqual([3, 3, 3]);
    // ALL sums the sites' rows, each over its own day.
    expect(counts.ALL).toEqual([5, 5, 5]);
  });

  test('the folders read are the union of what each site’s day needs, on either side of the configured zone’s', async () => {
    const dir = await tempDir();
    const sites = [{ code: 'US', timezone: 'America/Chicago' }, { code: 'JP', timezone: 'Asia/Tokyo' }, 'GB'];
    await writeRequests(dir, [
      // 01:00 on the 15th in Tokyo, in the folder of the 14th (UTC): JP's day needs it.
      request('jp-first', 'JP', '2025-07-14T16:00:00.000Z', true),
      // The same instant is the 14th for GB (UTC) and US: not theirs.
      request('gb-before', 'GB', '2025-07-14T16:00:00.000Z', true),
      // 22:00 on the 15th in Chicago, in the folder of the 16th: US's day needs it.
      request('us-last', 'US', '2025-07-16T03:00:00.000Z', true),
      request('gb-noon', 'GB', '2025-07-15T12:00:00.000Z', true),
    ]);
    const zero = { lateArrivalDays: 0 };
    const config = await writeConfig(dir, {
      sites,
      tiers: {
        proxy: { locations: ['proxy/dt={date}/'], ...zero },
        gcs: { locations: ['landed/dt={date}/'], ...zero },
      },
    });
    const run = await reconcile(config, path.join(dir, 'out'), ['--date', '2025-07-15']);
    const counts = await countsOf(run.out, '2025-07-15');
    expect([counts.US, counts.JP, counts.GB, counts.ALL]).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
      [3, 3, 3],
    ]);
    // Without the zones, the same folders are not read: only GB's noon request is on the UTC day.
    const plain = await writeConfig(
      dir,
      {
        sites: ['US', 'JP', 'GB'],
        tiers: {
          proxy: { locations: ['proxy/dt={date}/'], ...zero },
          gcs: { locations: ['landed/dt={date}/'], ...zero },
        },
      },
      'plain.json',
    );
    const utc = await reconcile(plain, path.join(dir, 'utc'), ['--date', '2025-07-15']);
    expect((await countsOf(utc.out, '2025-07-15')).ALL).toEqual([1, 1, 1]);
  });

  test('with the cache on, changing MX’s zone changes its day: entries keep time buckets, never days', async () => {
    const dir = await tempDir();
    await writeRequests(dir, [
      request('mx-late', 'MX', '2025-07-16T05:30:00.000Z', true),
      request('mx-noon', 'MX', '2025-07-15T18:00:00.000Z', true),
    ]);
    const range = ['--from', '2025-07-15', '--to', '2025-07-16'];
    const cached = (sites: NonNullable<TestConfig['sites']>, name: string) =>
      writeConfig(dir, { timezone: 'UTC', sites, cache: { location: 'cache' } }, name);
    const first = await reconcile(await cached(US_MX, 'mexico.json'), path.join(dir, 'mexico'), range);
    expect(first.stderr).toMatch(/proxy: 0 of 2 objects from cache/);
    expect((await countsOf(first.out, '2025-07-15')).MX).toEqual([2, 2, 2]);

    // Now MX's day is cut in UTC: the late request is the 16th's. Every object comes from the cache.
    const utcSites = ['US', 'CA', { code: 'MX', timezone: 'UTC' }];
    const second = await reconcile(await cached(utcSites, 'utc.json'), path.join(dir, 'utc'), range);
    expect(second.stderr).toMatch(/proxy: 2 of 2 objects from cache/);
    expect((await countsOf(second.out, '2025-07-15')).MX).toEqual([1, 1, 1]);
    expect((await countsOf(second.out, '2025-07-16')).MX).toEqual([1, 1, 1]);

    // The same reports as a run without the cache, byte for byte.
    const plain = await writeConfig(dir, { timezone: 'UTC', sites: utcSites }, 'plain.json');
    const uncached = await reconcile(plain, path.join(dir, 'plain'), range);
    for (const day of ['2025-07-15', '2025-07-16'])
      for (const file of [`parity-${day}.csv`, `missing-${day}.csv`, `windows-${day}.csv`])
        expect(await readFile(path.join(second.out, file), 'utf8')).toBe(
          await readFile(path.join(uncached.out, file), 'utf8'),
        );
  });
});
