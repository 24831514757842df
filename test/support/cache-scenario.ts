import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { reconcileRange, tempDir, writeConfig, writeNdjson } from './files.js';

/** The per-object cache's test scenario (test/cli/cache.test.ts, test/integration/gcs-cache.test.ts). */
export const DAYS = ['2025-03-07', '2025-03-08', '2025-03-09'];
const UUID = (i: number) => `${String(i).padStart(8, '0')}-d9cb-469f-a165-70867728950e`;

/** Request ids as clients send them: UUIDs in every spelling, and hostile text. */
const ID_SPELLINGS = [
  (i: number) => UUID(i),
  (i: number) => UUID(i).toUpperCase(),
  (i: number) => `{${UUID(i)}}`,
  (i: number) => `r=${i}+x"<script>`,
  (i: number) => `line\nbreak-${i}`,
  // Formulas. Seven spellings against six statuses, so that an accepted id that never lands has each.
  (i: number) => `=${i}+2`,
  (i: number) => `@SUM(${i})`,
];
const SITES = ['US', ' ca ', 'mx', 'ZZ', ''];

/** Every way a timestamp arrives, for an instant of `day`: epoch ms as number and text, ISO with and without offset. */
function stamp(day: string, minute: number, how: number): string | number {
  const ms = Date.parse(`${day}T00:00:00Z`) + minute * 60_000;
  const iso = new Date(ms).toISOString();
  return [ms, String(ms), iso, iso.replace('Z', ''), iso.replace('Z', '+00:00'), `${ms}.75`][how % 6]!;
}

/**
 * Three days of proxy and landed objects holding every case the aggregate keeps apart: statuses
 * (the same id rejected in two objects), sites, id spellings, late and out-of-window copies, junk
 * lines, and a gzip object.
 */
export async function writeData(dir: string): Promise<void> {
  for (const [d, day] of DAYS.entries()) {
    const proxy: (object | string)[] = [];
    const landed: (object | string)[] = [];
    for (let i = 0; i < 60; i++) {
      const rid = ID_SPELLINGS[i % ID_SPELLINGS.length]!(i + d * 1000);
      const site = SITES[i % SITES.length]!;
      // Minutes spread over the UTC day, so that Kolkata's report days cut through the folders.
      const minute = (i * 97) % 1440;
      const status = [200, 200, 413, 502, 500, 201][i % 6]!;
      proxy.push({ timestamp: stamp(day, minute, i), request_id: rid, site, status });
      // A retry of the same id later in the second object.
      if (i % 4 === 0) proxy.push({ timestamp: stamp(day, minute + 5, i + 1), request_id: rid, site, status: 502 });
      if (i % 3 !== 0) landed.push({ timestamp: stamp(day, minute, i + 2), request_id: rid, site });
    }
    proxy.push('not json at all', { timestamp: 'junk', request_id: 'x', site: 'US', status: 200 });
    proxy.push({ timestamp: '123e-5', request_id: 'tiny', site: 'US', status: 200 });
    // A record of this day that landed in the next day's folder (late), and one far outside any window.
    const next = DAYS[d + 1] ?? '2025-03-10';
    const late = [{ timestamp: stamp(day, 1400, 2), request_id: `late-${day}`, site: 'US' }];
    late.push({ timestamp: stamp('2025-01-01', 0, 2), request_id: `old-${day}`, site: 'US' });
    // One id's copies under different site headers, split over the two objects: only the accepted copies'
    // headers decide unknown_site, so each object's cached aggregate must keep them apart from the rejected.
    const copy = (rid: string, site: string, status: number) => ({
      timestamp: stamp(day, 700, 2),
      request_id: `${rid}-${day}`,
      site,
      status,
    });
    const [inA, inB] = [
      [copy('zz-then-none', 'ZZ', 502), copy('zz-and-none', 'ZZ', 200), copy('zz-only', 'ZZ', 200)],
      [copy('zz-then-none', '', 200), copy('zz-and-none', '', 200), copy('zz-only', '', 502)],
    ];
    await writeNdjson(path.join(dir, `proxy/dt=${day}/a.jsonl`), [...proxy.slice(0, 50), ...inA]);
    await writeNdjson(path.join(dir, `proxy/dt=${day}/b.jsonl.gz`), [...proxy.slice(50), ...inB]);
    await writeNdjson(path.join(dir, `landed/dt=${day}/a.jsonl`), landed);
    await writeNdjson(path.join(dir, `landed/dt=${next}/late-${day}.jsonl`), late);
  }
}

/** The reports that must not change with the cache: every CSV, byte for byte. */
export async function csvs(out: string): Promise<Record<string, string>> {
  const names = (await readdir(out)).filter((n) => n.endsWith('.csv')).sort();
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(path.join(out, n), 'utf8')])));
}

/**
 * Reconciles `days` (first to last) of the data below `dir` with a config of `config` (written as
 * `<out>.json`) into `dir/out`, and returns its CSVs: the run must log no ERROR and no `bad` message, and
 * `logs` when given.
 */
export async function rangeCsvs(
  dir: string,
  days: readonly string[],
  config: Record<string, unknown>,
  out: string,
  bad: RegExp,
  logs?: RegExp,
): Promise<Record<string, string>> {
  const file = await writeConfig(dir, config, `${out}.json`);
  const run = await reconcileRange(file, days[0]!, days.at(-1)!, path.join(dir, out));
  expect(run.stderr).not.toMatch(/ERROR/);
  expect(run.stderr).not.toMatch(bad);
  if (logs) expect(run.stderr).toMatch(logs);
  return csvs(path.join(dir, out));
}

/** How many objects each file tier read (proxy, gcs), from the cache's log line. */
export const counted = (stderr: string) =>
  [...stderr.matchAll(/\w+: \d+ of (\d+) objects from cache/g)].map((m) => Number(m[1]));

export const fromCache = (stderr: string) =>
  [...stderr.matchAll(/(\w+): (\d+) of (\d+) objects from cache/g)].map((m) => m[0]);

/** The scenario in a new folder, with two configs over it: without the cache, and with it (`cache/`). Kolkata's days, one pass. */
export async function setUpCacheScenario(): Promise<{ dir: string; plain: string; cached: string }> {
  const dir = await tempDir();
  await writeData(dir);
  // The three days in one pass, so that each tier logs what came from the cache once.
  const base = { timezone: 'Asia/Kolkata', engine: { batchDays: 3 } };
  const plain = await writeConfig(dir, base, 'plain.json');
  const cached = await writeConfig(dir, { ...base, cache: { location: 'cache' } }, 'cached.json');
  return { dir, plain, cached };
}

/** reconcile of the scenario's three days into `out`. */
export const reconcileDays = (config: string, out: string) => reconcileRange(config, DAYS[0]!, DAYS[2]!, out);
