import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { throwIfAborted } from '../errors.js';
import { headerValue, requestIdDecoder, type RequestIdSource } from './kafka-decode.js';
import { CallerError, guarded, readError } from './kafka-failures.js';
import { committedOffsets, fetchRanges, type KafkaPartitionRange } from './kafka-offsets.js';
import { KAFKA_STOP_CONFIRM_OFFSETS, PartitionRead, type BrokenStop, type MissedMessages } from './kafka-stop.js';

export type { RequestIdSource } from './kafka-decode.js';
export type { KafkaPartitionRange } from './kafka-offsets.js';
export type { BrokenStop, MissedMessages } from './kafka-stop.js';

/** What one consumed message says, for the engine: no payload is kept beyond the request id, unless compared. */
export interface KafkaMessageFact {
  cluster: string;
  partition: number;
  offset: string;
  timestampMs: number;
  requestId: string | null;
  /** Raw header value; null when the header is absent. */
  siteHeader: string | null;
  /** Published, but at or past the sink group's committed offset: not yet written by the sink. */
  inFlight: boolean;
  /** The value as text, only when `withPayload` (compare): the engine hashes its fields. */
  payload?: string | null;
}

export interface KafkaClusterResult {
  cluster: string;
  /** Retention deleted records that may belong to the day: the counts are a lower bound. */
  expired: boolean;
  partitions: KafkaPartitionRange[];
  /** Fast path: sum over partitions of endOffset - startOffset. */
  offsetTotal: number;
  /** Messages consumed and handed to onBatch. */
  messagesRead: number;
  /**
   * Where a partition's read did not stop at the offset the lookup gave (the first stamped outOfOrderMs past
   * the day's end), because a message stamped before the day's end lay after it (src/tiers/kafka-stop.ts):
   * a message stamped ahead, or timestamps out of order beyond the allowance. One per partition, by partition.
   */
  brokenStops: BrokenStop[];
  /**
   * Messages read that are stamped before the day and lie past the end their own day's read confirmed:
   * counted on no day (src/tiers/kafka-stop.ts). One per partition, by partition.
   */
  missed: MissedMessages[];
}

export interface ReadKafkaClusterOptions {
  /** Region name; it names the cluster in facts and errors. */
  cluster: string;
  kafka: Kafka;
  topic: string;
  /** The day as [startMs, endMs) of message timestamps. */
  startMs: number;
  endMs: number;
  siteHeader: string;
  requestId: RequestIdSource;
  /** The sink connector's consumer group; without it no message is in flight. */
  sinkGroup?: string;
  /** Its committed offsets as read before the landed tier was listed (readCommittedOffsets); else read now. */
  committed?: ReadonlyMap<number, string>;
  /**
   * How far a message's timestamp may be out of order within its partition (tiers.kafka.outOfOrderMs):
   * the read may end no sooner than the first offset stamped this much after endMs (src/tiers/kafka-stop.ts),
   * and only messages stamped in [startMs, endMs) are kept.
   */
  outOfOrderMs?: number;
  /** How many offsets after that one must hold no message stamped before endMs for the read to end. Default 2000. */
  stopConfirmOffsets?: number;
  /** Hand each message's value over as text (`compare`): decoding costs the read time, see the README. */
  withPayload?: boolean;
  signal?: AbortSignal;
  /** Called once per fetched batch, in order, awaited before the next batch is fetched. */
  onBatch: (facts: KafkaMessageFact[]) => Promise<void>;
  /** The temporary consumer group is `<prefix><random uuid>`; it is deleted afterwards. */
  groupIdPrefix?: string;
  /** How long connecting to the cluster may take. Default KAFKA_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** How long the whole read may take, offsets and consumption. Default KAFKA_READ_TIMEOUT_MS. */
  readTimeoutMs?: number;
  /** The read's consumer's session timeout (kafkajs's default, 30 s, unless set: tests make it rejoin sooner). */
  sessionTimeoutMs?: number;
}

/** Connecting to a reachable cluster takes well under a second; past this it is reported as down. */
export const KAFKA_CONNECT_TIMEOUT_MS = 10_000;
/** Generous on purpose: a day at ten times today's volume (~25 M messages) must fit (not measured yet). */
export const KAFKA_READ_TIMEOUT_MS = 10 * 60 * 1000;
/** Leaving the group and deleting it; a dead broker must not hold the error back for long. */
const KAFKA_CLEANUP_TIMEOUT_MS = 5_000;
export const DEFAULT_GROUP_ID_PREFIX = 'audit-parity-count-';
/**
 * The consumer's own retry budget (kafkajs defaults a consumer to 5 retries whatever the client
 * says): a broker that dies mid-read crashes the consumer within seconds, and the read fails.
 */
const CONSUMER_RETRIES = 2;
/** One fetch holds at most this much per partition and in all: the bound on memory while reading. */
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
const MAX_BYTES_PER_FETCH = 8 * 1024 * 1024;

/**
 * Reads one cluster's messages of one day: per partition from the first offset stamped at or after
 * startMs (offsets-by-timestamp) to where the day's messages are known to end (src/tiers/kafka-stop.ts),
 * keeping those stamped in [startMs, endMs); hands facts to `onBatch`
 * batch by batch (nothing is accumulated), and leaves no consumer group behind: it consumes with a
 * throwaway group that never commits and is deleted at the end.
 *
 * Throws TierError('kafka', 'cluster <name>', …) when the cluster cannot be reached, dies mid-read,
 * or the read misses its deadline (retriable), or the topic does not exist (not retriable);
 * AbortedError when `signal` aborts.
 */
export async function readKafkaCluster(opts: ReadKafkaClusterOptions): Promise<KafkaClusterResult> {
  const { cluster, kafka, topic, signal } = opts;
  const fail = (what: string, e: unknown): unknown => readError(cluster, topic, what, e);
  throwIfAborted(signal);
  const readTimeoutMs = opts.readTimeoutMs ?? KAFKA_READ_TIMEOUT_MS;
  const deadline = Date.now() + readTimeoutMs;
  const admin = kafka.admin();
  let groupId: string | undefined;
  let consumer: Consumer | undefined;
  try {
    await connectAdmin(admin, opts, readTimeoutMs).catch((e: unknown) => {
      throw fail('cannot connect', e);
    });
    const ranges = await guarded(fetchRanges(admin, opts), signal, deadline - Date.now(), 'fetch offsets').catch(
      (e: unknown) => {
        throw fail('cannot read offsets', e);
      },
    );
    const result: KafkaClusterResult = {
      cluster,
      expired: ranges.some((r) => r.expired),
      partitions: ranges.map(({ partition, startOffset, endOffset, committed }) => ({
        partition,
        startOffset,
        endOffset,
        committed,
      })),
      offsetTotal: ranges.reduce((sum, r) => sum + Number(BigInt(r.endOffset) - BigInt(r.startOffset)), 0),
      messagesRead: 0,
      brokenStops: [],
      missed: [],
    };
    const day = {
      startMs: opts.startMs,
      endMs: opts.endMs,
      marginMs: opts.outOfOrderMs ?? 0,
      confirm: opts.stopConfirmOffsets ?? KAFKA_STOP_CONFIRM_OFFSETS,
    };
    // Each partition holding anything at or after the day's start is read, at least over the messages that
    // confirm its stop: an empty range can be one a message stamped ahead emptied.
    const reads = ranges.map(
      (r) =>
        new PartitionRead(
          { partition: r.partition, start: BigInt(r.startOffset), stop: BigInt(r.stop), high: BigInt(r.high) },
          day,
        ),
    );
    const toRead = reads.filter((r) => r.end > r.start);
    if (toRead.length === 0) return result;

    groupId = `${opts.groupIdPrefix ?? DEFAULT_GROUP_ID_PREFIX}${randomUUID()}`;
    consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // Count what the sink's consumer sees: Kafka Connect reads uncommitted by default, and a
      // read-committed consumer would stall below an open transaction's end offset.
      readUncommitted: true,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      maxBytes: MAX_BYTES_PER_FETCH,
      retry: { retries: CONSUMER_RETRIES, restartOnFailure: async () => false },
      ...(opts.sessionTimeoutMs ? { sessionTimeout: opts.sessionTimeoutMs } : {}),
    });
    const reached = new Map<number, string>();
    result.messagesRead = await guarded(
      consume(
        consumer,
        toRead,
        reads.filter((r) => !toRead.includes(r)).map((r) => r.partition),
        new Map(ranges.map((r) => [r.partition, r.committed === null ? null : BigInt(r.committed)])),
        opts,
        reached,
        (partition) => logStart(admin, topic, partition),
      ),
      signal,
      deadline - Date.now(),
      `read (deadline ${readTimeoutMs} ms)`,
    ).catch((e: unknown) => {
      throw fail(`read failed (${unfinished(toRead, reached)})`, e);
    });
    // Consumption ends when every partition reached its end offset; an abort meanwhile still wins.
    throwIfAborted(signal);
    result.brokenStops = toRead.flatMap((r) => (r.broken ? [r.broken] : []));
    result.missed = toRead.flatMap((r) => (r.missed ? [r.missed] : []));
    return result;
  } finally {
    await cleanup(admin, consumer, groupId);
  }
}

/**
 * The sink group's committed offsets per partition, read now: the reconcile reads them before it lists
 * the landed tier, so that a message the sink wrote and committed after the listing still counts as in
 * flight rather than missing. Throws as readKafkaCluster does (TierError naming the cluster).
 */
export async function readCommittedOffsets(
  opts: Pick<
    ReadKafkaClusterOptions,
    'cluster' | 'kafka' | 'topic' | 'signal' | 'connectTimeoutMs' | 'readTimeoutMs'
  > & {
    sinkGroup: string;
  },
): Promise<Map<number, string>> {
  const { cluster, kafka, topic, signal } = opts;
  const readTimeoutMs = opts.readTimeoutMs ?? KAFKA_READ_TIMEOUT_MS;
  const deadline = Date.now() + readTimeoutMs;
  const admin = kafka.admin();
  try {
    await connectAdmin(admin, opts, readTimeoutMs);
    return await guarded(
      committedOffsets(admin, topic, opts.sinkGroup),
      signal,
      deadline - Date.now(),
      'fetch offsets',
    );
  } catch (e) {
    throw readError(cluster, topic, `cannot read the sink group's offsets`, e);
  } finally {
    await cleanup(admin, undefined, undefined);
  }
}

/** Connects within the connect timeout, and never past the read's own deadline. */
function connectAdmin(
  admin: Admin,
  opts: Pick<ReadKafkaClusterOptions, 'signal' | 'connectTimeoutMs'>,
  readTimeoutMs: number,
): Promise<void> {
  const timeoutMs = Math.min(opts.connectTimeoutMs ?? KAFKA_CONNECT_TIMEOUT_MS, readTimeoutMs);
  return guarded(admin.connect(), opts.signal, timeoutMs, 'connect');
}

/** Where the read stood, for the error message: `partition 0 at offset 41 of [2, 500)`. */
function unfinished(reads: PartitionRead[], reached: Map<number, string>): string {
  const open = reads.filter((r) => !r.doneAt(BigInt(reached.get(r.partition) ?? -1)));
  if (open.length === 0) return 'every partition was read';
  const at = (r: PartitionRead): string =>
    reached.has(r.partition) ? `offset ${reached.get(r.partition)}` : 'its start';
  const parts = open.map((r) => `partition ${r.partition} at ${at(r)} of [${r.start}, ${r.end})`);
  return `unfinished: ${parts.join(', ')}`;
}

/**
 * Consumes every partition's read to its end (which a stop that does not hold moves on: PartitionRead);
 * resolves with the number of messages handed to onBatch. `reached` is kept up to date with the last
 * offset consumed per partition.
 */
async function consume(
  consumer: Consumer,
  reads: PartitionRead[],
  idle: number[],
  committedOf: Map<number, bigint | null>,
  opts: ReadKafkaClusterOptions,
  reached: Map<number, string>,
  logStartOf: (partition: number) => Promise<bigint>,
): Promise<number> {
  const { topic, cluster } = opts;
  const byPartition = new Map(reads.map((r) => [r.partition, r]));
  const pending = new Set(byPartition.keys());
  // The offset each partition's read goes on from. The group never commits, so kafkajs starts a partition it
  // has no position for at the log's end: after a rejoin (a batch handled past the session timeout, a
  // partition added, the coordinator moving) and after an offset out of range (retention deleting records
  // while they are read). Either would end the read there, short and silently.
  const next = new Map(reads.map((r) => [r.partition, r.start]));
  let joins = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // A rejoin: each unfinished partition goes on where it stood, the finished and idle ones stay paused.
    if (++joins === 1) return;
    for (const p of pending) consumer.seek({ topic, partition: p, offset: String(next.get(p)) });
    const paused = [...idle, ...[...byPartition.keys()].filter((p) => !pending.has(p))];
    if (paused.length > 0) consumer.pause([{ topic, partitions: paused }]);
  });
  let messagesRead = 0;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // It can be rejected (a crash while joining) before it is awaited below.
  finished.catch(() => undefined);
  const decodeRequestId = requestIdDecoder(opts.requestId);

  /** A partition is done once a batch reached its last offset (or went past it, over a gap). */
  const progress = (partition: number, lastOffset: string | null | undefined): void => {
    const r = byPartition.get(partition);
    if (!r || lastOffset === null || lastOffset === undefined || !pending.has(partition)) return;
    reached.set(partition, lastOffset);
    next.set(partition, BigInt(lastOffset) + 1n);
    if (r.doneAt(BigInt(lastOffset))) {
      pending.delete(partition);
      consumer.pause([{ topic, partitions: [partition] }]);
      if (pending.size === 0) settle.resolve();
    }
  };

  // A batch of only control records or aborted messages (batchSize 0) never reaches eachBatch; its
  // offsets still count. Batches with messages are counted in eachBatch, once handed over.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.batchSize === 0) progress(e.payload.partition, e.payload.lastOffset);
  });
  consumer.on(consumer.events.CRASH, (e) => settle.reject(e.payload.error));

  await consumer.connect();
  // fromBeginning false: a partition that is not sought (an empty range) starts at its end and reads nothing.
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, isRunning, isStale }: EachBatchPayload) => {
      const r = byPartition.get(batch.partition);
      if (!r || !pending.has(batch.partition) || !isRunning() || isStale()) return;
      const first = batch.firstOffset();
      const from = next.get(batch.partition)!;
      if (first !== null && BigInt(first) >= r.end && from < r.end) {
        // Past the read's end before reaching it: a gap (control records, compaction) or a reset to the log's
        // end because the offsets it stood at were deleted. Only the log's start tells them apart.
        // Settled here rather than thrown, as onBatch's errors are (kafkajs would fetch the batch again).
        const start = await logStartOf(batch.partition).catch((e: unknown) => (settle.reject(e), null));
        if (start !== null && start > from)
          settle.reject(
            new Error(
              `partition ${batch.partition}: offsets ${from} to ${start - 1n} were deleted while the read stood at ` +
                `${from} (retention, or deleteRecords); the day's messages there are gone`,
            ),
          );
        if (start === null || start > from) {
          consumer.pause([{ topic, partitions: [...byPartition.keys()] }]);
          return;
        }
      }
      const committed = committedOf.get(batch.partition) ?? null;
      const facts: KafkaMessageFact[] = [];
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        // r.end moves on while the batch is read when a stop does not hold.
        if (offset < r.start || offset >= r.end) continue;
        const timestampMs = Number(m.timestamp);
        // The range read is wider than the day (outOfOrderMs): a message counts on its own day only.
        if (!r.counts(offset, timestampMs)) continue;
        facts.push({
          cluster,
          partition: batch.partition,
          offset: m.offset,
          timestampMs,
          requestId: decodeRequestId(m),
          siteHeader: headerValue(m.headers, opts.siteHeader),
          inFlight: opts.sinkGroup !== undefined && (committed === null || offset >= committed),
          ...(opts.withPayload ? { payload: m.value && m.value.length > 0 ? m.value.toString('utf8') : null } : {}),
        });
      }
      if (facts.length > 0) {
        try {
          await opts.onBatch(facts);
        } catch (e) {
          // Settled here rather than thrown: kafkajs would retry the batch and hand it over twice.
          settle.reject(new CallerError(e));
          consumer.pause([{ topic, partitions: [...byPartition.keys()] }]);
          return;
        }
        messagesRead += facts.length;
      }
      progress(batch.partition, batch.lastOffset());
    },
  });
  for (const r of reads) consumer.seek({ topic, partition: r.partition, offset: r.start.toString() });
  // Partitions with nothing to read start at their end (fromBeginning false); pausing them keeps
  // records published meanwhile from being fetched only to be dropped.
  if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
  await finished;
  return messagesRead;
}

/** The first offset a partition still holds (what retention left). */
async function logStart(admin: Admin, topic: string, partition: number): Promise<bigint> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const low = offsets.find((o) => o.partition === partition)?.low;
  if (low === undefined) throw new Error(`partition ${partition} of ${topic} has no offsets`);
  return BigInt(low);
}

/** Leaves and deletes the throwaway group; bounded in time, and never masks the read's own outcome. */
async function cleanup(admin: Admin, consumer: Consumer | undefined, groupId: string | undefined): Promise<void> {
  const bounded = (p: Promise<unknown>): Promise<unknown> =>
    guarded(p, undefined, KAFKA_CLEANUP_TIMEOUT_MS, 'cleanup').catch(() => undefined);
  if (consumer) await bounded(consumer.disconnect());
  // A group that never committed is usually dropped by the coordinator as soon as its last member
  // leaves (deleteGroups then answers GROUP_ID_NOT_FOUND); deleting makes sure. Failing to delete is
  // not worth failing a read for: without offsets the group holds nothing and expires on its own.
  if (groupId) await bounded(admin.deleteGroups([groupId]));
  await bounded(admin.disconnect());
}
