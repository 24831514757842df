import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { CLI, lastLogLine, runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const rec = (rid: string, ts: string, status?: number) => ({
  timestamp: ts,
  request_id: rid,
  site: 'US',
  ...(status ? { status } : {}),
});

/** Proxy and landed data for a day: the first `landed` of `accepted` ids land. `gz` writes gzip, which is staged. */
async function day(dir: string, d: string, accepted: number, landed: number, gz = false): Promise<void> {
  const ids = Array.from({ length: accepted }, (_, i) => `${d}-${i}`);
  const ext = gz ? 'jsonl.gz' : 'jsonl';
  await writeNdjson(
    path.join(dir, `proxy/dt=${d}/a.${ext}`),
    ids.map((id) => rec(id, `${d}T12:00:00Z`, 200)),
  );
  await writeNdjson(
    path.join(dir, `landed/dt=${d}/a.${ext}`),
    ids.slice(0, landed).map((id) => rec(id, `${d}T12:00:00Z`)),
  );
}

/** Every file of a folder with its sha256: what "the old reports are byte-identical" compares. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    out[name] = createHash('sha256')
      .update(await readFile(path.join(dir, name)))
      .digest('hex');
  }
  return out;
}

interface Stopped {
  code: number | null;
  stderr: string;
  /** Whether the SIGTERM was sent (the condition came true before the run ended). */
  sent: boolean;
}

/**
 * Runs the built CLI and sends it one `signal` (SIGTERM) as soon as `ready(stderr)` holds (checked
 * on every stderr chunk and every 5 ms). A run still alive after `limitMs` is killed, so a hang fails the test.
 */
function runAndStop(
  args: string[],
  ready: (stderr: string) => Promise<boolean> | boolean,
  limitMs = 150_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    let sent = false;
    let checking = false;
    const check = async () => {
      if (sent || checking) return;
      checking = true;
      try {
        if (await ready(stderr)) {
          sent = true; // once: a second SIGTERM is not what a Kubernetes pod gets
          child.kill(signal);
        }
      } finally {
        checking = false;
      }
    };
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      void check();
    });
    const poll = setInterval(() => void check(), 5);
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(killer);
      resolve({ code, stderr, sent });
    });
  });
}

const listing = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();
const temporaries = async (dir: string) => (await listing(dir)).filter((f) => f.endsWith('.tmp'));
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

describe('a stopped run commits nothing', () => {
  it('SIGTERM while the missing list streams out leaves the previous reports byte-identical and commits no new file (exit 143)', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'] });
    const D = '2025-04-16';
    // A previous run's reports, over other data.
    await day(dir, D, 50, 45);
    expect((await runCli(['reconcile', '--config', config, '--date', D, '--out', out, '--quiet'])).code).toBe(1);
    const before = await snapshot(out);
    expect(Object.keys(before)).toEqual([
      `manifest-${D}.json`,
      `missing-${D}.csv`,
      `parity-${D}.csv`,
      `report-${D}_${D}.html`,
      `windows-${D}.csv`,
    ]);
    // The issue's day: 100,000 accepted ids of which 10,000 landed, so 90,000 rows of missing list.
    await day(dir, D, 100_000, 10_000);
    const run = await runAndStop(
      ['reconcile', '--config', config, '--date', D, '--out', out, '--log-format', 'json'],
      // Mid-stream: the temporary file has had its first megabyte written (rows are flushed a MiB at a time).
      async () => (await midMissingList(out, D)) !== null,
    );
    expect(run.sent).toBe(true);
    expect(run.code).toBe(143);
    expect(run.stderr).toContain('no partial report was written');
    // With JSON logs the stop is a JSON ERROR line too, the run's last, with its exit code.
    expect(lastLogLine(run.stderr)).toMatchObject({ severity: 'ERROR', exit_code: 143 });
    expect(await snapshot(out)).toEqual(before);
    expect(await temporaries(out)).toEqual([]);
    // Run to its end, the same day's list holds all 90,000 ids.
    const again = await runCli(['reconcile', '--config', config, '--date', D, '--out', out, '--quiet']);
    expect(again.code).toBe(1);
    const missing = (await readFile(path.join(out, `missing-${D}.csv`), 'utf8')).split('\r\n').filter(Boolean);
    expect(missing).toHaveLength(1 + 90_000);
  }, 300_000);

  it('SIGTERM while objects are staged leaves the previous reports byte-identical and removes the scratch folder', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const scratch = path.join(dir, 'scratch');
    await mkdir(scratch);
    const config = await writeConfig(dir, { sites: ['US'], engine: { tempDirectory: scratch } });
    const D = '2025-04-17';
    await day(dir, D, 30, 30);
    expect((await runCli(['reconcile', '--config', config, '--date', D, '--out', out, '--quiet'])).code).toBe(0);
    const before = await snapshot(out);
    await day(dir, D, 200_000, 200_000, true);
    // gzip objects are read in place (no staged copy shows in the scratch folder): stop as soon as the
    // run says it is counting the staged objects, while the engine reads them and their gzip is checked.
    const staging = (stderr: string) => /proxy: counting \d+ objects/.test(stderr);
    const run = await runAndStop(
      ['reconcile', '--config', config, '--date', D, '--out', out, '--log-format', 'json'],
      staging,
    );
    expect(run.sent).toBe(true);
    expect(run.code).toBe(143);
    expect(await snapshot(out)).toEqual(before);
    expect(await listing(scratch)).toEqual([]);
  }, 300_000);

  it('SIGTERM while a GCS endpoint holds a request unanswered ends the run at once (143), not after the timeouts', async () => {
    // An endpoint that takes the connection and never answers: each attempt waits out the client's 60 s.
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const dir = await tempDir();
      const D = '2025-04-17';
      await day(dir, D, 3, 3);
      const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const config = await writeConfig(dir, { sites: ['US'], gcs: ['gs://landed-bucket/dt={date}/'] });
      const doc = JSON.parse(await readFile(config, 'utf8')) as { tiers: { gcs: Record<string, unknown> } };
      doc.tiers.gcs.apiEndpoint = endpoint;
      await writeFile(config, JSON.stringify(doc));
      const started = Date.now();
      // Stopped a second after the run has begun counting: the bucket's request is then under way, unanswered.
      let counting = 0;
      const run = await runAndStop(
        ['reconcile', '--config', config, '--date', D, '--out', path.join(dir, 'out'), '--log-format', 'json'],
        (stderr) => /proxy: counting \d+ objects/.test(stderr) && Date.now() - (counting ||= Date.now()) > 1_000,
        30_000,
      );
      expect(run.sent).toBe(true);
      // Before 0.3.7 the first SIGTERM left it waiting on the request (minutes): the test's SIGKILL, at 30 s.
      expect(run.code).toBe(143);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      silent.close();
    }
  }, 60_000);

  it('SIGTERM between the days of a range keeps the days already written whole and the later days as they were', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'], engine: { batchDays: 1 } });
    const days = ['2025-04-18', '2025-04-19', '2025-04-20'];
    for (const d of days) await day(dir, d, 20, 19);
    const range = ['--from', days[0]!, '--to', days[2]!, '--out', out];
    expect((await runCli(['reconcile', '--config', config, ...range, '--quiet'])).code).toBe(1);
    const before = await snapshot(out);
    for (const d of days) await day(dir, d, 100_000, 99_000);
    // Stop once the first day's reports are committed (its summary line is logged after the renames).
    const run = await runAndStop(['reconcile', '--config', config, ...range, '--log-format', 'json'], (stderr) =>
      stderr.includes(`"message":"${days[0]}: `),
    );
    expect(run.sent).toBe(true);
    expect(run.code).toBe(143);
    const after = await snapshot(out);
    // The first day is new and whole: its manifest vouches for the files beside it.
    const manifest = JSON.parse(await readFile(path.join(out, `manifest-${days[0]}.json`), 'utf8')) as {
      files: { parity: { name: string; sha256: string }; missing: { name: string; sha256: string } };
    };
    expect(after[`parity-${days[0]}.csv`]).not.toBe(before[`parity-${days[0]}.csv`]);
    expect(manifest.files.parity.sha256).toBe(after[manifest.files.parity.name]);
    expect(manifest.files.missing.sha256).toBe(after[manifest.files.missing.name]);
    expect(
      (await readFile(path.join(out, `missing-${days[0]}.csv`), 'utf8')).split('\r\n').filter(Boolean),
    ).toHaveLength(1 + 1_000);
    // The others, and the run's HTML report, are as the previous run left them.
    for (const d of days.slice(1)) {
      for (const f of [`parity-${d}.csv`, `missing-${d}.csv`, `manifest-${d}.json`]) expect(after[f]).toBe(before[f]);
    }
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(after[`report-${days[0]}_${days[2]}.html`]).toBe(before[`report-${days[0]}_${days[2]}.html`]);
  }, 300_000);
});

/** The name of the missing list's temporary file in `out` once its first megabyte is written, else null. */
async function midMissingList(out: string, day: string): Promise<string | null> {
  const tmp = (await listing(out)).find((f) => f.startsWith(`.missing-${day}.csv.`) && f.endsWith('.tmp'));
  const size = tmp === undefined ? 0 : ((await stat(path.join(out, tmp)).catch(() => null))?.size ?? 0);
  return size > 0 ? tmp! : null;
}

describe('leftovers of a killed run', () => {
  it("the run after a kill -9 removes the killed run's temporary report and scratch folder, and logs them", async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const scratch = path.join(dir, 'scratch');
    await mkdir(scratch);
    const D = '2025-04-26';
    await day(dir, D, 100_000, 10_000);
    const config = await writeConfig(dir, { sites: ['US'], engine: { tempDirectory: scratch } });
    const args = ['reconcile', '--config', config, '--date', D, '--out', out, '--log-format', 'json'];
    const killed = await runAndStop(args, async () => (await midMissingList(out, D)) !== null, 150_000, 'SIGKILL');
    expect(killed.sent).toBe(true);
    expect(killed.code).toBeNull();
    const tmp = await temporaries(out);
    const runs = await listing(scratch);
    expect(tmp).toHaveLength(1);
    expect(runs).toHaveLength(1);
    const rerun = await runCli(args);
    expect(rerun.code).toBe(1);
    expect(await temporaries(out)).toEqual([]);
    expect(await listing(scratch)).toEqual([]);
    const line = rerun.stderr.split('\n').find((l) => l.includes('leftovers'));
    expect(line).toContain(tmp[0]);
    expect(line).toContain(runs[0]);
  }, 300_000);

  it("removes its own stale temporaries and scratch folders whose process is gone, keeps a live process's, and says so", async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const scratch = path.join(dir, 'scratch');
    const D = '2025-04-21';
    await day(dir, D, 10, 10);
    const config = await writeConfig(dir, { sites: ['US'], engine: { tempDirectory: scratch } });
    // A pid no process has any more: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    expect(Number(dead)).toBeGreaterThan(0);
    const live = process.pid;
    await mkdir(out, { recursive: true });
    const staleTmp = `.missing-${D}.csv.${dead}.0a1b2c3d.tmp`;
    const liveTmp = `.parity-${D}.csv.${live}.0a1b2c3d.tmp`;
    const foreign = `.notes.txt.${dead}.0a1b2c3d.tmp.keep`;
    for (const f of [staleTmp, liveTmp, foreign]) await writeFile(path.join(out, f), 'partial');
    const staleScratch = `audit-parity-${dead}-AbC123`;
    const liveScratch = `audit-parity-${live}-XyZ789`;
    const other = 'audit-parity-scratch-of-someone';
    for (const d of [staleScratch, liveScratch, other]) {
      await mkdir(path.join(scratch, d, 'batch-x'), { recursive: true });
      await writeFile(path.join(scratch, d, 'batch-x', 'proxy-0.ndjson'), '{}\n');
    }
    const run = await runCli(['reconcile', '--config', config, '--date', D, '--out', out, '--log-format', 'json']);
    expect(run.code).toBe(0);
    const outFiles = await listing(out);
    expect(outFiles).not.toContain(staleTmp);
    expect(outFiles).toEqual(expect.arrayContaining([liveTmp, foreign, `parity-${D}.csv`]));
    expect(await listing(scratch)).toEqual([liveScratch, other].sort());
    const line = run.stderr.split('\n').find((l) => l.includes('leftovers'));
    expect(line).toBeDefined();
    expect(line).toContain(staleTmp);
    expect(line).toContain(staleScratch);
  });
});

describe('a resumed backfill', () => {
  it('writes an HTML report over its whole range, the skipped days read back from their reports', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US', 'CA'], engine: { batchDays: 1 } });
    const days = ['2025-04-01', '2025-04-02', '2025-04-03'];
    const sizes = [40, 50, 60];
    for (const [i, d] of days.entries()) await day(dir, d, sizes[i]!, sizes[i]! - 1);
    // Killed after two days: the first backfill made only those.
    expect(
      (await runCli(['backfill', '--config', config, '--from', days[0]!, '--to', days[1]!, '--out', out, '--quiet']))
        .code,
    ).toBe(1);
    const resumed = await runCli([
      ...['backfill', '--config', config, '--from', days[0]!, '--to', days[2]!, '--out', out],
      ...['--format', 'table'],
    ]);
    expect(resumed.code).toBe(1);
    expect(resumed.stdout).toContain('skipped 2 current days');
    const name = `report-${days[0]}_${days[2]}.html`;
    expect(await listing(out)).toContain(name);
    expect(await listing(out)).not.toContain(`report-${days[2]}_${days[2]}.html`);
    const html = await readFile(path.join(out, name), 'utf8');
    for (const [i, d] of days.entries()) {
      expect(html).toContain(`id="day-${d}"`);
      expect(html).toContain(`>${sizes[i]!}<`);
    }
    // Every day skipped: the report is still the range's, the same bytes as when one was redone.
    const first = await sha256(path.join(out, name));
    const allSkipped = await runCli([
      'backfill',
      '--config',
      config,
      '--from',
      days[0]!,
      '--to',
      days[2]!,
      '--out',
      out,
      '--format',
      'table',
    ]);
    expect(allSkipped.stdout).toContain('skipped 3 current days');
    expect(await sha256(path.join(out, name))).toBe(first);
  });
});

describe('manifest durationMs', () => {
  it("covers the day's reading, not only the writing of its files", async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const D = '2025-04-23';
    // Everything lands: the files written are small, the reading is most of the run.
    await day(dir, D, 300_000, 300_000);
    const config = await writeConfig(dir, { sites: ['US'] });
    const run = await runCli(['reconcile', '--config', config, '--date', D, '--out', out, '--log-format', 'json']);
    expect(run.code).toBe(0);
    const logs = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: string; message: string });
    const at = (pred: (m: string) => boolean) => Date.parse(logs.find((l) => pred(l.message))!.time);
    // From the first tier counted to the day's summary line: reading and counting, then writing.
    const counted = at((m) => m.startsWith('proxy: counting'));
    const written = at((m) => m.startsWith(`${D}: `));
    const manifest = JSON.parse(await readFile(path.join(out, `manifest-${D}.json`), 'utf8')) as { durationMs: number };
    expect(written - counted).toBeGreaterThan(0);
    expect(manifest.durationMs).toBeGreaterThanOrEqual(0.5 * (written - counted));
  }, 180_000);
});

describe('--out that cannot hold reports', () => {
  it('names --out and exits 2 before reading anything when it is an existing file', async () => {
    const dir = await tempDir();
    const D = '2025-04-24';
    await day(dir, D, 10, 10);
    const file = path.join(dir, 'reports');
    await writeFile(file, 'not a folder');
    const run = await runCli([
      'reconcile',
      '--config',
      await writeConfig(dir),
      '--date',
      D,
      '--out',
      file,
      '--log-format',
      'json',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--out');
    expect(run.stderr).toContain(file);
    expect(run.stderr).not.toContain('counting');
    expect(run.stderr).not.toContain('    at ');
    expect(await readFile(file, 'utf8')).toBe('not a folder');
  });

  it('fails fast, exit 2 naming --out, for a folder that cannot exist (/proc/x), instead of hanging', async () => {
    const dir = await tempDir();
    const D = '2025-04-24';
    await day(dir, D, 10, 10);
    const started = Date.now();
    const run = await runAndStop(
      [
        'reconcile',
        '--config',
        await writeConfig(dir),
        '--date',
        D,
        '--out',
        '/proc/x/reports',
        '--log-format',
        'json',
      ],
      () => false,
      30_000,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--out');
    expect(run.stderr).toContain('/proc/x/reports');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});

describe('a full disk', () => {
  it('names the file that could not be written and why, exits 5 and keeps the previous reports whole', async () => {
    const dir = await tempDir();
    const D = '2025-04-25';
    const config = await writeConfig(dir, { sites: ['US'] });
    // The previous reports, made on a roomy disk, then placed on a 64 KiB one.
    const roomy = path.join(dir, 'roomy');
    await day(dir, D, 40, 38);
    expect((await runCli(['reconcile', '--config', config, '--date', D, '--out', roomy, '--quiet'])).code).toBe(1);
    const before = await snapshot(roomy);
    // This day's missing list (19,999 rows) is far larger than what is left there.
    await day(dir, D, 20_000, 1);
    const full = path.join(dir, 'full');
    const after = path.join(dir, 'after');
    await mkdir(full);
    await mkdir(after);
    // A private mount namespace: the tmpfs goes with the process, whatever happens to the test.
    // As root (CI) `unshare -m`; otherwise a user namespace maps the user to root for the mount.
    const root = process.getuid?.() === 0;
    const script = [
      'set -u',
      `mount -t tmpfs -o size=64k tmpfs "$1"`,
      `cp "$2"/*.csv "$2"/*.json "$1"/`,
      `"$3" "$4" reconcile --config "$5" --date ${D} --out "$1" --log-format json; rc=$?`,
      `ls -A "$1" > "$6/listing"`,
      `cp "$1"/* "$6"/`,
      'exit $rc',
    ].join('\n');
    const run = spawnSync(
      'unshare',
      [...(root ? ['-m'] : ['-r', '-m']), 'sh', '-c', script, 'sh', full, roomy, process.execPath, CLI, config, after],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 120_000 },
    );
    expect(run.error).toBeUndefined();
    expect(run.stderr).toContain(`cannot write ${path.join(full, `missing-${D}.csv`)}`);
    expect(run.stderr).toContain('ENOSPC');
    expect(run.stderr).not.toContain('internal error');
    expect(run.status).toBe(5);
    expect(lastLogLine(run.stderr)).toMatchObject({ severity: 'ERROR', exit_code: 5 });
    const left = (await readFile(path.join(after, 'listing'), 'utf8')).split('\n').filter(Boolean).sort();
    expect(left).toEqual(Object.keys(before).filter((f) => !f.endsWith('.html')));
    const kept = await snapshot(after);
    for (const f of left) expect(kept[f]).toBe(before[f]);
    expect((await stat(path.join(after, `missing-${D}.csv`))).size).toBeGreaterThan(0);
  }, 180_000);
});

describe('a folder where a report file goes', () => {
  it('is exit 5 naming it, whichever file it stands for, never exit 4 (a bug)', async () => {
    const dir = await tempDir();
    const D = '2025-04-25';
    const config = await writeConfig(dir, { sites: ['US'] });
    await day(dir, D, 40, 38);
    // mismatch- is removed when the day has none (compare is off): its rm threw Node's ERR_FS_EISDIR, exit 4
    // before 0.3.7; the files written before it were left without a manifest.
    for (const [name, kept] of [
      [
        `mismatch-${D}.csv`,
        "the day's other new reports are in place, without a new manifest: the next run redoes the day",
      ],
      [`parity-${D}.csv`, "its previous version, and the rest of that day's reports, are left as they were"],
    ]) {
      const out = path.join(dir, `out-${name}`);
      await mkdir(path.join(out, name!), { recursive: true });
      const run = await runCli(['reconcile', '--config', config, '--date', D, '--out', out, '--log-format', 'json']);
      expect([name, run.code]).toEqual([name, 5]);
      expect(lastLogLine(run.stderr).message).toBe(
        `cannot write ${path.join(out, name!)}: a folder is in the way of the report file — move it away (EISDIR); ${kept}`,
      );
    }
  });
});
