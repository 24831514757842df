import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import type { KafkaMessage, LandedCopy } from '../../src/demo/generator.js';
import { tempDir, writeConfig, writeNdjson } from '../support/files.js';
import { MemoryBigqueryReader, MemoryKafkaReader } from '../support/memory-kafka.js';

/** Hand-made cases where two facts of one id meet at an edge the generated scenarios do not reach. */
const DAY = '2025-03-09';
const at = (iso: string) => Date.parse(iso);
const REGIONS = ['EUS2', 'SCUS'];

async function run(
  proxy: Record<string, unknown>[],
  landed: Record<string, unknown>[],
  kafka: KafkaMessage[],
  options: { bigquery?: LandedCopy[]; failing?: string[] } = {},
) {
  const dir = await tempDir();
  await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), proxy);
  await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), landed);
  const config = await loadConfig(await writeConfig(dir, { sites: ['US', 'CA'] }));
  const out = path.join(dir, 'out');
  await runReconcile({
    config,
    days: [DAY],
    outDir: out,
    kafka: new MemoryKafkaReader(REGIONS, kafka, Number.NEGATIVE_INFINITY, options.failing ?? []),
    ...(options.bigquery ? { bigquery: new MemoryBigqueryReader(options.bigquery) } : {}),
  });
  const csv = async (kind: string) =>
    parse(await readFile(path.join(out, `${kind}-${DAY}.csv`), 'utf8'), { columns: true }) as Record<string, string>[];
  return { parity: await csv('parity'), missing: await csv('missing'), windows: await csv('windows') };
}

const line = (rid: string, ts: string, site: string | undefined, status?: number) => ({
  timestamp: ts,
  request_id: rid,
  ...(site === undefined ? {} : { site }),
  ...(status ? { status } : {}),
});
const message = (rid: string, ts: string, site: string | undefined, region = 'EUS2'): KafkaMessage => ({
  region,
  ts: at(ts),
  request_id: rid,
  site,
  inFlight: false,
});
const copy = (rid: string, ts: string, site: string): LandedCopy => ({
  ts: at(ts),
  request_id: rid,
  site,
  region: 'EUS2',
  folderDay: DAY,
  bucketSite: site,
});

describe('attribution at the edges of two facts', () => {
  it('an id in GCS but not yet in BigQuery (the final tier), its message stamped past midnight, is no publisher loss', async () => {
    // Accepted in the day's last moment; sent, and so stamped, after midnight: Kafka's next day holds it.
    const edge = '2025-03-09T23:59:59.990Z';
    const { parity, missing, windows } = await run(
      [line('ok', '2025-03-09T12:00:00Z', 'US', 200), line('edge', edge, 'US', 200)],
      [line('ok', '2025-03-09T12:00:00Z', 'US'), line('edge', edge, 'US')],
      [message('ok', '2025-03-09T12:00:00.020Z', 'US'), message('edge', '2025-03-10T00:00:00.010Z', 'US')],
      { bigquery: [copy('ok', '2025-03-09T12:00:00Z', 'US')] },
    );
    expect(missing.map((m) => [m.site, m.request_id, m.last_tier, m.cause])).toEqual([
      ['US', 'edge', 'gcs', 'unexplained'],
    ]);
    const us = parity.find((r) => r.site === 'US')!;
    expect([us.missing, us.lost_before_kafka, us.missing_unexplained]).toEqual(['1', '0', '1']);
    // The loss windows give it the same cause: they read the one rule with the same facts.
    expect(windows.map((w) => [w.site, w.missing, w.leading_cause])).toEqual([['US', '1', 'unexplained']]);
  });

  it('with a cluster unread, an id is not unroutable for the copies the other holds: the proxy header decides', async () => {
    // The header was logged empty (none) by the proxy; EUS2's copy has it empty (present, naming no site),
    // SCUS's none. Read whole, the copies do not all name no site: unexplained. SCUS unread must not change that.
    const proxy = [line('ok', '2025-03-09T12:00:00Z', 'US', 200), line('hdr', '2025-03-09T12:00:00Z', '', 200)];
    const landed = [line('ok', '2025-03-09T12:00:00Z', 'US')];
    const kafka = [
      message('ok', '2025-03-09T12:00:00.020Z', 'US'),
      message('hdr', '2025-03-09T12:00:00.020Z', ''),
      message('hdr', '2025-03-09T12:00:00.030Z', undefined, 'SCUS'),
    ];
    const whole = await run(proxy, landed, kafka);
    const unread = await run(proxy, landed, kafka, { failing: ['SCUS'] });
    for (const { missing, parity } of [whole, unread]) {
      expect(missing.map((m) => [m.site, m.request_id, m.cause])).toEqual([['UNKNOWN', 'hdr', 'unexplained']]);
      const unknown = parity.find((r) => r.site === 'UNKNOWN')!;
      expect([unknown.missing, unknown.unknown_site]).toEqual(['1', '0']);
    }
    expect(unread.parity.find((r) => r.site === 'ALL')!.status).toBe('ERROR');
  });
});
