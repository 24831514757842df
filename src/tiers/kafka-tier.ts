import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { KafkaTierConfig } from '../config.js';
import { DAY_MS, type DayWindow, type KafkaMessageRow } from '../domain.js';
import { AbortedError, ConfigError, InternalError, ResourceError, TierError } from '../errors.js';
import { readCommittedOffsets, readKafkaCluster, type BrokenStop, type MissedMessages } from './kafka.js';
import { KAFKA_STOP_CONFIRM_OFFSETS } from './kafka-stop.js';
import type { KafkaDayRead, KafkaPin, KafkaTierReader } from './kafka-reader.js';

/** The job's name for the clients: it shows in broker logs and in ACL audits. */
const CLIENT_ID = 'audit-parity';

/**
 * Builds the Kafka tier from its config. Credentials come from `env` (the CLI passes the process
 * environment): the config names the variables, never the secrets. Throws ConfigError naming the
 * key when a named variable is not set.
 */
export function createKafkaTier(
  cfg: KafkaTierConfig,
  env: Readonly<Record<string, string | undefined>>,
  /** withPayload: each message's value goes to the engine too (top-level `compare` is on). */
  options: { withPayload?: boolean } = {},
): KafkaTierReader {
  const clusters = Object.entries(cfg.clusters).map(([region, c]) => {
    let sasl: SASLOptions | undefined;
    if (c.sasl) {
      const need = (key: 'usernameEnv' | 'passwordEnv'): string => {
        const name = c.sasl![key];
        const value = env[name];
        if (!value)
          throw new ConfigError(
            `tiers.kafka.clusters.${region}.sasl.${key}`,
            `environment variable ${name} is not set`,
          );
        return value;
      };
      sasl = {
        mechanism: c.sasl.mechanism,
        username: need('usernameEnv'),
        password: need('passwordEnv'),
      } as SASLOptions;
    }
    const kafka = new Kafka({
      clientId: CLIENT_ID,
      brokers: c.brokers,
      ssl: c.ssl,
      ...(sasl ? { sasl } : {}),
      connectionTimeout: cfg.connectionTimeoutMs,
      // A short retry budget: an unreachable cluster is reported as ERROR for its days, not waited on.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
      logLevel: logLevel.NOTHING,
    });
    return { region, kafka, sinkGroup: c.sinkGroup };
  });

  return {
    regions: clusters.map((c) => c.region),
    async pinCommitted(signal?: AbortSignal): Promise<KafkaPin> {
      const pins = await Promise.all(
        clusters
          .filter((c) => c.sinkGroup)
          .map(async (c): Promise<[string, ReadonlyMap<number, string> | Error]> => {
            try {
              const offsets = await readCommittedOffsets({
                cluster: c.region,
                kafka: c.kafka,
                topic: cfg.topic,
                sinkGroup: c.sinkGroup!,
                connectTimeoutMs: cfg.connectionTimeoutMs,
                readTimeoutMs: cfg.readTimeoutMs,
                ...(signal ? { signal } : {}),
              });
              return [c.region, offsets];
            } catch (e) {
              if (e instanceof AbortedError || signal?.aborted) throw new AbortedError();
              if (!(e instanceof TierError)) throw e;
              return [c.region, e];
            }
          }),
      );
      return new Map(pins);
    },
    async readDay(
      window: DayWindow,
      onBatch: (rows: KafkaMessageRow[]) => Promise<void>,
      signal?: AbortSignal,
      pin?: KafkaPin,
    ): Promise<KafkaDayRead> {
      const read: KafkaDayRead = { offsetTotals: new Map(), expired: [], failures: new Map(), warnings: [] };
      for (const c of clusters) {
        try {
          const committed = pin?.get(c.region);
          if (committed instanceof Error) throw committed;
          const result = await readKafkaCluster({
            cluster: c.region,
            kafka: c.kafka,
            topic: cfg.topic,
            startMs: window.startMs,
            endMs: window.endMs,
            siteHeader: cfg.siteHeader,
            requestId: cfg.requestId,
            connectTimeoutMs: cfg.connectionTimeoutMs,
            readTimeoutMs: cfg.readTimeoutMs,
            outOfOrderMs: cfg.outOfOrderMs,
            ...(c.sinkGroup ? { sinkGroup: c.sinkGroup } : {}),
            ...(committed ? { committed } : {}),
            ...(options.withPayload ? { withPayload: true } : {}),
            ...(signal ? { signal } : {}),
            onBatch: (facts) =>
              onBatch(
                facts.map((f) => ({
                  cluster: c.region,
                  timestampMs: f.timestampMs,
                  requestId: f.requestId,
                  siteHeader: f.siteHeader,
                  inFlight: f.inFlight,
                  ...(f.payload !== undefined ? { payload: f.payload } : {}),
                })),
              ),
          });
          read.offsetTotals.set(c.region, result.offsetTotal);
          // The partitions with messages of the day: by the lookups, or, where a message stamped ahead emptied
          // their ranges but the read found messages, every partition.
          const ranged = result.partitions.filter((p) => p.startOffset !== p.endOffset);
          const withData = ranged.length > 0 || result.messagesRead === 0 ? ranged : result.partitions;
          if (c.sinkGroup && withData.length > 0 && withData.every((p) => p.committed === null)) {
            // Every message then counts as in flight: more likely a misspelt group than a sink that
            // wrote nothing.
            read.warnings.push(
              `kafka: cluster ${c.region}: sink group "${c.sinkGroup}" has no committed offsets on ${cfg.topic}; ` +
                `check tiers.kafka.clusters.${c.region}.sinkGroup`,
            );
          }
          if (result.brokenStops.length > 0) {
            read.warnings.push(brokenStopsWarning(c.region, cfg, window, result.brokenStops));
          }
          if (result.missed.length > 0) read.warnings.push(missedWarning(c.region, cfg, result.missed));
          if (result.expired) read.expired.push(c.region);
        } catch (e) {
          if (e instanceof AbortedError || signal?.aborted) throw new AbortedError();
          // What the engine threw while taking the rows (readKafkaCluster passes onBatch's errors through) is
          // the engine's, not the cluster's: out of memory re-reads the batch in halves, a failed load is its own.
          if (
            e instanceof ResourceError ||
            e instanceof InternalError ||
            (e instanceof TierError && e.tier !== 'kafka')
          )
            throw e;
          const message = e instanceof TierError ? e.message : `kafka: cluster ${c.region}: ${(e as Error).message}`;
          read.failures.set(c.region, message);
        }
      }
      return read;
    },
    async close() {},
  };
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;
const stamped = (ms: number | null): string => (ms === null ? 'no message' : `stamped ${new Date(ms).toISOString()}`);
const where = (p: { partition: number; offset: string; stampMs: number | null }): string =>
  `partition ${p.partition} at offset ${p.offset} (${stamped(p.stampMs)})`;

/** At most three partitions' places, then how many more. */
function places(items: Array<{ partition: number; offset: string; stampMs: number | null }>): string {
  const shown = items.slice(0, 3).map(where).join(', ');
  return items.length > 3 ? `${shown} and ${plural(items.length - 3, 'more partition')}` : shown;
}

/**
 * The warning for reads that did not end where the offset lookup said (src/tiers/kafka-stop.ts): where, how
 * many of the day's messages were found past it, and what to do, told apart by how far ahead the stop is.
 */
function brokenStopsWarning(region: string, cfg: KafkaTierConfig, window: DayWindow, stops: BrokenStop[]): string {
  const counted = stops.reduce((n, s) => n + s.counted, 0);
  const ahead = stops.some((s) => s.stampMs !== null && s.stampMs >= window.endMs + DAY_MS);
  return (
    `kafka: cluster ${region}: on ${cfg.topic}, the day's read did not end where Kafka's offset lookup put it: ` +
    `${places(stops)}, stamped tiers.kafka.outOfOrderMs (${cfg.outOfOrderMs} ms) or more past the day's end, ` +
    `lay before messages stamped before the day's end, so the read went on and counted ` +
    `${plural(counted, 'message')} of the day found past ${stops.length === 1 ? 'it' : 'them'}. ` +
    (ahead
      ? 'A stop stamped a day or more past the day is a message from a producer whose clock is ahead: fix that ' +
        'clock, or have the brokers refuse such messages (log.message.timestamp.after.max.ms); until retention ' +
        'removes it, every later day reads from it to its own end and warns again (a read longer than ' +
        `tiers.kafka.readTimeoutMs, ${cfg.readTimeoutMs} ms, makes the tier ERROR: raise it meanwhile)`
      : 'Records are out of order by more than the allowance: raise tiers.kafka.outOfOrderMs')
  );
}

/** The warning for messages of earlier days that lie past the end their own day's read confirmed. */
function missedWarning(region: string, cfg: KafkaTierConfig, missed: MissedMessages[]): string {
  const count = missed.reduce((n, m) => n + m.count, 0);
  const [lie, their, they] = count === 1 ? ['lies', 'its', 'it counts'] : ['lie', 'their', 'they count'];
  return (
    `kafka: cluster ${region}: on ${cfg.topic}, at least ${plural(count, 'message')} stamped before the day ` +
    `(the first: ${places(missed)}) ${lie} more than ${KAFKA_STOP_CONFIRM_OFFSETS} offsets past where ${their} ` +
    `own day's read ended: ${they} on no day. Records are out of order by more than tiers.kafka.outOfOrderMs ` +
    `(${cfg.outOfOrderMs} ms): raise it`
  );
}
