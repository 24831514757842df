import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCsv, runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const CANONICAL = '0f8fad5b-d9cb-469f-a165-70867728950e';
/** The same UUID spelt otherwise: each is a different request id, byte for byte. */
const VARIANTS = [
  CANONICAL.toUpperCase(),
  `{${CANONICAL}}`,
  CANONICAL.replace(/-/g, ''),
  `${CANONICAL} `,
  ` ${CANONICAL}`,
  `urn:uuid:${CANONICAL}`,
];

const rec = (rid: string, status?: number) => ({
  timestamp: '2025-03-09T12:00:00Z',
  request_id: rid,
  site: 'US',
  ...(status ? { status } : {}),
});

describe('request ids keyed as UUIDs', () => {
  test('an id spelt like a UUID but not in its canonical lower-case form stays its own id, never merged', async () => {
    const dir = await tempDir();
    await writeNdjson(
      path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'),
      [CANONICAL, ...VARIANTS].map((id) => rec(id, 200)),
    );
    // Only the canonical spelling landed: every other spelling is missing, with its own text.
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [rec(CANONICAL)]);
    const out = path.join(dir, 'out');
    const run = await runCli(['reconcile', '--config', await writeConfig(dir), '--date', '2025-03-09', '--out', out]);
    expect(run.stderr).not.toContain('Error');
    const parity = parseCsv(await readFile(path.join(out, 'parity-2025-03-09.csv'), 'utf8'));
    const us = parity.find((r) => r.site === 'US')!;
    expect(Number(us.proxy_accepted)).toBe(1 + VARIANTS.length);
    const missing = await readFile(path.join(out, 'missing-2025-03-09.csv'), 'utf8');
    for (const v of VARIANTS) expect(missing).toContain(v);
    const rows = missing.split('\r\n').filter((l) => l.startsWith('2025-03-09,'));
    expect(rows).toHaveLength(VARIANTS.length);
    expect(rows.some((l) => l.split(',')[2] === CANONICAL)).toBe(false);
  });
});

describe('timestamps that look like ISO dates', () => {
  test("a number with a '-' fifth (123e-5) is a number below 1e11: no timestamp, its line malformed", async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      rec('a', 200),
      { timestamp: '123e-5', request_id: 'b', site: 'US', status: 200 },
    ]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [rec('a')]);
    const out = path.join(dir, 'out');
    await runCli(['reconcile', '--config', await writeConfig(dir), '--date', '2025-03-09', '--out', out]);
    const us = parseCsv(await readFile(path.join(out, 'parity-2025-03-09.csv'), 'utf8')).find((r) => r.site === 'US')!;
    // 123e-5 reads as the number it is (no failed date): 0 ms, below the 1e11 no writer's milliseconds reach, so no
    // timestamp (before 0.3.6 a record of 1970-01-01, out of the folder's window). Every number with a '-' fifth is
    // below 1000: the line is malformed whichever way it is read, and counted.
    expect([us.proxy_out_of_window, us.proxy_malformed]).toEqual(['0', '1']);
  });
});
