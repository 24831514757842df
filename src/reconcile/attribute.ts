import {
  ALL_SITES,
  type DayKey,
  type IdFactGroup,
  type ParityColumn,
  type ParityRow,
  type Site,
  UNKNOWN_SITE,
} from '../domain.js';
import { type IdColumn, ID_RULES } from './rules.js';
import {
  DEFAULT_LANDED_NOT_ACCEPTED_PCT,
  DEFAULT_VOLUME_DROP_PCT,
  formatParity,
  clusterMessages,
  gradeRow,
  num,
  type VerdictFacts,
} from './verdict.js';
import { type VolumePoint, volumeDrops } from './volume.js';

// The grading moved to verdict.ts; these stay importable from here, where callers found them.
export { DEFAULT_LANDED_NOT_ACCEPTED_PCT, DEFAULT_VOLUME_DROP_PCT, formatParity, statusOf } from './verdict.js';

export interface ProxyDayCounts {
  lines: number;
  accepted: number;
  rejected413: number;
  rejected502: number;
}
export interface LandedDayCounts {
  records: number;
  distinct: number;
  late: number;
}
export interface IssueCounts {
  malformed: number;
  outOfWindow: number;
}

/** One day of the Kafka tier: messages per site and cluster. */
export interface KafkaDayCounts {
  /** site → region → messages. */
  messages: Map<Site, Map<string, number>>;
  malformed: Map<Site, number>;
  /** Messages of the day from offsets alone, all sites, per cluster. */
  offsetTotals: Map<string, number>;
  /** Clusters whose retention no longer holds the day: their counts are not zero but unknown. */
  expired: string[];
  /** Clusters that could not be read whole: their columns are empty; the others' are their counts. */
  failed: readonly string[];
}

/** Everything counted for one day, keyed by site: the input of attribution. */
export interface DayCounts {
  day: DayKey;
  proxy: Map<Site, ProxyDayCounts>;
  proxyIssues: Map<Site, IssueCounts>;
  gcs: Map<Site, LandedDayCounts> | null;
  gcsIssues: Map<Site, IssueCounts>;
  kafka: KafkaDayCounts | null;
  /** BigQuery rows per site: with a request id (records, distinct) and without (malformed). */
  bigquery: Map<Site, { records: number; distinct: number; malformed: number }> | null;
  groups: IdFactGroup[];
  /** Tiers that could not be read for this day, with the message naming the object. */
  failures: Partial<Record<'proxy' | 'gcs' | 'kafka' | 'bigquery', string>>;
}

export interface AttributionOptions {
  /** Sites to report, in order (the config's, or --sites). */
  sites: readonly Site[];
  /**
   * warnPct, failPct: parity grades. landedNotAcceptedPct: final-tier ids the proxy did not accept,
   * as a % of accepted ids, above which a row WARNs (default 0.5). volumeDropPct: a count below this %
   * of its baseline WARNs (default 50; 0 turns the guard off).
   */
  thresholds: { warnPct: number; failPct: number; landedNotAcceptedPct?: number; volumeDropPct?: number };
  /** Earlier days' counts per site (from the output folder's reports), for the volume guard; none: no check. */
  volumeHistory?: ReadonlyMap<Site, readonly VolumePoint[]>;
  /**
   * Tiers configured in this run; kafka: its clusters' regions, in config order. The final tier is
   * bigquery where configured.
   */
  tiers: { gcs: boolean; kafka: readonly string[] | null; bigquery?: boolean };
}

export interface DayReport {
  rows: ParityRow[];
  /** Identity checks that failed: a bug, never the data's fault; the caller logs them. */
  warnings: string[];
}

const ZERO_PROXY: ProxyDayCounts = { lines: 0, accepted: 0, rejected413: 0, rejected502: 0 };
const ZERO_LANDED: LandedDayCounts = { records: 0, distinct: 0, late: 0 };
const ZERO_ISSUES: IssueCounts = { malformed: 0, outOfWindow: 0 };

/**
 * Turns one day's counts into the parity report's rows: one per site in order, UNKNOWN where
 * anything had no known site, then ALL. Pure: no clock, no I/O.
 */
export function attributeDay(input: DayCounts, options: AttributionOptions): DayReport {
  const hasUnknown =
    [
      input.proxy,
      input.proxyIssues,
      input.gcs ?? new Map(),
      input.gcsIssues,
      input.kafka?.messages ?? new Map(),
      input.kafka?.malformed ?? new Map(),
      input.bigquery ?? new Map(),
    ].some((m) => m.has(UNKNOWN_SITE)) || input.groups.some((g) => g.site === UNKNOWN_SITE);
  const sites = [...options.sites, ...(hasUnknown ? [UNKNOWN_SITE] : [])];
  const rows = sites.map((site) => siteRow(input, site, options));
  const all = sumRows(input.day, rows, options.tiers.kafka ?? []);
  if (input.kafka && options.tiers.kafka && input.failures.kafka === undefined && input.kafka.expired.length === 0) {
    all.kafka_offset_records = [...input.kafka.offsetTotals.values()].reduce((a, b) => a + b, 0);
  }
  finish(all, options);
  rows.push(all);
  return {
    rows,
    warnings: rows.flatMap((r) => identityViolations(r).map((v) => `${input.day} ${String(r.site)}: ${v}`)),
  };
}

function siteRow(input: DayCounts, site: Site, options: AttributionOptions): ParityRow {
  const proxyOk = input.failures.proxy === undefined;
  const gcsOk = options.tiers.gcs && input.failures.gcs === undefined;
  const bqOk = options.tiers.bigquery === true && input.failures.bigquery === undefined;
  const finalOk = options.tiers.bigquery ? bqOk : gcsOk;
  const regions = options.tiers.kafka;
  const kafkaRead = regions !== null && input.kafka !== null && input.failures.kafka === undefined;
  const kafkaOk = kafkaRead && input.kafka!.expired.length === 0;
  const p = input.proxy.get(site) ?? ZERO_PROXY;
  const pi = input.proxyIssues.get(site) ?? ZERO_ISSUES;
  const g = input.gcs?.get(site) ?? ZERO_LANDED;
  const gi = input.gcsIssues.get(site) ?? ZERO_ISSUES;
  const b = input.bigquery?.get(site) ?? { records: 0, distinct: 0, malformed: 0 };
  const ids = countIds(input.groups.filter((x) => x.site === site));
  const when = <T>(ok: boolean, value: T): T | null => (ok ? value : null);

  const row = emptyRow(input.day, site);
  Object.assign(row, {
    proxy_requests: when(proxyOk, p.lines),
    proxy_accepted: when(proxyOk, p.accepted),
    rejected_413: when(proxyOk, p.rejected413),
    rejected_502: when(proxyOk, p.rejected502),
    rejected_other: when(proxyOk, p.lines - p.accepted - p.rejected413 - p.rejected502),
    gcs_records: when(gcsOk, g.records),
    gcs_distinct: when(gcsOk, g.distinct),
    bq_rows: when(bqOk, b.records),
    bq_distinct: when(bqOk, b.distinct),
    bq_malformed: when(bqOk, b.malformed),
    duplicates: when(finalOk, options.tiers.bigquery ? b.records - b.distinct : g.records - g.distinct),
    proxy_malformed: when(proxyOk, pi.malformed),
    gcs_malformed: when(gcsOk, gi.malformed),
    late_arrivals: when(gcsOk, g.late),
    proxy_out_of_window: when(proxyOk, pi.outOfWindow),
    gcs_out_of_window: when(gcsOk, gi.outOfWindow),
  } satisfies Partial<ParityRow>);
  if (regions) {
    const bySite = input.kafka?.messages.get(site);
    // Per cluster: one that could not be read is empty, one whose retention lost the day EXPIRED, and every other
    // its count, whatever became of the others (in a region's outage, the surviving region's count is the one wanted).
    const k = input.kafka;
    row.regions = Object.fromEntries(
      regions.map((r) => [
        r,
        k === null || k.failed.includes(r) ? null : k.expired.includes(r) ? 'EXPIRED' : (bySite?.get(r) ?? 0),
      ]),
    );
    row.kafka_records = when(
      kafkaOk,
      regions.reduce((n, r) => n + (bySite?.get(r) ?? 0), 0),
    );
    row.kafka_malformed = when(kafkaOk, input.kafka?.malformed.get(site) ?? 0);
  }
  for (const rule of ID_RULES) {
    const ok = rule.needs.every((t) => (t === 'proxy' ? proxyOk : t === 'kafka' ? kafkaOk : finalOk));
    row[rule.column] = when(ok, ids[rule.column]);
  }
  const errors = Object.values(input.failures);
  if (errors.length > 0) row.error = errors.join('; ');
  finish(row, options);
  return row;
}

function countIds(groups: IdFactGroup[]): Record<IdColumn, number> {
  const out = Object.fromEntries(ID_RULES.map((r) => [r.column, 0])) as Record<IdColumn, number>;
  for (const g of groups) for (const rule of ID_RULES) if (rule.when(g)) out[rule.column] += g.ids;
  return out;
}

/** The columns derived from others: the final tier, unexplained, parity, the volume guard and status. */
function finish(row: ParityRow, options: AttributionOptions): void {
  const finalDistinct = options.tiers.bigquery ? num(row.bq_distinct) : num(row.gcs_distinct);
  const accepted = num(row.accepted_distinct);
  const missing = num(row.missing);
  // Not ALL (its sites are), nor UNKNOWN: fewer requests without a known site is clients fixed, not events lost.
  const history =
    row.site === ALL_SITES || row.site === UNKNOWN_SITE ? undefined : options.volumeHistory?.get(String(row.site));
  const drops = history
    ? volumeDrops(String(row.date), row, history, options.thresholds.volumeDropPct ?? DEFAULT_VOLUME_DROP_PCT)
    : [];
  row.volume_drop = drops.length > 0 ? drops.join('; ') : null;
  if (finalDistinct === null || accepted === null || missing === null) {
    row.unexplained = null;
    row.parity_pct = null;
    row.status = 'ERROR';
    row.status_reason = `ERROR ${String(row.error || 'a tier could not be read')}`;
    return;
  }
  // With the proxy and the final tier counted, parity stands even when another tier (Kafka) failed:
  // the row still says ERROR, and only that tier's columns are empty.
  row.unexplained = finalDistinct - accepted;
  row.parity_pct = formatParity(accepted - missing, accepted);
  const facts: VerdictFacts = {
    row,
    accepted,
    missing,
    finalDistinct,
    drops,
    landedNotAccepted: num(row.landed_not_accepted) ?? 0,
    thresholds: { landedNotAcceptedPct: DEFAULT_LANDED_NOT_ACCEPTED_PCT, ...options.thresholds },
    finalTier: options.tiers.bigquery ? 'bigquery' : 'gcs',
  };
  const grade = gradeRow(facts);
  row.status = grade.status;
  row.status_reason = grade.reason;
}

function emptyRow(day: DayKey, site: Site): ParityRow {
  return {
    date: day,
    site,
    proxy_requests: null,
    proxy_accepted: null,
    rejected_413: null,
    rejected_502: null,
    rejected_other: null,
    kafka_records: null,
    gcs_records: null,
    gcs_distinct: null,
    bq_rows: null,
    bq_distinct: null,
    duplicates: null,
    unexplained: null,
    parity_pct: null,
    status: null,
    proxy_malformed: null,
    gcs_malformed: null,
    late_arrivals: null,
    proxy_distinct: null,
    accepted_distinct: null,
    retry_recovered: null,
    lost_413: null,
    lost_502: null,
    lost_other: null,
    missing: null,
    unknown_site: null,
    missing_unexplained: null,
    landed_not_accepted: null,
    landed_after_reject: null,
    landed_without_proxy: null,
    proxy_out_of_window: null,
    gcs_out_of_window: null,
    error: null,
    cross_region_duplicates: null,
    unroutable: null,
    lost_before_kafka: null,
    in_flight: null,
    kafka_malformed: null,
    kafka_offset_records: null,
    bq_malformed: null,
    status_reason: null,
    volume_drop: null,
  };
}

const SUMMED: readonly Exclude<ParityColumn, 'status'>[] = [
  'proxy_requests',
  'proxy_accepted',
  'rejected_413',
  'rejected_502',
  'rejected_other',
  'kafka_records',
  'gcs_records',
  'gcs_distinct',
  'bq_rows',
  'bq_distinct',
  'duplicates',
  'proxy_malformed',
  'gcs_malformed',
  'late_arrivals',
  'proxy_distinct',
  'accepted_distinct',
  'retry_recovered',
  'lost_413',
  'lost_502',
  'lost_other',
  'missing',
  'unknown_site',
  'missing_unexplained',
  'landed_not_accepted',
  'landed_after_reject',
  'landed_without_proxy',
  'proxy_out_of_window',
  'gcs_out_of_window',
  'cross_region_duplicates',
  'unroutable',
  'lost_before_kafka',
  'in_flight',
  'kafka_malformed',
  'bq_malformed',
];

/** ALL: the sum of the rows (distinct counts are distinct (site, request_id) pairs). */
function sumRows(day: DayKey, rows: ParityRow[], regions: readonly string[]): ParityRow {
  const all = emptyRow(day, ALL_SITES);
  const sum = (values: unknown[]) =>
    values.every((v) => typeof v === 'number') ? (values as number[]).reduce((a, b) => a + b, 0) : null;
  for (const col of SUMMED) all[col] = sum(rows.map((r) => r[col]));
  if (regions.length > 0) {
    all.regions = Object.fromEntries(
      regions.map((r) => {
        const values = rows.map((row) => row.regions?.[r] ?? null);
        return [r, values.includes('EXPIRED') ? 'EXPIRED' : sum(values)];
      }),
    );
  }
  all.error = rows.find((r) => r.error)?.error ?? null;
  return all;
}

/**
 * The identities that tie the columns together (README, "Identities"). Returns the ones a row
 * breaks; empty columns (a tier not read) are skipped. Pure: tests run it on every scenario.
 */
export function identityViolations(row: ParityRow): string[] {
  const v = (c: ParityColumn): number | null => num(row[c]);
  const checks: [string, (number | null)[], (n: number[]) => boolean][] = [
    [
      'proxy_requests = proxy_accepted + rejected_413 + rejected_502 + rejected_other',
      [v('proxy_requests'), v('proxy_accepted'), v('rejected_413'), v('rejected_502'), v('rejected_other')],
      ([a, b, c, d, e]) => a === b! + c! + d! + e!,
    ],
    [
      'proxy_distinct = accepted_distinct + lost_413 + lost_502 + lost_other',
      [v('proxy_distinct'), v('accepted_distinct'), v('lost_413'), v('lost_502'), v('lost_other')],
      ([a, b, c, d, e]) => a === b! + c! + d! + e!,
    ],
    [
      'duplicates = final records − final distinct',
      [v('duplicates'), v('bq_rows') ?? v('gcs_records'), v('bq_distinct') ?? v('gcs_distinct')],
      ([a, b, c]) => a === b! - c!,
    ],
    [
      'accepted_distinct + unexplained = final distinct',
      [v('accepted_distinct'), v('unexplained'), v('bq_distinct') ?? v('gcs_distinct')],
      ([a, b, c]) => a! + b! === c,
    ],
    [
      'parity_pct = 100 × (accepted_distinct − missing) ÷ accepted_distinct',
      [v('accepted_distinct'), v('missing')],
      ([a, m]) => (row.status === 'ERROR' && row.parity_pct === null) || row.parity_pct === formatParity(a! - m!, a!),
    ],
    [
      'unexplained = landed_not_accepted − missing',
      [v('unexplained'), v('landed_not_accepted'), v('missing')],
      ([a, b, c]) => a === b! - c!,
    ],
    [
      'missing = lost_before_kafka + unknown_site + in_flight + missing_unexplained ' +
        '(the Kafka causes are 0 without Kafka)',
      [v('missing'), v('unknown_site'), v('missing_unexplained')],
      ([a, b, c]) => a === (v('lost_before_kafka') ?? 0) + b! + (v('in_flight') ?? 0) + c!,
    ],
    [
      'landed_not_accepted = landed_after_reject + landed_without_proxy',
      [v('landed_not_accepted'), v('landed_after_reject'), v('landed_without_proxy')],
      ([a, b, c]) => a === b! + c!,
    ],
    [
      'retry_recovered ≤ accepted_distinct ≤ proxy_accepted',
      [v('retry_recovered'), v('accepted_distinct'), v('proxy_accepted')],
      ([a, b, c]) => a! <= b! && b! <= c!,
    ],
    ['late_arrivals ≤ gcs_records', [v('late_arrivals'), v('gcs_records')], ([a, b]) => a! <= b!],
    [
      'kafka_records = the sum of the kafka_<region> columns',
      [v('kafka_records')],
      ([a]) => row.regions === undefined || a === clusterMessages(row),
    ],
  ];
  return checks
    .filter(([, values, ok]) => values.every((x) => x !== null) && !ok(values as number[]))
    .map(([name]) => name);
}
