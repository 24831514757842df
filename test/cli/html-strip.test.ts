import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAYS = ['2025-03-08', '2025-03-09'];
const QUARTER_MS = 15 * 60 * 1000;

/** The start (epoch ms) of every coloured bucket of a site's strip on a day, in page order. */
function colouredBuckets(html: string, site: string, day: string): number[] {
  const start = html.indexOf(`<div class="strip" data-site="${site}" data-day="${day}"`);
  expect(start).toBeGreaterThan(0);
  const strip = html.slice(start, html.indexOf('<p class="worst-label">', start));
  return [...strip.matchAll(/<span class="q q([1-9])[^"]*"[^>]*data-start="(\d+)"/g)].map((m) => Number(m[2]));
}

describe('the HTML report of a backfill', () => {
  test("draws each day's loss strip from its windows file, the days a resumed run skipped included", async () => {
    const dir = await tempDir();
    // Each day: a US request every minute from 10:00 to 12:00 UTC; on the 9th those of 11:07 to 11:27 never land.
    const outage = [Date.parse('2025-03-09T11:07:00Z'), Date.parse('2025-03-09T11:27:00Z')] as const;
    const lost: number[] = [];
    for (const day of DAYS) {
      const proxy: object[] = [];
      const landed: object[] = [];
      for (let i = 0; i < 120; i++) {
        const ms = Date.parse(`${day}T10:00:00Z`) + i * 60_000;
        const rec = { timestamp: new Date(ms).toISOString(), request_id: `${day}-${i}`, site: 'US' };
        proxy.push({ ...rec, status: 200 });
        if (ms >= outage[0] && ms < outage[1]) lost.push(ms);
        else landed.push(rec);
      }
      await writeNdjson(path.join(dir, `proxy/dt=${day}/a.jsonl`), proxy);
      await writeNdjson(path.join(dir, `landed/dt=${day}/a.jsonl`), landed);
    }
    const args = [
      'backfill',
      '--config',
      await writeConfig(dir, { sites: ['US'] }),
      '--from',
      DAYS[0]!,
      '--to',
      DAYS[1]!,
      '--out',
      path.join(dir, 'out'),
      // the table on stdout, and under it the note of the days skipped (beside JSON logs, a log line)
      '--format',
      'table',
      '--quiet',
    ];
    const report = path.join(dir, 'out', `report-${DAYS[0]}_${DAYS[1]}.html`);
    expect((await runCli(args)).code).toBe(1);
    const first = await readFile(report, 'utf8');
    const expected = [...new Set(lost.map((ms) => Math.floor(ms / QUARTER_MS) * QUARTER_MS))];
    // 11:07 to 11:27 touches 11:00 and 11:15.
    expect(expected.map((ms) => new Date(ms).toISOString().slice(11, 16))).toEqual(['11:00', '11:15']);
    expect(colouredBuckets(first, 'US', '2025-03-09')).toEqual(expected);
    expect(colouredBuckets(first, 'US', '2025-03-08')).toEqual([]);
    expect(first).toContain(
      'Worst <b>11:15–11:30</b>: 12 missing of 15 accepted (80.0 %), cause <code>unexplained</code>',
    );

    // Both days skipped: their rows and their windows come back from the files, the same page.
    await rm(report);
    const resumed = await runCli(args);
    expect(resumed.stdout).toContain('skipped 2 current days');
    expect(await readFile(report, 'utf8')).toBe(first);
  });
});
