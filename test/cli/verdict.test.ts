import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addDays, daysInRange } from '../../src/dates.js';
import { logLines, parseCsv, reconcileUsDay, runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAY = '2025-03-09';
const ok = (rid: string, day: string, site = 'US', status = 200) => ({
  timestamp: `${day}T10:00:00Z`,
  request_id: rid,
  site,
  status,
});
const landed = (rid: string, day: string, site = 'US') => ({ timestamp: `${day}T10:00:00Z`, request_id: rid, site });
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

async function parity(out: string, day: string) {
  return parseCsv(await readFile(path.join(out, `parity-${day}.csv`), 'utf8'));
}
const row = (rows: Record<string, string>[], site: string) => rows.find((r) => r.site === site)!;
/** One day of US: `held` accepted ids landed, `lost` accepted ids did not, `surplus` ids landed that the proxy never saw. */
async function writeDay(
  dir: string,
  day: string,
  { held, lost = 0, surplus = 0 }: { held: number; lost?: number; surplus?: number },
) {
  const accepted = ids(`a-${day}`, held + lost);
  await writeNdjson(
    path.join(dir, `proxy/dt=${day}/part-0.jsonl`),
    accepted.map((id) => ok(id, day)),
  );
  await writeNdjson(
    path.join(dir, `landed/dt=${day}/part-0.jsonl`),
    [...accepted.slice(0, held), ...ids(`s-${day}`, surplus)].map((id) => landed(id, day)),
  );
}

describe('a verdict that cannot hide a loss', () => {
  it('a lost id under a net surplus lowers parity below 100, and WARNs or FAILs by the thresholds', async () => {
    const dir = await tempDir();
    await writeDay(dir, DAY, { held: 997, lost: 3, surplus: 5 });
    const out = path.join(dir, 'out');
    const warn = await reconcileUsDay(dir, DAY, out);
    expect(warn.code).toBe(0);
    expect(row(await parity(out, DAY), 'US')).toMatchObject({
      accepted_distinct: '1000',
      gcs_distinct: '1002',
      missing: '3',
      landed_not_accepted: '5',
      unexplained: '2',
      parity_pct: '99.7000',
      status: 'WARN',
      status_reason: 'parity 99.7000 < warnPct 99.9',
    });
    const fail = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir, { sites: ['US'], thresholds: { warnPct: 99.9, failPct: 99.8 } }),
      '--date',
      DAY,
      '--out',
      out,
    ]);
    expect(fail.code).toBe(1);
    expect(row(await parity(out, DAY), 'US')).toMatchObject({
      parity_pct: '99.7000',
      status: 'FAIL',
      status_reason: 'parity 99.7000 < failPct 99.8',
    });
  });

  it('landed ids the proxy did not accept WARN above thresholds.landedNotAcceptedPct, beside a parity of 100', async () => {
    const dir = await tempDir();
    await writeDay(dir, DAY, { held: 1000, surplus: 20 });
    const out = path.join(dir, 'out');
    const run = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir, { sites: ['US'], thresholds: { warnPct: 99.9, failPct: 99, landedNotAcceptedPct: 1 } }),
      '--date',
      DAY,
      '--out',
      out,
    ]);
    expect(run.code).toBe(0);
    expect(row(await parity(out, DAY), 'US')).toMatchObject({
      parity_pct: '100.0000',
      landed_not_accepted: '20',
      status: 'WARN',
      status_reason: 'landed_not_accepted 20 > 1% of 1000 accepted',
    });
  });

  it('an empty proxy folder makes every configured site NO_DATA and exits 1', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, `proxy/dt=${DAY}`), { recursive: true });
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/part-0.jsonl`), [landed('x', DAY)]);
    const out = path.join(dir, 'out');
    const run = await runCli(['reconcile', '--config', await writeConfig(dir), '--date', DAY, '--out', out]);
    expect(run.code).toBe(1);
    const rows = await parity(out, DAY);
    expect(rows.map((r) => [r.site, r.proxy_requests, r.parity_pct, r.status])).toEqual([
      ['US', '0', '', 'NO_DATA'],
      ['CA', '0', '', 'NO_DATA'],
      ['MX', '0', '', 'NO_DATA'],
      ['ALL', '0', '', 'NO_DATA'],
    ]);
    expect(row(rows, 'US').status_reason).toBe('no proxy records; 1 ids landed with none accepted');
  });

  it('a site whose every proxy line was rejected, with nothing landed, is NO_DATA and exits 1 (a day of rejections)', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [
      ok('r1', DAY, 'US', 413),
      ok('r2', DAY, 'US', 502),
      ok('r3', DAY, 'US', 503),
    ]);
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    const out = path.join(dir, 'out');
    const run = await reconcileUsDay(dir, DAY, out);
    expect(run.code).toBe(1);
    expect(row(await parity(out, DAY), 'US')).toMatchObject({
      proxy_requests: '3',
      proxy_accepted: '0',
      parity_pct: '',
      status: 'NO_DATA',
      status_reason: 'gcs holds nothing while the proxy holds 3 lines, none accepted',
    });
  });

  it('a configured site with no proxy records is NO_DATA while the others pass', async () => {
    const dir = await tempDir();
    await writeDay(dir, DAY, { held: 10 });
    const out = path.join(dir, 'out');
    const run = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir, { sites: ['US', 'CA'] }),
      '--date',
      DAY,
      '--out',
      out,
    ]);
    expect(run.code).toBe(1);
    const rows = await parity(out, DAY);
    expect(rows.map((r) => [r.site, r.status, r.status_reason])).toEqual([
      ['US', 'PASS', ''],
      ['CA', 'NO_DATA', 'no proxy records'],
      ['ALL', 'PASS', ''],
    ]);
  });

  it('a proxy with records and an empty landed tier is NO_DATA naming the tier, not a FAIL at parity 0', async () => {
    const dir = await tempDir();
    await writeNdjson(
      path.join(dir, `proxy/dt=${DAY}/part-0.jsonl`),
      ids('p', 12).map((id) => ok(id, DAY)),
    );
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    const out = path.join(dir, 'out');
    const run = await reconcileUsDay(dir, DAY, out);
    expect(run.code).toBe(1);
    expect(row(await parity(out, DAY), 'US')).toMatchObject({
      gcs_records: '0',
      missing: '12',
      parity_pct: '0.0000',
      status: 'NO_DATA',
      status_reason: 'gcs holds nothing while the proxy accepted 12; parity 0.0000 < failPct 99',
    });
  });

  it('a halved day after 14 steady days in --out WARNs with volume_drop naming the tier, the count and the median; the first run says it has no history', async () => {
    const dir = await tempDir();
    const history = daysInRange(addDays(DAY, -14), addDays(DAY, -1));
    for (const [i, day] of history.entries()) await writeDay(dir, day, { held: 100 + (i % 3) });
    await writeDay(dir, DAY, { held: 50 });
    const config = await writeConfig(dir, { sites: ['US'] });
    const out = path.join(dir, 'out');
    const first = await runCli([
      'reconcile',
      '--config',
      config,
      '--from',
      history[0]!,
      '--to',
      history.at(-1)!,
      '--out',
      out,
    ]);
    expect(first.code).toBe(0);
    expect(
      first.stderr.match(/volume guard: fewer than 3 earlier days reported in .*: no traffic drop can/g),
    ).toHaveLength(1);
    expect(first.stderr).toContain(out);
    // A WARNING, so that a terminal's progress bar (which hides INFO lines) and --quiet still say it.
    expect(logLines(first.stderr).find((l) => l.volume_guard === 'no_history')).toMatchObject({ severity: 'WARNING' });
    // Two earlier days are no baseline either: said again (before 0.3.7 one day of anything passed for a history).
    const two = path.join(dir, 'two');
    await runCli(['reconcile', '--config', config, '--from', history[0]!, '--to', history[1]!, '--out', two]);
    const third = await runCli(['reconcile', '--config', config, '--date', history[2]!, '--out', two]);
    expect(third.stderr).toContain('volume guard: fewer than 3 earlier days reported in');

    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('volume guard: fewer than');
    // The median of 100, 101, 102, … over the 14 days is 101: 50 is below half of it.
    const drop = 'proxy_requests 50 < 50% of median 101; gcs_records 50 < 50% of median 101';
    expect(row(await parity(out, DAY), 'US')).toMatchObject({
      parity_pct: '100.0000',
      status: 'WARN',
      volume_drop: drop,
      status_reason: `volume_drop: ${drop}`,
    });
  }, 60_000);

  it('a report in --out whose manifest names other bytes is no history: the guard skips it and says so', async () => {
    const dir = await tempDir();
    const history = daysInRange(addDays(DAY, -4), addDays(DAY, -1));
    for (const day of history) await writeDay(dir, day, { held: 100 });
    await writeDay(dir, DAY, { held: 10 });
    const config = await writeConfig(dir, { sites: ['US'] });
    const out = path.join(dir, 'out');
    await runCli(['reconcile', '--config', config, '--from', history[0]!, '--to', history.at(-1)!, '--out', out]);
    // Hand-edited reports: the counts say 10 000 a day, the manifests still name what the job wrote.
    for (const day of history) {
      const file = path.join(out, `parity-${day}.csv`);
      await writeFile(file, (await readFile(file, 'utf8')).replaceAll(',100,', ',10000,'));
      expect(JSON.parse(await readFile(path.join(out, `manifest-${day}.json`), 'utf8'))).toMatchObject({
        files: { parity: { name: `parity-${day}.csv` } },
      });
    }
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    expect(run.code).toBe(0);
    for (const day of history)
      expect(run.stderr).toContain(`volume guard: parity-${day}.csv is not the file its manifest names`);
    expect(run.stderr).toContain('volume guard: fewer than 3 earlier days reported in');
    expect(row(await parity(out, DAY), 'US')).toMatchObject({ status: 'PASS', volume_drop: '' });

    // The reports as the job wrote them are history: 10 is below half of 100.
    await runCli(['reconcile', '--config', config, '--from', history[0]!, '--to', history.at(-1)!, '--out', out]);
    await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    expect(row(await parity(out, DAY), 'US')).toMatchObject({
      status: 'WARN',
      volume_drop: 'proxy_requests 10 < 50% of median 100; gcs_records 10 < 50% of median 100',
    });
  }, 60_000);

  it('a folder that lists no object is a WARNING naming the location as configured and as expanded', async () => {
    const dir = await tempDir();
    await writeDay(dir, DAY, { held: 3 });
    const out = path.join(dir, 'out');
    // The path is mistyped (date= for dt=) below a root that exists: no object, no error.
    const config = await writeConfig(dir, { sites: ['US'], proxy: ['proxy/date={date}/'] });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out, '--log-format', 'json']);
    expect(run.code).toBe(1);
    const zero = logLines(run.stderr).filter((l) => String(l.message).includes('counting 0 objects'));
    expect(zero).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        message: `proxy: counting 0 objects for ${DAY} in proxy/date={date}/ (expanded: ${path.join(dir, `proxy/date=${DAY}`)})`,
        location: 'proxy/date={date}/',
        expanded: path.join(dir, `proxy/date=${DAY}`),
      }),
    ]);
    const text = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out, '--log-format', 'text']);
    expect(text.stderr).toContain(`WARNING: proxy: counting 0 objects for ${DAY} in proxy/date={date}/`);
    expect(row(await parity(out, DAY), 'US')).toMatchObject({ proxy_requests: '0', status: 'NO_DATA' });
  });
});
