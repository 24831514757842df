import type { Admin } from 'kafkajs';

/** One partition's offset range for the day: [startOffset, endOffset). */
export interface KafkaPartitionRange {
  partition: number;
  startOffset: string;
  endOffset: string;
  /** The sink group's committed offset; null when it has none (or no sink group was given). */
  committed: string | null;
}

/** A partition's range for the day, and whether retention may have removed some of the day's records. */
export interface KafkaDayRange extends KafkaPartitionRange {
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
}

/**
 * Every partition's range for the day, sorted by partition: the offsets whose timestamps fall in
 * [startMs, endMs) (from offsets-by-timestamp), the sink group's committed offset, and whether
 * retention may have removed records of the day.
 */
export async function fetchRanges(admin: Admin, query: KafkaRangeQuery): Promise<KafkaDayRange[]> {
  const { topic } = query;
  const watermarks = await admin.fetchTopicOffsets(topic);
  // kafkajs answers each with the first offset whose timestamp is >= the given time, and, when no
  // message is that late, with the high watermark: so [start, end) is exactly the day's records as
  // long as timestamps grow with offsets within a partition (CreateTime from one producer, or
  // LogAppendTime). A record stamped out of order is read with the day its offset falls in.
  const starts = await admin.fetchTopicOffsetsByTimestamp(topic, query.startMs);
  const ends = await admin.fetchTopicOffsetsByTimestamp(topic, query.endMs);
  const committed = await committedOffsets(admin, topic, query.sinkGroup);
  const byPartition = <T extends { partition: number }>(rows: T[]): Map<number, T> =>
    new Map(rows.map((r) => [r.partition, r]));
  const startOf = byPartition(starts);
  const endOf = byPartition(ends);
  return watermarks
    .map((w): KafkaDayRange => {
      const low = BigInt(w.low);
      const high = BigInt(w.high);
      const start = clamp(BigInt(startOf.get(w.partition)?.offset ?? w.high), low, high);
      const end = clamp(BigInt(endOf.get(w.partition)?.offset ?? w.high), start, high);
      return {
        partition: w.partition,
        startOffset: start.toString(),
        endOffset: end.toString(),
        committed: committed.get(w.partition) ?? null,
        // Expired: retention (or deleteRecords) has removed the partition's head (low watermark > 0)
        // and the first record still there is the first one at or after the day's start, so the
        // removed records may have been of the day. Kafka keeps no trace of their timestamps, so
        // this can also flag a day whose records all survived: the count is then reported as a
        // lower bound rather than claimed complete.
        expired: low > 0n && start <= low,
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** The sink group's committed offset per partition of the topic; empty without a sink group. */
async function committedOffsets(
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
