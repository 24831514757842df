import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

/**
 * What a run prints about its days: the per-day log line, the terminal table and the --format
 * documents all give the day's worst row, not the ALL row, and name it.
 */

const rec = (rid: string, day: string, site: string, status?: number) => ({
  timestamp: `${day}T12:00:00Z`,
  request_id: rid,
  site,
  ...(status ? { status } : {}),
});

/** 2025-03-08 passes everywhere; on 2025-03-09 the UNKNOWN row (site XX, configured nowhere) fails while ALL passes. */
async function scenario(dir: string): Promise<string> {
  for (const day of ['2025-03-08', '2025-03-09']) {
    const us = Array.from({ length: 2000 }, (_, i) => `${day}-us-${i}`);
    const xx = day === '2025-03-09' ? ['xx-0', 'xx-1', 'xx-2', 'xx-3'] : [];
    await writeNdjson(path.join(dir, `proxy/dt=${day}/a.jsonl`), [
      ...us.map((id) => rec(id, day, 'US', 200)),
      ...xx.map((id) => rec(id, day, 'XX', 200)),
    ]);
    // One of XX's four accepted ids never lands: UNKNOWN parity 75 %, ALL 2003 of 2004 = 99.95 %.
    await writeNdjson(path.join(dir, `landed/dt=${day}/a.jsonl`), [
      ...us.map((id) => rec(id, day, 'US')),
      ...xx.slice(0, 3).map((id) => rec(id, day, 'XX')),
    ]);
  }
  return writeConfig(dir, { sites: ['US'] });
}

/** The built binary with an environment of the test's choosing (COLUMNS). */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, undefined, env);

/** Both days of the fixture, by `reconcile` unless told another command. */
const range = (config: string, out: string, command = 'reconcile') => [
  command,
  '--config',
  config,
  '--from',
  '2025-03-08',
  '--to',
  '2025-03-09',
  '--out',
  out,
];

interface DayDoc {
  date: string;
  status: string;
  parity_pct: string | null;
  leading_cause: string | null;
  worst_rows: string[];
  summary: string;
  rows: {
    site: string;
    status: string;
    parity_pct: string | null;
    leading_cause: string | null;
    detail: string | null;
  }[];
}

describe('the summary of a run', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await tempDir();
    config = await scenario(dir);
  });

  it('the per-day JSON log line of a day whose UNKNOWN row FAILs under a passing ALL says FAIL and names UNKNOWN', async () => {
    const run = await cli([...range(config, path.join(dir, 'out-log')), '--log-format', 'json']);
    expect(run.code).toBe(1);
    // Beside JSON logs stdout stays empty, as before, unless a --format is asked for.
    expect(run.stdout).toBe('');
    const logs = run.stderr
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            message: string;
            status?: string;
            all_status?: string;
            parity_pct?: string;
            rows?: { site: string; status: string; leading_cause: string | null }[];
          },
      );
    const line = logs.find((l) => l.message.startsWith('2025-03-09: '))!;
    expect(line).toMatchObject({ status: 'FAIL', all_status: 'PASS', parity_pct: '99.9500' });
    expect(line.message).toMatch(/^2025-03-09: FAIL: UNKNOWN 75 %, \S/);
    expect(line.rows).toEqual([expect.objectContaining({ site: 'UNKNOWN', status: 'FAIL' })]);
    expect(logs.find((l) => l.message.startsWith('2025-03-08: '))).toMatchObject({ status: 'PASS', rows: [] });
  });

  it("--format json prints one JSON document: per day the worst status, ALL's parity, the leading cause and the rows", async () => {
    const run = await cli([...range(config, path.join(dir, 'out-json')), '--format', 'json', '--log-format', 'json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as DayDoc[];
    expect(doc.map((d) => [d.date, d.status])).toEqual([
      ['2025-03-08', 'PASS'],
      ['2025-03-09', 'FAIL'],
    ]);
    expect(doc[1]).toMatchObject({
      parity_pct: '99.9500',
      worst_rows: ['UNKNOWN'],
      summary: expect.stringMatching(/^FAIL: UNKNOWN 75 %/),
    });
    expect(doc[1]!.leading_cause).not.toBeNull();
    expect(doc[1]!.rows.map((r) => [r.site, r.status])).toEqual([
      ['US', 'PASS'],
      ['UNKNOWN', 'FAIL'],
      ['ALL', 'PASS'],
    ]);
    const failing = JSON.parse(
      (await cli([...range(config, path.join(dir, 'out-json')), '--format', 'json', '--only-failing', '--quiet']))
        .stdout,
    ) as DayDoc[];
    expect(failing.map((d) => d.date)).toEqual(['2025-03-09']);
    expect(failing[0]!.rows.map((r) => r.site)).toEqual(['UNKNOWN']);
  });

  it('--format csv prints RFC 4180 with a header; --only-failing leaves out the PASS days and rows', async () => {
    const strict = (text: string) =>
      parse(text, {
        relax_quotes: false,
        relax_column_count: false,
        record_delimiter: '\r\n',
        columns: true,
      }) as Record<string, string>[];
    const run = await cli([...range(config, path.join(dir, 'out-csv')), '--format', 'csv', '--quiet']);
    expect(run.code).toBe(1);
    const rows = strict(run.stdout);
    expect(rows.map((r) => `${r.date} ${r.site} ${r.status} ${r.day_status}`)).toEqual([
      '2025-03-08 US PASS PASS',
      '2025-03-08 ALL PASS PASS',
      '2025-03-09 US PASS FAIL',
      '2025-03-09 UNKNOWN FAIL FAIL',
      '2025-03-09 ALL PASS FAIL',
    ]);
    expect(rows[3]).toMatchObject({ parity_pct: '75.0000', day_parity_pct: '99.9500', worst_rows: 'UNKNOWN' });
    const failing = strict(
      (await cli([...range(config, path.join(dir, 'out-csv')), '--format', 'csv', '--only-failing', '--quiet'])).stdout,
    );
    expect(failing.map((r) => `${r.date} ${r.site}`)).toEqual(['2025-03-09 UNKNOWN']);
  });

  it('--format table fits 100 columns, one line per day with the worst status and the rows behind it; a wider terminal gets more columns', async () => {
    const run = await cli(
      [...range(config, path.join(dir, 'out-table')), '--format', 'table', '--log-format', 'text', '--quiet'],
      { COLUMNS: '100' },
    );
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    for (const l of lines.filter((x) => !x.startsWith('reports written to') && !x.startsWith('HTML report:')))
      expect([l, l.length <= 100]).toEqual([l, true]);
    const header = lines
      .find((l) => l.startsWith('date'))!
      .trim()
      .split(/ +/);
    expect(header).toEqual(
      expect.arrayContaining(['date', 'status', 'missing', 'unexplained', 'parity_pct', 'worst_rows']),
    );
    expect(lines.find((l) => l.startsWith('2025-03-09'))).toMatch(/^2025-03-09 +FAIL .*99\.9500 +UNKNOWN 75 %/);
    expect(lines.find((l) => l.startsWith('2025-03-08'))).toMatch(/^2025-03-08 +PASS /);
    const wide = await cli([...range(config, path.join(dir, 'out-table')), '--format', 'table', '--quiet'], {
      COLUMNS: '240',
    });
    expect(
      wide.stdout
        .split('\n')
        .find((l) => l.startsWith('date'))!
        .trim()
        .split(/ +/).length,
    ).toBeGreaterThan(header.length);
    const failing = await cli(
      [...range(config, path.join(dir, 'out-table')), '--format', 'table', '--only-failing', '--quiet'],
      { COLUMNS: '100' },
    );
    expect(failing.stdout).not.toMatch(/^2025-03-08/m);
    expect(failing.stdout).toMatch(/^2025-03-09 +FAIL/m);
  });

  it('backfill --format json stays one parseable document when it skips current days (the note goes to the log)', async () => {
    const out = path.join(dir, 'out-backfill');
    const args = [...range(config, out, 'backfill'), '--format', 'json', '--log-format', 'json'];
    expect((await cli(args)).code).toBe(1);
    const again = await cli(args);
    const doc = JSON.parse(again.stdout) as DayDoc[];
    expect(Array.isArray(doc)).toBe(true);
    const logs = again.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message: string });
    expect(logs.some((l) => /^skipped \d+ current days/.test(l.message))).toBe(true);
  });

  it('a corrupt object whose name holds a quote and a comma is named in the CSV summary, quoted, and the document still parses', async () => {
    const bad = await tempDir();
    const cfg = await scenario(bad);
    await writeFile(path.join(bad, 'landed/dt=2025-03-09/bad "q",=1.json.gz'), 'not gzip');
    const run = await cli([
      'reconcile',
      '--config',
      cfg,
      '--date',
      '2025-03-09',
      '--out',
      path.join(bad, 'out'),
      '--format',
      'csv',
      '--quiet',
    ]);
    expect(run.code).toBe(3);
    const rows = parse(run.stdout, {
      relax_quotes: false,
      relax_column_count: false,
      record_delimiter: '\r\n',
      columns: true,
    }) as Record<string, string>[];
    expect(rows.every((r) => r.day_status === 'ERROR')).toBe(true);
    expect(rows.find((r) => r.status === 'ERROR')!.detail).toContain('bad "q",=1.json.gz');
  });
});
