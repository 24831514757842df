import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLI, runCli, tempDir } from '../support/files.js';

describe('parity help and argument messages', () => {
  it('--help on every command shows examples, and the job commands their exit statuses and --config as required', async () => {
    for (const cmd of ['reconcile', 'daily', 'backfill']) {
      const run = await runCli([cmd, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/--config <file>\s+config file, JSON or YAML \(required\)/);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain(`parity ${cmd} --config parity.yaml`);
      expect(run.stdout).toContain('Exit status:');
      expect(run.stdout).toMatch(/^\s+3\s+a tier could not be read/m);
    }
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('parity demo');
    expect(top.stdout).toContain('Exit status:');
    const demo = await runCli(['demo', '--help']);
    expect(demo.stdout).toContain('parity demo --out /tmp/parity-demo');
    // The usage lines say which days each job needs, as the README's usage block does.
    expect((await runCli(['reconcile', '--help'])).stdout).toMatch(
      /^Usage: parity reconcile --config FILE \(--date YYYY-MM-DD \| --from YYYY-MM-DD --to YYYY-MM-DD\) \[options\]$/m,
    );
    expect((await runCli(['backfill', '--help'])).stdout).toContain(
      'Usage: parity backfill --config FILE --from YYYY-MM-DD --to YYYY-MM-DD [options]',
    );
    expect((await runCli(['daily', '--help'])).stdout).toMatch(
      /5\s+a report could not be written \(a full disk, or another run holds the output\)/,
    );
  });

  it('demo --out where no folder can be made (below /proc) is a usage error naming the flag, not a hang', async () => {
    const run = await runCli(['demo', '--out', '/proc/no-such-demo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--out: "/proc/no-such-demo" cannot hold the demo');
  });

  it('an impossible day in the right format names the month length, exit 2', async () => {
    const text = ['--log-format', 'text'];
    const run = await runCli(['reconcile', '--config', 'nowhere.yaml', '--date', '2025-02-30', ...text]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: --date: "2025-02-30" is not a date: February 2025 has 28 days');
    const asOf = await runCli(['daily', '--config', 'nowhere.yaml', '--as-of', '2025-04-31', ...text]);
    expect(asOf.code).toBe(2);
    expect(asOf.stderr).toContain('--as-of: "2025-04-31" is not a date: April 2025 has 30 days');
    const zero = await runCli(['reconcile', '--config', 'nowhere.yaml', '--date', '0000-01-01', ...text]);
    expect(zero.stderr).toContain('--date: "0000-01-01" is not a date: there is no year 0');
  });

  it('off a terminal (JSON logs, as a CronJob runs) a wrong flag is one JSON ERROR line with exit_code 2', async () => {
    for (const argv of [
      ['reconcile', '--config', 'nowhere.yaml', '--date', '2025-02-30'],
      ['daily', '--config', 'nowhere.yaml', '--confg', 'x'],
      ['backfill', '--config', 'nowhere.yaml', '--from', '2025-03-05', '--to', '2025-03-01', '--log-format=json'],
    ]) {
      const run = await runCli(argv);
      expect(run.code).toBe(2);
      const lines = run.stderr.trim().split('\n');
      expect([argv, lines.length]).toEqual([argv, 1]);
      expect(JSON.parse(lines[0]!)).toMatchObject({ severity: 'ERROR', exit_code: 2 });
    }
  });

  it('an option given twice is a usage error (exit 2), not the last one silently', async () => {
    for (const argv of [
      ['reconcile', '--date', '2025-03-01', '--date', '2025-03-02'],
      ['reconcile', '--from', '2025-03-01', '--from', '2025-03-02', '--to', '2025-03-05'],
      ['backfill', '--from', '2025-03-01', '--to', '2025-03-02', '--to', '2025-03-05'],
      ['daily', '--as-of', '2025-03-01', '--as-of', '2025-03-02'],
      // --config a --config b ran b; --sites US --sites CA reported CA alone.
      ['daily', '--config', 'other.yaml'],
      ['reconcile', '--date', '2025-03-01', '--sites', 'US', '--sites', 'CA'],
      ['backfill', '--from', '2025-03-01', '--to', '2025-03-02', '--concurrency', '2', '--concurrency', '1'],
      ['reconcile', '--date', '2025-03-01', '--out', 'a', '--out', 'b'],
      ['daily', '--out', 'gs://b/p/', '--local-out', 'a', '--local-out', 'b'],
      // --format json --format csv printed CSV; --log-format json --log-format text logged text.
      ['reconcile', '--date', '2025-03-01', '--format', 'json', '--format', 'csv'],
      ['daily', '--log-format', 'json', '--log-format', 'text'],
    ]) {
      const run = await runCli([...argv, '--config', 'nowhere.yaml']);
      expect([argv, run.code]).toEqual([argv, 2]);
      expect(run.stderr).toContain('given twice');
    }
    const demo = await runCli(['demo', '--out', 'a', '--out', 'b']);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toContain('given twice');
    const choice = await runCli(['reconcile', '--config', 'x.yaml', '--date', '2025-03-01', '--format', 'xml']);
    expect(choice.code).toBe(2);
    expect(choice.stderr).toContain("argument 'xml' is invalid. Allowed choices are table, json, csv.");
  });

  it('an option whose value is missing does not take the next option for it', async () => {
    // --out --quiet wrote the reports into a folder named --quiet; --config --date took --date for the file.
    for (const [argv, flag] of [
      [['reconcile', '--config', 'x.yaml', '--date', '2025-03-01', '--out', '--quiet'], '--out <dir>'],
      [['reconcile', '--config', '--date', '2025-03-01'], '--config <file>'],
    ] as const) {
      const run = await runCli([...argv, '--log-format', 'text']);
      expect([argv, run.code]).toEqual([argv, 2]);
      expect(run.stderr).toContain(`option '${flag}' argument`);
      expect(run.stderr).toContain('its value is missing');
    }
  });

  it("demo's re-run command quotes a path a shell would split: pasted, it runs", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "the team's demo");
    const demo = await runCli(['demo', '--out', out]);
    expect(demo.code).toBe(0);
    const line = demo.stdout.split('\n').find((l) => l.startsWith('re-run on the same data: '))!;
    const quoted = `'${out.replace(/'/g, `'\\''`)}'`;
    expect(line).toContain(`--out ${quoted}`);
    // The line, run by a shell, is the reconcile it names (before 0.3.7: "too many arguments").
    const command = line.replace('re-run on the same data: npx parity ', '');
    const rerun = spawnSync('sh', ['-c', `"$0" "$1" ${command} --quiet`, process.execPath, CLI], { encoding: 'utf8' });
    expect(rerun.status).toBe(1); // the sample's FAIL rows, as the demo says
    expect(rerun.stderr).toContain('"days":7');
    // Its data folder is made anew: a file the demo did not make there stops it (before 0.3.7 it was deleted).
    await writeFile(path.join(out, 'demo-data', 'my-notes.txt'), 'mine');
    await mkdir(path.join(out, 'demo-data', 'proxy', 'dt=2025-04-01'));
    await writeFile(path.join(out, 'demo-data', 'proxy', 'dt=2025-04-01', 'my-own.ndjson'), 'mine too');
    const again = await runCli(['demo', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(
      'holds what the demo did not make (my-notes.txt, proxy/dt=2025-04-01/my-own.ndjson)',
    );
    expect(await readFile(path.join(out, 'demo-data', 'my-notes.txt'), 'utf8')).toBe('mine');
    // A file where its folder goes is not taken for an empty folder.
    const other = path.join(dir, 'other');
    await mkdir(other);
    await writeFile(path.join(other, 'demo-data'), 'precious');
    expect((await runCli(['demo', '--out', other])).code).toBe(2);
    expect(await readFile(path.join(other, 'demo-data'), 'utf8')).toBe('precious');
  }, 60_000);

  it('demo --out with a scheme (a bucket) is refused: demo writes a local folder, not gs:/bucket/x', async () => {
    const dir = await tempDir();
    for (const out of ['gs://my-bucket/x', 'file:///tmp/x']) {
      const run = await runCli(['demo', '--out', out], dir);
      expect([out, run.code]).toEqual([out, 2]);
      expect(run.stderr).toContain(`"${out}": demo writes its sample data and reports to a local folder`);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('an --out with a scheme that is not gs:// (a mistyped bucket) is refused, not made a local folder', async () => {
    const local = await runCli(['daily', '--config', 'x.yaml', '--out', 'gs://b/x/', '--local-out', 'gs://b/y/']);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('is no local folder (the reports go up to --out)');
    for (const out of ['gs:/reports-bkt/daily/', 'GS://reports-bkt/daily/', 'gcs://reports-bkt/', 's3://bkt/x/']) {
      const run = await runCli([
        'reconcile',
        '--config',
        'x.yaml',
        '--date',
        '2025-03-01',
        '--out',
        out,
        '--log-format',
        'text',
      ]);
      expect([out, run.code]).toEqual([out, 2]);
      expect(run.stderr).toContain(`"${out}" is neither a folder nor gs://bucket/prefix/`);
    }
  });

  it('with no command, or help on one that is not, is a usage error: the help, and exit 2', async () => {
    for (const argv of [[], ['help', 'bogus']]) {
      const run = await runCli(argv);
      expect([argv, run.code]).toEqual([argv, 2]);
      expect(run.stderr).toContain('Usage: parity');
    }
    expect((await runCli(['help'])).code).toBe(0);
  });

  it('a mistyped --config is an unknown option with a suggestion, not a missing required option', async () => {
    const run = await runCli(['reconcile', '--confg', 'parity.yaml', '--date', '2025-03-09']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--confg'");
    expect(run.stderr).toContain('Did you mean --config?');
    expect(run.stderr).not.toContain('not specified');
    const missing = await runCli(['reconcile', '--date', '2025-03-09']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--config <file>' not specified");
  });
});
