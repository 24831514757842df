import type { DayKey, IdFactGroup, LineCountsRow, Site, StreamedCountRow } from '../domain.js';
import type { DayCounts, IssueCounts, KafkaDayCounts, LandedDayCounts, ProxyDayCounts } from './attribute.js';

/** What the engine counted for a batch of days: every day and site of the batch together. */
export interface BatchRows {
  proxy: readonly LineCountsRow<ProxyDayCounts>[];
  proxyIssues: readonly LineCountsRow<IssueCounts>[];
  gcs: readonly LineCountsRow<LandedDayCounts>[];
  gcsIssues: readonly LineCountsRow<IssueCounts>[];
  kafka: readonly StreamedCountRow[];
  bigquery: readonly StreamedCountRow[];
  groups: readonly IdFactGroup[];
}

/** Kafka's read of one day, as far as the counts need it. */
export interface KafkaDayOutcome {
  offsetTotals: Map<string, number>;
  expired: string[];
  /** Clusters that could not be read, with the message naming the cluster. */
  failures: ReadonlyMap<string, string>;
}

/** What reading the tiers told beside the engine's rows. */
export interface BatchReads {
  /** Tiers that failed, each with the days it could not be read for and the message; in the order they failed. */
  failures: ReadonlyMap<'proxy' | 'gcs' | 'bigquery', ReadonlyMap<DayKey, string>>;
  /** Kafka's read of each day it was read for (none when Kafka is not configured). */
  kafka: ReadonlyMap<DayKey, KafkaDayOutcome>;
}

/** Which sites are reported and which tiers are configured. */
export interface AssembleScope {
  /** The sites reported (--sites, else every configured site). */
  reportSites: readonly Site[];
  /** Every configured site. A configured site that is not reported is left out; any other site (UNKNOWN) stays. */
  configuredSites: readonly Site[];
  /** The gcs tier is configured: else its counts are null (not read), never zero. */
  gcs: boolean;
  /** The bigquery tier is configured: else its counts are null. */
  bigquery: boolean;
}

/** True for a site whose rows belong in the reports: a reported site, or one no configured site names (UNKNOWN). */
export function keepSite(scope: Pick<AssembleScope, 'reportSites' | 'configuredSites'>): (site: Site) => boolean {
  return (site) => scope.reportSites.includes(site) || !scope.configuredSites.includes(site);
}

/** One day's input of attribution from the batch's rows and reads. Pure. */
export function assembleDay(day: DayKey, rows: BatchRows, reads: BatchReads, scope: AssembleScope): DayCounts {
  const keep = keepSite(scope);
  const ofDay = <T extends { day: DayKey; site: Site }>(list: readonly T[]) =>
    list.filter((r) => r.day === day && keep(r.site));
  const kafkaRead = reads.kafka.get(day);
  return {
    day,
    proxy: bySite(ofDay(rows.proxy)),
    proxyIssues: bySite(ofDay(rows.proxyIssues)),
    gcs: scope.gcs ? bySite(ofDay(rows.gcs)) : null,
    gcsIssues: bySite(ofDay(rows.gcsIssues)),
    kafka: kafkaRead ? kafkaDayCounts(ofDay(rows.kafka), kafkaRead) : null,
    bigquery: scope.bigquery ? bigqueryDayCounts(ofDay(rows.bigquery)) : null,
    groups: ofDay(rows.groups),
    failures: dayFailures(day, reads),
  };
}

/** The tiers that could not be read for the day, in the order they failed, Kafka's clusters last and joined. */
export function dayFailures(day: DayKey, reads: BatchReads): DayCounts['failures'] {
  const out: DayCounts['failures'] = {};
  for (const [tier, failedDays] of reads.failures) {
    const message = failedDays.get(day);
    if (message) out[tier] = message;
  }
  const kafka = reads.kafka.get(day);
  if (kafka && kafka.failures.size > 0) out.kafka = [...kafka.failures.values()].join('; ');
  return out;
}

function bySite<T>(rows: readonly { site: Site; counts: T }[]): Map<Site, T> {
  return new Map(rows.map((r) => [r.site, r.counts]));
}

/** Kafka's rows of one day: messages per site and cluster (malformed ones too), with the read's offsets and expiry. */
export function kafkaDayCounts(rows: readonly StreamedCountRow[], read: KafkaDayOutcome): KafkaDayCounts {
  const messages = new Map<Site, Map<string, number>>();
  const malformed = new Map<Site, number>();
  for (const r of rows) {
    if (r.kind === 'malformed') malformed.set(r.site, (malformed.get(r.site) ?? 0) + r.n);
    const bySiteRegion = messages.get(r.site) ?? new Map<string, number>();
    bySiteRegion.set(r.region, (bySiteRegion.get(r.region) ?? 0) + r.n);
    messages.set(r.site, bySiteRegion);
  }
  return {
    messages,
    malformed,
    offsetTotals: read.offsetTotals,
    expired: read.expired,
    failed: [...read.failures.keys()],
  };
}

/** BigQuery's rows of one day per site: rows with a request id (records, distinct) and without (malformed). */
export function bigqueryDayCounts(rows: readonly StreamedCountRow[]): NonNullable<DayCounts['bigquery']> {
  const out: NonNullable<DayCounts['bigquery']> = new Map();
  for (const r of rows) {
    const c = out.get(r.site) ?? { records: 0, distinct: 0, malformed: 0 };
    if (r.kind === 'malformed') c.malformed += r.n;
    else {
      c.records += r.n;
      c.distinct += r.distinct;
    }
    out.set(r.site, c);
  }
  return out;
}
