import type { Admin } from 'kafkajs';

/** One partition's offset range for the day: [startOffset, endOffset), from the day's own instants. */
export interface KafkaPartitionRange {
  partition: number;
  startOffset: string;
  endOffset: string;
  /** The sink group's committed offset; null when it has none (or no sink group was given). */
  committed: string | null;
}

/**
 * A partition's range for the day; `stop`, the first offset stamped the disorder allowance past the day's
 * last instant: the first place the read may end (src/tiers/kafka-stop.ts); the high watermark, past
 * which it never reads; and whether retention may have removed some of the day's records.
 */
export interface KafkaDayRange extends KafkaPartitionRange {
  stop: string;
  high: string;
  expired: boolean;
}

/** What the offset lookups need to know of the read. */
export interface KafkaRangeQuery {
  topic: string;
  /** The day as [startMs, endMs) of message timestamps. */
  startMs: number;
  endMs: number;
  /** The sink connector's consumer group, whose committed offsets are fetched when given. */
  sinkGroup?: string;
  /**
   * The sink group's committed offsets as read earlier (readCommittedOffsets), before the landed tier
   * was listed: used instead of reading them now, which would take in what the sink wrote after the listing.
   */
  committed?: ReadonlyMap<number, string>;
  /** How far a message's timestamp may be out of order within its partition: the read ends no sooner than this past the day. */
  outOfOrderMs?: number;
}

/**
 * Every partition's range for the day, sorted by partition: the offsets whose timestamps fall in
 * [startMs, endMs) (from offsets-by-timestamp), the first place the read may end (`outOfOrderMs` past
 * the day's end), the sink group's committed offset, and whether retention may have removed records of the day.
 */
export async function fetchRanges(admin: Admin, query: KafkaRangeQuery): Promise<KafkaDayRange[]> {
  const { topic } = query;
  const margin = query.outOfOrderMs ?? 0;
  const watermarks = await admin.fetchTopicOffsets(topic);
  // kafkajs answers each with the first offset whose timestamp is >= the given time, and, when no
  // message is that late, with the high watermark: so [start, end) is exactly the day's records as
  // long as timestamps grow with offsets within a partition. Producers' clocks and delivery retries
  // (a record is stamped when sent, appended up to delivery.timeout.ms later) break that by a bounded
  // amount. No record of the day lies before `start` (the first offset stamped at or after the day's
  // start, whatever the order), but one can lie after `end`, behind a record of the next day: the read
  // ends no sooner than the first offset stamped `margin` after the day's end (later where the day's
  // messages lie past it, or a message stamped ahead misled the lookup: src/tiers/kafka-stop.ts), and the
  // reader keeps the messages stamped in the day, so each counts on its own day whichever day's read finds it.
  const lookup = async (ms: number) => byPartition(await admin.fetchTopicOffsetsByTimestamp(topic, ms));
  const startOf = await lookup(query.startMs);
  const endOf = await lookup(query.endMs);
  const stopOf = margin > 0 ? await lookup(query.endMs + margin) : endOf;
  // Only for retention: records deleted before the low watermark may be of the day unless a record
  // still there, before the day's records, is stamped more than the allowance before the day.
  const earliestOf = margin > 0 ? await lookup(query.startMs - margin) : startOf;
  const committed = query.committed ?? (await committedOffsets(admin, topic, query.sinkGroup));
  return watermarks
    .map((w): KafkaDayRange => {
      const low = BigInt(w.low);
      const high = BigInt(w.high);
      const at = (of: Map<number, { offset: string }>, lo: bigint): bigint =>
        clamp(BigInt(of.get(w.partition)?.offset ?? w.high), lo, high);
      const start = at(startOf, low);
      const end = at(endOf, start);
      const stop = at(stopOf, end);
      return {
        partition: w.partition,
        startOffset: start.toString(),
        endOffset: end.toString(),
        stop: stop.toString(),
        high: high.toString(),
        committed: committed.get(w.partition) ?? null,
        // Expired: retention (or deleteRecords) has removed the partition's head (low watermark > 0)
        // and no record still there before the day's is stamped more than the allowance before it, so
        // the removed records may have been of the day. Kafka keeps no trace of their timestamps, so
        // this can also flag a day whose records all survived: the count is then reported as a
        // lower bound rather than claimed complete.
        expired: low > 0n && at(earliestOf, low) <= low,
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

function byPartition<T extends { partition: number }>(rows: T[]): Map<number, T> {
  return new Map(rows.map((r) => [r.partition, r]));
}

/** The sink group's committed offset per partition of the topic; empty without a sink group. */
export async function committedOffsets(
  admin: Admin,
  topic: string,
  sinkGroup: string | undefined,
): Promise<Map<number, string>> {
  const committed = new Map<number, string>();
  if (sinkGroup === undefined) return committed;
  const groups = await admin.fetchOffsets({ groupId: sinkGroup, topics: [topic] });
  for (const p of groups.find((g) => g.topic === topic)?.partitions ?? []) {
    // -1: the group has committed nothing for this partition.
    if (BigInt(p.offset) >= 0n) committed.set(p.partition, p.offset);
  }
  return committed;
}

function clamp(v: bigint, lo: bigint, hi: bigint): bigint {
  return v < lo ? lo : v > hi ? hi : v;
}
