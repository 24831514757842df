import type { WindowCounting } from './loss-windows.js';
import type { RecordFields } from '../config.js';
import { InternalError } from '../errors.js';
import { MISSING_FACTS } from './fact-sql.js';
import type { ObjectCache } from './object-cache.js';
import type { ReadByLine } from './line-check.js';
import type { PayloadComparing } from './compare.js';
import type { SiteZoning } from '../site-zones.js';
import type {
  DayKey,
  DayWindow,
  IdFactGroup,
  IdFacts,
  LandedCounts,
  LineCountsRow,
  ProxyLineCounts,
  Site,
  StagedObject,
  BigqueryRangeReader,
  StreamedCountRow,
  TimedStreamedRow,
} from '../domain.js';

/** Lines counted in no other column: malformed, or in a folder that cannot hold their date. */
export interface LineIssues {
  malformed: number;
  outOfWindow: number;
}

export interface MissingId {
  site: Site;
  requestId: string;
  facts: IdFacts;
  /** The earliest accepted proxy line's instant (epoch ms); null when the engine did not read one. */
  acceptedMs: number | null;
}

/** Tiers that arrive as streams of rows (not files): appended into the engine as they are read. */
export type StreamedTier = 'kafka' | 'bigquery';

/** Tiers read from a BigQuery table. */
export type TableTier = 'proxy' | 'bigquery';

export type { StreamedRow, TimedStreamedRow, KafkaMessageRow, StreamedCountRow } from '../domain.js';
export type { ReadByLine };

export type FileTier = 'proxy' | 'gcs';

/**
 * Where the request-id work happens: the embedded DuckDB (in the pod) or BigQuery (the pod only
 * streams Kafka's rows up and reads small results back). Both take the same inputs, run the same
 * rules and return the same numbers; a batch of days at a time, each method one query.
 *
 * What only some engines can do is an optional member (`files`): an engine without it has no such
 * method, rather than one that throws or answers nothing. The run's stop signal reaches the engine
 * one way only, `watch`: no method takes a signal of its own.
 */
export interface CountingEngine {
  /**
   * The report days of this batch, as instants in the configured zone; `zoning` (default: none) names the
   * sites whose day is cut in a zone of their own: their records are given a report day there.
   */
  setWindows(windows: DayWindow[], zoning?: SiteZoning): Promise<void>;
  /**
   * A tier kept in a BigQuery table, for [startMs, endMs): the embedded engine streams the table's
   * rows through `reader`; the bigquery engine aggregates the table where it is.
   */
  loadTable(
    tier: TableTier,
    reader: BigqueryRangeReader,
    startMs: number,
    endMs: number,
    sites: string[],
  ): Promise<{ rows: number | null; bytesProcessed: number | null }>;
  /** Stands in for a table tier that is not configured or not readable: no ids, so joins still work. */
  loadEmpty(tier: TableTier): Promise<void>;
  /** Kafka's messages: begin, append as they are read, finish. */
  beginStreamed(tier: 'kafka'): Promise<void>;
  appendStreamed(tier: 'kafka', rows: readonly TimedStreamedRow[]): Promise<void>;
  finishStreamed(tier: 'kafka', sites: string[]): Promise<void>;

  proxyCounts(): Promise<LineCountsRow<Omit<ProxyLineCounts, 'malformed' | 'rejectedOther'>>[]>;
  /** The proxy's malformed and out-of-window lines, wherever its lines were read from. */
  lineIssues(tier: 'proxy'): Promise<LineCountsRow<LineIssues>[]>;
  streamedCounts(tier: StreamedTier): Promise<StreamedCountRow[]>;
  /** Joins the proxy's ids with Kafka's and the final tier's. `kafkaDays`: the days Kafka was read whole. */
  joinIds(kafkaDays: DayKey[], finalIsBigquery: boolean): Promise<void>;
  idFacts(): Promise<IdFactGroup[]>;
  /** One day's missing ids in report order, a chunk at a time. */
  missingIds(day: DayKey, sites: string[]): AsyncGenerator<MissingId[]>;
  /**
   * The file tiers (staged NDJSON objects: the proxy's files, the landed GCS tier). Present on the
   * embedded engine; absent on the bigquery engine, which reads tables only (the config refuses file
   * tiers with it) and whose joins read no landed file tier.
   */
  readonly files?: FileCounting;
  /**
   * The day's loss windows (windows-DAY.csv), both engines from the same groups of id facts. Optional:
   * an engine without it writes no windows file (never an empty one).
   */
  readonly windows?: WindowCounting;
  /** Present when the config compares payloads (`compare`) and the engine hashes them. */
  readonly compare?: PayloadComparing;
  /**
   * Stops the running query and every later one when `signal` fires (a stopped query throws
   * AbortedError); returns the un-watch. The only way a stop reaches the engine.
   */
  watch(signal: AbortSignal | undefined): () => void;
  close(): Promise<void>;
}

/** How far from a record's UTC date the folder it lies in may be dated (tiers.<tier>.lateArrivalDays, clockSkewDays). */
export interface FolderReach {
  lateDays: number;
  clockSkewDays: number;
}

/** The file tiers' capability of an engine: see {@link CountingEngine.files}. */
export interface FileCounting {
  /**
   * A file tier's staged objects, parsed and aggregated. Returns the objects whose lines had to be read one
   * at a time, and why (src/engine/line-check.ts): `misread`, a broken line made the fast reader read on
   * into the next; `unreadable`, the fast reader could not read the object at all (a line past its size
   * limit: each line is then counted as what it is, one over 64 MiB malformed).
   */
  loadFiles(
    tier: FileTier,
    staged: StagedObject[],
    fields: RecordFields,
    sites: string[],
    /** The tier's folder reach: a record's folder may be dated `lateDays` after its UTC date, `clockSkewDays` before. */
    reach: FolderReach,
    /** Keeps and reuses each object's aggregate across runs; unset, every object is parsed. */
    cache?: ObjectCache,
  ): Promise<ReadByLine[]>;
  /**
   * The cache's lookup of a listed object before it is staged: its entry (the aggregate loadFiles would
   * make of it) as a local file, or undefined. A found object is staged as that entry (`aggregate`).
   */
  cachedAggregate(
    tier: FileTier,
    fields: RecordFields,
    cache: ObjectCache,
  ): (object: Pick<StagedObject, 'url' | 'identity'>) => Promise<string | undefined>;
  /** Stands in for a file tier that is not configured or not readable: no ids, so joins still work. */
  loadEmpty(tier: FileTier): Promise<void>;
  landedCounts(tier: 'gcs'): Promise<LineCountsRow<Omit<LandedCounts, 'malformed'>>[]>;
  lineIssues(tier: FileTier): Promise<LineCountsRow<LineIssues>[]>;
}

/**
 * The engine's file tiers, for a run that reads file tiers. An engine without them here is a config
 * the parser refuses (file tiers with engine bigquery): an internal error, never a silent zero.
 */
export function fileCountingOf(engine: CountingEngine, tier: FileTier): FileCounting {
  if (!engine.files)
    throw new InternalError(`the ${tier} tier is files; this engine reads only tables (the config refuses this)`);
  return engine.files;
}

/** Folds line-issue rows (kind malformed / out_of_window) into counts per day and site. */
export function foldLineIssues(rows: readonly Record<string, unknown>[]): LineCountsRow<LineIssues>[] {
  const byKey = new Map<string, LineCountsRow<LineIssues>>();
  for (const r of rows) {
    const key = `${String(r.day)}|${String(r.site)}`;
    let row = byKey.get(key);
    if (!row)
      byKey.set(key, (row = { day: String(r.day), site: String(r.site), counts: { malformed: 0, outOfWindow: 0 } }));
    if (r.kind === 'malformed') row.counts.malformed += num(r.n);
    else row.counts.outOfWindow += num(r.n);
  }
  return [...byKey.values()];
}

/** Row objects of the counting queries, shaped the same by both engines, into domain values. */
export const rowsOf = {
  proxyCounts: (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      counts: {
        lines: num(r.lines),
        accepted: num(r.accepted),
        rejected413: num(r.rejected_413),
        rejected502: num(r.rejected_502),
      },
    })),
  landedCounts: (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      counts: { records: num(r.records), distinct: num(r.distinct_ids), late: num(r.late) },
    })),
  streamedCounts: (rows: Record<string, unknown>[]): StreamedCountRow[] =>
    rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      region: String(r.region),
      kind: r.kind as 'record' | 'malformed',
      n: num(r.n),
      distinct: num(r.distinct_ids),
    })),
  idFacts: (rows: Record<string, unknown>[]): IdFactGroup[] =>
    rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      inProxy: Boolean(r.in_proxy),
      accepted: Boolean(r.accepted),
      rejected: Boolean(r.rejected),
      lastReject: (r.last_reject ?? null) as IdFactGroup['lastReject'],
      unroutable: Boolean(r.unroutable),
      kafkaKnown: Boolean(r.kafka_known),
      inKafka: Boolean(r.in_kafka),
      crossRegion: Boolean(r.cross_region),
      inFlight: Boolean(r.in_flight),
      inGcs: Boolean(r.in_gcs),
      inBigquery: Boolean(r.in_bigquery),
      inFinal: Boolean(r.in_final),
      ids: num(r.ids),
    })),
  /** A missing-ids row: site, request_id, unroutable, kafka_known, in_kafka, in_flight, in_gcs, accepted_ms. */
  missingId: (
    site: unknown,
    rid: unknown,
    unroutable: unknown,
    kafkaKnown: unknown,
    inKafka: unknown,
    inFlight: unknown,
    inGcs: unknown,
    acceptedMs: unknown = null,
  ): MissingId => ({
    site: String(site),
    requestId: String(rid),
    acceptedMs: acceptedMs === null || acceptedMs === undefined ? null : num(acceptedMs),
    facts: {
      inProxy: true,
      accepted: true,
      rejected: false,
      lastReject: null,
      unroutable: Boolean(unroutable),
      kafkaKnown: Boolean(kafkaKnown),
      inKafka: Boolean(inKafka),
      crossRegion: false,
      inFlight: Boolean(inFlight),
      inGcs: Boolean(inGcs),
      inBigquery: false,
      inFinal: false,
      // The flags that make it missing come from the one definition (rules.ts MISSING).
      ...MISSING_FACTS,
    },
  }),
};

export function num(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  return Number(v);
}
