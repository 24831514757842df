/**
 * `compare` end to end: payloads published to two real KRaft brokers (one per region), the landed
 * tier as NDJSON files with some fields cut short, rewritten or dropped on the way, reconciled by the
 * built CLI. mismatch-DAY.csv and the content_mismatch column must name exactly the ids and fields
 * that were altered; without `compare` neither says anything.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import {
  COMPARE,
  COMPARE_IDS,
  DAY,
  expectedMismatches,
  finalRecords,
  HOSTILE,
  kafkaRows,
  SITES,
} from '../contract/compare-contract.js';
import { runCli, tempDir, writeNdjson } from '../support/files.js';
import { KAFKA_INSTALL_TIMEOUT_MS, type KafkaBrokers, startBrokers } from '../support/kafka-brokers.js';

const REGIONS = ['EUS2', 'SCUS'];
const TOPIC = `audit-api-logs-compare-${Date.now().toString(36)}`;

/** Publishes the fixture's messages of one region, the request id as key, the payload as value. */
async function publish(broker: string, region: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'parity-it-producer', brokers: [broker], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: TOPIC, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    const rows = kafkaRows().filter((r) => r.region === region);
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: rows.map((r, i) => ({
        partition: i % 2,
        key: r.requestId!,
        value: r.payload!,
        timestamp: String(r.timestampMs),
        headers: { 'wm-site-id': r.siteHeader! },
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Records as the RFC 4180 file holds them (ids with a newline or quotes included). */
function records(text: string): Record<string, string>[] {
  return parse(text, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
}

describe('compare on payloads read from two regional brokers', () => {
  let brokers: KafkaBrokers;
  let dir: string;
  beforeAll(
    async () => {
      brokers = await startBrokers(REGIONS);
      for (const region of REGIONS) await publish(brokers.brokers[region]!, region);
      dir = await tempDir('parity-compare-it-');
      // Every id was accepted by the proxy; the landed tier holds the records, some altered on the way.
      const ids = [...new Map(COMPARE_IDS.map((c) => [c.requestId, c.site]))];
      await writeNdjson(
        path.join(dir, 'proxy', `dt=${DAY}`, 'access.ndjson'),
        ids.map(([requestId, site], i) => ({
          timestamp: Date.parse(`${DAY}T09:00:00Z`) + i,
          request_id: requestId,
          site,
          status: 200,
        })),
      );
      await writeNdjson(
        path.join(dir, 'landed', `dt=${DAY}`, 'part-0.ndjson'),
        finalRecords().map(({ ts, ...r }) => ({ timestamp: ts, ...r })),
      );
    },
    Math.max(180_000, KAFKA_INSTALL_TIMEOUT_MS + 60_000),
  );
  afterAll(async () => {
    await brokers?.stop();
  });

  /** Runs the built CLI on the day with a config of the test's tiers (and `compare` when given). */
  async function reconcile(name: string, compare?: string[]): Promise<{ out: string; log: string }> {
    const config = path.join(dir, `${name}.json`);
    const clusters = Object.fromEntries(REGIONS.map((r) => [r, { brokers: [brokers.brokers[r]!] }]));
    const doc = {
      timezone: 'UTC',
      sites: SITES,
      tiers: {
        proxy: { locations: ['proxy/dt={date}/'] },
        gcs: { locations: ['landed/dt={date}/'] },
        kafka: { topic: TOPIC, connectionTimeoutMs: 3000, readTimeoutMs: 60_000, clusters },
      },
      ...(compare ? { compare } : {}),
    };
    await writeFile(config, JSON.stringify(doc));
    const out = path.join(dir, `out-${name}`);
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    // FAIL rows (the fixture's ids are few) exit 1; anything else is not a count.
    expect([run.code, run.stderr.includes('compare: ')]).toEqual([1, false]);
    return { out, log: run.stdout + run.stderr };
  }

  it('lists the ids whose payload was cut, rewritten or dropped, with the fields, guarded and quoted, and counts them per site', async () => {
    const { out, log } = await reconcile('compare', COMPARE);
    const text = await readFile(path.join(out, `mismatch-${DAY}.csv`), 'utf8');
    const expected = expectedMismatches();
    expect(records(text)).toEqual(
      expected.map((m) => ({
        date: DAY,
        site: m.site,
        // the formula guard: a request id starting with = gets one ' in front
        request_id: m.requestId.startsWith('=') ? `'${m.requestId}` : m.requestId,
        fields: m.fields.join(';'),
      })),
    );
    // The hostile id is one quoted field, its quotes doubled and its newline kept inside the quotes.
    expect(text).toContain(`"'${HOSTILE.replaceAll('"', '""')}"`);

    const parityText = await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8');
    const parity = records(parityText);
    const header = parityText.split('\r\n')[0]!.split(',');
    expect(header.at(-1)).toBe('content_mismatch');
    expect(header.slice(-3, -1)).toEqual(['kafka_eus2', 'kafka_scus']);
    const bySite = (site: string) => expected.filter((m) => m.site === site).length;
    expect(parity.map((r) => [r.site, r.content_mismatch])).toEqual([
      ...SITES.map((s) => [s, String(bySite(s))]),
      ['ALL', String(expected.length)],
    ]);

    const manifest = JSON.parse(await readFile(path.join(out, `manifest-${DAY}.json`), 'utf8')) as {
      files: { mismatch?: { name: string } | null };
    };
    expect(manifest.files.mismatch?.name).toBe(`mismatch-${DAY}.csv`);
    // The day's log line says it too.
    expect(log).toContain(`content_mismatch ${expected.length}`);
  }, 120_000);

  it('without compare writes no mismatch file and leaves content_mismatch empty', async () => {
    const { out, log } = await reconcile('plain');
    expect(log).not.toContain('content_mismatch');
    await expect(readFile(path.join(out, `mismatch-${DAY}.csv`), 'utf8')).rejects.toThrow(/ENOENT/);
    const parity = records(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
    expect(parity.map((r) => r.content_mismatch)).toEqual(parity.map(() => ''));
    const manifest = JSON.parse(await readFile(path.join(out, `manifest-${DAY}.json`), 'utf8')) as {
      files: Record<string, unknown>;
    };
    expect('mismatch' in manifest.files).toBe(false);
  }, 120_000);
});
