import type { DayWindow, KafkaMessageRow } from '../domain.js';

/**
 * The sink groups' committed offsets as read at one moment (pinCommitted), per cluster: the offsets per
 * partition, or the error that kept them from being read. A value, not state of the reader, so that
 * batches running at once (backfill --concurrency) each keep their own.
 */
export type KafkaPin = ReadonlyMap<string, ReadonlyMap<number, string> | Error>;

/** What reading one day of every Kafka cluster gave. */
export interface KafkaDayRead {
  /** Messages of the day per cluster from offsets alone: the fast path, reported beside the exact count. */
  offsetTotals: Map<string, number>;
  /** Clusters whose retention no longer holds the day. */
  expired: string[];
  /** Clusters that could not be read, with the message naming the cluster. */
  failures: Map<string, string>;
  /** Things the operator should see that do not stop the count. */
  warnings: string[];
}

/**
 * The Kafka tier as the job sees it: every configured cluster, read a day at a time, messages
 * handed over in batches as they are read so that nothing is held.
 */
export interface KafkaTierReader {
  /** Cluster region names in config order. */
  readonly regions: readonly string[];
  /**
   * Reads every cluster's sink-group committed offsets now (the clusters at once), for the batch's reads:
   * called before the landed tier is listed, so that what the sink writes meanwhile is in flight, not missing.
   */
  pinCommitted?(signal?: AbortSignal): Promise<KafkaPin>;
  /**
   * One day of every cluster. With `pin`, messages at or past the pinned offsets are in flight, and a
   * cluster whose offsets could not be pinned fails with that error; without, the offsets are read now.
   */
  readDay(
    window: DayWindow,
    onBatch: (rows: KafkaMessageRow[]) => Promise<void>,
    signal?: AbortSignal,
    pin?: KafkaPin,
  ): Promise<KafkaDayRead>;
  close(): Promise<void>;
}
