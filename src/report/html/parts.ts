/**
 * What the HTML report's parts share (report.ts): the run as they see it, the statuses and
 * what each means, the tiers' columns, and the small formatting of badges, percentages and chart numbers.
 */
import { ALL_SITES, isRowStatus, type RowStatus } from '../../domain.js';
import type { ParityColumn, ParityRow } from '../columns.js';
import { esc } from './escape.js';
import type { DayVerdict } from '../summary.js';

export interface Ctx {
  days: { day: string; rows: ParityRow[] }[];
  /** Configured sites, then any other site the rows hold (UNKNOWN), then ALL. */
  sites: string[];
  regions: string[];
  configured: Record<Tier, boolean>;
  thresholds: { warnPct: number; failPct: number };
  /** Each day's worst status and the rows behind it: what every summary of the run says. */
  verdicts: Map<string, DayVerdict>;
}

export type Tier = 'kafka' | 'gcs' | 'bigquery';

export const STATUSES: readonly RowStatus[] = ['PASS', 'WARN', 'NO_DATA', 'FAIL', 'ERROR'];
/** Worst first: the overall status is the first of these any row has. */
export const SEVERITY: readonly RowStatus[] = ['ERROR', 'FAIL', 'NO_DATA', 'WARN', 'PASS'];

export const STATUS_MEANS: Record<RowStatus, string> = {
  PASS: 'parity at or above warnPct, and nothing else to warn of',
  WARN: 'parity below warnPct, ids landed that the proxy did not accept, a volume drop, or data on one side only',
  NO_DATA:
    "a configured site's proxy holds nothing that day, or a configured tier holds nothing while the proxy holds records, accepted or not (exits 1, as FAIL)",
  FAIL: 'parity below failPct',
  ERROR: 'a tier could not be read: the row is incomplete',
};

export const TIER_OF: Partial<Record<ParityColumn, Tier>> = {
  kafka_records: 'kafka',
  cross_region_duplicates: 'kafka',
  unroutable: 'kafka',
  lost_before_kafka: 'kafka',
  in_flight: 'kafka',
  kafka_malformed: 'kafka',
  kafka_offset_records: 'kafka',
  gcs_records: 'gcs',
  gcs_distinct: 'gcs',
  gcs_malformed: 'gcs',
  late_arrivals: 'gcs',
  gcs_out_of_window: 'gcs',
  bq_rows: 'bigquery',
  bq_distinct: 'bigquery',
  bq_malformed: 'bigquery',
};

export function chartSites(configured: readonly string[], days: readonly { rows: ParityRow[] }[]): string[] {
  const out = configured.filter((s) => s !== ALL_SITES);
  for (const d of days)
    for (const r of d.rows) {
      const s = String(r.site);
      if (s !== ALL_SITES && !out.includes(s)) out.push(s);
    }
  return [...out, ALL_SITES];
}

export function regionsOf(days: readonly { rows: ParityRow[] }[]): string[] {
  const out: string[] = [];
  for (const d of days)
    for (const r of d.rows) for (const g of Object.keys(r.regions ?? {})) if (!out.includes(g)) out.push(g);
  return out;
}

/**
 * A tier is configured when `given` (the run's config) says so, or any row has a value in one of its columns
 * (rows read back from an older report): a tier that could not be read at all has no value anywhere.
 */
export function configuredTiers(
  days: readonly { rows: ParityRow[] }[],
  given: Partial<Record<Tier, boolean>> = {},
): Record<Tier, boolean> {
  const rows = days.flatMap((d) => d.rows);
  const has = (tier: Tier) =>
    given[tier] === true ||
    rows.some(
      (r) =>
        (Object.keys(TIER_OF) as ParityColumn[]).some(
          (c) => TIER_OF[c] === tier && r[c] !== null && r[c] !== undefined,
        ) ||
        (tier === 'kafka' && r.regions !== undefined),
    );
  return { kafka: has('kafka'), gcs: has('gcs'), bigquery: has('bigquery') };
}

export function badge(status: string, size = ''): string {
  const known = isRowStatus(status);
  const cls = ['badge', known ? `s-${status}` : '', size].filter(Boolean).join(' ');
  const tip = known ? STATUS_MEANS[status] : 'no status';
  return `<span class="${cls}" title="${esc(tip)}">${esc(status || '–')}</span>`;
}

/** A header that may wrap after its underscores, so 40 columns fit without a page of scrolling. */
export function breakable(name: string): string {
  return name.split('_').map(esc).join('_<wbr>');
}

/** A percentage of `whole`, to two decimals under 10 % (where the causes are). */
export function share(part: number, whole: number): string {
  if (whole === 0) return '';
  const p = (100 * Math.abs(part)) / whole;
  const text = p >= 10 || p === 0 ? p.toFixed(1) : p.toFixed(2);
  // Rounded, 50 lost ids of 2,000,000 read 0.00 % and the ids that landed 100.0 %: a loss never reads as none.
  if (part !== 0 && Number(text) === 0) return '< 0.01 %';
  if (Math.abs(part) < whole && Number(text) >= 100) return '> 99.9 %';
  return `${text} %`;
}

/** A threshold as configured: every digit it has (99.99995 rounded to four decimals read as 100). */
export function pct(v: number): string {
  return `${String(v)} %`;
}

export function trimPct(v: number): string {
  return String(Number(v.toFixed(4)));
}

/** SVG coordinates to one decimal: short, and stable. */
export function num(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

/** Round tick values spanning [lo, hi]: about `count` steps of 1, 2, 2.5 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = Math.max(hi - lo, 1e-9);
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10] as const).map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step + 1e-9) * step;
  const out: number[] = [];
  for (let t = first, i = 0; t < hi + step - 1e-9 && i < 50; i++, t = first + i * step) out.push(Number(t.toFixed(6)));
  return out;
}

/** Each day's rows by site, made once per rows array: a report of thousands of sites looks each up in constant time. */
const rowsBySite = new WeakMap<readonly ParityRow[], Map<string, ParityRow>>();

/** The row of `site` among a day's rows (the first, as find gives it), or undefined. */
export function rowOf(rows: readonly ParityRow[], site: string): ParityRow | undefined {
  let bySite = rowsBySite.get(rows);
  if (!bySite) {
    bySite = new Map();
    for (const r of rows) if (!bySite.has(String(r.site))) bySite.set(String(r.site), r);
    rowsBySite.set(rows, bySite);
  }
  return bySite.get(site);
}
