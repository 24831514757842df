/**
 * The whole job with the Kafka tier read from two real KRaft brokers (one per region) through the
 * real adapter: a generated scenario with known causes — fallback to the second cluster, copies
 * in both, unknown and missing site headers, records lost before Kafka, a lagging sink group —
 * is published, and every column of every report must come back exactly as injected.
 */
import path from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { dayWindow, daysInRange } from '../../src/dates.js';
import { InternalError, ResourceError } from '../../src/errors.js';
import { DEFAULT_MIX, type KafkaMessage, ScenarioGenerator } from '../../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../../src/demo/write-scenario.js';
import { identityViolations } from '../../src/reconcile/attribute.js';
import { createKafkaTier } from '../../src/tiers/kafka-tier.js';
import { expectReportsMatch } from '../support/expect-report.js';
import { rejection, tempDir } from '../support/files.js';
import { KAFKA_INSTALL_TIMEOUT_MS, type KafkaBrokers, startBrokers } from '../support/kafka-brokers.js';

const REGIONS = ['EUS2', 'SCUS'];
const PARTITIONS = 3;
const TOPIC = `audit-api-logs-${Date.now().toString(36)}`;
const SINK_GROUP = `connect-gcs-sink-${Date.now().toString(36)}`;

/** Publishes one region's messages as the pipeline would: in time order, in-flight ones last; returns what the sink has committed. */
async function publish(broker: string, messages: KafkaMessage[], topic = TOPIC, group = SINK_GROUP): Promise<void> {
  const kafka = new Kafka({ clientId: 'parity-it-producer', brokers: [broker], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const ordered = [...messages].sort((a, b) => Number(a.inFlight) - Number(b.inFlight) || a.ts - b.ts);
    const byPartition = new Map<number, KafkaMessage[]>();
    ordered.forEach((m, i) => {
      const p = i % PARTITIONS;
      byPartition.set(p, [...(byPartition.get(p) ?? []), m]);
    });
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    try {
      for (const [partition, ms] of byPartition) {
        await producer.send({
          topic,
          acks: -1,
          messages: ms.map((m) => ({
            partition,
            key: m.request_id,
            value: JSON.stringify({ request_id: m.request_id, timestamp: m.ts }),
            timestamp: String(m.ts),
            headers: m.site === undefined ? {} : { 'wm-site-id': m.site },
          })),
        });
      }
    } finally {
      await producer.disconnect();
    }
    // The sink has written everything but the in-flight records, which lie at each partition's end.
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [...Array(PARTITIONS).keys()].map((p) => ({
        partition: p,
        offset: String((byPartition.get(p) ?? []).filter((m) => !m.inFlight).length),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

describe('the kafka tier read from two regional brokers', () => {
  let brokers: KafkaBrokers;
  beforeAll(
    async () => {
      brokers = await startBrokers(REGIONS);
    },
    Math.max(180_000, KAFKA_INSTALL_TIMEOUT_MS + 60_000),
  );
  afterAll(async () => {
    await brokers?.stop();
  });

  it('reconciles a generated scenario and every column comes back exactly as injected', async () => {
    const dir = await tempDir();
    const days = daysInRange('2025-03-08', '2025-03-10');
    const mix = {
      ...DEFAULT_MIX,
      lostBeforeKafka: 0.02,
      inFlight: 0.02,
      crossRegion: 0.05,
      unroutableHeader: 0.02,
      missingHeader: 0.03,
    };
    const gen = new ScenarioGenerator({
      seed: 4242,
      days,
      timezone: 'America/Chicago',
      sites: ['US', 'CA', 'MX'],
      eventsPerDay: 400,
      mix,
      malformedPerDay: 2,
      regions: REGIONS,
      kafka: true,
    });
    const messages: KafkaMessage[] = [];
    const written = await writeScenario(gen, dir, { gzipShare: 0.5, onKafka: (m) => void messages.push(...m) });
    for (const region of REGIONS)
      await publish(
        brokers.brokers[region]!,
        messages.filter((m) => m.region === region),
      );

    const configFile = path.join(dir, 'config.json');
    await writeScenarioConfig(configFile, gen, written, { engine: { batchDays: 3 } });
    const config = await loadConfig(configFile);
    const kafka = createKafkaTier(parseKafka(clustersOf(brokers)), {});
    const out = path.join(dir, 'out');
    const result = await runReconcile({ config, days, outDir: out, kafka });
    expect(result.errors).toEqual([]);
    await expectReportsMatch(gen, out, days, { kafka: REGIONS, bigquery: false });
    for (const d of result.days) for (const row of d.rows) expect(identityViolations(row)).toEqual([]);
    const inFlight = result.days.reduce((n, d) => n + Number(d.rows.at(-1)!.in_flight), 0);
    expect(inFlight).toBeGreaterThan(0);
  }, 180_000);

  it('the sink offsets are read before the landed tier is listed: what the sink commits after that stays in flight', async () => {
    const dir = await tempDir();
    const days = ['2025-03-09'];
    const gen = utcDay(21, 300, { ...DEFAULT_MIX, inFlight: 0.05 });
    const messages: KafkaMessage[] = [];
    const written = await writeScenario(gen, dir, { onKafka: (m) => void messages.push(...m) });
    const topic = `${TOPIC}-pin`;
    const group = `${SINK_GROUP}-pin`;
    for (const region of REGIONS)
      await publish(
        brokers.brokers[region]!,
        messages.filter((m) => m.region === region),
        topic,
        group,
      );
    const configFile = path.join(dir, 'config.json');
    await writeScenarioConfig(configFile, gen, written);
    const config = await loadConfig(configFile);
    const clusters = Object.fromEntries(REGIONS.map((r) => [r, { brokers: [brokers.brokers[r]!], sinkGroup: group }]));
    const tier = createKafkaTier(parseKafka(clusters, topic), {});
    // The sink catches up (writes its in-flight records and commits their offsets) once the job has read the
    // group's offsets and before it reads the day's messages: after the landed listing, as in production.
    const order: string[] = [];
    const catchingUp: typeof tier = {
      regions: tier.regions,
      close: () => tier.close(),
      pinCommitted: async (signal) => {
        const pin = await tier.pinCommitted!(signal);
        order.push('pinned');
        await Promise.all(REGIONS.map((r) => commitToEnd(brokers.brokers[r]!, topic, group)));
        return pin;
      },
      readDay: (w, onBatch, signal, pin) => {
        order.push('read');
        return tier.readDay(w, onBatch, signal, pin);
      },
    };
    // The file tiers say what they count once they are listed: the pin must come before.
    const log = {
      info: (m: string) => void (/^(proxy|gcs): counting/.test(m) && order.push(m.split(':')[0]!)),
      warn: () => undefined,
      error: () => undefined,
    };
    const result = await runReconcile({ config, days, outDir: path.join(dir, 'out'), kafka: catchingUp, log });
    expect(order).toEqual(['pinned', 'proxy', 'gcs', 'read']);
    expect(result.errors).toEqual([]);
    await expectReportsMatch(gen, path.join(dir, 'out'), days, { kafka: REGIONS, bigquery: false });
    const all = result.days[0]!.rows.at(-1)!;
    expect(all.in_flight).toBeGreaterThan(0);
    expect(all.missing_unexplained).toBe(expectedTotal(gen, '2025-03-09', 'missing_unexplained'));
  }, 180_000);

  it("an error of the engine taking the rows is the engine's, not a Kafka cluster's failure", async () => {
    // The first test's topic holds 2025-03-08 to 03-10; the engine runs out of memory on the first batch.
    const kafka = createKafkaTier(parseKafka(clustersOf(brokers)), {});
    const memory = new ResourceError('engine: the embedded engine needed more than its memory limit', 'oom');
    const day = dayWindow('2025-03-09', 'America/Chicago');
    // Thrown as it is (a batch that ran out of memory is read again in halves), never recorded as the cluster's.
    expect(await rejection(kafka.readDay(day, () => Promise.reject(memory)))).toBe(memory);
    const bug = new InternalError('a bug');
    expect(await rejection(kafka.readDay(day, () => Promise.reject(bug)))).toBe(bug);
    await kafka.close();
  }, 60_000);

  it('a broker stopped in the middle of a count makes the kafka tier ERROR, naming the cluster; nothing else is lost', async () => {
    const dir = await tempDir();
    const days = ['2025-03-09'];
    const gen = utcDay(11, 300);
    const written = await writeScenario(gen, dir);
    const configFile = path.join(dir, 'config.json');
    await writeScenarioConfig(configFile, gen, written);
    const config = await loadConfig(configFile);
    // More messages than one fetch returns, so that the read needs the broker after its first batch.
    const topic = `${TOPIC}-mid`;
    const start = Date.UTC(2025, 2, 9);
    for (const region of REGIONS) {
      const k = new Kafka({
        clientId: 'parity-it-producer',
        brokers: [brokers.brokers[region]!],
        logLevel: logLevel.NOTHING,
      });
      const admin = k.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      if (region !== 'EUS2') continue;
      const producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      for (let i = 0; i < 90_000; i += 10_000) {
        await producer.send({
          topic,
          messages: Array.from({ length: 10_000 }, (_, j) => ({
            partition: (i + j) % PARTITIONS,
            key: `m-${i + j}`,
            value: 'x'.repeat(200),
            timestamp: String(start + i + j),
            headers: { 'wm-site-id': 'US' },
          })),
        });
      }
      await producer.disconnect();
    }
    const kafka = createKafkaTier(parseKafka(clustersOf(brokers), topic), {});
    // The EUS2 broker dies as soon as the first batch of its messages has been handed over.
    let killed = false;
    const dying: typeof kafka = {
      regions: kafka.regions,
      close: () => kafka.close(),
      readDay: (w, onBatch, signal) =>
        kafka.readDay(
          w,
          async (rows) => {
            await onBatch(rows);
            if (!killed && rows.some((r) => r.cluster === 'EUS2')) {
              killed = true;
              await brokers.stopOne('EUS2');
            }
          },
          signal,
        ),
    };
    const result = await runReconcile({ config, days, outDir: path.join(dir, 'out'), kafka: dying });
    expect(killed).toBe(true);
    expect(result.exitCode).toBe(3);
    expect(result.errors.join('\n')).toContain('EUS2');
    const all = result.days[0]!.rows.at(-1)!;
    expect(all).toMatchObject({ status: 'ERROR', kafka_records: null, lost_before_kafka: null, in_flight: null });
    // Proxy and GCS were counted whole: parity and the missing list stand, without Kafka's causes.
    expect(all.parity_pct).not.toBeNull();
    expect(result.days[0]!.missingFile).not.toBeNull();
    expect(all.proxy_requests).toBe(expectedTotal(gen, '2025-03-09', 'proxy_requests'));
    expect(all.gcs_records).toBe(expectedTotal(gen, '2025-03-09', 'gcs_records'));
  }, 120_000);

  it('a broker that is down makes the kafka tier ERROR for its days, naming the cluster; the other tiers are still reported', async () => {
    const dir = await tempDir();
    const days = ['2025-03-09'];
    const gen = utcDay(7, 50);
    const written = await writeScenario(gen, dir);
    const configFile = path.join(dir, 'config.json');
    await writeScenarioConfig(configFile, gen, written);
    const config = await loadConfig(configFile);
    await brokers.stopOne('SCUS');
    const kafka = createKafkaTier(parseKafka(clustersOf(brokers)), {});
    const result = await runReconcile({ config, days, outDir: path.join(dir, 'out'), kafka });
    expect(result.exitCode).toBe(3);
    expect(result.errors.join('\n')).toContain('SCUS');
    const all = result.days[0]!.rows.at(-1)!;
    expect(all).toMatchObject({ status: 'ERROR', kafka_records: null });
    expect(all.proxy_requests).toBe(expectedTotal(gen, '2025-03-09', 'proxy_requests'));
    expect(all.gcs_records).not.toBeNull();
  }, 120_000);
});

/** A column of the generator's expected rows of `day`, summed over its sites. */
function expectedTotal(
  gen: ScenarioGenerator,
  day: string,
  column: 'proxy_requests' | 'gcs_records' | 'missing_unexplained',
): number {
  return [...gen.expected.rows.get(day)!.values()].reduce((n, r) => n + (r[column] ?? 0), 0);
}

/** Commits the sink group at every partition's end, as a sink that has written everything would. */
async function commitToEnd(broker: string, topic: string, group: string): Promise<void> {
  const admin = new Kafka({ clientId: 'parity-it-sink', brokers: [broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Each region's broker, with the sink group the scenario committed. */
function clustersOf(brokers: KafkaBrokers): Record<string, { brokers: string[]; sinkGroup: string }> {
  return Object.fromEntries(REGIONS.map((r) => [r, { brokers: [brokers.brokers[r]!], sinkGroup: SINK_GROUP }]));
}

/** A tiers.kafka section for the test's clusters. */
function parseKafka(clusters: Record<string, { brokers: string[]; sinkGroup: string }>, topic = TOPIC) {
  return {
    topic,
    clusters: Object.fromEntries(Object.entries(clusters).map(([r, c]) => [r, { ...c, ssl: false }])),
    siteHeader: 'wm-site-id',
    requestId: { from: 'key' as const },
    connectionTimeoutMs: 3000,
    readTimeoutMs: 60_000,
    outOfOrderMs: 300_000,
  };
}

/** One UTC day of `eventsPerDay` events in the three sites, both regions published, no malformed lines. */
function utcDay(seed: number, eventsPerDay: number, mix = DEFAULT_MIX): ScenarioGenerator {
  const days = ['2025-03-09'];
  const regions = REGIONS;
  return new ScenarioGenerator({
    seed,
    days,
    timezone: 'UTC',
    sites: ['US', 'CA', 'MX'],
    eventsPerDay,
    mix,
    malformedPerDay: 0,
    regions,
    kafka: true,
  });
}
