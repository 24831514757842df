import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { leaseHolder } from '../../src/storage/output-lease.js';
import {
  CLI,
  logLines,
  parseCsv,
  reconcileRange,
  ROOT,
  runCli,
  tempDir,
  writeConfig,
  writeNdjson,
} from '../support/files.js';

const rec = (rid: string, ts: string, status?: number) => ({
  timestamp: ts,
  request_id: rid,
  site: 'US',
  ...(status ? { status } : {}),
});

/** Proxy and landed data for a day: `landed` of the `accepted` ids land. */
async function day(dir: string, d: string, accepted: number, landed: number): Promise<void> {
  const ids = Array.from({ length: accepted }, (_, i) => `${d}-${i}`);
  await writeNdjson(
    path.join(dir, `proxy/dt=${d}/a.jsonl`),
    ids.map((id) => rec(id, `${d}T12:00:00Z`, 200)),
  );
  await writeNdjson(
    path.join(dir, `landed/dt=${d}/a.jsonl`),
    ids.slice(0, landed).map((id) => rec(id, `${d}T12:00:00Z`)),
  );
}

describe('parity daily', () => {
  it('covers yesterday and the lateDays before it, and says which days late records restated', async () => {
    const dir = await tempDir();
    for (const d of ['2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09']) await day(dir, d, 100, 100);
    await day(dir, '2025-03-08', 100, 98); // two records of the 8th have not landed yet
    // Only US has data: another configured site would be NO_DATA every day (exit 1).
    const config = await writeConfig(dir, { sites: ['US'], jobs: { lateDays: 3 } });
    const out = path.join(dir, 'out');
    const daily = () =>
      runCli(['daily', '--config', config, '--as-of', '2025-03-10', '--out', out, '--log-format', 'json']);
    const first = await daily();
    expect(first.code).toBe(1);
    expect((await readdir(out)).filter((f) => f.startsWith('parity-')).sort()).toEqual(
      ['2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09'].map((d) => `parity-${d}.csv`),
    );
    // The late record lands in the next day's folder; the next morning's run restates the 8th.
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/late.jsonl'), [
      rec('2025-03-08-98', '2025-03-08T12:00:00Z'),
      rec('2025-03-08-99', '2025-03-08T12:00:00Z'),
    ]);
    const second = await daily();
    expect(second.code).toBe(0);
    // Beside JSON logs stdout stays empty: the note is a log line.
    expect(second.stdout).toBe('');
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest-2025-03-08.json'), 'utf8'));
    expect(manifest).toMatchObject({ day: '2025-03-08', change: 'restated', status: 'PASS', command: 'daily' });
    expect(JSON.parse(await readFile(path.join(out, 'manifest-2025-03-07.json'), 'utf8')).change).toBe('unchanged');
    const logs = second.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { severity: string; message: string });
    expect(logs.some((l) => l.severity === 'INFO' && l.message.startsWith('restated: 2025-03-08 (their'))).toBe(true);
    // The day's own line says it as a WARNING, as soon as the day is written (a run stopped later has said it).
    expect(logs.filter((l) => l.severity === 'WARNING' && l.message.includes('(restated: its report changed'))).toEqual(
      [expect.objectContaining({ day: '2025-03-08', change: 'restated' })],
    );
    expect(logs.filter((l) => /^2025-03-0\d: (PASS|WARN|FAIL)/.test(l.message))).toHaveLength(4);
  });
});

describe('daily catches up', () => {
  it('redoes an earlier day whose report is ERROR and one left without a report, and no day before the first', async () => {
    const dir = await tempDir();
    for (let d = 3; d <= 9; d++) await day(dir, `2025-03-0${d}`, 30, 30);
    const config = await writeConfig(dir, {
      sites: ['US'],
      jobs: { lateDays: 1, catchUpDays: 5 },
      engine: { batchDays: 2 },
    });
    const out = path.join(dir, 'out');
    const reconcile = (d: string) => runCli(['reconcile', '--config', config, '--date', d, '--out', out, '--quiet']);
    const manifest = async (d: string) =>
      JSON.parse(await readFile(path.join(out, `manifest-${d}.json`), 'utf8')) as Record<string, unknown>;
    // The 4th and the 7th were reported; the 5th met a transient failure (a gzip object cut short); the 6th
    // has no report (the CronJob was down past its re-check window); the 3rd precedes the job's first report.
    expect((await reconcile('2025-03-04')).code).toBe(0);
    expect((await reconcile('2025-03-07')).code).toBe(0);
    const bad = path.join(dir, 'landed/dt=2025-03-05/cut.jsonl.gz');
    await writeFile(bad, gzipSync(JSON.stringify(rec('x', '2025-03-05T12:00:00Z')) + '\n').subarray(0, 20));
    expect((await reconcile('2025-03-05')).code).toBe(3);
    expect(await manifest('2025-03-05')).toMatchObject({ status: 'ERROR' });
    await rm(bad);
    const before = { d4: await manifest('2025-03-04'), d7: await manifest('2025-03-07') };

    const daily = () =>
      runCli(['daily', '--config', config, '--as-of', '2025-03-10', '--out', out, '--log-format', 'json']);
    const run = await daily();
    expect(run.code).toBe(0);
    expect((await readdir(out)).filter((f) => f.startsWith('parity-')).sort()).toEqual(
      ['2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09'].map(
        (d) => `parity-${d}.csv`,
      ),
    );
    expect(await manifest('2025-03-05')).toMatchObject({ status: 'PASS', change: 'new', command: 'daily' });
    expect(await manifest('2025-03-06')).toMatchObject({ status: 'PASS', change: 'new', command: 'daily' });
    // The reported days of the span are left as they were.
    expect(await manifest('2025-03-04')).toEqual(before.d4);
    expect(await manifest('2025-03-07')).toEqual(before.d7);
    const logs = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.filter((l) => String(l.message).startsWith('catching up'))).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        catch_up_error: ['2025-03-05'],
        catch_up_unreported: ['2025-03-06'],
      }),
    ]);
    expect(logs.filter((l) => /^2025-03-0\d: PASS/.test(String(l.message))).map((l) => l.day)).toEqual([
      '2025-03-05',
      '2025-03-06',
      '2025-03-08',
      '2025-03-09',
    ]);
    // The run's HTML report holds every day its name spans: the 7th, not redone, read back from its report.
    const html = await readFile(path.join(out, 'report-2025-03-05_2025-03-09.html'), 'utf8');
    const shown = [...html.matchAll(/<h3 id="day-([0-9-]+)">/g)].map((m) => m[1]);
    expect(shown).toEqual(['2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09']);
    // Nothing left to catch up the next morning: the span is reported whole.
    const next = await daily();
    expect(next.code).toBe(0);
    expect(next.stderr).not.toContain('catching up');
    // A day read back must have been made under this config: one cut under another (a site's zone changed, here
    // the thresholds) would be drawn as if made by this one (before 0.3.7 its windows could fall off the strip).
    const other = await writeConfig(dir, { sites: ['US'], thresholds: { warnPct: 99.5, failPct: 99 } }, 'other.json');
    expect((await runCli(['reconcile', '--config', other, '--date', '2025-03-07', '--out', out, '--quiet'])).code).toBe(
      0,
    );
    await rm(path.join(out, 'manifest-2025-03-06.json'));
    const mixed = await daily();
    expect(mixed.stderr).toContain(
      "2025-03-07: its report was made under another config; it is left out of the run's HTML report",
    );
    const again = await readFile(path.join(out, 'report-2025-03-06_2025-03-09.html'), 'utf8');
    expect([...again.matchAll(/<h3 id="day-([0-9-]+)">/g)].map((m) => m[1])).toEqual([
      '2025-03-06',
      '2025-03-08',
      '2025-03-09',
    ]);
  });
});

/** One whole day of US only (2025-03-09, every accepted id landed) and its config. */
async function usDay(): Promise<{ dir: string; config: string }> {
  const dir = await tempDir();
  await day(dir, '2025-03-09', 20, 20);
  return { dir, config: await writeConfig(dir, { sites: ['US'] }) };
}

describe('a reader that goes away', () => {
  /** The CLI with its stdout or stderr closed by the reader before the run writes to it: its exit code. */
  const runClosed = (args: string[], closed: 'stdout' | 'stderr') =>
    new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child[closed].destroy();
      child[closed === 'stdout' ? 'stderr' : 'stdout'].resume();
      child.on('error', reject);
      child.on('close', resolve);
    });

  it('ends neither the run nor sets its exit status: a closed stdout or stderr drops only what was left to print', async () => {
    const { dir, config } = await usDay();
    for (const closed of ['stdout', 'stderr'] as const) {
      const out = path.join(dir, closed);
      const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--format', 'json'];
      expect(await runClosed(args, closed)).toBe(0);
      expect((await readdir(out)).filter((f) => f.endsWith('.csv')).sort()).toEqual([
        'missing-2025-03-09.csv',
        'parity-2025-03-09.csv',
        'windows-2025-03-09.csv',
      ]);
    }
  });
});

describe('one run at a time per --out', () => {
  it("refuses to write where a live run holds the folder's lease, and takes over a dead run's", async () => {
    const { dir, config } = await usDay();
    const out = path.join(dir, 'out');
    await mkdir(out, { recursive: true });
    const lease = (pid: number) =>
      writeFile(
        path.join(out, '.parity-run.lock'),
        JSON.stringify({ ...leaseHolder('daily', '2025-03-10T05:30:00.000Z'), pid }),
      );
    const run = () => runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--quiet']);
    await lease(process.pid); // this test's own process: alive
    const refused = await run();
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain(
      `cannot write ${out}: another run is writing its reports there (pid ${process.pid} on ${hostname()}, daily`,
    );
    expect(refused.stderr).toContain('nothing was read or written');
    expect(await readdir(out)).toEqual(['.parity-run.lock']);
    // A run killed with -9 left its lease: its pid is gone, so the next run takes the folder over.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await lease(Number(gone));
    // --local-out beside a local --out is unused: said, not silently ignored.
    const taken = await runCli([
      ...['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--quiet'],
      ...['--local-out', path.join(dir, 'elsewhere')],
    ]);
    expect(taken.code).toBe(0);
    expect(taken.stderr).toContain(
      `--local-out \\"${path.join(dir, 'elsewhere')}\\" is not used: the reports go to --out`,
    );
    expect((await readdir(out)).sort()).toEqual([
      'manifest-2025-03-09.json',
      'missing-2025-03-09.csv',
      'parity-2025-03-09.csv',
      'report-2025-03-09_2025-03-09.html',
      'windows-2025-03-09.csv',
    ]);
  });
});

describe('runs taking over one stale lease at once', () => {
  it('leave exactly one of them holding it', async () => {
    const dir = await tempDir();
    const lease = path.join(ROOT, 'dist/src/storage/output-lease.js');
    // Each process tries at the same instant, holds what it got for a moment, and says whether it held it.
    const racer = [
      `import { acquireLocalLease, leaseHolder } from ${JSON.stringify(lease)};`,
      `const at = ${Date.now() + 1500}; while (Date.now() < at) {}`,
      `try { const l = await acquireLocalLease(process.argv[1], leaseHolder('r', 'x'), '--out');`,
      `  await new Promise((r) => setTimeout(r, 400)); await l.confirm(); console.log('held'); await l.release(); }`,
      `catch (e) { console.log(String(e.message).includes('taken over') ? 'lost' : 'refused'); }`,
    ].join('\n');
    for (let trial = 0; trial < 3; trial++) {
      const out = path.join(dir, `t${trial}`);
      await mkdir(out);
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      await writeFile(
        path.join(out, '.parity-run.lock'),
        JSON.stringify({ ...leaseHolder('daily', 'x'), pid: Number(gone) }),
      );
      const said = await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            new Promise<string>((resolve) => {
              const child = spawn(process.execPath, ['--input-type=module', '-e', racer, out]);
              let text = '';
              child.stdout.on('data', (c: Buffer) => (text += c.toString()));
              child.on('close', () => resolve(text.trim()));
            }),
        ),
      );
      // One holds it to the end; none believed it held a lease another took ("lost").
      expect([trial, said.filter((s) => s === 'held').length, said.filter((s) => s === 'lost').length]).toEqual([
        trial,
        1,
        0,
      ]);
    }
  });
});

describe('the lease where a file system has no hard links', () => {
  it('is created exclusively instead (a FUSE-mounted bucket, vfat, SMB refuse link(2)), and the run writes its reports', async () => {
    const { dir, config } = await usDay();
    // Every link(2) of the run fails EPERM, as on such a file system.
    const preload = path.join(dir, 'no-links.cjs');
    await writeFile(
      preload,
      "const fs = require('fs');\n" +
        'fs.promises.link = async () => { throw Object.assign(new Error("EPERM: link"), { code: "EPERM" }); };\n' +
        "require('module').syncBuiltinESMExports();\n",
    );
    const out = path.join(dir, 'out');
    const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--quiet'];
    const run = await runCli(args, undefined, { NODE_OPTIONS: `--require ${preload}` });
    expect(run.code).toBe(0);
    expect((await readdir(out)).filter((f) => f.startsWith('parity-'))).toEqual(['parity-2025-03-09.csv']);
    expect(await readdir(out)).not.toContain('.parity-run.lock');
  });
});

describe('restated', () => {
  it('is judged against the last report that was not ERROR: good, ERROR, then good as before is unchanged', async () => {
    const dir = await tempDir();
    await day(dir, '2025-03-09', 50, 50);
    const config = await writeConfig(dir, { sites: ['US'] });
    const out = path.join(dir, 'out');
    const run = () => runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--quiet']);
    const manifest = async () =>
      JSON.parse(await readFile(path.join(out, 'manifest-2025-03-09.json'), 'utf8')) as {
        status: string;
        change: string;
      };
    expect((await run()).code).toBe(0);
    expect(await manifest()).toMatchObject({ status: 'PASS', change: 'new' });
    // A transient failure: a gzip object cut short makes the landed tier ERROR for the day.
    const bad = path.join(dir, 'landed/dt=2025-03-09/cut.jsonl.gz');
    await writeFile(
      bad,
      gzipSync('{"timestamp":"2025-03-09T12:00:00Z","request_id":"x","site":"US"}\n').subarray(0, 20),
    );
    expect((await run()).code).toBe(3);
    expect(await manifest()).toMatchObject({ status: 'ERROR', change: 'restated' });
    await rm(bad);
    const again = await run();
    expect(again.code).toBe(0);
    // The report is the first one's again: no news for whoever reads the restated days.
    expect(await manifest()).toMatchObject({ status: 'PASS', change: 'unchanged' });
    expect(again.stderr).not.toContain('restated');
    // And a report that did change after an ERROR one is restated against the last good one.
    await writeFile(
      bad,
      gzipSync('{"timestamp":"2025-03-09T12:00:00Z","request_id":"x","site":"US"}\n').subarray(0, 20),
    );
    expect((await run()).code).toBe(3);
    // Still ERROR the same way the next morning: the same report, unchanged (before 0.3.7 restated each time).
    const still = await run();
    expect(still.code).toBe(3);
    expect(await manifest()).toMatchObject({ status: 'ERROR', change: 'unchanged' });
    expect(still.stderr).not.toContain('restated');
    await rm(bad);
    await day(dir, '2025-03-09', 50, 49);
    expect((await run()).code).toBe(1);
    expect(await manifest()).toMatchObject({ status: 'FAIL', change: 'restated' });
  });
});

describe('parity backfill', () => {
  it('skips days whose reports are current, redoes tampered ones, and --force redoes all', async () => {
    const dir = await tempDir();
    for (const d of ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04']) {
      await day(dir, d, 20, 20);
      // Every configured site holds data (one with none would be NO_DATA, exit 1).
      await writeNdjson(path.join(dir, `proxy/dt=${d}/ca.jsonl`), [
        { ...rec(`${d}-ca`, `${d}T12:00:00Z`, 200), site: 'CA' },
      ]);
      await writeNdjson(path.join(dir, `landed/dt=${d}/ca.jsonl`), [
        { ...rec(`${d}-ca`, `${d}T12:00:00Z`), site: 'CA' },
      ]);
    }
    const config = await writeConfig(dir, { sites: ['US', 'CA'], engine: { batchDays: 2 } });
    const out = path.join(dir, 'out');
    const args = [
      'backfill',
      '--config',
      config,
      '--from',
      '2025-03-01',
      '--to',
      '2025-03-04',
      '--out',
      out,
      // The table on stdout, and the note of the days skipped under it (beside JSON logs it is a log line).
      '--format',
      'table',
      '--concurrency',
      '2',
      '--quiet',
    ];
    expect((await runCli(args)).code).toBe(0);
    const again = await runCli(args);
    expect(again.stdout).toContain('skipped 4 current days');
    await writeFile(path.join(out, 'parity-2025-03-02.csv'), 'tampered\r\n');
    const resumed = await runCli(args);
    expect(resumed.stdout).toContain('skipped 3 current days');
    expect(parseCsv(await readFile(path.join(out, 'parity-2025-03-02.csv'), 'utf8')).at(-1)).toMatchObject({
      site: 'ALL',
      proxy_requests: '21',
    });
    // A report made for fewer sites is not the whole day: backfill redoes it.
    await runCli(['reconcile', '--config', config, '--date', '2025-03-03', '--out', out, '--sites', 'US', '--quiet']);
    const afterSites = await runCli(args);
    expect(afterSites.stdout).toContain('skipped 3 current days');
    // The windows file is one of the day's files too: a removed or damaged one makes the day redone.
    const windows = await readFile(path.join(out, 'windows-2025-03-04.csv'), 'utf8');
    await rm(path.join(out, 'windows-2025-03-04.csv'));
    await writeFile(path.join(out, 'windows-2025-03-01.csv'), `${windows}garbage\r\n`);
    const afterWindows = await runCli(args);
    expect(afterWindows.stdout).toContain('skipped 2 current days');
    expect(await readFile(path.join(out, 'windows-2025-03-04.csv'), 'utf8')).toBe(windows);
    expect(await readFile(path.join(out, 'windows-2025-03-01.csv'), 'utf8')).not.toContain('garbage');
    const forced = await runCli([...args, '--force']);
    expect(forced.stdout).not.toContain('skipped');
    // Settings that change how a run goes, not what it reports, leave every day current.
    const tuned = await writeConfig(
      dir,
      {
        sites: ['US', 'CA'],
        engine: { batchDays: 1, threads: 1 },
        jobs: { lateDays: 5 },
        alerts: { webhookUrlEnv: 'PARITY_TEST_NOT_SET' },
        tiers: {
          proxy: { locations: ['proxy/dt={date}/'] },
          gcs: { locations: ['landed/dt={date}/'], downloadConcurrency: 4 },
        },
      },
      'tuned.json',
    );
    expect((await runCli(args.map((a) => (a === config ? tuned : a)))).stdout).toContain('skipped 4 current days');
    const thresholds = await writeConfig(
      dir,
      { sites: ['US', 'CA'], thresholds: { warnPct: 99.5, failPct: 99 } },
      'other.json',
    );
    expect((await runCli(args.map((a) => (a === config ? thresholds : a)))).stdout).not.toContain('skipped');
    expect((await runCli([...args.slice(0, -2), '--concurrency', '9'])).code).toBe(2);
  });
});

describe("backfill's volume guard", () => {
  it('gives each day the baseline a run of the days in order gives it, whatever batchDays and --concurrency are', async () => {
    const dir = await tempDir();
    const days = Array.from({ length: 8 }, (_, i) => `2025-05-0${i + 1}`);
    // A steady 30 a day, then a drop to 10 on the last day: below half the median, a volume_drop WARN.
    for (const d of days) await day(dir, d, d === days.at(-1) ? 10 : 30, d === days.at(-1) ? 10 : 30);
    const range = ['--from', days[0]!, '--to', days.at(-1)!];
    const reportOf = async (out: string) => readFile(path.join(out, `parity-${days.at(-1)!}.csv`), 'utf8');
    const reconciled = path.join(dir, 'reconciled');
    const cfg = (batchDays: number) => writeConfig(dir, { sites: ['US'], engine: { batchDays } }, `b${batchDays}.json`);
    await reconcileRange(await cfg(8), days[0]!, days.at(-1)!, reconciled, '--quiet');
    const expected = await reportOf(reconciled);
    expect(parseCsv(expected).find((r) => r.site === 'US')).toMatchObject({ status: 'WARN' });
    expect(parseCsv(expected).find((r) => r.site === 'US')!.status_reason).toContain('volume_drop');
    for (const [batchDays, concurrency] of [
      [1, 1],
      [1, 4],
      [3, 2],
      [8, 1],
    ] as const) {
      const out = path.join(dir, `backfill-${batchDays}-${concurrency}`);
      const run = await runCli([
        'backfill',
        '--config',
        await cfg(batchDays),
        ...range,
        '--out',
        out,
        '--concurrency',
        String(concurrency),
        '--log-format',
        'json',
      ]);
      expect([batchDays, concurrency, run.code]).toEqual([batchDays, concurrency, 0]);
      expect([batchDays, concurrency, await reportOf(out)]).toEqual([batchDays, concurrency, expected]);
      // The engines' memory limit is resolved and said once for the run's lanes (before 0.3.7 once a batch: 8 times
      // with batchDays 1, each engine taking the whole default as its own).
      const engines = logLines(run.stderr).filter((l) => String(l.message).startsWith('engine memory'));
      expect([batchDays, concurrency, engines.length]).toEqual([batchDays, concurrency, 1]);
    }
  }, 60_000);
});

/** A local webhook that keeps the bodies posted to it. */
async function webhookReceiver(): Promise<{ server: Server; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, bodies };
}

describe('alerts', () => {
  it('posts a Slack-compatible message on FAIL to the URL named by alerts.webhookUrlEnv, and never logs the URL', async () => {
    const { server, bodies } = await webhookReceiver();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/SECRET-TOKEN`;
      const dir = await tempDir();
      await day(dir, '2025-03-09', 100, 90);
      const config = await writeConfig(dir, { alerts: { webhookUrlEnv: 'PARITY_TEST_WEBHOOK' } });
      const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out')];
      const cli = await runCli([...args, '--log-format', 'json'], undefined, { PARITY_TEST_WEBHOOK: url });
      const run = { code: cli.code, out: cli.stdout + cli.stderr };
      expect(run.code).toBe(1);
      expect(bodies).toHaveLength(1);
      const body = JSON.parse(bodies[0]!) as { text: string };
      expect(body.text).toContain('2025-03-09: FAIL: US 90 %, missing unexplained −10');
      expect(run.out).not.toContain('SECRET-TOKEN');
    } finally {
      server.close();
    }
  });

  it('a resumed backfill summarises and alerts on its whole range, skipped days included, as its exit status counts them', async () => {
    const { server, bodies } = await webhookReceiver();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const dir = await tempDir();
      const days = ['2025-03-07', '2025-03-08', '2025-03-09'];
      for (const [i, d] of days.entries()) await day(dir, d, 100, i === 0 ? 90 : 100);
      const config = await writeConfig(dir, { sites: ['US'], alerts: { webhookUrlEnv: 'PARITY_TEST_WEBHOOK' } });
      const out = path.join(dir, 'out');
      const backfill = () =>
        runCli(
          ['backfill', '--config', config, '--from', days[0]!, '--to', days[2]!, '--out', out, '--format', 'json'],
          undefined,
          { PARITY_TEST_WEBHOOK: url },
        );
      const first = await backfill();
      expect(first.code).toBe(1);
      // As a run stopped before its end leaves it: every day's reports, no alert sent. The next run skips them all.
      const again = await backfill();
      expect(again.code).toBe(1);
      expect(JSON.parse(again.stdout)).toEqual(JSON.parse(first.stdout));
      const summary = JSON.parse(again.stdout) as { date: string; status: string }[];
      expect(summary.map((d) => [d.date, d.status])).toEqual([
        [days[0], 'FAIL'],
        [days[1], 'PASS'],
        [days[2], 'PASS'],
      ]);
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
      expect((JSON.parse(bodies[1]!) as { text: string }).text).toContain(`${days[0]}: FAIL: US 90 %`);
      // A manifest copied from another day does not make a day with no reports current.
      await rm(path.join(out, `parity-${days[1]}.csv`));
      await writeFile(
        path.join(out, `manifest-${days[1]}.json`),
        await readFile(path.join(out, `manifest-${days[2]}.json`), 'utf8'),
      );
      const third = await backfill();
      expect(third.stderr).toContain('skipping 2 days');
      expect(parseCsv(await readFile(path.join(out, `parity-${days[1]}.csv`), 'utf8')).at(-1)).toMatchObject({
        date: days[1],
        proxy_requests: '100',
      });
    } finally {
      server.close();
    }
  });

  it('an HTML report that cannot be written holds back neither the summary nor the alert, and then fails the run', async () => {
    const { server, bodies } = await webhookReceiver();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const dir = await tempDir();
      await day(dir, '2025-03-09', 100, 90);
      const config = await writeConfig(dir, { sites: ['US'], alerts: { webhookUrlEnv: 'PARITY_TEST_WEBHOOK' } });
      const out = path.join(dir, 'out');
      // A folder, not empty, where the run's HTML report goes: it cannot be replaced.
      await mkdir(path.join(out, 'report-2025-03-09_2025-03-09.html'), { recursive: true });
      await writeFile(path.join(out, 'report-2025-03-09_2025-03-09.html', 'keep'), 'x');
      const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--format', 'json'];
      const cli = await runCli(args, undefined, { PARITY_TEST_WEBHOOK: url });
      expect(cli.code).toBe(5);
      expect(JSON.parse(cli.stdout)).toEqual([expect.objectContaining({ date: '2025-03-09', status: 'FAIL' })]);
      expect(bodies).toHaveLength(1);
      expect((JSON.parse(bodies[0]!) as { text: string }).text).toContain('2025-03-09: FAIL: US 90 %');
      expect(parseCsv(await readFile(path.join(out, 'parity-2025-03-09.csv'), 'utf8')).at(-1)).toMatchObject({
        status: 'FAIL',
      });
      const last = cli.stderr.trim().split('\n').at(-1)!;
      expect(last).toContain('cannot write');
      expect(last).toContain('report-2025-03-09_2025-03-09.html');
      expect(last).toContain("the days' reports were written, and the summary, alert and history the run gives");
    } finally {
      server.close();
    }
  });

  it('a webhook that cannot be reached is a warning that says why (the errno code), never the URL', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const dir = await tempDir();
    await day(dir, '2025-03-09', 100, 90);
    const config = await writeConfig(dir, { alerts: { webhookUrlEnv: 'PARITY_TEST_WEBHOOK' } });
    const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out')];
    const url = `http://127.0.0.1:${port}/hooks/T000/SECRET-TOKEN`;
    const cli = await runCli(args, undefined, { PARITY_TEST_WEBHOOK: url });
    const run = { code: cli.code, err: cli.stderr };
    expect(run.code).toBe(1);
    expect(run.err).toContain('alert not sent: TypeError (ECONNREFUSED)');
    expect(run.err).not.toContain('SECRET-TOKEN');
  });

  it('a webhook variable that is not set or holds no URL is said as the run begins, naming the key; --no-alert is quiet', async () => {
    const dir = await tempDir();
    await day(dir, '2025-03-09', 100, 100); // a PASS day: no alert is due, yet the run says it could send none
    const config = await writeConfig(dir, { sites: ['US'], alerts: { webhookUrlEnv: 'PARITY_TEST_NOT_SET' } });
    const out = path.join(dir, 'out');
    const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--log-format', 'json'];
    for (const value of [undefined, 'not-a-url']) {
      const run = await runCli(args, undefined, value === undefined ? {} : { PARITY_TEST_NOT_SET: value });
      expect(run.code).toBe(0);
      const lines = logLines(run.stderr);
      const said = lines.findIndex((l) => l.alert_unusable === 'PARITY_TEST_NOT_SET');
      expect(lines[said]).toMatchObject({ severity: 'WARNING' });
      expect(String(lines[said]!.message)).toMatch(
        /^alerts\.webhookUrlEnv: PARITY_TEST_NOT_SET (is not set|does not hold an http\(s\) URL): this run can send no alert/,
      );
      // Before anything is read.
      expect(said).toBeLessThan(lines.findIndex((l) => String(l.message).includes('counting')));
    }
    const quiet = await runCli([...args, '--no-alert']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('alert_unusable');
  });

  it('a webhook URL fetch refuses says why, never the URL: one with a password, one on a port fetch blocks', async () => {
    const dir = await tempDir();
    await day(dir, '2025-03-09', 100, 90);
    const config = await writeConfig(dir, { alerts: { webhookUrlEnv: 'PARITY_TEST_WEBHOOK' } });
    const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out')];
    const withPassword = await runCli(args, undefined, {
      PARITY_TEST_WEBHOOK: 'https://bot:SECRET-TOKEN@hooks.example.com/T000',
    });
    expect(withPassword.code).toBe(1);
    expect(withPassword.stderr).toContain(
      'alerts.webhookUrlEnv: PARITY_TEST_WEBHOOK holds a URL with a user or password, which cannot be posted to',
    );
    expect(withPassword.stderr).not.toContain('SECRET-TOKEN');
    // Port 6000 (X11) is on fetch's list of ports it never connects to.
    const badPort = await runCli(args, undefined, { PARITY_TEST_WEBHOOK: 'http://127.0.0.1:6000/SECRET-TOKEN' });
    expect(badPort.stderr).toContain('alert not sent: TypeError (bad port)');
    expect(badPort.stderr).not.toContain('SECRET-TOKEN');
  });

  it('a run stopped while its alert is posted ends as stopped (143), with no closing line that says otherwise', async () => {
    // A webhook that never answers: the post is under way when the signal comes.
    let posted!: () => void;
    const reached = new Promise<void>((r) => (posted = r));
    const server = createServer(() => posted());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const dir = await tempDir();
      await day(dir, '2025-03-09', 100, 90);
      const config = await writeConfig(dir, { alerts: { webhookUrlEnv: 'PARITY_TEST_WEBHOOK' } });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const child = spawn(
        process.execPath,
        [CLI, 'reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out')],
        { env: { ...process.env, NODE_OPTIONS: '', PARITY_TEST_WEBHOOK: url } },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      void reached.then(() => child.kill('SIGTERM'));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(code).toBe(143);
      const lines = stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((l) => l.message === 'run finished')).toEqual([]);
      expect(lines.at(-1)).toMatchObject({ severity: 'ERROR', exit_code: 143 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

/** A folder with `parts` gzip objects of 300,000 ids each on both file tiers, every one landed: a run long enough to stop. */
async function bigDay(parts: number): Promise<string> {
  const dir = await tempDir();
  const ids = Array.from({ length: 300_000 }, (_, i) => i);
  for (let part = 0; part < parts; part++) {
    await writeNdjson(
      path.join(dir, `proxy/dt=2025-03-09/p${part}.jsonl.gz`),
      ids.map((i) => rec(`${part}-${i}`, '2025-03-09T12:00:00Z', 200)),
    );
    await writeNdjson(
      path.join(dir, `landed/dt=2025-03-09/p${part}.jsonl.gz`),
      ids.map((i) => rec(`${part}-${i}`, '2025-03-09T12:00:00Z')),
    );
  }
  return dir;
}

describe('stopping', () => {
  it('SIGTERM aborts in-flight work and leaves no partial report', async () => {
    const dir = await bigDay(3);
    const out = path.join(dir, 'out');
    const child = spawn(process.execPath, [
      CLI,
      'reconcile',
      '--config',
      await writeConfig(dir),
      '--date',
      '2025-03-09',
      '--out',
      out,
      '--log-format',
      'json',
    ]);
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('counting')) {
        sent = true; // once: a second SIGTERM would end the process at once, as a second Ctrl-C does
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(143);
    expect(stderr).toContain('no partial report was written');
    const left = await readdir(out).catch(() => [] as string[]);
    expect(left.filter((f) => f.endsWith('.tmp') || f.startsWith('parity-') || f.startsWith('missing-'))).toEqual([]);
  }, 120_000);

  it('a second Ctrl-C ends the run at once, and still lets go of the output folder', async () => {
    const dir = await bigDay(2);
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir);
    const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--log-format', 'json'];
    const child = spawn(process.execPath, [CLI, ...args]);
    let stderr = '';
    let sent = 0;
    let lease = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (sent === 0 && stderr.includes('counting')) {
        lease = existsSync(path.join(out, '.parity-run.lock'));
        sent = 1;
        child.kill('SIGINT');
        // The impatient second press, while the first stops the run (apart: signals of one kind sent at
        // once may arrive as one).
        setTimeout(() => {
          child.kill('SIGINT');
          sent = 2;
        }, 5);
      }
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(sent).toBe(2);
    expect(lease).toBe(true); // the run held the folder when it was stopped
    expect(code).toBe(130);
    expect(stderr).toContain('SIGINT again: stopped at once');
    const left = await readdir(out).catch(() => [] as string[]);
    // No lease left to wait out, and no report of the day.
    expect(left.filter((f) => f.startsWith('.parity-run.lock') || /^(parity|missing|manifest)-/.test(f))).toEqual([]);
    // The next run is not held back: it takes the folder and writes the day.
    const next = await runCli(args);
    expect(next.stderr).not.toContain('EBUSY');
    expect(next.code).toBe(1); // the verdict's: CA and MX have no data that day (NO_DATA), not 5 for a held folder
    expect(await readdir(out)).toContain('parity-2025-03-09.csv');
  }, 120_000);
});
