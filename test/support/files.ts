import { parse } from 'csv-parse/sync';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/jobs/main.js');

const made: string[] = [];
// Test folders go when the test process does; under jest, whose 'exit' here is not the run's, the run's temp
// folder is one of its own, removed when the run ends (test/support/temp-folder.mjs).
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export async function tempDir(prefix = 'parity-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Runs `fn` in a fresh {@link tempDir} and removes the folder afterwards, whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes records (objects, or raw strings for junk lines) as NDJSON, gzipped when the name ends in .gz. */
export async function writeNdjson(file: string, records: (object | string)[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const text =
    records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + (records.length ? '\n' : '');
  await writeFile(file, file.endsWith('.gz') ? gzipSync(text) : text);
}

export interface TestConfig {
  timezone?: string;
  sites?: (string | { code: string; timezone?: string })[];
  thresholds?: { warnPct: number; failPct: number; landedNotAcceptedPct?: number; volumeDropPct?: number };
  proxy?: string[];
  gcs?: string[];
  [key: string]: unknown;
}

/** A config over `dir`/proxy/dt={date}/ and `dir`/landed/dt={date}/ unless told otherwise. */
export async function writeConfig(dir: string, c: TestConfig = {}, name = 'config.json'): Promise<string> {
  const {
    timezone = 'UTC',
    sites = ['US', 'CA', 'MX'],
    thresholds,
    proxy = ['proxy/dt={date}/'],
    gcs = ['landed/dt={date}/'],
    ...rest
  } = c;
  const doc = {
    timezone,
    sites,
    ...(thresholds ? { thresholds } : {}),
    tiers: { proxy: { locations: proxy }, gcs: { locations: gcs } },
    ...rest,
  };
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(doc, null, 2));
  return file;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built binary, as a user would. */
export function runCli(args: string[], cwd = ROOT, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `reconcile --date day --out out` over `dir` with a config of the one site US: the run most CLI tests start from. */
export async function reconcileUsDay(dir: string, day: string, out: string): Promise<CliRun> {
  return runCli(['reconcile', '--config', await writeConfig(dir, { sites: ['US'] }), '--date', day, '--out', out]);
}

/** The same over the days `from` to `to`. */
export async function reconcileUsRange(dir: string, from: string, to: string, out: string): Promise<CliRun> {
  return reconcileRange(await writeConfig(dir, { sites: ['US'] }), from, to, out);
}

/** A JSON log's last line (a job's last word: its ERROR line with the exit code, say). */
export const lastLogLine = (stderr: string): Record<string, unknown> => logLines(stderr).at(-1)!;

/** Every line of a JSON log (a job's stderr with --log-format json), parsed. */
export const logLines = (stderr: string): Record<string, unknown>[] =>
  stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Parses one of our CSVs (RFC 4180: quoted fields, CRLF) into objects keyed by header. */
export function parseCsv(text: string): Record<string, string>[] {
  return parse(text, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
}

/** The error `p` rejects with; throws when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** `parity reconcile` of the days `from`..`to` into `out`, with any `extra` flags. */
export const reconcileRange = (config: string, from: string, to: string, out: string, ...extra: string[]) =>
  runCli(['reconcile', '--config', config, '--from', from, '--to', to, '--out', out, ...extra]);
