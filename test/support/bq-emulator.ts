import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  answers,
  freePort,
  isExecutable,
  kill,
  onceUntilFailure,
  readStamp,
  REPO_ROOT,
  spawnWatched,
} from './servers.js';

/**
 * The goccy/bigquery-emulator release the BigQuery integration tests run against. Keep it equal to
 * BQ_EMULATOR_VERSION in scripts/install-bq-emulator.sh (a test compares the two). v0.8.1 is pure Go
 * (no CGO) and builds with Go 1.26 in about 5 minutes on a cold cache; see notes/bq-emulator.md.
 */
export const BQ_EMULATOR_VERSION = 'v0.8.1';

export const BQ_EMULATOR_BINARY = path.join(REPO_ROOT, '.cache', 'bin', 'bigquery-emulator');
export const BQ_EMULATOR_INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'install-bq-emulator.sh');
const VERSION_STAMP = `${BQ_EMULATOR_BINARY}.version`;

/** A cold build of the emulator takes about 5 minutes on 2 cores; leave room for a slow machine. */
export const BQ_EMULATOR_INSTALL_TIMEOUT_MS = 20 * 60 * 1000;
/** It answers within about 0.2 s of being started; the margin is for a loaded CI machine. */
const START_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
/** A free port can be taken by someone else between probing and binding; try a few. */
const START_ATTEMPTS = 3;
const LOG_TAIL_CHARS = 8_000;
/** What the stand-in GCS answers to every request when no GCS emulator is given. */
export const NO_GCS_MESSAGE = 'no GCS emulator was given to startBqEmulator (options.storageEmulatorHost)';

export interface BqEmulator {
  /** `http://127.0.0.1:PORT`: pass as the client's `apiEndpoint` (no path, no trailing slash). */
  endpoint: string;
  /** The emulator's only project; every dataset lives in it. */
  projectId: string;
  /** The gRPC port of the BigQuery Storage Read/Write API (unused by the REST client). */
  grpcPort: number;
  /** The last few kilobytes of the emulator's stdout and stderr. */
  logTail(): string;
  /** Kills the emulator (all its data is in memory and goes with it) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartBqEmulatorOptions {
  /**
   * A SQLite file for the emulator's data (created when missing) instead of memory. Its in-memory
   * database lives in 32-bit WebAssembly memory and fails with "slice bounds out of range" past
   * about 2 GiB; a file keeps only SQLite's page cache in memory, for million-row tables.
   */
  database?: string;
  /**
   * `http://127.0.0.1:PORT` of a fake-gcs-server: the emulator reads `gs://` URIs (load jobs and
   * external tables) from it. Without one, a loopback stand-in answers every GCS request with 403,
   * so `gs://` access fails at once: without STORAGE_EMULATOR_HOST the emulator would call
   * storage.googleapis.com anonymously, and with a closed port its client retries until the caller
   * gives up.
   */
  storageEmulatorHost?: string;
}

/**
 * The path of an emulator binary of the pinned version, built by scripts/install-bq-emulator.sh into
 * `.cache/bin` when it is not there yet (about 5 minutes cold). Throws (never skips) when Go is
 * missing or the build fails: an integration test that cannot run must fail, in CI and locally.
 */
export const ensureBqEmulatorBinary: () => Promise<string> = onceUntilFailure(install);

async function install(): Promise<string> {
  if ((await isExecutable(BQ_EMULATOR_BINARY)) && (await readStamp(VERSION_STAMP)) === BQ_EMULATOR_VERSION)
    return BQ_EMULATOR_BINARY;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      'bash',
      [BQ_EMULATOR_INSTALL_SCRIPT],
      { cwd: REPO_ROOT, timeout: BQ_EMULATOR_INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const out = `${stdout}${stderr}`.trim();
        if (error) {
          reject(
            new Error(
              `${BQ_EMULATOR_INSTALL_SCRIPT} failed${process.env.CI === 'true' ? ' (CI)' : ''}: ${error.message}\n${out.slice(-4000)}`,
              { cause: error },
            ),
          );
        } else {
          resolve(out);
        }
      },
    );
  });
  if (!(await isExecutable(BQ_EMULATOR_BINARY)) || (await readStamp(VERSION_STAMP)) !== BQ_EMULATOR_VERSION) {
    throw new Error(
      `${BQ_EMULATOR_INSTALL_SCRIPT} succeeded but ${BQ_EMULATOR_BINARY} ${BQ_EMULATOR_VERSION} is missing:\n${output.slice(-2000)}`,
    );
  }
  return BQ_EMULATOR_BINARY;
}

/**
 * Starts goccy/bigquery-emulator on 127.0.0.1 (REST and gRPC on free ports, data in memory) with a
 * single project `project`, and waits until its REST API answers. Installs the binary first when
 * needed (see {@link ensureBqEmulatorBinary}: give the caller's hook a long timeout). Throws, with
 * the emulator's log tail, when it cannot start.
 */
export async function startBqEmulator(
  project = 'test-project',
  options: StartBqEmulatorOptions = {},
): Promise<BqEmulator> {
  const binary = await ensureBqEmulatorBinary();
  const noGcs = options.storageEmulatorHost ? undefined : await startNoGcs();
  const storageEmulatorHost = (options.storageEmulatorHost ?? noGcs!.endpoint).replace(/\/+$/, '');
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      const port = await freePort();
      let grpcPort = await freePort();
      while (grpcPort === port) grpcPort = await freePort();
      const emulator = await startOnce(binary, project, port, grpcPort, storageEmulatorHost, options.database);
      return {
        ...emulator,
        stop: async () => {
          await emulator.stop();
          await noGcs?.close();
        },
      };
    } catch (e) {
      lastError = e;
      if (!(e instanceof ExitedAtStart)) break;
    }
  }
  await noGcs?.close();
  throw lastError;
}

/** A loopback HTTP server that refuses every request with a non-retryable 403 in the GCS JSON error shape. */
async function startNoGcs(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { code: 403, message: NO_GCS_MESSAGE, errors: [{ reason: 'forbidden', message: NO_GCS_MESSAGE }] },
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Most often another process took a port between probing and binding: worth other ports. */
class ExitedAtStart extends Error {}

async function startOnce(
  binary: string,
  project: string,
  port: number,
  grpcPort: number,
  storageEmulatorHost: string,
  database: string | undefined,
): Promise<BqEmulator> {
  const endpoint = `http://127.0.0.1:${port}`;
  const args = [
    `--project=${project}`,
    '--host=127.0.0.1', // binds both the REST and the gRPC listener; the default is 0.0.0.0
    `--port=${port}`,
    `--grpc-port=${grpcPort}`,
    '--log-level=warn',
    ...(database ? [`--database=${database}`] : []),
  ];
  // BIGQUERY_EMULATOR_* are read as flag defaults (e.g. a --dataset to create); GOOGLE_APPLICATION_CREDENTIALS
  // and STORAGE_EMULATOR_HOST steer its GCS client. None may leak in from the caller.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !k.startsWith('BIGQUERY_EMULATOR_') && k !== 'GOOGLE_APPLICATION_CREDENTIALS' && k !== 'STORAGE_EMULATOR_HOST',
    ),
  );
  env.STORAGE_EMULATOR_HOST = storageEmulatorHost;
  // The emulator's DATE(ts) / DATETIME(ts) without a zone use the process's local zone, not UTC as
  // BigQuery does: pin it.
  env.TZ = 'UTC';
  // Its SQLite temporary files (a numbered file in the temp folder per statement that spills, never removed:
  // 1,300 of them, 1.7 GB, on one machine) go to a folder of its own, removed when it stops.
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'parity-bq-emulator-'));
  env.TMPDIR = scratch;
  const removeScratch = () => rm(scratch, { recursive: true, force: true });

  // A test run that dies without calling stop() must not leave the emulator behind.
  const proc = spawnWatched(binary, args, { env }, LOG_TAIL_CHARS);
  const { child } = proc;

  const started = Date.now();
  const readyUrl = `${endpoint}/bigquery/v2/projects/${encodeURIComponent(project)}/datasets`;
  for (;;) {
    const spawnError = proc.spawnError();
    const exited = proc.exited();
    if (spawnError) {
      proc.forget();
      await removeScratch();
      throw new Error(`cannot start ${binary}: ${spawnError.message}`, { cause: spawnError });
    }
    if (exited) {
      proc.forget();
      await removeScratch();
      throw new ExitedAtStart(
        `bigquery-emulator exited at start (code ${exited.code}, signal ${exited.signal}); log tail:\n${proc.output().trim()}`,
      );
    }
    if (await answers(readyUrl)) break;
    if (Date.now() - started > START_TIMEOUT_MS) {
      await kill(child);
      proc.forget();
      await removeScratch();
      throw new Error(
        `bigquery-emulator did not answer ${readyUrl} within ${START_TIMEOUT_MS} ms; log tail:\n${proc.output().trim()}`,
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
  return {
    endpoint,
    projectId: project,
    grpcPort,
    logTail: () => proc.output(),
    stop: async () => {
      await kill(child);
      proc.forget();
      await removeScratch();
    },
  };
}
