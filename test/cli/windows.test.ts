import { parse } from 'csv-parse/sync';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAY = '2025-03-09';
const HOSTILE = '=HYPERLINK("x"),\n<script>+1';

/** A strict RFC 4180 reader: every row as wide as the header, as objects keyed by it. */
const rowsOf = (text: string): Record<string, string>[] => parse(text, { columns: true, record_delimiter: '\r\n' });

async function reconcile(dir: string, timezone: string): Promise<{ out: string; stderr: string }> {
  const out = path.join(dir, 'out');
  const run = await runCli([
    'reconcile',
    '--config',
    await writeConfig(dir, { timezone }),
    '--date',
    DAY,
    '--out',
    out,
  ]);
  expect(run.stderr).not.toContain('Error');
  return { out, stderr: run.stderr };
}

describe('accepted_at in the missing list', () => {
  test('names the earliest accepted line of each missing id in the configured zone, hostile ids included', async () => {
    const dir = await tempDir();
    // 2025-03-09 is the US spring-forward day: 14:03 local is CDT, -05:00.
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [
      { timestamp: '2025-03-09T19:03:05.123Z', request_id: HOSTILE, site: 'US', status: 200 },
      { timestamp: '2025-03-09T19:10:00.000Z', request_id: HOSTILE, site: 'US', status: 200 },
      { timestamp: '2025-03-09T19:00:00.000Z', request_id: HOSTILE, site: 'US', status: 502 },
      { timestamp: '2025-03-09T07:00:00.5Z', request_id: 'plain', site: 'US', status: 200 },
      { timestamp: '2025-03-09T07:00:00Z', request_id: 'landed', site: 'US', status: 200 },
    ]);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), [
      { timestamp: '2025-03-09T07:00:01Z', request_id: 'landed', site: 'US' },
    ]);
    const { out } = await reconcile(dir, 'America/Chicago');
    const text = await readFile(path.join(out, `missing-${DAY}.csv`), 'utf8');
    expect(text.split('\r\n')[0]).toBe('date,site,request_id,last_tier,cause,accepted_at');
    const rows = rowsOf(text);
    expect(rows.map((r) => [r.request_id, r.accepted_at])).toEqual([
      [`'${HOSTILE}`, '2025-03-09T14:03:05.123-05:00'],
      ['plain', '2025-03-09T01:00:00.500-06:00'],
    ]);
  });
});

describe('windows-DAY.csv', () => {
  test('an injected 20-minute outage comes back as exactly its two quarter hours, with exact counts', async () => {
    const dir = await tempDir();
    // One accepted request every 30 s from 12:00 to 16:00 Chicago time (CDT, -05:00, on this day);
    // everything accepted from 14:00 to 14:20 never lands.
    const start = Date.parse('2025-03-09T17:00:00Z');
    const outageFrom = Date.parse('2025-03-09T19:00:00Z');
    const outageTo = Date.parse('2025-03-09T19:20:00Z');
    const proxy: object[] = [];
    const landed: object[] = [];
    for (let i = 0; i < 480; i++) {
      const ms = start + i * 30_000;
      const rec = { timestamp: new Date(ms).toISOString(), request_id: `r-${i}`, site: i % 2 ? 'US' : 'CA' };
      proxy.push({ ...rec, status: 200 });
      if (ms < outageFrom || ms >= outageTo) landed.push(rec);
    }
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), proxy);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), landed);
    const { out, stderr } = await reconcile(dir, 'America/Chicago');
    const text = await readFile(path.join(out, `windows-${DAY}.csv`), 'utf8');
    expect(text.split('\r\n')[0]).toBe('date,site,window_start,accepted,landed,missing,leading_cause');
    // Sites in config order (US, CA, MX); 30 requests per quarter hour, half of them each site's.
    expect(rowsOf(text)).toEqual([
      row('US', '2025-03-09T14:00:00.000-05:00', 15, 0, 15),
      row('US', '2025-03-09T14:15:00.000-05:00', 15, 10, 5),
      row('CA', '2025-03-09T14:00:00.000-05:00', 15, 0, 15),
      row('CA', '2025-03-09T14:15:00.000-05:00', 15, 10, 5),
    ]);
    const manifest = JSON.parse(await readFile(path.join(out, `manifest-${DAY}.json`), 'utf8')) as {
      files: { windows: { name: string } };
    };
    expect(manifest.files.windows.name).toBe(`windows-${DAY}.csv`);
    // The day's log line names the worst window (the first of equals, in report order).
    expect(stderr).toContain('worst window: US, 15 missing between 14:00 and 14:15, cause unexplained');
  });

  test('a day that lost nothing has a header-only windows file', async () => {
    const dir = await tempDir();
    const rec = { timestamp: '2025-03-09T12:00:00Z', request_id: 'a', site: 'US' };
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [{ ...rec, status: 200 }]);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), [rec]);
    const { out, stderr } = await reconcile(dir, 'UTC');
    expect(await readFile(path.join(out, `windows-${DAY}.csv`), 'utf8')).toBe(
      'date,site,window_start,accepted,landed,missing,leading_cause\r\n',
    );
    expect(stderr).not.toContain('worst window');
  });
});

function row(site: string, start: string, accepted: number, landed: number, missing: number) {
  return {
    date: DAY,
    site,
    window_start: start,
    accepted: String(accepted),
    landed: String(landed),
    missing: String(missing),
    leading_cause: 'unexplained',
  };
}
