import type { Admin, ConfigResourceTypes } from 'kafkajs';

/** kafkajs's ConfigResourceTypes.TOPIC: the enum is no named export of kafkajs under Node's ESM loader. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

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

/** The topic's settings that say what retention may have removed: describeConfigs's answer. */
export interface TopicRetention {
  /** cleanup.policy, e.g. ['delete'] or ['compact', 'delete']. */
  policies: string[];
  /** retention.ms; -1: no time limit. */
  retentionMs: number;
  /** retention.bytes; -1: no size limit. */
  retentionBytes: number;
}

/**
 * How far the job's clock may be behind the brokers': retention is judged by the broker's clock, so a
 * day counts as within retention this much sooner than the topic's settings say.
 */
export const RETENTION_CLOCK_MARGIN_MS = 60 * 60 * 1000;

/**
 * Whether retention cannot yet have removed any record stamped at or after `startMs`. Time retention
 * deletes a segment once its greatest timestamp is retention.ms old; a segment holding a record stamped
 * at or after `startMs` has a greatest timestamp no earlier than that, so while `startMs` is younger than
 * retention.ms no such segment is gone. That holds only where time is all that deletes: a size limit
 * (retention.bytes) deletes by size, and where no time limit or no delete policy is set the head goes
 * only by deleteRecords. What no setting tells of: deleteRecords where a time limit is set too, and a
 * retention shorter when the segments went than it is now (README: Kafka). Without the settings (no
 * DESCRIBE_CONFIGS on the topic): false.
 */
export function retentionKeeps(retention: TopicRetention | null, startMs: number, nowMs: number): boolean {
  if (retention === null || !retention.policies.includes('delete') || retention.retentionBytes >= 0) return false;
  // No time limit: retention deletes nothing, so a head that is gone went by deleteRecords. Nothing rules out
  // that it held the day.
  if (retention.retentionMs < 0) return false;
  return nowMs + RETENTION_CLOCK_MARGIN_MS - startMs <= retention.retentionMs;
}

/** The topic's retention settings, or null when the brokers do not tell them (an ACL without DESCRIBE_CONFIGS). */
export async function topicRetention(admin: Admin, topic: string): Promise<TopicRetention | null> {
  const names = ['cleanup.policy', 'retention.ms', 'retention.bytes'];
  try {
    const answer = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: names }],
    });
    const entries = answer.resources.find((r) => r.resourceName === topic)?.configEntries ?? [];
    const [policy, ms, bytes] = names.map((name) => entries.find((e) => e.configName === name)?.configValue);
    const number = (text: string | undefined): number =>
      text !== undefined && /^-?\d+$/.test(text) ? Number(text) : NaN;
    if (policy === undefined || Number.isNaN(number(ms)) || Number.isNaN(number(bytes))) return null;
    return { policies: policy.split(',').map((p) => p.trim()), retentionMs: number(ms), retentionBytes: number(bytes) };
  } catch {
    return null;
  }
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
  // The topic's settings, one request a day: with DESCRIBE_CONFIGS, a compacted topic is refused; they also say
  // whether retention may have removed a day whose partition's head is gone.
  const retention = await topicRetention(admin, topic);
  if (retention?.policies.includes('compact'))
    throw new Error(
      `topic ${topic} is compacted (cleanup.policy=${retention.policies.join(',')}): compaction removes a key's ` +
        "older messages and leaves empty segments that Kafka's lookup by time takes for the log's end (the day " +
        'read as holding nothing), so its days cannot be counted; audit a topic with cleanup.policy=delete',
    );
  const truncated = watermarks.some((w) => BigInt(w.low) > 0n);
  const kept = truncated && retentionKeeps(retention, query.startMs, Date.now());
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
        // Expired: retention (or deleteRecords) has removed the partition's head (low watermark > 0),
        // no record still there before the day's is stamped more than the allowance before it, so the
        // removed records may have been of the day, and the topic's retention does not rule that out
        // (retentionKeeps: a day younger than retention.ms under time retention alone, as a quiet
        // partition that retention has emptied is). Kafka keeps no trace of the removed records'
        // timestamps, so this can also flag a day whose records all survived: the count is then
        // reported as unknown rather than claimed complete.
        expired: low > 0n && at(earliestOf, low) <= low && !kept,
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
