import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How long a test server gets to stop on SIGTERM before it is killed. */
export const SERVER_STOP_TIMEOUT_MS = 5_000;

/** True when `url` answers 2xx within a second. */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after a while; resolves when the process is gone. */
export async function kill(child: ChildProcess, timeoutMs = SERVER_STOP_TIMEOUT_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await gone;
  clearTimeout(timer);
}

/** A port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The version an install wrote beside a binary, if any. */
export async function readStamp(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** The repository root: the nearest folder above this module with a package.json (test/support is run from source, by jest or tsx). */
export const REPO_ROOT = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

/**
 * `fn` run once and shared by every caller while it runs or after it succeeds; a failure is not
 * remembered, so the next caller tries again (an install that failed may pass once fixed).
 */
export function onceUntilFailure<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= fn().catch((e: unknown) => {
      running = undefined;
      throw e;
    });
    return running;
  };
}

/** A test server's process, watched from its start: what it printed last, and how it ended. */
export interface WatchedProcess {
  child: ChildProcess;
  /** The last `tailChars` characters of its stdout and stderr. */
  output(): string;
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  spawnError(): Error | undefined;
  /** Stops killing it when this process exits (call once it has been stopped). */
  forget(): void;
}

/** Spawns a server and watches it; a test run that dies without stopping it does not leave it behind. */
export function spawnWatched(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  tailChars: number,
): WatchedProcess {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (s: string): void => {
    output = (output + s).slice(-tailChars);
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  return {
    child,
    output: () => output,
    exited: () => exited,
    spawnError: () => spawnError,
    forget: () => {
      process.removeListener('exit', killOnExit);
    },
  };
}
