/** A calendar day in the configured time zone, `YYYY-MM-DD`. */
export type DayKey = string;

/** A configured site code (upper case), or UNKNOWN for a record whose site header is missing or not configured. */
export type Site = string;
export const UNKNOWN_SITE = 'UNKNOWN';
export const ALL_SITES = 'ALL';
/** Milliseconds in a UTC day. */
export const DAY_MS = 86_400_000;

export type TierName = 'proxy' | 'kafka' | 'gcs' | 'bigquery';

/** One day's instants: [startMs, endMs) in UTC epoch milliseconds. 23 or 25 hours long on DST days. */
export interface DayWindow {
  day: DayKey;
  startMs: number;
  endMs: number;
}

/** Line-level counts of the proxy access log for one day × site. */
export interface ProxyLineCounts {
  lines: number;
  accepted: number;
  rejected413: number;
  rejected502: number;
  rejectedOther: number;
  malformed: number;
}

/** Record-level counts of a landed tier (gcs, bigquery) for one day × site. */
export interface LandedCounts {
  records: number;
  distinct: number;
  /** Records of this day found in a later day's folder or partition. */
  late: number;
  malformed: number;
}

/** The last status class of a request id that was never accepted. */
export type RejectClass = '413' | '502' | 'other';

/**
 * What is known of one (day, site, request_id), as flags; the engine counts ids per combination of
 * flags so that attribution (pure) can apply its rule table to groups instead of ids.
 */
export interface IdFacts {
  inProxy: boolean;
  accepted: boolean;
  /** A non-2xx line exists for the id. */
  rejected: boolean;
  /** For ids never accepted: the class of the last status by timestamp. */
  lastReject: RejectClass | null;
  /** The site header was present but named no configured site: the sink filters drop it. */
  unroutable: boolean;
  /** Kafka was read for the day: configured, reachable and within retention. */
  kafkaKnown: boolean;
  inKafka: boolean;
  /** Seen in both regional clusters. */
  crossRegion: boolean;
  /** Every copy in Kafka lies beyond its sink group's committed offset: published, not yet written. */
  inFlight: boolean;
  inGcs: boolean;
  inBigquery: boolean;
  /** Present in the final tier (bigquery where configured, else gcs). */
  inFinal: boolean;
}

export interface IdFactGroup extends IdFacts {
  day: DayKey;
  site: Site;
  ids: number;
}

export interface LineCountsRow<T> {
  day: DayKey;
  site: Site;
  counts: T;
}

/**
 * A row's verdict. NO_DATA: a configured site's proxy holds nothing that day, or a configured tier
 * holds nothing while the proxy holds records; it ranks with FAIL for the exit status.
 */
export type RowStatus = (typeof ROW_STATUSES)[number];
/** Every row status, best first. */
export const ROW_STATUSES = ['PASS', 'WARN', 'NO_DATA', 'FAIL', 'ERROR'] as const;

/** True when `value` is a row status: for statuses read back from text (a report on disk). */
export function isRowStatus(value: unknown): value is RowStatus {
  return (ROW_STATUSES as readonly unknown[]).includes(value);
}

/** One row of a streamed tier: a Kafka message, or a BigQuery result row standing for `n` rows. */
export interface StreamedRow {
  /** The Kafka cluster; null for BigQuery. */
  region: string | null;
  /** Null only for a table row without a timestamp, which `untimedDay` then places. */
  timestampMs: number | null;
  /**
   * A table row placed by its partition's date, not its timestamp: without a timestamp, the report day on which it
   * is malformed (as a file line without one is on its folder's); with one, partitioned further than the margin
   * from its timestamp's date, the day on which it is out of window (the proxy's, as a file record in a folder that
   * cannot hold its date) or malformed (the final tier's, which has no such column). Read only for partitions
   * dated on a report day of the read.
   */
  untimedDay?: string;
  requestId: string | null;
  /** The raw site header; null when absent. */
  siteHeader: string | null;
  /** Kafka: past the sink group's committed offset. */
  inFlight: boolean;
  n: number;
  /** The proxy's HTTP status (a proxy table's rows only); null when the row has none. */
  status?: number | null;
  /** The record as JSON text, whose compared fields the engine hashes (`compare` only); null: none. */
  payload?: string | null;
}

/** A streamed row that has its timestamp: every Kafka message (only a table row may lack one). */
export type TimedStreamedRow = StreamedRow & { timestampMs: number };

/** A Kafka message as the Kafka adapter decodes it: only what the counts need. */
export interface KafkaMessageRow {
  cluster: string;
  timestampMs: number;
  requestId: string | null;
  siteHeader: string | null;
  inFlight: boolean;
  /** The message's value as text, when `compare` is on. */
  payload?: string | null;
}

export interface StreamedCountRow {
  day: DayKey;
  site: Site;
  /** The Kafka cluster; empty for BigQuery. */
  region: string;
  kind: 'record' | 'malformed';
  n: number;
  distinct: number;
}

/** An object ready for the engine: a local, uncompressed NDJSON file. */
export interface StagedObject {
  /** The file the engine scans (the object itself, or its decompressed or downloaded copy). */
  path: string;
  /** The object's own name, for messages. */
  url: string;
  /** The UTC date of the folder or prefix it lies in; null for an undated location. */
  folderDay: DayKey | null;
  /** The listed object's identity (BlobObject.identity): the per-object cache's key; unset, never cached. */
  identity?: string;
  /** `path` is the object's entry in the per-object cache (its aggregate), found before staging, not its lines. */
  aggregate?: true;
  /**
   * A gzip object's check, run beside the engine's scan: true once it proved whole. Unset: nothing to
   * check. The per-object cache keeps an aggregate only of an object that proved whole.
   */
  checked?: Promise<boolean>;
}

/** A table as the bigquery engine reads it in place: validated names, ready to be backquoted. */
export interface BigqueryTableSpec {
  kind: 'landed' | 'proxy';
  table: string;
  columns: { timestamp: string; request_id: string; site: string; partition: string; status?: string };
  partitionMarginDays: number;
}

/**
 * A BigQuery table tier as the job sees it: the table's rows of a time range, handed over in
 * batches (one row per timestamp, request id and site — and status, for a proxy table — with its
 * count; rows without a timestamp from the partitions of the read's days, with their partition's date)
 * as the query's pages arrive. `spec` names the table for the bigquery engine, which
 * aggregates it in place instead of reading its rows.
 */
export interface BigqueryRangeReader {
  readonly spec?: BigqueryTableSpec;
  readRange(
    startMs: number,
    endMs: number,
    /** The read's report days: rows without a timestamp are read from these days' partitions. */
    untimedDays: readonly string[],
    onBatch: (rows: StreamedRow[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<{ bytesProcessed: number | null; rows: number }>;
}

/**
 * The parity report's columns, in order: the contract's first (never renamed or reordered), then
 * ours. `doc` is the definition the README quotes.
 */
export const PARITY_COLUMNS = [
  ['date', "the day, in the site's time zone (its own in `sites`, else `timezone`)"],
  [
    'site',
    'a configured site, UNKNOWN (header missing or naming no configured site), or ALL (the sum of the rows above)',
  ],
  ['proxy_requests', 'proxy access-log lines of the day'],
  ['proxy_accepted', 'lines with a 2xx status'],
  ['rejected_413', 'lines with status 413 (body over the proxy limit)'],
  ['rejected_502', 'lines with status 502 (upstream failure)'],
  ['rejected_other', 'every other non-2xx line'],
  ['kafka_records', 'messages in all configured Kafka clusters (empty: tier not configured)'],
  ['gcs_records', 'records landed in the gcs tier'],
  ['gcs_distinct', 'distinct request_ids landed in the gcs tier'],
  ['bq_rows', 'rows in BigQuery with a request_id (empty: tier not configured)'],
  ['bq_distinct', 'distinct request_ids in BigQuery (empty: tier not configured)'],
  ['duplicates', 'final-tier records − final-tier distinct request_ids'],
  [
    'unexplained',
    'final-tier distinct − accepted distinct, a net figure (= landed_not_accepted − missing): negative when more ' +
      'accepted ids never landed than landed unaccepted; a loss can hide in it, never in parity_pct',
  ],
  [
    'parity_pct',
    '100 × accepted ids the final tier holds ÷ accepted distinct = 100 × (accepted_distinct − missing) ÷ ' +
      'accepted_distinct, four decimals rounded down, so a single lost id shows below 100 and the status is ' +
      'graded on the figure as written; never above 100; empty when nothing was accepted',
  ],
  [
    'status',
    "ERROR when a tier could not be read; NO_DATA when a configured site's proxy holds nothing, or a configured " +
      'tier holds nothing while the proxy holds records (accepted or not); FAIL below failPct; WARN below warnPct, ' +
      'landed_not_accepted' +
      ' above landedNotAcceptedPct, a volume_drop, or data on one side only; else PASS',
  ],
  [
    'proxy_malformed',
    'proxy lines that are not JSON or lack a usable timestamp, request_id or status (day of the folder they lie ' +
      'in; a table row: of its timestamp, or without one of its partition)',
  ],
  [
    'gcs_malformed',
    'landed lines that are not JSON or lack a usable timestamp or request_id (day of the folder they lie in)',
  ],
  ['late_arrivals', 'landed records of the day found in a folder dated after their own UTC date'],
  ['proxy_distinct', 'distinct request_ids in the proxy log'],
  ['accepted_distinct', 'distinct request_ids with at least one 2xx line'],
  [
    'retry_recovered',
    "accepted ids that also have a rejected line that day under the row's site: a retry that succeeded, not a loss",
  ],
  [
    'lost_413',
    "ids never accepted that day under the row's site whose last status was 413 (a retry accepted after " +
      'midnight, or under another site header, is counted on its own day and site)',
  ],
  ['lost_502', "ids never accepted that day under the row's site whose last status was 502 (as lost_413)"],
  [
    'lost_other',
    "ids never accepted that day under the row's site whose last status was another non-2xx (as lost_413)",
  ],
  ['missing', 'accepted ids the final tier lacks (the rows of missing-DATE.csv)'],
  [
    'unknown_site',
    'missing ids whose every published copy (in Kafka where it holds the id, else each accepted proxy line) ' +
      'named no configured site: dropped by every sink filter',
  ],
  ['missing_unexplained', 'missing ids no cause explains'],
  ['landed_not_accepted', 'final-tier ids the proxy did not accept that day'],
  ['landed_after_reject', 'landed ids whose every proxy line was rejected (the backend processed the request anyway)'],
  ['landed_without_proxy', 'landed ids with no proxy line that day'],
  [
    'proxy_out_of_window',
    "proxy records in this day's folder whose own date that folder cannot hold, or rows of a proxy table in " +
      "this day's partition further than partitionMarginDays from their own date (counted in no day)",
  ],
  [
    'gcs_out_of_window',
    "landed records in this day's folder whose own date that folder cannot hold (counted in no day)",
  ],
  ['error', 'for ERROR rows: the tier and the object that could not be read'],
  ['cross_region_duplicates', 'ids found in both regional Kafka clusters (fallback or replay): not loss'],
  ['unroutable', 'ids in Kafka whose site header is present but names no configured site: the sink filters drop them'],
  [
    'lost_before_kafka',
    "missing ids in no Kafka cluster under the row's site: lost between the proxy and Kafka (as every count, " +
      "per site row: an id whose message carries another `wm-site-id` counts here, its message in that site's row)",
  ],
  ['in_flight', "missing ids still in Kafka beyond the sink group's committed offset: published, not yet written"],
  ['kafka_malformed', 'Kafka messages of the day with no usable request id'],
  [
    'kafka_offset_records',
    'ALL row: messages of the day from offsets alone (the fast path), beside the exact kafka_records',
  ],
  [
    'bq_malformed',
    'BigQuery rows of the day with no request_id, or with no timestamp or partitioned further than ' +
      'partitionMarginDays from their own date (on the date of their partition)',
  ],
  [
    'status_reason',
    'why the status is what it is, every finding that applies, the deciding one first (empty for a plain PASS)',
  ],
  [
    'volume_drop',
    'tier counts below thresholds.volumeDropPct % of their median over earlier days: column, count and median',
  ],
] as const satisfies readonly (readonly [string, string])[];

export type ParityColumn = (typeof PARITY_COLUMNS)[number][0];
/** The fixed columns, then one `kafka_<region>` per configured cluster, in config order. */
export type ParityRow = Record<Exclude<ParityColumn, 'status'>, string | number | null> & {
  /** Null only while attribution builds the row. */
  status: RowStatus | null;
  regions?: Record<string, number | string | null>;
  /**
   * Ids in Kafka and the final tier whose compared fields differ (`compare`), the last column, after the
   * kafka_<region> ones; null or absent: not compared.
   */
  content_mismatch?: number | null;
};
export const PARITY_HEADER: readonly ParityColumn[] = PARITY_COLUMNS.map(([name]) => name);

/** The column of one Kafka cluster's message count: `kafka_eus2` (the config refuses two clusters of one column). */
export function regionColumn(region: string): string {
  return `kafka_${region.toLowerCase()}`;
}

/** The history's column of the clusters whose retention no longer held the day, comma-separated. */
export const KAFKA_EXPIRED_COLUMN = 'kafka_expired';

/** Why an accepted request id is missing from the final tier: the first rule that matches (src/reconcile/rules.ts). */
export type LossCause = 'lost_before_kafka' | 'unknown_site' | 'in_flight' | 'unexplained';

export interface LossWindow {
  site: string;
  /** The bucket's start (epoch ms); rendered in the day's zone. */
  startMs: number;
  /** Accepted distinct ids whose accepted line falls in the bucket. */
  accepted: number;
  /** Those of them the final tier holds. */
  landed: number;
  /** accepted − landed. */
  missing: number;
  /** The most frequent loss cause among the missing ids (ties in the rules' order). */
  leadingCause: LossCause;
}

/** A day's worst loss window, with the zone its times are told in. */
export type WorstWindow = LossWindow & { zone: string };

/** One reported day: its rows and the files written for it. */
export interface DaySummary {
  day: DayKey;
  rows: ParityRow[];
  parityFile: string;
  /** Null for a day with an ERROR row: its missing list would be incomplete, so none is written. */
  missingFile: string | null;
  /** windows-DAY.csv when written (a complete list, from an engine that counts windows). */
  windowsFile?: string | null;
  /** mismatch-DAY.csv when written (compare on, the day compared whole). */
  mismatchFile?: string | null;
  /** The day's window that lost most (first of equals), when any lost anything. */
  worstWindow?: WorstWindow | null;
  /** new: no report before; unchanged: the same bytes; restated: late data changed the day. */
  change: 'new' | 'unchanged' | 'restated';
}

/** What a reconcile run hands back to its caller. */
export interface ReconcileResult {
  days: DaySummary[];
  /** The contract's exit status: 0 PASS/WARN, 1 a FAIL or NO_DATA row, 3 an ERROR row. */
  exitCode: 0 | 1 | 3;
  errors: string[];
  /**
   * Days of the range reported by an earlier run and not redone (a resumed backfill), read back from their
   * reports, with the as-of time of the run that made them: the run's summaries, alert, HTML report and
   * history rows cover them too, as its exit status does.
   */
  earlier?: { day: DayKey; rows: ParityRow[]; asOf: string; worstWindow: WorstWindow | null }[];
  /**
   * Days inside the run's span that it neither redid nor counts, read back from their reports for its HTML
   * report only, so that the span its name gives holds every day: a daily run's days between the earlier
   * days it caught up and its re-check window.
   */
  between?: { day: DayKey; rows: ParityRow[] }[];
}
