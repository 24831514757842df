/**
 * The Kafka adapter (src/tiers/kafka.ts) against two real single-node KRaft brokers, one per region
 * (test/support/kafka-brokers.ts), through kafkajs over loopback sockets. The scenario has known
 * causes (site headers, duplicates, in-flight records, days either side) and every count is exact.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, type IHeaders, Kafka, logLevel, Partitioners } from 'kafkajs';
import { AbortedError, TierError } from '../../src/errors.js';
import { createKafkaTier } from '../../src/tiers/kafka-tier.js';
import {
  readCommittedOffsets,
  readKafkaCluster,
  type KafkaClusterResult,
  type KafkaMessageFact,
  type RequestIdSource,
} from '../../src/tiers/kafka.js';
import { KAFKA_INSTALL_TIMEOUT_MS, startBrokers, type KafkaBrokers } from '../support/kafka-brokers.js';
import { rejection } from '../support/files.js';

/** Starting two brokers takes a few seconds; a first install of the jars takes longer. */
const SETUP_TIMEOUT_MS = Math.max(180_000, KAFKA_INSTALL_TIMEOUT_MS + 60_000);
const TEST_TIMEOUT_MS = 60_000;

const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const TOPIC = `audit-events-${RUN}`;
const EXPIRED_TOPIC = `audit-expired-${RUN}`;
const BIG_TOPIC = `audit-big-${RUN}`;
const SINK_GROUP = `gcs-sink-${RUN}`;
const GROUP_PREFIX = `parity-it-${RUN}-`;
const SITE_HEADER = 'wm-site-id';
const REQUEST_ID_HEADER = 'x-request-id';
const HOUR_MS = 3_600_000;

/** The middle day of three: only it is read. */
const START_MS = Date.UTC(2025, 2, 10);
const END_MS = Date.UTC(2025, 2, 11);

type Region = 'EUS2' | 'SCUS';
const REGIONS: Region[] = ['EUS2', 'SCUS'];

/** [request id, site header or null when the message has none] per partition, in offset order. */
type DayRows = Array<Array<[string, string | null]>>;

/**
 * The middle day. Causes: no header (r-004, r-009, r-104), an unknown site "BR" (r-005, r-010,
 * r-105), duplicates within a cluster (r-003 twice in EUS2, r-104 twice in SCUS), and duplicates
 * across regions (x-001, x-002 in both).
 */
const DAY: Record<Region, DayRows> = {
  EUS2: [
    [
      ['r-001', 'US'],
      ['r-002', 'US'],
      ['r-003', 'CA'],
      ['r-004', null],
      ['r-005', 'BR'],
    ],
    [
      ['r-006', 'US'],
      ['r-007', 'MX'],
      ['r-008', 'CA'],
      ['r-003', 'US'],
    ],
    [
      ['r-009', null],
      ['r-010', 'BR'],
      ['x-001', 'US'],
      ['x-002', 'US'],
    ],
  ],
  SCUS: [
    [
      ['x-001', 'US'],
      ['r-101', 'CA'],
      ['r-102', 'US'],
    ],
    [
      ['r-103', 'MX'],
      ['r-104', null],
      ['r-104', null],
    ],
    [
      ['r-105', 'BR'],
      ['x-002', 'US'],
    ],
  ],
};
/** Messages per partition on the day before and the day after (site US, ids d0-… and d2-…). */
const OTHER_DAY_PER_PARTITION: Record<Region, number> = { EUS2: 2, SCUS: 1 };

/**
 * The sink group's commits. EUS2: partition 0 at offset 5, so its last two messages of the day
 * (offsets 5, 6: r-004, r-005) are in flight; partitions 1 and 2 at their ends. SCUS: partitions 0
 * and 1 at their ends, partition 2 never committed, so its two messages of the day are in flight.
 */
const SINK_COMMITS: Record<Region, Array<{ partition: number; offset: string }>> = {
  EUS2: [
    { partition: 0, offset: '5' },
    { partition: 1, offset: '8' },
    { partition: 2, offset: '8' },
  ],
  SCUS: [
    { partition: 0, offset: '5' },
    { partition: 1, offset: '5' },
  ],
};

interface Produced {
  partition: number;
  timestamp: string;
  key: string;
  value: string;
  headers: IHeaders;
}

function message(partition: number, ts: number, requestId: string, site: string | null): Produced {
  const headers: IHeaders = { [REQUEST_ID_HEADER]: requestId };
  if (site !== null) headers[SITE_HEADER] = site;
  return {
    partition,
    timestamp: String(ts),
    key: requestId,
    value: JSON.stringify({ request: { id: requestId, path: '/v1/audit' }, site, body: 'x'.repeat(64) }),
    headers,
  };
}

/**
 * Every message of a cluster, per partition in timestamp order (so offsets follow time), with the
 * day's edges exercised on partition 0: the day before ends at START_MS - 1, the day starts at
 * START_MS, ends at END_MS - 1, and the next day starts at END_MS.
 */
function scenario(region: Region): Produced[] {
  const out: Produced[] = [];
  DAY[region].forEach((rows, partition) => {
    const others = OTHER_DAY_PER_PARTITION[region];
    for (let i = 0; i < others; i++) {
      const ts = partition === 0 && i === others - 1 ? START_MS - 1 : START_MS - (others - i) * HOUR_MS;
      out.push(message(partition, ts, `d0-${region}-${partition}-${i}`, 'US'));
    }
    rows.forEach(([requestId, site], i) => {
      const ts =
        partition === 0 && i === rows.length - 1 && i > 0 ? END_MS - 1 : START_MS + i * HOUR_MS + partition * 60_000;
      out.push(message(partition, ts, requestId, site));
    });
    for (let i = 0; i < others; i++) {
      const ts = partition === 0 && i === 0 ? END_MS : END_MS + (i + 1) * HOUR_MS;
      out.push(message(partition, ts, `d2-${region}-${partition}-${i}`, 'US'));
    }
  });
  return out;
}

/** Fast failure for the fault tests: a dead broker is noticed in about a second. */
function client(broker: string): Kafka {
  return new Kafka({
    clientId: 'parity-kafka-it',
    brokers: [broker],
    connectionTimeout: 1_000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: logLevel.NOTHING,
  });
}

let brokers: KafkaBrokers;
const clients = {} as Record<Region, Kafka>;
const admins = {} as Record<Region, Admin>;
let startupMs = 0;

beforeAll(async () => {
  const t0 = Date.now();
  brokers = await startBrokers(REGIONS);
  startupMs = Date.now() - t0;
  // The regions in parallel: kafkajs's setOffsets alone takes about 5 s (see below).
  await Promise.all(
    REGIONS.map(async (region) => {
      const broker = brokers.brokers[region];
      if (!broker) throw new Error(`no broker address for ${region}`);
      clients[region] = client(broker);
      const admin = clients[region].admin();
      await admin.connect();
      admins[region] = admin;
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
      const producer = clients[region].producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      // One request: order within a partition is the order given, so offsets follow timestamps.
      await producer.send({ topic: TOPIC, acks: -1, messages: scenario(region) });
      await producer.disconnect();
      // kafkajs commits these by joining the group with a consumer that seeks and waits for one
      // fetch (maxWaitTimeInMs, 5 s): the group must have no members, as a stopped sink's has not.
      await admin.setOffsets({ groupId: SINK_GROUP, topic: TOPIC, partitions: SINK_COMMITS[region] });
    }),
  );
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  for (const admin of Object.values(admins)) await admin.disconnect();
  await brokers?.stop();
}, SETUP_TIMEOUT_MS);

interface Read {
  result: KafkaClusterResult;
  facts: KafkaMessageFact[];
  batches: number;
}

async function read(region: Region, over: Partial<Parameters<typeof readKafkaCluster>[0]> = {}): Promise<Read> {
  const facts: KafkaMessageFact[] = [];
  let batches = 0;
  const result = await readKafkaCluster({
    cluster: region,
    kafka: clients[region],
    topic: TOPIC,
    startMs: START_MS,
    endMs: END_MS,
    siteHeader: SITE_HEADER,
    requestId: { from: 'key' },
    sinkGroup: SINK_GROUP,
    groupIdPrefix: GROUP_PREFIX,
    onBatch: async (batch) => {
      batches++;
      facts.push(...batch);
    },
    ...over,
  });
  return { result, facts, batches };
}

/** The Kafka tier over EUS2's broker alone, as the config makes it: ids from keys. */
function eus2Tier(topic: string, outOfOrderMs: number, sinkGroup?: string): ReturnType<typeof createKafkaTier> {
  return createKafkaTier(
    {
      topic,
      clusters: { EUS2: { brokers: [brokers.brokers.EUS2!], ssl: false, ...(sinkGroup ? { sinkGroup } : {}) } },
      siteHeader: SITE_HEADER,
      requestId: { from: 'key' },
      connectionTimeoutMs: 3_000,
      readTimeoutMs: 30_000,
      outOfOrderMs,
    },
    {},
  );
}

function tally(values: Array<string | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v ?? '(none)'] = (out[v ?? '(none)'] ?? 0) + 1;
  return out;
}

function byOffset(facts: KafkaMessageFact[]): KafkaMessageFact[] {
  return [...facts].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

test('both brokers start within the setup budget', () => {
  // Two brokers on 2 cores answer after about 3 s (5 s when the jars are installed first).
  expect(startupMs).toBeLessThan(90_000);
});

describe('one day of each cluster', () => {
  let eus2: Read;
  let scus: Read;
  beforeAll(async () => {
    eus2 = await read('EUS2');
    scus = await read('SCUS');
  }, TEST_TIMEOUT_MS);

  test('reads exactly the middle day of each cluster, partition by partition', () => {
    expect(eus2.result).toEqual({
      cluster: 'EUS2',
      expired: false,
      partitions: [
        { partition: 0, startOffset: '2', endOffset: '7', committed: '5' },
        { partition: 1, startOffset: '2', endOffset: '6', committed: '8' },
        { partition: 2, startOffset: '2', endOffset: '6', committed: '8' },
      ],
      offsetTotal: 13,
      messagesRead: 13,
      brokenStops: [],
      missed: [],
    });
    expect(scus.result).toEqual({
      cluster: 'SCUS',
      expired: false,
      partitions: [
        { partition: 0, startOffset: '1', endOffset: '4', committed: '5' },
        { partition: 1, startOffset: '1', endOffset: '4', committed: '5' },
        { partition: 2, startOffset: '1', endOffset: '3', committed: null },
      ],
      offsetTotal: 8,
      messagesRead: 8,
      brokenStops: [],
      missed: [],
    });
    expect(eus2.facts).toHaveLength(13);
    expect(scus.facts).toHaveLength(8);
  });

  test('the offsets fast path equals the exact message count of the day', () => {
    for (const r of [eus2, scus]) expect(r.result.offsetTotal).toBe(r.facts.length);
  });

  test('every fact is of the day, including both edges, and none of the days around it', () => {
    for (const { facts } of [eus2, scus]) {
      for (const f of facts) {
        expect(f.timestampMs).toBeGreaterThanOrEqual(START_MS);
        expect(f.timestampMs).toBeLessThan(END_MS);
        expect(f.requestId).not.toMatch(/^d[02]-/);
      }
    }
    const stamps = eus2.facts.map((f) => f.timestampMs);
    expect(stamps).toContain(START_MS);
    expect(stamps).toContain(END_MS - 1);
  });

  test('facts come in offset order with the request id, the raw site header, and the cluster', () => {
    expect(byOffset(eus2.facts).map((f) => [f.partition, f.offset, f.requestId, f.siteHeader])).toEqual([
      [0, '2', 'r-001', 'US'],
      [0, '3', 'r-002', 'US'],
      [0, '4', 'r-003', 'CA'],
      [0, '5', 'r-004', null],
      [0, '6', 'r-005', 'BR'],
      [1, '2', 'r-006', 'US'],
      [1, '3', 'r-007', 'MX'],
      [1, '4', 'r-008', 'CA'],
      [1, '5', 'r-003', 'US'],
      [2, '2', 'r-009', null],
      [2, '3', 'r-010', 'BR'],
      [2, '4', 'x-001', 'US'],
      [2, '5', 'x-002', 'US'],
    ]);
    expect(new Set(eus2.facts.map((f) => f.cluster))).toEqual(new Set(['EUS2']));
    expect(new Set(scus.facts.map((f) => f.cluster))).toEqual(new Set(['SCUS']));
  });

  test('site headers: US, CA, MX, missing, and the unknown BR are told apart', () => {
    expect(tally(eus2.facts.map((f) => f.siteHeader))).toEqual({ US: 6, CA: 2, MX: 1, '(none)': 2, BR: 2 });
    expect(tally(scus.facts.map((f) => f.siteHeader))).toEqual({ US: 3, CA: 1, MX: 1, '(none)': 2, BR: 1 });
  });

  test('duplicates within a cluster and across regions are all reported', () => {
    const dups = (facts: KafkaMessageFact[]): string[] =>
      Object.entries(tally(facts.map((f) => f.requestId)))
        .filter(([, n]) => n > 1)
        .map(([id]) => id);
    expect(dups(eus2.facts)).toEqual(['r-003']);
    expect(dups(scus.facts)).toEqual(['r-104']);
    const scusIds = new Set(scus.facts.map((f) => f.requestId));
    expect([...new Set(eus2.facts.map((f) => f.requestId))].filter((id) => scusIds.has(id)).sort()).toEqual([
      'x-001',
      'x-002',
    ]);
    expect(new Set(eus2.facts.map((f) => f.requestId)).size).toBe(12);
    expect(new Set(scus.facts.map((f) => f.requestId)).size).toBe(7);
  });

  test('messages at or past the sink group commit, or without one, are in flight', () => {
    expect(eus2.facts.filter((f) => f.inFlight).map((f) => f.requestId)).toEqual(['r-004', 'r-005']);
    expect(
      scus.facts
        .filter((f) => f.inFlight)
        .map((f) => f.requestId)
        .sort(),
    ).toEqual(['r-105', 'x-002']);
  });
});

describe('messages stamped out of order within a partition', () => {
  /**
   * One partition of EUS2, in offset order: the day before (p-0), the day (a-1), a record of the day
   * before stamped 30 s before midnight but appended after a-1 (p-2), the day (a-3, a-4), the next
   * day (n-5), a record of the day stamped 40 s before its end but appended after n-5 (a-6), the next
   * day (n-7). Timestamp lookups alone put p-2 in the day's range and a-6 in the next day's.
   */
  const topic = `audit-disorder-${RUN}`;
  const stamps: Array<[string, number]> = [
    ['p-0', START_MS - 2 * HOUR_MS],
    ['a-1', START_MS + 60_000],
    ['p-2', START_MS - 30_000],
    ['a-3', START_MS + HOUR_MS],
    ['a-4', END_MS - 10_000],
    ['n-5', END_MS + 20_000],
    ['a-6', END_MS - 40_000],
    ['n-7', END_MS + 2 * HOUR_MS],
  ];
  const DAY_MS = END_MS - START_MS;
  const readIds = async (startMs: number, endMs: number, outOfOrderMs: number): Promise<Read> =>
    read('EUS2', { topic, startMs, endMs, outOfOrderMs, sinkGroup: undefined });

  beforeAll(async () => {
    await admins.EUS2.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = clients.EUS2.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: stamps.map(([id, ts]) => message(0, ts, id, 'US')),
    });
    await producer.disconnect();
  }, TEST_TIMEOUT_MS);

  test(
    'with the allowance each message counts on the day of its own timestamp, found by whichever read',
    async () => {
      const day = await readIds(START_MS, END_MS, 300_000);
      expect(byOffset(day.facts).map((f) => [f.offset, f.requestId])).toEqual([
        ['1', 'a-1'],
        ['3', 'a-3'],
        ['4', 'a-4'],
        ['6', 'a-6'],
      ]);
      // The fast path still counts the offsets of the day's own instants: [1, 5).
      expect(day.result.partitions).toEqual([{ partition: 0, startOffset: '1', endOffset: '5', committed: null }]);
      expect(day.result.offsetTotal).toBe(4);
      expect(day.result.messagesRead).toBe(4);
      // p-2 is read (it lies after a-1) and left to its own day; the read stops where the lookup said.
      expect(day.result.brokenStops).toEqual([]);
      const before = await readIds(START_MS - DAY_MS, START_MS, 300_000);
      expect(before.facts.map((f) => f.requestId)).toEqual(['p-0', 'p-2']);
      const after = await readIds(END_MS, END_MS + DAY_MS, 300_000);
      expect(after.facts.map((f) => f.requestId)).toEqual(['n-5', 'n-7']);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'without it, a record out of order by more lies past the stop and is found by the messages that check it',
    async () => {
      const day = await readIds(START_MS, END_MS, 0);
      // The lookup of the day's end gives n-5 (offset 5); a-6 after it is stamped in the day: counted, and reported.
      expect(day.facts.map((f) => f.requestId)).toEqual(['a-1', 'a-3', 'a-4', 'a-6']);
      expect(day.result.brokenStops).toEqual([
        { partition: 0, offset: '5', stampMs: END_MS + 20_000, stops: 1, counted: 1 },
      ]);
      // p-2 lies after a-1, the lookup of the day before's end: found by that day's read.
      const before = await readIds(START_MS - DAY_MS, START_MS, 0);
      expect(before.facts.map((f) => f.requestId)).toEqual(['p-0', 'p-2']);
      expect(before.result.brokenStops).toEqual([
        { partition: 0, offset: '1', stampMs: START_MS + 60_000, stops: 1, counted: 1 },
      ]);
      const after = await readIds(END_MS, END_MS + DAY_MS, 0);
      expect(after.facts.map((f) => f.requestId)).toEqual(['n-5', 'n-7']);
      expect(after.result.brokenStops).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'only the messages after a stop are checked: one out of order by more than them is found by no read',
    async () => {
      // With no message checking the stop, the read ends at n-5 and a-6, right after it, is missed.
      const day = await read('EUS2', {
        topic,
        startMs: START_MS,
        endMs: END_MS,
        outOfOrderMs: 0,
        sinkGroup: undefined,
        stopConfirmOffsets: 0,
      });
      expect(day.facts.map((f) => f.requestId)).toEqual(['a-1', 'a-3', 'a-4']);
      expect(day.result.brokenStops).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
  test(
    'the tier takes the allowance from its config and warns, naming the key, when timestamps exceed it',
    async () => {
      const tierOf = (outOfOrderMs: number) => eus2Tier(topic, outOfOrderMs);
      const readDay = async (outOfOrderMs: number) => {
        const ids: Array<string | null> = [];
        const read = await tierOf(outOfOrderMs).readDay(
          { day: '2025-03-10', startMs: START_MS, endMs: END_MS },
          async (rows) => void ids.push(...rows.map((r) => r.requestId)),
        );
        return { ids, warnings: read.warnings, failures: [...read.failures] };
      };
      expect(await readDay(300_000)).toEqual({ ids: ['a-1', 'a-3', 'a-4', 'a-6'], warnings: [], failures: [] });
      const tight = await readDay(0);
      expect(tight.ids).toEqual(['a-1', 'a-3', 'a-4', 'a-6']);
      expect(tight.warnings).toHaveLength(1);
      expect(tight.warnings[0]).toBe(
        `kafka: cluster EUS2: on ${topic}, the day's read did not end where Kafka's offset lookup put it: ` +
          'partition 0 at offset 5 (stamped 2025-03-11T00:00:20.000Z), stamped tiers.kafka.outOfOrderMs (0 ms) ' +
          "or more past the day's end, lay before messages stamped before the day's end, so the read went on and " +
          'counted 1 message of the day found past it. Records are out of order by more than the allowance: ' +
          'raise tiers.kafka.outOfOrderMs',
      );
    },
    TEST_TIMEOUT_MS,
  );
});

describe('a producer whose clock is ahead', () => {
  /**
   * One partition of EUS2, in offset order: the day (d-0), two records of a producer whose clock is 400
   * days ahead (f-1, f-2, in a row), the day (d-3, d-4), the next day (n-5, n-6), the day after (m-7).
   * Kafka's lookup answers offset 1 for every instant up to f-1's stamp: for the day's end (the read of
   * the day would end at d-0) and for both ends of the next two days (their ranges would be empty).
   */
  const topic = `audit-ahead-${RUN}`;
  const DAY_MS = END_MS - START_MS;
  const AHEAD_MS = START_MS + 400 * DAY_MS;
  const stamps: Array<[string, number]> = [
    ['d-0', START_MS + HOUR_MS],
    ['f-1', AHEAD_MS],
    ['f-2', AHEAD_MS + 1_000],
    ['d-3', START_MS + 3 * HOUR_MS],
    ['d-4', END_MS - 60_000],
    ['n-5', END_MS + HOUR_MS],
    ['n-6', END_MS + 5 * HOUR_MS],
    ['m-7', END_MS + DAY_MS + HOUR_MS],
  ];
  const readDay = (startMs: number) =>
    read('EUS2', { topic, startMs, endMs: startMs + DAY_MS, outOfOrderMs: 300_000, sinkGroup: undefined });

  beforeAll(async () => {
    await admins.EUS2.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = clients.EUS2.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: stamps.map(([id, ts]) => message(0, ts, id, 'US')) });
    await producer.disconnect();
  }, TEST_TIMEOUT_MS);

  test(
    'every day still gets exactly its own records, and the reads name the offset and stamp that misled the lookup',
    async () => {
      const ahead = { partition: 0, offset: '1', stampMs: AHEAD_MS, stops: 1 };
      const day = await readDay(START_MS);
      expect(day.facts.map((f) => f.requestId)).toEqual(['d-0', 'd-3', 'd-4']);
      expect(day.result.brokenStops).toEqual([{ ...ahead, counted: 2 }]);
      // The fast path is the lookups' own answer, misled: [0, 1).
      expect(day.result.offsetTotal).toBe(1);
      const next = await readDay(END_MS);
      expect(next.facts.map((f) => f.requestId)).toEqual(['n-5', 'n-6']);
      expect(next.result.brokenStops).toEqual([{ ...ahead, counted: 2 }]);
      expect(next.result.offsetTotal).toBe(0);
      const after = await readDay(END_MS + DAY_MS);
      expect(after.facts.map((f) => f.requestId)).toEqual(['m-7']);
      expect(after.result.brokenStops).toEqual([{ ...ahead, counted: 1 }]);
      // The records stamped ahead count on the day of their stamp, read with no stop to check.
      const theirs = await readDay(START_MS + 400 * DAY_MS);
      expect(theirs.facts.map((f) => f.requestId)).toEqual(['f-1', 'f-2']);
      expect(theirs.result.brokenStops).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('reads that go on past their stop, over several fetches', () => {
  /**
   * One partition, 1.7 MB (fetches hold 1 MiB): the day (1,000 messages, one of them, at offset 500,
   * stamped 400 days ahead), the next day (2,500 messages), a record of the day stamped a minute before its
   * end but appended after them (offset 3,500), and 10 more of the next day.
   */
  const topic = `audit-far-${RUN}`;
  const DAY_MS = END_MS - START_MS;
  const stamps: number[] = [];
  for (let i = 0; i < 1000; i++) stamps.push(i === 500 ? START_MS + 400 * DAY_MS : START_MS + i * 60_000);
  for (let i = 0; i < 2500; i++) stamps.push(END_MS + HOUR_MS + i * 10_000);
  stamps.push(END_MS - 60_000);
  for (let i = 0; i < 10; i++) stamps.push(END_MS + 8 * HOUR_MS + i * 1_000);
  const TRAP = 3500;
  const idOf = (offset: number): string => `m-${offset}`;
  const ofDay = (from: number, to: number): string[] =>
    stamps.flatMap((ts, o) => (ts >= from && ts < to ? [idOf(o)] : []));

  beforeAll(async () => {
    await admins.EUS2.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = clients.EUS2.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let from = 0; from < stamps.length; from += 500) {
      const messages = stamps.slice(from, from + 500).map((ts, i) => ({
        ...message(0, ts, idOf(from + i), 'US'),
        value: 'v'.repeat(480),
      }));
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();
  }, TEST_TIMEOUT_MS);

  test(
    'the day goes on past the message stamped ahead to its own end, and stops 2,000 offsets past that',
    async () => {
      const day = await read('EUS2', { topic, outOfOrderMs: 300_000, sinkGroup: undefined });
      const ids = byOffset(day.facts).map((f) => f.requestId);
      // Everything of the day but the record appended 2,500 offsets after the day's end: the read ended before it.
      expect(ids).toEqual(ofDay(START_MS, END_MS).filter((id) => id !== idOf(TRAP)));
      expect(day.result.brokenStops).toEqual([
        { partition: 0, offset: '500', stampMs: START_MS + 400 * DAY_MS, stops: 1, counted: 499 },
      ]);
      expect(day.result.missed).toEqual([]);
      expect(day.batches).toBeGreaterThan(1);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "the next day reads on from the message stamped ahead, and names the record no day's read counted",
    async () => {
      const next = await read('EUS2', {
        topic,
        startMs: END_MS,
        endMs: END_MS + DAY_MS,
        outOfOrderMs: 300_000,
        sinkGroup: undefined,
      });
      expect(byOffset(next.facts).map((f) => f.requestId)).toEqual(ofDay(END_MS, END_MS + DAY_MS));
      expect(next.result.brokenStops).toEqual([
        { partition: 0, offset: '500', stampMs: START_MS + 400 * DAY_MS, stops: 1, counted: 2510 },
      ]);
      expect(next.result.missed).toEqual([{ partition: 0, offset: String(TRAP), stampMs: END_MS - 60_000, count: 1 }]);
      // With the stop checked by 3,000 offsets, the day's read finds it, and the next names nothing.
      const wide = { topic, outOfOrderMs: 300_000, sinkGroup: undefined, stopConfirmOffsets: 3_000 };
      const day = await read('EUS2', wide);
      expect(day.facts.map((f) => f.requestId)).toContain(idOf(TRAP));
      const after = await read('EUS2', { ...wide, startMs: END_MS, endMs: END_MS + DAY_MS });
      expect(after.result.missed).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'the tier warns of both, saying what to do',
    async () => {
      const read = await eus2Tier(topic, 300_000).readDay(
        { day: '2025-03-11', startMs: END_MS, endMs: END_MS + DAY_MS },
        async () => undefined,
      );
      expect(read.failures.size).toBe(0);
      expect(read.warnings).toEqual([
        `kafka: cluster EUS2: on ${topic}, the day's read did not end where Kafka's offset lookup put it: ` +
          'partition 0 at offset 500 (stamped 2026-04-14T00:00:00.000Z), stamped tiers.kafka.outOfOrderMs ' +
          "(300000 ms) or more past the day's end, lay before messages stamped before the day's end, so the " +
          'read went on and counted 2510 messages of the day found past it. A stop stamped a day or more past ' +
          'the day is a message from a producer whose clock is ahead: fix that clock, or have the brokers refuse ' +
          'such messages (log.message.timestamp.after.max.ms); until retention removes it, every later day ' +
          'reads from it to its own end and warns again (a read longer than tiers.kafka.readTimeoutMs, ' +
          '30000 ms, makes the tier ERROR: raise it meanwhile)',
        `kafka: cluster EUS2: on ${topic}, at least 1 message stamped before the day (the first: partition 0 ` +
          'at offset 3500 (stamped 2025-03-10T23:59:00.000Z)) lies more than 2000 offsets past where its own ' +
          "day's read ended: it counts on no day. Records are out of order by more than " +
          'tiers.kafka.outOfOrderMs (300000 ms): raise it',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a sink group that committed nothing is named, though the lookups put no message in the day',
    async () => {
      expect(await warningsOf(topic, 'no-such-group', END_MS)).toContain(noCommits(topic));
    },
    TEST_TIMEOUT_MS,
  );
});

/** The warning for a sink group that committed nothing, on `topic`. */
const noCommits = (topic: string): string =>
  `kafka: cluster EUS2: sink group "no-such-group" has no committed offsets on ${topic}; ` +
  'check tiers.kafka.clusters.EUS2.sinkGroup';

/** The warnings of the EUS2 tier's read of the day from `startMs`, with `sinkGroup`. */
async function warningsOf(topic: string, sinkGroup: string, startMs = START_MS): Promise<string[]> {
  const window = { day: 'd', startMs, endMs: startMs + (END_MS - START_MS) };
  return (await eus2Tier(topic, 300_000, sinkGroup).readDay(window, async () => undefined)).warnings;
}

describe('a sink group with no committed offsets', () => {
  test(
    'is named as likely misspelt, and a group that committed is not',
    async () => {
      expect(await warningsOf(TOPIC, 'no-such-group')).toEqual([noCommits(TOPIC)]);
      expect(await warningsOf(TOPIC, SINK_GROUP)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('sink offsets read beforehand', () => {
  test(
    'offsets passed in decide what is in flight, not what the group has committed since',
    async () => {
      // EUS2's group has partition 0 at 5 and the others at their ends; pinned earlier, partition 0 stood at 4.
      const { facts } = await read('EUS2', {
        committed: new Map([
          [0, '4'],
          [1, '8'],
          [2, '8'],
        ]),
      });
      expect(facts.filter((f) => f.inFlight).map((f) => f.requestId)).toEqual(['r-003', 'r-004', 'r-005']);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "readCommittedOffsets gives the group's offsets per partition, and names the cluster when it cannot",
    async () => {
      const got = await readCommittedOffsets({
        cluster: 'SCUS',
        kafka: clients.SCUS,
        topic: TOPIC,
        sinkGroup: SINK_GROUP,
      });
      expect([...got].sort()).toEqual([
        [0, '5'],
        [1, '5'],
      ]);
      const none = await readCommittedOffsets({
        cluster: 'SCUS',
        kafka: clients.SCUS,
        topic: TOPIC,
        sinkGroup: `no-${RUN}`,
      });
      expect(none.size).toBe(0);
      const dead = await rejection(
        readCommittedOffsets({
          cluster: 'SCUS',
          kafka: client('127.0.0.1:1'),
          topic: TOPIC,
          sinkGroup: SINK_GROUP,
          connectTimeoutMs: 1_000,
        }),
      );
      expect(dead).toBeInstanceOf(TierError);
      expect((dead as TierError).message).toMatch(/cluster SCUS.*cannot read the sink group's offsets/);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('request id sources', () => {
  const sources: Array<[string, RequestIdSource]> = [
    ['the key', { from: 'key' }],
    ['a header', { from: 'header', name: REQUEST_ID_HEADER }],
    ['a dotted field of the JSON value', { from: 'value', field: 'request.id' }],
  ];
  test.each(sources)(
    'decodes the request id from %s',
    async (_, requestId) => {
      const { facts } = await read('EUS2', { requestId });
      expect(byOffset(facts).map((f) => f.requestId)).toEqual([
        'r-001',
        'r-002',
        'r-003',
        'r-004',
        'r-005',
        'r-006',
        'r-007',
        'r-008',
        'r-003',
        'r-009',
        'r-010',
        'x-001',
        'x-002',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a header or field that is not there gives a null request id, not an error',
    async () => {
      const byHeader = await read('SCUS', { requestId: { from: 'header', name: 'no-such-header' } });
      const byField = await read('SCUS', { requestId: { from: 'value', field: 'request.nope' } });
      expect(byHeader.facts.map((f) => f.requestId)).toEqual(Array(8).fill(null));
      expect(byField.facts.map((f) => f.requestId)).toEqual(Array(8).fill(null));
    },
    TEST_TIMEOUT_MS,
  );
});

describe('what a read leaves behind and when it reads nothing', () => {
  test(
    'no consumer group is left on either cluster but the sink group',
    async () => {
      await read('EUS2');
      await read('SCUS');
      for (const region of REGIONS) {
        const { groups } = await admins[region].listGroups();
        expect(groups.map((g) => g.groupId)).toEqual([SINK_GROUP]);
      }
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'without a sink group nothing is in flight and no commit is reported',
    async () => {
      const { result, facts } = await read('SCUS', { sinkGroup: undefined });
      expect(facts.filter((f) => f.inFlight)).toHaveLength(0);
      expect(result.partitions.map((p) => p.committed)).toEqual([null, null, null]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'partitions whose range is empty are skipped: a 1 ms window holds one message of partition 0',
    async () => {
      const { result, facts } = await read('EUS2', { startMs: END_MS - 1, endMs: END_MS });
      expect(result.partitions.map((p) => [p.partition, p.startOffset, p.endOffset])).toEqual([
        [0, '6', '7'],
        [1, '6', '6'],
        [2, '6', '6'],
      ]);
      expect(result.offsetTotal).toBe(1);
      expect(facts.map((f) => [f.partition, f.offset, f.requestId, f.timestampMs])).toEqual([
        [0, '6', 'r-005', END_MS - 1],
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a day without messages is counted from offsets alone: zero, no batch, no group',
    async () => {
      const later = { startMs: END_MS + 10 * 24 * HOUR_MS, endMs: END_MS + 11 * 24 * HOUR_MS };
      const { result, batches } = await read('EUS2', later);
      expect(result.offsetTotal).toBe(0);
      expect(result.messagesRead).toBe(0);
      expect(result.expired).toBe(false);
      expect(result.partitions.map((p) => [p.startOffset, p.endOffset])).toEqual([
        ['9', '9'],
        ['8', '8'],
        ['8', '8'],
      ]);
      expect(batches).toBe(0);
      const { groups } = await admins.EUS2.listGroups();
      expect(groups.map((g) => g.groupId)).toEqual([SINK_GROUP]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('retention', () => {
  beforeAll(async () => {
    const admin = admins.EUS2;
    // A size limit (never reached here): the topic's settings cannot rule out that retention removed a day's
    // records, so what the deletions below leave is judged by the records left alone.
    await admin.createTopics({
      topics: [
        {
          topic: EXPIRED_TOPIC,
          numPartitions: 1,
          configEntries: [{ name: 'retention.bytes', value: String(1 << 30) }],
        },
      ],
      waitForLeaders: true,
    });
    const producer = clients.EUS2.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    // Offsets 0-2 the day before, 3-5 the day, 6 the day after.
    const ts = [
      START_MS - 3 * HOUR_MS,
      START_MS - 2 * HOUR_MS,
      START_MS - HOUR_MS,
      START_MS + HOUR_MS,
      START_MS + 2 * HOUR_MS,
      START_MS + 3 * HOUR_MS,
      END_MS + HOUR_MS,
    ];
    await producer.send({ topic: EXPIRED_TOPIC, acks: -1, messages: ts.map((t, i) => message(0, t, `e-${i}`, 'US')) });
    await producer.disconnect();
  }, TEST_TIMEOUT_MS);

  test(
    'a compacted topic is refused, naming the setting: its time lookups answer nothing for a day it holds',
    async () => {
      const topic = `audit-compacted-${RUN}`;
      await admins.EUS2.createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        waitForLeaders: true,
      });
      const producer = clients.EUS2.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [message(0, START_MS + HOUR_MS, 'c-1', 'US')] });
      await producer.disconnect();
      await expect(read('EUS2', { topic, sinkGroup: undefined })).rejects.toThrow(
        /topic audit-compacted-\S+ is compacted \(cleanup\.policy=compact\).*audit a topic with cleanup\.policy=delete/,
      );
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a day whose first records were deleted is expired, and what is left is still read',
    async () => {
      // As retention would: offsets 0-3 go, the first record of the day among them. kafkajs's
      // deleteTopicRecords looks leaders up in the admin's cached metadata only, which holds a topic
      // once the admin has asked about it: fetchTopicOffsets does.
      await admins.EUS2.fetchTopicOffsets(EXPIRED_TOPIC);
      await admins.EUS2.deleteTopicRecords({ topic: EXPIRED_TOPIC, partitions: [{ partition: 0, offset: '4' }] });
      const { result, facts } = await read('EUS2', { topic: EXPIRED_TOPIC, sinkGroup: undefined });
      expect(result.expired).toBe(true);
      expect(result.partitions).toEqual([{ partition: 0, startOffset: '4', endOffset: '6', committed: null }]);
      expect(result.offsetTotal).toBe(2);
      expect(facts.map((f) => f.requestId)).toEqual(['e-4', 'e-5']);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'with an allowance, a record left just before the day may follow deleted ones of the day: expired',
    async () => {
      // Offsets 0-3 are gone; e-4 (START + 2 h) is the first left. A day starting just after it reads
      // from e-5: not expired without an allowance, but with one hour e-3 (START + 1 h, deleted) could
      // have been of that day, so the day is expired.
      const window = { topic: EXPIRED_TOPIC, sinkGroup: undefined, startMs: START_MS + 2 * HOUR_MS + 1 };
      const without = await read('EUS2', { ...window, outOfOrderMs: 0 });
      const within = await read('EUS2', { ...window, outOfOrderMs: HOUR_MS });
      expect([without.result.expired, within.result.expired]).toEqual([false, true]);
      expect(within.facts.map((f) => f.requestId)).toEqual(['e-5']);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a later day whose records are all retained is not expired',
    async () => {
      const { result } = await read('EUS2', {
        topic: EXPIRED_TOPIC,
        sinkGroup: undefined,
        startMs: END_MS,
        endMs: END_MS + 24 * HOUR_MS,
      });
      expect(result.expired).toBe(false);
      expect(result.offsetTotal).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "a partition that retention has emptied: expired only where the topic's retention could have removed the day",
    async () => {
      // A quiet partition loses its last records to retention and stays empty (low = high): nothing is left
      // before the day to show that the removed records were older. Under time retention alone, a day
      // younger than retention.ms cannot have lost a record; past it, or with a size limit, it can.
      const YEAR_MS = 365 * 24 * HOUR_MS;
      const topics = [
        { name: `audit-emptied-${RUN}`, retentionMs: 10 * YEAR_MS, bytes: -1 },
        { name: `audit-emptied-old-${RUN}`, retentionMs: YEAR_MS, bytes: -1 },
        { name: `audit-emptied-sized-${RUN}`, retentionMs: 10 * YEAR_MS, bytes: 1 << 30 },
      ];
      expect(Date.now() - START_MS).toBeGreaterThan(YEAR_MS); // the day is older than the second topic's retention
      const admin = admins.EUS2;
      await admin.createTopics({
        topics: topics.map((t) => ({
          topic: t.name,
          numPartitions: 1,
          configEntries: [
            { name: 'retention.ms', value: String(t.retentionMs) },
            { name: 'retention.bytes', value: String(t.bytes) },
          ],
        })),
        waitForLeaders: true,
      });
      const producer = clients.EUS2.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      const expired: boolean[] = [];
      try {
        for (const t of topics) {
          const stamps = [START_MS - 2 * HOUR_MS, START_MS + HOUR_MS, START_MS + 2 * HOUR_MS];
          await producer.send({
            topic: t.name,
            acks: -1,
            messages: stamps.map((ts, i) => message(0, ts, `q-${i}`, 'US')),
          });
          await admin.fetchTopicOffsets(t.name);
          await admin.deleteTopicRecords({ topic: t.name, partitions: [{ partition: 0, offset: '-1' }] });
          expect(await admin.fetchTopicOffsets(t.name)).toEqual([
            expect.objectContaining({ partition: 0, low: '3', high: '3' }),
          ]);
          const { result, facts } = await read('EUS2', { topic: t.name, sinkGroup: undefined });
          expect([result.offsetTotal, facts.length]).toEqual([0, 0]);
          expired.push(result.expired);
        }
      } finally {
        await producer.disconnect();
      }
      expect(expired).toEqual([false, true, true]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'the main topic, never truncated, is not expired',
    async () => {
      const { result } = await read('SCUS');
      expect(result.expired).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});

/**
 * `topic` with 2,000 messages of 2 KiB in one partition, stamped in the day: more than one fetch's worth
 * (MAX_BYTES_PER_PARTITION, 1 MiB), so a read of it takes several batches.
 */
async function bigTopic(topic: string): Promise<void> {
  await admins.EUS2.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = clients.EUS2.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const body = 'z'.repeat(2048);
  for (let chunk = 0; chunk < 10; chunk++) {
    const messages = Array.from({ length: 200 }, (_, i) => ({
      partition: 0,
      timestamp: String(START_MS + chunk * 200 + i),
      key: `m-${chunk * 200 + i}`,
      value: body,
    }));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

describe('a read that kafkajs would move', () => {
  test('a rejoin mid-read (a batch handled past the session timeout) goes on where the read stood: every message once', async () => {
    const topic = `audit-rejoin-${RUN}`;
    await bigTopic(topic);
    let batches = 0;
    const ids: string[] = [];
    const { result } = await read('EUS2', {
      topic,
      sinkGroup: undefined,
      // The broker's least; the first batch then takes longer, so the coordinator drops the member and it rejoins.
      sessionTimeoutMs: 6_000,
      onBatch: async (facts) => {
        if (++batches === 1) await sleep(9_000);
        ids.push(...facts.map((f) => f.requestId!));
      },
    });
    // Before, the rejoin put the read at the log's end (the group never commits) and it ended there, short.
    expect(batches).toBeGreaterThan(1);
    expect(result.messagesRead).toBe(2000);
    expect(new Set(ids).size).toBe(2000);
  }, 60_000);

  test(
    'records deleted while they are read fail the read, naming what is gone, rather than end it short',
    async () => {
      const topic = `audit-trimmed-${RUN}`;
      await bigTopic(topic);
      await admins.EUS2.fetchTopicOffsets(topic);
      let batches = 0;
      let later: Promise<void> | undefined;
      const e = await rejection(
        read('EUS2', {
          topic,
          sinkGroup: undefined,
          readTimeoutMs: 30_000,
          onBatch: async () => {
            if (++batches > 1) return;
            // As retention would, ahead of the read: its next fetch is out of range, and kafkajs goes to the log's
            // end, where the topic, being live, gets a new message a moment later.
            await admins.EUS2.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1500' }] });
            later = sleep(3_000).then(async () => {
              const producer = clients.EUS2.producer({ createPartitioner: Partitioners.DefaultPartitioner });
              await producer.connect();
              await producer.send({ topic, acks: -1, messages: [message(0, END_MS + HOUR_MS, 'later', 'US')] });
              await producer.disconnect();
            });
          },
        }),
      );
      await later;
      expect(e).toBeInstanceOf(TierError);
      expect((e as TierError).message).toMatch(/partition 0: offsets \d+ to 1499 were deleted while the read stood at/);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('failures', () => {
  test(
    'a topic that does not exist is a TierError that a retry will not fix',
    async () => {
      const e = await rejection(read('EUS2', { topic: `no-such-topic-${RUN}` }));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ tier: 'kafka', object: 'cluster EUS2', retriable: false });
      expect((e as TierError).message).toContain(`no-such-topic-${RUN}`);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'an error of onBatch is passed through as it is, and no group is left behind',
    async () => {
      class Boom extends Error {}
      const e = await rejection(
        read('EUS2', {
          onBatch: async () => {
            throw new Boom('disk full');
          },
        }),
      );
      expect(e).toBeInstanceOf(Boom);
      const { groups } = await admins.EUS2.listGroups();
      expect(groups.map((g) => g.groupId)).toEqual([SINK_GROUP]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'an aborted signal stops the read with AbortedError, before or during it',
    async () => {
      await expect(read('EUS2', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
      const controller = new AbortController();
      await expect(
        read('EUS2', {
          signal: controller.signal,
          onBatch: async () => {
            controller.abort();
          },
        }),
      ).rejects.toBeInstanceOf(AbortedError);
      const { groups } = await admins.EUS2.listGroups();
      expect(groups.map((g) => g.groupId)).toEqual([SINK_GROUP]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a read past its deadline fails with a retriable TierError that says where it stood',
    async () => {
      const e = await rejection(
        read('EUS2', {
          readTimeoutMs: 1_000,
          onBatch: () => sleep(1_500),
        }),
      );
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ tier: 'kafka', object: 'cluster EUS2', retriable: true });
      expect((e as TierError).message).toMatch(/unfinished: partition \d at (its start|offset \d+) of \[2, [89]\)/);
      expect((e as TierError).message).toContain('no answer within');
      const { groups } = await admins.EUS2.listGroups();
      expect(groups.map((g) => g.groupId)).toEqual([SINK_GROUP]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a broker stopped before the read makes it fail with a retriable TierError naming the cluster',
    async () => {
      await admins.SCUS.disconnect();
      delete (admins as Partial<Record<Region, Admin>>).SCUS;
      await brokers.stopOne('SCUS');
      const started = Date.now();
      const e = await rejection(read('SCUS'));
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ tier: 'kafka', object: 'cluster SCUS', retriable: true });
      expect((e as TierError).message).toMatch(/^kafka: cluster SCUS: /);
      expect(Date.now() - started).toBeLessThan(30_000);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a broker that dies mid-read makes it fail with a retriable TierError naming the cluster',
    async () => {
      // Several batches, so that the read still needs the broker after its first.
      await bigTopic(BIG_TOPIC);
      const admin = admins.EUS2;
      await admin.disconnect();
      delete (admins as Partial<Record<Region, Admin>>).EUS2;

      let batches = 0;
      const e = await rejection(
        read('EUS2', {
          topic: BIG_TOPIC,
          sinkGroup: undefined,
          onBatch: async () => {
            batches++;
            if (batches === 1) await brokers.stopOne('EUS2');
          },
        }),
      );
      expect(e).toBeInstanceOf(TierError);
      expect(e).toMatchObject({ tier: 'kafka', object: 'cluster EUS2', retriable: true });
      expect((e as TierError).message).toMatch(
        /^kafka: cluster EUS2: read failed \(unfinished: partition 0 at offset \d+ of \[0, 2000\)\)/,
      );
      expect(batches).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );
});
