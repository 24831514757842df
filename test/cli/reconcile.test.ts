import { readFile, stat, symlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  lastLogLine,
  parseCsv,
  reconcileRange,
  reconcileUsDay,
  reconcileUsRange,
  runCli,
  tempDir,
  writeConfig,
  writeNdjson,
} from '../support/files.js';

/** `site: null` writes a record with no site header at all. */
const ok = (rid: string, timestamp: string | number, site: string | null = 'US', status = 200) => ({
  timestamp,
  request_id: rid,
  ...(site === null ? {} : { site }),
  status,
});
const landed = (rid: string, timestamp: string | number, site: string | null = 'US') => ({
  timestamp,
  request_id: rid,
  ...(site === null ? {} : { site }),
});

async function report(out: string, day: string) {
  return {
    parity: parseCsv(await readFile(path.join(out, `parity-${day}.csv`), 'utf8')),
    missing: parseCsv(await readFile(path.join(out, `missing-${day}.csv`), 'utf8')),
  };
}
const row = (rows: Record<string, string>[], site: string) => rows.find((r) => r.site === site)!;

describe('parity reconcile', () => {
  it('counts a day exactly; a configured site with no records that day is NO_DATA, never PASS, and exits 1', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      ok('a', '2025-03-09T10:00:00Z'),
      ok('b', 1741521600000, 'CA'),
    ]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl.gz'), [
      landed('a', '2025-03-09T10:00:00Z'),
      landed('b', 1741521600000, 'CA'),
    ]);
    const out = path.join(dir, 'out');
    const run = await runCli(['reconcile', '--config', await writeConfig(dir), '--date', '2025-03-09', '--out', out]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(1);
    const { parity, missing } = await report(out, '2025-03-09');
    expect(parity.map((r) => r.site)).toEqual(['US', 'CA', 'MX', 'ALL']);
    expect(row(parity, 'ALL')).toMatchObject({
      proxy_requests: '2',
      proxy_accepted: '2',
      gcs_records: '2',
      gcs_distinct: '2',
      parity_pct: '100.0000',
      status: 'PASS',
      unexplained: '0',
    });
    expect(row(parity, 'US')).toMatchObject({ parity_pct: '100.0000', status: 'PASS', status_reason: '' });
    expect(row(parity, 'MX')).toMatchObject({
      proxy_requests: '0',
      parity_pct: '',
      status: 'NO_DATA',
      status_reason: 'no proxy records',
    });
    expect(missing).toEqual([]);
    const html = await readFile(path.join(out, 'report-2025-03-09_2025-03-09.html'), 'utf8');
    expect(html).toContain('<!DOCTYPE html>');
    expect(html).toContain('2025-03-09');
  });

  it('exits 1 with FAIL rows and lists every missing id with the tier where it was last seen', async () => {
    const dir = await tempDir();
    const ids = Array.from({ length: 10 }, (_, i) => `id-${i}`);
    await writeNdjson(
      path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'),
      ids.map((id) => ok(id, '2025-03-09T10:00:00Z')),
    );
    await writeNdjson(
      path.join(dir, 'landed/dt=2025-03-09/a.jsonl'),
      ids.slice(0, 8).map((id) => landed(id, '2025-03-09T10:00:00Z')),
    );
    const out = path.join(dir, 'out');
    const run = await runCli(['reconcile', '--config', await writeConfig(dir), '--date', '2025-03-09', '--out', out]);
    expect(run.code).toBe(1);
    const { parity, missing } = await report(out, '2025-03-09');
    expect(row(parity, 'US')).toMatchObject({
      parity_pct: '80.0000',
      status: 'FAIL',
      unexplained: '-2',
      missing: '2',
      missing_unexplained: '2',
    });
    expect(missing).toEqual([
      {
        date: '2025-03-09',
        site: 'US',
        request_id: 'id-8',
        last_tier: 'proxy',
        cause: 'unexplained',
        accepted_at: '2025-03-09T10:00:00.000+00:00',
      },
      {
        date: '2025-03-09',
        site: 'US',
        request_id: 'id-9',
        last_tier: 'proxy',
        cause: 'unexplained',
        accepted_at: '2025-03-09T10:00:00.000+00:00',
      },
    ]);
  });

  it('counts malformed lines, reads empty files, takes epoch ms and ISO, normalises site headers, classifies an id by all its lines', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      'not json at all',
      '{"timestamp": "2025-03-09T10:00:00Z", "request_id": "trunc',
      { timestamp: 'last tuesday', request_id: 'bad-ts', site: 'CA', status: 200 },
      ok('lower', '2025-03-09T10:00:00.000+02:00', ' us '),
      ok('mixed', 1741514400000, 'Ca'),
      ok('retry', '2025-03-09T11:00:00Z', 'MX', 502),
      ok('retry', '2025-03-09T11:00:05Z', 'MX', 200),
      ok('gaveup', '2025-03-09T12:00:00Z', 'MX', 413),
      ok('gaveup', '2025-03-09T12:00:09Z', 'MX', 502),
      ok('newsite', '2025-03-09T12:00:00Z', 'BR'),
      ok('nanoseconds', 1741428000000000000, 'US', 502),
      ok('noheader', '2025-03-09T12:00:00Z', null),
    ]);
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/empty.jsonl'), []);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [
      landed('lower', 1741507200000, 'US'),
      landed('mixed', '2025-03-09T10:00:00Z', 'CA'),
      landed('retry', '2025-03-09T11:00:05Z', 'MX'),
      landed('retry', '2025-03-09T11:00:05Z', 'MX'),
      landed('noheader', '2025-03-09T12:00:00Z', null),
      '{"broken": ',
    ]);
    const out = path.join(dir, 'out');
    const run = await runCli(['reconcile', '--config', await writeConfig(dir), '--date', '2025-03-09', '--out', out]);
    expect(run.code).toBe(1); // the BR request never landed: UNKNOWN fails
    const { parity, missing } = await report(out, '2025-03-09');
    expect(parity.map((r) => r.site)).toEqual(['US', 'CA', 'MX', 'UNKNOWN', 'ALL']);
    expect(row(parity, 'US')).toMatchObject({
      proxy_requests: '1',
      proxy_malformed: '1',
      gcs_distinct: '1',
      status: 'PASS',
    });
    expect(row(parity, 'CA')).toMatchObject({ proxy_requests: '1', proxy_malformed: '1', status: 'PASS' });
    expect(row(parity, 'MX')).toMatchObject({
      proxy_requests: '4',
      proxy_accepted: '1',
      rejected_413: '1',
      rejected_502: '2',
      retry_recovered: '1',
      lost_502: '1',
      duplicates: '1',
      proxy_distinct: '2',
    });
    expect(row(parity, 'UNKNOWN')).toMatchObject({
      proxy_requests: '2',
      proxy_malformed: '2',
      gcs_malformed: '1',
      missing: '1',
      unknown_site: '1',
      gcs_distinct: '1',
    });
    expect(row(parity, 'ALL')).toMatchObject({ proxy_malformed: '4', gcs_malformed: '1' });
    expect(missing).toEqual([
      {
        date: '2025-03-09',
        site: 'UNKNOWN',
        request_id: 'newsite',
        last_tier: 'proxy',
        cause: 'unknown_site',
        accepted_at: '2025-03-09T12:00:00.000+00:00',
      },
    ]);
  });

  it('cuts a fractional epoch millisecond off, never rounds it into the next day', async () => {
    const dir = await tempDir();
    // 2025-03-09T23:59:59.9996Z, as a JSON number and as text, in decimal and exponent form.
    const last = ['1741564799999.6', '1.7415647999999996e12'];
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      `{"timestamp":${last[0]},"request_id":"n1","site":"US","status":200}`,
      ok('s1', last[0]!),
      `{"timestamp":${last[1]},"request_id":"n2","site":"US","status":200}`,
      ok('s2', last[1]!),
    ]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [
      landed('n1', last[0]!),
      landed('s1', last[0]!),
      landed('n2', last[1]!),
      landed('s2', last[1]!),
    ]);
    const out = path.join(dir, 'out');
    const run = await reconcileUsRange(dir, '2025-03-09', '2025-03-10', out);
    expect(run.code).toBe(1); // 03-10 has no proxy records: NO_DATA
    expect(row((await report(out, '2025-03-09')).parity, 'US')).toMatchObject({
      proxy_accepted: '4',
      gcs_records: '4',
      parity_pct: '100.0000',
    });
    expect(row((await report(out, '2025-03-10')).parity, 'US')).toMatchObject({
      proxy_requests: '0',
      gcs_records: '0',
    });
  });

  it('takes a whole-number status however it is written, and a status with a fraction as none (malformed)', async () => {
    const dir = await tempDir();
    const at = '2025-03-09T10:00:00Z';
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      `{"timestamp":"${at}","request_id":"w1","site":"US","status":200.0}`,
      `{"timestamp":"${at}","request_id":"w2","site":"US","status":"2e2"}`,
      `{"timestamp":"${at}","request_id":"f1","site":"US","status":200.5}`,
      `{"timestamp":"${at}","request_id":"f2","site":"US","status":"299.9"}`,
      `{"timestamp":"${at}","request_id":"f3","site":"US","status":412.5}`,
    ]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [landed('w1', at), landed('w2', at)]);
    const out = path.join(dir, 'out');
    await reconcileUsDay(dir, '2025-03-09', out);
    expect(row((await report(out, '2025-03-09')).parity, 'US')).toMatchObject({
      proxy_requests: '2',
      proxy_accepted: '2',
      rejected_413: '0',
      rejected_other: '0',
      proxy_malformed: '3',
      parity_pct: '100.0000',
    });
  });

  it('reads a timestamp with a zone name as none, and the offset-less lines after it in UTC (DuckDB kept the zone)', async () => {
    const dir = await tempDir();
    // Before 0.3.2 the engine's cast took '… Pacific/Kiritimati' (UTC+14) and kept that zone for the
    // offset-less texts after it in its vector: these 40 lines counted on 03-08, 14 h early.
    const naive = Array.from({ length: 40 }, (_, i) => `2025-03-09T${String(i % 24).padStart(2, '0')}:00:00`);
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      `{"timestamp":"2025-03-09T12:00:00 Pacific/Kiritimati","request_id":"z1","site":"US","status":200}`,
      `{"timestamp":"2025-03-09 12:00:00 EST","request_id":"z2","site":"US","status":200}`,
      ...naive.map((at, i) => ok(`n${i}`, at)),
    ]);
    await writeNdjson(
      path.join(dir, 'landed/dt=2025-03-09/a.jsonl'),
      naive.map((at, i) => landed(`n${i}`, `${at}Z`)),
    );
    const out = path.join(dir, 'out');
    await reconcileUsRange(dir, '2025-03-08', '2025-03-09', out);
    expect(row((await report(out, '2025-03-09')).parity, 'US')).toMatchObject({
      proxy_requests: '40',
      gcs_records: '40',
      proxy_malformed: '2',
      parity_pct: '100.0000',
    });
    expect(row((await report(out, '2025-03-08')).parity, 'US')).toMatchObject({
      proxy_requests: '0',
      gcs_records: '0',
    });
  });

  it("reads the ISO-8601 forms the README lists, and every other text as none, where the engine's cast took it off by hours or days", async () => {
    const dir = await tempDir();
    const read = [
      '2025-03-09T12:00:00Z',
      '2025-03-09 12:00:00',
      '2025-03-09T12:00:00.123456789Z',
      '2025-03-09T12:00:00+05:45',
      '2025-03-09T12:00:00+0545',
      '2025-03-09T12:00:00-03',
      '2025-03-09T12:00:00-00:00',
      '2025-03-09',
    ];
    const refused = [
      '2025-03-09T23:00:00+05:99', // read as +06:39
      '2025-03-09T01:00:00-24:00', // a day on
      '2025-03-09T12:00:00+99:99', // four days back
      'epoch', // 1970-01-01
      '2025-03-09T12:00', // no seconds
      '2025-03-09T12:00Z',
      '2025/03/09 12:00:00',
      '2025-3-9T1:2:3Z',
      '2025-03-09T24:00:00',
      '2025-03-09t12:00:00z',
      '2025-03-09T12:00:00 +05:00',
      '20250309T120000Z',
    ];
    const lines = [...read, ...refused].map(
      (ts, i) => `{"timestamp":${JSON.stringify(ts)},"request_id":"t${i}","site":"US","status":200}`,
    );
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), lines);
    await writeNdjson(
      path.join(dir, 'landed/dt=2025-03-09/a.jsonl'),
      read.map((_, i) => landed(`t${i}`, '2025-03-09T12:00:00Z')),
    );
    const out = path.join(dir, 'out');
    await reconcileUsRange(dir, '2025-03-08', '2025-03-09', out);
    expect(row((await report(out, '2025-03-09')).parity, 'US')).toMatchObject({
      proxy_requests: String(read.length),
      proxy_malformed: String(refused.length),
      proxy_out_of_window: '0',
      parity_pct: '100.0000',
    });
  });

  it('reads an epoch below 1e11 (seconds by mistake) as no timestamp, never as a day in 1970, dated folder or not', async () => {
    for (const dated of [true, false]) {
      const dir = await tempDir();
      const where = dated ? 'dt=2025-03-09/' : '';
      // 1741521600 is 2025-03-09T12:00:00Z in seconds; read as milliseconds it was 1970-01-21.
      await writeNdjson(path.join(dir, `proxy/${where}a.jsonl`), [
        ok('ms', 1741521600000),
        ok('ms-text', '1741521600000'),
        ok('s', 1741521600),
        ok('s-text', '1741521600'),
        ok('s-frac', '1741521600.5'),
        ok('iso-1971', '1971-06-01T00:00:00Z'),
      ]);
      await writeNdjson(path.join(dir, `landed/${where}a.jsonl`), [
        landed('ms', '2025-03-09T12:00:00Z'),
        landed('ms-text', '2025-03-09T12:00:00Z'),
      ]);
      const out = path.join(dir, 'out');
      const config = await writeConfig(dir, {
        sites: ['US'],
        proxy: [`proxy/${dated ? 'dt={date}/' : ''}`],
        gcs: [`landed/${dated ? 'dt={date}/' : ''}`],
      });
      await reconcileRange(config, '2025-03-09', '2025-03-09', out);
      // The three seconds lines are malformed, counted; the ISO one of 1971 is a record of its own day (no report's).
      expect([dated, row((await report(out, '2025-03-09')).parity, 'US')]).toMatchObject([
        dated,
        { proxy_requests: '2', proxy_malformed: '3', proxy_out_of_window: dated ? '1' : '0', parity_pct: '100.0000' },
      ]);
    }
  });

  it('takes only decimal digits as a number: a status or timestamp in hex, binary or with underscores is none', async () => {
    const dir = await tempDir();
    const at = '2025-03-09T10:00:00Z';
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      ...['0xC8', '0b11001000', '2_00', '0x19d', '4_1_3'].map(
        (status, i) => `{"timestamp":"${at}","request_id":"h${i}","site":"US","status":"${status}"}`,
      ),
      `{"timestamp":"1_741_514_400_000","request_id":"t1","site":"US","status":200}`,
      `{"timestamp":"0x1957A1E4D00","request_id":"t2","site":"US","status":200}`,
      `{"timestamp":" 1741514400000\\t","request_id":"w1","site":"US","status":"\\t200 "}`,
    ]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [landed('w1', at)]);
    const out = path.join(dir, 'out');
    await reconcileUsDay(dir, '2025-03-09', out);
    expect(row((await report(out, '2025-03-09')).parity, 'US')).toMatchObject({
      proxy_requests: '1',
      proxy_accepted: '1',
      rejected_413: '0',
      proxy_malformed: '7',
      parity_pct: '100.0000',
    });
  });

  it('trims a site header of spaces only, as the bigquery engine does: a tab or a no-break space names no site', async () => {
    const dir = await tempDir();
    const at = '2025-03-09T10:00:00Z';
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      ok('spaced', at, ' us '),
      ok('tab', at, '\tUS'),
      ok('nbsp', at, 'US\u00a0'),
    ]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [landed('spaced', at, ' us ')]);
    const out = path.join(dir, 'out');
    await reconcileUsDay(dir, '2025-03-09', out);
    const { parity } = await report(out, '2025-03-09');
    expect(row(parity, 'US')).toMatchObject({ proxy_accepted: '1', gcs_records: '1' });
    expect(row(parity, 'UNKNOWN')).toMatchObject({ proxy_accepted: '2', unknown_site: '2' });
  });

  it('counts a record by its own day, from the next folder too, as a late arrival', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [ok('late', '2025-03-09T23:59:59Z')]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-10/a.jsonl'), [landed('late', '2025-03-09T23:59:59Z')]);
    const out = path.join(dir, 'out');
    const run = await reconcileUsDay(dir, '2025-03-09', out);
    expect(run.code).toBe(0);
    expect(row((await report(out, '2025-03-09')).parity, 'US')).toMatchObject({
      gcs_records: '1',
      late_arrivals: '1',
      status: 'PASS',
    });
  });

  it.each([
    ['2025-03-09', 23],
    ['2025-11-02', 25],
  ])('cuts %s in America/Chicago as a %i-hour day', async (day, hours) => {
    const dir = await tempDir();
    const start = Date.parse(`${day}T06:00:00Z`) - (day === '2025-11-02' ? 3600_000 : 0); // local midnight
    const end = start + hours * 3600_000;
    const records = [ok('before', start - 1), ok('first', start), ok('last', end - 1), ok('after', end)];
    const utcDays = new Set(records.map((r) => new Date(r.timestamp).toISOString().slice(0, 10)));
    for (const d of utcDays) {
      const inDay = records.filter((r) => new Date(r.timestamp).toISOString().slice(0, 10) === d);
      await writeNdjson(path.join(dir, `proxy/dt=${d}/a.jsonl`), inDay);
      await writeNdjson(
        path.join(dir, `landed/dt=${d}/a.jsonl`),
        inDay.map((r) => landed(r.request_id, r.timestamp)),
      );
    }
    const out = path.join(dir, 'out');
    const run = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir, { timezone: 'America/Chicago', sites: ['US'] }),
      '--date',
      day,
      '--out',
      out,
    ]);
    expect(run.code).toBe(0);
    expect(row((await report(out, day)).parity, 'US')).toMatchObject({
      proxy_requests: '2',
      gcs_records: '2',
      status: 'PASS',
    });
  });

  it('re-running the same day over the same data writes byte-identical files', async () => {
    const dir = await tempDir();
    await writeNdjson(
      path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'),
      Array.from({ length: 50 }, (_, i) => ok(`r${i}`, `2025-03-09T10:00:${String(i).padStart(2, '0')}Z`)),
    );
    await writeNdjson(
      path.join(dir, 'landed/dt=2025-03-09/a.jsonl'),
      Array.from({ length: 40 }, (_, i) => landed(`r${i}`, `2025-03-09T10:00:${String(i).padStart(2, '0')}Z`)),
    );
    const config = await writeConfig(dir);
    const out = path.join(dir, 'out');
    await runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', out]);
    const first = [
      await readFile(path.join(out, 'parity-2025-03-09.csv')),
      await readFile(path.join(out, 'missing-2025-03-09.csv')),
    ];
    await runCli(['reconcile', '--config', config, '--from', '2025-03-08', '--to', '2025-03-10', '--out', out]);
    const second = [
      await readFile(path.join(out, 'parity-2025-03-09.csv')),
      await readFile(path.join(out, 'missing-2025-03-09.csv')),
    ];
    expect(second[0]!.equals(first[0]!)).toBe(true);
    expect(second[1]!.equals(first[1]!)).toBe(true);
  });

  it('a truncated gzip exits 3 naming the object; the day is ERROR, other days are still reported', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-05/a.jsonl'), [ok('a', '2025-03-05T10:00:00Z')]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-05/a.jsonl'), [landed('a', '2025-03-05T10:00:00Z')]);
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [ok('b', '2025-03-09T10:00:00Z')]);
    const gz = gzipSync(
      Array.from({ length: 2000 }, (_, i) => JSON.stringify(landed(`x${i}`, '2025-03-09T10:00:00Z'))).join('\n'),
    );
    await mkdir(path.join(dir, 'landed/dt=2025-03-09'), { recursive: true });
    const bad = path.join(dir, 'landed/dt=2025-03-09/part-0.jsonl.gz');
    await writeFile(bad, gz.subarray(0, Math.floor(gz.length / 2)));
    const out = path.join(dir, 'out');
    const run = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir),
      '--from',
      '2025-03-05',
      '--to',
      '2025-03-09',
      '--out',
      out,
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(bad);
    const p9 = parseCsv(await readFile(path.join(out, 'parity-2025-03-09.csv'), 'utf8'));
    expect(p9.every((r) => r.status === 'ERROR' && r.gcs_records === '' && r.error!.includes(bad))).toBe(true);
    expect(row(p9, 'US')).toMatchObject({ proxy_requests: '1' });
    await expect(stat(path.join(out, 'missing-2025-03-09.csv'))).rejects.toThrow();
    expect(row((await report(out, '2025-03-05')).parity, 'ALL')).toMatchObject({ status: 'PASS', gcs_records: '1' });
  });

  it('a day with no folder counts zero and is NO_DATA (exit 1); a location whose fixed part is missing exits 3 naming it', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'proxy'), { recursive: true });
    await mkdir(path.join(dir, 'landed'), { recursive: true });
    const out = path.join(dir, 'out');
    const zero = await runCli(['reconcile', '--config', await writeConfig(dir), '--date', '2025-03-09', '--out', out]);
    expect(zero.code).toBe(1);
    expect(row((await report(out, '2025-03-09')).parity, 'ALL')).toMatchObject({
      proxy_requests: '0',
      gcs_records: '0',
      parity_pct: '',
      status: 'NO_DATA',
    });
    const missingRoot = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir, { gcs: ['nowhere/dt={date}/'] }),
      '--date',
      '2025-03-09',
      '--out',
      out,
    ]);
    expect(missingRoot.code).toBe(3);
    expect(missingRoot.stderr).toContain(path.join(dir, 'nowhere'));
    expect(row(parseCsv(await readFile(path.join(out, 'parity-2025-03-09.csv'), 'utf8')), 'ALL')).toMatchObject({
      status: 'ERROR',
      proxy_requests: '0',
      gcs_records: '',
    });
  });

  it('reads a YAML config and reports only --sites', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, 'proxy/dt=2025-03-09/a.jsonl'), [
      ok('a', '2025-03-09T10:00:00Z', 'CA'),
      ok('b', '2025-03-09T10:00:00Z', 'US'),
    ]);
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/a.jsonl'), [landed('a', '2025-03-09T10:00:00Z', 'CA')]);
    const yaml = `timezone: UTC\nsites: [US, CA, MX]\ntiers:\n  proxy:\n    locations: ["proxy/dt={date}/"]\n  gcs:\n    locations: ["landed/dt={date}/"]\n`;
    await writeFile(path.join(dir, 'c.yaml'), yaml);
    const out = path.join(dir, 'out');
    const run = await runCli([
      'reconcile',
      '--config',
      path.join(dir, 'c.yaml'),
      '--date',
      '2025-03-09',
      '--out',
      out,
      '--sites',
      'ca',
    ]);
    expect(run.code).toBe(0);
    expect((await report(out, '2025-03-09')).parity.map((r) => [r.site, r.proxy_requests])).toEqual([
      ['CA', '1'],
      ['ALL', '1'],
    ]);
    // The HTML report shows the sites the run reported: US and MX were not asked for, and are no ERROR there.
    const html = await readFile(path.join(out, 'report-2025-03-09_2025-03-09.html'), 'utf8');
    expect(/<dt>Sites<\/dt><dd>([^<]*)<\/dd>/.exec(html)?.[1]).toBe('CA');
    expect(html).not.toMatch(/<th scope="col">(US|MX)<\/th>/); // no matrix column of theirs
    expect(html).not.toContain('No day without ERROR');
  });

  it('a range of a year runs in bounded batches and writes every day, the days without data NO_DATA', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, 'proxy/dt=2024-06-01/a.jsonl'), [ok('a', '2024-06-01T10:00:00Z')]);
    await writeNdjson(path.join(dir, 'landed/dt=2024-06-01/a.jsonl'), [landed('a', '2024-06-01T10:00:00Z')]);
    const out = path.join(dir, 'out');
    const run = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir, { sites: ['US'] }),
      '--from',
      '2024-01-01',
      '--to',
      '2024-12-31',
      '--out',
      out,
      '--quiet',
    ]);
    expect(run.code).toBe(1);
    const files = await import('node:fs/promises').then((fs) => fs.readdir(out));
    expect(files.filter((f) => f.startsWith('parity-'))).toHaveLength(366);
    expect(row((await report(out, '2024-06-01')).parity, 'ALL')).toMatchObject({
      proxy_requests: '1',
      gcs_records: '1',
      status: 'PASS',
    });
    expect(row((await report(out, '2024-06-02')).parity, 'ALL')).toMatchObject({
      proxy_requests: '0',
      status: 'NO_DATA',
    });
  }, 180_000);
});

describe('usage and config errors exit 2 naming the flag or key, before anything is read', () => {
  it.each([
    [['reconcile', '--config', 'C', '--date', '2025-02-30'], '--date'],
    [['reconcile', '--config', 'C', '--from', '2025-03-10', '--to', '2025-03-01'], '--from'],
    [['reconcile', '--config', 'C', '--from', '2025-03-10'], '--to'],
    [['reconcile', '--config', 'C'], '--date'],
    [['reconcile', '--config', 'C', '--date', '2025-03-09', '--sites', 'US,XX'], '--sites'],
    // The plan checks what the run checks: it went on to plan (and contact BigQuery) for a site that is none.
    [['reconcile', '--config', 'C', '--date', '2025-03-09', '--sites', 'ZZ', '--dry-run'], '--sites'],
    [['reconcile', '--date', '2025-03-09'], '--config'],
    [['reconcile', '--config', 'C', '--date', '2025-03-09', '--bogus'], '--bogus'],
    // The plan refuses what the run refuses (before 0.3.7 it planned a day to come, exit 0), and a --format whose
    // document it cannot print (it printed its text plan where a script read JSON).
    [['reconcile', '--config', 'C', '--date', '2099-03-09', '--dry-run'], '--date'],
    [['reconcile', '--config', 'C', '--date', '2025-03-09', '--dry-run', '--format', 'json'], '--format'],
    // No shell expands ~ after = or in a Kubernetes arg: the reports went to a folder named ~.
    [['reconcile', '--config', 'C', '--date', '2025-03-09', '--local-out=~/reports'], '--local-out'],
  ])('%j names %s', async (args, flag) => {
    const dir = await tempDir();
    const config = await writeConfig(dir);
    const out = path.join(dir, 'out');
    const run = await runCli([...args.map((a) => (a === 'C' ? config : a)), '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(flag);
    // Nothing made either (a wrong --sites was found after --out was made and a gs:// one read).
    await expect(stat(out)).rejects.toThrow();
  });

  it('--dry-run refuses an --out the run would refuse, writing nothing; a usage error is one plain JSON line', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir);
    await writeFile(path.join(dir, 'a-file'), '');
    const through = path.join(dir, 'a-file', 'out');
    const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--dry-run', '--log-format', 'json'];
    const run = await runCli([...args, '--out', through]);
    expect(run.code).toBe(2);
    expect(lastLogLine(run.stderr).message).toBe(
      `--out: "${through}" cannot hold the reports: a part of the path is a file, not a folder — choose a folder (ENOTDIR)`,
    );
    expect(run.stdout).toBe('');
    // A link to nothing, which the run's mkdir would refuse.
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    const dangling = await runCli([...args, '--out', path.join(dir, 'dangling')]);
    expect([dangling.code, lastLogLine(dangling.stderr).message]).toEqual([
      2,
      `--out: "${path.join(dir, 'dangling')}" cannot hold the reports: it is a link to nothing (ENOENT)`,
    ]);
    // commander's two lines as one (before 0.3.7 joined by a literal \x0a in the message).
    const typo = await runCli(['reconcile', '--confg', config, '--date', '2025-03-09', '--log-format', 'json']);
    expect(lastLogLine(typo.stderr).message).toBe("unknown option '--confg' (Did you mean --config?)");
    const home = await runCli(['demo', '--out', '~/demo'], dir);
    expect([home.code, home.stderr]).toEqual([2, expect.stringContaining('~ is not expanded here') as unknown]);
  });

  it('a GOOGLE_APPLICATION_CREDENTIALS file that is no JSON is named, never shown (its text is a secret)', async () => {
    const dir = await tempDir();
    const creds = path.join(dir, 'creds.json');
    await writeFile(creds, '{"type":"authorized_user","client_secret": dSECRETCLIENTSECRET123, "refresh_token":"x"}');
    const config = await writeConfig(dir, { gcs: ['gs://audit-landed/dt={date}/'] });
    for (const extra of [[], ['--dry-run']]) {
      const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out'), ...extra];
      const run = await runCli(args, undefined, { GOOGLE_APPLICATION_CREDENTIALS: creds });
      expect([extra, run.code]).toEqual([extra, 2]);
      expect(run.stderr).toContain(`GOOGLE_APPLICATION_CREDENTIALS: \\"${creds}\\" is not a JSON credentials file`);
      expect(run.stderr + run.stdout).not.toContain('SECRET');
    }
    // Unset: gcloud's own file, where the library would read it next (an engineer's laptop).
    const home = path.join(dir, 'home');
    await mkdir(path.join(home, '.config', 'gcloud'), { recursive: true });
    await writeFile(
      path.join(home, '.config', 'gcloud', 'application_default_credentials.json'),
      await readFile(creds),
    );
    const gcloud = await runCli(
      ['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out'), '--log-format', 'text'],
      undefined,
      { HOME: home, GOOGLE_APPLICATION_CREDENTIALS: '' },
    );
    expect(gcloud.code).toBe(2);
    expect(gcloud.stderr).toContain('Application Default Credentials: ');
    expect(gcloud.stderr).not.toContain('SECRET');
    // The storage client's own auth library reads ~/.config/gcloud even where CLOUDSDK_CONFIG names a good
    // one; and both read the variable's lower-case name.
    const good = path.join(dir, 'good');
    await mkdir(good);
    await writeFile(
      path.join(good, 'application_default_credentials.json'),
      JSON.stringify({ type: 'authorized_user', client_id: 'i', client_secret: 's', refresh_token: 'r' }),
    );
    for (const env of [
      { HOME: home, GOOGLE_APPLICATION_CREDENTIALS: '', CLOUDSDK_CONFIG: good } as Record<string, string>,
      { HOME: good, GOOGLE_APPLICATION_CREDENTIALS: '', google_application_credentials: creds },
    ]) {
      const run = await runCli(
        [
          'reconcile',
          '--config',
          config,
          '--date',
          '2025-03-09',
          '--out',
          path.join(dir, 'out'),
          '--log-format',
          'text',
        ],
        undefined,
        env,
      );
      expect([env, run.code]).toEqual([env, 2]);
      expect(run.stderr).not.toContain('SECRET');
    }
    // JSON, but lacking what the auth library needs of its type: named by field, never shown (before 0.3.7 exit 3,
    // every row "request failed: The incoming JSON object does not contain a client_email field").
    for (const [text, lacks] of [
      ['{}', 'client_email, private_key, which a service account key needs'],
      ['{"type":"authorized_user","client_secret":"SECRET1","refresh_token":""}', 'client_id, refresh_token, which'],
    ]) {
      await writeFile(creds, text!);
      const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out')];
      const run = await runCli(args, undefined, { GOOGLE_APPLICATION_CREDENTIALS: creds });
      expect([text, run.code]).toEqual([text, 2]);
      expect(run.stderr).toContain(`"${creds}\\" lacks ${lacks}`);
      expect(run.stderr).not.toContain('SECRET');
    }
    // Unreadable: named, with its errno.
    const missing = await runCli(
      ['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out'), '--log-format', 'text'],
      undefined,
      {
        GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, 'nope.json'),
      },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot be read (ENOENT)');
  });

  it.each([
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
    [{ thresholds: { warnPct: 99, failPct: 99.5 } }, 'thresholds.failPct'],
    [{ gcs: ['landed/dt={day}/'] }, 'tiers.gcs.locations[0]'],
    [{ surprise: true }, 'surprise'],
    [{ sites: ['US', 'us'] }, 'sites'],
  ])('config %j names %s', async (c, keyPath) => {
    const dir = await tempDir();
    const run = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir, c),
      '--date',
      '2025-03-09',
      '--out',
      path.join(dir, 'out'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(keyPath);
    await expect(stat(path.join(dir, 'out'))).rejects.toThrow();
  });

  it('--help works on every command', async () => {
    for (const args of [['--help'], ['reconcile', '--help'], ['demo', '--help']]) {
      const run = await runCli(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: parity');
    }
  });
});

describe('parity demo', () => {
  it('writes a week of reports with every cause present', async () => {
    const dir = await tempDir();
    const run = await runCli(['demo', '--out', path.join(dir, 'reports')], dir);
    expect(run.code).toBe(0);
    const all = [];
    for (const day of [
      '2025-03-03',
      '2025-03-04',
      '2025-03-05',
      '2025-03-06',
      '2025-03-07',
      '2025-03-08',
      '2025-03-09',
    ]) {
      const { parity } = await report(path.join(dir, 'reports'), day);
      all.push(row(parity, 'ALL'));
      // The sample holds every site every day: none is NO_DATA, and no parity is above 100.
      expect(parity.filter((r) => r.status === 'NO_DATA' || Number(r.parity_pct) > 100)).toEqual([]);
    }
    for (const col of [
      'rejected_413',
      'rejected_502',
      'retry_recovered',
      'lost_502',
      'duplicates',
      'late_arrivals',
      'unknown_site',
      'missing_unexplained',
      'proxy_malformed',
      'gcs_malformed',
      'landed_after_reject',
      'landed_without_proxy',
    ]) {
      expect([col, all.reduce((n, r) => n + Number(r[col]), 0)]).toEqual([col, expect.any(Number)]);
      expect(all.reduce((n, r) => n + Number(r[col]), 0)).toBeGreaterThan(0);
    }
    expect(run.stdout).toContain('parity_pct');
  });
});
