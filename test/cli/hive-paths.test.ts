import path from 'node:path';
import { rangeCsvs } from '../support/cache-scenario.js';
import { tempDir, writeNdjson } from '../support/files.js';

const DAYS = ['2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09', '2025-03-10'];

/**
 * Folders named `key=value`, as a sink connector partitioning by a field writes them (`site=US/`): DuckDB
 * takes such a path as Hive partitioning and, unless told not to, adds a column per key, and a key that is
 * also a field the job reads (`site`, `status`, `timestamp`, `request_id`) replaced every line's value with
 * the folder's: every site became `BR` below `site=BR/`. A cache folder below `env=prod/` added a column
 * that the cached rows do not have. Every read path must take each line's own fields: the oracle is the
 * same data under plain folder names.
 */
async function writeTwins(root: string): Promise<{ hive: string; plain: string }> {
  const [hive, plain] = [path.join(root, 'hive'), path.join(root, 'plain')];
  for (const [d, day] of DAYS.entries()) {
    for (const f of [0, 1]) {
      // Six ids per object, in all three sites, one rejected; the landed copy lacks the last accepted id.
      const ids = Array.from({ length: 6 }, (_, i) => `${day}-${f}-${i}`);
      const proxy = ids.map((id, i) => ({
        timestamp: `${day}T${String(10 + f).padStart(2, '0')}:0${i}:00Z`,
        request_id: id,
        site: ['US', 'CA', 'MX'][(d + i) % 3],
        status: i === 2 ? 413 : 200,
      }));
      const landed = proxy
        .filter((r) => r.status === 200)
        .slice(0, -1)
        .map(({ status: _, ...r }) => r);
      const name = `part-${f}.jsonl${f === 1 ? '.gz' : ''}`;
      await writeNdjson(path.join(hive, `proxy/site=BR/status=502/timestamp=0/dt=${day}`, name), proxy);
      await writeNdjson(path.join(hive, `landed/site=BR/request_id=x/dt=${day}`, name), landed);
      await writeNdjson(path.join(plain, `proxy/dt=${day}`, name), proxy);
      await writeNdjson(path.join(plain, `landed/dt=${day}`, name), landed);
    }
  }
  return { hive, plain };
}

test("folders named key=value never replace a line's own fields, by any read path", async () => {
  const { hive, plain } = await writeTwins(await tempDir());
  const range = (dir: string, config: Record<string, unknown>, out: string, logs?: RegExp) =>
    rangeCsvs(dir, DAYS, config, out, /Binder Error/, logs);
  const expected = await range(plain, { engine: { batchDays: 1 } }, 'out');
  const parity = expected[`parity-${DAYS[0]}.csv`]!;
  for (const site of ['US', 'CA', 'MX']) expect(parity).toMatch(new RegExp(`^${DAYS[0]},${site},`, 'm'));
  expect(parity).not.toMatch(/,BR,|UNKNOWN/);
  const located = {
    proxy: ['proxy/site=BR/status=502/timestamp=0/dt={date}/'],
    gcs: ['landed/site=BR/request_id=x/dt={date}/'],
  };
  const cache = { location: 'cache/env=prod/site=BR' };
  for (const [config, out, logs] of [
    [{ engine: { batchDays: 1 } }, 'by-folder', undefined],
    [{ engine: { batchDays: 7 } }, 'one-scan', undefined],
    [{ engine: { batchDays: 7 }, cache }, 'cache-cold', /proxy: 0 of 10 objects from cache/],
    // The warm run reads the days' entries back from below env=prod/ and site=BR/.
    [{ engine: { batchDays: 7 }, cache }, 'cache-warm', /proxy: 5 of 5 days from cache/],
  ] as const)
    expect(await range(hive, { ...located, ...config }, out, logs)).toEqual(expected);
}, 120_000);
