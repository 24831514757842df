import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lastLogLine, logLines, parseCsv, runCli, tempDir, writeConfig } from '../support/files.js';

describe('messages about a location', () => {
  it('a location whose fixed part does not exist names both the folder and its config key path, exit 3', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'landed'), { recursive: true });
    const config = await writeConfig(dir, {
      proxy: ['no-such-proxy/dt={date}/'],
      gcs: ['landed/dt={date}/', 'no-such-landed/{yyyy}/{MM}/{dd}/'],
    });
    const run = await runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', path.join(dir, 'out')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `proxy: ${path.join(dir, 'no-such-proxy')}/: folder does not exist (ENOENT) — check tiers.proxy.locations[0]`,
    );
    expect(run.stderr).toContain(
      `gcs: ${path.join(dir, 'no-such-landed')}/: folder does not exist (ENOENT) — check tiers.gcs.locations[1]`,
    );
  });
});

describe('an --out a file tier would list', () => {
  it("is refused, naming --out and the location; reached through a link, its files are not read as the tier's", async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'proxy'), { recursive: true });
    await writeFile(
      path.join(dir, 'proxy', 'access.jsonl'),
      JSON.stringify({ timestamp: '2025-03-09T10:00:00Z', request_id: 'r1', site: 'US', status: 200 }) + '\n',
    );
    await mkdir(path.join(dir, 'landed'), { recursive: true });
    await writeFile(
      path.join(dir, 'landed', 'part.jsonl'),
      JSON.stringify({ timestamp: '2025-03-09T10:00:00Z', request_id: 'r1', site: 'US' }) + '\n',
    );
    const config = await writeConfig(dir, { sites: ['US'], proxy: ['proxy/'], gcs: ['landed/'] });
    const inside = path.join(dir, 'landed', 'reports');
    const run = await runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', inside]);
    expect(run.code).toBe(2);
    expect(lastLogLine(run.stderr).message).toBe(
      `--out: "${inside}" is inside tiers.gcs.locations[0]: the tier would read the reports as records`,
    );
    await expect(readdir(inside)).rejects.toMatchObject({ code: 'ENOENT' });
    // A link that leads there is refused too (before the fix, its reports and lease landed in the data folder, whose
    // files the listing then skipped), and --dry-run refuses what the run refuses.
    const sub = path.join(dir, 'landed', 'sub');
    await mkdir(sub);
    await symlink(sub, path.join(dir, 'linked-out'));
    for (const extra of [[], ['--dry-run']]) {
      const linked = await runCli([
        'reconcile',
        '--config',
        config,
        '--date',
        '2025-03-09',
        '--out',
        path.join(dir, 'linked-out'),
        ...extra,
      ]);
      expect([extra, linked.code]).toEqual([extra, 2]);
      expect(lastLogLine(linked.stderr).message).toContain('is inside tiers.gcs.locations[0]');
    }
    expect(await readdir(sub)).toEqual([]);
    // Data below the --out folder (the demo's layout), named as a manifest, is data: only the reports' own are skipped.
    const above = path.join(dir, 'above');
    await mkdir(path.join(above, 'data', 'dt=2025-03-09'), { recursive: true });
    await writeFile(
      path.join(above, 'data', 'dt=2025-03-09', 'manifest-2025-03-09.json'),
      JSON.stringify({ timestamp: '2025-03-09T10:00:00Z', request_id: 'r1', site: 'US' }) + '\n',
    );
    const below = await writeConfig(
      dir,
      { sites: ['US'], proxy: ['proxy/'], gcs: ['above/data/dt={date}/'] },
      'below.json',
    );
    expect((await runCli(['reconcile', '--config', below, '--date', '2025-03-09', '--out', above])).code).toBe(0);
    expect(parseCsv(await readFile(path.join(above, 'parity-2025-03-09.csv'), 'utf8')).at(-1)).toMatchObject({
      gcs_records: '1',
    });
    // Outside it, but linked from it: the reports' manifests (.json) are not the tier's objects (before 0.3.7 each
    // run counted the last one's as malformed lines, more each run).
    const out = path.join(dir, 'out');
    await mkdir(out);
    await symlink(out, path.join(dir, 'landed', 'reports-link'));
    const parities: string[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', out])).code).toBe(0);
      parities.push(await readFile(path.join(out, 'parity-2025-03-09.csv'), 'utf8'));
    }
    expect(new Set(parities).size).toBe(1);
    expect(parseCsv(parities[0]!).find((r) => r.site === 'ALL')).toMatchObject({
      gcs_records: '1',
      gcs_malformed: '0',
    });
  });
});

describe('messages about the engine', () => {
  it('an engine.tempDirectory that is no folder is a config error naming the key, before anything is read (exit 2)', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'a-file'), '');
    const out = path.join(dir, 'out');
    for (const temp of [path.join(dir, 'a-file'), path.join(dir, 'a-file', 'below')]) {
      const config = await writeConfig(dir, { engine: { tempDirectory: temp } });
      const run = await runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', out]);
      expect(run.code).toBe(2);
      // Off a terminal the log is JSON: the run's last line is an ERROR line with the exit code.
      const last = lastLogLine(run.stderr);
      expect(last).toMatchObject({ severity: 'ERROR', exit_code: 2 });
      expect(last.message).toBe(
        `engine.tempDirectory: "${temp}" cannot hold the run's scratch files: a part of the path is a file, not a folder — choose a folder (ENOTDIR)`,
      );
      expect(run.stderr).not.toContain('internal error');
      // The --out folder this refused run would have made is not left behind, empty (before 0.3.7 it was).
      await expect(readdir(out)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    // No engine.tempDirectory: the OS temp folder must take the scratch files, else exit 2 naming TMPDIR (before
    // 0.3.7 exit 4, a bug; a container with a read-only root and no volume at /tmp), for the demo too.
    const plain = await writeConfig(dir, {});
    const tmp = { TMPDIR: path.join(dir, 'a-file', 'tmp') };
    for (const args of [
      ['reconcile', '--config', plain, '--date', '2025-03-09', '--out', out],
      ['demo', '--out', out],
    ]) {
      const run = await runCli(args, undefined, tmp);
      expect([args[0], run.code]).toEqual([args[0], 2]);
      // (demo logs as text, off a terminal too)
      const said = args[0] === 'demo' ? run.stderr.trim().replace(/^error: /, '') : lastLogLine(run.stderr).message;
      expect(said).toBe(
        `TMPDIR: the OS temp folder "${tmp.TMPDIR}" cannot hold the run's scratch files: a part of the path is a file, ` +
          'not a folder — choose a folder (ENOTDIR); set TMPDIR or engine.tempDirectory to a writable folder ' +
          '(a container with a read-only root file system needs a volume at /tmp)',
      );
      await expect(readdir(out)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    // A folder that was there before the run stays, empty as it was.
    await mkdir(out);
    const config = await writeConfig(dir, { engine: { tempDirectory: path.join(dir, 'a-file') } });
    expect((await runCli(['reconcile', '--config', config, '--date', '2025-03-09', '--out', out])).code).toBe(2);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('messages about days', () => {
  it('a day that has not begun in any configured zone is exit 2 naming the flag; one not over is counted, with a warning', async () => {
    const dir = await tempDir();
    // Two levels the run would make: neither is left behind by a refused day (before 0.3.7 both were, empty).
    const out = path.join(dir, 'out', 'reports');
    // Pacific/Kiritimati (UTC+14) is the first zone into a day: the day after its today has begun nowhere.
    const config = await writeConfig(dir, { sites: ['US'], timezone: 'Pacific/Kiritimati' });
    const kiritimatiToday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Kiritimati' }).format(new Date());
    const after = (days: number) =>
      new Date(Date.parse(`${kiritimatiToday}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    const [next, inAYear] = [after(1), after(365)];
    for (const [args, flag] of [
      [['reconcile', '--date', next], '--date'],
      [['reconcile', '--from', '2025-03-09', '--to', next], '--to'],
      [['reconcile', '--from', next, '--to', next], '--to'],
      [['backfill', '--from', '2025-03-09', '--to', inAYear], '--to'],
      [['daily', '--as-of', next], '--as-of'],
    ] as const) {
      const run = await runCli([...args, '--config', config, '--out', out, '--log-format', 'json']);
      expect([args, run.code]).toEqual([args, 2]);
      expect(lastLogLine(run.stderr).message).toMatch(
        new RegExp(`^${flag}: \\d{4}-\\d\\d-\\d\\d has not begun in any configured zone`),
      );
    }
    await expect(readdir(path.join(dir, 'out'))).rejects.toMatchObject({ code: 'ENOENT' });
    // Today there is under way: counted, and said to be partial.
    const run = await runCli([
      'reconcile',
      '--config',
      config,
      '--date',
      kiritimatiToday,
      '--out',
      out,
      '--log-format',
      'json',
    ]);
    expect(run.stderr).toContain(`"days_not_over":["${kiritimatiToday}"]`);
    expect(await readdir(out)).toContain(`parity-${kiritimatiToday}.csv`);
    // A backfill to a day not over: the day's report is redone by the next backfill, not skipped as current.
    const backfill = ['backfill', '--config', config, '--from', kiritimatiToday, '--to', kiritimatiToday];
    const first = await runCli([...backfill, '--out', path.join(dir, 'bf'), '--format', 'table']);
    expect(first.stderr).toContain('days_not_over');
    const again = await runCli([...backfill, '--out', path.join(dir, 'bf'), '--format', 'table']);
    expect(again.stdout).not.toContain('skipped');
    // daily with a site in a zone of its own: yesterday of the first zone may be today of the last.
    const zoned = await writeConfig(
      dir,
      { sites: ['US', { code: 'AS', timezone: 'Pacific/Pago_Pago' }], timezone: 'Pacific/Kiritimati' },
      'zoned.json',
    );
    const daily = await runCli(['daily', '--config', zoned, '--as-of', kiritimatiToday, '--out', path.join(dir, 'd')]);
    // (Pago Pago is 25 hours behind: one day or, in Kiritimati's first hour, two.)
    expect(daily.stderr).toMatch(new RegExp(`"days_not_over":\\[[^\\]]*"${after(-1)}"\\]`));
  });

  it('a day outside 1970 to 9999, or one a zone does not cut on a quarter hour, is exit 2 naming the flag or key', async () => {
    const dir = await tempDir();
    for (const tier of ['proxy', 'landed']) {
      await mkdir(path.join(dir, `${tier}/dt=1971-06-01`), { recursive: true });
      await writeFile(
        path.join(dir, `${tier}/dt=1971-06-01/a.jsonl`),
        '{"timestamp":"1971-06-01T12:00:00Z","request_id":"a","site":"US","status":200}\n',
      );
    }
    // Africa/Monrovia kept −0:44:30 until 1972: its days of then start off the quarter hours the engine counts by.
    const config = await writeConfig(dir, { sites: ['US'], timezone: 'Africa/Monrovia' });
    const run = (date: string) =>
      runCli(['reconcile', '--config', config, '--date', date, '--out', path.join(dir, 'out'), '--log-format', 'json']);
    const monrovia = await run('1971-06-01');
    expect([monrovia.code, lastLogLine(monrovia.stderr).message]).toEqual([
      2,
      expect.stringMatching(/^timezone: Africa\/Monrovia does not begin or end 1971-06-01 on a quarter hour/),
    ]);
    const early = await run('1969-12-31');
    expect([early.code, lastLogLine(early.stderr).message]).toEqual([
      2,
      expect.stringMatching(/^--date: "1969-12-31" is a day the job cannot count/),
    ]);
  });
});

describe('messages from libraries', () => {
  it("a library's process warning is one of the job's JSON log lines, never Node's text among them", async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'proxy/dt=2025-03-09'), { recursive: true });
    await mkdir(path.join(dir, 'landed/dt=2025-03-09'), { recursive: true });
    // Emits a warning as a library would (google-auth's MetadataLookupWarning), once the job has put its
    // own printer in place of Node's: right after it removes the 'warning' listeners.
    const preload = path.join(dir, 'warn.cjs');
    await writeFile(
      preload,
      `const remove = process.removeAllListeners.bind(process);
process.removeAllListeners = (name) => {
  const r = remove(name);
  if (name === 'warning') setImmediate(() => process.emitWarning('received unexpected error = "x\\ny"', 'MetadataLookupWarning'));
  return r;
};
`,
    );
    const config = await writeConfig(dir, { sites: ['US'] });
    const out = path.join(dir, 'out');
    const args = ['reconcile', '--config', config, '--date', '2025-03-09', '--out', out, '--log-format', 'json'];
    const run = await runCli(args, undefined, { NODE_OPTIONS: `--require ${preload}` });
    expect(run.code).toBe(1); // the verdict's (NO_DATA): the warning changes nothing
    const lines = run.stderr.trim().split('\n');
    // Every line of stderr is a JSON log line; the warning is one of them, on one line, as a WARNING.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.filter((l) => l.warning === 'MetadataLookupWarning')).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        message: 'MetadataLookupWarning: received unexpected error = "x\\x0ay"', // its newline escaped
      }),
    ]);
    expect(run.stderr).not.toContain('(node:');
    // --dry-run too (it printed Node's text); with no BigQuery table it plans nothing (exit 2), as a JSON line too.
    const dry = await runCli([...args, '--dry-run'], undefined, { NODE_OPTIONS: `--require ${preload}` });
    expect(dry.code).toBe(2);
    const dryLines = logLines(dry.stderr);
    expect(dryLines.filter((l) => l.warning === 'MetadataLookupWarning')).toEqual([
      expect.objectContaining({ severity: 'WARNING' }),
    ]);
    expect(dry.stderr).not.toContain('(node:');
  });
});
