import { createServer } from 'node:net';
import { link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { logLines, runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAY = '2025-03-09';
const AT = `${DAY}T10:00:00Z`;
const ok = (rid: string, site = 'US', status = 200) => ({ timestamp: AT, request_id: rid, site, status });
const landed = (rid: string, site = 'US') => ({ timestamp: AT, request_id: rid, site });

/** A strict RFC 4180 reader: CRLF records, no stray quote, every row exactly as wide as the header. */
function strictCsv(text: string): Record<string, string>[] {
  // RFC 4180 §2.6: a CR or LF outside a quoted field may only be a record's CRLF
  const unquoted = text.replace(/"(?:[^"]|"")*"/g, '');
  expect(unquoted.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  const rows: string[][] = parse(text, {
    record_delimiter: '\r\n',
    relax_quotes: false,
    relax_column_count: false,
    skip_empty_lines: false,
  });
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(r.map((v, i) => [header![i]!, v])));
}

async function reportOf(out: string) {
  return {
    parity: strictCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8')),
    missing: strictCsv(await readFile(path.join(out, `missing-${DAY}.csv`), 'utf8')),
  };
}
const row = (rows: Record<string, string>[], site: string) => rows.find((r) => r.site === site)!;

/** How the README says a script recovers an id from a guarded missing list: drop one leading apostrophe. */
const recover = (cell: string) => (cell.startsWith("'") ? cell.slice(1) : cell);

/** Ids a client may send that break a CSV or run as a spreadsheet formula. */
const HOSTILE = [
  'lone\nline-feed',
  'lone\rcarriage-return',
  'crlf\r\ninside',
  '\nfirst',
  'last\r',
  'a "quoted" id',
  '"',
  'comma,inside',
  ',',
  '=HYPERLINK("http://x","y")',
  '+1+1',
  '-2+3',
  '@SUM(A1)',
  '\tTAB',
  '\rCR-first',
  "'=x",
  "''",
  "'",
  "'plain",
  'plain',
  // A byte-order mark first: DuckDB's client decoder dropped it, so it came back as the next id's twin.
  '\uFEFF=1+1',
  '=1+1',
];

async function runDay(dir: string, extra: Record<string, unknown> = {}) {
  const out = path.join(dir, 'out');
  const run = await runCli([
    'reconcile',
    '--config',
    await writeConfig(dir, extra),
    '--date',
    DAY,
    '--out',
    out,
    '--log-format',
    'json',
  ]);
  return { run, out };
}

describe('reports stay whole and safe with hostile request ids', () => {
  it('quotes every field holding CR, LF, a quote or a comma: a strict RFC 4180 reader gets every missing id back byte for byte', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [...HOSTILE.map((id) => ok(id)), ok('landed-one')]);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), [landed('landed-one')]);
    const { run, out } = await runDay(dir);
    expect(run.code).toBe(1);
    const { parity, missing } = await reportOf(out);
    expect(row(parity, 'US')).toMatchObject({ missing: String(HOSTILE.length), unexplained: String(-HOSTILE.length) });
    expect(missing).toHaveLength(HOSTILE.length);
    expect(missing.map((m) => recover(m.request_id!)).sort()).toEqual([...HOSTILE].sort());
    expect(missing.every((m) => m.date === DAY && m.site === 'US' && m.last_tier === 'proxy')).toBe(true);
  });

  it('by default prefixes formula-like ids with an apostrophe, and dropping one leading apostrophe recovers every exact id', async () => {
    const dir = await tempDir();
    await writeNdjson(
      path.join(dir, `proxy/dt=${DAY}/a.jsonl`),
      HOSTILE.map((id) => ok(id)),
    );
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), [landed('unaccepted-landed')]);
    const { run, out } = await runDay(dir);
    expect(run.code).toBe(1);
    const { parity, missing } = await reportOf(out);
    const cells = missing.map((m) => m.request_id!);
    // no cell a spreadsheet would run: none starts with = + - @ TAB or CR
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(cells).toEqual(
      expect.arrayContaining([
        '\'=HYPERLINK("http://x","y")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTAB",
        "'\rCR-first",
        "''=x",
        "'''",
        "''",
        "''plain",
        'plain',
        'comma,inside',
      ]),
    );
    expect(cells.map(recover).sort()).toEqual([...HOSTILE].sort());
    // our own numbers are never prefixed: a negative unexplained is a number
    expect(row(parity, 'US')).toMatchObject({ unexplained: String(1 - HOSTILE.length), landed_not_accepted: '1' });
  });

  it('reports.csvFormulaGuard: false writes every id raw; an unknown key under reports is a config error naming its path', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [ok('=1+1'), ok("'quoted")]);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), []);
    const { run, out } = await runDay(dir, { reports: { csvFormulaGuard: false } });
    expect(run.code).toBe(1);
    expect((await reportOf(out)).missing.map((m) => m.request_id)).toEqual(["'quoted", '=1+1']);
    const bad = await runDay(dir, { reports: { csvFormulaGaurd: false } });
    expect(bad.run.code).toBe(2);
    expect(bad.run.stderr).toContain('reports.csvFormulaGaurd');
  });

  it('the HTML report shows a hostile site header and object name as inert text', async () => {
    const dir = await tempDir();
    const evil = '<img src=x onerror=alert(1)>';
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [
      ok('<script>alert(1)</script>', '<script>alert(2)</script>'),
    ]);
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    await writeFile(path.join(dir, `landed/dt=${DAY}/${evil}.jsonl.gz`), gzipSync('{"timestamp":1}\n').subarray(0, 12));
    const { run, out } = await runDay(dir);
    expect(run.code).toBe(3);
    const html = await readFile(path.join(out, `report-${DAY}_${DAY}.html`), 'utf8');
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('a JSON ERROR line carries a hostile object name byte for byte in `object`, shown escaped in its message', async () => {
    const dir = await tempDir();
    const evil = '=1+2"\n<script>alert(1)';
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [ok('a')]);
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    await writeFile(path.join(dir, `landed/dt=${DAY}/${evil}.jsonl.gz`), gzipSync('{"timestamp":1}\n').subarray(0, 12));
    const { run } = await runDay(dir);
    expect(run.code).toBe(3);
    // Every line of the log is one JSON object: the error names the object exactly, the last gives the exit code.
    const lines = logLines(run.stderr);
    const errors = lines.filter((l) => l.severity === 'ERROR');
    // The tier's error, then the closing line: as severe as the exit status, so that --quiet keeps it.
    expect(errors).toHaveLength(2);
    expect(String(errors[0]!.object)).toBe(path.join(dir, `landed/dt=${DAY}/${evil}.jsonl.gz`));
    // The message as the text log shows it: `jq -r .message` replays no line break and no escape.
    expect(String(errors[0]!.message)).toContain(`/${evil.replace('\n', '\\x0a')}.jsonl.gz: not valid gzip`);
    expect(lines.at(-1)).toMatchObject({ severity: 'ERROR', message: 'run finished', exit_code: 3 });
  });

  it('names every corrupt object of a day, each on an ERROR line of its own and in the rows it makes ERROR', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [ok('a')]);
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    const cut = gzipSync('{"timestamp":1}\n').subarray(0, 12);
    const names = ['b-cut', 'c-cut', 'd-cut', 'e-cut', 'f-cut', 'g-cut'];
    for (const n of names) await writeFile(path.join(dir, `landed/dt=${DAY}/${n}.jsonl.gz`), cut);
    const { run, out } = await runDay(dir);
    expect(run.code).toBe(3);
    const lines = logLines(run.stderr);
    const objects = lines.filter((l) => l.severity === 'ERROR' && l.object).map((l) => path.basename(String(l.object)));
    expect(objects).toEqual(names.map((n) => `${n}.jsonl.gz`));
    const parity = strictCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
    const [row] = parity.filter((r) => r.site === 'ALL');
    expect(row!.status).toBe('ERROR');
    expect(row!.error).toMatch(/\/b-cut\.jsonl\.gz: not valid gzip .*\(and 5 more objects that could not be read: /);
    for (const n of ['c-cut', 'd-cut', 'e-cut']) expect(row!.error).toContain(`/${n}.jsonl.gz`);
    expect(row!.error).toMatch(/ and 2 more, named in the log\)$/);
  });

  it('a text log shows a hostile object name on its one line, its control characters escaped', async () => {
    const dir = await tempDir();
    const evil = 'e\x1b]0;pwned\x07\x1b[2J\nERROR: forged';
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [ok('a')]);
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    await writeFile(path.join(dir, `landed/dt=${DAY}/${evil}.jsonl.gz`), gzipSync('{"timestamp":1}\n').subarray(0, 12));
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir);
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out, '--log-format', 'text']);
    expect(run.code).toBe(3);
    expect(run.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    const lines = run.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ERROR: forged'))).toEqual([]);
    expect(
      lines.some((l) => l.includes('e\\x1b]0;pwned\\x07\\x1b[2J\\x0aERROR: forged.jsonl.gz: not valid gzip')),
    ).toBe(true);
  });
});

describe('request ids keep their exact bytes', () => {
  it('an id with leading and trailing spaces matches only itself, is listed missing with its spaces, and a whitespace-only id is malformed', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [
      ok(' padded '),
      ok(' lost '),
      ok('tail '),
      ok('   '),
      ok('\t'),
      ok('\r\n'),
    ]);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), [landed(' padded '), landed('tail'), landed(' ')]);
    const { run, out } = await runDay(dir);
    expect(run.code).toBe(1);
    const { parity, missing } = await reportOf(out);
    expect(row(parity, 'US')).toMatchObject({
      proxy_requests: '3',
      proxy_malformed: '3',
      accepted_distinct: '3',
      gcs_records: '2',
      gcs_malformed: '1',
      missing: '2',
      landed_not_accepted: '1',
    });
    expect(missing.map((m) => m.request_id)).toEqual([' lost ', 'tail ']);
  });
});

describe('objects are read once and whole', () => {
  it('a UTF-8 byte-order mark at the start of a plain or a gzip file is not a malformed line', async () => {
    const dir = await tempDir();
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const lines = (records: object[]) =>
      Buffer.concat([bom, Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n')]);
    await mkdir(path.join(dir, `proxy/dt=${DAY}`), { recursive: true });
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    await writeFile(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), lines([ok('a'), ok('b')]));
    await writeFile(path.join(dir, `landed/dt=${DAY}/a.jsonl.gz`), gzipSync(lines([landed('a'), landed('b')])));
    const { run, out } = await runDay(dir, { sites: ['US'] });
    expect(run.code).toBe(0);
    expect(row((await reportOf(out)).parity, 'ALL')).toMatchObject({
      proxy_requests: '2',
      proxy_malformed: '0',
      gcs_records: '2',
      gcs_malformed: '0',
      status: 'PASS',
    });
  });

  it('a symlink or a hard link to a file already read counts it once, in the same folder or from another location', async () => {
    const dir = await tempDir();
    const ids = Array.from({ length: 10 }, (_, i) => `id-${i}`);
    const file = path.join(dir, `proxy/dt=${DAY}/a.jsonl`);
    await writeNdjson(
      file,
      ids.map((id) => ok(id)),
    );
    await symlink(file, path.join(dir, `proxy/dt=${DAY}/b.jsonl`));
    await mkdir(path.join(dir, `mirror/dt=${DAY}`), { recursive: true });
    await symlink(file, path.join(dir, `mirror/dt=${DAY}/c.jsonl`));
    await link(file, path.join(dir, `proxy/dt=${DAY}/d.jsonl`));
    await link(file, path.join(dir, `mirror/dt=${DAY}/e.jsonl`));
    await writeNdjson(
      path.join(dir, `landed/dt=${DAY}/a.jsonl`),
      ids.map((id) => landed(id)),
    );
    const { run, out } = await runDay(dir, { sites: ['US'], proxy: ['proxy/dt={date}/', 'mirror/dt={date}/'] });
    expect(run.code).toBe(0);
    expect(row((await reportOf(out)).parity, 'ALL')).toMatchObject({
      proxy_requests: '10',
      duplicates: '0',
      status: 'PASS',
    });
  });

  it('an object that cannot be read (EIO) exits 3 with ERROR rows naming it, and the reports are still written', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [ok('a')]);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), [landed('a')]);
    const bad = path.join(dir, `proxy/dt=${DAY}/x.jsonl`);
    await symlink('/proc/self/mem', bad);
    const badGzip = path.join(dir, `landed/dt=${DAY}/y.jsonl.gz`);
    await symlink('/proc/self/mem', badGzip);
    const { run, out } = await runDay(dir);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${bad}: cannot be read (EIO)`);
    // an I/O error while gunzipping is the disk, not a corrupt gzip
    expect(run.stderr).toContain(`${badGzip}: cannot be read (EIO)`);
    const parity = strictCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
    expect(parity.every((r) => r.status === 'ERROR' && r.error!.includes(bad) && r.error!.includes(badGzip))).toBe(
      true,
    );
  });
});

describe('gcs', () => {
  it('a closed apiEndpoint fails after the retries, naming the bucket and the endpoint', async () => {
    const dir = await tempDir();
    // a port that was free a moment ago: nothing listens there
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [ok('a')]);
    const endpoint = `http://127.0.0.1:${port}`;
    const out = path.join(dir, 'out-gcs');
    const config = path.join(dir, 'gcs.json');
    await writeFile(
      config,
      JSON.stringify({
        tiers: {
          proxy: { locations: ['proxy/dt={date}/'] },
          gcs: { locations: ['gs://audit-parity-closed/dt={date}/'], apiEndpoint: endpoint },
        },
      }),
    );
    const started = Date.now();
    const closed = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out, '--log-format', 'json']);
    expect(closed.code).toBe(3);
    expect(closed.stderr).toContain('gs://audit-parity-closed');
    expect(closed.stderr).toContain(endpoint);
    expect(Date.now() - started).toBeLessThan(30_000);
    const parity = strictCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
    expect(row(parity, 'ALL')).toMatchObject({ status: 'ERROR', proxy_requests: '1' });
    expect(row(parity, 'ALL').error).toContain(endpoint);
    // A host that does not resolve is retried alike (a cluster's DNS can fail a name for a moment).
    const unresolved = 'http://audit-parity-no-such-host.invalid:4443';
    await writeFile(config, (await readFile(config, 'utf8')).replace(endpoint, unresolved));
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out, '--log-format', 'json']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/connection failed \((ENOTFOUND|EAI_AGAIN)\) at endpoint http:\/\/audit-parity-no-such/);
    expect(run.stderr).toContain('gave up after 5 attempts');
  });
});
