import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { parseCsv, runCli, tempDir, writeConfig } from '../support/files.js';

const DAY = '2025-03-09';
const rec = (rid: string, status?: number) =>
  JSON.stringify({ timestamp: `${DAY}T12:00:00Z`, request_id: rid, site: 'US', ...(status ? { status } : {}) });

/**
 * Lines cut where a JSON reader that does not stop at the newline reads on into the next line: after a
 * colon, inside an array, after an opening bracket; and lines that are no JSON, or not UTF-8. Each is
 * followed by a whole record, which must count as the record it is.
 */
const BROKEN: (string | Buffer)[] = [
  '{"request_id":"cut-1","timestamp":',
  '[',
  '{"a":[1,',
  '{"request_id":',
  '{"a": ',
  'GET /healthz HTTP/1.1 200',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"a":"<not UTF-8>"}
  '{"request_id":"cut-2","timestamp":"2025-03-09T12:0',
];

/** Broken lines, each followed by a whole record of `prefix`-k, then one more record. */
function lines(prefix: string, status?: number): { body: Buffer; records: string[] } {
  const parts: Buffer[] = [];
  const records: string[] = [];
  BROKEN.forEach((b, k) => {
    records.push(`${prefix}-${k}`);
    parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b), Buffer.from(`\n${rec(`${prefix}-${k}`, status)}\n`));
  });
  records.push(`${prefix}-last`);
  parts.push(Buffer.from(`${rec(`${prefix}-last`, status)}\n`));
  return { body: Buffer.concat(parts), records };
}

async function write(file: string, body: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, file.endsWith('.gz') ? gzipSync(body) : body);
}

/** A day whose proxy and landed objects (one plain, one gzip each) hold every broken line of BROKEN. */
async function scenario(dir: string): Promise<{ accepted: number; broken: number }> {
  const plain = lines('p', 200);
  const gz = lines('q', 200);
  await write(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), plain.body);
  await write(path.join(dir, `proxy/dt=${DAY}/b.jsonl.gz`), gz.body);
  // Landed: the same ids, with the same broken lines before each, so that nothing is missing.
  await write(path.join(dir, `landed/dt=${DAY}/a.jsonl`), lines('p').body);
  await write(path.join(dir, `landed/dt=${DAY}/b.jsonl.gz`), lines('q').body);
  return { accepted: plain.records.length + gz.records.length, broken: 2 * BROKEN.length };
}

/** `reconcile --date DAY` over `dir` (one site, US; with `cached`, a per-object cache): the run, and its US and UNKNOWN rows. */
async function reconcileDay(dir: string, cached: boolean) {
  const config = await writeConfig(dir, {
    sites: ['US'],
    ...(cached ? { cache: { location: path.join(dir, 'cache') } } : {}),
  });
  const out = path.join(dir, 'out');
  const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
  const rows = parseCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
  return { config, out, run, us: rows.find((r) => r.site === 'US')!, unknown: rows.find((r) => r.site === 'UNKNOWN')! };
}

describe('a record after a broken line', () => {
  test.each([
    ['read directly', false],
    ['through the per-object cache', true],
  ])('counts as the record it is, and the broken line as malformed (%s)', async (_name, cached) => {
    const dir = await tempDir();
    const { accepted, broken } = await scenario(dir);
    const { config, out, run, us, unknown } = await reconcileDay(dir, cached);
    expect(run.stderr).not.toContain('rror');
    // Each object with such a line is named once per tier, in a warning.
    for (const tier of ['proxy', 'gcs'])
      for (const name of ['a.jsonl', 'b.jsonl.gz']) {
        const said = run.stderr
          .split('\n')
          .filter((l) => l.includes(`"${tier}: `) && l.includes(`/${name} has a broken line`));
        expect(said).toHaveLength(1);
      }
    expect(Number(us.proxy_accepted)).toBe(accepted);
    expect(Number(us.gcs_records)).toBe(accepted);
    // Every broken line is malformed (no site: UNKNOWN's row), and none of the records after them is.
    expect([Number(unknown.proxy_malformed), Number(unknown.gcs_malformed)]).toEqual([broken, broken]);
    expect(Number(us.proxy_malformed ?? 0) + Number(us.gcs_malformed ?? 0)).toBe(0);
    const missing = await readFile(path.join(out, `missing-${DAY}.csv`), 'utf8');
    expect(missing.split('\r\n').filter((l) => l.startsWith(`${DAY},`))).toEqual([]);
    if (cached) {
      // A second run reads the entries made from the lines one at a time, and says the same.
      const again = path.join(dir, 'out2');
      await runCli(['reconcile', '--config', config, '--date', DAY, '--out', again]);
      expect(await readFile(path.join(again, `parity-${DAY}.csv`), 'utf8')).toBe(
        await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'),
      );
    }
  });
});

describe('lines longer than the JSON reader reads (it fails on an object with a line past about 32 MiB)', () => {
  test.each([
    ['read directly', false],
    ['through the per-object cache', true],
  ])(
    'a 33 MiB record counts, a 70 MiB cut line is malformed, and the records around them count (%s)',
    async (_n, cached) => {
      const dir = await tempDir();
      const huge = (rid: string, status?: number) =>
        `{"timestamp":"${DAY}T12:00:00Z","request_id":"${rid}","site":"US",${status ? `"status":${status},` : ''}` +
        `"payload":"${'a'.repeat(33 << 20)}"}`;
      // A writer that died 70 MiB into a line: past the longest line read as a record, so never held whole.
      const cut = `{"timestamp":"${DAY}T12:00:00Z","payload":"${'b'.repeat(70 << 20)}`;
      const body = (status?: number) =>
        Buffer.from([rec('x-1', status), huge('x-huge', status), cut, rec('x-2', status)].join('\n') + '\n');
      await write(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), body(200));
      await write(path.join(dir, `landed/dt=${DAY}/a.jsonl.gz`), body());
      const { run, us, unknown } = await reconcileDay(dir, cached);
      expect(run.code).toBe(0);
      expect(run.stderr).not.toContain('rror');
      // Said as what it is: a line too long, not a broken line read on past (the 33 MiB record is whole).
      expect(run.stderr).toContain('could not be read whole by the JSON reader (a line past its size limit');
      expect(run.stderr).not.toContain('read on past');
      expect([us.proxy_accepted, us.gcs_records, us.gcs_distinct, us.parity_pct]).toEqual(['3', '3', '3', '100.0000']);
      expect([unknown.proxy_malformed, unknown.gcs_malformed]).toEqual(['1', '1']);
    },
    120_000,
  );

  test('a record too long for the engine to parse within its memory limit never fails the run: it is malformed or counts', async () => {
    const dir = await tempDir();
    // About 50 MiB: at the default 512 MiB the JSON functions ran out of memory on it (exit 6, no reports).
    const huge = `{"timestamp":"${DAY}T12:00:00Z","request_id":"x-huge","site":"US","status":200,"payload":"${'a'.repeat(50 << 20)}"}`;
    await write(
      path.join(dir, `proxy/dt=${DAY}/a.jsonl`),
      Buffer.from([rec('x-1', 200), huge, rec('x-2', 200)].join('\n') + '\n'),
    );
    await write(path.join(dir, `landed/dt=${DAY}/a.jsonl`), Buffer.from([rec('x-1'), rec('x-2')].join('\n') + '\n'));
    const { run, us, unknown } = await reconcileDay(dir, false);
    expect([0, 1]).toContain(run.code);
    expect(run.stderr).not.toContain('needed more than its memory limit');
    // Three lines, each in exactly one column: the huge one is accepted (and missing) or malformed.
    const malformed = Number(unknown?.proxy_malformed ?? 0) + Number(us.proxy_malformed ?? 0);
    expect(Number(us.proxy_requests) + malformed).toBe(3);
    expect(us.gcs_records).toBe('2');
  }, 120_000);
});

/**
 * Lines the JSON reader reads right, that a reader of lines could read otherwise: NUL bytes (crash
 * padding), a lone CR inside a record, a line of only a vertical tab, a record with no timestamp or
 * site. Beside a non-JSON line (so that the object is checked), they count as they always did, and no
 * object is read line by line.
 */
const ODD: (string | Buffer)[] = [
  'GET /healthz HTTP/1.1 200',
  Buffer.from([0, 0, 0, 0]),
  Buffer.concat([Buffer.from([0, 0]), Buffer.from(rec('nul-before', 200))]),
  Buffer.concat([Buffer.from(rec('nul-after', 200)), Buffer.from([0]), Buffer.from('garbage')]),
  `{"timestamp":"${DAY}T12:00:00Z",\r"request_id":"cr-1","site":"US","status":200}`,
  '\v',
  '{"request_id":"no-ts","status":200}',
];

describe('lines the JSON reader reads right', () => {
  test.each([
    ['read directly', false],
    ['through the per-object cache', true],
  ])('count as before, and no object is read line by line (%s)', async (_name, cached) => {
    const dir = await tempDir();
    const body = (status?: number) =>
      Buffer.concat([
        ...ODD.map((b) => Buffer.concat([Buffer.isBuffer(b) ? b : Buffer.from(b), Buffer.from('\n')])),
        Buffer.from(`${rec('whole-1', status)}\n${rec('whole-2', status)}\n`),
      ]);
    for (const [tier, status] of [
      ['proxy', 200],
      ['landed', undefined],
    ] as const) {
      await write(path.join(dir, `${tier}/dt=${DAY}/a.jsonl`), body(status));
      await write(path.join(dir, `${tier}/dt=${DAY}/b.jsonl.gz`), body(status));
    }
    const { run, us, unknown } = await reconcileDay(dir, cached);
    expect(run.stderr).not.toContain('broken line');
    // Per object: cr-1, whole-1 and whole-2 are records; the healthz line, the three with NUL bytes and
    // the record without timestamp or site are malformed; the vertical tab is a blank line.
    expect(Number(us.proxy_accepted)).toBe(2 * 3);
    expect(Number(us.gcs_records)).toBe(2 * 3);
    expect([Number(unknown.proxy_malformed), Number(unknown.gcs_malformed)]).toEqual([2 * 5, 2 * 5]);
  });
});

describe('an object the JSON reader cannot read at all', () => {
  test.each([
    ['read directly', false],
    ['through the per-object cache', true],
  ])('is read line by line instead of failing the run (%s)', async (_name, cached) => {
    const dir = await tempDir();
    // `[` makes the reader take the next lines as one array, which never closes as JSON: it throws at the
    // end of the data. So does a record cut after a comma whose rest is on the next line.
    const body = (status?: number) =>
      [
        rec('first', status),
        '[',
        rec('in-array', status),
        ']',
        `{"timestamp":"${DAY}T12:00:00Z","request_id":"cut",`,
        '"site":"US"}',
        rec('last', status),
        '',
      ].join('\n');
    for (const [tier, status] of [
      ['proxy', 200],
      ['landed', undefined],
    ] as const) {
      await write(path.join(dir, `${tier}/dt=${DAY}/a.jsonl`), Buffer.from(body(status)));
      await write(path.join(dir, `${tier}/dt=${DAY}/b.jsonl.gz`), Buffer.from(body(status)));
    }
    const { run, us, unknown } = await reconcileDay(dir, cached);
    expect(run.code).toBe(0);
    // Per object: first, in-array and last are records; `[`, `]` and both halves of the cut record are malformed.
    expect(Number(us.proxy_accepted)).toBe(2 * 3);
    expect(Number(us.gcs_records)).toBe(2 * 3);
    expect([Number(unknown.proxy_malformed), Number(unknown.gcs_malformed)]).toEqual([2 * 4, 2 * 4]);
    for (const name of ['a.jsonl', 'b.jsonl.gz'])
      expect(run.stderr).toContain(`/${name} could not be read whole by the JSON reader`);
  });
});

describe('hostile ids and object names through the line check', () => {
  test('a hostile id after a broken line is listed missing, guarded; a hostile object name is one JSON log field', async () => {
    const dir = await tempDir();
    const ids = ['=1+2', '@SUM(A1)', 'two\nlines', '<script>alert(1)</script>', 'say "hi"'];
    // Each id follows a line cut after a colon, so only the line check can count it; none landed.
    const body = ids.flatMap((id) => ['{"timestamp":', rec(id, 200)]).join('\n') + '\n';
    const evil = 'a"=1+2 <script>\nx.jsonl';
    await write(path.join(dir, `proxy/dt=${DAY}/${evil}`), Buffer.from(body));
    await write(path.join(dir, `landed/dt=${DAY}/a.jsonl`), Buffer.from(`${rec('other')}\n`));
    const { out, run, us } = await reconcileDay(dir, false);
    expect(Number(us.proxy_accepted)).toBe(ids.length);
    const missing: Record<string, string>[] = parse(await readFile(path.join(out, `missing-${DAY}.csv`), 'utf8'), {
      columns: true,
      record_delimiter: '\r\n',
    });
    // Formulas carry a leading apostrophe (the README's guard); the rest come back byte for byte.
    expect(missing.map((m) => m.request_id).sort()).toEqual(
      ids.map((id) => (/^[=+\-@]/.test(id) ? `'${id}` : id)).sort(),
    );
    const warnings = run.stderr
      .split('\n')
      .filter((l) => l.includes('has a broken line'))
      .map((l) => JSON.parse(l) as { object: string });
    expect(warnings.map((w) => w.object)).toEqual([path.join(dir, `proxy/dt=${DAY}/${evil}`)]);
  });
});
