import type { KafkaMessage } from '../../src/demo/generator.js';
import type { DayWindow } from '../../src/domain.js';
import type { KafkaMessageRow } from '../../src/engine/duckdb-engine.js';
import type { KafkaDayRead, KafkaTierReader } from '../../src/tiers/kafka-reader.js';

/**
 * The Kafka tier as the job sees it, over generated messages held in memory: for testing the
 * engine and attribution with Kafka data. The adapter itself is tested against real brokers
 * (test/integration/kafka*.test.ts).
 */
export class MemoryKafkaReader implements KafkaTierReader {
  constructor(
    readonly regions: readonly string[],
    private readonly messages: readonly KafkaMessage[],
    private readonly expiredBefore: number = Number.NEGATIVE_INFINITY,
  ) {}

  async readDay(w: DayWindow, onBatch: (rows: KafkaMessageRow[]) => Promise<void>): Promise<KafkaDayRead> {
    const expired = w.startMs < this.expiredBefore ? [...this.regions] : [];
    const rows: KafkaMessageRow[] = this.messages
      .filter((m) => m.ts >= w.startMs && m.ts < w.endMs && !expired.includes(m.region))
      .map((m) => ({ cluster: m.region, timestampMs: m.ts, requestId: m.request_id, siteHeader: m.site ?? null, inFlight: m.inFlight }));
    await onBatch(rows);
    const offsetTotals = new Map(this.regions.map((r) => [r, rows.filter((m) => m.cluster === r).length]));
    return { offsetTotals, expired, failures: new Map() };
  }

  async close(): Promise<void> {}
}
