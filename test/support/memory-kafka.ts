import type { KafkaMessage, LandedCopy } from '../../src/demo/generator.js';
import type { DayWindow } from '../../src/domain.js';
import type { KafkaMessageRow, StreamedRow } from '../../src/domain.js';
import type { BigqueryRangeReader } from '../../src/tiers/bigquery-reader.js';
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
    /** Clusters whose read fails every day: none of their messages is handed over. */
    private readonly failing: readonly string[] = [],
  ) {}

  async readDay(w: DayWindow, onBatch: (rows: KafkaMessageRow[]) => Promise<void>): Promise<KafkaDayRead> {
    const expired = w.startMs < this.expiredBefore ? [...this.regions] : [];
    const rows: KafkaMessageRow[] = this.messages
      .filter((m) => m.ts >= w.startMs && m.ts < w.endMs && !expired.includes(m.region))
      .filter((m) => !this.failing.includes(m.region))
      .map((m) => ({
        cluster: m.region,
        timestampMs: m.ts,
        requestId: m.request_id,
        siteHeader: m.site ?? null,
        inFlight: m.inFlight,
      }));
    await onBatch(rows);
    const offsetTotals = new Map(this.regions.map((r) => [r, rows.filter((m) => m.cluster === r).length]));
    const failures = new Map(
      this.failing.map((r) => [r, `kafka: cluster ${r}: read failed (a test's failing cluster)`]),
    );
    return { offsetTotals, expired, failures, warnings: [] };
  }

  async close(): Promise<void> {}
}

/** The BigQuery tier over generated landed records held in memory: one result row per record. */
export class MemoryBigqueryReader implements BigqueryRangeReader {
  constructor(private readonly copies: readonly LandedCopy[]) {}

  async readRange(
    startMs: number,
    endMs: number,
    _untimedDays: readonly string[],
    onBatch: (rows: StreamedRow[]) => Promise<void>,
  ): Promise<{ bytesProcessed: number | null; rows: number }> {
    const rows: StreamedRow[] = this.copies
      .filter((c) => c.ts >= startMs && c.ts < endMs)
      .map((c) => ({
        region: null,
        timestampMs: c.ts,
        requestId: c.request_id,
        siteHeader: c.site ?? null,
        inFlight: false,
        n: 1,
      }));
    // Two pages, as a real query's results arrive.
    const half = Math.floor(rows.length / 2);
    await onBatch(rows.slice(0, half));
    await onBatch(rows.slice(half));
    return { bytesProcessed: null, rows: rows.length };
  }
}
