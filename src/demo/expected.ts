import type { DayKey, ParityColumn } from '../domain.js';

/**
 * The expected report's bookkeeping: the scenario generator tells it each cause it injects, and it
 * counts what the report must say from the causes alone, never from the records. Pure.
 */

/** The outcomes an event can be given; every other event is accepted at the first try and lands once. */
export const OUTCOMES = [
  'rejected413',
  'rejected502',
  'retried502',
  'rejectedOther',
  'lostUnexplained',
  'lostBeforeKafka',
  'inFlight',
  'landedAfterReject',
  'landedWithoutProxy',
] as const;
export type Outcome = (typeof OUTCOMES)[number] | 'ok';
/** What the site header of an event looks like. */
export type HeaderKind = 'normal' | 'messy' | 'missing' | 'unroutable';

export type ExpectedRow = Partial<Record<ParityColumn, number>> & { regions?: Record<string, number> };

/** What the report must say, per day and row, and the missing ids with their cause. */
export interface Expected {
  rows: Map<DayKey, Map<string, ExpectedRow>>;
  missing: Map<DayKey, { site: string; requestId: string; cause: string }[]>;
}

/** One event's outcome as the proxy and the sink saw it, for the columns counted from it. */
export interface EventOutcome {
  requestId: string;
  outcome: Outcome;
  kind: HeaderKind;
  /** Every status the proxy answered, retries included. */
  statuses: number[];
  accepted: boolean;
  lands: boolean;
}

export class ExpectedTally {
  readonly expected: Expected = { rows: new Map(), missing: new Map() };

  count(day: DayKey, site: string, col: ParityColumn, n = 1): void {
    let byDay = this.expected.rows.get(day);
    if (!byDay) this.expected.rows.set(day, (byDay = new Map()));
    let row = byDay.get(site);
    if (!row) byDay.set(site, (row = {}));
    row[col] = (row[col] ?? 0) + n;
  }

  countRegion(day: DayKey, site: string, region: string): void {
    this.count(day, site, 'kafka_records', 0);
    const row = this.expected.rows.get(day)!.get(site)!;
    row.regions ??= {};
    row.regions[region] = (row.regions[region] ?? 0) + 1;
  }

  /** An event's messages in the clusters; `crossRegion`: one is a copy in another region's cluster. */
  published(day: DayKey, row: string, regions: readonly string[], crossRegion: boolean, unroutable: boolean): void {
    this.count(day, row, 'kafka_records', regions.length);
    for (const region of regions) this.countRegion(day, row, region);
    this.count(day, row, 'kafka_offset_records', regions.length);
    if (crossRegion) this.count(day, row, 'cross_region_duplicates');
    if (unroutable) this.count(day, row, 'unroutable');
  }

  /** An event's copies in the landed tier, by the UTC day of the folder each was written into. */
  landed(day: DayKey, row: string, utcDay: DayKey, folderDays: readonly DayKey[]): void {
    for (const folderDay of folderDays) {
      this.count(day, row, 'gcs_records');
      if (folderDay > utcDay) this.count(day, row, 'late_arrivals');
    }
    this.count(day, row, 'gcs_distinct');
    this.count(day, row, 'duplicates', folderDays.length - 1);
  }

  /** The proxy's columns and the event's fate (lost, missing and why, landed unaccepted), from its outcome. */
  outcome(day: DayKey, row: string, e: EventOutcome): void {
    const { outcome, kind, statuses, accepted, lands } = e;
    for (const s of statuses) {
      this.count(day, row, 'proxy_requests');
      if (s >= 200 && s < 300) this.count(day, row, 'proxy_accepted');
      else if (s === 413) this.count(day, row, 'rejected_413');
      else if (s === 502) this.count(day, row, 'rejected_502');
      else this.count(day, row, 'rejected_other');
    }
    if (statuses.length > 0) this.count(day, row, 'proxy_distinct');
    if (accepted) this.count(day, row, 'accepted_distinct');
    if (outcome === 'retried502') this.count(day, row, 'retry_recovered');
    if (outcome === 'rejected413') this.count(day, row, 'lost_413');
    if (outcome === 'rejected502' || outcome === 'landedAfterReject') this.count(day, row, 'lost_502');
    if (outcome === 'rejectedOther') this.count(day, row, 'lost_other');
    if (accepted && !lands) {
      const cause =
        outcome === 'lostBeforeKafka'
          ? 'lost_before_kafka'
          : kind === 'unroutable'
            ? 'unknown_site'
            : outcome === 'inFlight'
              ? 'in_flight'
              : 'unexplained';
      this.count(day, row, 'missing');
      this.count(day, row, cause === 'unexplained' ? 'missing_unexplained' : cause);
      let list = this.expected.missing.get(day);
      if (!list) this.expected.missing.set(day, (list = []));
      list.push({ site: row, requestId: e.requestId, cause });
    }
    if (outcome === 'landedAfterReject') {
      this.count(day, row, 'landed_after_reject');
      this.count(day, row, 'landed_not_accepted');
    }
    if (outcome === 'landedWithoutProxy') {
      this.count(day, row, 'landed_without_proxy');
      this.count(day, row, 'landed_not_accepted');
    }
  }
}
