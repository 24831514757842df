import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { KafkaTierConfig } from '../config.js';
import type { DayWindow, KafkaMessageRow } from '../domain.js';
import { AbortedError, ConfigError, InternalError, ResourceError, TierError } from '../errors.js';
import { readCommittedOffsets, readKafkaCluster, type BrokenStop } from './kafka.js';
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
          const withData = result.partitions.filter((p) => p.startOffset !== p.endOffset);
          if (c.sinkGroup && withData.length > 0 && withData.every((p) => p.committed === null)) {
            // Every message then counts as in flight: more likely a misspelt group than a sink that
            // wrote nothing.
            read.warnings.push(
              `kafka: cluster ${c.region}: sink group "${c.sinkGroup}" has no committed offsets on ${cfg.topic}; ` +
                `check tiers.kafka.clusters.${c.region}.sinkGroup`,
            );
          }
          if (result.brokenStops.length > 0) read.warnings.push(brokenStopsWarning(c.region, cfg, result.brokenStops));
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

/**
 * The warning for reads that did not end where the offset lookup said (src/tiers/kafka-stop.ts): which
 * partitions, at which offset and timestamp, and how many messages of the day were found past it.
 */
function brokenStopsWarning(region: string, cfg: KafkaTierConfig, stops: BrokenStop[]): string {
  const counted = stops.reduce((n, s) => n + s.counted, 0);
  const stamp = (ms: number | null): string => (ms === null ? 'no message' : `stamped ${new Date(ms).toISOString()}`);
  const shown = stops.slice(0, 3).map((s) => `partition ${s.partition} at offset ${s.offset} (${stamp(s.stampMs)})`);
  const more = stops.length > shown.length ? ` and ${stops.length - shown.length} more` : '';
  return (
    `kafka: cluster ${region}: on ${cfg.topic}, ${shown.join(', ')}${more}: the first offset stamped ` +
    `tiers.kafka.outOfOrderMs (${cfg.outOfOrderMs} ms) past the day's end was followed by messages stamped ` +
    `before it, so the read went on and counted ${counted} messages of the day found past it. A message ` +
    'stamped ahead (a producer whose clock is ahead: brokers can refuse them with ' +
    'log.message.timestamp.after.max.ms) or timestamps out of order beyond the allowance do this'
  );
}
