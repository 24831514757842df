import path from 'node:path';
import { rangeCsvs } from '../support/cache-scenario.js';
import { tempDir, writeNdjson } from '../support/files.js';

const DAYS = ['2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09'];

/**
 * Object names with `[`, `*` or `?` in them (and a backslash), beside the names such a pattern would match: DuckDB reads
 * a path with those characters as a glob, so without escaping `r[ab].jsonl` read `ra.jsonl` and
 * `st*ar.jsonl` read `stXar.jsonl` too (a line dropped or counted twice). Each object must be read
 * exactly once, whichever way the engine reads it: a scan per folder, one scan for a long batch
 * (folders found by file name), and the per-object and per-day cache. The oracle is the same data
 * under plain names.
 */
const NAMES: [string, string][] = [
  ['r[ab].jsonl', 'r_ab_.jsonl'],
  ['ra.jsonl', 'ra.jsonl'],
  ['st*ar.jsonl.gz', 'st_ar.jsonl.gz'],
  ['stXar.jsonl.gz', 'stXar.jsonl.gz'],
  ['q?.jsonl', 'q_.jsonl'],
  ['qq.jsonl', 'qq.jsonl'],
  // In a glob a backslash splits the path as `/` does: `\b*.jsonl` read `b*.jsonl`, `x\[.jsonl.gz` nothing.
  ['b*.jsonl', 'b_star.jsonl'],
  ['\\b*.jsonl', 'bs_b_star.jsonl'],
  ['x\\[.jsonl.gz', 'x_bs_bracket.jsonl.gz'],
  ['a\\b.jsonl', 'a_bs_b.jsonl'],
];

async function writeTwins(root: string): Promise<{ glob: string; plain: string }> {
  const [glob, plain] = [path.join(root, 'glob'), path.join(root, 'plain')];
  for (const [d, day] of DAYS.entries()) {
    for (const [f, [globName, plainName]] of NAMES.entries()) {
      // Five ids per object, accepted; the landed copy has all but the object's last id.
      const ids = Array.from({ length: 5 }, (_, i) => `${day}-${f}-${i}`);
      const at = (i: number) => `${day}T${String(10 + f).padStart(2, '0')}:0${i}:00Z`;
      const proxy = ids.map((id, i) => ({
        timestamp: at(i),
        request_id: id,
        site: ['US', 'CA', 'MX'][(d + i) % 3],
        status: 200,
      }));
      const landed = proxy.slice(0, 4).map(({ status: _, ...r }) => r);
      for (const [dir, name] of [
        [glob, globName],
        [plain, plainName],
      ] as const) {
        await writeNdjson(path.join(dir, `proxy/dt=${day}`, name), proxy);
        await writeNdjson(path.join(dir, `landed/dt=${day}`, name), landed);
      }
    }
  }
  return { glob, plain };
}

test('objects named like glob patterns are each read once, by every read path', async () => {
  const { glob, plain } = await writeTwins(await tempDir());
  const range = (dir: string, config: Record<string, unknown>, out: string) =>
    rangeCsvs(dir, DAYS, config, out, /No files found/);
  const expected = await range(plain, { engine: { batchDays: 1 } }, 'out');
  // Each day misses exactly one id per object: 6 objects.
  expect(expected[`missing-${DAYS[0]}.csv`]!.trim().split('\n')).toHaveLength(1 + NAMES.length);
  for (const [config, out] of [
    [{ engine: { batchDays: 1 } }, 'by-folder'],
    [{ engine: { batchDays: 7 } }, 'one-scan'],
    [{ engine: { batchDays: 7 }, cache: { location: 'cache' } }, 'cache-cold'],
    [{ engine: { batchDays: 7 }, cache: { location: 'cache' } }, 'cache-warm'],
  ] as const)
    expect(await range(glob, config, out)).toEqual(expected);
}, 120_000);
