import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, kill, onceUntilFailure, readStamp, REPO_ROOT, spawnWatched } from './servers.js';

/**
 * The Apache Kafka release the Kafka integration tests run against. Keep it equal to KAFKA_VERSION in
 * scripts/install-kafka.sh. 3.9.2 is the newest 3.9 patch on Maven Central.
 */
export const KAFKA_VERSION = '3.9.2';

export const KAFKA_LIBS_DIR = path.join(REPO_ROOT, '.cache', 'kafka', 'libs');
export const KAFKA_INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'install-kafka.sh');
const VERSION_STAMP = path.join(REPO_ROOT, '.cache', 'kafka', 'libs.version');
const BROKER_JAR = path.join(KAFKA_LIBS_DIR, `kafka_2.13-${KAFKA_VERSION}.jar`);

/** A cold Maven resolve of the ~57 jars (46 MB) takes seconds to a few minutes depending on the mirror. */
export const KAFKA_INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
/** `StorageTool format` is one short JVM run (about 1-2 s). */
const FORMAT_TIMEOUT_MS = 60_000;
/**
 * Two brokers started together on 2 cores answer after roughly 5-10 s; the margin is for a loaded
 * CI machine (JIT and class loading dominate).
 */
const START_TIMEOUT_MS = 90_000;
const POLL_INTERVAL_MS = 250;
/** A probe connection to a broker still starting is refused at once; one that hangs is given up on. */
const PROBE_CONNECTION_TIMEOUT_MS = 1_000;
/** A broker shuts down in 1-3 s on SIGTERM (controlled shutdown); then it is killed. */
const BROKER_STOP_TIMEOUT_MS = 15_000;
/** A free port can be taken by someone else between probing and binding; try a few. */
const START_ATTEMPTS = 3;
const LOG_TAIL_CHARS = 8_000;
/** Two brokers must fit on the 2-core, shared CI machine next to jest and the other test servers. */
const JVM_OPTS = [
  '-Xmx512m',
  '-Xms256m',
  // A short-lived test broker gains nothing from C2 or G1's concurrent threads; both cost CPU at start.
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Djava.awt.headless=true',
  '-Djava.net.preferIPv4Stack=true',
];

export interface KafkaBrokers {
  /** `127.0.0.1:PORT` of each region's broker (its PLAINTEXT listener). */
  brokers: Record<string, string>;
  /**
   * Stops one region's broker, or all of them, gracefully (SIGTERM, then SIGKILL after a while),
   * waits for the process to exit, and deletes its data directory. Stopping twice is a no-op.
   */
  stop(region?: string): Promise<void>;
  /** Kills one region's broker at once (SIGKILL, as a crash would) and waits for it to exit. */
  stopOne(region: string): Promise<void>;
  /** The last few kilobytes of the region's server.log and JVM output, for a failing test's message. */
  logTail(region: string): Promise<string>;
}

interface Broker {
  region: string;
  address: string;
  dir: string;
  child: ChildProcess;
  /** Stops killing the JVM when this process exits (once it is stopped). */
  forget: () => void;
  output: () => string;
  stopped: boolean;
}

/**
 * Makes sure the broker jars of the pinned version are in .cache/kafka/libs, running
 * scripts/install-kafka.sh when they are not. Throws (never skips) when java, mvn or the download
 * fails: an integration test that cannot run must fail, in CI and locally.
 */
export const ensureKafkaLibs: () => Promise<void> = onceUntilFailure(install);

async function installed(): Promise<boolean> {
  try {
    await access(BROKER_JAR);
  } catch {
    return false;
  }
  return (await readStamp(VERSION_STAMP))?.split(' ')[0] === KAFKA_VERSION;
}

async function install(): Promise<void> {
  if (await installed()) return;
  const output = await run(
    'bash',
    [KAFKA_INSTALL_SCRIPT],
    KAFKA_INSTALL_TIMEOUT_MS,
    `${KAFKA_INSTALL_SCRIPT} failed${process.env.CI === 'true' ? ' (CI)' : ''}`,
  );
  if (!(await installed()))
    throw new Error(
      `${KAFKA_INSTALL_SCRIPT} succeeded but ${BROKER_JAR} (stamp ${KAFKA_VERSION}) is missing:\n${output.slice(-2000)}`,
    );
}

function run(file: string, args: string[], timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const out = `${stdout}${stderr}`.trim();
        if (error) reject(new Error(`${what}: ${error.message}\n${out.slice(-4000)}`, { cause: error }));
        else resolve(out);
      },
    );
  });
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what `StorageTool random-uuid` prints). */
function clusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Starts one single-node KRaft Kafka broker (broker and controller in one JVM) per region on
 * 127.0.0.1, each with its own free ports and a fresh data directory, and waits until each answers
 * a kafkajs metadata request. Installs the jars first when needed (give the caller's hook a long
 * timeout). Throws, with the failing broker's log tail, when any cannot start; the others are then
 * stopped. Never skips.
 */
export async function startBrokers(regions: string[]): Promise<KafkaBrokers> {
  if (new Set(regions).size !== regions.length)
    throw new Error(`startBrokers: duplicate region in ${regions.join(', ')}`);
  await ensureKafkaLibs();
  const settled = await Promise.allSettled(regions.map((r) => startBroker(r)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((b) => stopBroker(b, 'graceful')));
    throw failed.reason;
  }
  const byRegion = new Map(started.map((b) => [b.region, b]));
  const get = (region: string): Broker => {
    const b = byRegion.get(region);
    if (!b) throw new Error(`no broker for region ${region}; started: ${regions.join(', ')}`);
    return b;
  };
  return {
    brokers: Object.fromEntries(started.map((b) => [b.region, b.address])),
    stop: async (region) => {
      const targets = region === undefined ? started : [get(region)];
      await Promise.all(targets.map((b) => stopBroker(b, 'graceful')));
    },
    stopOne: (region) => stopBroker(get(region), 'crash'),
    logTail: (region) => brokerLog(get(region)),
  };
}

async function stopBroker(b: Broker, how: 'graceful' | 'crash'): Promise<void> {
  if (how === 'crash') {
    if (b.child.exitCode === null && b.child.signalCode === null) {
      const gone = new Promise<void>((resolve) => b.child.once('exit', () => resolve()));
      b.child.kill('SIGKILL');
      await gone;
    }
  } else {
    await kill(b.child, BROKER_STOP_TIMEOUT_MS);
  }
  b.forget();
  if (how === 'graceful' && !b.stopped) {
    b.stopped = true;
    await rm(b.dir, { recursive: true, force: true });
  }
}

async function brokerLog(b: Broker): Promise<string> {
  let serverLog = '';
  try {
    serverLog = (await readFile(path.join(b.dir, 'logs', 'server.log'), 'utf8')).slice(-LOG_TAIL_CHARS);
  } catch {
    // not written yet, or already deleted
  }
  return `--- ${b.region} server.log (tail)\n${serverLog.trim()}\n--- ${b.region} JVM output (tail)\n${b.output().trim()}`;
}

/** Most often another process took a port between probing and binding: worth other ports. */
class ExitedAtStart extends Error {}

async function startBroker(region: string): Promise<Broker> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(region);
    } catch (e) {
      lastError = e;
      if (!(e instanceof ExitedAtStart)) break;
    }
  }
  throw lastError;
}

async function startOnce(region: string): Promise<Broker> {
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), `kafka-${region.toLowerCase()}-`));
  const logsDir = path.join(dir, 'logs');
  const properties = path.join(dir, 'server.properties');
  const log4j = path.join(dir, 'log4j.properties');
  const address = `127.0.0.1:${port}`;
  // Keys as in Kafka's config/kraft/server.properties (3.9), loopback only.
  await writeFile(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://${address},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://${address}`,
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      'num.partitions=3',
      'offsets.topic.replication.factor=1',
      // __consumer_offsets is created on the first group request; 1 partition instead of 50 makes that instant.
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      // The tests' messages are stamped in 2025: under the default 7 days' retention the log cleaner (30 s
      // after start, then every 5 minutes) deleted them mid-test at random. A topic that needs a retention
      // sets its own.
      'log.retention.ms=-1',
      '',
    ].join('\n'),
  );
  await writeFile(
    log4j,
    [
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${path.join(logsDir, 'server.log')}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      // The request log and state-change logs are noise for tests.
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.logger.state.change.logger=WARN',
      'log4j.logger.kafka.log.LogCleaner=WARN',
      '',
    ].join('\n'),
  );
  const classpath = `${KAFKA_LIBS_DIR}/*`;
  const jvm = [...JVM_OPTS, `-Dlog4j.configuration=file:${log4j}`, `-Dkafka.logs.dir=${logsDir}`, '-cp', classpath];

  try {
    // --cluster-id=ID, one argument: a random id may begin with '-', which the parser would take for an option.
    await run(
      'java',
      [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId()}`, '--config', properties],
      FORMAT_TIMEOUT_MS,
      `kafka ${region}: StorageTool format failed`,
    );
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  // A test run that dies without calling stop() must not leave a JVM behind.
  const proc = spawnWatched('java', [...jvm, 'kafka.Kafka', properties], { cwd: dir }, LOG_TAIL_CHARS);
  const broker: Broker = {
    region,
    address,
    dir,
    child: proc.child,
    forget: proc.forget,
    output: proc.output,
    stopped: false,
  };

  const started = Date.now();
  for (;;) {
    const spawnError = proc.spawnError();
    const exited = proc.exited();
    if (spawnError) {
      await stopBroker(broker, 'graceful');
      throw new Error(`kafka ${region}: cannot start java: ${spawnError.message}`, { cause: spawnError });
    }
    if (exited) {
      const tail = await brokerLog(broker);
      await stopBroker(broker, 'graceful');
      throw new ExitedAtStart(
        `kafka ${region}: broker exited at start (code ${exited.code}, signal ${exited.signal}); log tail:\n${tail}`,
      );
    }
    if (await answers(address)) break;
    if (Date.now() - started > START_TIMEOUT_MS) {
      const tail = await brokerLog(broker);
      await stopBroker(broker, 'graceful');
      throw new Error(
        `kafka ${region}: broker at ${address} did not answer within ${START_TIMEOUT_MS} ms; log tail:\n${tail}`,
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
  return broker;
}

/** True when the broker answers a metadata request (admin connect + listTopics). */
async function answers(address: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'kafka-brokers-probe',
    brokers: [address],
    connectionTimeout: PROBE_CONNECTION_TIMEOUT_MS,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
