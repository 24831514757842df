import type { DayWindow, KafkaMessageRow } from '../domain.js';

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
   * Reads every cluster's sink-group committed offsets now, for the reads that follow: called before
   * the landed tier is listed, so that what the sink writes meanwhile is in flight, not missing. A
   * cluster whose offsets cannot be read fails each later read of it with that message.
   */
  pinCommitted?(signal?: AbortSignal): Promise<void>;
  readDay(
    window: DayWindow,
    onBatch: (rows: KafkaMessageRow[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<KafkaDayRead>;
  close(): Promise<void>;
}
