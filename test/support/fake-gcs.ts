import { execFile, spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { answers, freePort, isExecutable, kill, onceUntilFailure, readStamp, REPO_ROOT } from './servers.js';

/**
 * The fake-gcs-server release the integration tests run against. Keep it equal to
 * FAKE_GCS_SERVER_VERSION in scripts/install-fake-gcs.sh (a test compares the two).
 * v1.56.1 builds with Go 1.26.
 */
export const FAKE_GCS_SERVER_VERSION = 'v1.56.1';
export const FAKE_GCS_MODULE = 'github.com/fsouza/fake-gcs-server';

/** `go install` compiles the emulator and its dependencies on a cold cache. */
const GO_INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
/** The emulator loads its -data folder before it listens: 10k objects take seconds on tmpfs, a minute on a slow disk. */
const FAKE_GCS_START_TIMEOUT_MS = 60_000;
const FAKE_GCS_POLL_INTERVAL_MS = 50;
/** A free port can be taken by someone else between probing and binding; try a few. */
const FAKE_GCS_START_ATTEMPTS = 3;

export { REPO_ROOT };
export const FAKE_GCS_BIN_DIR = path.join(REPO_ROOT, '.cache', 'bin');
export const FAKE_GCS_BINARY = path.join(FAKE_GCS_BIN_DIR, 'fake-gcs-server');
const VERSION_STAMP = `${FAKE_GCS_BINARY}.version`;
const FAKE_GCS_INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'install-fake-gcs.sh');

const execFileAsync = promisify(execFile);
/**
 * The path of a fake-gcs-server binary of the pinned version, installed into `.cache/bin` by
 * scripts/install-fake-gcs.sh (from the machine's shared cache, else `go install`) when it is not there yet. Throws (never skips) when Go is missing or the build fails:
 * an integration test that cannot run must fail, in CI and locally alike.
 */
export const ensureFakeGcsBinary: () => Promise<string> = onceUntilFailure(install);

async function install(): Promise<string> {
  if ((await isExecutable(FAKE_GCS_BINARY)) && (await readStamp(VERSION_STAMP)) === FAKE_GCS_SERVER_VERSION)
    return FAKE_GCS_BINARY;
  await mkdir(FAKE_GCS_BIN_DIR, { recursive: true });
  try {
    await execFileAsync('bash', [FAKE_GCS_INSTALL_SCRIPT], {
      cwd: REPO_ROOT,
      timeout: GO_INSTALL_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const why = (err.stderr || err.message).trim();
    throw new Error(
      `cannot install ${FAKE_GCS_MODULE}@${FAKE_GCS_SERVER_VERSION} into ${FAKE_GCS_BIN_DIR}${process.env.CI === 'true' ? ' (CI)' : ''}: ${why}`,
      { cause: e },
    );
  }
  if (!(await isExecutable(FAKE_GCS_BINARY)))
    throw new Error(`${FAKE_GCS_INSTALL_SCRIPT} succeeded but ${FAKE_GCS_BINARY} is missing`);
  await writeFile(VERSION_STAMP, FAKE_GCS_SERVER_VERSION);
  return FAKE_GCS_BINARY;
}

export interface FakeGcs {
  /** `http://127.0.0.1:PORT`: pass as `apiEndpoint` (no path, no trailing slash). */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartFakeGcsOptions {
  /**
   * A folder loaded at start: each sub-folder is a bucket and each file below it an object named by
   * its relative path. Much faster than uploading thousands of objects one request at a time.
   */
  dataDir?: string;
  /**
   * `memory` (the default) for a few objects. The memory backend scans a bucket's whole object list on
   * every insert, so 10,000 objects in one bucket take minutes to load; `filesystem` (in a temporary
   * folder on tmpfs where possible, removed by `stop()`) loads them in seconds and lists them in about as much.
   */
  backend?: 'memory' | 'filesystem';
}

/**
 * Starts fake-gcs-server on 127.0.0.1 on a free port over plain HTTP, and waits until it answers its
 * health check. Throws when it cannot start; `stop()` kills it and waits for it to exit.
 */
export async function startFakeGcs(options: StartFakeGcsOptions = {}): Promise<FakeGcs> {
  const binary = await ensureFakeGcsBinary();
  let lastError: unknown;
  for (let attempt = 1; attempt <= FAKE_GCS_START_ATTEMPTS; attempt++) {
    const root =
      options.backend === 'filesystem' ? await mkdtemp(path.join(await scratchBase(), 'fake-gcs-')) : undefined;
    try {
      const server = await startOnce(binary, await freePort(), options, root);
      return {
        ...server,
        stop: async () => {
          await server.stop();
          if (root) await rm(root, { recursive: true, force: true });
        },
      };
    } catch (e) {
      lastError = e;
      if (root) await rm(root, { recursive: true, force: true });
      if (!(e instanceof ExitedAtStart)) break;
    }
  }
  throw lastError;
}

/**
 * The filesystem backend fsyncs every object it writes: 10k objects take about a minute on a disk and
 * under three seconds on tmpfs, so /dev/shm when there is one.
 */
async function scratchBase(): Promise<string> {
  try {
    await access('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

/** Most often another process took the port between probing and binding: worth another port. */
class ExitedAtStart extends Error {}

async function startOnce(
  binary: string,
  port: number,
  options: StartFakeGcsOptions,
  root: string | undefined,
): Promise<FakeGcs> {
  const endpoint = `http://127.0.0.1:${port}`;
  const args = [
    '-scheme',
    'http',
    ...(root ? ['-backend', 'filesystem', '-filesystem-root', root] : ['-backend', 'memory']),
    '-host',
    '127.0.0.1',
    '-port',
    String(port),
    // Upload session URLs and object media links point back here instead of storage.googleapis.com.
    '-external-url',
    endpoint,
    '-public-host',
    `127.0.0.1:${port}`,
    '-log-level',
    'error',
    ...(options.dataDir ? ['-data', options.dataDir] : []),
  ];
  // The emulator reads FAKE_GCS_* variables as flag defaults; none may leak in from the caller.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FAKE_GCS_')));
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  // A test process that dies without calling stop() must not leave the emulator running.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  child.on('exit', (code, signal) => (exited = { code, signal }));

  const deadline = Date.now() + FAKE_GCS_START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${binary}: ${spawnError.message}`, { cause: spawnError });
    if (exited)
      throw new ExitedAtStart(
        `fake-gcs-server exited at start (code ${exited.code}, signal ${exited.signal}): ${stderr.trim()}`,
      );
    if (await answers(`${endpoint}/_internal/healthcheck`)) break;
    if (Date.now() > deadline) {
      await kill(child);
      throw new Error(
        `fake-gcs-server did not answer on ${endpoint} within ${FAKE_GCS_START_TIMEOUT_MS} ms: ${stderr.trim()}`,
      );
    }
    await sleep(FAKE_GCS_POLL_INTERVAL_MS);
  }
  return { endpoint, port, stop: () => kill(child) };
}
