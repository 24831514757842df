/** A calendar day in the configured time zone, `YYYY-MM-DD`. */
export type DayKey = string;

/** A configured site code (upper case), or UNKNOWN for a record whose site header is missing or not configured. */
export type Site = string;
export const UNKNOWN_SITE = 'UNKNOWN';
export const ALL_SITES = 'ALL';

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
export type RowStatus = 'PASS' | 'WARN' | 'NO_DATA' | 'FAIL' | 'ERROR';
